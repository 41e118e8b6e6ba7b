"""US EPA AQI for PM2.5 (2024 revision, TAD EPA-454/B-24-002) and the PM NowCast.

Offered as an option next to the China AQI (visitors and comparisons). Concentrations are
truncated to 0.1 µg/m³, interpolated in the band, and the AQI is **rounded to nearest**
(unlike China's round-up). Above 325.4 µg/m³ the AQI is capped at 500 by default, the same
convention as for China; ``cap=False`` extrapolates along the top band, which the TAD allows.

>>> us_aqi_pm25(12.0), us_aqi_pm25(35.9)
(56, 102)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.indices.labels import Colour, Label

FloatArray = NDArray[np.float64]

_C_LO = np.array([0.0, 9.1, 35.5, 55.5, 125.5, 225.5])
_C_HI = np.array([9.0, 35.4, 55.4, 125.4, 225.4, 325.4])
_I_LO = np.array([0.0, 51.0, 101.0, 151.0, 201.0, 301.0])
_I_HI = np.array([50.0, 100.0, 150.0, 200.0, 300.0, 500.0])


@dataclass(frozen=True, slots=True)
class USCategory:
    """An EPA AQI category."""

    level: int
    lower: int
    upper: int | None
    name: Label
    colour: Colour


US_CATEGORIES: tuple[USCategory, ...] = (
    USCategory(1, 0, 50, Label("良好", "Good"), Colour.from_hex("#00E400", Label("绿色", "green"))),
    USCategory(2, 51, 100, Label("中等", "Moderate"),
               Colour.from_hex("#FFFF00", Label("黄色", "yellow"))),
    USCategory(3, 101, 150, Label("对敏感人群不健康", "Unhealthy for Sensitive Groups"),
               Colour.from_hex("#FF7E00", Label("橙色", "orange"))),
    USCategory(4, 151, 200, Label("不健康", "Unhealthy"),
               Colour.from_hex("#FF0000", Label("红色", "red"))),
    USCategory(5, 201, 300, Label("非常不健康", "Very Unhealthy"),
               Colour.from_hex("#8F3F97", Label("紫色", "purple"))),
    USCategory(6, 301, None, Label("危险", "Hazardous"),
               Colour.from_hex("#7E0023", Label("褐红色", "maroon"))),
)


def truncate_01(c: ArrayLike) -> FloatArray:
    """Truncate to 0.1 (guarding float noise: 35.9 stays 35.9)."""
    return np.floor(np.round(np.asarray(c, dtype=np.float64) * 10.0, 9)) / 10.0


def us_aqi_pm25_array(conc: ArrayLike, cap: bool = True) -> FloatArray:
    """AQI (integer-valued float) for many PM2.5 24-h (or NowCast) values; NaN = NA.

    Negative and non-finite inputs give NaN.
    """
    c = truncate_01(conc)
    c = np.where(np.isfinite(c) & (c >= 0), c, np.nan)
    idx = np.clip(np.searchsorted(_C_LO, c, side="right") - 1, 0, len(_C_LO) - 1)
    with np.errstate(invalid="ignore"):
        raw = (_I_HI[idx] - _I_LO[idx]) / (_C_HI[idx] - _C_LO[idx]) * (c - _C_LO[idx]) + _I_LO[idx]
        out = np.floor(np.round(raw, 9) + 0.5)
        if cap:
            out = np.minimum(out, 500.0)
    return out


def us_aqi_pm25(conc: float, cap: bool = True) -> int | None:
    """EPA AQI of one PM2.5 value; ``None`` for NaN, ``ValueError`` for negative/infinite."""
    if math.isnan(conc):
        return None
    if math.isinf(conc) or conc < 0:
        raise ValueError(f"PM2.5 must be finite and >= 0, got {conc!r}")
    return int(us_aqi_pm25_array(np.array([conc]), cap)[0])


def us_category(aqi: int) -> USCategory:
    """EPA category of an integer AQI."""
    if aqi < 0:
        raise ValueError(f"AQI cannot be negative, got {aqi}")
    for cat in US_CATEGORIES:
        if cat.upper is None or aqi <= cat.upper:
            return cat
    raise AssertionError("unreachable")


def nowcast_pm(hourly: ArrayLike) -> FloatArray:
    """EPA NowCast for PM from the last 12 hourly values (oldest first, time on last axis).

    Weight factor ``w = min/max`` of the valid hours (i.e. 1 − range/max), floored at 0.5;
    NowCast = Σ wⁱ cᵢ / Σ wⁱ with i = hours ago over valid hours. NA unless at least 2 of the
    3 most recent hours are valid. The result is truncated to 0.1 µg/m³.

    >>> float(nowcast_pm([10.0] * 12))
    10.0
    """
    a = np.asarray(hourly, dtype=np.float64)
    if a.shape[-1] < 12:
        raise ValueError(f"need at least 12 hourly values, got {a.shape[-1]}")
    x = a[..., -12:][..., ::-1]  # x[..., 0] = most recent
    x = np.where(np.isfinite(x) & (x >= 0), x, np.nan)
    valid = np.isfinite(x)
    enough = valid[..., :3].sum(axis=-1) >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        cmax = np.nanmax(np.where(valid, x, -np.inf), axis=-1)
        cmin = np.nanmin(np.where(valid, x, np.inf), axis=-1)
        w = np.where(cmax > 0, cmin / cmax, 1.0)
        w = np.maximum(w, 0.5)
        powers = w[..., None] ** np.arange(12.0)
        powers = np.where(valid, powers, 0.0)
        out = np.sum(powers * np.nan_to_num(x), axis=-1) / np.sum(powers, axis=-1)
    out = np.where(enough, out, np.nan)
    return truncate_01(out)
