"""Traffic performance index 交通运行指数 (GB/T 33171—2016 Annex C, as documented).

Per segment: ``TTI = actual / free-flow travel time``, ``DTP = 1 − 1/TTI`` (share of the
trip lost to delay), mapped onto TPI 0–10 through the Annex C bands
DTP 0 / 0.3 / 0.5 / 0.6 / 0.7 / 1.0 → TPI 0 / 2 / 4 / 6 / 8 / 10.
Linear interpolation inside a band is our convention (the standard text was not seen,
DOMAIN.md §3.1 [S]); pass other ``dtp_breaks`` if a city's method differs.
District and city TPI are vehicle-km weighted means of segment TPIs.

Speed-based segment levels by road class (DOMAIN.md §3.2, origin [U]) are a parameter table.

Level colours (green → dark red) are this project's display convention:
#1A9850, #91CF60, #FEE08B, #F46D43, #A50026.

>>> round(float(tpi_from_times(130.0, 100.0)), 3)   # TTI 1.3 → DTP 0.2308
1.538
>>> traffic_level(7.1).name.en
'Moderately congested'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.indices.labels import Colour, Label

FloatArray = NDArray[np.float64]

#: Annex C: DTP band edges and the TPI they map to.
DTP_BREAKS: tuple[float, ...] = (0.0, 0.3, 0.5, 0.6, 0.7, 1.0)
TPI_BREAKS: tuple[float, ...] = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0)


@dataclass(frozen=True, slots=True)
class TrafficLevel:
    """One of the five operating levels; TPI band is [lower, upper) (last band closed)."""

    level: int  # 1 = smooth … 5 = severely congested
    tpi_lower: float
    tpi_upper: float
    name: Label
    colour: Colour


TRAFFIC_LEVELS: tuple[TrafficLevel, ...] = (
    TrafficLevel(1, 0.0, 2.0, Label("畅通", "Smooth"),
                 Colour.from_hex("#1A9850", Label("绿色", "green"))),
    TrafficLevel(2, 2.0, 4.0, Label("基本畅通", "Basically smooth"),
                 Colour.from_hex("#91CF60", Label("浅绿色", "light green"))),
    TrafficLevel(3, 4.0, 6.0, Label("轻度拥堵", "Lightly congested"),
                 Colour.from_hex("#FEE08B", Label("黄色", "yellow"))),
    TrafficLevel(4, 6.0, 8.0, Label("中度拥堵", "Moderately congested"),
                 Colour.from_hex("#F46D43", Label("橙红色", "orange-red"))),
    TrafficLevel(5, 8.0, 10.0, Label("严重拥堵", "Severely congested"),
                 Colour.from_hex("#A50026", Label("深红色", "dark red"))),
)

RoadClass = Literal["expressway", "arterial", "secondary", "branch"]

#: Speed thresholds (km/h) separating levels 1|2, 2|3, 3|4, 4|5. Bands are (lower, upper]:
#: speed > t[0] is 畅通, t[1] < v <= t[0] is 基本畅通, …, v <= t[3] is 严重拥堵. [U]
SPEED_THRESHOLDS: dict[str, tuple[float, float, float, float]] = {
    "expressway": (65.0, 50.0, 35.0, 20.0),
    "arterial": (40.0, 30.0, 20.0, 15.0),
    "secondary": (35.0, 25.0, 15.0, 10.0),
    "branch": (35.0, 25.0, 15.0, 10.0),
}

ROAD_CLASS_NAMES: dict[str, Label] = {
    "expressway": Label("快速路", "Expressway"),
    "arterial": Label("主干路", "Arterial"),
    "secondary": Label("次干路", "Secondary road"),
    "branch": Label("支路", "Branch road"),
}


def travel_time_index(actual_s: ArrayLike, free_flow_s: ArrayLike) -> FloatArray:
    """TTI = actual / free-flow travel time; NaN where either time is not positive/finite."""
    a = np.asarray(actual_s, dtype=np.float64)
    f = np.asarray(free_flow_s, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(f) & (a > 0) & (f > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, a / f, np.nan)


def delay_time_proportion(tti: ArrayLike) -> FloatArray:
    """DTP = 1 − 1/TTI, floored at 0 (faster than free flow counts as no delay)."""
    t = np.asarray(tti, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isfinite(t) & (t > 0), np.maximum(1.0 - 1.0 / t, 0.0), np.nan)


def tpi_from_dtp(
    dtp: ArrayLike,
    dtp_breaks: tuple[float, ...] = DTP_BREAKS,
    tpi_breaks: tuple[float, ...] = TPI_BREAKS,
) -> FloatArray:
    """Map DTP onto TPI 0–10 piecewise linearly (NaN stays NaN)."""
    d = np.asarray(dtp, dtype=np.float64)
    if len(dtp_breaks) != len(tpi_breaks) or np.any(np.diff(dtp_breaks) <= 0):
        raise ValueError("dtp_breaks must increase and match tpi_breaks in length")
    return np.where(np.isnan(d), np.nan, np.interp(d, dtp_breaks, tpi_breaks))


def tpi_from_times(actual_s: ArrayLike, free_flow_s: ArrayLike) -> FloatArray:
    """Segment TPI from actual and free-flow travel times (any consistent unit)."""
    return tpi_from_dtp(delay_time_proportion(travel_time_index(actual_s, free_flow_s)))


def traffic_level_codes(tpi: ArrayLike) -> NDArray[np.int8]:
    """Level 1..5 per TPI ([0,2) → 1 … [8,10] → 5); 0 where TPI is NaN or out of 0–10."""
    t = np.asarray(tpi, dtype=np.float64)
    edges = np.array([lv.tpi_upper for lv in TRAFFIC_LEVELS[:-1]])
    lev = (np.searchsorted(edges, np.nan_to_num(t, nan=0.0), side="right") + 1).astype(np.int8)
    lev[~np.isfinite(t) | (t < 0) | (t > 10)] = 0
    return lev


def traffic_level(tpi: float) -> TrafficLevel:
    """Level of one TPI value; ``ValueError`` outside 0–10 or NaN."""
    code = int(traffic_level_codes(np.array([tpi]))[0])
    if code == 0:
        raise ValueError(f"TPI must be within 0..10, got {tpi!r}")
    return TRAFFIC_LEVELS[code - 1]


def speed_level_codes(speed_kmh: ArrayLike, road_class: str) -> NDArray[np.int8]:
    """Level 1..5 from mean speed for a road class, bands (lower, upper]; 0 = NA.

    >>> speed_level_codes([66.0, 65.0, 20.0], "expressway").tolist()
    [1, 2, 5]
    """
    if road_class not in SPEED_THRESHOLDS:
        raise KeyError(f"unknown road class {road_class!r}; known: {sorted(SPEED_THRESHOLDS)}")
    v = np.asarray(speed_kmh, dtype=np.float64)
    asc = np.array(SPEED_THRESHOLDS[road_class][::-1])  # 20, 35, 50, 65
    # number of thresholds strictly below v: 0 → severe (5) … 4 → smooth (1)
    n_below = np.searchsorted(asc, np.nan_to_num(v, nan=0.0), side="left")
    lev = (5 - n_below).astype(np.int8)
    lev[~np.isfinite(v) | (v < 0)] = 0
    return lev


def weighted_tpi(
    tpi: ArrayLike,
    length_km: ArrayLike,
    volume: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    n_groups: int | None = None,
) -> FloatArray:
    """Network (district/city) TPI: mean of segment TPIs weighted by vehicle-km.

    Weight = length × volume (vehicles in the period), or length alone if no volume is
    given. Segments with NaN TPI or non-positive weight are skipped. With ``groups``
    (integer district codes 0..n_groups-1) one TPI per group is returned, NaN if empty.

    >>> float(weighted_tpi([2.0, 8.0], [1.0, 3.0]))
    6.5
    """
    t = np.asarray(tpi, dtype=np.float64)
    w = np.broadcast_to(np.asarray(length_km, dtype=np.float64), t.shape)
    if volume is not None:
        w = w * np.asarray(volume, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(w) & (w > 0)
    wt = np.where(ok, w, 0.0)
    tt = np.where(ok, t, 0.0)
    if groups is None:
        total = wt.sum()
        return np.asarray(np.nan if total == 0 else float((wt * tt).sum() / total))
    g = np.asarray(groups, dtype=np.int64).ravel()
    k = int(g.max()) + 1 if n_groups is None else n_groups
    num = np.bincount(g, weights=(wt * tt).ravel(), minlength=k)
    den = np.bincount(g, weights=wt.ravel(), minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)
