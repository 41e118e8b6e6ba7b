"""Scenarios: parsing, and each one's signature on the right sensors at the right time."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from config.city import City
from streams.messages import ReadingBatch
from streams.sources.scenarios import ScenarioError, ScenarioSpec, parse_scenarios
from streams.sources.simulator import Simulator
from tests.fixtures.city import START_MS

MakeSim = Callable[..., Simulator]
MIN = 60_000


def _series(b: ReadingBatch, sensor_id: str) -> tuple[np.ndarray, np.ndarray]:
    sel = np.array([s == sensor_id for s in b.sensor_ids])
    return b.ts[sel], b.values[sel]


def _pair(
    make_simulator: MakeSim, scenarios: str, until_min: float
) -> tuple[Simulator, ReadingBatch, ReadingBatch]:
    """Same seed with and without the scenario, so differences are the scenario's doing."""
    sim = make_simulator(scenarios=scenarios)
    with_s = sim.step(START_MS + int(until_min * MIN))
    without = make_simulator().step(START_MS + int(until_min * MIN))
    return sim, with_s, without


def _delta(
    with_s: ReadingBatch, without: ReadingBatch, sensor_id: str
) -> tuple[np.ndarray, np.ndarray]:
    t, a = _series(with_s, sensor_id)
    _, b = _series(without, sensor_id)
    return t, a - b


# --- parsing ---------------------------------------------------------------------


def test_parse_items_targets_and_options() -> None:
    specs = parse_scenarios(" pipe_burst@5, chemical_leak@10:HZ-0003:severity=0.9:duration=30 ,")
    assert specs == (
        ScenarioSpec("pipe_burst", 5.0),
        ScenarioSpec("chemical_leak", 10.0, "HZ-0003", 0.9, 30.0),
    )
    assert specs[0].duration == 60.0 and specs[1].duration == 30.0
    assert parse_scenarios("") == ()


@pytest.mark.parametrize(
    "bad",
    [
        "flood@5",
        "pipe_burst",
        "pipe_burst@x",
        "pipe_burst@5:severity=2",
        "pipe_burst@5:colour=red",
        "pipe_burst@-1",
    ],
)
def test_parse_rejects_bad_items(bad: str) -> None:
    with pytest.raises(ScenarioError):
        parse_scenarios(bad)


def test_unknown_target_is_rejected(make_simulator: MakeSim) -> None:
    with pytest.raises(ScenarioError):
        make_simulator(scenarios="pipe_burst@1:HZ-0001")


# --- signatures ------------------------------------------------------------------


def test_pipe_burst_pressure_drops_and_spreads_along_pipes(
    make_simulator: MakeSim, small_city: City
) -> None:
    sim, w, wo = _pair(make_simulator, "pipe_burst@5", 20)
    ev = next(e for e in sim.truth() if e.type == "pipe_burst")
    assert ev.source == "scenario" and ev.onset_ms == START_MS + 5 * MIN
    node = ev.target
    t, d = _delta(w, wo, f"WTR-{node.split('-')[1]}-pressure")
    assert (d[t < ev.onset_ms] == 0).all()  # nothing before onset
    assert d[t > ev.onset_ms + 3 * MIN].max() < -0.15  # ≥ 0.15 MPa drop at the break
    t, f = _delta(w, wo, f"WTR-{node.split('-')[1]}-flow")
    assert (f[t > ev.onset_ms + 3 * MIN] > 0).all()  # flow up
    # a neighbour one pipe away feels it later and less
    hops = small_city.water.hops_from(small_city.water.node_index(node), 1)
    nb = next(small_city.water.nodes[j].node_id for j, h in hops.items() if h == 1)
    sid = f"WTR-{nb.split('-')[1]}-pressure"
    onset = dict(zip(ev.sensor_ids, ev.sensor_onsets_ms, strict=True))
    assert onset[sid] == ev.onset_ms + 40_000
    t, dn = _delta(w, wo, sid)
    assert (dn[t < onset[sid]] == 0).all()
    assert d.min() < dn.min() < -0.05


def test_chemical_leak_crosses_alarm_levels(make_simulator: MakeSim, small_city: City) -> None:
    sim, w, wo = _pair(make_simulator, "chemical_leak@2:severity=0.9", 15)
    ev = next(e for e in sim.truth() if e.type == "chemical_leak")
    src = small_city.hazard_source(ev.target)
    num = src.source_id.split("-")[1]
    lel = [f"HAZ-{num}-{d.detector_id}-lel" for d in src.detectors if d.kind == "lel"]
    assert set(lel) <= set(ev.sensor_ids)
    peaks = [_series(w, s)[1].max() for s in lel]
    assert max(peaks) >= 25.0  # first combustible alarm (GB/T 50493)
    before = [_series(w, s)[1][_series(w, s)[0] < ev.onset_ms] for s in lel]
    assert all((b < 5.0).all() for b in before)
    for d in src.detectors:
        if d.kind == "toxic":
            assert _series(w, f"HAZ-{num}-{d.detector_id}-toxic")[1].max() > d.alarm1


