"""Live per-asset detectors: grouping, warm-up in stream time, alerts that name the sensors,
quiet simulated days, caught leaks and bursts."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alerts.lifecycle import AlertService
from alerts.model import ACTIVE
from alerts.store import AlertStore, Database
from config.city import City
from models.anomaly.config import FAULT_STUCK
from models.anomaly.live_assets import (
    ALERT_TYPE,
    HAZARD_CONFIG,
    WATER_CONFIG,
    LiveAssetConfig,
    LiveAssetDetectors,
)
from models.engine import Engine
from streams.clock import ManualClock
from streams.messages import ReadingBatch, ScoreBatch
from streams.sources.simulator import Simulator
from streams.state.memory import MemoryStateStore
from tests.fixtures.city import START_MS

MIN = 60_000


def _service() -> AlertService:
    return AlertService(AlertStore(Database("sqlite://:memory:")), ManualClock(0))


def _feed(live: LiveAssetDetectors, city: City, batch: ReadingBatch) -> None:
    live.process(batch, city.registry.indices(list(batch.sensor_ids)), None)


def _asset_alerts(svc: AlertService) -> list:
    return [a for a in svc.store.alerts(limit=10_000) if a.type == ALERT_TYPE]


def test_groups_hazard_sources_and_water_zones(small_city: City) -> None:
    live = LiveAssetDetectors(small_city, MemoryStateStore())
    reg = small_city.registry
    hz = [a for a in live.assets if a.kind == "hazard"]
    wz = [a for a in live.assets if a.kind == "water"]
    assert {a.asset_id for a in hz} == {h.source_id for h in small_city.hazard_sources}
    assert {a.asset_id for a in wz} == {z.zone_id for z in small_city.water.zones}
    grades = {h.source_id: int(h.grade) for h in small_city.hazard_sources}
    for a in hz:
        assert all(reg.sensors[int(i)].asset_id == a.asset_id for i in a.sensors)
        assert a.period_ms == 5_000 and a.grade == grades[a.asset_id]
    for a in wz:
        assert all(reg.sensors[int(i)].meta["zone"] == a.asset_id for i in a.sensors)
        assert any(n.endswith("-level") for n in a.variable_names)  # the zone's tank
        assert a.period_ms == 10_000 and a.grade == 0
    # every grouped sensor has exactly one column
    cols = live.col_of[live.col_of >= 0]
    assert np.unique(cols).size == cols.size == live.inno.shape[1]


def _synthetic(
    city: City, source: str, n_rows: int, break_at: int, flip: tuple[str, ...], seed: int = 0
) -> list[ReadingBatch]:
    """5-s batches of one hazard source whose sensors share a fast common factor; from row
    ``break_at`` the sensors named in ``flip`` move against it (same marginal distribution)."""
    ids = [s.sensor_id for s in city.sensors_of_asset(source)]
    rng = np.random.default_rng(seed)
    gain = np.linspace(1.0, 2.0, len(ids))
    cols = [ids.index(f"{source.replace('HZ', 'HAZ')}-{name}") for name in flip]
    out = []
    for r in range(n_rows):
        f = rng.normal()
        v = 50.0 + gain * f + 0.1 * rng.normal(size=len(ids))
        if r >= break_at:
            v[cols] = 50.0 - gain[cols] * f + 0.1 * rng.normal(size=len(cols))
        ts = np.full(len(ids), START_MS + r * 5_000 + 1_000, np.int64)
        out.append(ReadingBatch(tuple(ids), v, ts, np.zeros(len(ids), np.uint8)))
    return out


def test_fits_after_warm_up_in_stream_time_and_names_a_coordinated_break(small_city: City) -> None:
    src = small_city.hazard_sources[0].source_id
    state, svc = MemoryStateStore(), _service()
    live = LiveAssetDetectors(small_city, state, LiveAssetConfig(fit_after_s=900.0), svc)
    flip = ("T1-pressure", "T1-level")
    batches = _synthetic(small_city, src, 500, break_at=400, flip=flip)
    a = live.asset(src)
    for k, b in enumerate(batches[:400]):
        _feed(live, small_city, b)
        # 900 s of rows at 5 s: not before row 180 of stream time, at most a row later
        if k < 179:
            assert a.detector is None
    assert a.detector is not None and not a.alarm
    assert svc.store.find_active(src, ALERT_TYPE) is None
    doc = state.get_json(f"asset:{src}")
    assert doc is not None and doc["fitted"] and len(doc["top"]) == 3
    for b in batches[400:]:
        _feed(live, small_city, b)
    alert = svc.store.find_active(src, ALERT_TYPE)
    assert alert is not None and alert.state == ACTIVE and alert.kind == "city"
    names = {f"{src.replace('HZ', 'HAZ')}-{n}" for n in flip}
    assert names <= set(alert.sensor_ids)
    assert all(n in alert.title_en and n in alert.title_zh for n in names)
    assert alert.value >= 1.0  # the peak statistic, in limit units
    doc = state.get_json(f"asset:{src}")
    assert doc is not None and {t["sensor_id"] for t in doc["top"][:2]} == names
    # recovery clears it
    for b in _synthetic(small_city, src, 400, break_at=10_000, flip=flip, seed=1)[:200]:
        b2 = ReadingBatch(b.sensor_ids, b.values, b.ts + 500 * 5_000, b.quality)
        _feed(live, small_city, b2)
    assert svc.store.find_active(src, ALERT_TYPE) is None
    assert svc.get(alert.id).state != ACTIVE


def test_a_break_confined_to_one_sensor_is_not_an_asset_alert(small_city: City) -> None:
    """One sensor leaving the others is a sensor matter (univariate rules), even when it is
    wildly abnormal for the asset's model; with ``min_vars=1`` the same data alarms."""
    src = small_city.hazard_sources[0].source_id
    batches = _synthetic(small_city, src, 500, break_at=400, flip=("T1-pressure",))
    raised = {}
    for min_vars in (2, 1):
        cfg = LiveAssetConfig(fit_after_s=900.0, hazard=replace(HAZARD_CONFIG, min_vars=min_vars))
        svc = _service()
        live = LiveAssetDetectors(small_city, MemoryStateStore(), cfg, svc)
        for b in batches:
            _feed(live, small_city, b)
        raised[min_vars] = len(_asset_alerts(svc))
        assert live.asset(src).detector is not None
    assert raised == {2: 0, 1: 1}


