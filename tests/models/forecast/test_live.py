"""The live forecasting step: binning, skipped faults, bands, documents, warnings to alerts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from alerts.config import load_rules
from alerts.engine import AlertEngine
from alerts.lifecycle import AlertService
from alerts.model import ACTIVE
from alerts.publish import AlertPublisher
from alerts.store import AlertStore, Database
from config.city.registry import Sensor, SensorRegistry
from dashboard.push import parse_band
from models.forecast.live import LiveForecastConfig, LiveForecasts, iaqi_concentration
from streams.clock import ManualClock
from streams.messages import ReadingBatch, ScoreBatch
from streams.state.memory import MemoryStateStore
from tests.models.forecast.conftest import T0_MS

MIN_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def _s(sid: str, domain: Any, metric: str, asset: str, period: int, hi: float = 1000.0,
       **meta: object) -> Sensor:
    return Sensor(sid, domain, metric, "", 119.30, 26.08, "350102", "", 0.0, hi, asset, period,
                  dict(meta))


def registry() -> SensorRegistry:
    return SensorRegistry([
        _s("T1", "water", "tank_level", "WT-1", 30, 6.0, min_level_m=1.0, max_level_m=5.5),
        _s("T2", "water", "tank_level", "WT-2", 30, 6.0, min_level_m=1.0, max_level_m=5.5),
        _s("F1", "water", "flow", "WN-1", 10),
        _s("P1", "water", "pressure", "WN-1", 10),  # not forecast
        _s("A-pm25", "air", "pm25", "AQS-1", 60),
        _s("A-o3", "air", "o3", "AQS-1", 60),
        _s("V1", "traffic", "speed", "SEG-1", 30, 200.0, road_class="expressway",
           free_speed_kmh=80.0),
        _s("V2", "traffic", "speed", "SEG-2", 30, 200.0, road_class="arterial",
           free_speed_kmh=50.0),
    ])


class Feeder:
    """``feed(ids, values, ts, score=…, fault=…)``: one scored batch into the step."""

    def __init__(self, live: LiveForecasts, reg: SensorRegistry) -> None:
        self.live, self.reg = live, reg

    def __call__(self, ids: Sequence[str], values: Any, ts: Any, score: Any = None,
                 fault: Any = None) -> None:
        n = len(ids)
        v = np.asarray(values, np.float64).reshape(n)
        t = np.asarray(ts, np.int64).reshape(n)
        sc = np.zeros(n) if score is None else np.asarray(score, np.float64)
        fa = np.zeros(n, np.int8) if fault is None else np.asarray(fault, np.int8)
        self.live(ReadingBatch(tuple(ids), v, t), self.reg.indices(ids),
                  ScoreBatch(tuple(ids), t, sc, fa))


def _record_updates(live: LiveForecasts, name: str) -> list[tuple[np.ndarray, ...]]:
    """Wrap one target's ``update_batch`` to see exactly what was fed."""
    gb = next(g for g in live.groups if g.target.name == name)
    calls: list[tuple[np.ndarray, ...]] = []
    orig = gb.fc.update_batch

    def spy(idx: Any, val: Any, ts: Any, skip: Any = None) -> None:
        calls.append((np.asarray(idx), np.asarray(val), np.asarray(ts), np.asarray(skip)))
        orig(idx, val, ts, skip)

    gb.fc.update_batch = spy  # type: ignore[method-assign]
    return calls