def test_traffic_accident_slows_the_segment(make_simulator: MakeSim, small_city: City) -> None:
    sim, w, wo = _pair(make_simulator, "traffic_accident@3:severity=0.8", 15)
    ev = next(e for e in sim.truth() if e.type == "traffic_accident")
    det = next(d for d in small_city.detectors if d.seg_id == ev.target)
    t, v = _series(w, f"{det.detector_id}-speed")
    _, v0 = _series(wo, f"{det.detector_id}-speed")
    late = t > ev.onset_ms + 3 * MIN
    assert (v[late] < 0.6 * v0[late]).all()
    assert np.array_equal(v[t < ev.onset_ms], v0[t < ev.onset_ms])
    t, o = _series(w, f"{det.detector_id}-occ")
    _, o0 = _series(wo, f"{det.detector_id}-occ")
    assert (o[t > ev.onset_ms + 3 * MIN] > o0[t > ev.onset_ms + 3 * MIN]).all()


def test_traffic_accident_queue_reaches_upstream_later(small_city: City) -> None:
    # bigger city so that upstream segments carry detectors too
    from config.city import load_city

    city = load_city(scale=0.5)
    sim = Simulator(city, 7, START_MS, scenarios="traffic_accident@1", fault_rate=0.0)
    ev = sim.truth(START_MS + 2 * MIN)[0]
    onsets = sorted(set(ev.sensor_onsets_ms))
    assert len(onsets) >= 2 and onsets[0] == ev.onset_ms and onsets[1] == ev.onset_ms + 90_000


def test_pollution_episode_raises_pm_over_hours(make_simulator: MakeSim, small_city: City) -> None:
    sim, w, wo = _pair(make_simulator, "pollution_episode@10", 6 * 60)
    ev = next(e for e in sim.truth() if e.type == "pollution_episode")
    for st in small_city.air_stations:
        sid = f"AIR-{st.station_id.split('-')[1]}-pm25"
        t, a = _series(w, sid)
        _, b = _series(wo, sid)
        ratio = a / np.maximum(b, 1e-9)
        assert ratio[t < ev.onset_ms].max() == pytest.approx(1.0)
        assert ratio[t > ev.onset_ms + 5 * 60 * MIN].min() > 2.5  # severity 0.7 → ×3.45
        assert ratio[(t > ev.onset_ms) & (t < ev.onset_ms + 20 * MIN)].max() < 1.35  # 3-h ramp


def test_sensor_outage_silences_a_group_then_recovers(make_simulator: MakeSim) -> None:
    sim = make_simulator(scenarios="sensor_outage@5:severity=1:duration=10")
    b = sim.step(START_MS + 25 * MIN)
    ev = next(e for e in sim.truth() if e.type == "sensor_outage")
    assert ev.sensor_ids
    for sid in ev.sensor_ids:
        t, _ = _series(b, sid)
        assert not ((t >= ev.onset_ms) & (t < ev.end_ms)).any()
        assert (t < ev.onset_ms).any() and (t >= ev.end_ms).any()


def test_outage_of_a_district_and_truth_only_after_onset(
    make_simulator: MakeSim, small_city: City
) -> None:
    sim = make_simulator(scenarios="sensor_outage@5:350102:severity=0.5")
    assert sim.truth(START_MS) == []
    ev = sim.truth(START_MS + 5 * MIN)[0]
    gulou = [s.sensor_id for s in small_city.registry.sensors if s.district == "350102"]
    assert set(ev.sensor_ids) <= set(gulou)
    assert len(ev.sensor_ids) == max(1, round(0.5 * len(gulou)))


def test_values_stay_physical_under_scenarios(make_simulator: MakeSim, small_city: City) -> None:
    sim = make_simulator(
        scenarios="pipe_burst@1:severity=1,chemical_leak@1:severity=1,"
        "traffic_accident@1:severity=1,pollution_episode@1:severity=1"
    )
    b = sim.step(START_MS + 3 * 60 * MIN)
    i = small_city.registry.indices(b.sensor_ids)
    assert ((b.values >= small_city.registry.lo[i]) & (b.values <= small_city.registry.hi[i])).all()
