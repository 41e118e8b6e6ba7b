"""Live per-asset detectors: grouping, warm-up in stream time, alerts that name the sensors."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.lifecycle import AlertService
from alerts.model import ACTIVE
from alerts.store import AlertStore, Database
from config.city import City
from models.anomaly.live_assets import ALERT_TYPE, LiveAssetConfig, LiveAssetDetectors
from streams.clock import ManualClock
from streams.messages import ReadingBatch
from streams.sources.simulator import Simulator
from streams.state.memory import MemoryStateStore
from tests.fixtures.city import START_MS


def _service() -> AlertService:
    return AlertService(AlertStore(Database("sqlite://:memory:")), ManualClock(0))


def _feed(live: LiveAssetDetectors, city: City, batch: ReadingBatch) -> None:
    live.process(batch, city.registry.indices(list(batch.sensor_ids)), None)


def test_groups_hazard_sources_and_water_zones(small_city: City) -> None:
    live = LiveAssetDetectors(small_city, MemoryStateStore())
    reg = small_city.registry
    hz = [a for a in live.assets if a.kind == "hazard"]
    wz = [a for a in live.assets if a.kind == "water"]
    assert {a.asset_id for a in hz} == {h.source_id for h in small_city.hazard_sources}
    assert {a.asset_id for a in wz} == {z.zone_id for z in small_city.water.zones}
    for a in hz:
        assert all(reg.sensors[int(i)].asset_id == a.asset_id for i in a.sensors)
        assert a.period_ms == 5_000
    for a in wz:
        assert all(reg.sensors[int(i)].meta["zone"] == a.asset_id for i in a.sensors)
        assert any(n.endswith("-level") for n in a.variable_names)  # the zone's tank
        assert a.period_ms == 10_000
    # every grouped sensor has exactly one column
    cols = live.col_of[live.col_of >= 0]
    assert np.unique(cols).size == cols.size == live.last.size


def _synthetic(city: City, source: str, n_rows: int, break_at: int, seed: int = 0
               ) -> list[ReadingBatch]:
    """5-s batches of one hazard source whose sensors share a fast common factor; from row
    ``break_at`` the tank pressure moves against it (same marginal distribution)."""
    ids = [s.sensor_id for s in city.sensors_of_asset(source)]
    rng = np.random.default_rng(seed)
    gain = np.linspace(1.0, 2.0, len(ids))
    out = []
    for r in range(n_rows):
        f = rng.normal()
        v = 50.0 + gain * f + 0.1 * rng.normal(size=len(ids))
        if r >= break_at:
            j = ids.index(f"{source.replace('HZ', 'HAZ')}-T1-pressure")
            v[j] = 50.0 - gain[j] * f + 0.1 * rng.normal()
        ts = np.full(len(ids), START_MS + r * 5_000 + 1_000, np.int64)
        out.append(ReadingBatch(tuple(ids), v, ts, np.zeros(len(ids), np.uint8)))
    return out


def test_fits_after_warm_up_in_stream_time_and_names_a_broken_correlation(
        small_city: City) -> None:
    src = small_city.hazard_sources[0].source_id
    state, svc = MemoryStateStore(), _service()
    live = LiveAssetDetectors(small_city, state, LiveAssetConfig(fit_after_s=600.0), svc)
    batches = _synthetic(small_city, src, 400, break_at=300)
    a = live.asset(src)
    for k, b in enumerate(batches[:300]):
        _feed(live, small_city, b)
        # 600 s of rows at 5 s: not before row 120 of stream time, at most a row later
        if k < 119:
            assert a.detector is None
    assert a.detector is not None and not a.alarm
    assert svc.store.find_active(src, ALERT_TYPE) is None
    doc = state.get_json(f"asset:{src}")
    assert doc is not None and doc["fitted"] and len(doc["top"]) == 3
    for b in batches[300:]:
        _feed(live, small_city, b)
    alert = svc.store.find_active(src, ALERT_TYPE)
    assert alert is not None and alert.state == ACTIVE
    name = f"{src.replace('HZ', 'HAZ')}-T1-pressure"
    assert name in alert.sensor_ids and name in alert.title_en and name in alert.title_zh
    doc = state.get_json(f"asset:{src}")
    assert doc is not None and doc["top"][0]["sensor_id"] == name
    # recovery clears it
    for b in _synthetic(small_city, src, 400, break_at=10_000, seed=1)[:200]:
        b2 = ReadingBatch(b.sensor_ids, b.values, b.ts + 400 * 5_000, b.quality)
        _feed(live, small_city, b2)
    assert svc.store.find_active(src, ALERT_TYPE) is None
    assert svc.get(alert.id).state != ACTIVE


def test_state_round_trip_gives_the_same_scores(small_city: City) -> None:
    src = small_city.hazard_sources[0].source_id
    cfg = LiveAssetConfig(fit_after_s=600.0)
    s1, s2 = MemoryStateStore(), MemoryStateStore()
    live = LiveAssetDetectors(small_city, s1, cfg)
    batches = _synthetic(small_city, src, 260, break_at=10_000)
    for b in batches[:200]:
        _feed(live, small_city, b)
    twin = LiveAssetDetectors(small_city, s2, LiveAssetConfig())
    twin.load_state_dict(live.state_dict())
    assert twin.cfg == cfg
    for b in batches[200:]:
        _feed(live, small_city, b)
        _feed(twin, small_city, b)
        assert s1.get_json(f"asset:{src}") == s2.get_json(f"asset:{src}")


@pytest.mark.parametrize("minute", [80])
def test_chemical_leak_is_caught(small_city: City, minute: int) -> None:
    target = max(small_city.hazard_sources,
                 key=lambda h: len(small_city.sensors_of_asset(h.source_id))).source_id
    sim = Simulator(small_city, seed=7, start_ms=START_MS, fault_rate=0.0,
                    scenarios=f"chemical_leak@{minute}:{target}")
    svc = _service()
    live = LiveAssetDetectors(small_city, MemoryStateStore(), LiveAssetConfig(fit_after_s=3600.0),
                              svc)
    for k in range(minute + 15):
        _feed(live, small_city, sim.step(START_MS + (k + 1) * 60_000))
        if k == minute - 1:
            assert svc.store.find_active(target, ALERT_TYPE) is None
    alert = svc.store.find_active(target, ALERT_TYPE)
    assert alert is not None
    assert alert.first_ts >= START_MS + minute * 60_000
    assert any(s.endswith(("-lel", "-toxic", "-level", "-pressure")) for s in alert.sensor_ids)


def test_warm_compiles(small_city: City) -> None:
    LiveAssetDetectors(small_city, MemoryStateStore()).warm()
