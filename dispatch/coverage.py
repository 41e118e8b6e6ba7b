"""Coverage impact: which area loses its nearest unit, and by how much its response grows.

Demand points are the road nodes (the synthetic graph is placed by urban density,
so nodes are a fair proxy for where calls come from), each tagged with its
district. Free-flow travel times from every station to every node are computed
once. For one unit kind, the nearest station *with an available unit of that kind*
serves each node; sending a unit matters only if it is the last available one of
its kind at its station: then the nodes it served fall back to the second-nearest
station. The impact names the district that suffers most.

>>> import numpy as np
>>> cov = Coverage(np.array([[0.0, 100.0, 300.0], [300.0, 100.0, 0.0]]), ["A", "A", "B"],
...                {"A": ("甲", "A-district"), "B": ("乙", "B-district")})
>>> imp = cov.impacts("ambulance", {0: 1, 1: 1})
>>> imp[0]["district"], imp[0]["nodes_affected"], imp[0]["max_increase_s"]
('A', 1, 300.0)
>>> imp[0]["before_s"], imp[0]["after_s"]   # mean over the district's nodes
(50.0, 200.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class Coverage:
    """``times[s, n]``: seconds from station ``s`` to demand node ``n``."""

    def __init__(self, times: FloatArray, node_district: Sequence[str],
                 district_names: Mapping[str, tuple[str, str]]) -> None:
        self.times = np.asarray(times, np.float64)
        self.node_district = np.asarray(node_district)
        self.districts = sorted(set(node_district) - {""})
        self._masks = {d: self.node_district == d for d in self.districts}
        self.names = dict(district_names)
        #: availability changes only on dispatch/return; recommendations repeat far more often
        self._memo: dict[tuple[str, frozenset[tuple[int, int]]], dict[int, dict[str, Any]]] = {}

    def nearest(self, counts: Mapping[int, int]) -> FloatArray:
        """Per node, seconds from the nearest station with ``counts[s] > 0``."""
        rows = [s for s, c in counts.items() if c > 0]
        if not rows:
            return np.full(self.times.shape[1], np.inf)
        return np.asarray(self.times[rows].min(axis=0), np.float64)

    def impacts(self, kind: str, counts: Mapping[int, int]) -> dict[int, dict[str, Any]]:
        """Impact of taking one unit of ``kind`` away from each station in ``counts``.

        ``counts`` maps station row → number of available units of ``kind`` there.
        Stations with two or more available units have no impact (one stays).
        """
        key = (kind, frozenset(counts.items()))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._impacts(kind, counts)
            if len(self._memo) > 256:
                self._memo.clear()
            self._memo[key] = hit
        return hit

    def _impacts(self, kind: str, counts: Mapping[int, int]) -> dict[int, dict[str, Any]]:
        rows = [s for s, c in counts.items() if c > 0]
        out: dict[int, dict[str, Any]] = {}
        if not rows:
            return out
        sub = self.times[rows]
        order = np.argsort(sub, axis=0)
        best_row = np.asarray(rows)[order[0]]
        best = np.take_along_axis(sub, order[:1], axis=0)[0]
        second = (np.take_along_axis(sub, order[1:2], axis=0)[0] if len(rows) > 1
                  else np.full(best.shape, np.inf))
        for s in rows:
            if counts[s] >= 2:
                out[s] = self._none(kind)
                continue
            after = np.where(best_row == s, second, best)
            out[s] = self._summary(kind, after > best, best, after)
        return out

    def _none(self, kind: str) -> dict[str, Any]:
        return {"kind": kind, "nodes_affected": 0, "share": 0.0, "district": None,
                "name_zh": None, "name_en": None, "before_s": None, "after_s": None,
                "max_increase_s": 0.0}

    def _summary(self, kind: str, lost: npt.NDArray[np.bool_], before: FloatArray,
                 after: FloatArray) -> dict[str, Any]:
        n = int(lost.sum())
        if n == 0:
            return self._none(kind)
        inc = after - before
        finite_inc = np.where(np.isfinite(inc), inc, np.nan)
        worst, worst_delta = None, -1.0
        for d in self.districts:
            m = self._masks[d] & lost
            if not m.any():
                continue
            delta = float(np.nansum(finite_inc[m])) / max(1, int(self._masks[d].sum()))
            if delta > worst_delta:
                worst, worst_delta = d, delta
        res = {"kind": kind, "nodes_affected": n, "share": round(n / lost.size, 4),
               "district": worst, "name_zh": None, "name_en": None, "before_s": None,
               "after_s": None,
               "max_increase_s": round(float(np.nanmax(finite_inc[lost])), 1)
               if np.isfinite(finite_inc[lost]).any() else None}
        if worst is not None:
            m = self._masks[worst]
            b, a = before[m], after[m]
            res["name_zh"], res["name_en"] = self.names.get(worst, (worst, worst))
            res["before_s"] = round(float(np.mean(b[np.isfinite(b)])), 1) if np.isfinite(
                b).any() else None
            res["after_s"] = round(float(np.mean(a[np.isfinite(a)])), 1) if np.isfinite(
                a).any() else None
        return res


def coverage_of(city: Any, graph_times_from: Any) -> tuple[Coverage, dict[str, int]]:
    """The city's coverage model from free-flow station times; also station → row."""
    roads = city.roads
    nodes = np.array([s.road_node for s in city.stations], np.int64)
    times = graph_times_from(nodes)
    districts = city.geo.district_of(roads.node_lon, roads.node_lat)
    names = {d.adcode: (d.name_zh, d.name_en) for d in city.districts}
    return (Coverage(times, [str(x) for x in districts], names),
            {s.station_id: i for i, s in enumerate(city.stations)})
