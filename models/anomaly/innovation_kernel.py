"""Numba kernel: each sensor's standardised innovation against its own robust, trend-following
baseline (the input of the live asset detectors, :mod:`models.anomaly.live_assets`).

Why: the sensors of one asset share slow cycles (the day's demand, the ambient temperature, a
tank filling) whose level *and* noise change through the day, so a model of raw values fitted
on a short warm-up does not hold a few hours later. A sensor's innovation — its reading minus
what its own recent past predicts, in units of its own recent noise — stays stationary through
the day, while a leak or a burst (a change within minutes) is a large innovation on several
sensors at once.

Per reading ``v`` of column ``c`` (readings in time order):

* prediction ``a + b`` from Brown's double exponential smoothing (``s1 = EW(x)``,
  ``s2 = EW(s1)``, level ``a = 2 s1 - s2``, slope ``b = α/(1-α) (s1 - s2)``), so a steady
  trend leaves no innovation;
* spread ``σ = 1.2533 · EW(|d|)`` (mean absolute innovation → σ for Gaussian noise), floored
  at ``rel_floor · |a|``; innovation ``z = d / σ``;
* robust (Huber) updates: the smoothing sees ``prediction + clip(d, ±k σ)`` and the spread
  ``min(|d|, k σ)``, so one wild reading cannot drag the baseline and a lasting change is
  absorbed gradually (it stays visible for a while, then becomes the new normal).

The class owns the per-column state arrays; the kernel writes into them.

>>> import numpy as np
>>> c = np.zeros(40, np.int64)
>>> v = np.r_[np.ones(30), np.full(10, 5.0)] + 0.01 * np.sin(np.arange(40))
>>> st = np.zeros((N_STATE, 1)); st[S_Z] = np.nan
>>> robust_innovations(c, v, np.arange(40, dtype=np.int64), np.array([0.1]), np.array([0.05]),
...                    3.0, 1e-6, 5, st)
>>> bool(st[S_Z, 0] > 10)
True
"""

from __future__ import annotations

import numpy as np

from models.jit import kernel

#: rows of the state array (one column per sensor column)
S_S1 = 0  # EW of the (Huber-clipped) readings
S_S2 = 1  # EW of S_S1
S_MAD = 2  # EW mean absolute innovation
S_COUNT = 3  # readings seen
S_Z = 4  # latest standardised innovation (NaN until ``min_count`` readings)
S_TS = 5  # time of the latest reading (epoch ms, as float)
N_STATE = 6

#: mean absolute deviation → standard deviation for Gaussian noise (sqrt(pi / 2))
MAD_TO_SD = 1.2533141373155003


@kernel
def robust_innovations(
    cols: np.ndarray,
    vals: np.ndarray,
    ts: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    huber_k: float,
    rel_floor: float,
    min_count: int,
    state: np.ndarray,
) -> None:
    """Advance each column's baseline by the readings ``(cols, vals, ts)`` (time-ordered).

    ``alpha`` / ``beta`` per column: smoothing weights of the baseline and of the spread per
    reading. ``state[N_STATE, n_cols]`` is updated in place; ``state[S_Z, c]`` holds the
    innovation of column ``c``'s latest reading (NaN while the column has fewer than
    ``min_count`` readings). Non-finite values are skipped.
    """
    for r in range(cols.shape[0]):
        c = cols[r]
        v = vals[r]
        if not np.isfinite(v):
            continue
        n = state[S_COUNT, c]
        state[S_TS, c] = float(ts[r])
        if n == 0.0:
            state[S_S1, c] = v
            state[S_S2, c] = v
            state[S_MAD, c] = 0.0
            state[S_COUNT, c] = 1.0
            state[S_Z, c] = np.nan
            continue
        a = alpha[c]
        s1 = state[S_S1, c]
        s2 = state[S_S2, c]
        level = 2.0 * s1 - s2
        pred = level + a / (1.0 - a) * (s1 - s2)
        d = v - pred
        mad = state[S_MAD, c]
        sd = max(MAD_TO_SD * mad, rel_floor * abs(level), 1e-12)
        z = d / sd
        state[S_Z, c] = z if n >= min_count else np.nan
        # Huber-clipped updates (no clipping until the spread is known)
        lim = huber_k * sd if n >= min_count else np.inf
        dc = min(max(d, -lim), lim)
        x = pred + dc
        s1 = s1 + a * (x - s1)
        state[S_S1, c] = s1
        state[S_S2, c] = s2 + a * (s1 - s2)
        g = max(beta[c], 1.0 / n)  # running mean at first, then EW
        state[S_MAD, c] = mad + g * (min(abs(d), lim) - mad)
        state[S_COUNT, c] = n + 1.0
