"""Behaviour and contract tests of the multivariate asset detector (synthetic, seeded data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.anomaly.multivariate import AssetDetector, MultivariateConfig, calibrate

REPO = Path(__file__).resolve().parents[3]
NAMES = ["a", "b", "c", "d", "e", "f"]
#: f is independent noise: 97 % keeps it among the components, so the residual space holds only
#: the broken-relation directions (with 90 % its unit variance would mask them in SPE).
VF = 0.97


def make_normal(n: int, seed: int) -> np.ndarray:
    """Six signals driven by two AR(1) latent factors: a~b~c share one, d~e the other, f alone."""
    rng = np.random.default_rng(seed)
    lat = np.zeros((n, 2))
    for t in range(1, n):
        lat[t] = 0.8 * lat[t - 1] + rng.normal(size=2)
    mix = np.array([[1.0, 0.0], [0.9, 0.0], [0.7, 0.2], [0.0, 1.0], [0.1, 0.8], [0.0, 0.0]])
    x = lat @ mix.T + 0.15 * rng.normal(size=(n, 6))
    x[:, 5] += rng.normal(size=n)
    return x + np.array([10.0, -3.0, 0.5, 100.0, 2.0, 0.0])


@pytest.fixture(scope="module")
def train() -> np.ndarray:
    return make_normal(1500, seed=1)


@pytest.fixture(scope="module")
def fitted(train: np.ndarray) -> AssetDetector:
    return AssetDetector(NAMES, MultivariateConfig(lags=1, alpha=0.99, variance_fraction=VF)).fit(
        train
    )


def fresh(det: AssetDetector) -> AssetDetector:
    det.reset()
    return det


def test_inputs_are_not_modified(train: np.ndarray) -> None:
    x_train = train.copy()
    det = AssetDetector(NAMES, MultivariateConfig(lags=1)).fit(x_train)
    test = make_normal(100, seed=2)
    x_test = test.copy()
    det.score_batch(x_test)
    np.testing.assert_array_equal(x_train, train)
    np.testing.assert_array_equal(x_test, test)


def test_deterministic(train: np.ndarray) -> None:
    test = make_normal(200, seed=3)
    outs = [AssetDetector(NAMES).fit(train).detect_batch(test) for _ in range(2)]
    for key in outs[0]:
        np.testing.assert_array_equal(outs[0][key], outs[1][key])


def test_warm_up_is_neutral(train: np.ndarray) -> None:
    det = AssetDetector(NAMES, MultivariateConfig(lags=2)).fit(train)
    test = make_normal(10, seed=4) + 50.0  # wildly abnormal, still neutral while the lags fill
    score, stat, top = det.score_batch(test)
    assert np.all(score[:2] == 0.0) and np.all(stat[:2] == 0.0) and np.all(top[:2] == -1)
    assert np.all(score[2:] > 0.99)


def test_nan_row_is_neutral_and_leaves_state(fitted: AssetDetector) -> None:
    test = make_normal(40, seed=5)
    ref = fresh(fitted).detect_batch(test)
    holed = np.insert(test, 20, np.nan, axis=0)
    holed[20, 1:] = 1.0
    out = fresh(fitted).detect_batch(holed)
    assert out["statistic"][20] == 0.0 and np.all(out["top_vars"][20] == -1)
    np.testing.assert_array_equal(np.delete(out["statistic"], 20), ref["statistic"])


@pytest.mark.parametrize("forget", [0.0, 0.02])
def test_stream_equals_batch(train: np.ndarray, forget: float) -> None:
    cfg = MultivariateConfig(lags=2, forget=forget, refresh=7, raise_after=2, clear_after=3)
    det = AssetDetector(NAMES, cfg).fit(train)
    test = make_normal(300, seed=6)
    test[150:200, 2] += 3.0
    batch = det.detect_batch(test)
    det.reset()
    rows = [det.detect_batch(test[i : i + 1]) for i in range(len(test))]
    det.reset()
    cuts = [0, 1, 17, 18, 120, 299, 300]
    chunks = [det.detect_batch(test[lo:hi]) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)]
    for key in batch:
        np.testing.assert_array_equal(np.concatenate([r[key] for r in rows]), batch[key])
        np.testing.assert_array_equal(np.concatenate([c[key] for c in chunks]), batch[key])


_NOJIT_SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {repo!r})
from models.anomaly.multivariate import AssetDetector, MultivariateConfig
rng = np.random.default_rng(7)
base = rng.normal(size=(160, 1))
x = np.hstack([base, 0.8 * base + 0.3 * rng.normal(size=(160, 1)), rng.normal(size=(160, 2))])
test = x[:60].copy(); test[30:, 1] += 2.0
det = AssetDetector(["w", "x", "y", "z"], MultivariateConfig(lags=1, forget=0.05, refresh=5,
                    folds=3)).fit(x[60:])
out = det.detect_batch(test)
print(json.dumps({{k: v.tolist() for k, v in out.items()}}))
"""