def test_bins_are_hand_computed_means_with_skips_and_dropouts():
    reg = registry()
    live = LiveForecasts(reg, MemoryStateStore(clock=lambda: T0_MS))
    calls = _record_updates(live, "tank")
    feed = Feeder(live, reg)
    p = 900_000
    # bin 0: T1 1, 2, 3, NaN, 6 plus a faulty 100 (stuck) -> mean 3; T2 4, 5 -> 4.5
    feed(["T1", "T1", "T2", "T1"], [1.0, 2.0, 4.0, 100.0], [T0_MS, T0_MS + 30_000,
                                                              T0_MS + 60_000, T0_MS + 90_000],
         fault=[0, 0, 0, 2])
    feed(["T1", "T1", "T1", "T2"], [3.0, np.nan, 6.0, 5.0],
         T0_MS + np.array([120_000, 150_000, 890_000, 899_000]))
    assert calls == []  # bin 0 still open (lateness)
    # bin 1: T1 only an anomalous 9 (score 1.0) -> skip; T2 7
    feed(["T1", "T2"], [9.0, 7.0], [T0_MS + p + 10_000, T0_MS + p + 40_000], score=[1.0, 0.1])
    assert len(calls) == 1  # bin 0 closed once stream time passed its end + 30 s
    idx, val, ts, skip = calls[0]
    assert idx.tolist() == [0, 1] and ts.tolist() == [T0_MS + p] * 2
    assert val.tolist() == [3.0, 4.5] and skip.tolist() == [0, 0]
    # bin 2: T1 silent (dropout), T2 8 and 10; stream time jumps past bins 1 and 2 at once
    feed(["T2", "T2"], [8.0, 10.0], [T0_MS + 2 * p + 1_000, T0_MS + 2 * p + 2_000])
    feed(["T2"], [11.0], [T0_MS + 3 * p + 40_000])
    assert len(calls) == 2  # ONE update_batch call for the two bins closed in that batch
    idx, val, ts, skip = calls[1]
    assert idx.tolist() == [0, 1, 0, 1]
    assert ts.tolist() == [T0_MS + 2 * p] * 2 + [T0_MS + 3 * p] * 2
    np.testing.assert_array_equal(val, [np.nan, 7.0, np.nan, 9.0])
    assert skip.tolist() == [1, 0, 0, 0]  # only-flagged bin = skip; silent bin = NaN
    assert live.rows()["tank"] == 2 and live.rows()["traffic"] == 0


def test_late_readings_are_dropped_not_mixed_into_a_newer_bin():
    reg = registry()
    live = LiveForecasts(reg, MemoryStateStore(clock=lambda: T0_MS))
    calls = _record_updates(live, "tank")
    feed = Feeder(live, reg)
    p = 900_000
    feed(["T1"], [2.0], [T0_MS])
    feed(["T1"], [4.0], [T0_MS + 2 * p + 5_000])  # bin 1 opens the window; bin 0 closes
    feed(["T1", "T1"], [50.0, 6.0], [T0_MS + 10_000, T0_MS + 2 * p + 6_000])  # 50 is late
    feed(["T1"], [1.0], [T0_MS + 4 * p])
    assert live.counts["late_dropped"] == 1
    fed = {int(t): float(v) for c in calls for t, v in zip(c[2], c[1], strict=True)}
    assert fed[T0_MS + p] == 2.0 and fed[T0_MS + 3 * p] == 5.0


def _hourly_air(live: LiveForecasts, reg: SensorRegistry, days: int, seed: int = 1) -> Any:
    """PM2.5 with a daily cycle: four readings an hour, one batch an hour."""
    rng = np.random.default_rng(seed)
    feed = Feeder(live, reg)

    def truth(t_ms: np.ndarray) -> np.ndarray:
        h = (t_ms - T0_MS) / HOUR_MS
        return 60.0 + 25.0 * np.sin(2 * np.pi * h / 24.0)

    for hour in range(days * 24):
        ts = T0_MS + hour * HOUR_MS + np.arange(4) * 15 * MIN_MS + 7 * MIN_MS
        y = truth(ts) + rng.normal(0.0, 2.0, 4)
        feed(["A-pm25"] * 4, y, ts)
    return truth


def test_seasonal_stream_band_contains_the_truth():
    reg = registry()
    state = MemoryStateStore(clock=lambda: T0_MS)
    live = LiveForecasts(reg, state)
    truth = _hourly_air(live, reg, days=15)
    live.flush()
    band = parse_band(state.get_json("forecast:A-pm25"))
    assert band is not None and len(band["t"]) == 24
    t = np.array(band["t"], np.int64)
    assert np.all(np.diff(t) == HOUR_MS)
    # the bin ending at t averages [t - 1 h, t): its truth is the mean of the cycle there
    grid = t[:, None] - HOUR_MS + np.linspace(0, HOUR_MS, 61)[None, :]
    true_mean = truth(grid).mean(axis=1)
    lo, hi, yhat = (np.array(band[k]) for k in ("lo", "hi", "yhat"))
    inside = (lo <= true_mean) & (true_mean <= hi)
    assert inside.mean() >= 0.9, (inside.mean(), lo, true_mean, hi)
    assert np.abs(yhat - true_mean).mean() < 4.0  # amplitude 25: the cycle is learnt


