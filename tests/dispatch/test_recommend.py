"""Recommendation on small hand-checkable graphs: ETAs, plan, congestion reorders."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.model import Requirement
from dispatch.recommend import UnitInput, UnitTable, outstanding, rank
from dispatch.routing import TravelGraph
from dispatch.speeds import segment_speeds

# A line of four nodes 0 - 1 - 2 - 3 (both directions) plus a 2 km bypass 0 -> 3 -> 0.
#   segments: 0:0→1 1:1→0 2:1→2 3:2→1 4:2→3 5:3→2 6:0→3 7:3→0
SRC = np.array([0, 1, 1, 2, 2, 3, 0, 3])
DST = np.array([1, 0, 2, 1, 3, 2, 3, 0])
LEN = np.array([1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 1000.0, 2000.0, 2000.0])
FREE = np.full(8, 36.0)  # 10 m/s: 1 km = 100 s


@pytest.fixture()
def graph() -> TravelGraph:
    return TravelGraph(SRC, DST, LEN, 4)


def test_reverse_search_gives_every_nodes_time_to_the_incident(graph: TravelGraph) -> None:
    # to node 2: from 1 is 100 s, from 3 is 100 s, from 0 via 1 is 200 s
    assert graph.times_to(2, FREE).tolist() == [200.0, 100.0, 0.0, 100.0]


def test_times_to_equals_forward_times_from(graph: TravelGraph) -> None:
    fwd, rev = graph.matrices(FREE)
    to3 = graph.times_to(3, FREE, rev)
    from_all = graph.times_from(np.arange(4), fwd)[:, 3]
    assert np.allclose(to3, from_all)


def test_parallel_segments_keep_the_fastest() -> None:
    g = TravelGraph(np.array([0, 0, 1]), np.array([1, 1, 0]), np.array([1000.0, 500.0, 1000.0]), 2)
    assert g.times_to(1, np.full(3, 36.0)).tolist() == [50.0, 0.0]


def test_eta_adds_turnout_and_sorts_by_eta(graph: TravelGraph) -> None:
    units = [UnitInput("E0", "fire_engine", "S0", ("fire_suppression",), 0),
             UnitInput("E1", "fire_engine", "S1", ("fire_suppression",), 1),
             UnitInput("A3", "ambulance", "S3", ("ems_bls",), 3)]
    times = graph.times_to(2, FREE)
    c = rank(units, times, (Requirement("fire_suppression", 1), Requirement("ems_bls", 1)))
    assert [x.unit_id for x in c] == ["A3", "E1", "E0"]
    assert [x.eta_s for x in c] == [160.0, 180.0, 280.0]  # 60/80 s turnout + travel
    assert [x.in_plan for x in c] == [True, True, False]


def test_congestion_on_the_direct_road_reorders(graph: TravelGraph) -> None:
    units = [UnitInput("NEAR", "ambulance", "S1", ("ems_bls",), 1),
             UnitInput("FAR", "ambulance", "S3", ("ems_bls",), 3)]
    plan = (Requirement("ems_bls", 1),)
    free = rank(units, graph.times_to(0, FREE), plan)
    assert [x.unit_id for x in free] == ["NEAR", "FAR"]  # 100 s vs 200 s (bypass)
    # a detector on 1→0 reads 6 km/h: that kilometre now takes 600 s
    speeds = segment_speeds(FREE, np.zeros(8, np.int8), np.array([1]), np.array([6.0]),
                            fill_uninstrumented=False)
    jam = rank(units, graph.times_to(0, speeds), plan)
    assert [x.unit_id for x in jam] == ["FAR", "NEAR"]
    # NEAR now drives 1→2→3→0: 100 + 100 + 200 s
    assert {x.unit_id: x.travel_s for x in jam} == {"FAR": 200.0, "NEAR": 400.0}


def test_stale_or_missing_readings_leave_free_flow() -> None:
    out = segment_speeds(FREE, np.zeros(8, np.int8), np.array([1, 2]), np.array([np.nan, -1.0]))
    assert out.tolist() == FREE.tolist()


def test_uninstrumented_segments_follow_their_class_median() -> None:
    classes = np.array([0, 0, 0, 1, 1, 1, 1, 1], np.int8)
    out = segment_speeds(FREE, classes, np.array([0]), np.array([18.0]))
    assert out[:3].tolist() == [18.0, 18.0, 18.0]  # class 0 at half speed
    assert out[3:].tolist() == [36.0] * 5  # class 1 had no reading


def test_committed_units_reduce_what_the_plan_still_needs() -> None:
    reqs = (Requirement("fire_suppression", 2), Requirement("ems_bls", 1))
    assert outstanding(reqs, [("fire_suppression", "water_supply")]) == {
        "fire_suppression": 1, "ems_bls": 1}
    units = [UnitInput(f"E{i}", "fire_engine", "S", ("fire_suppression",), 0) for i in range(3)]
    c = rank(units, np.zeros(1), reqs, committed_caps=[("fire_suppression",)])
    assert [x.in_plan for x in c] == [True, False, False]


def test_units_without_a_needed_capability_are_not_candidates(graph: TravelGraph) -> None:
    units = [UnitInput("P", "police_car", "S", ("law_enforcement",), 0)]
    assert rank(units, graph.times_to(1, FREE), (Requirement("ems_bls", 1),)) == []


def test_limit_keeps_in_plan_units_beyond_it_and_respects_availability() -> None:
    units = [UnitInput(f"P{i}", "police_car", "S", ("law_enforcement",), i) for i in range(4)]
    units.append(UnitInput("H", "hazmat", "S", ("hazmat",), 4))
    times = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    reqs = (Requirement("law_enforcement", 1), Requirement("hazmat", 1))
    table = UnitTable(units)
    c = table.rank(times, reqs, limit=2)
    assert [x.unit_id for x in c] == ["P0", "P1", "H"]  # H is past the limit but in plan
    assert [x.in_plan for x in c] == [True, False, True]
    assert [x.unit_id for x in rank(units, times, reqs, limit=2)] == ["P0", "P1", "H"]
    busy = np.array([False, True, True, True, True])
    c = table.rank(times, reqs, available=busy, limit=2)
    assert [x.unit_id for x in c] == ["P1", "P2", "H"] and c[0].in_plan


def test_ties_go_to_the_unit_id() -> None:
    units = [UnitInput(u, "ambulance", "S", ("ems_bls",), 0) for u in ("B", "C", "A")]
    c = rank(units, np.zeros(1), (Requirement("ems_bls", 1),))
    assert [x.unit_id for x in c] == ["A", "B", "C"]
