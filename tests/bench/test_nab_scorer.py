"""Rules of the NAB scorer (bench/nab_scorer.py) on a tiny synthetic corpus."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

_SPEC = importlib.util.spec_from_file_location(
    "nab_scorer", Path(__file__).resolve().parents[2] / "bench" / "nab_scorer.py"
)
assert _SPEC is not None and _SPEC.loader is not None
nab = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(nab)

N = 1000  # probation = 150 rows
TS = np.arange(N).astype("datetime64[m]")
WIN = (TS[500], TS[599])  # width 100


def _corpus(scores: np.ndarray, windows=(WIN,)) -> dict:
    return {"f.csv": (TS, scores, list(windows))}


def _raw(scores, profile="standard", windows=(WIN,)) -> float:
    return nab.sweep(_corpus(np.asarray(scores, float), windows), nab.PROFILES[profile])[0]


def test_scaled_sigmoid_values():
    assert nab.scaled_sigmoid(np.array(-1.0)) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(np.array(0.0)) == pytest.approx(0.0)
    assert nab.scaled_sigmoid(np.array(3.0)) == -1.0


def test_probation_length():
    assert nab.probation_length(1000) == 150
    assert nab.probation_length(20000) == 750


def test_earliest_detection_in_window_gets_full_credit():
    s = np.zeros(N)
    s[500] = 1.0
    assert _raw(s) == pytest.approx(1.0)
    assert nab.score_prepared(_corpus(s), "standard")["score"] == pytest.approx(100.0)


def test_later_detection_earns_less_and_extra_ones_are_free():
    late = np.zeros(N)
    late[590] = 1.0
    both = late.copy()
    both[595] = 1.0
    pos = -(599 - 590 + 1) / 100
    expect = float(nab.scaled_sigmoid(np.array(pos)) / nab.scaled_sigmoid(np.array(-1.0)))
    assert _raw(late) == pytest.approx(expect)
    assert _raw(both) == pytest.approx(expect)


def test_missed_window_costs_fn_weight():
    assert _raw(np.zeros(N)) == -1.0
    assert _raw(np.zeros(N), "reward_low_FN_rate") == -2.0


def test_false_positive_costs():
    s = np.zeros(N)
    s[500] = 1.0
    s[300] = 1.0  # before the first window: full FP cost
    assert _raw(s) == pytest.approx(1.0 - 0.11)
    assert _raw(s, "reward_low_FP_rate") == pytest.approx(1.0 - 0.22)
    s2 = np.zeros(N)
    s2[500] = 1.0
    s2[610] = 1.0  # just after the window: discounted by the sigmoid of the distance
    fp = 0.11 * float(nab.scaled_sigmoid(np.array((610 - 599) / 99)))
    assert _raw(s2) == pytest.approx(1.0 + fp)


def test_probation_rows_and_windows_are_ignored():
    s = np.zeros(N)
    s[100] = 1.0  # in probation: no FP
    assert _raw(s, windows=()) == 0.0
    early = (TS[10], TS[100])  # window wholly in probation is not counted
    res = nab.score_prepared(_corpus(np.zeros(N), windows=(early, WIN)), "standard")
    assert res["raw"] == -1.0


def test_one_threshold_is_swept_for_the_whole_corpus():
    a = np.zeros(N)
    a[500] = 0.6
    b = np.zeros(N)
    b[500] = 0.9
    b[200:260] = 0.7  # 60 FPs above 0.6: a threshold between 0.7 and 0.9 wins
    corpus = {"a.csv": (TS, a, [WIN]), "b.csv": (TS, b, [WIN])}
    raw, thr = nab.sweep(corpus, nab.PROFILES["standard"])
    assert thr == pytest.approx(0.9)
    assert raw == pytest.approx(0.0)  # b caught (+1), a missed (-1)


def test_normalisation_null_and_perfect():
    s = np.zeros(N)
    assert nab.score_prepared(_corpus(s), "standard")["score"] == pytest.approx(0.0)
    s[500] = 1.0
    assert nab.score_prepared(_corpus(s), "reward_low_FN_rate")["score"] == pytest.approx(100.0)
    assert not math.isnan(nab.score_prepared(_corpus(s, windows=()), "standard")["score"])
