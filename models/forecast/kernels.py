"""Numba kernels of the streaming forecaster: one update call per batch, one forecast call.

Why: thousands of sensors each get a reading every few minutes; refitting an ETS per sensor is
far too slow, so every candidate model of the bank is an exponential-smoothing recursion updated
in O(1) per reading, and the "model choice" is an online per-horizon loss (ALGORITHMS.md §4.1).
Intervals come from per-horizon quantile tracking of the combined forecast's signed errors
(§4.2). All state is in arrays indexed by a dense sensor index (§5); the class in
:mod:`models.forecast.streaming` owns them.

State layout (``n`` sensors, ``K`` candidates, ``G`` tracked horizons, ``P = sum(grid)``):

* ``ist[n, NI]`` int64: last step, start step, observations, missing run, steps since reset.
* ``fst[n, NF]`` float64: last finite value, minimum value seen.
* ``cst[n, K, NC]``: level, trend, AR error, robust scale (EW mean |error|), error count,
  signed run of large errors (level-shift detector).
* ``loss[n, K, G, 2]``: discounted sum of |error| and discounted count per horizon.
* ``qst[n, G, NQ]``: lower / upper tracked quantile of the signed error, EW mean |error|, count.
* ``pend[n, K + 1, P]``: forecasts still waiting for their target (row ``K`` = combination);
  horizon ``grid[g]`` uses the ring ``off[g] .. off[g] + grid[g]``, slot ``step % grid[g]``.
* ``hist[n, m2]``: raw values by weekly slot (NaN = missing), for the seasonal-naive members.
* ``dh[n, m1]``, ``dd[n, m1]``, ``ww[n, m2]``, ``dm[n, m1]``: seasonal indices of HW_ADD, DSHW
  (day, week) and HW_MUL; NaN = slot not yet seen.

Steps are ``ts_ms // period_ms`` so seasonal slots follow the clock, not the row count.

>>> import numpy as np
>>> step_of(np.int64(600_000), np.int64(300_000))
2
"""

from __future__ import annotations

import math

import numpy as np

from models.jit import kernel

# --- column indices (compile-time constants) ---------------------------------------------------
I_STEP = 0
I_START = 1
I_NOBS = 2
I_MISS = 3
I_SINCE = 4
NI = 5

F_YLAST = 0
F_MINY = 1
NF = 2

C_LEV = 0
C_TR = 1
C_ARE = 2
C_SC = 3
C_NE = 4
C_RUN = 5
NC = 6

Q_LO = 0
Q_HI = 1
Q_MAD = 2
Q_CNT = 3
NQ = 4

# candidate parameter columns cp[K, NP]
P_ALPHA = 0
P_BETA = 1
P_PHI = 2
P_GAMMA = 3
P_GAMMAW = 4
P_AR = 5
NP = 6

# global float parameters par[...]
G_DISC = 0
G_POWER = 1
G_MINW = 2
G_HUBER = 3
G_SHIFTK = 4
G_TAULO = 5
G_TAUHI = 6
G_QRATE = 7
G_QDISC = 8
G_ZLO = 9
G_ZHI = 10
NPAR = 11

# global int parameters ipar[...]
IP_PERIOD = 0
IP_M1 = 1
IP_M2 = 2
IP_MAXGAP = 3
IP_COMBINE = 4
IP_FB1 = 5
IP_FB2 = 6
IP_SHIFTRUN = 7
IP_WARM = 8
IP_NONNEG = 9
NIPAR = 10

# model codes (mirror models.forecast.config)
NAIVE = 0
HOLT = 1
SNAIVE_DAY = 2
SNAIVE_WEEK = 3
HW_ADD = 4
DSHW = 5
HW_MUL = 6

MAD_TO_SD = 1.2533141373155003  # sigma / E|e| for Gaussian errors


@kernel
def step_of(ts_ms: np.int64, period_ms: np.int64) -> np.int64:
    """Sampling step of an epoch-ms timestamp (floor division, so slots follow the clock)."""
    return ts_ms // period_ms


