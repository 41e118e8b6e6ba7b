"""China AQI per HJ 633—2012 and HJ 633—2026 (hourly and daily reports).

Why two editions: data observed before 2026-03-01 (Beijing time) must keep the 2012 rules,
later data uses 2026 (DOMAIN.md §1). :func:`hj633_edition` picks the edition from the data's
time; ``standard_version`` overrides it.

Rules implemented (DOMAIN.md §1.2):

* IAQI by linear interpolation between breakpoints, rounded **up** (``ceil`` guarded
  against float error as ``ceil(round(v, 9))``); AQI = max IAQI.
* 2026 only: inputs first rounded per GB/T 8170 (round half to even) to whole µg/m³,
  CO to 0.1 mg/m³; AQI range 1–500; no 超标污染物.
* SO₂ 1-h > 800: 2012 uses the 24-h SO₂ IAQI instead (pass ``so2_24h``); 2026 gives 200.
* O₃ 8-h > 800: 2012 drops the 8-h IAQI and relies on the 1-h one; 2026 gives 300.
* Above the top breakpoint the IAQI is capped at 500 (a convention, [S]); ``cap=False``
  makes it NA instead.
* Missing data: a key that is absent means "not monitored" ("/"); ``None``/NaN means
  missing ("NA"). 2012: the AQI is taken over the remaining pollutants. 2026: the AQI
  from the remaining pollutants is published only if it is > 100, otherwise NA.
* Negative or infinite concentrations are invalid: the scalar API raises ``ValueError``,
  the array API yields NA.

>>> r = china_aqi({"pm25_24h": 80, "pm10_24h": 120, "so2_24h": 20, "no2_24h": 45,
...                "co_24h": 1.2, "o3_8h": 150}, report="daily", standard_version="2012")
>>> r.aqi, r.primary, r.category.grade.zh
(107, ('pm25_24h',), '三级')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.indices.aqi_china_tables import (
    EDITIONS,
    POLLUTANTS,
    REPORT_KEYS,
    AQICategory,
    Edition,
    Report,
    breakpoints,
    category_for,
    category_levels,
)

FloatArray = NDArray[np.float64]

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
#: First instant of HJ 633—2026 (Beijing time).
HJ633_2026_START = datetime(2026, 3, 1, tzinfo=BEIJING)

SO2_1H_LIMIT = 800.0
O3_8H_LIMIT = 800.0
AQI_CAP = 500.0


def hj633_edition(when: date | datetime) -> Edition:
    """HJ 633 edition in force for data at ``when``.

    A naive ``datetime`` or a ``date`` is read as Beijing time; an aware one is converted.

    >>> hj633_edition(date(2026, 2, 28)), hj633_edition(date(2026, 3, 1))
    ('2012', '2026')
    """
    if isinstance(when, datetime):
        t = when.replace(tzinfo=BEIJING) if when.tzinfo is None else when.astimezone(BEIJING)
        return "2026" if t >= HJ633_2026_START else "2012"
    return "2026" if when >= HJ633_2026_START.date() else "2012"


def _resolve_edition(standard_version: str | None, when: date | datetime | None) -> Edition:
    if standard_version is not None:
        if standard_version not in EDITIONS:
            raise ValueError(
                f"standard_version must be one of {EDITIONS}, got {standard_version!r}"
            )
        return standard_version  # type: ignore[return-value]
    if when is None:
        raise ValueError("give the data time `when` or an explicit `standard_version`")
    return hj633_edition(when)


def ceil_guarded(v: ArrayLike) -> FloatArray:
    """Round up, ignoring float noise below 1e-9 (e.g. 15.000000000000002 → 15)."""
    return np.ceil(np.round(np.asarray(v, dtype=np.float64), 9))


def round_gbt8170(c: ArrayLike, decimals: int) -> FloatArray:
    """Round half to even at ``decimals`` places (GB/T 8170 "四舍六入五成双").

    Scaled values are first cleaned to 1e-9 so that 0.35 (stored as 0.34999…) rounds like
    the decimal it was written as.

    >>> round_gbt8170([2.5, 3.5, 0.25, 0.35], 1).tolist()
    [2.5, 3.5, 0.2, 0.4]
    """
    scale = 10.0**decimals
    return np.rint(np.round(np.asarray(c, dtype=np.float64) * scale, 9)) / scale


def _raw_iaqi(key: str, c: FloatArray, edition: Edition) -> FloatArray:
    bp, ia = breakpoints(key, edition)
    idx = np.clip(np.searchsorted(bp, c, side="right") - 1, 0, len(bp) - 2)
    with np.errstate(invalid="ignore"):
        return (ia[idx + 1] - ia[idx]) / (bp[idx + 1] - bp[idx]) * (c - bp[idx]) + ia[idx]


def prepare_concentration(key: str, conc: ArrayLike, edition: Edition) -> FloatArray:
    """Concentrations as used for lookup: invalid → NaN, 2026 inputs rounded (GB/T 8170)."""
    c = np.array(conc, dtype=np.float64, copy=True, ndmin=1)
    c[~np.isfinite(c) | (c < 0)] = np.nan
    if edition == "2026":
        c = round_gbt8170(c, POLLUTANTS[key].decimals_2026)
    return c


def china_iaqi_array(key: str, conc: ArrayLike, edition: Edition, cap: bool = True) -> FloatArray:
    """IAQI (integer-valued float, NaN = NA) of one averaged pollutant for many stations.

    Applies the per-pollutant special rules: SO₂ 1-h > 800 and O₃ 8-h > 800 give 200/300 in
    2026 and NA in 2012 (the caller substitutes, see :func:`china_aqi_array`).

    >>> china_iaqi_array("pm25_24h", [80.0, float("nan")], "2026").tolist()
    [119.0, nan]
    """
    c = prepare_concentration(key, conc, edition)
    bp, _ = breakpoints(key, edition)
    out = ceil_guarded(_raw_iaqi(key, c, edition))
    above = c > bp[-1]
    if key == "so2_1h":
        out[above] = 200.0 if edition == "2026" else np.nan
    elif key == "o3_8h":
        out[above] = 300.0 if edition == "2026" else np.nan
    else:
        out[above] = AQI_CAP if cap else np.nan
    return out


@dataclass(frozen=True, slots=True)
class ChinaAQIArrays:
    """Batch result: AQI (NaN = NA), category level (0 = NA) and each IAQI."""

    aqi: FloatArray
    level: NDArray[np.int8]
    iaqi: dict[str, FloatArray]


def china_aqi_array(
    conc: Mapping[str, ArrayLike],
    report: Report,
    edition: Edition,
    cap: bool = True,
) -> ChinaAQIArrays:
    """AQI for a batch of stations: each value in ``conc`` is an array (same shape).

    Keys absent from ``conc`` are "not monitored"; NaN entries are missing (NA).
    Only keys in ``REPORT_KEYS[(edition, report)]`` count; in the 2012 hourly report
    ``so2_24h`` is read as the substitute for SO₂ 1-h > 800.
    """
    if (edition, report) not in REPORT_KEYS:
        raise ValueError(f"unknown edition/report {edition!r}/{report!r}")
    unknown = set(conc) - set(POLLUTANTS)
    if unknown:
        raise KeyError(f"unknown pollutant keys {sorted(unknown)}; known: {sorted(POLLUTANTS)}")
    keys = [k for k in REPORT_KEYS[(edition, report)] if k in conc]
    if not keys:
        raise ValueError(f"none of {REPORT_KEYS[(edition, report)]} given")
    iaqi = {k: china_iaqi_array(k, conc[k], edition, cap) for k in keys}
    shape = np.broadcast_shapes(*(v.shape for v in iaqi.values()))
    iaqi = {k: np.broadcast_to(v, shape).copy() for k, v in iaqi.items()}
    missing = np.zeros(shape, dtype=bool)
    for k in keys:
        if k == "so2_1h" and edition == "2012":
            c = np.broadcast_to(prepare_concentration(k, conc[k], edition), shape)
            over = c > SO2_1H_LIMIT
            missing |= np.isnan(c)
            if np.any(over):  # rule ²: the 24-h SO2 IAQI stands in for the 1-h one
                sub = np.full(shape, np.nan)
                if "so2_24h" in conc:
                    sub[:] = np.broadcast_to(
                        china_iaqi_array("so2_24h", conc["so2_24h"], edition, cap), shape
                    )
                sub[~over] = np.nan
                iaqi["so2_24h"] = sub
                missing |= over & np.isnan(sub)
        elif k == "o3_8h" and edition == "2012":
            # 8-h > 800 is not missing data: the 1-h IAQI stands in (rule ³)
            c = np.broadcast_to(prepare_concentration(k, conc[k], edition), shape)
            missing |= np.isnan(c)
        else:
            missing |= np.isnan(iaqi[k])
    stacked = np.stack(list(iaqi.values()))
    all_na = np.all(np.isnan(stacked), axis=0)
    aqi = np.where(all_na, np.nan, np.nanmax(np.where(np.isnan(stacked), -1.0, stacked), axis=0))
    if edition == "2026":
        aqi = np.where(np.isnan(aqi), np.nan, np.maximum(aqi, 1.0))
        aqi = np.where(missing & ~(aqi > 100.0), np.nan, aqi)
    return ChinaAQIArrays(aqi=aqi, level=category_levels(aqi), iaqi=iaqi)


@dataclass(frozen=True, slots=True)
class ChinaAQI:
    """One station's AQI report.

    ``iaqi`` maps each counted key to its IAQI (``None`` = NA); ``status`` maps every key of
    the report to "ok", "NA" (missing), "/" (not monitored) or "replaced" (2012 rules ²/³:
    SO₂ 1-h > 800 or O₃ 8-h > 800, whose IAQI is not used).
    ``exceeding`` (超标污染物, IAQI > 100) is ``None`` under 2026, which removed it.
    """

    standard_version: Edition
    report: Report
    aqi: int | None
    category: AQICategory | None
    primary: tuple[str, ...]
    exceeding: tuple[str, ...] | None
    iaqi: dict[str, int | None]
    status: dict[str, str]
    concentrations: dict[str, float | None]
    notes: tuple[str, ...]

    @property
    def aqi_text(self) -> str:
        """AQI as published: the integer, or "NA"."""
        return "NA" if self.aqi is None else str(self.aqi)

    @property
    def primary_symbols(self) -> tuple[str, ...]:
        """Primary pollutants without averaging period, deduplicated (e.g. ``("O3",)``)."""
        return tuple(dict.fromkeys(POLLUTANTS[k].symbol for k in self.primary))


def _scalar(key: str, v: float | None) -> float:
    if v is None:
        return math.nan
    f = float(v)
    if math.isinf(f) or f < 0:
        raise ValueError(f"{key}: concentration must be finite and >= 0, got {v!r}")
    return f


def china_aqi(
    concentrations: Mapping[str, float | None],
    report: Report,
    *,
    when: date | datetime | None = None,
    standard_version: str | None = None,
    cap: bool = True,
) -> ChinaAQI:
    """HJ 633 AQI of one station for an hour or a day.

    Parameters
    ----------
    concentrations
        Averages keyed like ``"pm25_24h"``, ``"o3_1h"`` (see ``POLLUTANTS``); µg/m³, CO mg/m³.
        For the 2012 daily report pass the day's max 1-h O₃ as ``o3_1h`` and max 8-h as
        ``o3_8h``; for 2012 hourly pass the PM 24-h moving means as ``pm*_24h``.
    report
        "hourly" (real-time) or "daily".
    when, standard_version
        Data time (selects the edition) or an explicit "2012"/"2026" override.
    cap
        Cap IAQI at 500 above the top breakpoint (convention) instead of NA.
    """
    edition = _resolve_edition(standard_version, when)
    vals = {k: _scalar(k, v) for k, v in concentrations.items()}
    res = china_aqi_array({k: np.array([v]) for k, v in vals.items()}, report, edition, cap)
    used = REPORT_KEYS[(edition, report)]
    iaqi: dict[str, int | None] = {}
    for k, arr in res.iaqi.items():
        x = float(arr[0])
        iaqi[k] = None if math.isnan(x) else int(x)
    status = {
        k: ("/" if k not in vals else "ok" if iaqi.get(k) is not None else "NA") for k in used
    }
    notes: list[str] = []
    c_used: dict[str, float | None] = {}
    for k in used:
        if k in vals:
            c = float(prepare_concentration(k, vals[k], edition)[0])
            c_used[k] = None if math.isnan(c) else c
    so2 = c_used.get("so2_1h")
    if so2 is not None and so2 > SO2_1H_LIMIT:
        notes.append(
            "SO2 1-h > 800: IAQI set to 200 (HJ 633-2026)" if edition == "2026"
            else "SO2 1-h > 800: 1-h IAQI not used, 24-h SO2 IAQI substituted (HJ 633-2012)"
        )
        if edition == "2012":
            status["so2_1h"] = "replaced"
            status["so2_24h"] = "ok" if iaqi.get("so2_24h") is not None else "NA"
    o3 = c_used.get("o3_8h")
    if o3 is not None and o3 > O3_8H_LIMIT:
        notes.append(
            "O3 8-h > 800: IAQI set to 300 (HJ 633-2026)" if edition == "2026"
            else "O3 8-h > 800: 8-h IAQI not used, 1-h O3 IAQI applies (HJ 633-2012)"
        )
        if edition == "2012":
            status["o3_8h"] = "replaced"
    a = float(res.aqi[0])
    aqi = None if math.isnan(a) else int(a)
    if aqi is None and any(s == "NA" for s in status.values()):
        notes.append("data missing: AQI not published (NA)")
    primary: tuple[str, ...] = ()
    if aqi is not None and aqi > 50:
        primary = tuple(k for k, v in iaqi.items() if v == aqi)
    exceeding: tuple[str, ...] | None = None
    if edition == "2012":
        exceeding = tuple(k for k, v in iaqi.items() if v is not None and v > 100)
    return ChinaAQI(
        standard_version=edition,
        report=report,
        aqi=aqi,
        category=None if aqi is None else category_for(aqi),
        primary=primary,
        exceeding=exceeding,
        iaqi=iaqi,
        status=status,
        concentrations=c_used,
        notes=tuple(notes),
    )
