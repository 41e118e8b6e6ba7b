"""Fire (119), EMS (120) and police (110) stations and their units, for dispatch.

Stations are synthetic (no real POIs ship) but sited the way a Chinese city plans
them (DOMAIN.md §6.3), on road nodes so routing starts on the graph:

- **Urban area** (the five central districts + 长乐). Demand is the urban density
  raster (≈ 1 km² cells, a population proxy). Cells dense enough to be old city are
  *urban core*, the rest of the built-up band (moderate density, or within 5 km of
  a district seat) is *urban edge*. Fire and police stations are added by maximal
  covering until every reachable built-up cell is within 240 s of road travel
  (GB 51080: district edge ≤ 5 min after dispatch, minus a 1-min turnout), then
  fire stations are added where a first-due district is larger than 7 km² (core)
  or 15 km² (edge) of built-up land. EMS stations cover the built-up cells within
  the 5 km urban radius.
- **Every district/county seat** (District.seat) gets one station of each kind.
- **Rural parts** (the seven counties and the mountains/townships of the urban
  districts): up to a few *township* stations per district at the largest demand
  clusters the seat does not reach (15 min travel for fire/police, 15 km for EMS,
  inside the 10–20 km rural pre-hospital radius).

Units per station follow the tier (core / edge / seat / town). Units carry
capabilities the dispatch domain matches incidents against.

>>> UNIT_CAPABILITIES["hazmat"]
('hazmat', 'gas_detection', 'decontamination')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from config.city.geo import to_xy
from config.city.placement import DensityField
from config.city.roads import RoadNetwork
from config.city.siting import first_due, greedy_cover, radius_cover, time_cover
from config.city.spec import CORE_DISTRICTS

UNIT_KINDS: tuple[str, ...] = (
    "fire_engine",
    "ladder",
    "hazmat",
    "rescue",
    "ambulance",
    "police_car",
)
UNIT_KIND_ZH = {
    "fire_engine": "水罐消防车",
    "ladder": "云梯消防车",
    "hazmat": "危化品处置车",
    "rescue": "抢险救援车",
    "ambulance": "救护车",
    "police_car": "警车",
}
UNIT_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "fire_engine": ("fire_suppression", "water_supply"),
    "ladder": ("fire_suppression", "high_rise_rescue"),
    "hazmat": ("hazmat", "gas_detection", "decontamination"),
    "rescue": ("technical_rescue", "extrication"),
    "ambulance": ("ems_bls",),
    "police_car": ("law_enforcement", "traffic_control", "cordon"),
}
#: off-graph speed from a point to its nearest road node, m/s (~20 km/h); dispatch uses it too
ACCESS_SPEED_MS = 5.5
#: GB 51080: reach the district edge ≤ 5 min after dispatch; 1 min of it is turnout
URBAN_TRAVEL_S = 240.0
#: GB 51080 district size, km² of built-up land: urban core / urban edge
CORE_DISTRICT_KM2 = 7.0
EDGE_DISTRICT_KM2 = 15.0
#: pre-hospital station radius, metres: urban ≤ 5 km; rural 10–20 km
EMS_URBAN_RADIUS_M = 5_000.0
EMS_RURAL_RADIUS_M = 15_000.0
#: rural fire/police reach for township stations (a planning choice, no national figure)
RURAL_TRAVEL_S = 900.0
#: relative urban density (of the city maximum) of the urban core and the urban edge
CORE_DENSITY = 0.38
EDGE_DENSITY = 0.20
#: cells this close to a central district's seat count as urban edge (new towns)
EDGE_SEAT_M = 4_000.0
#: township stations per district and kind (rural parts), and the least demand
#: share of the district's rural weight one must newly reach to be built
TOWNS_PER_DISTRICT = {"fire": 3, "ems": 3, "police": 4}
MIN_TOWN_SHARE = 0.05
#: an urban site must newly reach this much demand (1.0 = one old-city cell at peak density)
URBAN_MIN_GAIN = 0.5
#: at most this many new candidate sites per urban / per rural-district search (denser
#: graphs — scale 20, imported OSM — are strided: siting needs no finer choice)
_MAX_URBAN_CANDIDATES = 1000
_MAX_TOWN_CANDIDATES = 300

STATION_KINDS = {
    "fire": ("消防站", "fire station"),
    "ems": ("急救站", "EMS station"),
    "police": ("派出所", "police station"),
}


@dataclass(frozen=True, slots=True)
class EmergencyStation:
    station_id: str  # "FS-01" / "EMS-01" / "PS-01"
    kind: str  # fire | ems | police
    name_zh: str
    name_en: str
    lon: float
    lat: float
    district: str
    #: nearest road node (routing origin)
    road_node: int
    #: siting tier: core | edge (urban area) | seat (county seat) | town (rural)
    tier: str = "core"


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str  # "FS-01-E1"
    kind: str
    station_id: str
    capabilities: tuple[str, ...]
    crew: int
    name_zh: str
    #: home station position and its road node (where the unit starts and returns)
    home_lon: float
    home_lat: float
    home_node: int


_CORE, _EDGE, _RURAL = 0, 1, 2
_TIER_ZH = {"core": "", "edge": "", "seat": "城关", "town": "乡镇"}
_TIER_EN = {"core": "", "edge": "", "seat": " (county seat)", "town": " (township)"}


@dataclass(frozen=True, eq=False)
class _Demand:
    """Density raster cells as demand points: nearest node, access leg, zone, weight."""

    node: npt.NDArray[np.int64]
    access_s: npt.NDArray[np.float64]
    xy: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]
    zone: npt.NDArray[np.int64]
    district: npt.NDArray[np.int64]
    cell_km2: float


def cell_zones(field: DensityField) -> npt.NDArray[np.int64]:
    """Planning zone of each density raster cell: 0 urban core, 1 urban edge, 2 rural.

    Urban means the central districts (``CORE_DISTRICTS``): cells at least
    ``CORE_DENSITY`` of the peak density are core; ``EDGE_DENSITY`` or within
    ``EDGE_SEAT_M`` of the district's seat, edge. Everything else is rural.
    """
    geo = field.geo
    codes = [d.adcode for d in geo.districts]
    core_idx = np.array([i for i, c in enumerate(codes) if c in CORE_DISTRICTS], np.int64)
    x, y = to_xy(field.lon, field.lat)
    w = np.asarray(field.weights["urban"], np.float64)
    rel = w / w.max()
    in_core = np.isin(field.district, core_idx)
    seat_x, seat_y = to_xy(
        np.array([d.seat[0] for d in geo.districts]), np.array([d.seat[1] for d in geo.districts])
    )
    near_seat = np.hypot(x - seat_x[field.district], y - seat_y[field.district]) <= EDGE_SEAT_M
    zone = np.full(w.size, _RURAL, np.int64)
    zone[in_core & ((rel >= EDGE_DENSITY) | near_seat)] = _EDGE
    zone[in_core & (rel >= CORE_DENSITY)] = _CORE
    return zone


def zone_at(field: DensityField, lon: npt.ArrayLike, lat: npt.ArrayLike
            ) -> npt.NDArray[np.int64]:
    """Planning zone (see :func:`cell_zones`) of each point, from its nearest raster cell."""
    x, y = to_xy(field.lon, field.lat)
    qx, qy = to_xy(np.atleast_1d(np.asarray(lon, np.float64)),
                   np.atleast_1d(np.asarray(lat, np.float64)))
    _, cell = cKDTree(np.column_stack([x, y])).query(np.column_stack([qx, qy]))
    return np.asarray(cell_zones(field)[cell], np.int64)


def _demand(field: DensityField, roads: RoadNetwork) -> _Demand:
    x, y = to_xy(field.lon, field.lat)
    nx, ny = to_xy(roads.node_lon, roads.node_lat)
    dist, node = cKDTree(np.column_stack([nx, ny])).query(np.column_stack([x, y]))
    w = np.asarray(field.weights["urban"], np.float64)
    rel = w / w.max()
    zone = cell_zones(field)
    lons = np.unique(np.round(field.lon, 6))
    step = float(np.min(np.diff(lons))) if lons.size > 1 else 0.01
    sx, sy = to_xy(np.array([0.0, step]), np.array([0.0, step]))
    return _Demand(
        np.asarray(node, np.int64),
        np.asarray(dist, np.float64) / ACCESS_SPEED_MS,
        np.column_stack([x, y]),
        rel,
        zone,
        np.asarray(field.district, np.int64),
        abs(float((sx[1] - sx[0]) * (sy[1] - sy[0]))) / 1e6,
    )


def _stride(nodes: npt.NDArray[np.int64], most: int) -> npt.NDArray[np.int64]:
    if nodes.size <= most:
        return nodes
    return nodes[:: -(-nodes.size // most)]


class _Siting:
    """Stations of one kind, chosen in order: seats, urban covering, district sizes, towns."""

    def __init__(self, kind: str, cap: int, graph: sp.csr_matrix, dem: _Demand,
                 node_xy: npt.NDArray[np.float64], node_d: npt.NDArray[np.int64],
                 node_zone: npt.NDArray[np.int64], top_speed_ms: float) -> None:
        self.kind, self.cap, self.graph, self.dem = kind, cap, graph, dem
        self.node_xy, self.node_d, self.node_zone = node_xy, node_d, node_zone
        self.chosen: list[tuple[int, str]] = []
        self._used: set[int] = set()
        #: fastest free-flow speed on the graph, m/s (bounds how far a site can reach)
        self.top_speed_ms = top_speed_ms

    def add(self, node: int, tier: str) -> bool:
        if node in self._used or len(self.chosen) >= self.cap:
            return False
        self.chosen.append((node, tier))
        self._used.add(node)
        return True

    def urban_tier(self, node: int) -> str:
        return "core" if self.node_zone[node] == _CORE else "edge"

    def _cover(self, cand: npt.NDArray[np.int64], sel: npt.NDArray[np.bool_], rural: bool
               ) -> sp.csr_matrix:
        dem = self.dem
        if self.kind == "ems":
            r = EMS_RURAL_RADIUS_M if rural else EMS_URBAN_RADIUS_M
            return radius_cover(self.node_xy[cand], dem.xy[sel], r)
        budget = RURAL_TRAVEL_S if rural else URBAN_TRAVEL_S
        return time_cover(self.graph, cand, dem.node[sel], dem.access_s[sel], budget)

    def _candidates(self, pool: npt.NDArray[np.int64], sel: npt.NDArray[np.bool_],
                    rural: bool) -> tuple[npt.NDArray[np.int64], int]:
        """Stations already chosen that can reach the demand ``sel`` (straight line within
        a site's reach), then the new sites from ``pool``; also how many are existing."""
        reach_m = self._reach_m(rural)
        have = np.array([n for n, _ in self.chosen], np.int64)
        if have.size:
            d, _ = cKDTree(self.dem.xy[sel]).query(self.node_xy[have],
                                                   distance_upper_bound=reach_m)
            have = have[np.isfinite(d)]
        rest = _stride(pool[~np.isin(pool, have)],
                       _MAX_TOWN_CANDIDATES if rural else _MAX_URBAN_CANDIDATES)
        return np.concatenate([have, rest]), have.size

    def _reach_m(self, rural: bool) -> float:
        if self.kind == "ems":
            return EMS_RURAL_RADIUS_M if rural else EMS_URBAN_RADIUS_M
        return (RURAL_TRAVEL_S if rural else URBAN_TRAVEL_S) * self.top_speed_ms

    def urban(self, core_idx: npt.NDArray[np.int64]) -> None:
        dem = self.dem
        sel = dem.zone != _RURAL
        if not sel.any():
            return
        cand, n_have = self._candidates(np.flatnonzero(np.isin(self.node_d, core_idx)), sel,
                                        rural=False)
        cov = self._cover(cand, sel, rural=False)
        picks = greedy_cover(cov, dem.weight[sel], range(n_have), self.cap, URBAN_MIN_GAIN)
        for r in picks:
            self.add(int(cand[r]), self.urban_tier(int(cand[r])))

    def district_sizes(self) -> None:
        """Split first-due districts larger than GB 51080's 7 / 15 km² of built-up land."""
        dem = self.dem
        sel = np.flatnonzero(dem.zone != _RURAL)
        load = dem.cell_km2 / np.where(dem.zone[sel] == _CORE, CORE_DISTRICT_KM2,
                                       EDGE_DISTRICT_KM2)
        for _ in range(60):
            nodes = np.array([n for n, _ in self.chosen], np.int64)
            t, owner = first_due(self.graph, nodes, dem.node[sel], dem.access_s[sel])
            ok = owner >= 0
            per = np.bincount(owner[ok], weights=load[ok], minlength=nodes.size)
            worst = int(np.argmax(per))
            if per[worst] <= 1.0:
                return
            road_t = np.where(owner == worst, t - dem.access_s[sel], -np.inf)
            added = False
            for k in np.argsort(-road_t, kind="stable")[: int((owner == worst).sum())]:
                node = int(dem.node[sel][k])
                if self.node_d[node] >= 0 and self.add(node, self.urban_tier(node)):
                    added = True
                    break
            if not added:
                return

    def towns(self, n_districts: int) -> None:
        dem = self.dem
        for di in range(n_districts):
            sel = (dem.zone == _RURAL) & (dem.district == di)
            if not sel.any() or len(self.chosen) >= self.cap:
                continue
            cand, n_have = self._candidates(np.flatnonzero(self.node_d == di), sel,
                                            rural=True)
            cov = self._cover(cand, sel, rural=True)
            w = dem.weight[sel]
            picks = greedy_cover(cov, w, range(n_have), TOWNS_PER_DISTRICT[self.kind],
                                 MIN_TOWN_SHARE * float(w.sum()))
            for r in picks:
                self.add(int(cand[r]), "town")


def _fleet(kind: str, tier: str, i: int) -> list[tuple[str, str, int]]:
    """(code, unit kind, crew) at the ``i``-th station of this kind and tier."""
    if kind == "fire":
        # 一级站 in the old city; smaller edge stations alternate one or two engines;
        # county-seat stations carry the county's specials; township stations one engine
        extra = {
            "core": {"E2": True, "L1": i % 2 == 0, "R1": i % 3 == 0, "H1": i % 6 == 1},
            "edge": {"E2": i % 2 == 0, "L1": i % 4 == 1, "R1": i % 4 == 3, "H1": i % 8 == 6},
            "seat": {"E2": True, "L1": True, "R1": True, "H1": i % 2 == 0},
            "town": {},
        }[tier]
        spec = {"E2": ("fire_engine", 6), "L1": ("ladder", 4), "R1": ("rescue", 5),
                "H1": ("hazmat", 5)}
        return [("E1", "fire_engine", 6)] + [
            (code, *spec[code]) for code, yes in extra.items() if yes]
    n = {"ems": {"core": 3, "edge": 2, "seat": 2, "town": 1},
         "police": {"core": 2, "edge": 2, "seat": 2, "town": 1}}[kind][tier]
    code, ukind, crew = ("A", "ambulance", 3) if kind == "ems" else ("P", "police_car", 2)
    return [(f"{code}{k + 1}", ukind, crew) for k in range(n)]


def build_stations(
    field: DensityField,
    roads: RoadNetwork,
    counts: dict[str, int],
    rng: np.random.Generator,
) -> tuple[tuple[EmergencyStation, ...], tuple[Unit, ...]]:
    """Stations per kind (at most ``counts[kind]``, e.g. ``{"fire": 70}``) and their units.

    Deterministic for the road graph (``rng`` is accepted for the generator's
    uniform signature; siting itself draws nothing). Seats come first, so
    ``FS-01`` is the 鼓楼 seat station.
    """
    del rng
    geo = field.geo
    prefix = {"fire": "FS", "ems": "EMS", "police": "PS"}
    codes = [x.adcode for x in geo.districts]
    zh = [x.name_zh for x in geo.districts]
    en = [x.name_en.split()[0] for x in geo.districts]
    core_idx = np.array([i for i, c in enumerate(codes) if c in CORE_DISTRICTS], np.int64)
    graph = roads.csgraph("time")
    top_speed_ms = float(np.max(roads.free_speed_kmh, initial=1.0)) / 3.6
    dem = _demand(field, roads)
    nx, ny = to_xy(roads.node_lon, roads.node_lat)
    node_xy = np.column_stack([nx, ny])
    node_d = geo.district_index(roads.node_lon, roads.node_lat)
    _, node_cell = cKDTree(dem.xy).query(node_xy)
    node_zone = dem.zone[node_cell]
    seats: list[tuple[int, int]] = []
    for di, d in enumerate(geo.districts):
        here = np.flatnonzero(node_d == di)
        if here.size:
            sx, sy = to_xy(np.array([d.seat[0]]), np.array([d.seat[1]]))
            k = int(np.argmin(np.hypot(nx[here] - sx[0], ny[here] - sy[0])))
            seats.append((di, int(here[k])))

    stations: list[EmergencyStation] = []
    units: list[Unit] = []
    for kind in ("fire", "ems", "police"):
        cap = counts.get(kind, 0)
        if cap <= 0:
            continue
        s = _Siting(kind, cap, graph, dem, node_xy, node_d, node_zone, top_speed_ms)
        for di, node in seats:
            s.add(node, s.urban_tier(node) if di in core_idx else "seat")
        s.urban(core_idx)
        if kind == "fire":
            s.district_sizes()
        s.towns(len(geo.districts))
        per_district: dict[int, int] = {}
        per_tier: dict[str, int] = {}
        kzh, ken = STATION_KINDS[kind]
        for i, (node, tier) in enumerate(s.chosen):
            di = int(node_d[node])
            k = per_district[di] = per_district.get(di, 0) + 1
            j = per_tier[tier] = per_tier.get(tier, 0) + 1
            sid = f"{prefix[kind]}-{i + 1:02d}"
            lon, lat = float(roads.node_lon[node]), float(roads.node_lat[node])
            st = EmergencyStation(
                sid, kind, f"{zh[di]}{_TIER_ZH[tier]}{kzh} {k}",
                f"{en[di]} {ken} {k}{_TIER_EN[tier]}", lon, lat, codes[di], node, tier)
            stations.append(st)
            for code, ukind, crew in _fleet(kind, tier, j - 1):
                caps = UNIT_CAPABILITIES[ukind]
                if ukind == "ambulance" and code == "A1":
                    caps = ("ems_bls", "ems_als")
                units.append(Unit(f"{sid}-{code}", ukind, sid, caps, crew,
                                  f"{st.name_zh} {UNIT_KIND_ZH[ukind]} {code}", lon, lat, node))
    return tuple(stations), tuple(units)
