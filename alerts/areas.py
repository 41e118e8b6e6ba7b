"""Outlines and names of alert areas from the city, for the CAP ``<area>`` block.

A district alert uses the district outline (largest part, simplified to at most
``max_points`` vertices so a CAP message stays small), a grid-cell alert the H3 cell
hexagon, anything else the circle the exporter draws around its location.

>>> from config.city import load_city
>>> areas = CityAreas(load_city(scale=0.05, seed=7))
>>> ring = areas.ring("district:350102")
>>> ring[0] == ring[-1] and 4 <= len(ring) <= 81
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import h3

from alerts.model import Alert

Ring = list[tuple[float, float]]


class CityAreas:
    """``outline(alert)`` and ``names(alert)`` for :func:`alerts.cap.alert_to_cap`."""

    def __init__(self, city: Any, max_points: int = 80) -> None:
        self.city = city
        self.max_points = max_points
        self._districts = {d.adcode: d for d in city.districts}

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one object per process, few areas
    def ring(self, area: str) -> Ring | None:
        """Closed (lat, lon) ring of ``district:<adcode>`` or ``cell:<h3>``; None otherwise."""
        kind, _, key = area.partition(":")
        if kind == "district" and key in self._districts:
            poly = max(self._districts[key].polygon.geoms, key=lambda p: p.area)
            tol = 0.0005
            ext = poly.exterior
            while len(ext.coords) > self.max_points + 1:
                ext = poly.simplify(tol, preserve_topology=True).exterior
                tol *= 2
            ring = [(float(lat), float(lon)) for lon, lat in ext.coords]
        elif kind == "cell" and key and h3.is_valid_cell(key):
            ring = [(float(lat), float(lon)) for lat, lon in h3.cell_to_boundary(key)]
        else:
            return None
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        return ring

    def outline(self, alert: Alert) -> Sequence[tuple[float, float]] | None:
        return self.ring(alert.area) if alert.area else None

    def names(self, alert: Alert) -> tuple[str, str]:
        ds = [self._districts[d] for d in (alert.districts or (alert.district,))
              if d in self._districts]
        if not ds:
            return alert.source, alert.source
        return "、".join(d.name_zh for d in ds), ", ".join(d.name_en for d in ds)
