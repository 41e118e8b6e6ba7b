"""Greedy station siting on a road graph: cover weighted demand within a reach budget.

Planners site fire, EMS and police stations so that the places where people live
are reached within a target (GB 51080: a fire engine at its district edge within
5 min of dispatch; pre-hospital care: an urban station radius of 5 km). The
classical tool is *maximal covering*: pick, one at a time, the candidate site
that reaches the most still-unreached demand. Here demand points carry a weight
(population proxy) and a reach is either road travel time (graph time from the
candidate node to the point's nearest node plus the off-graph access leg) or a
straight-line radius.

Everything is sparse and chunked, so a 10 000-node graph costs memory in
proportion to what each site can reach, not to the number of node pairs.

>>> import scipy.sparse as sp
>>> g = sp.csr_matrix(([60.0, 60.0, 60.0, 60.0], ([0, 1, 1, 2], [1, 0, 2, 1])), shape=(3, 3))
>>> cov = time_cover(g, np.array([0, 1, 2]), np.array([0, 1, 2]), np.zeros(3), 60.0)
>>> cov.toarray().astype(int).tolist()   # node 1 reaches all three within 60 s
[[1, 1, 0], [1, 1, 1], [0, 1, 1]]
>>> greedy_cover(cov, np.ones(3), must=[], max_new=5, min_gain=0.5)
[1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Dijkstra sources per batch (bounds the dense (batch × nodes) scratch array)
_CHUNK = 256


def time_cover(
    graph: sp.csr_matrix,
    cand_nodes: IntArray,
    dem_node: IntArray,
    dem_access_s: FloatArray,
    budget_s: float,
) -> sp.csr_matrix:
    """Boolean ``(candidates × demand)``: candidate reaches the point within ``budget_s``.

    The point's time is the graph time to its nearest node ``dem_node`` plus its
    access leg ``dem_access_s`` (off the modelled roads).
    """
    cand_nodes = np.asarray(cand_nodes, np.int64)
    dem_node = np.asarray(dem_node, np.int64)
    slack = budget_s - np.asarray(dem_access_s, np.float64)
    live = np.flatnonzero(slack >= 0)  # points whose access alone exceeds the budget: never
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for k in range(0, cand_nodes.size, _CHUNK):
        t = dijkstra(graph, directed=True, indices=cand_nodes[k : k + _CHUNK], limit=budget_s)
        r, c = np.nonzero(t[:, dem_node[live]] <= slack[live])
        rows.append(r + k)
        cols.append(live[c])
    r_all = np.concatenate(rows) if rows else np.empty(0, np.int64)
    c_all = np.concatenate(cols) if cols else np.empty(0, np.int64)
    return sp.csr_matrix(
        (np.ones(r_all.size, bool), (r_all, c_all)), shape=(cand_nodes.size, dem_node.size)
    )


def radius_cover(
    cand_xy: FloatArray, dem_xy: FloatArray, radius_m: float
) -> sp.csr_matrix:
    """Boolean ``(candidates × demand)``: the point is within ``radius_m`` (straight line)."""
    near = cKDTree(cand_xy).sparse_distance_matrix(
        cKDTree(dem_xy), radius_m, output_type="coo_matrix")
    # sparse_distance_matrix drops exact zeros (a site on a demand point): add them back
    same = cKDTree(cand_xy).sparse_distance_matrix(cKDTree(dem_xy), 1e-9,
                                                   output_type="ndarray")
    rows = np.concatenate([near.row, same["i"]]).astype(np.int64)
    cols = np.concatenate([near.col, same["j"]]).astype(np.int64)
    out = sp.csr_matrix(
        (np.ones(rows.size, bool), (rows, cols)), shape=(len(cand_xy), len(dem_xy))
    )
    out.sum_duplicates()
    return out


def greedy_cover(
    cover: sp.csr_matrix,
    weight: FloatArray,
    must: Sequence[int],
    max_new: int,
    min_gain: float,
) -> list[int]:
    """Rows picked one at a time by newly covered weight, after the ``must`` rows.

    Stops after ``max_new`` picks or when the best pick would add less than
    ``min_gain``. Ties go to the lowest row, so the result is deterministic.
    Returns the new rows only (not ``must``).
    """
    cover = sp.csr_matrix(cover, dtype=np.float64)
    w = np.asarray(weight, np.float64)
    open_w = w.copy()
    for r in must:
        open_w[cover.indices[cover.indptr[r] : cover.indptr[r + 1]]] = 0.0
    picks: list[int] = []
    while len(picks) < max_new and cover.shape[0] > 0:
        gain = cover @ open_w
        best = int(np.argmax(gain))
        if gain[best] < min_gain or gain[best] <= 0:
            break
        picks.append(best)
        open_w[cover.indices[cover.indptr[best] : cover.indptr[best + 1]]] = 0.0
    return picks


def first_due(
    graph: sp.csr_matrix, station_nodes: IntArray, dem_node: IntArray, dem_access_s: FloatArray
) -> tuple[FloatArray, IntArray]:
    """Per demand point: seconds from the nearest station and that station's position.

    One multi-source Dijkstra; ``-1`` where no station reaches the point.
    """
    nodes = np.asarray(station_nodes, np.int64)
    dist, _, src = dijkstra(
        graph, directed=True, indices=nodes, min_only=True, return_predecessors=True
    )
    pos = {int(n): i for i, n in enumerate(nodes.tolist())}
    lut = np.full(graph.shape[0], -1, np.int64)
    for n, i in pos.items():
        lut[n] = i
    src = np.asarray(src, np.int64)[dem_node]
    owner = np.where(src >= 0, lut[np.maximum(src, 0)], -1)
    return np.asarray(dist, np.float64)[dem_node] + dem_access_s, owner
