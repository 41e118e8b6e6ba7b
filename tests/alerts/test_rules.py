"""Each rule raises and clears with hysteresis; dedup; grouping into area alerts; levels."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.engine import AlertEngine
from alerts.lifecycle import AlertService
from alerts.model import ACTIVE, CLEARED
from config.city.registry import SensorRegistry
from models.indices.levels import EmergencyLevel
from streams.clock import ManualClock
from tests.alerts.conftest import T0, make_feeder, rules_with

S = 10_000  # 10 s between readings


def _engine(registry: SensorRegistry, service: AlertService, clock: ManualClock,
            rules=None, grades=None):  # type: ignore[no-untyped-def]
    eng = AlertEngine(registry, service, rules or service.rules, hazard_grades=grades)
    return eng, make_feeder(eng, registry, clock)


def _active(service: AlertService, type_: str | None = None) -> list:  # type: ignore[type-arg]
    return [a for a in service.store.alerts(state=ACTIVE) if type_ is None or a.type == type_]


def test_pressure_raises_after_k_breaches_and_clears_after_m_normals(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"P1": 0.10}, T0)
    assert _active(service) == []  # one breach is not enough (raise_after = 2)
    feed({"P1": 0.12}, T0 + S)
    [a] = _active(service, "water_pressure")
    assert a.source == "WN-1" and a.sensor_ids == ("P1",) and a.level == EmergencyLevel.IV
    for k in range(2, 10):  # in the band 0.14..0.15: neither breach nor normal → stays
        feed({"P1": 0.145}, T0 + k * S)
    assert len(_active(service)) == 1
    for k in range(10, 15):  # five normals: clear_after is 6
        feed({"P1": 0.30}, T0 + k * S)
    assert len(_active(service)) == 1
    feed({"P1": 0.30}, T0 + 15 * S)
    assert _active(service) == []
    [done] = service.store.alerts()
    assert done.state == CLEARED and done.cleared_ts == T0 + 15 * S
    assert [e.action for e in service.store.timeline(done.id)][-1] == "auto_clear"


def test_band_value_resets_the_breach_run(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"P1": 0.10}, T0)
    feed({"P1": 0.145}, T0 + S)
    feed({"P1": 0.10}, T0 + 2 * S)
    assert _active(service) == []


def test_severe_low_pressure_has_a_higher_level(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"P1": 0.05}, T0)
    feed({"P1": 0.05}, T0 + S)
    [a] = _active(service)
    assert a.level == EmergencyLevel.III


def test_gas_first_then_second_alarm_upgrades_one_alert(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"G1": 30.0}, T0)  # ≥ 25 %LEL: first alarm, raise_after = 1
    [a] = _active(service, "gas_combustible")
    assert a.level == EmergencyLevel.IV and "一级报警" in a.title_zh
    feed({"G1": 55.0}, T0 + 5000)  # ≥ 50 %LEL: second alarm → same alert, higher level
    [b] = _active(service, "gas_combustible")
    assert b.id == a.id and b.level == EmergencyLevel.III
    for k in range(2, 7):
        feed({"G1": 21.0}, T0 + k * 5000)  # below the alarm but above 0.8 × 25: in the band
    assert _active(service)
    for k in range(7, 13):
        feed({"G1": 5.0}, T0 + k * 5000)
    assert _active(service) == []


def test_toxic_alarm_level_is_bumped_by_the_hazard_grade(registry, service, clock):
    _, feed = _engine(registry, service, clock, grades={"HZ-2": 1})
    feed({"X1": 8.0}, T0)  # 114 % OEL: first alarm, rank 2 (III) + grade-1 bump 2 → I
    [a] = _active(service, "gas_toxic")
    assert a.level == EmergencyLevel.I


def test_water_quality_turbidity_and_chlorine(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"Q1": 2.5, "C1": 0.5}, T0)
    feed({"Q1": 2.5, "C1": 0.01}, T0 + 60_000)  # chlorine below the tap minimum 0.05
    feed({"Q1": 0.4, "C1": 0.01}, T0 + 120_000)
    [a] = _active(service, "water_quality")  # same asset WN-1: one alert (dedup)
    assert set(a.sensor_ids) == {"Q1", "C1"}


def test_congestion_uses_speed_levels_by_road_class(registry, service, clock):
    eng, feed = _engine(registry, service, clock)
    for k in range(5):
        feed({"V1": 14.0}, T0 + k * 30_000)  # arterial ≤ 15 km/h = 严重拥堵
    assert _active(service, "congestion") == []  # raise_after = 6
    feed({"V1": 14.0}, T0 + 5 * 30_000)
    [a] = _active(service, "congestion")
    assert "严重拥堵" in a.title_zh and a.source == "SEG-1"


def test_aqi_from_station_means(registry, service, clock):
    rules = rules_with(aqi={"mean_tau_s": 1, "raise_after": 2, "clear_after": 2})
    _, feed = _engine(registry, service, clock, rules)
    clean = {"A1-pm25": 20.0, "A1-pm10": 40.0, "A1-so2": 5.0, "A1-no2": 20.0, "A1-co": 0.5,
             "A1-o3": 60.0}
    dirty = {**clean, "A1-pm25": 180.0}  # PM2.5 IAQI 230 → 重度污染 (category 5) → rank 2
    feed(clean, T0)
    feed(dirty, T0 + 60_000)
    feed(dirty, T0 + 120_000)
    [a] = _active(service, "aqi")
    assert a.source == "AQS-1" and a.level == EmergencyLevel.III
    assert len(a.sensor_ids) == 6 and "重度污染" in a.title_zh
    feed(clean, T0 + 180_000)
    feed(clean, T0 + 240_000)
    assert _active(service, "aqi") == []


def test_anomaly_score_and_fault_codes(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    for k in range(3):
        feed({"T1": 40.0}, T0 + k * 5000, score={"T1": 0.95})
    [a] = _active(service, "anomaly")
    assert a.kind == "city"
    # a stuck sensor (fault 2) is a sensor alert and its readings stay out of the city rules
    for k in range(3, 6):
        feed({"P2": 0.01}, T0 + k * 5000, fault={"P2": 2})
    types = sorted(x.type for x in _active(service))
    assert types == ["anomaly", "sensor_fault"]
    [f] = _active(service, "sensor_fault")
    assert f.kind == "sensor" and f.source == "P2"


def test_a_spike_code_does_not_veto_a_gas_alarm(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"G1": 30.0}, T0, fault={"G1": 3})  # the detector calls the fast rise a spike
    assert [a.type for a in _active(service)] == ["gas_combustible"]


def test_stale_sensor_alert_and_recovery(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"P1": 0.3, "P2": 0.3}, T0)
    for k in range(1, 7):  # P2 stops; stale after max(3 × 10 s, 60 s)
        feed({"P1": 0.3}, T0 + k * 10_000)
    assert _active(service, "sensor_stale") == []
    for k in range(7, 10):
        feed({"P1": 0.3}, T0 + k * 10_000)
    [a] = _active(service, "sensor_stale")
    assert a.source == "P2"
    feed({"P1": 0.3, "P2": 0.3}, T0 + 100_000)
    assert _active(service, "sensor_stale") == []


def test_deduplication_one_alert_per_source_and_type(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"G1": 30.0, "G2": 30.0}, T0)
    feed({"G1": 30.0, "G2": 30.0}, T0 + 5000)
    [a] = _active(service)
    assert a.source == "HZ-1" and set(a.sensor_ids) == {"G1", "G2"}


def test_grouping_many_assets_in_one_district_become_one_area_alert(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    low = {"P1": 0.1, "P2": 0.1, "P3": 0.1, "P5": 0.1}
    feed(low, T0)
    feed(low, T0 + S)
    alerts = _active(service, "water_pressure")
    by_source = {a.source: a for a in alerts}
    assert set(by_source) == {"district:350102", "WN-5"}  # P5 is in another district
    area = by_source["district:350102"]
    assert set(area.sensor_ids) == {"P1", "P2", "P3"} and "3处" in area.title_zh
    # a later member joins the area alert instead of opening its own
    feed({"P4": 0.1}, T0 + 2 * S)
    feed({"P4": 0.1}, T0 + 3 * S)
    area2 = service.get(area.id)
    assert "P4" in area2.sensor_ids and len(_active(service, "water_pressure")) == 2


def test_open_singles_are_merged_into_a_new_area_alert(registry, service, clock):
    _, feed = _engine(registry, service, clock)
    feed({"P1": 0.1, "P2": 0.1}, T0)
    feed({"P1": 0.1, "P2": 0.1}, T0 + S)
    assert {a.source for a in _active(service)} == {"WN-1", "WN-2"}
    feed({"P3": 0.1}, T0 + 2 * S)
    feed({"P3": 0.1}, T0 + 3 * S)
    [area] = _active(service)
    assert area.source == "district:350102" and set(area.sensor_ids) == {"P1", "P2", "P3"}
    merged = [a for a in service.store.alerts() if a.state == CLEARED]
    assert len(merged) == 2
    assert all(service.store.timeline(m.id)[-1].action == "merge" for m in merged)


@pytest.mark.parametrize(("rank", "members", "districts", "grade", "level"), [
    (1, 1, 1, 0, 4), (2, 1, 1, 0, 3), (1, 6, 1, 0, 3), (1, 6, 3, 0, 2), (2, 1, 1, 1, 1),
    (1, 1, 1, 2, 3), (4, 9, 9, 1, 1),
])
def test_level_mapping(service, rank, members, districts, grade, level):
    assert service.rules.level_for(rank, members, districts, grade) == level


def test_operator_clear_resets_the_condition_so_it_can_rise_again(registry, service, clock):
    eng, feed = _engine(registry, service, clock)
    feed({"P1": 0.1}, T0)
    feed({"P1": 0.1}, T0 + S)
    [a] = _active(service)
    service.clear(a.id, "operator")
    for k in range(2, 10):  # the engine's refresh (every 60 s) notices and forgets the alert
        feed({"P1": 0.1}, T0 + k * S)
    [b] = _active(service)
    assert b.id != a.id


def test_waves_keep_per_sensor_order_inside_one_batch(registry, service, clock):
    """Two breaches of one sensor in the same batch count as two readings."""
    eng, _ = _engine(registry, service, clock)
    from streams.messages import ReadingBatch, ScoreBatch

    ids = ("P1", "P1", "P2")
    ts = np.array([T0 + S, T0, T0], np.int64)
    batch = ReadingBatch(ids, np.array([0.1, 0.1, 0.3]), ts, np.zeros(3, np.uint8))
    eng(batch, registry.indices(ids), ScoreBatch(ids, ts, np.zeros(3), np.zeros(3, np.int8)))
    [a] = _active(service)
    assert a.first_ts == T0 + S


def test_sudden_pressure_drop_against_the_running_baseline(registry, service, clock):
    rules = rules_with(pressure_drop={"min_readings": 5, "raise_after": 2, "clear_after": 2})
    _, feed = _engine(registry, service, clock, rules)
    for k in range(6):
        feed({"P1": 0.40}, T0 + k * S)  # baseline ≈ 0.40 MPa
    feed({"P1": 0.30}, T0 + 6 * S)  # −25 %: below the 40 % drop, nothing
    feed({"P1": 0.20}, T0 + 7 * S)
    assert _active(service, "pressure_drop") == []
    feed({"P1": 0.20}, T0 + 8 * S)  # two readings −50 %: suspected burst (rank 2 → III)
    [a] = _active(service, "pressure_drop")
    assert a.level == EmergencyLevel.III and "爆管" in a.title_zh
    feed({"P1": 0.39}, T0 + 9 * S)
    feed({"P1": 0.39}, T0 + 10 * S)  # back within 15 % of the (frozen) baseline
    assert _active(service, "pressure_drop") == []


def test_speed_drop_needs_a_warm_baseline(registry, service, clock):
    rules = rules_with(speed_drop={"min_readings": 4})
    _, feed = _engine(registry, service, clock, rules)
    feed({"V1": 60.0}, T0)
    feed({"V1": 20.0}, T0 + 30_000)  # baseline not ready yet
    assert _active(service, "speed_drop") == []
    for k in range(2, 8):
        feed({"V1": 60.0}, T0 + k * 30_000)
    feed({"V1": 25.0}, T0 + 8 * 30_000)
    [a] = _active(service, "speed_drop")
    assert a.source == "SEG-1" and a.level == EmergencyLevel.IV
