"""The numba kernel of the univariate streaming detector: one call scores a whole batch.

Why this shape: thousands of sensors arrive interleaved; keeping every sensor's state in rows of
contiguous arrays and looping over the batch in arrival order costs O(1) per point with no
allocation, and the same function serves the live stream and batch files (so they agree).

Per point (all causal, the score at t uses data up to t):

1. evidence ``r1``: one-step forecast surprise, robust z of the residual against an EW level
   (optionally blended with an hour-of-week seasonal profile), mapped to ``1 - exp(-z^2/2s^2)``;
2. evidence ``r2``: sequence surprise, ``1 - P(symbol | last k symbols)`` from hashed n-gram
   counts over values quantised with the running range (the CAD OSE / HTM idea), averaged over
   orders 0..K;
3. HTM-style anomaly likelihood of the 10-point mean of ``max(r1, r2)`` against an EW Gaussian,
   on a log scale (0.5 = tail probability 1e-5), with the "red filter";
4. a new extreme beyond the running range by a margin scores 1;
5. after an alarm the output is 0 for a refractory period, and alarms do not teach the models.

Parameters are the :class:`~models.anomaly.config.DetectorConfig` vector ``p``.
"""

from __future__ import annotations

import math

import numpy as np

from models.jit import kernel

# parameter vector indices (DetectorConfig field order)
P_WARMUP = 0
P_LEVELS = 1
P_ORDER = 2
P_TABLE = 3
P_SMOOTH = 4
P_LEVEL_A = 5
P_MAD_A = 6
P_SCALE = 7
P_SHORT = 8
P_LIK_WIN = 9
P_LIK_MIN = 10
P_MEAN_FLOOR = 11
P_VAR_FLOOR = 12
P_RANGE_BREAK = 13
P_REFRACTORY = 14
P_ALARM = 15
P_STUCK = 16
P_SPIKE = 17
P_SEASON_MS = 18
P_SEASON_SLOTS = 19
P_SEASON_A = 20
P_SEASON_W = 21
P_USE_R1 = 22
P_USE_R2 = 23
P_TWO_SIDED = 24
P_LIK_SKIP = 25
P_FREEZE = 26
P_CTX_MODE = 27
P_DAY_SLOTS = 28
P_USE_R3 = 29
P_COMBINE = 30
P_LIK_MODE = 31
P_DS_BLOCK = 32
P_USE_R4 = 33
P_DS_ORDER = 34
P_LIK_WIN2 = 35

# columns of the float state ``fs``
F_N = 0  # values seen (not NaN)
F_LO = 1
F_HI = 2
F_LEVEL = 3
F_MAD = 4
F_LAST = 5
F_RUN = 6
F_LIK_N = 7
F_LIK_MU = 8
F_LIK_VAR = 9
F_PREV_RED = 10
F_REFR = 11
F_RING_SUM = 12
F_RING_HEAD = 13
F_HIST = 14  # last symbols packed in base n_levels, most recent lowest
F_PREV_X = 15
F_EWS = 16  # smoothed value (EW, 1/D)
F_BLK_SUM = 17
F_BLK_N = 18
F_BHIST = 19  # last block symbols packed
F_NBLK = 20
F_LIK_MU2 = 21  # slow likelihood Gaussian
F_LIK_VAR2 = 22
N_FSTATE = 23

FAULT_NONE = 0
FAULT_DROPOUT = 1
FAULT_STUCK = 2
FAULT_SPIKE = 3

LOG_EPS = math.log(1e-10)


@kernel
def _cell(order: int, key: int, mask: int) -> int:
    """Hash (order, key) to a table cell (splitmix-style mixing of a 64-bit integer)."""
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(order) * np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(29)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(32)
    return int(h & np.uint64(mask))