def test_faulty_points_do_not_change_the_forecast():
    reg = registry()
    clean_state, dirty_state = (MemoryStateStore(clock=lambda: T0_MS) for _ in range(2))
    clean, dirty = LiveForecasts(reg, clean_state), LiveForecasts(reg, dirty_state)
    fc, fd = Feeder(clean, reg), Feeder(dirty, reg)
    rng = np.random.default_rng(4)
    for k in range(48 * 4):  # two days of 15-min batches, demand every 5 min
        ts = T0_MS + k * 900_000 + np.array([0, 300_000, 600_000])
        y = 300.0 + 100.0 * np.sin(2 * np.pi * ts / DAY_MS) + rng.normal(0, 5.0, 3)
        if k % 11 == 5:  # a whole bin of flagged readings
            fd(["F1"] * 3, y * 10, ts, score=[1.0, 1.0, 1.0])
            fc(["F1"], [np.nan], [ts[0] + 2])  # the clean twin sees a dropout instead
        elif k % 7 == 3:  # spikes and a stuck reading flagged by the anomaly engine
            fc(["F1"] * 3, y, ts)
            fd(["F1"] * 5, [*y, 4900.0, 0.0], [*ts, ts[0] + 1, ts[1] + 1],
               fault=[0, 0, 0, 3, 2])
        else:
            fc(["F1"] * 3, y, ts)
            fd(["F1"] * 3, y, ts)
    clean.flush()
    dirty.flush()
    a = clean_state.get_json("forecast:F1")
    b = dirty_state.get_json("forecast:F1")
    assert a is not None and a == b
    assert dirty.counts["bin_skipped"] > 0


def test_documents_have_the_shape_the_wall_parses():
    reg = registry()
    state = MemoryStateStore(clock=lambda: T0_MS)
    live = LiveForecasts(reg, state)
    feed = Feeder(live, reg)
    rng = np.random.default_rng(2)
    for k in range(12 * 30):  # 30 h of 5-min batches: speeds every 30 s, air every minute
        ts = T0_MS + k * 300_000 + np.arange(0, 300_000, 30_000)
        n = ts.size
        feed(["V1"] * n + ["V2"] * n, [*(70 + rng.normal(0, 3, n)), *(45 + rng.normal(0, 2, n))],
             [*ts, *ts])
        feed(["A-pm25", "A-o3"], [40.0 + rng.normal(0, 1), 90.0 + rng.normal(0, 2)],
             [ts[0], ts[0]])
    live.flush()
    for key, steps, step_ms in (("forecast:V1", 12, 300_000), ("forecast:kpi.tpi", 12, 300_000),
                                ("forecast:A-o3", 24, HOUR_MS), ("forecast:kpi.aqi", 24, HOUR_MS)):
        doc = state.get_json(key)
        band = parse_band(doc)
        assert band is not None, key
        assert len(band["yhat"]) == steps and doc["step_ms"] == step_ms
        assert band["t"][0] == doc["t0"] + step_ms
        assert all(lo <= y <= hi for lo, y, hi in zip(band["lo"], band["yhat"], band["hi"],
                                                      strict=True))
    tpi = state.get_json("forecast:kpi.tpi")["yhat"]
    assert all(0.0 <= x < 2.0 for x in tpi)  # free-flowing roads: TPI 畅通
    aqi = state.get_json("forecast:kpi.aqi")["yhat"]
    assert all(50 <= x <= 60 for x in aqi)  # PM2.5 ~40 -> IAQI ~57 dominates O3 ~90 (IAQI 29)
    assert state.get_json("forecast:P1") is None  # pressure is not forecast
    assert iaqi_concentration("pm25_1h", 200.0) == 150.0


