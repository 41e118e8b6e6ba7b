"""The engine worker runs the per-asset detectors after the alert engine, on its service."""

from __future__ import annotations

from pathlib import Path

from alerts.engine import AlertEngine
from config.city import load_city
from config.settings import Settings
from models.anomaly.live_assets import LiveAssetDetectors
from streams.bus.memory import MemoryBus
from streams.clock import ManualClock
from streams.roles import _engine_stage
from streams.state.memory import MemoryStateStore
from tests.fixtures.city import START_MS


def test_engine_stage_runs_the_asset_detectors_on_the_alert_service(tmp_path: Path) -> None:
    city = load_city(scale=0.05, seed=7)
    state = MemoryStateStore()
    stage = _engine_stage(
        Settings(data_dir=tmp_path), city, MemoryBus(), state, ManualClock(START_MS)
    )
    alerts = stage.after_scoring[0]
    assets = [s for s in stage.after_scoring if isinstance(s, LiveAssetDetectors)]
    assert isinstance(alerts, AlertEngine) and len(assets) == 1
    live = assets[0]
    assert stage.after_scoring.index(live) > 0  # after the alert engine
    assert live.alerts is alerts.service and live.state is state
    assert {a.asset_id for a in live.assets} >= {h.source_id for h in city.hazard_sources}