@kernel
def _cand_forecast(code, k, i, t, h, cst, hist, dh, dd, ww, dm, ist, fst, phih, arp, m1, m2):
    """Forecast of candidate ``k`` for step ``t + h`` from the state after step ``t``."""
    if code == NAIVE:
        return fst[i, F_YLAST]
    if code == SNAIVE_DAY or code == SNAIVE_WEEK:
        m = m1 if code == SNAIVE_DAY else m2
        j = t + h - m * ((h + m - 1) // m)
        if j < ist[i, I_START]:
            return np.nan
        return hist[i, j % m2]
    base = cst[i, k, C_LEV] + phih[k, h] * cst[i, k, C_TR]
    if code == HOLT:
        return base
    corr = arp[k, h] * cst[i, k, C_ARE]
    if code == HW_ADD:
        return base + dh[i, (t + h) % m1] + corr
    if code == DSHW:
        return base + dd[i, (t + h) % m1] + ww[i, (t + h) % m2] + corr
    if code == HW_MUL:
        if fst[i, F_MINY] <= 0.0:
            return np.nan
        return base * dm[i, (t + h) % m1] + corr
    return np.nan


@kernel
def _combine(fk, lossk, power, mode, fb1, fb2):
    """Combine candidate forecasts ``fk`` by their losses (NaN = not usable)."""
    k_n = fk.shape[0]
    tot = 0.0
    acc = 0.0
    best = np.inf
    bestf = np.nan
    for k in range(k_n):
        f = fk[k]
        lk = lossk[k]
        if math.isnan(f) or math.isnan(lk):
            continue
        if lk < 1e-100:
            lk = 1e-100
        if mode == 1:
            if lk < best:
                best = lk
                bestf = f
        else:
            w = 1.0 / (lk * lk) if power == 2.0 else lk ** (-power)
            tot += w
            acc += w * f
    if mode == 1:
        if not math.isnan(bestf):
            return bestf
    elif tot > 0.0:
        return acc / tot
    # fallback blend: first SES and daily seasonal naive (warming up / after a fault)
    f1 = fk[fb1] if fb1 >= 0 else np.nan
    f2 = fk[fb2] if fb2 >= 0 else np.nan
    if not math.isnan(f1) and not math.isnan(f2):
        return 0.5 * (f1 + f2)
    if not math.isnan(f1):
        return f1
    if not math.isnan(f2):
        return f2
    for k in range(k_n):
        if not math.isnan(fk[k]):
            return fk[k]
    return np.nan


@kernel
def _write_pending(i, t, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, pend, grid, off,
                   phih, arp, par, ipar, work):
    """Issue the forecasts for ``t + grid[g]`` of every candidate and of the combination."""
    k_n = ctype.shape[0]
    m1 = ipar[IP_M1]
    m2 = ipar[IP_M2]
    minw = par[G_MINW]
    fk = work[:k_n]
    lk = work[k_n:2 * k_n]
    for g in range(grid.shape[0]):
        h = grid[g]
        slot = off[g] + t % h
        for k in range(k_n):
            f = _cand_forecast(ctype[k], k, i, t, h, cst, hist, dh, dd, ww, dm, ist, fst,
                               phih, arp, m1, m2)
            fk[k] = f
            pend[i, k, slot] = f
            w = loss[i, k, g, 1]
            lk[k] = loss[i, k, g, 0] / w if w >= minw else np.nan
        pend[i, k_n, slot] = _combine(fk, lk, par[G_POWER], ipar[IP_COMBINE], ipar[IP_FB1],
                                      ipar[IP_FB2])


@kernel
def _track(qst, i, g, err, par):
    """Quantile tracking of the error in units of its EW mean |error| (pinball-loss SGD).

    Tracking the *normalised* error lets the scale follow volatility at once (EW |error|) while
    the slow tracker only learns the shape (skew, tails); it starts from the Gaussian quantiles.
    """
    cnt = qst[i, g, Q_CNT]
    a = abs(err)
    if cnt == 0.0:
        qst[i, g, Q_MAD] = a
        qst[i, g, Q_LO] = par[G_ZLO]
        qst[i, g, Q_HI] = par[G_ZHI]
        qst[i, g, Q_CNT] = 1.0
        return
    mad = qst[i, g, Q_MAD]
    if mad > 1e-300:
        z = err / mad
        if z > 50.0:
            z = 50.0
        elif z < -50.0:
            z = -50.0
    else:
        z = 0.0 if a == 0.0 else (50.0 if err > 0.0 else -50.0)
    rate = par[G_QRATE]
    early = 2.0 / (cnt + 2.0)
    eta = early if early > rate else rate
    lo = qst[i, g, Q_LO]
    hi = qst[i, g, Q_HI]
    lo += eta * (par[G_TAULO] - (1.0 if z < lo else 0.0))
    hi += eta * (par[G_TAUHI] - (1.0 if z < hi else 0.0))
    qst[i, g, Q_LO] = lo
    qst[i, g, Q_HI] = hi
    d = par[G_QDISC]
    qst[i, g, Q_MAD] = d * mad + (1.0 - d) * a
    qst[i, g, Q_CNT] = cnt + 1.0


@kernel
def _init_sensor(i, t, y, ctype, cst, hist, dh, dd, ww, dm, ist, fst):
    """First finite reading (or first after a fault): anchor levels, keep learnt seasons."""
    m1 = dh.shape[1]
    for k in range(ctype.shape[0]):
        code = ctype[k]
        lev = y
        if code == HW_ADD:
            s = dh[i, t % m1]
            if not math.isnan(s):
                lev = y - s
        elif code == DSHW:
            s = dd[i, t % dd.shape[1]]
            if not math.isnan(s):
                lev = y - s - ww[i, t % ww.shape[1]]
        elif code == HW_MUL:
            s = dm[i, t % dm.shape[1]]
            if not math.isnan(s) and s > 0.0:
                lev = y / s
        cst[i, k, C_LEV] = lev
        cst[i, k, C_TR] = 0.0
        cst[i, k, C_ARE] = 0.0
        cst[i, k, C_RUN] = 0.0
    ist[i, I_STEP] = t
    ist[i, I_START] = t
    ist[i, I_MISS] = 0
    ist[i, I_SINCE] = 0
    ist[i, I_NOBS] += 1
    fst[i, F_YLAST] = y
    if y < fst[i, F_MINY]:
        fst[i, F_MINY] = y
    hist[i, t % hist.shape[1]] = y


@kernel
def _update_candidates(i, t, y, ctype, cp, cst, dh, dd, ww, dm, ist, fst, par, ipar):
    """Advance every smoothing member by one step; NaN ``y`` = no correction."""
    m1 = ipar[IP_M1]
    m2 = ipar[IP_M2]
    finite = not math.isnan(y)
    hk = par[G_HUBER] * MAD_TO_SD
    sk = par[G_SHIFTK] * MAD_TO_SD
    srun = float(ipar[IP_SHIFTRUN])
    age = t - ist[i, I_START]
    cyc_d = age // m1
    cyc_w = age // m2
    s1 = t % m1
    s2 = t % m2
    for k in range(ctype.shape[0]):
        code = ctype[k]
        if code == NAIVE or code == SNAIVE_DAY or code == SNAIVE_WEEK:
            continue
        alpha = cp[k, P_ALPHA]
        beta = cp[k, P_BETA]
        phi = cp[k, P_PHI]
        gam = cp[k, P_GAMMA]
        gamw = cp[k, P_GAMMAW]
        ar = cp[k, P_AR]
        lev = cst[i, k, C_LEV]
        tr = cst[i, k, C_TR]
        pl = lev + phi * tr
        if not finite:
            cst[i, k, C_LEV] = pl
            cst[i, k, C_TR] = phi * tr
            cst[i, k, C_ARE] = ar * cst[i, k, C_ARE]
            continue
        s = 0.0
        w = 0.0
        if code == HW_ADD:
            s = dh[i, s1]
            if math.isnan(s):
                dh[i, s1] = y - pl
                cst[i, k, C_LEV] = pl
                cst[i, k, C_TR] = phi * tr
                cst[i, k, C_ARE] = 0.0
                continue
            base = pl + s
        elif code == DSHW:
            s = dd[i, s1]
            w = ww[i, s2]
            if math.isnan(w):
                w = 0.0
            if math.isnan(s):
                dd[i, s1] = y - pl - w
                ww[i, s2] = w
                cst[i, k, C_LEV] = pl
                cst[i, k, C_TR] = phi * tr
                cst[i, k, C_ARE] = 0.0
                continue
            base = pl + s + w
        elif code == HW_MUL:
            if fst[i, F_MINY] <= 0.0 or pl <= 0.0:
                # not a positive series (any more): keep a level so it can recover
                cst[i, k, C_LEV] = y if y > 0.0 else 1e-9
                cst[i, k, C_TR] = 0.0
                cst[i, k, C_ARE] = 0.0
                continue
            s = dm[i, s1]
            if math.isnan(s):
                dm[i, s1] = y / pl
                cst[i, k, C_LEV] = pl
                cst[i, k, C_TR] = phi * tr
                cst[i, k, C_ARE] = 0.0
                continue
            base = pl * s
        else:
            base = pl
        eb = y - base
        # robust scale and Huber clip (Gelper, Fried & Croux 2010)
        ne = cst[i, k, C_NE]
        sc = cst[i, k, C_SC]
        a = abs(eb)
        if ne < 10.0:
            ec = eb
            sc = (sc * ne + a) / (ne + 1.0)
        else:
            lim = hk * sc
            ec = eb
            if ec > lim:
                ec = lim
            elif ec < -lim:
                ec = -lim
            cap = 2.0 * lim
            sc = 0.95 * sc + 0.05 * (a if a < cap else cap)
        if sc < 1e-12:
            sc = 1e-12
        cst[i, k, C_SC] = sc
        cst[i, k, C_NE] = ne + 1.0
        # level shift: a run of large errors on one side re-anchors the level
        run = cst[i, k, C_RUN]
        if ne >= 10.0 and a > sk * sc:
            if eb > 0.0:
                run = run + 1.0 if run > 0.0 else 1.0
            else:
                run = run - 1.0 if run < 0.0 else -1.0
        else:
            run = 0.0
        shift = abs(run) >= srun
        if shift:
            run = 0.0
        cst[i, k, C_RUN] = run
        if code == HW_MUL:
            if shift:
                lev = y / s
                tr = 0.0
            else:
                lev = pl + alpha * ec / s
                tr = phi * tr + beta * ec / s
                g_eff = gam if gam * (cyc_d + 1) > 1.0 else 1.0 / (cyc_d + 1.0)
                sn = s + g_eff * ec / pl
                dm[i, s1] = sn if sn > 1e-3 else 1e-3
            if lev <= 1e-9:
                lev = 1e-9
        else:
            if shift:
                lev = pl + eb
                tr = 0.0
            else:
                lev = pl + alpha * ec
                tr = phi * tr + beta * ec
                if code == HW_ADD:
                    g_eff = gam if gam * (cyc_d + 1) > 1.0 else 1.0 / (cyc_d + 1.0)
                    dh[i, s1] = s + g_eff * ec
                elif code == DSHW:
                    g_eff = gam if gam * (cyc_d + 1) > 1.0 else 1.0 / (cyc_d + 1.0)
                    dd[i, s1] = s + g_eff * ec
                    gw_eff = gamw
                    if cyc_w >= 1 and gamw * (cyc_w + 1) < 1.0:
                        gw_eff = 1.0 / (cyc_w + 1.0)
                    ww[i, s2] = w + gw_eff * ec
        cst[i, k, C_LEV] = lev
        cst[i, k, C_TR] = tr
        cst[i, k, C_ARE] = 0.0 if shift else ec


@kernel
def _advance(i, t, y, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, pend, grid,
             off, phih, arp, par, ipar, work):
    """One step of one sensor: score due forecasts, update, issue new forecasts."""
    k_n = ctype.shape[0]
    if not math.isnan(y):
        disc = par[G_DISC]
        for g in range(grid.shape[0]):
            slot = off[g] + t % grid[g]
            for k in range(k_n):
                f = pend[i, k, slot]
                if not math.isnan(f):
                    loss[i, k, g, 0] = disc * loss[i, k, g, 0] + abs(y - f)
                    loss[i, k, g, 1] = disc * loss[i, k, g, 1] + 1.0
            fc = pend[i, k_n, slot]
            if not math.isnan(fc):
                _track(qst, i, g, y - fc, par)
        if y < fst[i, F_MINY]:
            fst[i, F_MINY] = y
    _update_candidates(i, t, y, ctype, cp, cst, dh, dd, ww, dm, ist, fst, par, ipar)
    hist[i, t % hist.shape[1]] = y
    if math.isnan(y):
        ist[i, I_MISS] += 1
    else:
        fst[i, F_YLAST] = y
        ist[i, I_MISS] = 0
        ist[i, I_NOBS] += 1
    ist[i, I_STEP] = t
    ist[i, I_SINCE] += 1
    _write_pending(i, t, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, pend, grid, off,
                   phih, arp, par, ipar, work)


@kernel
def _reset_sensor(i, hist, loss, pend, ist, cst):
    """Sensor fault (gap longer than ``max_gap``): drop history, pending and skill counts."""
    hist[i, :] = np.nan
    pend[i, :, :] = np.nan
    loss[i, :, :, :] = 0.0
    cst[i, :, C_NE] = 0.0
    ist[i, I_STEP] = -1


@kernel
def _ingest(i, t, y, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, pend, grid,
            off, phih, arp, par, ipar, work):
    """Route one reading: initialise, drop duplicates, fill gaps with NaN steps, or reset."""
    last = ist[i, I_STEP]
    if last >= 0 and t <= last:
        return  # duplicate or late reading: the state has moved past it
    if last >= 0 and t - last - 1 > ipar[IP_MAXGAP]:
        _reset_sensor(i, hist, loss, pend, ist, cst)
        last = -1
    if last < 0:
        if not math.isnan(y):
            _init_sensor(i, t, y, ctype, cst, hist, dh, dd, ww, dm, ist, fst)
            _write_pending(i, t, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, pend, grid,
                           off, phih, arp, par, ipar, work)
        return
    for s in range(last + 1, t):
        _advance(i, s, np.nan, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, pend,
                 grid, off, phih, arp, par, ipar, work)
    _advance(i, t, y, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, pend, grid,
             off, phih, arp, par, ipar, work)


@kernel
def update(idx, val, ts, skip, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, pend,
           grid, off, phih, arp, par, ipar):
    """Feed a batch of readings in arrival order (the hot path: one call per batch).

    ``idx`` dense sensor indices, ``val`` values (NaN = missing), ``ts`` epoch milliseconds,
    ``skip`` nonzero where the anomaly engine flagged the reading (treated as missing, so a
    flagged point never moves the state). Everything else is state, updated in place.
    """
    work = np.empty(2 * ctype.shape[0])
    period = ipar[IP_PERIOD]
    for r in range(idx.shape[0]):
        y = val[r]
        if skip[r] != 0:
            y = np.nan
        _ingest(idx[r], ts[r] // period, y, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst,
                loss, qst, pend, grid, off, phih, arp, par, ipar, work)


@kernel
def _quantiles_at(qst, i, h, grid):
    """Tracked (lo, hi) error quantiles at horizon ``h``: interpolate, extrapolate by sqrt."""
    g_n = grid.shape[0]
    ga = -1
    gb = -1
    for g in range(g_n):
        if qst[i, g, Q_CNT] > 0.0:
            if grid[g] <= h:
                ga = g
            if grid[g] >= h and gb < 0:
                gb = g
    if ga < 0 and gb < 0:
        return np.nan, np.nan
    if ga >= 0 and gb >= 0:
        lo_a = qst[i, ga, Q_LO] * qst[i, ga, Q_MAD]
        hi_a = qst[i, ga, Q_HI] * qst[i, ga, Q_MAD]
        if grid[gb] == grid[ga]:
            return lo_a, hi_a
        lo_b = qst[i, gb, Q_LO] * qst[i, gb, Q_MAD]
        hi_b = qst[i, gb, Q_HI] * qst[i, gb, Q_MAD]
        fr = (h - grid[ga]) / (grid[gb] - grid[ga])
        return (1.0 - fr) * lo_a + fr * lo_b, (1.0 - fr) * hi_a + fr * hi_b
    g = ga if ga >= 0 else gb
    sc = math.sqrt(h / grid[g]) * qst[i, g, Q_MAD]
    return sc * qst[i, g, Q_LO], sc * qst[i, g, Q_HI]


@kernel
def _forecast_one(i, r, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, grid, hmap,
                  hfrac, phih, arp, par, ipar, out, lo, hi, work):
    k_n = ctype.shape[0]
    hor = out.shape[1]
    t = ist[i, I_STEP]
    if t < 0 or ist[i, I_NOBS] < ipar[IP_WARM]:
        out[r, :] = np.nan
        lo[r, :] = np.nan
        hi[r, :] = np.nan
        return
    m1 = ipar[IP_M1]
    m2 = ipar[IP_M2]
    minw = par[G_MINW]
    miss = ist[i, I_MISS]
    nonneg = ipar[IP_NONNEG] != 0 and fst[i, F_MINY] >= 0.0
    fk = work[:k_n]
    lk = work[k_n:2 * k_n]
    for h in range(1, hor + 1):
        ga = hmap[h, 0]
        gb = hmap[h, 1]
        fr = hfrac[h]
        for k in range(k_n):
            fk[k] = _cand_forecast(ctype[k], k, i, t, h, cst, hist, dh, dd, ww, dm, ist, fst,
                                   phih, arp, m1, m2)
            wa = loss[i, k, ga, 1]
            wb = loss[i, k, gb, 1]
            la = loss[i, k, ga, 0] / wa if wa >= minw else np.nan
            lb = loss[i, k, gb, 0] / wb if wb >= minw else np.nan
            if math.isnan(la):
                lk[k] = lb
            elif math.isnan(lb):
                lk[k] = la
            else:
                lk[k] = (1.0 - fr) * la + fr * lb
        yh = _combine(fk, lk, par[G_POWER], ipar[IP_COMBINE], ipar[IP_FB1], ipar[IP_FB2])
        qlo, qhi = _quantiles_at(qst, i, h + miss, grid)
        a = yh + qlo
        b = yh + qhi
        if a > b:
            a, b = b, a
        if nonneg:
            yh = max(yh, 0.0)
            a = max(a, 0.0)
            b = max(b, 0.0)
        out[r, h - 1] = yh
        lo[r, h - 1] = a
        hi[r, h - 1] = b


@kernel
def forecast(idx, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, grid, hmap, hfrac,
             phih, arp, par, ipar, out, lo, hi):
    """Write forecasts for steps ``last+1 .. last+H`` of sensors ``idx`` into rows of ``out``.

    ``lo``/``hi`` get the tracked-quantile interval (80 % by default), widened by treating a
    run of ``miss`` missing steps as ``miss`` extra steps of horizon. Rows are NaN while a
    sensor is warming up.
    """
    work = np.empty(2 * ctype.shape[0])
    for r in range(idx.shape[0]):
        _forecast_one(idx[r], r, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, grid,
                      hmap, hfrac, phih, arp, par, ipar, out, lo, hi, work)


@kernel
def run_series(val, ts, skip, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, pend,
               grid, off, hmap, hfrac, phih, arp, par, ipar, out, lo, hi):
    """One series (sensor 0), row by row: update with row ``r`` then forecast into row ``r``.

    The batch (file) path; equal to calling :func:`update` and :func:`forecast` per row.
    """
    work = np.empty(2 * ctype.shape[0])
    period = ipar[IP_PERIOD]
    for r in range(val.shape[0]):
        y = val[r]
        if skip[r] != 0:
            y = np.nan
        _ingest(0, ts[r] // period, y, ctype, cp, cst, hist, dh, dd, ww, dm, ist, fst, loss,
                qst, pend, grid, off, phih, arp, par, ipar, work)
        _forecast_one(0, r, ctype, cst, hist, dh, dd, ww, dm, ist, fst, loss, qst, grid, hmap,
                      hfrac, phih, arp, par, ipar, out, lo, hi, work)
