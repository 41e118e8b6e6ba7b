"""Map layers of the city as plain data (lists of dicts / GeoJSON dicts), no UI code.

Rows are shaped for deck.gl layers: ``polygon`` / ``path`` are lists of
``[lon, lat]``; points have ``lon``/``lat``. ``to_geojson`` wraps the same rows
as a FeatureCollection for anything else.

>>> from config.city import load_city
>>> rows = load_city(scale=0.05).district_outlines()
>>> rows[0]["adcode"], rows[0]["name_en"]
('350102', 'Gulou District')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shapely.geometry import MultiPolygon

from config.city.roads import ROAD_CLASSES

if TYPE_CHECKING:
    from config.city.city import City

POINT_KINDS = ("air", "water_nodes", "tanks", "hazard", "stations", "detectors")


def _rings(poly: MultiPolygon) -> list[list[list[float]]]:
    """Exterior rings only (holes are rare islands-in-lakes at this scale)."""
    return [[[round(x, 6), round(y, 6)] for x, y in p.exterior.coords] for p in poly.geoms]


def district_outlines(city: City) -> list[dict[str, Any]]:
    """One row per polygon part: adcode, name_zh, name_en, polygon, centroid."""
    out = []
    for d in city.districts:
        for ring in _rings(d.polygon):
            out.append(
                {
                    "adcode": d.adcode,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "polygon": ring,
                    "centroid": list(d.centroid),
                }
            )
    return out


def cell_polygons(city: City) -> list[dict[str, Any]]:
    """Grid cells: cell id, resolution, district, hexagon ring."""
    return [
        {"cell": c.cell, "resolution": c.resolution, "district": c.district, "polygon": ring}
        for c, ring in zip(city.grid.cells, city.grid.polygons(), strict=True)
    ]


def road_paths(city: City) -> list[dict[str, Any]]:
    """Directed segments: id, class, name, lanes, free-flow speed, path."""
    r = city.roads
    return [
        {
            "segment": r.seg_ids[i],
            "road_class": ROAD_CLASSES[int(r.road_class[i])],
            "name": r.names[i],
            "lanes": int(r.lanes[i]),
            "free_speed_kmh": float(r.free_speed_kmh[i]),
            "synthetic": r.synthetic,
            "path": r.geometry[i].round(6).tolist(),
        }
        for i in range(r.n_segments)
    ]


def points(city: City, kind: str) -> list[dict[str, Any]]:
    """Point assets by kind (one of :data:`POINT_KINDS`)."""
    if kind == "air":
        return [
            {
                "id": s.station_id,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "district": s.district,
                "lon": s.lon,
                "lat": s.lat,
            }
            for s in city.air_stations
        ]
    if kind == "water_nodes":
        return [
            {"id": n.node_id, "zone": n.zone, "district": n.district, "lon": n.lon, "lat": n.lat}
            for n in city.water.nodes
        ]
    if kind == "tanks":
        return [
            {
                "id": t.tank_id,
                "zone": t.zone,
                "district": t.district,
                "lon": t.lon,
                "lat": t.lat,
                "min_level_m": t.min_level_m,
                "max_level_m": t.max_level_m,
            }
            for t in city.water.tanks
        ]
    if kind == "hazard":
        return [
            {
                "id": h.source_id,
                "name_zh": h.name_zh,
                "name_en": h.name_en,
                "kind": h.kind,
                "district": h.district,
                "lon": h.lon,
                "lat": h.lat,
                "grade": h.grade,
                "r": round(h.r, 2),
                "people_500m": h.people_500m,
            }
            for h in city.hazard_sources
        ]
    if kind == "stations":
        return [
            {
                "id": s.station_id,
                "kind": s.kind,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "district": s.district,
                "lon": s.lon,
                "lat": s.lat,
            }
            for s in city.stations
        ]
    if kind == "detectors":
        return [
            {
                "id": d.detector_id,
                "segment": d.seg_id,
                "district": d.district,
                "lon": d.lon,
                "lat": d.lat,
            }
            for d in city.detectors
        ]
    raise ValueError(f"unknown point kind {kind!r}; one of {POINT_KINDS}")


def to_geojson(city: City, layer: str) -> dict[str, Any]:
    """FeatureCollection of ``districts``, ``cells``, ``roads`` or a point kind."""
    if layer in ("districts", "cells"):
        rows = district_outlines(city) if layer == "districts" else cell_polygons(city)
        feats = [_feature(r, ("polygon",), "Polygon", [r["polygon"]]) for r in rows]
    elif layer == "roads":
        feats = [_feature(r, ("path",), "LineString", r["path"]) for r in road_paths(city)]
    else:
        feats = [_feature(r, ("lon", "lat"), "Point", [r["lon"], r["lat"]])
                 for r in points(city, layer)]
    return {"type": "FeatureCollection", "features": feats}


def _feature(row: dict[str, Any], geometry_keys: tuple[str, ...], kind: str,
             coordinates: Any) -> dict[str, Any]:
    """One GeoJSON feature: the row's other fields become its properties."""
    props = {k: v for k, v in row.items() if k not in geometry_keys}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": kind, "coordinates": coordinates}}
