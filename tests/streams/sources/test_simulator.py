"""Simulator: deterministic, periodic, physical, daily/weekly shapes, labelled faults."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from config.city import City
from streams.messages import QUALITY_BAD, ReadingBatch
from streams.sources.simulator import Simulator
from streams.sources.simulator_model import CityModel, local_clock
from tests.fixtures.city import START_MS

MakeSim = Callable[..., Simulator]
HOUR = 3_600_000


def _median(b: ReadingBatch, city: City, domain: str, metric: str) -> float:
    sensors = [city.registry.sensors[i] for i in city.registry.indices(b.sensor_ids)]
    ok = np.array([s.domain == domain and s.metric == metric for s in sensors])
    return float(np.median(b.values[ok]))


def test_same_seed_same_stream(make_simulator: MakeSim) -> None:
    a, b = make_simulator(fault_rate=0.05), make_simulator(fault_rate=0.05)
    for k in range(1, 90):
        x, y = a.step(START_MS + k * 1000), b.step(START_MS + k * 1000)
        assert x.sensor_ids == y.sensor_ids
        assert np.array_equal(x.values, y.values, equal_nan=True)
        assert np.array_equal(x.ts, y.ts)


def test_other_seed_other_values(make_simulator: MakeSim) -> None:
    a = make_simulator(seed=1).step(START_MS + 60_000)
    b = make_simulator(seed=2).step(START_MS + 60_000)
    assert not (len(a) == len(b) and np.array_equal(a.values, b.values))


@pytest.mark.parametrize("lookahead_s", [0.0, 60.0])
def test_stream_does_not_depend_on_tick_size(make_simulator: MakeSim, lookahead_s: float) -> None:
    fine = make_simulator(fault_rate=0.05, lookahead_s=lookahead_s)
    parts = [fine.step(START_MS + k * 1000) for k in range(0, 301)]
    coarse = make_simulator(fault_rate=0.05).step(START_MS + 300_000)
    joined = ReadingBatch.concat(parts)
    assert joined.sensor_ids == coarse.sensor_ids
    assert np.array_equal(joined.values, coarse.values, equal_nan=True)
    assert np.array_equal(joined.ts, coarse.ts)


def test_each_sensor_reports_on_its_period(make_simulator: MakeSim, small_city: City) -> None:
    sim = make_simulator()
    b = sim.step(START_MS + 600_000 - 1)  # [start, start + 10 min)
    counts = np.bincount(
        small_city.registry.indices(b.sensor_ids), minlength=len(small_city.registry)
    )
    assert np.array_equal(counts, 600 // small_city.registry.period_s)
    assert (np.diff(b.ts) >= 0).all()  # event-time order
    assert sim.step(START_MS + 600_000 - 1).sensor_ids == ()  # nothing twice


def test_default_tick_advances_by_tick_s(make_simulator: MakeSim) -> None:
    sim = make_simulator(tick_s=5.0)
    b1 = sim.step()
    b2 = sim.step()
    assert b1.ts.max() <= START_MS + 4_999 < b2.ts.min() <= b2.ts.max() <= START_MS + 9_999


def test_values_inside_physical_ranges_without_faults(
    make_simulator: MakeSim, small_city: City
) -> None:
    b = make_simulator().step(START_MS + 2 * 86_400_000)  # two full days
    i = small_city.registry.indices(b.sensor_ids)
    assert np.isfinite(b.values).all()
    assert ((b.values >= small_city.registry.lo[i]) & (b.values <= small_city.registry.hi[i])).all()


def test_rush_hour_slower_than_night_and_weekend(make_simulator: MakeSim, small_city: City) -> None:
    at = {}
    for name, t in (
        ("night", START_MS + 3 * HOUR),
        ("rush", START_MS + 8 * HOUR),
        ("sat_rush", START_MS + 5 * 24 * HOUR + 8 * HOUR),
    ):
        at[name] = make_simulator(start_ms=t - 60_000).step(t)
    speed = {k: _median(v, small_city, "traffic", "speed") for k, v in at.items()}
    occ = {k: _median(v, small_city, "traffic", "occ") for k, v in at.items()}
    assert speed["rush"] < 0.85 * speed["night"]
    assert speed["rush"] < speed["sat_rush"]
    assert occ["rush"] > 3 * occ["night"]


def test_daily_shapes_water_and_ozone(small_city: City) -> None:
    m = CityModel(small_city, seed=3)
    idx = np.arange(len(small_city.registry))

    def med(hour: float, domain: str, metric: str) -> float:
        v = m.values(idx, np.full(idx.size, START_MS + int(hour * HOUR)))
        sel = [
            i
            for i in idx
            if small_city.registry.sensors[i].domain == domain
            and small_city.registry.sensors[i].metric == metric
        ]
        return float(np.median(v[sel]))

    assert med(3, "water", "pressure") > med(7.5, "water", "pressure")  # night: low demand
    assert med(3, "water", "flow") < 0.5 * med(7.5, "water", "flow")
    assert med(14, "air", "o3") > 2 * med(4, "air", "o3")  # diurnal ozone


def test_no2_follows_nearby_congestion(small_city: City) -> None:
    m = CityModel(small_city, seed=3)
    st = np.arange(len(small_city.air_stations))
    clock = m.clock(np.full(st.size, START_MS + 8 * HOUR))
    tx, tc = m.station_traffic(st, clock)
    has_roads = (m.near_ptr[1:] - m.near_ptr[:-1]) > 0
    assert has_roads.any()
    assert (tc[has_roads] > 0).all() and (tc[~has_roads] == 0).all()


def test_local_clock_is_beijing_time() -> None:
    hour, weekday, _ = local_clock(np.array([START_MS, START_MS + 5 * 24 * HOUR + 90 * 60_000]))
    assert hour.tolist() == [0.0, 1.5] and weekday.tolist() == [0, 5]


def test_faults_are_recorded_and_explain_every_anomaly(
    make_simulator: MakeSim, small_city: City
) -> None:
    sim = make_simulator(fault_rate=0.05)  # ≈ 12 faults per hour on the small city
    b = sim.step(START_MS + 6 * HOUR)
    faults = [e for e in sim.truth() if e.source == "fault"]
    assert {e.type for e in faults} == {"stuck", "drift", "dropout", "spike"}
    faulty = {e.sensor_ids[0] for e in faults}
    i = small_city.registry.indices(b.sensor_ids)
    bad = (
        ~np.isfinite(b.values)
        | (b.values < small_city.registry.lo[i])
        | (b.values > small_city.registry.hi[i])
    )
    assert bad.any()
    assert {b.sensor_ids[j] for j in np.flatnonzero(bad)} <= faulty
    assert (b.quality[~np.isfinite(b.values)] == QUALITY_BAD).all()


def test_stuck_sensor_repeats_one_value(make_simulator: MakeSim) -> None:
    sim = make_simulator(fault_rate=0.05)
    b = sim.step(START_MS + 6 * HOUR)
    stuck = next(e for e in sim.truth() if e.type == "stuck")
    sel = np.array([s == stuck.sensor_ids[0] for s in b.sensor_ids])
    during = sel & (b.ts >= stuck.onset_ms) & (b.ts < stuck.end_ms)
    assert during.sum() >= 2
    assert np.unique(b.values[during]).size == 1


def test_missing_dropout_removes_rows(make_simulator: MakeSim, small_city: City) -> None:
    sim = make_simulator(fault_rate=0.05)
    b = sim.step(START_MS + 6 * HOUR)
    miss = [e for e in sim.truth() if e.type == "dropout" and e.detail == "missing"]
    assert miss
    e = miss[0]
    ts = b.ts[np.array([s == e.sensor_ids[0] for s in b.sensor_ids])]
    assert not ((ts >= e.onset_ms) & (ts < e.end_ms)).any()


def test_normal_operation_meets_water_standards() -> None:
    from config.city import load_city

    city = load_city(scale=1.0)
    m = CityModel(city, seed=5)
    reg = city.registry
    for metric, lo, hi in (("pressure", 0.14, 1.0), ("chlorine", 0.05, 2.0), ("turbidity", 0, 1)):
        idx = np.array(
            [i for i, s in enumerate(reg.sensors) if s.domain == "water" and s.metric == metric]
        )
        for half_hour in range(48):
            v = m.values(idx, np.full(idx.size, START_MS + half_hour * HOUR // 2))
            assert lo <= v.min() and v.max() <= hi, (metric, half_hour)


@pytest.mark.parametrize("weekday", [0, 4, 5, 6])
def test_day_shapes_are_continuous_over_midnight(weekday):
    from streams.sources.simulator_model import traffic_demand, water_demand

    for f in (traffic_demand, water_demand):
        before = f(np.array([24.0 - 1e-6]), np.array([weekday]))[0]
        after = f(np.array([0.0]), np.array([weekday]))[0]
        assert after == pytest.approx(before, rel=1e-3), f.__name__
        # and smooth: no step anywhere in the day bigger than the largest rush-hour slope
        h = np.arange(0.0, 24.0, 1 / 60)
        assert np.abs(np.diff(f(h, np.full(h.size, weekday)))).max() < 0.02
