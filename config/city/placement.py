"""Seeded placement of synthetic assets inside the real district polygons, on land.

A 0.01° raster (about 1 km) over Fuzhou carries a density per *profile*
(urban, industrial, spread); points are drawn cell-by-density, jittered inside
the cell and re-drawn until they fall inside a district and on land. This keeps
the old city dense, the mountains sparse and nothing in the sea.

>>> import numpy as np
>>> from config.city.geo import load_geo
>>> f = DensityField.build(load_geo())
>>> lon, lat, d = f.sample(np.random.default_rng(1), 5, "urban")
>>> bool((d >= 0).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from config.city.geo import LAT0, LON0, Geo, haversine_m

Profile = Literal["urban", "industrial", "spread"]

_STEP = 0.01

#: relative weight per district and profile (density per km², before radial terms)
_DISTRICT_WEIGHT: dict[Profile, dict[str, float]] = {
    "urban": {
        "350102": 1.0,
        "350103": 1.0,
        "350104": 0.8,
        "350105": 0.35,
        "350111": 0.45,
        "350112": 0.3,
        "350121": 0.1,
        "350122": 0.05,
        "350123": 0.03,
        "350124": 0.03,
        "350125": 0.03,
        "350128": 0.08,
        "350181": 0.1,
    },
    "industrial": {
        "350102": 0.05,
        "350103": 0.05,
        "350104": 0.5,
        "350105": 1.0,
        "350111": 0.3,
        "350112": 0.8,
        "350121": 0.5,
        "350122": 0.6,
        "350123": 0.4,
        "350124": 0.2,
        "350125": 0.15,
        "350128": 0.2,
        "350181": 0.8,
    },
    "spread": {
        "350102": 1.0,
        "350103": 1.0,
        "350104": 1.0,
        "350105": 0.7,
        "350111": 0.7,
        "350112": 0.7,
        "350121": 0.5,
        "350122": 0.4,
        "350123": 0.35,
        "350124": 0.35,
        "350125": 0.35,
        "350128": 0.45,
        "350181": 0.5,
    },
}
#: (radial decay km from the centre, weight of the decay term, weight of town bumps)
_RADIAL: dict[Profile, tuple[float, float, float]] = {
    "urban": (8.0, 15.0, 3.0),
    "industrial": (25.0, 0.5, 1.0),
    "spread": (15.0, 2.0, 1.0),
}


@dataclass(frozen=True, eq=False)
class DensityField:
    """Raster cell centres with their district index and per-profile weights."""

    geo: Geo
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    district: npt.NDArray[np.int64]
    weights: dict[Profile, npt.NDArray[np.float64]]

    @staticmethod
    def build(geo: Geo) -> DensityField:
        minx, miny, maxx, maxy = geo.city.bounds
        xs = np.arange(minx + _STEP / 2, maxx, _STEP)
        ys = np.arange(miny + _STEP / 2, maxy, _STEP)
        gx, gy = np.meshgrid(xs, ys)
        lon, lat = gx.ravel(), gy.ravel()
        d = geo.district_index(lon, lat)
        keep = d >= 0
        keep[keep] &= geo.on_land(lon[keep], lat[keep])
        lon, lat, d = lon[keep], lat[keep], d[keep]
        r_km = haversine_m(lon, lat, np.full_like(lon, LON0), np.full_like(lat, LAT0)) / 1000
        seats_lon = np.array([x.seat[0] for x in geo.districts])
        seats_lat = np.array([x.seat[1] for x in geo.districts])
        r_seat = haversine_m(lon, lat, seats_lon[d], seats_lat[d]) / 1000
        weights: dict[Profile, npt.NDArray[np.float64]] = {}
        codes = [x.adcode for x in geo.districts]
        for prof, table in _DISTRICT_WEIGHT.items():
            dw = np.array([table.get(c, 0.1) for c in codes])[d]
            decay, w_decay, w_seat = _RADIAL[prof]
            w = dw * (1.0 + w_decay * np.exp(-r_km / decay) + w_seat * np.exp(-r_seat / 3.0))
            weights[prof] = w / w.sum()
        return DensityField(geo, lon, lat, d, weights)

    def sample(
        self, rng: np.random.Generator, n: int, profile: Profile
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """``n`` points (lon, lat, district index) drawn by ``profile`` density."""
        out_lon = np.empty(n)
        out_lat = np.empty(n)
        out_d = np.full(n, -1, np.int64)
        todo = np.arange(n)
        p = self.weights[profile]
        for _ in range(50):
            if todo.size == 0:
                break
            cells = rng.choice(p.size, size=todo.size, p=p)
            lon = self.lon[cells] + rng.uniform(-_STEP / 2, _STEP / 2, todo.size)
            lat = self.lat[cells] + rng.uniform(-_STEP / 2, _STEP / 2, todo.size)
            d = self.geo.district_index(lon, lat)
            ok = d >= 0
            ok[ok] &= self.geo.on_land(lon[ok], lat[ok])
            out_lon[todo[ok]] = lon[ok]
            out_lat[todo[ok]] = lat[ok]
            out_d[todo[ok]] = d[ok]
            todo = todo[~ok]
        if todo.size:
            # fall back to the (valid) raster centres themselves
            cells = rng.choice(p.size, size=todo.size, p=p)
            out_lon[todo], out_lat[todo], out_d[todo] = (
                self.lon[cells],
                self.lat[cells],
                self.district[cells],
            )
        return out_lon, out_lat, out_d
