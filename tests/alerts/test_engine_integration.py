"""The alert engine as the engine worker's after-scoring step; forecasts; the factory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alerts.engine import AlertEngine
from alerts.factory import build_alert_engine, database_url
from alerts.model import ACTIVE
from config.city import load_city
from config.settings import Settings
from dashboard.api.dispatch_runtime import database_url as dispatch_url
from models.engine import Engine
from models.forecast.warnings import ABOVE, early_warnings
from streams.bus.base import Record
from streams.bus.memory import MemoryBus
from streams.clock import ManualClock
from streams.codec import encode_batch
from streams.runtime import EngineStage
from streams.sources.simulator import Simulator
from streams.state.memory import MemoryStateStore
from streams.topics import ALERTS, DEAD_LETTER, SCORES, readings_topic
from streams.validation import Validator
from tests.alerts.conftest import T0, make_feeder


def test_same_database_as_dispatch(tmp_path: Path):
    s = Settings(data_dir=tmp_path)
    assert database_url(s) == dispatch_url(s)


def test_engine_stage_runs_the_alert_step_on_a_chemical_leak(tmp_path: Path):
    city = load_city(scale=0.05, seed=7)
    reg = city.registry
    state = MemoryStateStore()
    bus = MemoryBus()
    bus.create_topics([ALERTS, SCORES, DEAD_LETTER], 1)
    clock = ManualClock(T0)
    alerts = build_alert_engine(Settings(data_dir=tmp_path), city, state, bus.producer(), clock)
    stage = EngineStage(reg, state, bus.producer(), Engine(reg),
                        Validator(reg, 300_000, clock.now_ms), after_scoring=[alerts])
    src = next(h for h in city.hazard_sources if any(d.kind == "lel" for d in h.detectors))
    sim = Simulator(city, seed=3, start_ms=T0, tick_s=60,
                    scenarios=f"chemical_leak@2:{src.source_id}:severity=1", fault_rate=0.0)
    for k in range(1, 9):
        now = T0 + k * 60_000
        clock.set(now)
        batch = sim.step(now)
        haz = batch.take(np.array([reg.domain_of(i) == "hazard"
                                   for i in reg.indices(batch.sensor_ids)]))
        stage.process([Record(readings_topic("hazard"), 0, k, None, encode_batch(haz), now)])
    active = alerts.service.store.alerts(state=ACTIVE)
    gas = [a for a in active if a.type.startswith("gas_")]
    assert gas and any(a.source == src.source_id for a in gas)
    assert any(k.startswith("alert:") for k in state.json_keys("alert:"))


def test_forecast_warnings_raise_and_clear(registry, service, clock):
    eng = AlertEngine(registry, service)
    i = registry.indices(["A1-pm25"])
    yhat = np.array([[150.0, 180.0, 230.0]])
    w = early_warnings(yhat, yhat - 10, yhat + 10, 200.0, ABOVE, 3600)
    eng.forecast_warnings(i, w, T0)
    [a] = service.store.alerts(state=ACTIVE)
    assert a.type == "forecast" and a.value == 180.0  # lead time (minutes) to the crossing
    calm = early_warnings(yhat * 0.3, yhat * 0.3, yhat * 0.3, 200.0, ABOVE, 3600)
    for k in range(1, 4):
        eng.forecast_warnings(i, calm, T0 + k * 60_000)
    assert service.store.alerts(state=ACTIVE) == []


def test_forecast_events_from_json_documents(registry, service, clock):
    eng = AlertEngine(registry, service)
    eng.forecast_events([{"sensor_id": "P1", "fires": True, "confidence": 3, "lead_s": 600,
                          "ts": T0}, {"sensor_id": "unknown", "fires": True}])
    [a] = service.store.alerts(state=ACTIVE)
    assert a.source == "WN-1" and a.kind == "city"


def test_feeder_fixture_is_deterministic(registry, service, clock):
    eng = AlertEngine(registry, service)
    feed = make_feeder(eng, registry, clock)
    feed({"P1": 0.1}, T0)
    assert eng.readings == 1 and eng.batches == 1