def test_stuck_readings_are_ignored(small_city: City) -> None:
    src = small_city.hazard_sources[0].source_id
    live = LiveAssetDetectors(small_city, MemoryStateStore())
    batches = _synthetic(small_city, src, 40, break_at=10_000, flip=())
    for b in batches[:30]:
        _feed(live, small_city, b)
    before = live.inno.copy()
    for b in batches[30:]:
        idx = small_city.registry.indices(list(b.sensor_ids))
        fault = np.full(len(b), FAULT_STUCK, np.int8)
        live.process(b, idx, ScoreBatch(b.sensor_ids, b.ts, np.zeros(len(b)), fault))
    np.testing.assert_array_equal(live.inno, before)


def test_state_round_trip_gives_the_same_scores(small_city: City) -> None:
    src = small_city.hazard_sources[0].source_id
    cfg = LiveAssetConfig(fit_after_s=900.0)
    s1, s2 = MemoryStateStore(), MemoryStateStore()
    live = LiveAssetDetectors(small_city, s1, cfg)
    batches = _synthetic(small_city, src, 300, break_at=250, flip=("T1-pressure", "T1-level"))
    for b in batches[:200]:
        _feed(live, small_city, b)
    twin = LiveAssetDetectors(small_city, s2, LiveAssetConfig())
    twin.load_state_dict(live.state_dict())
    assert twin.cfg == cfg
    for b in batches[200:]:
        _feed(live, small_city, b)
        _feed(twin, small_city, b)
        assert s1.get_json(f"asset:{src}") == s2.get_json(f"asset:{src}")
    np.testing.assert_array_equal(live.inno, twin.inno)


def _simulate(
    city: City, live: LiveAssetDetectors, sim: Simulator, minutes: int, on_minute: object = None
) -> None:
    """Simulator → univariate engine (fault codes) → live asset detectors, 1-min ticks."""
    engine = Engine(city.registry)
    for k in range(minutes):
        b = sim.step(START_MS + (k + 1) * MIN)
        idx = city.registry.indices(list(b.sensor_ids))
        live.process(b, idx, engine.process(b, idx))
        if callable(on_minute):
            on_minute(k)