@kernel
def score_kernel(
    idx: np.ndarray,
    val: np.ndarray,
    ts: np.ndarray,
    p: np.ndarray,
    fs: np.ndarray,
    ring: np.ndarray,
    counts: np.ndarray,
    season: np.ndarray,
    season_n: np.ndarray,
    out_score: np.ndarray,
    out_fault: np.ndarray,
) -> None:
    """Score ``val`` (sensor ``idx``, time ``ts`` in epoch ms) in arrival order, in place.

    State arrays (rows = dense sensor index): ``fs`` float64[N, 16], ``ring`` float64[N, W'],
    ``counts`` int32[N, T], ``season``/``season_n`` float64[N, S].
    """
    warmup = p[P_WARMUP]
    n_levels = int(p[P_LEVELS])
    max_order = int(p[P_ORDER])
    mask = int(p[P_TABLE]) - 1
    smooth = p[P_SMOOTH]
    level_a = p[P_LEVEL_A]
    mad_a = p[P_MAD_A]
    scale = p[P_SCALE]
    short = int(p[P_SHORT])
    lik_win = p[P_LIK_WIN]
    lik_min = p[P_LIK_MIN]
    mean_floor = p[P_MEAN_FLOOR]
    var_floor = p[P_VAR_FLOOR]
    range_break = p[P_RANGE_BREAK]
    refractory = p[P_REFRACTORY]
    alarm = p[P_ALARM]
    stuck_len = p[P_STUCK]
    spike_z = p[P_SPIKE]
    slot_ms = int(p[P_SEASON_MS]) // int(p[P_SEASON_SLOTS])
    n_slots = int(p[P_SEASON_SLOTS])
    season_a = p[P_SEASON_A]
    season_w = p[P_SEASON_W]
    use_r1 = p[P_USE_R1]
    use_r2 = p[P_USE_R2]
    two_sided = p[P_TWO_SIDED] > 0.0
    lik_skip = p[P_LIK_SKIP]
    freeze = p[P_FREEZE] > 0.0
    ctx_mode = int(p[P_CTX_MODE])
    day_slots = int(p[P_DAY_SLOTS])
    day_ms = 86_400_000 // max(day_slots, 1)
    use_r3 = p[P_USE_R3]
    combine = int(p[P_COMBINE])
    lik_mode = int(p[P_LIK_MODE])
    ds_block = int(p[P_DS_BLOCK])
    use_r4 = p[P_USE_R4]
    ds_order = int(p[P_DS_ORDER])
    lik_win2 = p[P_LIK_WIN2]
    ds_mod = 1
    for _ in range(ds_order):
        ds_mod *= n_levels
    hist_mod = 1
    for _ in range(max_order):
        hist_mod *= n_levels

    for j in range(idx.shape[0]):
        i = idx[j]
        x = val[j]
        if math.isnan(x) or math.isinf(x):
            out_score[j] = 0.0
            out_fault[j] = FAULT_DROPOUT
            continue
        st = fs[i]
        n = st[F_N]
        fault = FAULT_NONE

        # --- stuck sensor: a run of identical values
        if n > 0 and x == st[F_LAST]:
            st[F_RUN] += 1.0
        else:
            st[F_RUN] = 1.0
        st[F_LAST] = x
        if st[F_RUN] >= stuck_len:
            fault = FAULT_STUCK

        # --- running range and symbol
        if n == 0:
            st[F_LO] = x
            st[F_HI] = x
            st[F_LEVEL] = x
            st[F_MAD] = 0.0
        lo = st[F_LO]
        hi = st[F_HI]
        rng = hi - lo
        broke = False
        if n >= warmup and rng > 0.0:
            if x > hi + range_break * rng or x < lo - range_break * rng:
                broke = True
        if rng > 0.0:
            s = int((x - lo) / rng * n_levels)
            if s < 0:
                s = 0
            if s >= n_levels:
                s = n_levels - 1
        else:
            s = n_levels // 2

        # --- r1: forecast surprise against level (+ seasonal profile)
        slot = int((ts[j] // slot_ms) % n_slots)
        pred = st[F_LEVEL]
        if season_w > 0.0 and season_n[i, slot] > 0.0:
            pred = (1.0 - season_w) * pred + season_w * season[i, slot]
        res = x - pred
        mad = st[F_MAD]
        floor = 1e-3 * rng + 1e-12
        if mad < floor:
            mad = floor
        z = abs(res) / (1.2533 * mad)
        r1 = 1.0 - math.exp(-0.5 * (z / scale) ** 2)
        if n >= warmup and z > spike_z:
            if fault == FAULT_NONE:
                fault = FAULT_SPIKE

        # --- r2: sequence surprise over orders 0..K
        hist = int(st[F_HIST])
        known = int(min(n, max_order))
        r2 = 0.0
        ctx = 0
        pw = 1
        for k in range(known + 1):
            if k > 0:
                ctx = hist % (pw * n_levels)
                pw *= n_levels
            c_ctx = counts[i, _cell(2 * k, ctx, mask)]
            c_pair = counts[i, _cell(2 * k + 1, ctx * n_levels + s, mask)]
            if ctx_mode == 0:
                r2 += 1.0 - (c_pair + smooth) / (c_ctx + smooth * n_levels)
            elif ctx_mode == 1:
                r2 += 1.0 / (1.0 + c_pair)
            else:
                best = 0
                for s2 in range(n_levels):
                    c2 = counts[i, _cell(2 * k + 1, ctx * n_levels + s2, mask)]
                    if c2 > best:
                        best = c2
                r2 += 1.0 - (c_pair + smooth) / (best + smooth)
        r2 /= known + 1

        # --- r3: novelty of the symbol at this time of day
        r3 = 0.0
        dslot = 0
        if day_slots > 0:
            dslot = int((ts[j] // day_ms) % day_slots)
            c3 = counts[i, _cell(99, dslot * n_levels + s, mask)]
            c3t = counts[i, _cell(98, dslot, mask)]
            if ctx_mode == 1:
                r3 = 1.0 / (1.0 + c3)
            else:
                r3 = 1.0 - (c3 + smooth) / (c3t + smooth * n_levels)

        # --- r4: the smoothed level given the last block symbols (down-sampled context)
        r4 = 0.0
        bsym = 0
        bknown = 0
        bctx = 0
        ews = 0.0
        bhist = int(st[F_BHIST])
        if ds_block > 0:
            if n == 0:
                st[F_EWS] = x
            ews = st[F_EWS] + (x - st[F_EWS]) / ds_block
            if rng > 0.0:
                bsym = int((ews - lo) / rng * n_levels)
                bsym = min(max(bsym, 0), n_levels - 1)
            else:
                bsym = n_levels // 2
            bknown = int(min(st[F_NBLK], ds_order))
            bctx = bhist % ds_mod if bknown == ds_order else bhist + 7919 * bknown
            c4 = counts[i, _cell(70, bctx * n_levels + bsym, mask)]
            r4 = 1.0 / (1.0 + c4)

        if combine == 0:
            raw = use_r1 * r1
            if use_r2 * r2 > raw:
                raw = use_r2 * r2
            if use_r3 * r3 > raw:
                raw = use_r3 * r3
            if use_r4 * r4 > raw:
                raw = use_r4 * r4
        else:
            raw = (use_r1 * r1 + use_r2 * r2 + use_r3 * r3 + use_r4 * r4) / (
                use_r1 + use_r2 + use_r3 + use_r4 + 1e-12
            )

        # --- short-window mean and likelihood
        head = int(st[F_RING_HEAD])
        st[F_RING_SUM] += raw - ring[i, head]
        ring[i, head] = raw
        st[F_RING_HEAD] = (head + 1) % short
        m = st[F_RING_SUM] / min(n + 1.0, short)

        lik_n = st[F_LIK_N]
        score = 0.0
        if lik_n >= lik_min:
            mu = max(st[F_LIK_MU], mean_floor)
            sd = math.sqrt(max(st[F_LIK_VAR], var_floor))
            zz = (m - mu) / sd
            if two_sided:
                zz = abs(zz)
            q = 0.5 * math.erfc(zz / math.sqrt(2.0))
            red = q <= 1e-5
            if red and st[F_PREV_RED] > 0.0:
                q = 1e-3
            st[F_PREV_RED] = 1.0 if red else 0.0
            score = math.log(q + 1e-10) / LOG_EPS
            if lik_win2 > 0.0:
                mu2 = max(st[F_LIK_MU2], mean_floor)
                sd2 = math.sqrt(max(st[F_LIK_VAR2], var_floor))
                q2 = 0.5 * math.erfc((m - mu2) / sd2 / math.sqrt(2.0))
                score2 = math.log(q2 + 1e-10) / LOG_EPS
                if score2 < score:
                    score = score2
        if lik_mode == 1:
            score = m
        if n < warmup:
            score = 0.0
        if broke:
            score = 1.0
        flagged = score >= alarm

        # --- learning (alarms do not teach the models when freeze is on)
        learn = not (freeze and flagged)
        if n >= lik_skip:
            a = 1.0 / min(lik_n + 1.0, lik_win)
            d = m - st[F_LIK_MU]
            st[F_LIK_MU] += a * d
            st[F_LIK_VAR] = (1.0 - a) * (st[F_LIK_VAR] + a * d * d)
            st[F_LIK_N] = lik_n + 1.0
            if lik_win2 > 0.0:
                a2 = 1.0 / min(lik_n + 1.0, lik_win2)
                d2 = m - st[F_LIK_MU2]
                st[F_LIK_MU2] += a2 * d2
                st[F_LIK_VAR2] = (1.0 - a2) * (st[F_LIK_VAR2] + a2 * d2 * d2)
        if learn:
            ctx = 0
            pw = 1
            for k in range(known + 1):
                if k > 0:
                    ctx = hist % (pw * n_levels)
                    pw *= n_levels
                counts[i, _cell(2 * k, ctx, mask)] += 1
                counts[i, _cell(2 * k + 1, ctx * n_levels + s, mask)] += 1
            if ds_block > 0:
                counts[i, _cell(70, bctx * n_levels + bsym, mask)] += 1
            if day_slots > 0:
                counts[i, _cell(99, dslot * n_levels + s, mask)] += 1
                counts[i, _cell(98, dslot, mask)] += 1
        st[F_HIST] = float((hist * n_levels + s) % hist_mod)
        la = max(level_a, 1.0 / (n + 1.0))
        ma = max(mad_a, 1.0 / (n + 1.0))
        cap = 5.0 * mad
        r = res
        if not learn:
            r = min(max(res, -cap), cap)
        st[F_LEVEL] += la * r
        st[F_MAD] += ma * (min(abs(res), cap if n > 10 else abs(res)) - st[F_MAD])
        if season_n[i, slot] == 0.0:
            season[i, slot] = x
        else:
            season[i, slot] += season_a * (x - season[i, slot])
        season_n[i, slot] += 1.0
        if x < lo:
            st[F_LO] = x
        if x > hi:
            st[F_HI] = x
        st[F_PREV_X] = x
        if ds_block > 0:
            st[F_EWS] = ews
            st[F_BLK_SUM] += x
            st[F_BLK_N] += 1.0
            if st[F_BLK_N] >= ds_block:
                bm = st[F_BLK_SUM] / st[F_BLK_N]
                if rng > 0.0:
                    b = int((bm - lo) / rng * n_levels)
                    b = min(max(b, 0), n_levels - 1)
                else:
                    b = n_levels // 2
                st[F_BHIST] = float((bhist * n_levels + b) % ds_mod)
                st[F_NBLK] += 1.0
                st[F_BLK_SUM] = 0.0
                st[F_BLK_N] = 0.0
        st[F_N] = n + 1.0

        # --- refractory output
        if st[F_REFR] > 0.0:
            st[F_REFR] -= 1.0
            score = 0.0
        elif flagged:
            st[F_REFR] = refractory
        out_score[j] = score
        out_fault[j] = fault
