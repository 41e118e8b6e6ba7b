"""Factories for the alert tests: a tiny registry, a service on a manual clock, a feeder."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from alerts.config import AlertRules, load_rules
from alerts.engine import AlertEngine
from alerts.lifecycle import AlertService
from alerts.publish import AlertPublisher
from alerts.store import AlertStore, Database
from config.city.registry import Sensor, SensorRegistry
from streams.clock import ManualClock
from streams.messages import Domain, ReadingBatch, ScoreBatch
from streams.state.memory import MemoryStateStore

T0 = 1_780_273_800_000  # 2026-06-01 08:30 Beijing


def _s(sid: str, domain: Domain, metric: str, asset: str, district: str = "350102",
       cell: str = "8841b530a1fffff", period: int = 10, lo: float = 0.0, hi: float = 1000.0,
       **meta: object) -> Sensor:
    return Sensor(sid, domain, metric, "", 119.30, 26.08, district, cell, lo, hi, asset, period,
                  dict(meta))


def small_registry() -> SensorRegistry:
    sensors = [
        _s("P1", "water", "pressure", "WN-1"),
        _s("P2", "water", "pressure", "WN-2"),
        _s("P3", "water", "pressure", "WN-3"),
        _s("P4", "water", "pressure", "WN-4"),
        _s("P5", "water", "pressure", "WN-5", district="350103", cell="8841b530c7fffff"),
        _s("Q1", "water", "turbidity", "WN-1", period=60),
        _s("C1", "water", "chlorine", "WN-1", period=60),
        _s("G1", "hazard", "lel", "HZ-1", period=5, alarm1=25.0, alarm2=50.0),
        _s("G2", "hazard", "lel", "HZ-1", period=5, alarm1=25.0, alarm2=50.0),
        _s("X1", "hazard", "toxic", "HZ-2", period=5, alarm1=7.0, alarm2=14.0, oel_ppm=7.0),
        _s("V1", "traffic", "speed", "SEG-1", period=30, road_class="arterial"),
        _s("T1", "hazard", "temperature", "HZ-1", period=5, lo=-50.0),
    ]
    for m in ("pm25", "pm10", "so2", "no2", "co", "o3"):
        sensors.append(_s(f"A1-{m}", "air", m, "AQS-1", period=60))
    return SensorRegistry(sensors)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def state() -> MemoryStateStore:
    return MemoryStateStore()


@pytest.fixture
def service(clock: ManualClock, state: MemoryStateStore) -> AlertService:
    return AlertService(AlertStore(Database("sqlite://:memory:")), clock, load_rules(),
                        AlertPublisher(state))


Feed = Callable[..., None]


def make_feeder(engine: AlertEngine, registry: SensorRegistry, clock: ManualClock) -> Feed:
    """``feed({"P1": 0.1, ...}, t=ms, score={...}, fault={...})``: one batch at time t."""

    def feed(values: dict[str, float], t: int, score: dict[str, float] | None = None,
             fault: dict[str, int] | None = None) -> None:
        ids: Sequence[str] = tuple(values)
        n = len(ids)
        ts = np.full(n, t, np.int64)
        clock.set(t)
        batch = ReadingBatch(tuple(ids), np.array([values[i] for i in ids], np.float64), ts,
                             np.zeros(n, np.uint8))
        sc = np.array([(score or {}).get(i, 0.0) for i in ids], np.float64)
        fa = np.array([(fault or {}).get(i, 0) for i in ids], np.int8)
        engine(batch, registry.indices(ids), ScoreBatch(tuple(ids), ts, sc, fa))

    return feed


@pytest.fixture
def registry() -> SensorRegistry:
    return small_registry()


def rules_with(**rule_patches: dict[str, object]) -> AlertRules:
    return load_rules(overrides={"rules": rule_patches})
