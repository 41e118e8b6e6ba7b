"""Numba kernels of the multivariate (PCA / dynamic PCA) asset detector.

Pure functions over arrays and scalars: the :class:`~models.anomaly.multivariate.AssetDetector`
owns the state arrays and passes them in; every kernel writes into arrays it is given. The
row kernel costs O(q^2) per row with q = p * (lags + 1); only the periodic re-decomposition of
a gated recursive update costs O(q^3), once every ``refresh`` accepted rows.

Index conventions (the class builds these arrays):

``fpar`` (float64): 0 tau2 (T^2 normaliser), 1 delta2 (SPE normaliser), 2 lim_phi (limit of the
combined index), 3 lim_ewma (limit of the index of the EWMA-filtered vector), 4 lam (EWMA
weight), 5 forget (weight of a gated covariance update, 0 = frozen model), 6 eig_floor.

``ipar`` (int64): 0 lags, 1 n_components, 2 refresh, 3 raise_after, 4 clear_after,
5 min_vars (1: the alarm follows the statistic; 2: it follows the statistic left after the best
reconstruction of any single variable, so a change confined to one variable never alarms).

``ctr`` (int64 state): 0 rows held in the lag ring, 1 ring head, 2 accepted rows since the last
re-decomposition, 3 run of rows over the limit, 4 run of rows under the limit, 5 alarm latch,
6 EWMA started.

>>> import numpy as np
>>> D = np.eye(2); Ct = np.zeros((2, 2)); x = np.array([3.0, 4.0])
>>> float(quad_form(D, x))
25.0
"""

from __future__ import annotations

import numpy as np

from models.jit import kernel

F_TAU2 = 0
F_DELTA2 = 1
F_LIM_PHI = 2
F_LIM_EWMA = 3
F_LAM = 4
F_FORGET = 5
F_EIG_FLOOR = 6
N_FPAR = 7

I_LAGS = 0
I_NCOMP = 1
I_REFRESH = 2
I_RAISE = 3
I_CLEAR = 4
I_MINVARS = 5
N_IPAR = 6

C_FILLED = 0
C_HEAD = 1
C_SINCE = 2
C_ABOVE = 3
C_BELOW = 4
C_ALARM = 5
C_EWMA_ON = 6
N_CTR = 7


@kernel
def quad_form(m: np.ndarray, x: np.ndarray) -> float:
    """Return x' m x for a square matrix ``m``."""
    q = x.shape[0]
    acc = 0.0
    for i in range(q):
        row = 0.0
        for j in range(q):
            row += m[i, j] * x[j]
        acc += x[i] * row
    return acc


@kernel
def best_single_gain(
    phi_mat: np.ndarray, g: np.ndarray, p: int, depth: int, m: np.ndarray, b: np.ndarray
) -> float:
    """Largest drop of the index ``x' Phi x`` from reconstructing one variable (all its lags).

    With ``g = Phi x`` and ``J`` a variable's columns (``j, j + p, ...``), the best value of
    the index over the ``J`` entries of ``x`` is lower by ``g_J' (Phi_JJ)^-1 g_J`` (Alcala &
    Qin's reconstruction). ``m[depth, depth]`` and ``b[depth]`` are scratch.
    """
    best = 0.0
    for j in range(p):
        for a in range(depth):
            b[a] = g[j + a * p]
            for c in range(depth):
                m[a, c] = phi_mat[j + a * p, j + c * p]
        # solve m y = b in place (Gaussian elimination; m is symmetric positive definite)
        for k in range(depth):
            piv = m[k, k]
            if piv <= 0.0:
                piv = 1e-300
            for r in range(k + 1, depth):
                f = m[r, k] / piv
                for c in range(k, depth):
                    m[r, c] -= f * m[k, c]
                b[r] -= f * b[k]
        gain = 0.0
        for k in range(depth - 1, -1, -1):
            acc = b[k]
            for c in range(k + 1, depth):
                acc -= m[k, c] * b[c]
            piv = m[k, k] if m[k, k] > 0.0 else 1e-300
            b[k] = acc / piv
        for a in range(depth):
            gain += g[j + a * p] * b[a]
        if gain > best:
            best = gain
    return best


