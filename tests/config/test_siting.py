"""Greedy covering on hand-checkable graphs: reach budgets, access legs, must-sites, ties."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from config.city.siting import first_due, greedy_cover, radius_cover, time_cover

# a line 0 - 1 - 2 - 3 - 4, 60 s per link both ways
_S = np.array([0, 1, 1, 2, 2, 3, 3, 4])
_D = np.array([1, 0, 2, 1, 3, 2, 4, 3])
LINE = sp.csr_matrix((np.full(8, 60.0), (_S, _D)), shape=(5, 5))


def test_time_cover_counts_the_access_leg() -> None:
    cand = np.array([0, 2])
    dem_node = np.array([1, 1, 4])
    cov = time_cover(LINE, cand, dem_node, np.array([0.0, 30.0, 0.0]), 70.0)
    # node 0 reaches node 1 in 60 s: the point with no access leg yes, with 30 s no
    assert cov.toarray().tolist() == [[True, False, False], [True, False, False]]
    assert time_cover(LINE, cand, dem_node, np.zeros(3), 120.0).toarray()[1].tolist() == [
        True, True, True]


def test_greedy_takes_the_biggest_gain_first_and_respects_must_and_min_gain() -> None:
    cov = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 1], [0, 0, 0, 1]], bool))
    w = np.array([1.0, 1.0, 1.0, 5.0])
    assert greedy_cover(cov, w, must=[], max_new=3, min_gain=0.5) == [1, 0]
    assert greedy_cover(cov, w, must=[1], max_new=3, min_gain=0.5) == [0]
    assert greedy_cover(cov, w, must=[1], max_new=3, min_gain=1.5) == []
    assert greedy_cover(cov, w, must=[], max_new=1, min_gain=0.0) == [1]
    assert greedy_cover(cov[:0], w, must=[], max_new=3, min_gain=0.0) == []


def test_radius_cover_includes_a_site_on_the_point() -> None:
    cand = np.array([[0.0, 0.0], [10_000.0, 0.0]])
    dem = np.array([[0.0, 0.0], [4_999.0, 0.0], [5_001.0, 0.0]])
    assert radius_cover(cand, dem, 5_000.0).toarray().tolist() == [
        [True, True, False], [False, False, True]]


def test_first_due_names_the_nearest_station() -> None:
    t, owner = first_due(LINE, np.array([0, 4]), np.array([0, 1, 3, 2]), np.array([0, 0, 0, 5.0]))
    assert t.tolist() == [0.0, 60.0, 60.0, 125.0]
    assert owner[:3].tolist() == [0, 0, 1] and owner[3] in (0, 1)
