"""Numba kernels of the streaming forecaster: one update call per batch, one forecast call.

Why: thousands of sensors each get a reading every few minutes; refitting an ETS per sensor is
far too slow, so every candidate model of the bank is an exponential-smoothing recursion updated
in O(1) per reading, and the "model choice" is an online per-horizon loss (ALGORITHMS.md §4.1).
Intervals come from per-horizon quantile tracking of the combined forecast's signed errors
(§4.2). All state is in arrays indexed by a dense sensor index (§5); the class in
:mod:`models.forecast.streaming` owns them.

State layout (``n`` sensors, ``K`` candidates, ``G`` tracked horizons). Layouts put what one
update touches in the same cache lines, because with thousands of sensors the kernel is bound by
memory latency, not arithmetic:

* ``ist[n, NI]`` int64: last step, start step, observations, missing run, steps since reset.
* ``fst[n, NF]``: last finite value, minimum and maximum value seen.
* ``cst[n, K, NC]``: level, trend, AR error, robust scale (EW mean |error|), error count,
  signed run of large errors (level-shift detector), fast and slow EW mean |one-step error|
  (every member; their ratio flags a member that has just stopped fitting, e.g. a slow
  smoother during a ramp, long before the per-horizon losses notice).
* ``season[n, m1, 3]``: daily indices of HW_ADD, DSHW and HW_MUL (NaN = slot not seen yet).
* ``week[n, m2, 2]``: raw value by weekly slot (NaN = missing; the seasonal-naive members) and
  the weekly index of DSHW.
* ``loss[n, G, K, 2]``: discounted sum of |error| and discounted count per tracked horizon.
* ``qst[n, G, NQ]``: lower / upper tracked quantile of the error in units of its EW mean
  |error|, that EW mean, count.
* ``pend[n, P, K + 1]``: issued forecasts waiting for their target (column ``K`` = the
  combination).

Rotation: scoring every candidate at every tracked horizon from every origin would cost
``K * G`` forecasts per reading. Instead step ``t`` issues forecasts only for tracked horizon
``g = t % G``; each horizon is still scored from every G-th origin, which is plenty for a
discounted loss and a quantile tracker, and the work per reading drops G-fold. ``gi[G, 4]``
holds per tracked horizon: steps ahead, ring offset into ``pend``, ring length, and
``(h + g) % G`` (the phase at which its forecasts fall due).

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
F_MAXY = 2
NF = 3

C_LEV = 0
C_TR = 1
C_ARE = 2
C_SC = 3
C_NE = 4
C_RUN = 5
C_FAST = 6
C_SLOW = 7
NC = 8

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
G_RECENT = 11
NPAR = 12

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

# grid info columns gi[G, ...]
GI_H = 0
GI_OFF = 1
GI_LEN = 2
GI_DUE = 3

# season / week columns
SD_HW = 0
SD_DS = 1
SD_MU = 2
WK_Y = 0
WK_W = 1

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
def _bank_forecast(i, t, h_lo, h_hi, ctype, cst, season, week, ist, fst, phih, arp, fkm):
    """Forecasts of every candidate for steps ``t + h``, ``h_lo <= h <= h_hi``, into
    ``fkm[h - h_lo, k]``, from the state after step ``t``."""
    m1 = season.shape[1]
    m2 = week.shape[1]
    start = ist[i, I_START]
    ylast = fst[i, F_YLAST]
    positive = fst[i, F_MINY] > 0.0
    # guard band: no member may leave the seen range by more than the range itself
    rng = fst[i, F_MAXY] - fst[i, F_MINY]
    band_lo = fst[i, F_MINY] - rng
    band_hi = fst[i, F_MAXY] + rng
    k_n = ctype.shape[0]
    s1 = (t + h_lo) % m1
    s2 = (t + h_lo) % m2
    for h in range(h_lo, h_hi + 1):
        r = h - h_lo
        jd = t + h - m1 * ((h + m1 - 1) // m1)
        jw = t + h - m2 * ((h + m2 - 1) // m2)
        for k in range(k_n):
            code = ctype[k]
            if code == NAIVE:
                f = ylast
            elif code == SNAIVE_DAY:
                f = week[i, jd % m2, WK_Y] if jd >= start else np.nan
            elif code == SNAIVE_WEEK:
                f = week[i, s2, WK_Y] if jw >= start else np.nan
            else:
                f = cst[i, k, C_LEV] + phih[k, h] * cst[i, k, C_TR]
                if code != HOLT:
                    corr = arp[k, h] * cst[i, k, C_ARE]
                    if code == HW_ADD:
                        f = f + season[i, s1, SD_HW] + corr
                    elif code == DSHW:
                        w = week[i, s2, WK_W]
                        if math.isnan(w):
                            w = 0.0
                        f = f + season[i, s1, SD_DS] + w + corr
                    elif code == HW_MUL:
                        f = f * season[i, s1, SD_MU] + corr if positive else np.nan
                    else:
                        f = np.nan
            if f < band_lo:
                f = band_lo
            elif f > band_hi:
                f = band_hi
            fkm[r, k] = f
        s1 += 1
        if s1 == m1:
            s1 = 0
        s2 += 1
        if s2 == m2:
            s2 = 0


@kernel
def _combine(fk, wk, fb1, fb2):
    """Weighted mean of the usable forecasts (``wk`` > 0); fallback blend when none is.

    The fallback (first SES member and daily seasonal naive) serves while a sensor warms up
    and after a fault, until the online losses have enough evidence.
    """
    tot = 0.0
    acc = 0.0
    for k in range(fk.shape[0]):
        w = wk[k]
        if w > 0.0 and not math.isnan(fk[k]):
            tot += w
            acc += w * fk[k]
    if tot > 0.0:
        return acc / tot
    f1 = fk[fb1] if fb1 >= 0 else np.nan
    f2 = fk[fb2] if fb2 >= 0 else np.nan
    if not math.isnan(f1) and not math.isnan(f2):
        return 0.5 * (f1 + f2)
    if not math.isnan(f1):
        return f1
    if not math.isnan(f2):
        return f2
    for k in range(fk.shape[0]):
        if not math.isnan(fk[k]):
            return fk[k]
    return np.nan


@kernel
def _weights(loss, cst, i, g, par, ipar, wk):
    """Combination weights at tracked horizon ``g`` from the discounted losses (0 = unusable).

    A member whose recent one-step error exceeds ``recent_k`` times its usual one has its
    loss scaled up by that ratio: the per-horizon losses are scored only every G-th step and
    remember ~100 scores, far too slow to drop a slow smoother when a ramp starts.
    """
    minw = par[G_MINW]
    power = par[G_POWER]
    rk = par[G_RECENT]
    k_n = wk.shape[0]
    # small integer powers by multiplication: pow() dominated the forecast kernel
    ipow = int(power) if power == math.floor(power) and 1.0 <= power <= 8.0 else 0
    if ipar[IP_COMBINE] == 1:
        best = -1
        bl = np.inf
        for k in range(k_n):
            c = loss[i, g, k, 1]
            wk[k] = 0.0
            if c >= minw:
                lk = loss[i, g, k, 0] / c
                slow = cst[i, k, C_SLOW]
                if rk > 0.0 and slow > 0.0 and cst[i, k, C_FAST] > rk * slow:
                    lk *= cst[i, k, C_FAST] / (rk * slow)
                if lk < bl:
                    bl = lk
                    best = k
        if best >= 0:
            wk[best] = 1.0
        return
    for k in range(k_n):
        c = loss[i, g, k, 1]
        if c >= minw:
            lk = loss[i, g, k, 0] / c
            slow = cst[i, k, C_SLOW]
            if rk > 0.0 and slow > 0.0:
                ratio = cst[i, k, C_FAST] / (rk * slow)
                if ratio > 1.0:
                    lk *= ratio
            if lk < 1e-100:
                lk = 1e-100
            if ipow > 0:
                inv = 1.0 / lk
                w = inv
                for _ in range(ipow - 1):
                    w *= inv
                wk[k] = w
            else:
                wk[k] = lk ** (-power)
        else:
            wk[k] = 0.0


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
    d = par[G_QDISC]
    if cnt * (1.0 - d) < 1.0:
        # warm-up: the scale is a plain running mean until the EW window is filled, and the
        # quantiles keep their Gaussian prior for the first errors (one early error must not
        # throw them far: pulling an upper quantile back down is 9x slower than pushing it up)
        new_mad = mad + (a - mad) / (cnt + 1.0)
    else:
        new_mad = d * mad + (1.0 - d) * a
    qst[i, g, Q_MAD] = new_mad
    if cnt < 10.0:
        qst[i, g, Q_CNT] = cnt + 1.0
        return
    if mad > 1e-300:
        z = err / mad
        if z > 50.0:
            z = 50.0
        elif z < -50.0:
            z = -50.0
    else:
        z = 0.0 if a == 0.0 else (50.0 if err > 0.0 else -50.0)
    eta = par[G_QRATE]
    lo = qst[i, g, Q_LO]
    hi = qst[i, g, Q_HI]
    lo += eta * (par[G_TAULO] - (1.0 if z < lo else 0.0))
    hi += eta * (par[G_TAUHI] - (1.0 if z < hi else 0.0))
    qst[i, g, Q_LO] = lo
    qst[i, g, Q_HI] = hi
    qst[i, g, Q_CNT] = cnt + 1.0


@kernel
def _issue(i, t, ctype, cst, season, week, ist, fst, loss, pend, gi, phih, arp, par, ipar,
           fkm, wk):
    """Issue the forecasts of tracked horizon ``t % G`` (every candidate and the combination)."""
    g_n = gi.shape[0]
    g = t % g_n
    h = gi[g, GI_H]
    slot = gi[g, GI_OFF] + (t // g_n) % gi[g, GI_LEN]
    _bank_forecast(i, t, h, h, ctype, cst, season, week, ist, fst, phih, arp, fkm)
    fk = fkm[0]
    _weights(loss, cst, i, g, par, ipar, wk)
    k_n = ctype.shape[0]
    for k in range(k_n):
        pend[i, slot, k] = fk[k]
    pend[i, slot, k_n] = _combine(fk, wk, ipar[IP_FB1], ipar[IP_FB2])


@kernel
def _init_sensor(i, t, y, ctype, cst, season, week, ist, fst):
    """First finite reading (or first after a fault): anchor levels, keep learnt seasons."""
    m1 = season.shape[1]
    m2 = week.shape[1]
    s1 = t % m1
    for k in range(ctype.shape[0]):
        code = ctype[k]
        lev = y
        if code == HW_ADD:
            s = season[i, s1, SD_HW]
            if not math.isnan(s):
                lev = y - s
        elif code == DSHW:
            s = season[i, s1, SD_DS]
            w = week[i, t % m2, WK_W]
            if not math.isnan(s):
                lev = y - s - (0.0 if math.isnan(w) else w)
        elif code == HW_MUL:
            s = season[i, s1, SD_MU]
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
    if y > fst[i, F_MAXY]:
        fst[i, F_MAXY] = y
    week[i, t % m2, WK_Y] = y


@kernel
def _skill(cst, i, k, e):
    """Fast (EW 0.7) and slow (EW 0.98) mean |one-step error| of member ``k``."""
    slow = cst[i, k, C_SLOW]
    if slow <= 0.0:
        cst[i, k, C_FAST] = e
        cst[i, k, C_SLOW] = e if e > 0.0 else 1e-12
    else:
        cst[i, k, C_FAST] = 0.7 * cst[i, k, C_FAST] + 0.3 * e
        cst[i, k, C_SLOW] = 0.98 * slow + 0.02 * e


@kernel
def _ingest_rows(r0, r1, idx, val, ts, skip, ctype, cp, cst, season, week, ist, fst, loss, qst,
                 pend, gi, phih, arp, par, ipar, fkm, wk):
    """Rows ``r0 .. r1 - 1`` of a batch, in order: per reading route (initialise, drop a
    duplicate, fill a gap with NaN steps, or reset after a fault), then per step score the due
    forecasts, advance every member and issue the forecasts of horizon ``step % G``.

    Why one function: every numba call increments and decrements the reference count of each
    array argument (an atomic operation); split into the natural helpers, one reading paid
    about 70 such pairs, more than all the arithmetic. Only rare paths (first reading, fault
    reset) call out.
    """
    period = ipar[IP_PERIOD]
    maxgap = ipar[IP_MAXGAP]
    m1 = season.shape[1]
    m2 = week.shape[1]
    k_n = ctype.shape[0]
    g_n = gi.shape[0]
    disc = par[G_DISC]
    hk = par[G_HUBER] * MAD_TO_SD
    sk = par[G_SHIFTK] * MAD_TO_SD
    srun = float(ipar[IP_SHIFTRUN])
    fb1 = ipar[IP_FB1]
    fb2 = ipar[IP_FB2]
    fk = fkm[0]
    for r in range(r0, r1):
        y = val[r]
        if skip[r] != 0:
            y = np.nan
        i = idx[r]
        t = ts[r] // period
        last = ist[i, I_STEP]
        if last >= 0 and t <= last:
            continue  # duplicate or late reading: the state has moved past it
        if last >= 0 and t - last - 1 > maxgap:
            # sensor fault: drop history, issued forecasts and skill; keep the learnt seasons
            week[i, :, WK_Y] = np.nan
            pend[i, :, :] = np.nan
            loss[i, :, :, :] = 0.0
            cst[i, :, C_NE] = 0.0
            cst[i, :, C_SLOW] = 0.0
            ist[i, I_STEP] = -1
            last = -1
        if last < 0:
            if not math.isnan(y):
                _init_sensor(i, t, y, ctype, cst, season, week, ist, fst)
                _issue(i, t, ctype, cst, season, week, ist, fst, loss, pend, gi, phih, arp, par,
                       ipar, fkm, wk)
            continue
        # steps last+1 .. t-1 are missing (NaN), step t carries the reading
        for st in range(last + 1, t + 1):
            ys = y if st == t else np.nan
            finite = not math.isnan(ys)
            # --- score the forecasts that fall due at step st (issued h steps ago)
            if finite:
                phase = st % g_n
                for g in range(g_n):
                    if gi[g, GI_DUE] != phase:
                        continue
                    o = st - gi[g, GI_H]
                    slot = gi[g, GI_OFF] + (o // g_n) % gi[g, GI_LEN]
                    for k in range(k_n):
                        f = pend[i, slot, k]
                        if not math.isnan(f):
                            loss[i, g, k, 0] = disc * loss[i, g, k, 0] + abs(ys - f)
                            loss[i, g, k, 1] = disc * loss[i, g, k, 1] + 1.0
                    fc = pend[i, slot, k_n]
                    if not math.isnan(fc):
                        _track(qst, i, g, ys - fc, par)
                if ys < fst[i, F_MINY]:
                    fst[i, F_MINY] = ys
                if ys > fst[i, F_MAXY]:
                    fst[i, F_MAXY] = ys
            # --- advance every smoothing member by one step; NaN = no correction
            start = ist[i, I_START]
            age = st - start
            cyc_d = age // m1
            cyc_w = age // m2
            s1 = st % m1
            s2 = st % m2
            for k in range(k_n):
                code = ctype[k]
                if code == NAIVE or code == SNAIVE_DAY or code == SNAIVE_WEEK:
                    if finite:
                        if code == NAIVE:
                            f = fst[i, F_YLAST]
                        elif code == SNAIVE_DAY:
                            f = week[i, (st - m1) % m2, WK_Y] if st - m1 >= start else np.nan
                        else:
                            f = week[i, s2, WK_Y] if st - m2 >= start else np.nan
                        if not math.isnan(f):
                            _skill(cst, i, k, abs(ys - f))
                    continue
                alpha = cp[k, P_ALPHA]
                beta = cp[k, P_BETA]
                phi = cp[k, P_PHI]
                lev = cst[i, k, C_LEV]
                tr = cst[i, k, C_TR]
                pl = lev + phi * tr
                if not finite:
                    cst[i, k, C_LEV] = pl
                    cst[i, k, C_TR] = phi * tr
                    cst[i, k, C_ARE] = cp[k, P_AR] * cst[i, k, C_ARE]
                    continue
                s = 0.0
                w = 0.0
                if code == HW_ADD:
                    s = season[i, s1, SD_HW]
                    if math.isnan(s):
                        season[i, s1, SD_HW] = ys - pl
                        cst[i, k, C_LEV] = pl
                        cst[i, k, C_TR] = phi * tr
                        cst[i, k, C_ARE] = 0.0
                        continue
                    base = pl + s
                elif code == DSHW:
                    s = season[i, s1, SD_DS]
                    w = week[i, s2, WK_W]
                    if math.isnan(w):
                        w = 0.0
                    if math.isnan(s):
                        season[i, s1, SD_DS] = ys - pl - w
                        week[i, s2, WK_W] = w
                        cst[i, k, C_LEV] = pl
                        cst[i, k, C_TR] = phi * tr
                        cst[i, k, C_ARE] = 0.0
                        continue
                    base = pl + s + w
                elif code == HW_MUL:
                    if fst[i, F_MINY] <= 0.0 or pl <= 0.0:
                        # not a positive series (any more): keep a level so it can recover
                        cst[i, k, C_LEV] = ys if ys > 0.0 else 1e-9
                        cst[i, k, C_TR] = 0.0
                        cst[i, k, C_ARE] = 0.0
                        continue
                    s = season[i, s1, SD_MU]
                    if math.isnan(s):
                        season[i, s1, SD_MU] = ys / pl
                        cst[i, k, C_LEV] = pl
                        cst[i, k, C_TR] = phi * tr
                        cst[i, k, C_ARE] = 0.0
                        continue
                    base = pl * s
                else:
                    base = pl
                eb = ys - base
                _skill(cst, i, k, abs(eb - cp[k, P_AR] * cst[i, k, C_ARE]))
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
                gam = cp[k, P_GAMMA]
                g_eff = gam if gam * (cyc_d + 1) > 1.0 else 1.0 / (cyc_d + 1.0)
                if code == HW_MUL:
                    if shift:
                        lev = ys / s
                        tr = 0.0
                    else:
                        lev = pl + alpha * ec / s
                        tr = phi * tr + beta * ec / s
                        sn = s + g_eff * ec / pl
                        season[i, s1, SD_MU] = min(max(sn, 0.1), 10.0)
                    if lev <= 1e-9:
                        lev = 1e-9
                elif shift:
                    lev = pl + eb
                    tr = 0.0
                else:
                    lev = pl + alpha * ec
                    tr = phi * tr + beta * ec
                    if code == HW_ADD:
                        season[i, s1, SD_HW] = s + g_eff * ec
                    elif code == DSHW:
                        season[i, s1, SD_DS] = s + g_eff * ec
                        gamw = cp[k, P_GAMMAW]
                        gw_eff = gamw
                        if cyc_w >= 1 and gamw * (cyc_w + 1) < 1.0:
                            gw_eff = 1.0 / (cyc_w + 1.0)
                        week[i, s2, WK_W] = w + gw_eff * ec
                cst[i, k, C_LEV] = lev
                cst[i, k, C_TR] = tr
                cst[i, k, C_ARE] = 0.0 if shift else ec
            week[i, s2, WK_Y] = ys
            if finite:
                fst[i, F_YLAST] = ys
                ist[i, I_MISS] = 0
                ist[i, I_NOBS] += 1
            else:
                ist[i, I_MISS] += 1
            ist[i, I_STEP] = st
            ist[i, I_SINCE] += 1
            # --- issue the forecasts of tracked horizon g = st % G (as _bank_forecast at one h)
            g = st % g_n
            h = gi[g, GI_H]
            slot = gi[g, GI_OFF] + (st // g_n) % gi[g, GI_LEN]
            ylast = fst[i, F_YLAST]
            positive = fst[i, F_MINY] > 0.0
            rng = fst[i, F_MAXY] - fst[i, F_MINY]
            band_lo = fst[i, F_MINY] - rng
            band_hi = fst[i, F_MAXY] + rng
            f1 = (st + h) % m1
            f2 = (st + h) % m2
            jd = st + h - m1 * ((h + m1 - 1) // m1)
            jw = st + h - m2 * ((h + m2 - 1) // m2)
            for k in range(k_n):
                code = ctype[k]
                if code == NAIVE:
                    f = ylast
                elif code == SNAIVE_DAY:
                    f = week[i, jd % m2, WK_Y] if jd >= start else np.nan
                elif code == SNAIVE_WEEK:
                    f = week[i, f2, WK_Y] if jw >= start else np.nan
                else:
                    f = cst[i, k, C_LEV] + phih[k, h] * cst[i, k, C_TR]
                    if code != HOLT:
                        corr = arp[k, h] * cst[i, k, C_ARE]
                        if code == HW_ADD:
                            f = f + season[i, f1, SD_HW] + corr
                        elif code == DSHW:
                            w = week[i, f2, WK_W]
                            if math.isnan(w):
                                w = 0.0
                            f = f + season[i, f1, SD_DS] + w + corr
                        elif code == HW_MUL:
                            f = f * season[i, f1, SD_MU] + corr if positive else np.nan
                        else:
                            f = np.nan
                if f < band_lo:
                    f = band_lo
                elif f > band_hi:
                    f = band_hi
                fk[k] = f
            _weights(loss, cst, i, g, par, ipar, wk)
            for k in range(k_n):
                pend[i, slot, k] = fk[k]
            pend[i, slot, k_n] = _combine(fk, wk, fb1, fb2)


@kernel
def update(idx, val, ts, skip, ist, fst, cst, season, week, loss, qst, pend, ctype, cp, gi,
           phih, arp, par, ipar):
    """Feed a batch of readings in arrival order (the hot path: one call per batch).

    ``idx`` dense sensor indices, ``val`` values (NaN = missing), ``ts`` epoch milliseconds,
    ``skip`` nonzero where the anomaly engine flagged the reading (treated as missing, so a
    flagged point never moves the state). Everything else is state, updated in place.
    """
    k_n = ctype.shape[0]
    fkm = np.empty((1, k_n))
    wk = np.empty(k_n)
    _ingest_rows(0, idx.shape[0], idx, val, ts, skip, ctype, cp, cst, season, week, ist, fst,
                 loss, qst, pend, gi, phih, arp, par, ipar, fkm, wk)


@kernel
def _forecast_one(i, r, ist, fst, cst, season, week, loss, qst, ctype, gi, hmap, hfrac, phih,
                  arp, par, ipar, out, lo, hi, fkm, wg, wk, qg):
    """Forecasts ``t+1 .. t+H`` of sensor ``i`` into row ``r`` of ``out``/``lo``/``hi``."""
    hor = out.shape[1]
    t = ist[i, I_STEP]
    if t < 0 or ist[i, I_NOBS] < ipar[IP_WARM]:
        out[r, :] = np.nan
        lo[r, :] = np.nan
        hi[r, :] = np.nan
        return
    k_n = ctype.shape[0]
    g_n = gi.shape[0]
    _bank_forecast(i, t, 1, hor, ctype, cst, season, week, ist, fst, phih, arp, fkm)
    # normalised weights per tracked horizon (row sums 1, or all 0 = use the fallback)
    for g in range(g_n):
        _weights(loss, cst, i, g, par, ipar, wk)
        tot = 0.0
        for k in range(k_n):
            tot += wk[k]
        for k in range(k_n):
            wg[g, k] = wk[k] / tot if tot > 0.0 else 0.0
        # interval quantiles (error units) per tracked horizon; NaN = no evidence yet
        if qst[i, g, Q_CNT] > 0.0:
            qg[g, 0] = qst[i, g, Q_LO] * qst[i, g, Q_MAD]
            qg[g, 1] = qst[i, g, Q_HI] * qst[i, g, Q_MAD]
        else:
            qg[g, 0] = np.nan
            qg[g, 1] = np.nan
    miss = ist[i, I_MISS]
    nonneg = ipar[IP_NONNEG] != 0 and fst[i, F_MINY] >= 0.0
    for h in range(1, hor + 1):
        ga = hmap[h, 0]
        gb = hmap[h, 1]
        fr = hfrac[h]
        for k in range(k_n):
            wk[k] = (1.0 - fr) * wg[ga, k] + fr * wg[gb, k]
        yh = _combine(fkm[h - 1], wk, ipar[IP_FB1], ipar[IP_FB2])
        # interval: a run of missing steps counts as extra horizon (wider interval)
        he = h + miss
        qa = -1
        qb = -1
        for g in range(g_n):
            if not math.isnan(qg[g, 0]):
                if gi[g, GI_H] <= he:
                    qa = g
                if gi[g, GI_H] >= he and qb < 0:
                    qb = g
        if qa >= 0 and qb >= 0:
            if qa == qb:
                ql = qg[qa, 0]
                qh = qg[qa, 1]
            else:
                f2 = (he - gi[qa, GI_H]) / (gi[qb, GI_H] - gi[qa, GI_H])
                ql = (1.0 - f2) * qg[qa, 0] + f2 * qg[qb, 0]
                qh = (1.0 - f2) * qg[qa, 1] + f2 * qg[qb, 1]
        elif qa >= 0 or qb >= 0:
            g = qa if qa >= 0 else qb
            sc = math.sqrt(he / gi[g, GI_H])
            ql = sc * qg[g, 0]
            qh = sc * qg[g, 1]
        else:
            ql = np.nan
            qh = np.nan
        a = yh + ql
        b = yh + qh
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
def forecast(idx, ist, fst, cst, season, week, loss, qst, ctype, gi, hmap, hfrac, phih, arp,
             par, ipar, out, lo, hi):
    """Write forecasts for steps ``last+1 .. last+H`` of sensors ``idx`` into rows of ``out``.

    ``lo``/``hi`` get the tracked-quantile interval (80 % by default), widened by treating a
    run of ``miss`` missing steps as ``miss`` extra steps of horizon. Rows are NaN while a
    sensor is warming up. Horizons between tracked ones interpolate weights and quantiles.
    """
    k_n = ctype.shape[0]
    g_n = gi.shape[0]
    fkm = np.empty((out.shape[1], k_n))
    wg = np.empty((g_n, k_n))
    wk = np.empty(k_n)
    qg = np.empty((g_n, 2))
    for r in range(idx.shape[0]):
        _forecast_one(idx[r], r, ist, fst, cst, season, week, loss, qst, ctype, gi, hmap, hfrac,
                      phih, arp, par, ipar, out, lo, hi, fkm, wg, wk, qg)


@kernel
def run_series(val, ts, skip, ist, fst, cst, season, week, loss, qst, pend, ctype, cp, gi, hmap,
               hfrac, phih, arp, par, ipar, out, lo, hi):
    """One series (sensor 0), row by row: update with row ``r`` then forecast into row ``r``.

    The batch (file) path; equal to calling :func:`update` and :func:`forecast` per row.
    """
    k_n = ctype.shape[0]
    g_n = gi.shape[0]
    fk1 = np.empty((1, k_n))
    fkm = np.empty((out.shape[1], k_n))
    wg = np.empty((g_n, k_n))
    wk = np.empty(k_n)
    qg = np.empty((g_n, 2))
    idx0 = np.zeros(val.shape[0], dtype=np.int64)
    for r in range(val.shape[0]):
        _ingest_rows(r, r + 1, idx0, val, ts, skip, ctype, cp, cst, season, week, ist, fst, loss,
                     qst, pend, gi, phih, arp, par, ipar, fk1, wk)
        _forecast_one(0, r, ist, fst, cst, season, week, loss, qst, ctype, gi, hmap, hfrac, phih,
                      arp, par, ipar, out, lo, hi, fkm, wg, wk, qg)
