"""Robust innovations (the live asset detectors' input): trend-free, noise-standardised,
a step stays visible then becomes normal; chunking and JIT do not change the result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from models.anomaly import innovation_kernel as ik

REPO = Path(__file__).resolve().parents[3]
PERIOD_S = 5.0


def _state(n_cols: int) -> np.ndarray:
    st = np.zeros((ik.N_STATE, n_cols))
    st[ik.S_Z] = np.nan
    return st


def _run(
    values: np.ndarray, tau_s: float = 300.0, spread_tau_s: float = 1800.0, chunks: int = 1
) -> np.ndarray:
    """Innovations of one column, reading by reading (``chunks`` kernel calls)."""
    n = values.size
    alpha = np.array([1.0 - np.exp(-PERIOD_S / tau_s)])
    beta = np.array([1.0 - np.exp(-PERIOD_S / spread_tau_s)])
    st = _state(1)
    out = np.full(n, np.nan)
    cols = np.zeros(1, np.int64)
    edges = np.linspace(0, n, chunks + 1).astype(int)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        for r in range(lo, hi):  # one reading per call keeps the per-reading innovation
            ik.robust_innovations(
                cols,
                values[r : r + 1],
                np.array([r * 5000], np.int64),
                alpha,
                beta,
                3.0,
                1e-6,
                12,
                st,
            )
            out[r] = st[ik.S_Z, 0]
    return out


def test_a_steady_trend_with_noise_gives_unit_innovations() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(20_000)
    x = 100.0 + 0.02 * t + 0.5 * rng.normal(size=t.size)  # 0.02 per reading = 4 σ per 100
    z = _run(x)[2000:]
    assert abs(float(np.mean(z))) < 0.1
    assert 0.85 < float(np.std(z)) < 1.2


def test_noise_that_grows_with_the_day_stays_standardised() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(17_280)  # one day of 5-s readings
    sd = 0.2 + 0.6 * np.sin(np.pi * t / t.size) ** 2  # 4x the night's noise at midday
    day = 50.0 + 10.0 * np.sin(2 * np.pi * t / t.size)
    z = _run(day + sd * rng.normal(size=t.size))
    for seg in np.array_split(z[2000:], 6):
        assert 0.8 < float(np.std(seg)) < 1.25
    # a spread fitted once at night would see midday noise at several sigmas
    assert float(np.max(np.abs(z[2000:]))) < 6.5


def test_a_step_is_a_large_innovation_then_the_new_normal() -> None:
    rng = np.random.default_rng(2)
    x = 10.0 + 0.1 * rng.normal(size=6000)
    x[3000:] += 5.0  # 50 σ
    z = _run(x)
    assert z[3000] > 30.0
    assert np.all(z[3000:3060] > 3.0)  # visible for the first five minutes at least
    assert float(np.std(z[5000:])) < 1.5  # absorbed within about 2 h


def test_chunking_does_not_change_the_state() -> None:
    rng = np.random.default_rng(3)
    n_cols, n = 4, 3000
    cols = rng.integers(0, n_cols, n).astype(np.int64)
    vals = rng.normal(size=n) + cols * 10.0
    vals[::97] = np.nan
    ts = np.arange(n, dtype=np.int64) * 1000
    alpha = np.full(n_cols, 0.05)
    beta = np.full(n_cols, 0.005)
    whole = _state(n_cols)
    ik.robust_innovations(cols, vals, ts, alpha, beta, 3.0, 1e-6, 12, whole)
    parts = _state(n_cols)
    for lo, hi in ((0, 1), (1, 700), (700, 701), (701, n)):
        ik.robust_innovations(
            cols[lo:hi], vals[lo:hi], ts[lo:hi], alpha, beta, 3.0, 1e-6, 12, parts
        )
    np.testing.assert_array_equal(whole, parts)
    assert np.all(whole[ik.S_COUNT] == np.bincount(cols[np.isfinite(vals)], minlength=n_cols))


_NOJIT = """
import json, sys
import numpy as np
sys.path.insert(0, {repo!r})
from models.anomaly import innovation_kernel as ik
rng = np.random.default_rng(5)
cols = rng.integers(0, 3, 500).astype(np.int64)
vals = rng.normal(size=500) + np.linspace(0, 20, 500)
vals[250:] += 8.0 * (cols[250:] == 1)
st = np.zeros((ik.N_STATE, 3)); st[ik.S_Z] = np.nan
ik.robust_innovations(cols, vals, np.arange(500, dtype=np.int64), np.full(3, 0.05),
                      np.full(3, 0.01), 3.0, 1e-3, 12, st)
print(json.dumps(np.nan_to_num(st, nan=-999.0).tolist()))
"""


def test_jit_equals_no_jit() -> None:
    out = []
    for disable in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable)
        proc = subprocess.run(
            [sys.executable, "-c", _NOJIT.format(repo=str(REPO))],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        )
        out.append(np.array(json.loads(proc.stdout)))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12, atol=1e-12)
