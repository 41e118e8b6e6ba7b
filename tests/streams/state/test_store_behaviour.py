"""One behaviour suite, run on the memory store and on a real redis-server."""

from __future__ import annotations

import math

import numpy as np
import pytest

from streams.state import LATEST_COLUMNS, StateStore

from .conftest import T0, WINDOW_MAX, WINDOW_S, BatchFactory, scores


def test_latest_values_in_requested_order_nan_when_unknown(
    store: StateStore, make_batch: BatchFactory
) -> None:
    store.write_readings(*make_batch([(0, 1.5, T0), (2, 3.5, T0 + 5)], quality=1))
    got = store.latest(["S-2", "nope", "S-0"])
    assert set(got) == set(LATEST_COLUMNS)
    np.testing.assert_array_equal(got["value"], [3.5, np.nan, 1.5])
    np.testing.assert_array_equal(got["ts"], [T0 + 5, np.nan, T0])
    np.testing.assert_array_equal(got["quality"], [1, np.nan, 1])
    assert np.isnan(got["score"]).all() and np.isnan(got["fault"]).all()


def test_latest_all_is_indexed_by_dense_index(store: StateStore, make_batch: BatchFactory) -> None:
    assert len(store.latest_all()["value"]) == 0
    store.write_readings(*make_batch([(3, 30.0, T0), (1, 10.0, T0)]))
    snap = store.latest_all()
    np.testing.assert_array_equal(snap["value"], [np.nan, 10.0, np.nan, 30.0])
    np.testing.assert_array_equal(snap["ts"], [np.nan, T0, np.nan, T0])


def test_newer_reading_replaces_and_newest_ts_tracks_the_max(
    store: StateStore, make_batch: BatchFactory
) -> None:
    assert store.newest_ts() is None
    store.write_readings(*make_batch([(0, 1.0, T0), (1, 2.0, T0 + 7)]))
    store.write_readings(*make_batch([(0, 5.0, T0 + 3)]))
    assert store.latest(["S-0"])["value"].tolist() == [5.0]
    assert store.newest_ts() == T0 + 7


def test_scores_join_the_latest_columns(store: StateStore, make_batch: BatchFactory) -> None:
    store.write_readings(*make_batch([(0, 1.0, T0), (1, 2.0, T0)]))
    store.write_scores(scores([("S-1", 0.75, 3, T0), ("S-0", 0.1, 0, T0)]))
    store.write_scores(scores([("S-1", 0.5, 0, T0 + 1000)]))
    got = store.latest(["S-0", "S-1"])
    assert got["score"].tolist() == [0.1, 0.5] and got["fault"].tolist() == [0.0, 0.0]
    assert got["score_ts"].tolist() == [T0, T0 + 1000]
    snap = store.latest_all()
    assert snap["score"].tolist() == [0.1, 0.5]


def test_window_keeps_one_point_per_step_oldest_first(
    store: StateStore, make_batch: BatchFactory
) -> None:
    for k in range(45):  # 45 s at 1 Hz, step 10 s -> points at 0, 10, 20, 30, 40 s
        store.write_readings(*make_batch([(0, float(k), T0 + k * 1000), (1, -k, T0 + k * 1000)]))
    ts, vals = store.window("S-0")
    assert ts.tolist() == [T0 + s * 1000 for s in (0, 10, 20, 30, 40)]
    assert vals.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert ts.dtype == np.int64 and vals.dtype == np.float64
    assert store.window("S-1")[1].tolist() == [0.0, -10.0, -20.0, -30.0, -40.0]


def test_window_is_bounded_by_time_and_count(store: StateStore, make_batch: BatchFactory) -> None:
    for k in range(0, 400, 2):  # 400 s of data, window 100 s
        store.write_readings(*make_batch([(0, float(k), T0 + k * 1000)]))
    ts, _ = store.window("S-0")
    newest = T0 + 398_000
    assert ts[-1] == T0 + 390_000  # first reading of the last step
    assert (ts > newest - WINDOW_S * 1000).all() and len(ts) <= WINDOW_MAX + 1
    assert np.all(np.diff(ts) > 0)


def test_window_since_and_unknown_sensor(store: StateStore, make_batch: BatchFactory) -> None:
    for k in range(0, 60, 10):
        store.write_readings(*make_batch([(0, float(k), T0 + k * 1000)]))
    ts, vals = store.window("S-0", since_ms=T0 + 30_000)
    assert vals.tolist() == [30.0, 40.0, 50.0]
    ts, vals = store.window("nope")
    assert len(ts) == 0 and len(vals) == 0


def test_aggregates_replace_per_domain(store: StateStore) -> None:
    assert store.aggregates("air") == {}
    store.put_aggregates("air", {"aqi_mean": 42.5, "stations": 12}, T0)
    store.put_aggregates("air", {"aqi_mean": 50.0}, T0 + 1000)
    store.put_aggregates("traffic", {"congestion": 0.3}, T0)
    assert store.aggregates("air") == {"aqi_mean": 50.0, "ts": float(T0 + 1000)}
    assert store.aggregates("traffic")["congestion"] == 0.3
    with pytest.raises(ValueError, match="reserved"):
        store.put_aggregates("air", {"ts": 1.0}, T0)


def test_counters(store: StateStore) -> None:
    assert store.counters() == {}
    assert store.incr("readings_in", 5000) == 5000
    assert store.incr("readings_in", 10) == 5010
    store.incr("dead_letter.malformed")
    assert store.counters() == {"readings_in": 5010, "dead_letter.malformed": 1}


def test_json_documents(store: StateStore) -> None:
    doc = {"id": "AL-1", "level": 2, "timeline": [{"at": T0, "by": "operator"}], "ok": True}
    assert store.get_json("alerts/AL-1") is None
    store.put_json("alerts/AL-1", doc)
    store.put_json("alerts/AL-2", [1, 2])
    store.put_json("kpi/today", {"mttr_s": 300.5})
    assert store.get_json("alerts/AL-1") == doc
    assert store.json_keys("alerts/") == ["alerts/AL-1", "alerts/AL-2"]
    store.delete_json("alerts/AL-2")
    store.delete_json("never-there")
    assert store.json_keys("alerts/") == ["alerts/AL-1"]
    with pytest.raises(ValueError):
        store.put_json("bad", {"x": math.nan})


def test_large_batch_round_trips(store: StateStore, make_batch: BatchFactory) -> None:
    rng = np.random.default_rng(3)
    vals = rng.normal(size=5000)
    store.write_readings(*make_batch([(i, float(vals[i]), T0 + i) for i in range(5000)]))
    snap = store.latest_all()
    np.testing.assert_array_equal(snap["value"], vals)
    np.testing.assert_array_equal(snap["ts"], T0 + np.arange(5000))
