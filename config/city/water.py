"""Synthetic water-supply network: zones (DMAs), metered nodes, pipes and tanks.

Nodes are placed by urban density and grouped into zones by k-means (similar
node counts per zone); inside a zone pipes form a minimum spanning tree from the zone's
source (pump station / plant outlet, hop 0); zone sources are joined by trunk
mains (MST over the sources). ``hop`` — pipes from the source — drives both the
static pressure loss and how fast a burst spreads in the simulator.

Every node measures pressure (MPa) and flow (m³/h); a share also carries
turbidity (NTU) and free-chlorine (mg/L) analysers. Tanks report level (m) and
know their min/max operating levels. Limits: pressure ≥ 0.14 MPa at network
extremities (CJ/T 316), turbidity ≤ 1 NTU, free chlorine 0.05–2 mg/L at taps
(GB 5749—2022).

>>> from config.city.geo import load_geo
>>> from config.city.placement import DensityField
>>> net = build_water(DensityField.build(load_geo()), 3, 20, 2, 0.3, np.random.default_rng(1))
>>> len(net.nodes), sorted({n.zone for n in net.nodes})
(20, ['WZ-01', 'WZ-02', 'WZ-03'])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import Delaunay, QhullError

from config.city.geo import to_xy
from config.city.placement import DensityField
from config.city.registry import Sensor


@dataclass(frozen=True, slots=True)
class WaterZone:
    zone_id: str  # "WZ-01"
    name_zh: str
    name_en: str
    source_node: int
    #: outlet pressure of the zone's pump station (MPa)
    source_pressure_mpa: float


@dataclass(frozen=True, slots=True)
class WaterNode:
    node_id: str  # "WN-0001"
    zone: str
    lon: float
    lat: float
    district: str
    hop: int
    elevation_m: float
    base_flow_m3h: float
    has_quality: bool


@dataclass(frozen=True, slots=True)
class WaterTank:
    tank_id: str  # "WT-01"
    zone: str
    node: int
    lon: float
    lat: float
    district: str
    height_m: float
    min_level_m: float
    max_level_m: float
    capacity_m3: float


@dataclass(frozen=True, eq=False)
class WaterNetwork:
    zones: tuple[WaterZone, ...]
    nodes: tuple[WaterNode, ...]
    #: undirected pipes as node-index pairs
    pipe_a: npt.NDArray[np.int64]
    pipe_b: npt.NDArray[np.int64]
    tanks: tuple[WaterTank, ...]

    def neighbours(self) -> list[list[int]]:
        adj: list[list[int]] = [[] for _ in self.nodes]
        for a, b in zip(self.pipe_a.tolist(), self.pipe_b.tolist(), strict=True):
            adj[a].append(b)
            adj[b].append(a)
        return adj

    def hops_from(self, node: int, max_hops: int) -> dict[int, int]:
        """Pipe hops from ``node`` to every node within ``max_hops`` (breadth-first)."""
        adj = self.neighbours()
        seen = {node: 0}
        q = deque([node])
        while q:
            u = q.popleft()
            if seen[u] >= max_hops:
                continue
            for v in adj[u]:
                if v not in seen:
                    seen[v] = seen[u] + 1
                    q.append(v)
        return seen

    def node_index(self, node_id: str) -> int:
        for i, n in enumerate(self.nodes):
            if n.node_id == node_id:
                return i
        return -1


def _mst_edges(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    n = len(x)
    if n < 2:
        return np.zeros((0, 2), np.int64)
    if n == 2:
        return np.array([[0, 1]], np.int64)
    if n == 3:
        e = np.array([[0, 1], [0, 2], [1, 2]])
    else:
        try:
            tri = Delaunay(np.column_stack([x, y])).simplices
        except QhullError:  # collinear points: fall back to the full graph
            ii, jj = np.triu_indices(n, 1)
            tri = None
            e = np.column_stack([ii, jj])
        if tri is not None:
            e = np.unique(
                np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), 1), axis=0
            )
    w = np.hypot(x[e[:, 0]] - x[e[:, 1]], y[e[:, 0]] - y[e[:, 1]]) + 1e-6
    t = minimum_spanning_tree(coo_matrix((w, (e[:, 0], e[:, 1])), shape=(n, n))).tocoo()
    return np.column_stack([t.row, t.col]).astype(np.int64)


def build_water(
    field: DensityField,
    n_zones: int,
    n_nodes: int,
    n_tanks: int,
    quality_share: float,
    rng: np.random.Generator,
) -> WaterNetwork:
    """Generate zones, nodes, pipes and tanks (deterministic for ``rng``)."""
    n_zones = min(n_zones, n_nodes)
    lon, lat, d = field.sample(rng, n_nodes, "urban")
    x, y = to_xy(lon, lat)
    # farthest-point seeds → zones by nearest seed
    # zones: k-means (Lloyd) from density-following seeds, so zones hold similar node
    # counts; each zone's source is the node nearest its centre
    start = rng.choice(n_nodes, size=n_zones, replace=False)
    cx, cy = x[start].copy(), y[start].copy()
    for _ in range(8):
        zone_of = np.argmin(np.hypot(x[:, None] - cx[None, :], y[:, None] - cy[None, :]), axis=1)
        for z in range(n_zones):
            m = zone_of == z
            if m.any():
                cx[z], cy[z] = x[m].mean(), y[m].mean()
    zone_of = np.argmin(np.hypot(x[:, None] - cx[None, :], y[:, None] - cy[None, :]), axis=1)
    used = np.unique(zone_of)  # drop clusters that ended empty (rare)
    cx, cy, n_zones = cx[used], cy[used], used.size
    zone_of = np.searchsorted(used, zone_of)
    seeds = []
    for z in range(n_zones):
        members = np.flatnonzero(zone_of == z)
        seeds.append(int(members[np.argmin(np.hypot(x[members] - cx[z], y[members] - cy[z]))]))
    codes = [g.adcode for g in field.geo.districts]
    pa: list[int] = []
    pb: list[int] = []
    for z in range(n_zones):
        members = np.flatnonzero(zone_of == z)
        e = _mst_edges(x[members], y[members])
        pa.extend(members[e[:, 0]].tolist())
        pb.extend(members[e[:, 1]].tolist())
    # trunk mains between zone sources
    se = _mst_edges(x[seeds], y[seeds])
    seeds_arr = np.array(seeds)
    pa.extend(seeds_arr[se[:, 0]].tolist())
    pb.extend(seeds_arr[se[:, 1]].tolist())
    pipe_a, pipe_b = np.array(pa, np.int64), np.array(pb, np.int64)
    # hops from the zone's own source, within the zone only
    adj: list[list[int]] = [[] for _ in range(n_nodes)]
    for a, b in zip(pa, pb, strict=True):
        if zone_of[a] == zone_of[b]:
            adj[a].append(b)
            adj[b].append(a)
    hop = np.zeros(n_nodes, np.int64)
    for s in seeds:
        seen = {s}
        q = deque([s])
        while q:
            u = q.popleft()
            for v in adj[u]:
                if v not in seen:
                    seen.add(v)
                    hop[v] = hop[u] + 1
                    q.append(v)
    elevation = rng.uniform(5.0, 40.0, n_nodes)
    base_flow = rng.lognormal(np.log(120.0), 0.5, n_nodes) / np.sqrt(1.0 + hop)
    quality = rng.random(n_nodes) < quality_share
    quality[seeds] = True
    zones = tuple(
        WaterZone(
            f"WZ-{z + 1:02d}",
            f"供水分区 {z + 1}",
            f"Supply zone {z + 1}",
            seeds[z],
            float(rng.uniform(0.42, 0.50)),
        )
        for z in range(n_zones)
    )
    nodes = tuple(
        WaterNode(
            f"WN-{i + 1:04d}",
            zones[zone_of[i]].zone_id,
            float(lon[i]),
            float(lat[i]),
            codes[d[i]],
            int(hop[i]),
            float(elevation[i]),
            float(base_flow[i]),
            bool(quality[i]),
        )
        for i in range(n_nodes)
    )
    tanks = []
    for t in range(n_tanks):
        z = t % n_zones
        members = np.flatnonzero(zone_of == z)
        node = int(members[rng.integers(members.size)])
        h = float(rng.uniform(6.0, 12.0))
        tanks.append(
            WaterTank(
                f"WT-{t + 1:02d}",
                zones[z].zone_id,
                node,
                nodes[node].lon,
                nodes[node].lat,
                nodes[node].district,
                h,
                round(0.15 * h, 2),
                round(0.9 * h, 2),
                round(h * float(rng.uniform(300.0, 1500.0)), 0),
            )
        )
    return WaterNetwork(zones, nodes, pipe_a, pipe_b, tuple(tanks))


def water_sensors(
    net: WaterNetwork,
    period_fast_s: int,
    period_quality_s: int,
    period_tank_s: int,
    cell_for: Callable[[float, float, str], str],
) -> list[Sensor]:
    out = []
    for n in net.nodes:
        cell = cell_for(n.lon, n.lat, n.district)
        num = n.node_id.split("-")[1]
        meta = {"zone": n.zone, "hop": n.hop}
        specs = [
            ("pressure", "MPa", 0.0, 1.6, period_fast_s),
            ("flow", "m3/h", 0.0, 5000.0, period_fast_s),
        ]
        if n.has_quality:
            specs += [
                ("turbidity", "NTU", 0.0, 100.0, period_quality_s),
                ("chlorine", "mg/L", 0.0, 5.0, period_quality_s),
            ]
        for metric, unit, lo, hi, per in specs:
            out.append(
                Sensor(
                    f"WTR-{num}-{metric}",
                    "water",
                    metric,
                    unit,
                    n.lon,
                    n.lat,
                    n.district,
                    cell,
                    lo,
                    hi,
                    n.node_id,
                    per,
                    meta,
                )
            )
    for t in net.tanks:
        out.append(
            Sensor(
                f"WTR-{t.tank_id.replace('WT-', 'T')}-level",
                "water",
                "tank_level",
                "m",
                t.lon,
                t.lat,
                t.district,
                cell_for(t.lon, t.lat, t.district),
                0.0,
                t.height_m,
                t.tank_id,
                period_tank_s,
                {"zone": t.zone, "min_level_m": t.min_level_m, "max_level_m": t.max_level_m},
            )
        )
    return out
