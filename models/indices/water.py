"""Water supply: network pressure compliance and drinking-water limits (GB 5749—2022).

Pressure at network extremities must be ≥ 0.14 MPa and the compliance rate (share of valid
readings at or above the limit) ≥ 97 % (CJ/T 316—2009 §3.3, DOMAIN.md §4.2).
Quality limits are the routine indicators of GB 5749—2022 (DOMAIN.md §4.1); chloramine and
ClO₂ residual limits are the 2006 values, **[U]** for 2022, and every limit is data in
:data:`QUALITY_LIMITS` so it can be overridden.

>>> pressure_compliance([0.20, 0.13, 0.15, float("nan")]).rate
0.6666666666666666
>>> check_water_quality({"ph": 9.1, "turbidity": 0.4}).status
'fail'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.indices.labels import Label

MIN_PRESSURE_MPA = 0.14
PRESSURE_TARGET = 0.97

SamplePoint = Literal["outlet", "tap"]  # 出厂水 / 末梢水


@dataclass(frozen=True, slots=True)
class PressureCompliance:
    """Compliance of a set of pressure readings (管网压力合格率)."""

    rate: float  # NaN when there is no valid reading
    n_valid: int
    n_compliant: int
    limit_mpa: float
    target: float

    @property
    def meets_target(self) -> bool:
        """True when the rate reaches the target (97 % by default)."""
        return bool(self.rate >= self.target)


def pressure_ok(pressure_mpa: ArrayLike, limit_mpa: float = MIN_PRESSURE_MPA) -> NDArray[np.int8]:
    """Per reading: 1 = compliant (≥ limit), 0 = low, -1 = invalid (NaN/inf)."""
    p = np.asarray(pressure_mpa, dtype=np.float64)
    out = np.where(p >= limit_mpa, 1, 0).astype(np.int8)
    out[~np.isfinite(p)] = -1
    return out


def pressure_compliance(
    pressure_mpa: ArrayLike,
    limit_mpa: float = MIN_PRESSURE_MPA,
    target: float = PRESSURE_TARGET,
    exclude: ArrayLike | None = None,
) -> PressureCompliance:
    """Share of valid readings at or above ``limit_mpa``.

    ``exclude`` (bool mask) drops readings taken during declared supply shortages or
    force-majeure bursts, which CJ/T 316 leaves out of the rate.
    """
    flags = pressure_ok(pressure_mpa, limit_mpa).ravel()
    if exclude is not None:
        flags = flags[~np.asarray(exclude, dtype=bool).ravel()]
    n_valid = int(np.count_nonzero(flags >= 0))
    n_ok = int(np.count_nonzero(flags == 1))
    rate = n_ok / n_valid if n_valid else math.nan
    return PressureCompliance(rate, n_valid, n_ok, limit_mpa, target)


@dataclass(frozen=True, slots=True)
class QualityLimit:
    """Limit of one indicator; residual minimums differ at the outlet and at the tap."""

    key: str
    name: Label
    unit: str
    max: float | None = None
    min: float | None = None  # applies everywhere (pH)
    min_outlet: float | None = None
    min_tap: float | None = None
    verified: bool = True  # False = DOMAIN.md marks the 2022 value [U]


QUALITY_LIMITS: dict[str, QualityLimit] = {
    q.key: q
    for q in (
        QualityLimit("turbidity", Label("浑浊度", "Turbidity"), "NTU", max=1.0),
        QualityLimit("ph", Label("pH", "pH"), "", max=8.5, min=6.5),
        QualityLimit("tds", Label("溶解性总固体", "Total dissolved solids"), "mg/L", max=1000.0),
        QualityLimit("total_hardness", Label("总硬度(以CaCO₃计)", "Total hardness (as CaCO₃)"),
                     "mg/L", max=450.0),
        QualityLimit("permanganate_index",
                     Label("高锰酸盐指数(以O₂计)", "Permanganate index (as O₂)"), "mg/L", max=3.0),
        QualityLimit("ammonia", Label("氨(以N计)", "Ammonia (as N)"), "mg/L", max=0.5),
        QualityLimit("colour", Label("色度", "Colour"), "度", max=15.0),
        QualityLimit("iron", Label("铁", "Iron"), "mg/L", max=0.3),
        QualityLimit("manganese", Label("锰", "Manganese"), "mg/L", max=0.1),
        QualityLimit("aluminium", Label("铝", "Aluminium"), "mg/L", max=0.2),
        QualityLimit("chloride", Label("氯化物", "Chloride"), "mg/L", max=250.0),
        QualityLimit("sulfate", Label("硫酸盐", "Sulfate"), "mg/L", max=250.0),
        QualityLimit("plate_count", Label("菌落总数", "Plate count"), "CFU/mL", max=100.0),
        QualityLimit("total_coliforms", Label("总大肠菌群", "Total coliforms"), "MPN/100mL",
                     max=0.0),
        QualityLimit("e_coli", Label("大肠埃希氏菌", "E. coli"), "MPN/100mL", max=0.0),
        QualityLimit("free_chlorine", Label("游离氯", "Free chlorine"), "mg/L",
                     max=2.0, min_outlet=0.3, min_tap=0.05),
        QualityLimit("total_chlorine", Label("总氯", "Total chlorine"), "mg/L",
                     max=3.0, min_outlet=0.5, min_tap=0.05, verified=False),
        QualityLimit("chlorine_dioxide", Label("二氧化氯", "Chlorine dioxide"), "mg/L",
                     max=0.8, min_outlet=0.1, min_tap=0.02, verified=False),
    )
}

#: Per-indicator status codes of the vectorised check.
OK, ABOVE_MAX, BELOW_MIN, INVALID = 0, 1, 2, -1


def _min_for(lim: QualityLimit, point: SamplePoint) -> float | None:
    if lim.min is not None:
        return lim.min
    return lim.min_outlet if point == "outlet" else lim.min_tap


def quality_codes(key: str, values: ArrayLike, point: SamplePoint = "tap") -> NDArray[np.int8]:
    """Vectorised check of one indicator: OK / ABOVE_MAX / BELOW_MIN / INVALID per value.

    Negative or non-finite values are INVALID (a sensor fault, not clean water).
    """
    if point not in ("outlet", "tap"):
        raise ValueError(f"point must be 'outlet' or 'tap', got {point!r}")
    lim = QUALITY_LIMITS[key]
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros(v.shape, dtype=np.int8)
    if lim.max is not None:
        out[v > lim.max] = ABOVE_MAX
    lo = _min_for(lim, point)
    if lo is not None:
        out[v < lo] = BELOW_MIN
    out[~np.isfinite(v) | (v < 0)] = INVALID
    return out


@dataclass(frozen=True, slots=True)
class QualityFinding:
    """Why one indicator failed or could not be judged."""

    key: str
    value: float
    kind: Literal["above_max", "below_min", "invalid"]
    limit: float | None
    message: Label


@dataclass(frozen=True, slots=True)
class QualityResult:
    """Overall status ("pass", "fail", "na"), per-indicator status and reasons."""

    status: Literal["pass", "fail", "na"]
    per_indicator: dict[str, str]
    findings: tuple[QualityFinding, ...]


def _finding(lim: QualityLimit, value: float, code: int, point: SamplePoint) -> QualityFinding:
    n = lim.name
    if code == ABOVE_MAX:
        return QualityFinding(lim.key, value, "above_max", lim.max, Label(
            f"{n.zh} {value:g}{lim.unit} 超过限值 {lim.max:g}{lim.unit}",
            f"{n.en} {value:g} {lim.unit} above limit {lim.max:g} {lim.unit}"))
    if code == BELOW_MIN:
        lo = _min_for(lim, point)
        where = Label("出厂水" if point == "outlet" else "末梢水", point)
        return QualityFinding(lim.key, value, "below_min", lo, Label(
            f"{n.zh} {value:g}{lim.unit} 低于{where.zh}下限 {lo:g}{lim.unit}",
            f"{n.en} {value:g} {lim.unit} below {where.en} minimum {lo:g} {lim.unit}"))
    msg = Label(f"{n.zh} 读数无效: {value!r}", f"{n.en} invalid reading: {value!r}")
    return QualityFinding(lim.key, value, "invalid", None, msg)


def check_water_quality(
    reading: Mapping[str, float | None], point: SamplePoint = "tap"
) -> QualityResult:
    """Check one sample against GB 5749—2022; unknown keys raise ``KeyError``.

    Status is "fail" if any indicator breaks a limit, "pass" if every supplied indicator is
    valid and within limits, and "na" otherwise (no indicators, or an invalid reading and no
    breach: the sample cannot be called compliant). Invalid readings are listed as findings.
    """
    unknown = set(reading) - set(QUALITY_LIMITS)
    if unknown:
        raise KeyError(f"unknown indicators {sorted(unknown)}; known: {sorted(QUALITY_LIMITS)}")
    per: dict[str, str] = {}
    findings: list[QualityFinding] = []
    names = {OK: "ok", ABOVE_MAX: "above_max", BELOW_MIN: "below_min", INVALID: "invalid"}
    for key, raw in reading.items():
        value = math.nan if raw is None else float(raw)
        code = int(quality_codes(key, np.array([value]), point)[0])
        per[key] = names[code]
        if code != OK:
            findings.append(_finding(QUALITY_LIMITS[key], value, code, point))
    if any(s in ("above_max", "below_min") for s in per.values()):
        status: Literal["pass", "fail", "na"] = "fail"
    elif per and all(s == "ok" for s in per.values()):
        status = "pass"
    else:
        status = "na"
    return QualityResult(status, per, tuple(findings))
