"""Traffic detectors (loop/radar) on road segments: speed, flow and occupancy.

Detectors favour expressways and arterials and the urban core (where a real
city instruments first). One detector measures one directed segment; it sits
5 m to the right of the segment's middle so both directions stay visible on the
map. If more detectors are wanted than segments exist, further detectors go at
the quarter points of already-instrumented segments.

>>> TRAFFIC_METRICS[0]
('speed', 'km/h')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from config.city.geo import LAT0, LON0, Geo, haversine_m, to_lonlat, to_xy
from config.city.registry import Sensor
from config.city.roads import ROAD_CLASSES, RoadNetwork

TRAFFIC_METRICS: tuple[tuple[str, str], ...] = (("speed", "km/h"), ("flow", "veh/h"), ("occ", "%"))
_CLASS_WEIGHT = np.array([4.0, 3.0, 1.0])


@dataclass(frozen=True, slots=True)
class TrafficDetector:
    detector_id: str  # "TRF-000123"
    segment: int  # index into RoadNetwork
    seg_id: str
    lon: float
    lat: float
    district: str
    position: float  # fraction along the segment


def build_detectors(
    geo: Geo, roads: RoadNetwork, n: int, rng: np.random.Generator
) -> tuple[TrafficDetector, ...]:
    """``n`` detectors (fewer only if the network has no valid place for them)."""
    if n <= 0 or roads.n_segments == 0:
        return ()
    lens = np.array([len(g) for g in roads.geometry])
    lines = shapely.linestrings(
        np.vstack(roads.geometry), indices=np.repeat(np.arange(lens.size), lens)
    )
    mlon, mlat = roads.midpoints()
    r_km = haversine_m(mlon, mlat, np.full_like(mlon, LON0), np.full_like(mlat, LAT0)) / 1000
    w = _CLASS_WEIGHT[roads.road_class] * (np.exp(-r_km / 12.0) + 0.05)
    w = np.where(roads.bridge, 0.0, w)
    chosen: list[tuple[int, float]] = []
    for frac in (0.5, 0.25, 0.75, 0.125, 0.375, 0.625, 0.875):
        eligible = np.flatnonzero(w > 0)
        need = n - len(chosen)
        if need <= 0 or eligible.size == 0:
            break
        k = min(need, eligible.size)
        pick = rng.choice(eligible, size=k, replace=False, p=w[eligible] / w[eligible].sum())
        chosen.extend((int(i), frac) for i in np.sort(pick))
    seg = np.array([c[0] for c in chosen], np.int64)
    pos = np.array([c[1] for c in chosen])
    pts = shapely.line_interpolate_point(lines[seg], pos, normalized=True)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    # 5 m to the right of travel direction
    x, y = to_xy(lon, lat)
    sx, sy = to_xy(roads.node_lon[roads.src[seg]], roads.node_lat[roads.src[seg]])
    tx, ty = to_xy(roads.node_lon[roads.dst[seg]], roads.node_lat[roads.dst[seg]])
    dx, dy = tx - sx, ty - sy
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    olon, olat = to_lonlat(x + 5.0 * dy / norm, y - 5.0 * dx / norm)
    d = geo.district_index(olon, olat)
    ok = d >= 0
    ok[ok] &= geo.on_land(olon[ok], olat[ok])
    # fall back to the un-offset point, then drop what still misses the city
    d2 = geo.district_index(lon, lat)
    ok2 = d2 >= 0
    ok2[ok2] &= geo.on_land(lon[ok2], lat[ok2])
    olon = np.where(ok, olon, lon)
    olat = np.where(ok, olat, lat)
    d = np.where(ok, d, d2)
    keep = ok | ok2
    codes = [g.adcode for g in geo.districts]
    out: list[TrafficDetector] = []
    for j in np.flatnonzero(keep).tolist():
        out.append(
            TrafficDetector(
                f"TRF-{len(out) + 1:06d}",
                int(seg[j]),
                roads.seg_ids[int(seg[j])],
                float(olon[j]),
                float(olat[j]),
                codes[int(d[j])],
                float(pos[j]),
            )
        )
    return tuple(out)


def traffic_sensors(
    detectors: tuple[TrafficDetector, ...],
    roads: RoadNetwork,
    period_s: int,
    cell_for: Callable[[float, float, str], str],
) -> list[Sensor]:
    out = []
    for det in detectors:
        i = det.segment
        lanes = int(roads.lanes[i])
        meta = {
            "detector": det.detector_id,
            "segment": det.seg_id,
            "road_class": ROAD_CLASSES[int(roads.road_class[i])],
            "lanes": lanes,
            "free_speed_kmh": float(roads.free_speed_kmh[i]),
            "name": roads.names[i],
        }
        cell = cell_for(det.lon, det.lat, det.district)
        for metric, unit in TRAFFIC_METRICS:
            hi = {"speed": 200.0, "flow": 3000.0 * lanes, "occ": 100.0}[metric]
            out.append(
                Sensor(
                    f"{det.detector_id}-{metric}",
                    "traffic",
                    metric,
                    unit,
                    det.lon,
                    det.lat,
                    det.district,
                    cell,
                    0.0,
                    hi,
                    det.seg_id,
                    period_s,
                    meta,
                )
            )
    return out
