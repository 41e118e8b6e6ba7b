"""Districts, land and sea of Fuzhou from the shipped GeoJSON (``assets/geo``).

Everything the city generator places (road nodes, stations, sensors) is tested
against these polygons, so they are loaded once per process, made valid and
prepared for fast vectorised point-in-polygon queries.

>>> g = load_geo()
>>> g.district_of(np.array([119.30]), np.array([26.08])).tolist()
['350102']
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from config.settings import REPO_ROOT

GEO_DIR = REPO_ROOT / "assets" / "geo"
DISTRICTS_FILE = "fuzhou_350100_full.wgs84.geojson"
PROVINCE_FILE = "fujian_350000_full.wgs84.geojson"
LAND_FILE = "land_fuzhou_region_datav.wgs84.geojson"
SEA_FILE = "sea_fuzhou_region_datav.wgs84.geojson"

#: Hanyu Pinyin names (official English style) of Fuzhou's 13 county-level units.
NAMES_EN: dict[str, str] = {
    "350102": "Gulou District",
    "350103": "Taijiang District",
    "350104": "Cangshan District",
    "350105": "Mawei District",
    "350111": "Jin'an District",
    "350112": "Changle District",
    "350121": "Minhou County",
    "350122": "Lianjiang County",
    "350123": "Luoyuan County",
    "350124": "Minqing County",
    "350125": "Yongtai County",
    "350128": "Pingtan County",
    "350181": "Fuqing City",
}

#: Reference point of the local metric projection (Gulou, the historic centre).
LON0, LAT0 = 119.2965, 26.0745
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0 * float(np.cos(np.radians(LAT0)))

FloatArray = npt.NDArray[np.float64]


def to_xy(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Equirectangular metres around Gulou; < 0.5 % error across Fuzhou, fine for layout."""
    return (
        (np.asarray(lon, np.float64) - LON0) * _M_PER_DEG_LON,
        (np.asarray(lat, np.float64) - LAT0) * _M_PER_DEG_LAT,
    )


def to_lonlat(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Inverse of :func:`to_xy`."""
    return np.asarray(x) / _M_PER_DEG_LON + LON0, np.asarray(y) / _M_PER_DEG_LAT + LAT0


def haversine_m(
    lon1: FloatArray, lat1: FloatArray, lon2: FloatArray, lat2: FloatArray
) -> FloatArray:
    """Great-circle distance in metres (vectorised)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6_371_008.8 * np.arcsin(np.sqrt(a)), np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class District:
    """One county-level unit: adcode, names, valid (multi)polygon and centroid."""

    adcode: str
    name_zh: str
    name_en: str
    polygon: MultiPolygon
    centroid: tuple[float, float]
    #: seat of government (DataV ``center``), a good hub for synthetic roads
    seat: tuple[float, float]
    area_km2: float


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """``make_valid`` keeping only polygon parts (DataV has tiny self-intersections)."""
    g = shapely.make_valid(geom)
    parts: list[Polygon] = []
    for p in getattr(g, "geoms", [g]):
        if isinstance(p, Polygon) and not p.is_empty:
            parts.append(p)
        elif isinstance(p, MultiPolygon):
            parts.extend(p.geoms)
    return MultiPolygon(parts)


def _read(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        feats: list[dict[str, object]] = json.load(f)["features"]
    return feats


@dataclass(frozen=True, eq=False)
class Geo:
    """Districts plus land/sea masks with vectorised lookups."""

    districts: tuple[District, ...]
    land: MultiPolygon
    sea: BaseGeometry
    #: union of all districts (the city limits)
    city: MultiPolygon

    def district_index(self, lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.int64]:
        """Index into ``districts`` for each point, -1 outside the city."""
        lon = np.asarray(lon, np.float64)
        lat = np.asarray(lat, np.float64)
        out = np.full(lon.shape, -1, np.int64)
        for i, d in enumerate(self.districts):
            todo = out < 0
            if not todo.any():
                break
            hit = shapely.contains_xy(d.polygon, lon[todo], lat[todo])
            idx = np.flatnonzero(todo)[hit]
            out[idx] = i
        return out

    def district_of(self, lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.str_]:
        """adcode for each point ('' outside the city)."""
        codes = np.array([d.adcode for d in self.districts] + [""])
        return codes[self.district_index(lon, lat)]

    def on_land(self, lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
        """Inside the land mask and not in the sea polygon."""
        lon = np.asarray(lon, np.float64)
        lat = np.asarray(lat, np.float64)
        return np.asarray(
            shapely.contains_xy(self.land, lon, lat) & ~shapely.contains_xy(self.sea, lon, lat)
        )

    def by_adcode(self, adcode: str) -> District:
        for d in self.districts:
            if d.adcode == adcode:
                return d
        raise KeyError(adcode)


@functools.lru_cache(maxsize=4)
def load_geo(geo_dir: Path = GEO_DIR) -> Geo:
    """Read and validate the shipped GeoJSON once per process (about 0.2 s)."""
    districts: list[District] = []
    for f in _read(geo_dir / DISTRICTS_FILE):
        props = f["properties"]
        assert isinstance(props, dict)
        adcode = str(props["adcode"])
        poly = _polygonal(shape(f["geometry"]))
        c = poly.centroid
        seat = props.get("center") or [c.x, c.y]
        # area in km² from the local projection (good enough for densities)
        area = (
            shapely.area(
                shapely.transform(poly, lambda xy: np.column_stack(to_xy(xy[:, 0], xy[:, 1])))
            )
            / 1e6
        )
        districts.append(
            District(
                adcode=adcode,
                name_zh=str(props["name"]),
                name_en=NAMES_EN.get(adcode, adcode),
                polygon=poly,
                centroid=(float(c.x), float(c.y)),
                seat=(float(seat[0]), float(seat[1])),
                area_km2=float(area),
            )
        )
    land = _polygonal(shape(_read(geo_dir / LAND_FILE)[0]["geometry"]))
    sea = shapely.make_valid(shape(_read(geo_dir / SEA_FILE)[0]["geometry"]))
    city = _polygonal(shapely.union_all([d.polygon for d in districts]).buffer(0))
    for g in (land, sea, city, *(d.polygon for d in districts)):
        shapely.prepare(g)
    return Geo(tuple(districts), land, sea, city)
