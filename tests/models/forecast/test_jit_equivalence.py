"""JIT == NUMBA_DISABLE_JIT=1: the compiled kernels compute exactly what the Python source says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]

SCRIPT = """
import sys
import numpy as np
from models.forecast.streaming import StreamingForecaster
rng = np.random.default_rng(3)
n = 24 * 9
t = np.arange(n)
y = 20 + 4 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, n)
y[50:53] = np.nan
y[120] = 80.0
ts = 1_700_006_400_000 + t.astype(np.int64) * 3_600_000
ts[150:] += 5 * 3_600_000
m = StreamingForecaster(2, 3600, 4)
m.update_batch(np.ones(100, np.int64), y[:100] * 2, ts[:100])
series = np.stack(m.run_series(y, ts))
other = np.stack(m.forecast([1]))
np.savez(sys.argv[1], series=series, other=other)
"""


def _run(tmp_path: Path, disable: bool) -> dict[str, np.ndarray]:
    env = dict(os.environ)
    env["NUMBA_DISABLE_JIT"] = "1" if disable else "0"
    env.setdefault("NUMBA_CACHE_DIR", str(REPO / ".numba_cache"))
    env["PYTHONPATH"] = str(REPO)
    target = tmp_path / f"out_{int(disable)}.npz"
    subprocess.run([sys.executable, "-c", SCRIPT, str(target)], check=True, env=env, cwd=REPO,
                   timeout=240)
    with np.load(target) as data:
        return {k: data[k] for k in data.files}


def test_jit_equals_pure_python(tmp_path: Path) -> None:
    jit = _run(tmp_path, disable=False)
    py = _run(tmp_path, disable=True)
    assert np.isfinite(jit["series"][:, -1]).all() and np.isfinite(jit["other"]).all()
    for key in ("series", "other"):
        np.testing.assert_array_equal(jit[key], py[key])
