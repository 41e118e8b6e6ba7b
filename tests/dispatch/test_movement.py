"""Service + mover on a small demo city with a manual clock: the unit drives, arrives, returns."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from config.city import load_city
from dispatch.db import Database
from dispatch.movement import Mover
from dispatch.service import DispatchService
from dispatch.store import DispatchStore
from streams.bus.memory import MemoryBus
from streams.clock import ManualClock
from streams.messages import ReadingBatch
from streams.state.memory import MemoryStateStore
from streams.topics import AVL


@pytest.fixture(scope="module")
def city():  # type: ignore[no-untyped-def]
    return load_city(scale=0.05, seed=7)


@pytest.fixture()
def setup(city, tmp_path) -> Iterator[tuple[DispatchService, ManualClock, MemoryStateStore]]:  # type: ignore[no-untyped-def]
    clock = ManualClock(1_700_000_000_000)
    state = MemoryStateStore()
    svc = DispatchService(city, DispatchStore(Database(f"sqlite://{tmp_path / 'd.sqlite3'}"),
                                              clock), state, clock)
    yield svc, clock, state
    svc.store.close()


def _incident(svc: DispatchService) -> str:
    """A medical call at a road node that is no station's node (so units must drive)."""
    roads = svc.city.roads
    stations = {s.road_node for s in svc.city.stations}
    d = (roads.node_lon - 119.30) ** 2 + (roads.node_lat - 26.08) ** 2
    node = next(int(n) for n in np.argsort(d) if int(n) not in stations)
    return svc.create_incident({"type": "medical", "lon": float(roads.node_lon[node]),
                                "lat": float(roads.node_lat[node]), "priority": 2},
                               "operator").id


def test_assigned_unit_leaves_drives_arrives_and_returns(setup) -> None:  # type: ignore[no-untyped-def]
    svc, clock, state = setup
    bus = MemoryBus()
    bus.create_topics([AVL], 1)
    svc.producer = bus.producer()
    mover = Mover(svc)
    inc = _incident(svc)
    best = svc.recommendations(inc)["candidates"][0]
    svc.assign(inc, best["unit_id"], "commander")
    mover.step()
    assert svc.store.unit(best["unit_id"]).status == "dispatched"  # still turning out
    clock.advance(int(best["turnout_s"] * 1000))
    mover.step()
    assert svc.store.unit(best["unit_id"]).status == "en_route"
    start = state.get_json(f"unit:{best['unit_id']}")
    clock.advance(int(best["travel_s"] * 500))  # half way
    mover.step()
    mid = mover.positions[best["unit_id"]]
    assert mid != (start["lon"], start["lat"])
    doc = state.get_json(f"unit:{best['unit_id']}")
    assert (doc["lon"], doc["lat"], doc["status"]) == (mid[0], mid[1], "en_route")
    clock.advance(int(best["travel_s"] * 500) + 1000)
    mover.step()
    assert svc.store.unit(best["unit_id"]).status == "on_scene"
    assert svc.store.incident(inc).state == "on_scene"
    assert state.get_json(f"incident:{inc}")["status"] == "on_scene"
    svc.close_incident(inc, "closed", "commander")
    mover.step()
    assert svc.store.unit(best["unit_id"]).status == "returning"
    clock.advance(3_600_000)
    mover.step()
    assert svc.store.unit(best["unit_id"]).status == "available"
    svc.producer.flush()
    consumer = bus.consumer("test", [AVL])
    records = consumer.poll(timeout_ms=100, max_records=10_000)
    assert any(r.key == best["unit_id"].encode() for r in records)
    actors = {e.actor for e in svc.store.audit(incident_id=inc)}
    assert "system:avl" in actors


def test_live_congestion_slows_every_eta(setup, city) -> None:  # type: ignore[no-untyped-def]
    svc, clock, state = setup
    inc = _incident(svc)
    free = {c["unit_id"]: c["travel_s"] for c in svc.recommendations(inc)["candidates"]}
    ids = tuple(f"{d.detector_id}-speed" for d in city.detectors)
    state.write_readings(ReadingBatch(ids, np.full(len(ids), 5.0),
                                      np.full(len(ids), clock.now_ms(), np.int64)),
                         city.registry.indices(list(ids)))
    clock.advance(10_000)  # past the speed cache
    jam = {c["unit_id"]: c["travel_s"] for c in svc.recommendations(inc)["candidates"]}
    common = [u for u in free if u in jam and free[u] > 0]
    assert common and all(jam[u] > 3 * free[u] for u in common)
    clock.advance(3_600_000)  # readings now an hour old: ignored
    assert {c["unit_id"]: c["travel_s"] for c in svc.recommendations(inc)["candidates"]} == free


def test_with_a_background_refresher_requests_only_read_the_snapshot(setup, city) -> None:  # type: ignore[no-untyped-def]
    svc, clock, state = setup
    inc = _incident(svc)
    mover = Mover(svc)
    svc.background_refresh = True  # as Mover.start() sets it
    mover.step()
    first = svc.recommendations(inc)
    free = {c["unit_id"]: c["travel_s"] for c in first["candidates"]}
    ids = tuple(f"{d.detector_id}-speed" for d in city.detectors)
    state.write_readings(ReadingBatch(ids, np.full(len(ids), 5.0),
                                      np.full(len(ids), clock.now_ms(), np.int64)),
                         city.registry.indices(list(ids)))
    clock.advance(10_000)
    graph_matrices = svc.graph.matrices
    svc.graph.matrices = None  # type: ignore[assignment]  # a request must not rebuild
    try:
        again = svc.recommendations(inc)
    finally:
        svc.graph.matrices = graph_matrices  # type: ignore[method-assign]
    assert again["speeds_version"] == first["speeds_version"]
    assert {c["unit_id"]: c["travel_s"] for c in again["candidates"]} == free
    mover.step()  # the background step picks up the jam
    jam = svc.recommendations(inc)
    assert jam["speeds_version"] > first["speeds_version"]
    assert all(c["travel_s"] > free[c["unit_id"]] for c in jam["candidates"]
               if c["unit_id"] in free and free[c["unit_id"]] > 0)
    clock.advance(60_000)  # the background refresher stalled: the request refreshes itself
    assert svc.recommendations(inc)["speeds_version"] > jam["speeds_version"]


def test_recommendations_carry_coverage_impact(setup) -> None:  # type: ignore[no-untyped-def]
    svc, _, _ = setup
    inc = _incident(svc)
    cands = svc.recommendations(inc)["candidates"]
    assert [c["eta_s"] for c in cands] == sorted(c["eta_s"] for c in cands)
    first = cands[0]
    assert first["coverage_impact"]["nodes_affected"] == 0  # its station keeps another unit
    # commit the station's other ambulances elsewhere: now the first is its last one
    other = _incident(svc)
    for c in cands[1:]:
        if c["station_id"] == first["station_id"]:
            svc.assign(other, c["unit_id"], "commander")
    again = {c["unit_id"]: c for c in svc.recommendations(inc)["candidates"]}
    imp = again[first["unit_id"]]["coverage_impact"]
    assert imp["nodes_affected"] > 0 and imp["district"]
    assert imp["after_s"] > imp["before_s"] and imp["max_increase_s"] > 0
