"""HJ 633 tables: IAQI breakpoints, pollutant names, AQI categories and colours.

Values from HJ 633—2012 Table 1 = HJ 633—2026 Table 3 (only the PM columns changed) and
the category table shared by both editions (DOMAIN.md §1.1, §1.3, all [V]).
Concentrations in µg/m³, CO in mg/m³.

>>> category_for(107).klass.zh
'轻度污染'
>>> float(breakpoints("pm25_24h", "2026")[0][2])
60.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from models.indices.labels import Colour, Label

Edition = Literal["2012", "2026"]
Report = Literal["hourly", "daily"]

EDITIONS: tuple[Edition, ...] = ("2012", "2026")

#: IAQI ordinates shared by every full column.
IAQI_LEVELS = (0.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0)

# Concentration breakpoints. SO2 1-h stops at 800 (IAQI 200) and O3 8-h at 800 (IAQI 300);
# what happens above them is an edition-specific rule applied in aqi_china.py.
_BP: dict[str, tuple[float, ...]] = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
}
_PM_BP: dict[tuple[str, Edition], tuple[float, ...]] = {
    ("pm10", "2012"): (0, 50, 150, 250, 350, 420, 500, 600),
    ("pm10", "2026"): (0, 50, 120, 250, 350, 420, 500, 600),
    ("pm25", "2012"): (0, 35, 75, 115, 150, 250, 350, 500),
    ("pm25", "2026"): (0, 35, 60, 115, 150, 250, 350, 500),
}


@dataclass(frozen=True, slots=True)
class PollutantInfo:
    """One averaged quantity that can carry an IAQI (e.g. ``pm25_24h``)."""

    key: str
    symbol: str  # pollutant without the averaging period, e.g. "PM2.5"
    name: Label
    unit: str
    decimals_2026: int  # GB/T 8170 input rounding in HJ 633—2026


def _p(key: str, symbol: str, zh: str, en: str, unit: str = "µg/m³", dec: int = 0) -> PollutantInfo:
    return PollutantInfo(key, symbol, Label(zh, en), unit, dec)


POLLUTANTS: dict[str, PollutantInfo] = {
    p.key: p
    for p in (
        _p("so2_24h", "SO2", "二氧化硫24小时平均", "SO₂ 24-h mean"),
        _p("so2_1h", "SO2", "二氧化硫1小时平均", "SO₂ 1-h mean"),
        _p("no2_24h", "NO2", "二氧化氮24小时平均", "NO₂ 24-h mean"),
        _p("no2_1h", "NO2", "二氧化氮1小时平均", "NO₂ 1-h mean"),
        _p("co_24h", "CO", "一氧化碳24小时平均", "CO 24-h mean", "mg/m³", 1),
        _p("co_1h", "CO", "一氧化碳1小时平均", "CO 1-h mean", "mg/m³", 1),
        _p("o3_1h", "O3", "臭氧1小时平均", "O₃ 1-h mean"),
        _p("o3_8h", "O3", "臭氧8小时滑动平均", "O₃ 8-h moving mean"),
        _p("pm10_24h", "PM10", "颗粒物(PM10)24小时平均", "PM10 24-h mean"),
        _p("pm10_1h", "PM10", "颗粒物(PM10)1小时平均", "PM10 1-h mean"),
        _p("pm25_24h", "PM2.5", "细颗粒物(PM2.5)24小时平均", "PM2.5 24-h mean"),
        _p("pm25_1h", "PM2.5", "细颗粒物(PM2.5)1小时平均", "PM2.5 1-h mean"),
    )
}

#: Which averages carry an IAQI in each (edition, report). In the 2012 daily report the
#: O₃ entries are the day's max 1-h and max 8-h; in 2012 hourly the PM entries are the
#: 24-h moving means (1-h PM is shown as a concentration only).
REPORT_KEYS: dict[tuple[Edition, Report], tuple[str, ...]] = {
    ("2012", "daily"): ("so2_24h", "no2_24h", "co_24h", "o3_1h", "o3_8h", "pm10_24h", "pm25_24h"),
    ("2012", "hourly"): ("so2_1h", "no2_1h", "co_1h", "o3_1h", "o3_8h", "pm10_24h", "pm25_24h"),
    ("2026", "daily"): ("so2_24h", "no2_24h", "co_24h", "o3_8h", "pm10_24h", "pm25_24h"),
    ("2026", "hourly"): ("so2_1h", "no2_1h", "co_1h", "o3_1h", "pm10_1h", "pm25_1h"),
}


def breakpoints(key: str, edition: Edition) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return ``(concentrations, iaqi)`` breakpoint arrays for ``key`` in ``edition``.

    1-h PM (2026 hourly) is looked up in the daily PM columns, as HJ 633—2026 requires.
    """
    if key not in POLLUTANTS:
        raise KeyError(f"unknown pollutant key {key!r}; known: {sorted(POLLUTANTS)}")
    if edition not in EDITIONS:
        raise ValueError(f"unknown HJ 633 edition {edition!r}")
    if key.startswith("pm"):
        conc = _PM_BP[(key.split("_")[0], edition)]
    else:
        conc = _BP[key]
    c = np.asarray(conc, dtype=np.float64)
    return c, np.asarray(IAQI_LEVELS[: len(c)], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class AQICategory:
    """An AQI band: 级别 (grade), 类别 (class), colour and CMYK for print."""

    level: int  # 1..6
    lower: int
    upper: int | None  # None = open-ended (>300)
    grade: Label
    klass: Label
    colour: Colour
    cmyk: tuple[int, int, int, int]


def _cat(
    level: int, lo: int, hi: int | None, grade: str, zh: str, en: str, hexc: str,
    czh: str, cen: str, cmyk: tuple[int, int, int, int],
) -> AQICategory:
    grade_en = f"Level {'I II III IV V VI'.split()[level - 1]}"
    return AQICategory(
        level, lo, hi, Label(grade, grade_en), Label(zh, en),
        Colour.from_hex(hexc, Label(czh, cen)), cmyk,
    )


CATEGORIES: tuple[AQICategory, ...] = (
    _cat(1, 0, 50, "一级", "优", "Excellent", "#00E400", "绿色", "green", (40, 0, 100, 0)),
    _cat(2, 51, 100, "二级", "良", "Good", "#FFFF00", "黄色", "yellow", (0, 0, 100, 0)),
    _cat(3, 101, 150, "三级", "轻度污染", "Lightly polluted", "#FF7E00", "橙色", "orange",
         (0, 52, 100, 0)),
    _cat(4, 151, 200, "四级", "中度污染", "Moderately polluted", "#FF0000", "红色", "red",
         (0, 100, 100, 0)),
    _cat(5, 201, 300, "五级", "重度污染", "Heavily polluted", "#99004C", "紫色", "purple",
         (10, 100, 40, 30)),
    _cat(6, 301, None, "六级", "严重污染", "Severely polluted", "#7E0023", "褐红色", "maroon",
         (30, 100, 100, 30)),
)

#: Upper AQI of levels 1..5; level 6 is everything above 300.
_UPPERS = np.array([50, 100, 150, 200, 300], dtype=np.float64)


def category_for(aqi: int) -> AQICategory:
    """Category of an integer AQI (0 or 1 both fall in 一级)."""
    if aqi < 0:
        raise ValueError(f"AQI cannot be negative, got {aqi}")
    return CATEGORIES[int(np.searchsorted(_UPPERS, aqi, side="left"))]


def category_levels(aqi: NDArray[np.float64]) -> NDArray[np.int8]:
    """Vectorised :func:`category_for`: level 1..6, 0 where the AQI is NA (NaN)."""
    a = np.asarray(aqi, dtype=np.float64)
    lev = (np.searchsorted(_UPPERS, np.nan_to_num(a, nan=0.0), side="left") + 1).astype(np.int8)
    lev[~np.isfinite(a)] = 0
    return lev