@kernel
def rebuild_model(
    cov: np.ndarray,
    n_comp: int,
    tau2: float,
    delta2: float,
    eig_floor: float,
    d_mat: np.ndarray,
    ct_mat: np.ndarray,
    phi_mat: np.ndarray,
    eigvals: np.ndarray,
) -> None:
    """Decompose ``cov`` and write the T^2, SPE and combined-index matrices.

    D = P diag(1/lambda) P' (T^2), Ct = I - P P' (SPE), Phi = Ct/delta2 + D/tau2 (Yue & Qin's
    combined index). Eigenvalues are floored at ``eig_floor`` so a degenerate direction never
    divides by zero. ``eigvals`` receives all eigenvalues in descending order.
    """
    q = cov.shape[0]
    sym = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(sym)
    for k in range(q):
        eigvals[k] = w[q - 1 - k]
    for i in range(q):
        for j in range(q):
            d_mat[i, j] = 0.0
            ct_mat[i, j] = 1.0 if i == j else 0.0
    for k in range(n_comp):
        col = q - 1 - k
        lam = max(w[col], eig_floor)
        for i in range(q):
            vi = v[i, col]
            for j in range(q):
                vv = vi * v[j, col]
                d_mat[i, j] += vv / lam
                ct_mat[i, j] -= vv
    for i in range(q):
        for j in range(q):
            phi_mat[i, j] = ct_mat[i, j] / delta2 + d_mat[i, j] / tau2


