"""The road graph: directed segments with class, lanes, free-flow speed and names.

Columnar (numpy arrays, one row per directed segment) so routing and the
simulator work on whole arrays. The same container holds the synthetic graph
(``road_synth.py``) and a user's OpenStreetMap extract (``road_files.py``).

Road classes follow DOMAIN.md §3.2: ``expressway`` 快速路, ``arterial`` 主干路,
``secondary`` 次干路/支路.

>>> import numpy as np
>>> net = RoadNetwork.build(
...     np.array([119.30, 119.31]), np.array([26.08, 26.08]),
...     np.array([0, 1]), np.array([1, 0]), np.array([1, 1], np.int8),
...     np.array([2, 2]), np.array([50.0, 50.0]), ("A", "A"), synthetic=True, source="doc")
>>> net.is_strongly_connected(), net.segment_index("SEG-000001")
(True, 1)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from config.city.geo import haversine_m, to_xy

ROAD_CLASSES: tuple[str, ...] = ("expressway", "arterial", "secondary")
ROAD_CLASS_ZH: tuple[str, ...] = ("快速路", "主干路", "次干路")
EXPRESSWAY, ARTERIAL, SECONDARY = 0, 1, 2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _frozen(a: npt.ArrayLike, dtype: npt.DTypeLike) -> Any:
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """Nodes (lon, lat) and directed segments ``src → dst``.

    ``geometry[i]`` is an ``(k, 2)`` lon/lat polyline for segment ``i`` (straight
    two-point lines for the synthetic graph). ``bridge`` marks synthetic links
    over water (to islands). ``synthetic`` is True unless a user file was loaded.
    """

    node_lon: FloatArray
    node_lat: FloatArray
    seg_ids: tuple[str, ...]
    src: IntArray
    dst: IntArray
    length_m: FloatArray
    road_class: npt.NDArray[np.int8]
    lanes: IntArray
    free_speed_kmh: FloatArray
    names: tuple[str, ...]
    bridge: npt.NDArray[np.bool_]
    geometry: tuple[FloatArray, ...]
    synthetic: bool
    source: str
    _index: dict[str, int] = field(repr=False)

    @staticmethod
    def build(
        node_lon: FloatArray,
        node_lat: FloatArray,
        src: IntArray,
        dst: IntArray,
        road_class: npt.NDArray[np.int8],
        lanes: IntArray,
        free_speed_kmh: FloatArray,
        names: tuple[str, ...],
        *,
        synthetic: bool,
        source: str,
        length_m: FloatArray | None = None,
        bridge: npt.NDArray[np.bool_] | None = None,
        geometry: tuple[FloatArray, ...] | None = None,
        seg_ids: tuple[str, ...] | None = None,
    ) -> RoadNetwork:
        """Validate and freeze; lengths default to great-circle node distances."""
        n = len(src)
        if length_m is None:
            length_m = haversine_m(node_lon[src], node_lat[src], node_lon[dst], node_lat[dst])
        if geometry is None:
            geometry = tuple(
                np.array([[node_lon[a], node_lat[a]], [node_lon[b], node_lat[b]]])
                for a, b in zip(src.tolist(), dst.tolist(), strict=True)
            )
        ids = seg_ids or tuple(f"SEG-{i:06d}" for i in range(n))
        return RoadNetwork(
            node_lon=_frozen(node_lon, np.float64),
            node_lat=_frozen(node_lat, np.float64),
            seg_ids=ids,
            src=_frozen(src, np.int64),
            dst=_frozen(dst, np.int64),
            length_m=_frozen(np.maximum(length_m, 1.0), np.float64),
            road_class=_frozen(road_class, np.int8),
            lanes=_frozen(lanes, np.int64),
            free_speed_kmh=_frozen(free_speed_kmh, np.float64),
            names=tuple(names),
            bridge=_frozen(np.zeros(n, bool) if bridge is None else bridge, np.bool_),
            geometry=geometry,
            synthetic=synthetic,
            source=source,
            _index={s: i for i, s in enumerate(ids)},
        )

    @property
    def n_nodes(self) -> int:
        return int(self.node_lon.size)

    @property
    def n_segments(self) -> int:
        return int(self.src.size)

    def segment_index(self, seg_id: str) -> int:
        """Dense index of a segment id, -1 if unknown."""
        return self._index.get(seg_id, -1)

    def class_name(self, i: int) -> str:
        return ROAD_CLASSES[int(self.road_class[i])]

    def midpoints(self) -> tuple[FloatArray, FloatArray]:
        """lon, lat of each segment's middle vertex pair (straight mid for 2-point lines)."""
        lon = np.empty(self.n_segments)
        lat = np.empty(self.n_segments)
        for i, g in enumerate(self.geometry):
            k = len(g) // 2
            p = (g[k - 1] + g[k]) / 2 if len(g) % 2 == 0 else g[k]
            lon[i], lat[i] = p[0], p[1]
        return lon, lat

    def travel_time_s(self) -> FloatArray:
        """Free-flow travel time per segment."""
        return np.asarray(self.length_m / (self.free_speed_kmh / 3.6), np.float64)

    def csgraph(self, weight: Literal["length", "time"] = "time") -> sp.csr_matrix:
        """Sparse adjacency (node × node) for ``scipy.sparse.csgraph`` routing.

        Parallel segments keep the smallest weight.
        """
        w = self.length_m if weight == "length" else self.travel_time_s()
        order = np.lexsort((w, self.dst, self.src))
        s, d, ww = self.src[order], self.dst[order], w[order]
        first = np.ones(s.size, bool)
        first[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
        n = self.n_nodes
        return sp.csr_matrix((ww[first], (s[first], d[first])), shape=(n, n))

    def is_strongly_connected(self) -> bool:
        n, _ = connected_components(self.csgraph("length"), directed=True, connection="strong")
        return bool(n == 1)

    def nearest_node(self, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Index of the nearest node for each query point (vectorised KD-tree)."""
        x, y = to_xy(self.node_lon, self.node_lat)
        qx, qy = to_xy(np.atleast_1d(lon), np.atleast_1d(lat))
        _, idx = cKDTree(np.column_stack([x, y])).query(np.column_stack([qx, qy]))
        return np.asarray(idx, np.int64)

    def shortest_path(
        self, a: int, b: int, weight: Literal["length", "time"] = "time"
    ) -> list[int]:
        """Segment indices of a shortest path from node ``a`` to node ``b`` ([] if none)."""
        _, pred = dijkstra(self.csgraph(weight), indices=a, return_predecessors=True)
        if a != b and pred[b] < 0:
            return []
        nodes = [b]
        while nodes[-1] != a:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        w = self.length_m if weight == "length" else self.travel_time_s()
        out = []
        for u, v in zip(nodes[:-1], nodes[1:], strict=True):
            cand = np.flatnonzero((self.src == u) & (self.dst == v))
            out.append(int(cand[np.argmin(w[cand])]))
        return out

    def upstream(self, seg: int, hops: int) -> list[tuple[int, int]]:
        """Segments feeding into ``seg`` within ``hops`` (breadth-first), as (index, hop).

        Hop 0 is ``seg`` itself; U-turn segments (reverse of the downstream one) are skipped.
        """
        by_dst: dict[int, list[int]] = {}
        for i, d in enumerate(self.dst.tolist()):
            by_dst.setdefault(d, []).append(i)
        seen = {seg: 0}
        q = deque([seg])
        while q:
            s = q.popleft()
            h = seen[s]
            if h >= hops:
                continue
            for p in by_dst.get(int(self.src[s]), []):
                if p not in seen and int(self.src[p]) != int(self.dst[s]):
                    seen[p] = h + 1
                    q.append(p)
        return sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))

    def largest_strong_component(self) -> RoadNetwork:
        """The sub-network of the largest strongly connected component (for routing)."""
        _, labels = connected_components(self.csgraph("length"), directed=True, connection="strong")
        big = int(np.bincount(labels).argmax())
        keep_node = labels == big
        keep = keep_node[self.src] & keep_node[self.dst]
        if keep.all():
            return self
        remap = np.cumsum(keep_node) - 1
        idx = np.flatnonzero(keep)
        return RoadNetwork.build(
            self.node_lon[keep_node],
            self.node_lat[keep_node],
            remap[self.src[idx]],
            remap[self.dst[idx]],
            self.road_class[idx],
            self.lanes[idx],
            self.free_speed_kmh[idx],
            tuple(self.names[i] for i in idx),
            synthetic=self.synthetic,
            source=self.source,
            length_m=self.length_m[idx],
            bridge=self.bridge[idx],
            geometry=tuple(self.geometry[i] for i in idx),
            seg_ids=tuple(self.seg_ids[i] for i in idx),
        )
