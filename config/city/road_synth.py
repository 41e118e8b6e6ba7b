"""A SYNTHETIC road graph inside Fuzhou's real district polygons (no real roads ship).

Nodes are drawn by urban density (dense old city, sparse mountains) plus every
district seat; links are the Gabriel graph of the nodes (planar, road-like,
average degree about 4), minus links that leave the city limits or cross the
sea. Islands big enough get one synthetic bridge to the mainland; tiny islets
are dropped. Classes come from a hierarchy of shortest paths: district seats
and a ring around the old city are joined by *expressway* corridors, a sparser
set of hubs by *arterial* corridors, everything else is *secondary*. Every link
is two-way, so the directed graph is strongly connected.

All names say so: "合成主干路 12 / Synthetic arterial 12".

>>> from config.city.geo import load_geo
>>> from config.city.placement import DensityField
>>> net = synthesize_roads(DensityField.build(load_geo()), 200, seed=1)
>>> net.synthetic and net.is_strongly_connected()
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import Delaunay, cKDTree

from config.city.geo import haversine_m, to_lonlat, to_xy
from config.city.placement import DensityField
from config.city.roads import (
    ARTERIAL,
    EXPRESSWAY,
    ROAD_CLASS_ZH,
    SECONDARY,
    RoadNetwork,
)
from config.city.spec import OLD_CITY

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_MIN_ISLAND_NODES = 5


def _gabriel_edges(x: FloatArray, y: FloatArray) -> IntArray:
    """Undirected Gabriel edges (i < j) via the Delaunay triangulation.

    A Delaunay edge is Gabriel unless the opposite vertex of an adjacent triangle
    sees it at an angle ≥ 90° (lies in its diametral circle).
    """
    tri = Delaunay(np.column_stack([x, y])).simplices
    edges = []
    bad = []
    for k in range(3):
        a, b, c = tri[:, k], tri[:, (k + 1) % 3], tri[:, (k + 2) % 3]
        dot = (x[a] - x[c]) * (x[b] - x[c]) + (y[a] - y[c]) * (y[b] - y[c])
        e = np.sort(np.column_stack([a, b]), axis=1)
        edges.append(e)
        bad.append(dot <= 0)
    all_e = np.vstack(edges)
    all_bad = np.concatenate(bad)
    key = all_e[:, 0].astype(np.int64) * len(x) + all_e[:, 1]
    bad_keys = np.unique(key[all_bad])
    uniq, first = np.unique(key, return_index=True)
    good = ~np.isin(uniq, bad_keys)
    return np.asarray(all_e[first[good]], np.int64)


def _components(n: int, e: IntArray) -> IntArray:
    g = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    return np.asarray(labels, np.int64)


def _corridors(
    x: FloatArray, y: FloatArray, e: IntArray, length: FloatArray, hubs: IntArray
) -> list[list[int]]:
    """Edge-index paths along shortest routes between neighbouring hubs.

    Hubs are neighbours when they share a Gabriel edge of the hub set. Each hub
    searches only a ball of 2× its farthest neighbour's straight-line distance, so
    the cost stays local as the graph grows.
    """
    hubs = np.unique(hubs)
    if hubs.size < 2:
        return []
    n = len(x)
    g = coo_matrix(
        (np.concatenate([length, length]), (np.r_[e[:, 0], e[:, 1]], np.r_[e[:, 1], e[:, 0]])),
        shape=(n, n),
    ).tocsr()
    edge_of = {(int(a), int(b)): i for i, (a, b) in enumerate(e.tolist())}
    pairs = np.array([[0, 1]]) if hubs.size == 2 else _gabriel_edges(x[hubs], y[hubs])
    paths: list[list[int]] = []
    for i in np.unique(pairs[:, 0]).tolist():
        partners = pairs[pairs[:, 0] == i, 1]
        a = int(hubs[i])
        reach = np.hypot(x[hubs[partners]] - x[a], y[hubs[partners]] - y[a]).max()
        dist, pred = dijkstra(g, indices=a, return_predecessors=True, limit=2.0 * reach + 500.0)
        for j in partners.tolist():
            b = int(hubs[j])
            if not np.isfinite(dist[b]):
                continue
            path: list[int] = []
            cur = b
            while cur != a:
                p = int(pred[cur])
                path.append(edge_of[(min(p, cur), max(p, cur))])
                cur = p
            paths.append(path)
    return paths


def synthesize_roads(field: DensityField, n_nodes: int, seed: int) -> RoadNetwork:
    """Generate the synthetic graph with about ``n_nodes`` nodes (deterministic per seed)."""
    rng = np.random.default_rng([seed, 0x0AD5])
    geo = field.geo
    seats_lon = np.array([d.seat[0] for d in geo.districts])
    seats_lat = np.array([d.seat[1] for d in geo.districts])
    n_urban = int(n_nodes * 0.7)
    ulon, ulat, _ = field.sample(rng, n_urban, "urban")
    slon, slat, _ = field.sample(rng, max(0, n_nodes - n_urban - len(seats_lon)), "spread")
    lon = np.concatenate([seats_lon, ulon, slon])
    lat = np.concatenate([seats_lat, ulat, slat])
    x, y = to_xy(lon, lat)
    # merge near-duplicates (< 60 m) so no degenerate micro-links appear
    tree = cKDTree(np.column_stack([x, y]))
    drop = np.zeros(len(x), bool)
    for i, j in sorted(tree.query_pairs(60.0)):
        if not drop[i]:
            drop[j] = True
    drop[: len(seats_lon)] = False
    lon, lat, x, y = lon[~drop], lat[~drop], x[~drop], y[~drop]
    n = len(x)

    e = _gabriel_edges(x, y)
    lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([lon[e[:, 0]], lat[e[:, 0]]]),
                np.column_stack([lon[e[:, 1]], lat[e[:, 1]]]),
            ],
            axis=1,
        )
    )
    ok = shapely.covers(geo.city, lines) & ~shapely.intersects(geo.sea, lines)
    e = e[ok]

    # islands: one bridge each to the main component, or drop when tiny
    labels = _components(n, e)
    counts = np.bincount(labels, minlength=n)
    main = int(counts.argmax())
    is_main = labels == main
    main_idx = np.flatnonzero(is_main)
    main_tree = cKDTree(np.column_stack([x[main_idx], y[main_idx]]))
    bridges = []
    for lab in np.flatnonzero(counts >= _MIN_ISLAND_NODES):
        if lab == main:
            continue
        members = np.flatnonzero(labels == lab)
        dd, jj = main_tree.query(np.column_stack([x[members], y[members]]))
        k = int(np.argmin(dd))
        a, b = int(members[k]), int(main_idx[jj[k]])
        bridges.append((min(a, b), max(a, b)))
    keep_node = is_main | (counts[labels] >= _MIN_ISLAND_NODES)
    if bridges:
        e = np.vstack([e, np.array(bridges, np.int64)])
    is_bridge = np.zeros(len(e), bool)
    is_bridge[len(e) - len(bridges) :] = len(bridges) > 0
    keep_e = keep_node[e[:, 0]] & keep_node[e[:, 1]]
    e, is_bridge = e[keep_e], is_bridge[keep_e]
    remap = np.cumsum(keep_node) - 1
    seat_nodes = remap[np.arange(len(seats_lon))][keep_node[: len(seats_lon)]]
    lon, lat, x, y = lon[keep_node], lat[keep_node], x[keep_node], y[keep_node]
    e = remap[e]
    n = len(x)
    length = np.hypot(x[e[:, 0]] - x[e[:, 1]], y[e[:, 0]] - y[e[:, 1]])

    # hierarchy: expressways between seats + a ring round the old city, then arterials
    cls = np.full(len(e), SECONDARY, np.int8)
    ang = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    rx, ry = 7000 * np.cos(ang), 6000 * np.sin(ang)
    rlon, rlat = to_lonlat(rx, ry)
    ring_ok = geo.district_index(rlon, rlat) >= 0
    node_tree = cKDTree(np.column_stack([x, y]))
    _, ring_nodes = node_tree.query(np.column_stack([rx[ring_ok], ry[ring_ok]]))
    _, centre = node_tree.query([[0.0, 0.0]])
    ex_hubs = np.unique(
        np.concatenate([seat_nodes, np.atleast_1d(ring_nodes), np.atleast_1d(centre)])
    )
    express = _corridors(x, y, e, length, ex_hubs.astype(np.int64))
    n_art = max(6, n // 14)
    art_hubs = rng.choice(n, size=min(n_art, n), replace=False)
    arterial = _corridors(x, y, e, length, np.asarray(art_hubs, np.int64))
    names_und = np.empty(len(e), object)
    for k, path in enumerate(arterial, start=1):
        cls[path] = ARTERIAL
        names_und[path] = f"合成{ROAD_CLASS_ZH[ARTERIAL]} {k} / Synthetic arterial {k}"
    for k, path in enumerate(express, start=1):
        cls[path] = EXPRESSWAY
        names_und[path] = f"合成{ROAD_CLASS_ZH[EXPRESSWAY]} {k} / Synthetic expressway {k}"
    sec = np.flatnonzero(names_und == None)  # noqa: E711 - object array comparison
    for k, i in enumerate(sec.tolist(), start=1):
        names_und[i] = f"合成{ROAD_CLASS_ZH[SECONDARY]} {k} / Synthetic secondary road {k}"

    # attributes per undirected link, then both directions
    old = np.isin(
        np.array([d.adcode for d in geo.districts])[
            geo.district_index((lon[e[:, 0]] + lon[e[:, 1]]) / 2, (lat[e[:, 0]] + lat[e[:, 1]]) / 2)
        ],
        OLD_CITY,
    )
    lanes = np.where(
        cls == EXPRESSWAY,
        3,
        np.where(cls == ARTERIAL, rng.integers(2, 4, len(e)), rng.integers(1, 3, len(e))),
    )
    speed = np.where(cls == EXPRESSWAY, 80.0, np.where(cls == ARTERIAL, 60.0, 40.0))
    speed = np.where(old & (cls == ARTERIAL), speed - 10.0, speed)  # stays > 40 (畅通)
    src = np.r_[e[:, 0], e[:, 1]]
    dst = np.r_[e[:, 1], e[:, 0]]
    order = np.argsort(np.r_[np.arange(len(e)) * 2, np.arange(len(e)) * 2 + 1], kind="stable")
    und = np.r_[np.arange(len(e)), np.arange(len(e))][order]
    src, dst = src[order], dst[order]
    net = RoadNetwork.build(
        lon,
        lat,
        src,
        dst,
        cls[und],
        lanes[und].astype(np.int64),
        speed[und],
        tuple(str(names_und[i]) for i in und.tolist()),
        synthetic=True,
        source=f"synthetic (seed {seed}, Gabriel graph in DataV district polygons)",
        length_m=haversine_m(lon[src], lat[src], lon[dst], lat[dst]),
        bridge=is_bridge[und],
    )
    return net
