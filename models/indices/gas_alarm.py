"""Combustible / toxic gas and oxygen alarm levels (GB/T 50493—2019 §5.5.2, [S]).

The standard caps the set-points: combustible first alarm at most 25 % LEL and second at
most 50 % LEL; toxic first at most 100 % OEL and second at most 200 % OEL (or, when the
detector range is too small, 5 % / 10 % IDLH); O₂ enriched 23.5 % VOL, deficient 19.5 % VOL.
Sites may set lower values, so set-points are parameters checked against those caps.
A reading at or above a set-point raises that alarm.

>>> combustible_alarm(30.0).name
'FIRST'
>>> oxygen_status(19.0).name
'DEFICIENT'
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from models.indices.labels import Label

LEL_FIRST_MAX = 25.0
LEL_SECOND_MAX = 50.0
OEL_FIRST_MAX_PCT = 100.0
OEL_SECOND_MAX_PCT = 200.0
IDLH_FIRST_MAX_PCT = 5.0
IDLH_SECOND_MAX_PCT = 10.0
O2_DEFICIENT = 19.5
O2_ENRICHED = 23.5


class AlarmLevel(IntEnum):
    """Detector alarm state; INVALID marks a NaN/negative/infinite reading."""

    INVALID = -1
    NORMAL = 0
    FIRST = 1
    SECOND = 2


class OxygenStatus(IntEnum):
    """O₂ alarm state."""

    INVALID = -1
    NORMAL = 0
    DEFICIENT = 1
    ENRICHED = 2


ALARM_NAMES: dict[AlarmLevel, Label] = {
    AlarmLevel.INVALID: Label("读数无效", "Invalid reading"),
    AlarmLevel.NORMAL: Label("正常", "Normal"),
    AlarmLevel.FIRST: Label("一级报警", "First-level alarm"),
    AlarmLevel.SECOND: Label("二级报警", "Second-level alarm"),
}
OXYGEN_NAMES: dict[OxygenStatus, Label] = {
    OxygenStatus.INVALID: Label("读数无效", "Invalid reading"),
    OxygenStatus.NORMAL: Label("正常", "Normal"),
    OxygenStatus.DEFICIENT: Label("缺氧报警", "Oxygen-deficiency alarm"),
    OxygenStatus.ENRICHED: Label("富氧报警", "Oxygen-enrichment alarm"),
}


def _check_setpoints(first: float, second: float, first_max: float, second_max: float) -> None:
    if not (0 < first < second):
        raise ValueError(f"need 0 < first < second set-point, got {first}, {second}")
    if first > first_max or second > second_max:
        raise ValueError(
            f"set-points {first}/{second} exceed the GB/T 50493 caps {first_max}/{second_max}"
        )


def alarm_level_codes(values: ArrayLike, first: float, second: float) -> NDArray[np.int8]:
    """Vectorised: 0 normal, 1 first alarm (≥ first), 2 second (≥ second), -1 invalid."""
    v = np.asarray(values, dtype=np.float64)
    out = np.zeros(v.shape, dtype=np.int8)
    out[v >= first] = 1
    out[v >= second] = 2
    out[~np.isfinite(v) | (v < 0)] = -1
    return out


def combustible_alarm(
    pct_lel: float, first: float = LEL_FIRST_MAX, second: float = LEL_SECOND_MAX
) -> AlarmLevel:
    """Alarm level of a combustible-gas reading in % LEL."""
    _check_setpoints(first, second, LEL_FIRST_MAX, LEL_SECOND_MAX)
    return AlarmLevel(int(alarm_level_codes(np.array([pct_lel]), first, second)[0]))


def toxic_alarm(
    concentration: float,
    reference: float,
    basis: Literal["oel", "idlh"] = "oel",
    first_pct: float | None = None,
    second_pct: float | None = None,
) -> AlarmLevel:
    """Alarm level of a toxic-gas reading; ``reference`` is the OEL (or IDLH), same unit.

    Defaults: 100 % / 200 % of the OEL, or 5 % / 10 % of the IDLH when ``basis="idlh"``.

    >>> toxic_alarm(12.0, reference=10.0).name     # 120 % OEL
    'FIRST'
    """
    if not (math.isfinite(reference) and reference > 0):
        raise ValueError(f"reference (OEL/IDLH) must be > 0, got {reference!r}")
    caps = (OEL_FIRST_MAX_PCT, OEL_SECOND_MAX_PCT) if basis == "oel" else (
        IDLH_FIRST_MAX_PCT, IDLH_SECOND_MAX_PCT)
    f = caps[0] if first_pct is None else first_pct
    s = caps[1] if second_pct is None else second_pct
    _check_setpoints(f, s, *caps)
    pct = concentration / reference * 100.0
    return AlarmLevel(int(alarm_level_codes(np.array([pct]), f, s)[0]))


def oxygen_codes(
    pct_vol: ArrayLike, deficient: float = O2_DEFICIENT, enriched: float = O2_ENRICHED
) -> NDArray[np.int8]:
    """Vectorised O₂ check: 1 deficient (≤ deficient), 2 enriched (≥ enriched), -1 invalid."""
    if not deficient < enriched:
        raise ValueError("deficient set-point must be below the enriched one")
    v = np.asarray(pct_vol, dtype=np.float64)
    out = np.zeros(v.shape, dtype=np.int8)
    out[v <= deficient] = 1
    out[v >= enriched] = 2
    out[~np.isfinite(v) | (v < 0) | (v > 100)] = -1
    return out


def oxygen_status(
    pct_vol: float, deficient: float = O2_DEFICIENT, enriched: float = O2_ENRICHED
) -> OxygenStatus:
    """O₂ alarm state of one reading in % VOL."""
    return OxygenStatus(int(oxygen_codes(np.array([pct_vol]), deficient, enriched)[0]))
