"""Contract and behaviour tests of the univariate streaming detector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.anomaly.config import (
    FAULT_DROPOUT,
    FAULT_NONE,
    FAULT_SPIKE,
    FAULT_STUCK,
    DetectorConfig,
)
from models.anomaly.univariate import UnivariateDetector

REPO = Path(__file__).resolve().parents[3]
STEP_MS = 300_000  # 5-minute cadence
N = 2500
ONSET = 2000


def _ts(n: int = N) -> np.ndarray:
    return np.arange(n, dtype=np.int64) * STEP_MS


def _seasonal(seed: int, n: int = N) -> np.ndarray:
    """Daily sine plus Gaussian noise, the shape of many city sensors."""
    t = _ts(n)
    return 50.0 + 10.0 * np.sin(2 * np.pi * t / 86_400_000) + np.random.default_rng(
        seed
    ).normal(0.0, 1.0, n)


def _score(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    det = UnivariateDetector(1)
    return det.score_batch(np.zeros(len(values), dtype=np.int64), values, _ts(len(values)))


def _interleaved(n_sensors: int = 3, n: int = 600, seed: int = 1):
    vals = np.stack([_seasonal(seed + k, n) * (k + 1) for k in range(n_sensors)])
    vals[1 % n_sensors, 300:] += 40.0
    vals[-1, 100:110] = np.nan
    idx = np.repeat(np.arange(n_sensors, dtype=np.int64)[None, :], n, axis=0).ravel()
    ts = np.repeat(_ts(n)[:, None], n_sensors, axis=1).ravel()
    return idx, vals.T.ravel().copy(), ts


# ---------------------------------------------------------------- contracts


def test_inputs_are_not_modified():
    idx, val, ts = _interleaved()
    copies = (idx.copy(), val.copy(), ts.copy())
    UnivariateDetector(3).score_batch(idx, val, ts)
    for before, after in zip(copies, (idx, val, ts), strict=True):
        np.testing.assert_array_equal(before, after)


def test_same_input_repeats_exactly():
    idx, val, ts = _interleaved()
    a = UnivariateDetector(3).score_batch(idx, val, ts)
    b = UnivariateDetector(3).score_batch(idx, val, ts)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_scores_are_in_unit_interval_and_faults_are_codes():
    idx, val, ts = _interleaved()
    score, fault = UnivariateDetector(3).score_batch(idx, val, ts)
    assert score.dtype == np.float64 and fault.dtype == np.int8
    assert np.all((score >= 0.0) & (score <= 1.0))
    assert set(np.unique(fault)) <= {FAULT_NONE, FAULT_DROPOUT, FAULT_STUCK, FAULT_SPIKE}


def test_warmup_returns_neutral_score():
    cfg = DetectorConfig()
    values = _seasonal(3)
    values[50] += 1000.0  # even a huge jump during warm-up stays neutral
    score, _ = _score(values)
    assert np.all(score[: cfg.warmup] == 0.0)


def test_nan_is_dropout_and_leaves_state_unchanged():
    det = UnivariateDetector(1)
    values = _seasonal(4, 300)
    det.score_batch(np.zeros(300, dtype=np.int64), values, _ts(300))
    before = {k: v.copy() for k, v in det.state_dict().items()}
    score, fault = det.score_batch(
        np.zeros(2, dtype=np.int64), np.array([np.nan, np.inf]), np.array([10**12, 10**12 + 1])
    )
    assert score.tolist() == [0.0, 0.0]
    assert fault.tolist() == [FAULT_DROPOUT, FAULT_DROPOUT]
    for key, arr in det.state_dict().items():
        np.testing.assert_array_equal(before[key], arr)


def test_new_sensors_grow_the_state_and_do_not_disturb_others():
    idx, val, ts = _interleaved(n_sensors=2)
    ref, _ = UnivariateDetector(2).score_batch(idx, val, ts)
    det = UnivariateDetector(0)  # starts empty, grows on demand
    half = len(idx) // 2
    s1, _ = det.score_batch(idx[:half], val[:half], ts[:half])
    extra = np.array([7], dtype=np.int64)  # a sensor never seen before, far away
    s_new, _ = det.score_batch(extra, np.array([3.0]), np.array([0], dtype=np.int64))
    s2, _ = det.score_batch(idx[half:], val[half:], ts[half:])
    assert det.n_sensors >= 8 and s_new.tolist() == [0.0]
    np.testing.assert_array_equal(np.r_[s1, s2], ref)


def test_rejects_mismatched_or_negative_input():
    det = UnivariateDetector(1)
    with pytest.raises(ValueError):
        det.score_batch(np.zeros(2, dtype=np.int64), np.zeros(3), np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError):
        det.score_batch(np.array([-1]), np.zeros(1), np.zeros(1, dtype=np.int64))


def test_stream_in_random_chunks_equals_one_batch():
    idx, val, ts = _interleaved()
    ref = UnivariateDetector(3).score_batch(idx, val, ts)
    rng = np.random.default_rng(11)
    det = UnivariateDetector(1)
    parts_s, parts_f = [], []
    start = 0
    while start < len(idx):
        end = min(len(idx), start + int(rng.integers(1, 97)))
        s, f = det.score_batch(idx[start:end], val[start:end], ts[start:end])
        parts_s.append(s)
        parts_f.append(f)
        start = end
    np.testing.assert_array_equal(np.concatenate(parts_s), ref[0])
    np.testing.assert_array_equal(np.concatenate(parts_f), ref[1])


def test_checkpoint_round_trip_resumes_identically():
    idx, val, ts = _interleaved()
    ref, _ = UnivariateDetector(3).score_batch(idx, val, ts)
    half = len(idx) // 2
    det = UnivariateDetector(3)
    first, _ = det.score_batch(idx[:half], val[:half], ts[:half])
    restored = UnivariateDetector(0)
    restored.load_state_dict(det.state_dict())
    second, _ = restored.score_batch(idx[half:], val[half:], ts[half:])
    np.testing.assert_array_equal(np.r_[first, second], ref)


def test_checkpoint_from_another_config_is_refused():
    det = UnivariateDetector(1, DetectorConfig(n_levels=8))
    with pytest.raises(ValueError):
        UnivariateDetector(1).load_state_dict(det.state_dict())


def test_warm_leaves_state_untouched():
    det = UnivariateDetector(2)
    before = det.state_dict()
    det.warm()
    for key, arr in det.state_dict().items():
        np.testing.assert_array_equal(before[key], arr)


_JIT_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {repo!r})
from models.anomaly.univariate import UnivariateDetector
from tests.models.anomaly.test_univariate import _interleaved
idx, val, ts = _interleaved(n_sensors=2, n=400)
score, fault = UnivariateDetector(2).score_batch(idx, val, ts)
print(json.dumps([score.tolist(), fault.tolist()]))
"""


