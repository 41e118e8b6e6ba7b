"""The engine worker runs the forecasting step, and its warnings reach the worker's alerts."""

from __future__ import annotations

from pathlib import Path

from alerts.engine import AlertEngine
from config.city import load_city
from config.settings import Settings
from models.forecast.live import LiveForecasts
from streams.bus.memory import MemoryBus
from streams.clock import ManualClock
from streams.roles import _engine_stage
from streams.state.memory import MemoryStateStore
from tests.models.forecast.conftest import T0_MS


def test_engine_stage_forecasts_after_the_alert_engine_and_warns_it(tmp_path: Path):
    city = load_city(scale=0.05, seed=7)
    stage = _engine_stage(Settings(data_dir=tmp_path), city, MemoryBus(), MemoryStateStore(),
                          ManualClock(T0_MS))
    alerts, forecasts = stage.after_scoring[:2]  # then the asset detectors
    assert isinstance(alerts, AlertEngine)  # _cap_ingest relies on after_scoring[0]
    assert isinstance(forecasts, LiveForecasts)
    assert forecasts.sink == alerts.forecast_warnings
    speed = [s for s in city.registry.sensors if s.metric == "speed"]
    assert (forecasts.group_of >= 0).sum() < len(city.registry)  # only the chosen metrics
    assert all(forecasts.group_of[city.registry.index_of(s.sensor_id)] == 0 for s in speed)