@kernel
def score_rows(
    x: np.ndarray,
    mean: np.ndarray,
    scale: np.ndarray,
    ring: np.ndarray,
    ctr: np.ndarray,
    center: np.ndarray,
    cov: np.ndarray,
    ewma_vec: np.ndarray,
    d_mat: np.ndarray,
    ct_mat: np.ndarray,
    phi_mat: np.ndarray,
    eigvals: np.ndarray,
    fpar: np.ndarray,
    ipar: np.ndarray,
    out_t2: np.ndarray,
    out_spe: np.ndarray,
    out_stat: np.ndarray,
    out_contrib: np.ndarray,
    out_top: np.ndarray,
    out_alarm: np.ndarray,
) -> None:
    """Score rows of ``x[n, p]`` in arrival order, updating the state arrays in place.

    Per row: standardise, push into the lag ring, build the lag-stacked centred vector
    (length q = p*(lags+1)), compute T^2, SPE and the combined index phi of the row and of its
    EWMA-filtered vector, and take the statistic as max(phi/lim_phi, phi_ewma/lim_ewma)
    (1.0 = at the limit). Reconstruction-based contributions (Alcala & Qin 2009) of the
    dominant index, summed over lags, give per-variable shares and the top 3 variables.
    Hysteresis: the alarm latches after ``raise_after`` rows over the limit and clears after
    ``clear_after`` rows under it. The model (centre, covariance, matrices) adapts only on
    rows under the limit while no alarm is latched.

    Warm-up (lag ring not yet full) and rows holding NaN are neutral: statistic 0, top -1,
    state unchanged apart from the ring filling.
    """
    n, p = x.shape
    lags = ipar[I_LAGS]
    depth = lags + 1
    q = p * depth
    tau2 = fpar[F_TAU2]
    delta2 = fpar[F_DELTA2]
    lim_phi = fpar[F_LIM_PHI]
    lim_ewma = fpar[F_LIM_EWMA]
    lam = fpar[F_LAM]
    forget = fpar[F_FORGET]
    z = np.empty(p)
    xa = np.empty(q)
    px = np.empty(q)
    pw = np.empty(q)
    share = np.empty(p)
    m_small = np.empty((depth, depth))
    b_small = np.empty(depth)
    for r in range(n):
        out_top[r, 0] = -1
        out_top[r, 1] = -1
        out_top[r, 2] = -1
        for j in range(p):
            out_contrib[r, j] = 0.0
        out_t2[r] = 0.0
        out_spe[r] = 0.0
        out_stat[r] = 0.0
        bad = False
        for j in range(p):
            v = x[r, j]
            if np.isnan(v):
                bad = True
                break
            z[j] = (v - mean[j]) / scale[j]
        if bad:
            out_alarm[r] = ctr[C_ALARM]
            continue
        head = (ctr[C_HEAD] + 1) % depth
        ctr[C_HEAD] = head
        for j in range(p):
            ring[head, j] = z[j]
        if ctr[C_FILLED] < depth:
            ctr[C_FILLED] += 1
        if ctr[C_FILLED] < depth:
            out_alarm[r] = ctr[C_ALARM]
            continue
        # lag-stacked centred vector: block k holds the row k steps back
        for k in range(depth):
            slot = (head - k + depth) % depth
            for j in range(p):
                xa[k * p + j] = ring[slot, j] - center[k * p + j]
        if ctr[C_EWMA_ON] == 0:
            for i in range(q):
                ewma_vec[i] = 0.0
            ctr[C_EWMA_ON] = 1
        for i in range(q):
            ewma_vec[i] = (1.0 - lam) * ewma_vec[i] + lam * xa[i]
        t2 = quad_form(d_mat, xa)
        spe = quad_form(ct_mat, xa)
        phi = 0.0
        phi_w = 0.0
        for i in range(q):
            a1 = 0.0
            a2 = 0.0
            for j in range(q):
                a1 += phi_mat[i, j] * xa[j]
                a2 += phi_mat[i, j] * ewma_vec[j]
            px[i] = a1
            pw[i] = a2
            phi += xa[i] * a1
            phi_w += ewma_vec[i] * a2
        s1 = phi / lim_phi
        s2 = phi_w / lim_ewma
        stat = s1 if s1 >= s2 else s2
        out_t2[r] = t2
        out_spe[r] = spe
        out_stat[r] = stat
        # reconstruction-based contributions of the dominant index, folded over lags
        for j in range(p):
            share[j] = 0.0
        for i in range(q):
            dii = phi_mat[i, i]
            if dii > 0.0:
                g = px[i] if s1 >= s2 else pw[i]
                share[i % p] += g * g / dii
        tot = 0.0
        for j in range(p):
            tot += share[j]
        if tot > 0.0:
            for j in range(p):
                out_contrib[r, j] = share[j] / tot
        for t in range(3):
            best = -1
            bv = -1.0
            for j in range(p):
                if share[j] > bv:
                    taken = False
                    for u in range(t):
                        if out_top[r, u] == j:
                            taken = True
                    if not taken:
                        bv = share[j]
                        best = j
            if t < p:
                out_top[r, t] = best
        # hysteresis, on the statistic left after the best single-variable reconstruction
        gate = stat
        if ipar[I_MINVARS] >= 2:
            g1 = (phi - best_single_gain(phi_mat, px, p, depth, m_small, b_small)) / lim_phi
            g2 = (phi_w - best_single_gain(phi_mat, pw, p, depth, m_small, b_small)) / lim_ewma
            gate = g1 if g1 >= g2 else g2
        if gate >= 1.0:
            ctr[C_ABOVE] += 1
            ctr[C_BELOW] = 0
        else:
            ctr[C_BELOW] += 1
            ctr[C_ABOVE] = 0
        if ctr[C_ALARM] == 0 and ctr[C_ABOVE] >= ipar[I_RAISE]:
            ctr[C_ALARM] = 1
        elif ctr[C_ALARM] == 1 and ctr[C_BELOW] >= ipar[I_CLEAR]:
            ctr[C_ALARM] = 0
        out_alarm[r] = ctr[C_ALARM]
        # gated recursive update: never learn from rows over the limit or under an alarm
        if forget > 0.0 and stat < 1.0 and ctr[C_ALARM] == 0:
            # EW mean/covariance: C <- (1-f) C + f (1-f) d d', d = x - old centre
            ff = forget * (1.0 - forget)
            for i in range(q):
                center[i] += forget * xa[i]
            for i in range(q):
                for j in range(q):
                    cov[i, j] = (1.0 - forget) * cov[i, j] + ff * xa[i] * xa[j]
            ctr[C_SINCE] += 1
            if ctr[C_SINCE] >= ipar[I_REFRESH]:
                ctr[C_SINCE] = 0
                rebuild_model(
                    cov,
                    ipar[I_NCOMP],
                    tau2,
                    delta2,
                    fpar[F_EIG_FLOOR],
                    d_mat,
                    ct_mat,
                    phi_mat,
                    eigvals,
                )