def test_jit_equals_pure_python():
    idx, val, ts = _interleaved(n_sensors=2, n=400)
    score, fault = UnivariateDetector(2).score_batch(idx, val, ts)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _JIT_SCRIPT.format(repo=str(REPO))],
        env=env, capture_output=True, text=True, check=True, cwd=REPO, timeout=120,
    )
    py_score, py_fault = json.loads(proc.stdout)
    np.testing.assert_allclose(score, py_score, rtol=0, atol=1e-12)
    assert fault.tolist() == py_fault


# ---------------------------------------------------------------- behaviour


def _alarms(score: np.ndarray, level: float = 0.5) -> np.ndarray:
    return np.flatnonzero(score >= level)


def test_level_shift_is_detected_soon():
    values = _seasonal(5)
    values[ONSET:] += 8.0
    score, _ = _score(values)
    assert score[ONSET : ONSET + 20].max() >= 0.5


def test_spike_is_detected_with_spike_fault():
    values = _seasonal(6)
    values[ONSET] += 40.0
    score, fault = _score(values)
    assert score[ONSET] >= 0.5
    assert fault[ONSET] == FAULT_SPIKE


def test_seasonal_break_is_detected():
    """Values stay inside the usual range but arrive at the wrong time of day."""
    values = _seasonal(7)
    t = _ts()[ONSET : ONSET + 100]
    values[ONSET : ONSET + 100] = 50.0 + 10.0 * np.sin(
        2 * np.pi * (t + 43_200_000) / 86_400_000
    )
    assert values[ONSET : ONSET + 100].max() < values[:ONSET].max()
    score, _ = _score(values)
    assert score[ONSET : ONSET + 50].max() >= 0.5


def test_stuck_sensor_gets_stuck_fault():
    values = _seasonal(8)
    values[ONSET : ONSET + 200] = values[ONSET - 1]
    _, fault = _score(values)
    stuck_len = DetectorConfig().stuck_len
    assert np.all(fault[ONSET + stuck_len : ONSET + 200] == FAULT_STUCK)
    assert not np.any(fault[:ONSET] == FAULT_STUCK)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pure_noise_stays_quiet(seed):
    values = np.random.default_rng(seed).normal(0.0, 1.0, N)
    score, fault = _score(values)
    late = score[500:]
    assert len(_alarms(late)) <= 0.005 * len(late)
    assert not np.any(fault == FAULT_STUCK)


def test_grouping_large_batches_by_sensor_changes_nothing():
    idx, val, ts = _interleaved(n_sensors=3, n=600)
    plain = UnivariateDetector(3)
    plain.group_min = 10**9
    grouped = UnivariateDetector(3)
    grouped.group_min = 1
    a = plain.score_batch(idx, val, ts)
    b = grouped.score_batch(idx, val, ts)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    for key, arr in plain.state_dict().items():
        np.testing.assert_array_equal(arr, grouped.state_dict()[key])
