"""Diff logic of the wall push and one loop tick against a real in-memory store."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from dashboard.push import PushLoop, diff_codes, diff_kpis, diff_rows, parse_band
from dashboard.wall_data import WallModel
from streams.clock import ManualClock
from streams.messages import ReadingBatch, ScoreBatch
from streams.state.memory import MemoryStateStore


def test_diff_codes_sends_only_changed_positions() -> None:
    prev = np.zeros(30, np.int8)
    cur = prev.copy()
    cur[[3, 17]] = [2, 5]
    assert diff_codes(prev, cur) == {"i": [3, 17], "v": [2, 5]}
    assert diff_codes(cur, cur) is None


def test_diff_codes_falls_back_to_full_when_most_changed() -> None:
    assert diff_codes(np.zeros(3, np.int8), np.ones(3, np.int8)) == {"full": [1, 1, 1]}
    assert diff_codes(np.zeros(2, np.int8), np.zeros(3, np.int8)) == {"full": [0, 0, 0]}


def test_diff_rows_upserts_and_removes_by_id() -> None:
    prev = [{"id": "a", "x": 1}, {"id": "b", "x": 2}]
    cur = [{"id": "a", "x": 1}, {"id": "b", "x": 3}, {"id": "c", "x": 4}]
    assert diff_rows(prev, cur, ("x",)) == {"upsert": {"id": ["b", "c"], "x": [3, 4]},
                                             "remove": []}
    assert diff_rows(cur, cur, ("x",)) is None
    assert diff_rows(None, [], ("x",)) == {"upsert": {"id": [], "x": []}, "remove": []}


def test_diff_kpis() -> None:
    assert diff_kpis({"a": 1, "b": 2}, {"a": 1, "b": 3}) == {"b": 3}
    assert diff_kpis(None, {"a": 1}) == {"a": 1}


def test_parse_band_rejects_ragged_documents() -> None:
    assert parse_band({"ts": [1, 2], "yhat": [1.0], "lo": [0.0], "hi": [2.0]}) is None
    assert parse_band("nope") is None


@pytest.fixture()
def loop(small_city: Any) -> tuple[PushLoop, MemoryStateStore, list[tuple[str, Any, str]]]:
    state = MemoryStateStore(window_s=600, clock=lambda: 0)
    sent: list[tuple[str, Any, str]] = []
    lp = PushLoop(state, WallModel(small_city), ManualClock(10_000),
                  lambda e, p, r: sent.append((e, p, r)))
    return lp, state, sent


def _write(state: MemoryStateStore, city: Any, metric: str, value: float, ts: int) -> str:
    s = next(s for s in city.registry.sensors if s.metric == metric)
    i = city.registry.index_of(s.sensor_id)
    state.write_readings(ReadingBatch.from_rows([(s.sensor_id, value, ts)]), np.array([i]))
    state.write_scores(ScoreBatch((s.sensor_id,), np.array([ts]), np.array([0.1]),
                                  np.zeros(1, np.int8)))
    return s.sensor_id


def test_tick_sends_full_then_only_the_change(loop: Any, small_city: Any) -> None:
    lp, state, sent = loop
    first = lp.tick()
    assert set(first["layers"]) == {"cells", "roads", "air", "water", "hazard"}
    assert "full" in first["layers"]["roads"]
    assert [r for _, _, r in sent] == ["wall", "leader", "dispatch"]
    assert lp.counters["pushed"] == 1

    _write(state, small_city, "lel", 60.0, 9_000)  # second-level gas alarm
    second = lp.tick()
    assert second["layers"]["hazard"]["v"] == [3]
    assert second["kpis"]["alarm2"] == 1
    assert second["newest"] == 9_000
    assert second["ages"]["hazard"] == pytest.approx(1.0)
    assert "units" not in second and "roads" not in second["layers"]
    assert lp.counters["pushed"] == 2


def test_full_payload_for_a_joining_client(loop: Any, small_city: Any) -> None:
    lp, state, _ = loop
    _write(state, small_city, "pm25", 80.0, 9_000)
    lp.tick()
    full = lp.full()
    assert full["full"] is True and full["seq"] == lp.seq
    assert set(full["layers"]) == {"cells", "roads", "air", "water", "hazard"}
    assert all("full" in d for d in full["layers"].values())
    assert full["series"]["t"] == [10_000]
    assert full["units"]["upsert"]["id"]  # units at their home stations


def test_published_alerts_replace_the_derived_ticker(loop: Any) -> None:
    lp, state, _ = loop
    assert lp.tick()["ticker"]["derived"] is True
    state.put_json("alert:A1", {"id": "A1", "level": "II", "ts": 5, "title": "爆管"})
    out = lp.tick()
    assert out["ticker"]["derived"] is False
    assert out["ticker"]["items"][0]["level"] == 2


def test_loop_starts_once_and_stops(loop: Any) -> None:
    lp, _, sent = loop
    lp.start()
    lp.start()
    import time

    deadline = time.monotonic() + 3
    while not sent and time.monotonic() < deadline:
        time.sleep(0.02)
    lp.stop()
    assert sent and not lp.running


def _wall_updates(sent: list[tuple[str, Any, str]]) -> list[dict[str, Any]]:
    return [p for e, p, r in sent if e == "wall:update" and r == "wall"]


def _wait_for(cond: Any, timeout_s: float = 2.0) -> float:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout_s, "timed out"
        time.sleep(0.002)
    return time.monotonic() - t0


def test_notify_wakes_the_loop_at_once_and_carries_the_publish_time(small_city: Any) -> None:
    state = MemoryStateStore(window_s=600, clock=lambda: 0)
    sent: list[tuple[str, Any, str]] = []
    # a poll period of 5 s: only notify() can make the data go out quickly
    lp = PushLoop(state, WallModel(small_city), ManualClock(10_000),
                  lambda e, p, r: sent.append((e, p, r)), push_hz=0.2, poll_s=5.0)
    lp.start()
    try:
        _wait_for(lambda: len(_wall_updates(sent)) >= 1)  # the first heartbeat
        time.sleep(0.05)
        _write(state, small_city, "pm25", 80.0, 9_000)
        lp.notify(9_500)
        waited = _wait_for(lambda: any(p.get("pub") == 9_500 for p in _wall_updates(sent)))
        assert waited < 0.5
        last = _wall_updates(sent)[-1]
        assert last["newest"] == 9_000 and "layers" in last
    finally:
        lp.stop()


def test_heartbeat_does_not_hold_back_new_readings(small_city: Any) -> None:
    state = MemoryStateStore(window_s=600, clock=lambda: 0)
    sent: list[tuple[str, Any, str]] = []
    lp = PushLoop(state, WallModel(small_city), ManualClock(10_000),
                  lambda e, p, r: sent.append((e, p, r)), push_hz=1.0, poll_s=0.01)
    lp.start()
    try:
        _wait_for(lambda: len(_wall_updates(sent)) >= 1)  # heartbeat (no data yet)
        n = len(_wall_updates(sent))
        _write(state, small_city, "pm25", 80.0, 9_000)  # right after it: no throttle wait
        waited = _wait_for(lambda: any(p.get("newest") == 9_000
                                       for p in _wall_updates(sent)[n:]))
        assert waited < 0.3
        # a second batch within the period waits for the rest of it (≤ push_hz)
        t_first = time.monotonic()
        _write(state, small_city, "pm25", 90.0, 9_100)
        _wait_for(lambda: any(p.get("newest") == 9_100 for p in _wall_updates(sent)))
        assert time.monotonic() - t_first > 0.5
    finally:
        lp.stop()


def test_with_notify_in_use_a_half_written_batch_waits_for_its_notify(small_city: Any) -> None:
    state = MemoryStateStore(window_s=600, clock=lambda: 0)
    sent: list[tuple[str, Any, str]] = []
    lp = PushLoop(state, WallModel(small_city), ManualClock(10_000),
                  lambda e, p, r: sent.append((e, p, r)), push_hz=20.0, poll_s=0.01)
    lp.start()
    try:
        _write(state, small_city, "pm25", 80.0, 9_000)
        lp.notify(9_100)
        _wait_for(lambda: any(p.get("pub") == 9_100 for p in _wall_updates(sent)))
        _write(state, small_city, "pm25", 90.0, 10_000)  # readings in, notify not yet
        time.sleep(0.2)
        assert not any(p.get("newest") == 10_000 for p in _wall_updates(sent))
        lp.notify(10_100)
        waited = _wait_for(lambda: any(p.get("newest") == 10_000 and p.get("pub") == 10_100
                                       for p in _wall_updates(sent)))
        assert waited < 0.3
    finally:
        lp.stop()