def test_jit_equals_no_jit() -> None:
    script = _NOJIT_SCRIPT.format(repo=str(REPO))
    results = []
    for disable in ("0", "1"):
        env = dict(os.environ, NUMBA_DISABLE_JIT=disable)
        proc = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        )
        results.append(json.loads(proc.stdout))
    jit, nojit = results
    for key in jit:
        np.testing.assert_allclose(np.array(jit[key]), np.array(nojit[key]), rtol=1e-9, atol=1e-12)
    assert max(jit["statistic"]) > 1.0  # the check covered alarms and gated updates


def test_normal_data_stays_quiet(fitted: AssetDetector) -> None:
    _, stat, _ = fresh(fitted).score_batch(make_normal(3000, seed=8))
    far = float(np.mean(stat >= 1.0))
    assert far < 0.03  # configured 1 %


def test_broken_correlation_is_detected_and_named(fitted: AssetDetector) -> None:
    test = make_normal(400, seed=9)
    test[200:, 1] = 2 * test[200:, 1].mean() - test[200:, 1]  # b mirrored: still in range
    _, stat, top = fresh(fitted).score_batch(test)
    assert np.mean(stat[200:] >= 1.0) > 0.8
    assert np.mean(stat[:200] >= 1.0) < 0.05
    pair = [set(fitted.top_names(t[:2])) for t in top[210:] if t[0] >= 0]
    assert np.mean([p == {"a", "b"} or "b" in p for p in pair]) > 0.8
    assert np.mean([p == {"a", "b"} for p in pair]) > 0.5


def test_mean_shift_is_detected_and_named(fitted: AssetDetector, train: np.ndarray) -> None:
    test = make_normal(400, seed=10)
    test[200:, 5] += 2.5 * train[:, 5].std()
    score, stat, top = fresh(fitted).score_batch(test)
    assert np.mean(stat[220:] >= 1.0) > 0.9
    assert np.mean(top[220:, 0] == NAMES.index("f")) > 0.9
    assert fitted.explain(test[-1])[0][0] == "f"


def test_explain_does_not_advance_state(fitted: AssetDetector) -> None:
    test = make_normal(50, seed=11)
    det = fresh(fitted)
    det.score_batch(test[:25])
    shares = det.explain(test[25])
    rest = det.score_batch(test[25:])[1]
    np.testing.assert_array_equal(rest, fresh(fitted).score_batch(test)[1][25:])
    assert len(shares) == 3 and 0.0 < sum(s for _, s in shares) <= 1.0 + 1e-12


def test_gated_updates_do_not_absorb_a_fault(train: np.ndarray) -> None:
    cfg = MultivariateConfig(lags=1, forget=0.02, refresh=10, variance_fraction=VF)
    det = AssetDetector(NAMES, cfg).fit(train)
    test = make_normal(1200, seed=12)
    test[300:, 2] += 2.0
    _, stat, _ = det.score_batch(test)
    assert np.mean(stat[1000:] >= 1.0) > 0.9


def test_hysteresis_raises_after_k_and_clears_after_m(train: np.ndarray) -> None:
    cfg = MultivariateConfig(
        lags=0, ewma_lambda=1.0, raise_after=3, clear_after=4, variance_fraction=VF
    )
    det = AssetDetector(NAMES, cfg).fit(train)
    test = make_normal(60, seed=14)
    test[10:12, 0] += 30.0  # 2-row spike: never latches
    test[30:40, 0] += 30.0  # 10-row fault: latches on its 3rd row, clears 4 rows after
    out = det.detect_batch(test)
    over = out["statistic"] >= 1.0
    assert over[10] and over[11] and over[30:40].all()
    assert not over[:10].any() and not over[12:30].any() and not over[40:].any()
    assert out["alarm"][:30].sum() == 0
    assert out["alarm"][32] == 1 and out["alarm"][31] == 0
    first_clear = 40 + int(np.argmax(~out["alarm"][40:].astype(bool)))
    assert first_clear == 40 + 3  # 4th row under the limit clears (counting row 40)


def test_state_dict_round_trip(fitted: AssetDetector) -> None:
    test = make_normal(100, seed=14)
    det = fresh(fitted)
    det.score_batch(test[:50])
    snap = det.state_dict()
    expect = det.score_batch(test[50:])[1]
    other = AssetDetector(["?"]).load_state_dict(snap)
    np.testing.assert_array_equal(other.score_batch(test[50:])[1], expect)
    assert other.variable_names == NAMES


def test_score_is_calibrated() -> None:
    stat = np.array([0.0, 0.5, 1.0, 2.0, 100.0])
    score = calibrate(stat)
    assert (
        score[2] == 0.5 and np.all(np.diff(score) > 0) and 0.0 <= score.min() <= score.max() <= 1.0
    )


def test_shape_errors(fitted: AssetDetector) -> None:
    with pytest.raises(ValueError):
        fitted.score_batch(np.zeros((3, 4)))
    with pytest.raises(RuntimeError):
        AssetDetector(NAMES).score_batch(np.zeros((3, 6)))