def test_a_simulated_normal_day_is_quiet(small_city: City) -> None:
    """24 h of the seeded simulator, its own sensor faults on (drifts, spikes, stuck values,
    dropouts): no asset alert, every asset fitted and scored all day. The settings before this
    design (a fixed empirical 99.5 % limit, one sensor enough) alarm on the same day."""
    sim = Simulator(small_city, seed=11, start_ms=START_MS, tick_s=60)
    svc = _service()
    live = LiveAssetDetectors(small_city, MemoryStateStore(), alerts=svc)
    _simulate(small_city, live, sim, 24 * 60)
    assert sum(e.source == "fault" for e in sim.truth()) > 5  # the day has sensor faults
    assert live.fitted == len(live.assets)
    hours = min(a.rows_scored * a.period_ms for a in live.assets) / 3_600_000
    assert hours > 21.5  # scored from the end of the 2-h warm-up on
    assert _asset_alerts(svc) == []
    old = LiveAssetConfig(
        hazard=replace(HAZARD_CONFIG, alpha=0.995, tail_alpha=None, min_vars=1),
        water=replace(WATER_CONFIG, alpha=0.995, tail_alpha=None, min_vars=1),
    )
    svc_old = _service()
    live_old = LiveAssetDetectors(small_city, MemoryStateStore(), old, svc_old)
    _simulate(
        small_city, live_old, Simulator(small_city, seed=11, start_ms=START_MS, tick_s=60), 24 * 60
    )
    assert len(_asset_alerts(svc_old)) > 5


def _largest_hazard(city: City) -> str:
    return max(city.hazard_sources, key=lambda h: len(city.sensors_of_asset(h.source_id))).source_id


def _deep_node(city: City, zone: str) -> str:
    nodes = [n for n in city.water.nodes if n.zone == zone and n.hop >= 2]
    return max(nodes, key=lambda n: n.hop).node_id


@pytest.mark.parametrize(("kind", "asset"), [("chemical_leak", "hazard"), ("pipe_burst", "water")])
def test_leak_and_burst_raise_within_minutes(small_city: City, kind: str, asset: str) -> None:
    minute = 150
    if asset == "hazard":
        watched = target = _largest_hazard(small_city)
    else:
        watched = small_city.water.zones[0].zone_id
        target = _deep_node(small_city, watched)
    sim = Simulator(
        small_city, seed=7, start_ms=START_MS, tick_s=60, scenarios=f"{kind}@{minute}:{target}"
    )
    svc = _service()
    live = LiveAssetDetectors(small_city, MemoryStateStore(), alerts=svc)

    def check(k: int) -> None:
        if k == minute - 1:
            assert live.asset(watched).detector is not None
            assert _asset_alerts(svc) == []

    _simulate(small_city, live, sim, minute + 5, check)
    alert = svc.store.find_active(watched, ALERT_TYPE)
    assert alert is not None
    onset = START_MS + minute * MIN
    assert onset <= alert.first_ts <= onset + 3 * MIN
    truth = next(e for e in sim.truth() if e.source == "scenario")
    assert set(alert.sensor_ids) & set(truth.sensor_ids)
    assert alert.level <= 3  # statistic far above the severe mark: at least level III


def test_an_alarm_raised_and_cleared_inside_one_batch_is_recorded(small_city: City) -> None:
    src = small_city.hazard_sources[0].source_id
    svc = _service()
    live = LiveAssetDetectors(
        small_city, MemoryStateStore(), LiveAssetConfig(fit_after_s=900.0), svc
    )
    flip = ("T1-pressure", "T1-level")
    broken = _synthetic(small_city, src, 460, break_at=400, flip=flip)
    for b in broken[:400]:
        _feed(live, small_city, b)
    calm = _synthetic(small_city, src, 300, break_at=10_000, flip=flip, seed=2)
    late = [ReadingBatch(b.sensor_ids, b.values, b.ts + 460 * 5_000, b.quality) for b in calm]
    _feed(live, small_city, ReadingBatch.concat(broken[400:] + late))  # 12.5 min in one batch
    alerts = _asset_alerts(svc)
    assert len(alerts) == 1 and alerts[0].state != ACTIVE
    on = START_MS + 400 * 5_000 + 1_000
    assert on <= alerts[0].first_ts <= on + 60_000
    assert on + 60 * 5_000 <= alerts[0].cleared_ts  # cleared only after the break ended
    assert alerts[0].value >= 1.0 and not live.asset(src).alarm
