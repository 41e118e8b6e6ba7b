"""A user's own road network (GeoJSON / GraphML, OSM-style) replaces the synthetic graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from config.city import load_city
from config.city.road_files import (
    RoadFileError,
    load_road_file,
    parse_lanes,
    parse_maxspeed,
    road_class_of,
)
from config.city.roads import ARTERIAL, EXPRESSWAY, SECONDARY

DATA = Path(__file__).resolve().parent.parent / "data" / "city"


def test_geojson_is_split_at_intersections_and_kept_strongly_connected() -> None:
    net = load_road_file(DATA / "tiny_osm.geojson")
    assert not net.synthetic
    assert net.is_strongly_connected()
    assert net.n_nodes == 9  # 3 × 3 grid; the one-way dead-end spur is dropped
    assert "service" not in net.names


def test_oneway_and_reverse_oneway_give_single_directions() -> None:
    net = load_road_file(DATA / "tiny_osm.geojson")
    north = [i for i, n in enumerate(net.names) if n == "北行单行道"]
    south = [i for i, n in enumerate(net.names) if n == "南行单行道"]
    assert len(north) == 2 and len(south) == 2
    assert all(net.node_lat[net.dst[i]] > net.node_lat[net.src[i]] for i in north)
    assert all(net.node_lat[net.dst[i]] < net.node_lat[net.src[i]] for i in south)


def test_properties_become_class_lanes_speed() -> None:
    net = load_road_file(DATA / "tiny_osm.geojson")
    trunk = net.names.index("南北快速路")
    assert net.road_class[trunk] == EXPRESSWAY and net.free_speed_kmh[trunk] == 80.0
    primary = net.names.index("东西街 0")
    assert net.road_class[primary] == ARTERIAL and net.lanes[primary] == 2  # 4 lanes, two-way
    one = net.names.index("北行单行道")
    assert net.free_speed_kmh[one] == pytest.approx(30 * 1.609344)
    # the curved street keeps its polyline and a length longer than the chord
    assert len(net.geometry[primary]) >= 2 and (net.length_m > 500).all()


def test_graphml_loads() -> None:
    net = load_road_file(DATA / "tiny_osm.graphml")
    assert (net.n_nodes, net.n_segments) == (4, 8)
    assert net.is_strongly_connected()
    assert np.allclose(net.length_m, 500.0)
    assert net.road_class[net.names.index("五一路")] == ARTERIAL


def test_osm_value_parsing() -> None:
    assert road_class_of("motorway_link") == EXPRESSWAY
    assert road_class_of(["primary", "secondary"]) == ARTERIAL
    assert road_class_of("residential") == SECONDARY
    assert parse_maxspeed("60;80", SECONDARY) == 60.0
    assert parse_maxspeed(None, EXPRESSWAY) == 80.0
    assert parse_lanes("3", ARTERIAL, oneway=True) == 3
    assert parse_lanes("bad", ARTERIAL, oneway=False) == 2


def test_missing_or_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RoadFileError):
        load_road_file(tmp_path / "nope.geojson")
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(RoadFileError):
        load_road_file(empty)


def test_city_built_on_a_user_network() -> None:
    city = load_city(scale=0.05, road_network=str(DATA / "tiny_osm.geojson"))
    assert not city.roads.synthetic
    assert city.detectors
    assert {d.seg_id for d in city.detectors} <= set(city.roads.seg_ids)
    assert all(s.road_node < city.roads.n_nodes for s in city.stations)
