"""The demo city: deterministic, sized by scale, everything inside Fuzhou and on land."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from config.city import City, load_city
from config.city import emergency as em
from config.city.city import _build
from config.city.hazard import CHEMICALS, alpha_of, grade_of, r_value
from config.city.placement import DensityField
from config.city.roads import ROAD_CLASSES
from config.city.siting import first_due
from config.city.spec import CORE_DISTRICTS


def _positions(city: City) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([s.lon for s in city.registry.sensors]),
        np.array([s.lat for s in city.registry.sensors]),
    )


def test_same_seed_same_city_other_seed_other_city() -> None:
    a = _build("fuzhou", 0.05, 11, "")
    b = _build("fuzhou", 0.05, 11, "")
    c = _build("fuzhou", 0.05, 12, "")
    assert a.registry.ids == b.registry.ids
    assert np.array_equal(_positions(a)[0], _positions(b)[0])
    assert np.array_equal(a.roads.node_lon, b.roads.node_lon)
    assert not np.array_equal(a.roads.node_lon, c.roads.node_lon)


def test_load_city_is_cached_per_arguments() -> None:
    assert load_city(scale=0.05, seed=3) is load_city(scale=0.05, seed=3)


def test_about_5000_sensors_at_scale_1_and_count_scales() -> None:
    n1 = len(load_city(scale=1.0).registry)
    assert 4800 <= n1 <= 5200
    n02 = len(load_city(scale=0.2).registry)
    assert 0.17 * n1 <= n02 <= 0.23 * n1


def test_every_domain_present_with_expected_ids(small_city: City) -> None:
    reg = small_city.registry
    for dom in ("traffic", "air", "water", "hazard"):
        assert reg.of_domain(dom).size > 0
    assert reg.get("AIR-0001-pm25") is not None
    assert reg.get("TRF-000001-speed") is not None
    assert all(s.sensor_id.startswith(("TRF-", "AIR-", "WTR-", "HAZ-")) for s in reg.sensors)


@pytest.mark.parametrize("scale", [0.05, 1.0])
def test_every_sensor_inside_its_district_and_on_land(scale: float) -> None:
    city = load_city(scale=scale)
    lon, lat = _positions(city)
    claimed = np.array([s.district for s in city.registry.sensors])
    assert (city.geo.district_of(lon, lat) == claimed).all()
    assert city.geo.on_land(lon, lat).all()


def test_sensor_cells_are_grid_cells_at_the_district_resolution(small_city: City) -> None:
    for s in small_city.registry.sensors:
        cell = small_city.grid.get(s.cell)
        assert cell is not None
        assert h3.get_resolution(s.cell) == small_city.grid.res_of_district[s.district]
        assert h3.latlng_to_cell(s.lat, s.lon, cell.resolution) == s.cell


def test_grid_is_fine_in_the_core_and_coarse_outside(small_city: City) -> None:
    res = {c.district: c.resolution for c in small_city.grid.cells}
    assert res["350102"] == 8 and res["350112"] == 8
    assert res["350125"] == 6


def test_districts_have_chinese_and_pinyin_names(small_city: City) -> None:
    names = {d.adcode: (d.name_zh, d.name_en) for d in small_city.districts}
    assert len(names) == 13
    assert names["350102"] == ("鼓楼区", "Gulou District")
    assert all(d.polygon.is_valid for d in small_city.districts)


def test_road_graph_is_synthetic_strongly_connected_and_labelled(small_city: City) -> None:
    r = small_city.roads
    assert r.synthetic
    assert r.is_strongly_connected()
    assert set(np.unique(r.road_class).tolist()) == {0, 1, 2}
    assert all("Synthetic" in n and "合成" in n for n in r.names)
    assert (r.length_m > 0).all()


def test_road_nodes_are_on_land_inside_the_city() -> None:
    r = load_city(scale=1.0).roads
    geo = load_city(scale=1.0).geo
    assert (geo.district_index(r.node_lon, r.node_lat) >= 0).all()
    assert geo.on_land(r.node_lon, r.node_lat).all()
    # dense core: the old city holds a large share of the nodes for its ~200 km²
    d = geo.district_of(r.node_lon, r.node_lat)
    assert np.isin(d, ["350102", "350103", "350104"]).mean() > 0.15


def test_free_speeds_fit_the_class_bands() -> None:
    r = load_city(scale=1.0).roads
    # free flow must read as 畅通 in DOMAIN.md §3.2 (> 65 / > 40 / > 35 km/h)
    floor = np.array([65.0, 40.0, 35.0])[r.road_class]
    assert (r.free_speed_kmh > floor).all()
    assert {ROAD_CLASSES[int(c)] for c in r.road_class} == set(ROAD_CLASSES)


def test_physical_ranges_are_sane(small_city: City) -> None:
    reg = small_city.registry
    assert (reg.lo < reg.hi).all()
    by_metric = {(s.domain, s.metric): (s.lo, s.hi, s.unit) for s in reg.sensors}
    assert by_metric[("water", "pressure")][:2] == (0.0, 1.6)
    assert by_metric[("traffic", "occ")] == (0.0, 100.0, "%")
    assert by_metric[("hazard", "lel")] == (0.0, 100.0, "%LEL")
    assert by_metric[("air", "pm25")][2] == "ug/m3"
    for s in reg.sensors:
        if s.metric == "toxic":
            assert s.hi >= 2 * s.meta["alarm2"]  # the range covers the second alarm


def test_hazard_grade_follows_gb18218() -> None:
    assert [alpha_of(n) for n in (0, 1, 29, 30, 50, 100)] == [0.5, 1.0, 1.0, 1.2, 1.5, 2.0]
    assert r_value(2.0, [(CHEMICALS["cl2"], 100.0)]) == pytest.approx(160.0)
    assert [grade_of(r) for r in (100, 99.9, 50, 10, 9.9)] == [1, 2, 2, 3, 4]


def test_hazard_sources_have_stock_people_and_detectors() -> None:
    srcs = load_city(scale=1.0).hazard_sources
    assert 45 <= len(srcs) <= 55
    assert {s.kind for s in srcs} == {"chemical_plant", "gas_station", "tank_farm"}
    assert any(s.is_major for s in srcs) and any(not s.is_major for s in srcs)
    for s in srcs:
        assert s.stock and s.tanks and any(d.kind == "lel" for d in s.detectors)
        assert s.grade in (0, 1, 2, 3, 4)


def test_water_network_tanks_and_quality(small_city: City) -> None:
    w = small_city.water
    assert len(w.zones) >= 2 and len(w.tanks) >= 2
    assert all(t.min_level_m < t.max_level_m <= t.height_m for t in w.tanks)
    assert all(n.hop == 0 for n in (w.nodes[z.source_node] for z in w.zones))
    assert len(w.hops_from(0, 100)) == len(w.nodes)  # one connected network


def test_units_have_home_station_and_capabilities(small_city: City) -> None:
    stations = {s.station_id: s for s in small_city.stations}
    kinds = {u.kind for u in small_city.units}
    assert {"fire_engine", "ladder", "hazmat", "ambulance", "police_car", "rescue"} <= kinds
    roads = small_city.roads
    for u in small_city.units:
        st = stations[u.station_id]
        assert u.capabilities
        assert u.home_node == st.road_node < roads.n_nodes
        # stations sit on their road node, units at their home station
        assert (u.home_lon, u.home_lat) == (st.lon, st.lat)
        assert (st.lon, st.lat) == (roads.node_lon[st.road_node], roads.node_lat[st.road_node])


@pytest.mark.parametrize("scale", [0.05, 1.0])
def test_every_district_has_fire_ems_and_police(scale: float) -> None:
    city = load_city(scale=scale)
    have = {(s.district, s.kind) for s in city.stations}
    for d in city.districts:
        for kind in ("fire", "ems", "police"):
            assert (d.adcode, kind) in have, (d.name_en, kind)
    seat_tiers = {s.tier for s in city.stations if s.district not in CORE_DISTRICTS}
    assert "seat" in seat_tiers and "town" in seat_tiers
    kinds = {s.station_id: s.kind for s in city.stations}
    for u in city.units:  # each unit belongs to a station of its service
        assert kinds[u.station_id] == {"ambulance": "ems", "police_car": "police"}.get(
            u.kind, "fire")


def test_stations_are_dense_in_the_centre_and_the_fleet_is_bench_sized() -> None:
    city = load_city(scale=1.0)
    assert 250 <= len(city.units) <= 350
    fire = [s for s in city.stations if s.kind == "fire"]
    core = [s for s in fire if s.district in CORE_DISTRICTS]
    area = {d.adcode: d.area_km2 for d in city.districts}
    core_km2 = sum(area[c] for c in CORE_DISTRICTS)
    rural_km2 = sum(area.values()) - core_km2
    # far more fire stations per km² in the urban districts than in the rural counties
    assert len(core) / core_km2 > 4 * (len(fire) - len(core)) / rural_km2
    again = _build("fuzhou", 1.0, city.seed, "")
    assert [(s.station_id, s.road_node) for s in again.stations] == [
        (s.station_id, s.road_node) for s in city.stations]


def test_fire_stations_meet_gb51080_in_the_urban_area() -> None:
    """Built-up cells within 240 s of road travel; first-due districts ≤ 7 / 15 km²."""
    city = load_city(scale=1.0)
    dem = em._demand(DensityField.build(city.geo), city.roads)
    fire = np.array([s.road_node for s in city.stations if s.kind == "fire"])
    t, owner = first_due(city.roads.csgraph("time"), fire, dem.node, dem.access_s)
    core, edge = dem.zone == 0, dem.zone == 1
    reached = t <= em.URBAN_TRAVEL_S
    assert reached[core].all()
    # by demand weight: the unreached edge cells are those far off the modelled roads
    assert np.average(reached[edge], weights=dem.weight[edge]) >= 0.85
    load = dem.cell_km2 * (core / em.CORE_DISTRICT_KM2 + edge / em.EDGE_DISTRICT_KM2)
    ok = owner >= 0
    assert np.bincount(owner[ok], weights=load[ok], minlength=fire.size).max() <= 1.0


def test_map_layers_are_plain_data(small_city: City) -> None:
    roads = small_city.to_geojson("roads")
    assert len(roads["features"]) == small_city.roads.n_segments
    assert roads["features"][0]["geometry"]["type"] == "LineString"
    names = {r["name_en"] for r in small_city.district_outlines()}
    assert "Gulou District" in names
    cells = small_city.cell_polygons()
    assert len(cells) == len(small_city.grid) and cells[0]["polygon"][0] == cells[0]["polygon"][-1]
    for kind in ("air", "water_nodes", "tanks", "hazard", "stations", "detectors"):
        assert small_city.points(kind)
    with pytest.raises(ValueError):
        small_city.points("nope")


def test_a_custom_spec_changes_counts() -> None:
    from config.city import CitySpec

    city = load_city(scale=0.05, spec=CitySpec(air_stations=200, period_air_s=120))
    assert len(city.air_stations) == 10
    assert {s.period_s for s in city.registry.sensors if s.domain == "air"} == {120}


@pytest.mark.parametrize("layer, kind, geometry_key", [
    ("districts", "Polygon", "polygon"), ("cells", "Polygon", "polygon"),
    ("roads", "LineString", "path"), ("air", "Point", "lon"), ("hazard", "Point", "lat"),
])
def test_geojson_features_carry_geometry_and_the_other_fields(
        small_city: City, layer: str, kind: str, geometry_key: str) -> None:
    feats = small_city.to_geojson(layer)["features"]
    assert feats and all(f["type"] == "Feature" and f["geometry"]["type"] == kind for f in feats)
    assert all(geometry_key not in f["properties"] and f["properties"] for f in feats)