@pytest.fixture
def alert_engine() -> AlertEngine:
    reg = registry()
    service = AlertService(AlertStore(Database("sqlite://:memory:")), ManualClock(T0_MS),
                           load_rules(), AlertPublisher(MemoryStateStore()))
    return AlertEngine(reg, service)


def test_draining_tank_warns_the_alert_engine_ahead_of_its_minimum(alert_engine):
    reg = alert_engine.registry
    seen: list[tuple[int, float]] = []

    def sink(idx: np.ndarray, w: Any, origin: int) -> None:
        seen.extend((origin, float(x)) for x in w.lead_s[w.fires])
        alert_engine.forecast_warnings(idx, w, origin)

    live = LiveForecasts(reg, MemoryStateStore(clock=lambda: T0_MS), sink=sink)
    feed = Feeder(live, reg)
    rng = np.random.default_rng(5)
    p = 900_000
    n_normal, drain_start = 8 * 96, None
    level = 0.0
    for k in range(n_normal + 96):
        ts = T0_MS + k * p + np.array([0, 300_000, 600_000])
        daily = 3.5 + 0.1 * np.sin(2 * np.pi * ts / DAY_MS)  # a tank kept near 3.5 m
        if k < n_normal:
            level_v = daily
        else:  # the inflow stops: -0.12 m/h from where it was
            drain_start = drain_start or int(ts[0])
            level = 3.5 - 0.12 * (ts - drain_start) / HOUR_MS
            level_v = level
        feed(["T1"] * 3 + ["T2"] * 3, [*(level_v + rng.normal(0, 0.01, 3)),
                                       *(daily + rng.normal(0, 0.01, 3))], [*ts, *ts])
        if k == n_normal - 1:
            assert alert_engine.service.store.alerts(state=ACTIVE) == []  # no false alarm
        if alert_engine.service.store.alerts(state=ACTIVE):
            break
    [alert] = alert_engine.service.store.alerts(state=ACTIVE)
    assert alert.type == "forecast" and alert.source == "WT-1"
    assert alert.value > 0  # lead time in minutes to the predicted crossing
    assert seen and seen[0][1] > 0
    assert float(np.max(level)) > 1.0  # the tank was still above its minimum when warned
    assert live.counts["warnings"] >= 1


def test_state_dict_round_trip_gives_identical_forecasts():
    reg = registry()
    s1, s2 = (MemoryStateStore(clock=lambda: T0_MS) for _ in range(2))
    a = LiveForecasts(reg, s1)
    fa = Feeder(a, reg)
    rng = np.random.default_rng(9)

    def batch(k: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        ts = T0_MS + k * 900_000 + np.array([0, 450_000])
        return ["F1", "F1"], 200 + 50 * np.sin(ts / DAY_MS * 6.28) + rng.normal(0, 2, 2), ts

    for k in range(96):
        fa(*batch(k))
    b = LiveForecasts(reg, s2)
    b.load_state_dict(a.state_dict())
    fb = Feeder(b, reg)
    for k in range(96, 110):
        ids, v, ts = batch(k)
        fa(ids, v, ts)
        fb(ids, v, ts)
    a.flush()
    b.flush()
    assert s1.get_json("forecast:F1") == s2.get_json("forecast:F1") is not None


def test_documents_are_spread_over_batches_after_a_bin_close():
    reg = registry()
    state = MemoryStateStore(clock=lambda: T0_MS)
    live = LiveForecasts(reg, state, LiveForecastConfig(values_per_batch=1))
    feed = Feeder(live, reg)
    for k in range(30):  # 30 bins of two tanks, one batch per bin
        ts = T0_MS + k * 900_000 + 60_000
        feed(["T1", "T2"], [3.0 + 0.01 * k, 2.0], [ts, ts])
    assert state.json_keys("forecast:") == []  # a batch that closes bins writes no document
    feed(["P1"], [0.3], [T0_MS + 30 * 900_000 + 1_000])  # the next batch writes one
    assert state.json_keys("forecast:") == ["forecast:T1"]
    feed(["P1"], [0.3], [T0_MS + 30 * 900_000 + 2_000])  # and the next one the other
    assert state.json_keys("forecast:") == ["forecast:T1", "forecast:T2"]
