"""Major hazard sources of hazardous chemicals (GB 18218—2018, DOMAIN.md §5.1 [S]).

A unit is a major hazard source if ``S = Σ qᵢ/Qᵢ ≥ 1`` (q = design maximum quantity,
Q = critical quantity, both in tonnes). It is then graded by ``R = α · Σ βᵢ qᵢ/Qᵢ``:
一级 R ≥ 100, 二级 50 ≤ R < 100, 三级 10 ≤ R < 50, 四级 R < 10.
α depends on the people within 500 m outside the fence; β on the substance.

The chemical table holds the example Q values listed in DOMAIN.md ("check Table 1") and
β where DOMAIN.md gives it; β values inferred from a hazard class are flagged
``beta_verified=False``. Any value can be overridden by building a :class:`Holding` directly.

>>> a = assess_major_hazard([holding("chlorine", 10.0)], people_within_500m=120)
>>> a.is_major, a.r, a.grade.name.zh
(True, 16.0, '三级重大危险源')
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from models.indices.labels import Label


@dataclass(frozen=True, slots=True)
class Chemical:
    """Critical quantity Q (t) and correction factor β of a listed chemical."""

    key: str
    name: Label
    cas: str
    q_critical_t: float
    beta: float
    beta_verified: bool = True


def _c(key: str, zh: str, en: str, cas: str, q: float, beta: float, ok: bool = True) -> Chemical:
    return Chemical(key, Label(zh, en), cas, q, beta, ok)


CHEMICALS: dict[str, Chemical] = {
    c.key: c
    for c in (
        _c("ammonia", "氨", "Ammonia", "7664-41-7", 10.0, 2.0),
        _c("chlorine", "氯", "Chlorine", "7782-50-5", 5.0, 4.0),
        _c("hydrogen_sulfide", "硫化氢", "Hydrogen sulfide", "7783-06-4", 5.0, 5.0),
        _c("hydrogen", "氢", "Hydrogen", "1333-74-0", 5.0, 1.5),  # flammable gas W2
        _c("phosgene", "光气", "Phosgene", "75-44-5", 0.3, 20.0),
        _c("sulfur_dioxide", "二氧化硫", "Sulfur dioxide", "7446-09-5", 20.0, 2.0),
        _c("hydrogen_chloride", "氯化氢(无水)", "Hydrogen chloride (anhydrous)", "7647-01-0",
           20.0, 3.0),
        _c("ethylene_oxide", "环氧乙烷", "Ethylene oxide", "75-21-8", 10.0, 2.0),
        _c("acetylene", "乙炔", "Acetylene", "74-86-2", 1.0, 1.5),  # W2
        _c("methane", "甲烷、天然气", "Methane / natural gas", "74-82-8", 50.0, 1.5),  # W2
        _c("lpg", "液化石油气", "Liquefied petroleum gas", "68476-85-7", 50.0, 1.5),  # W2
        _c("benzene", "苯", "Benzene", "71-43-2", 50.0, 1.0, False),
        _c("gasoline", "汽油", "Gasoline", "86290-81-5", 200.0, 1.5, False),  # W5.1 assumed
        _c("oxygen", "氧(压缩或液化)", "Oxygen (compressed or liquefied)", "7782-44-7",
           200.0, 1.0, False),
        _c("methanol", "甲醇", "Methanol", "67-56-1", 500.0, 1.0, False),
        _c("toluene", "甲苯", "Toluene", "108-88-3", 500.0, 1.0, False),
    )
}

#: β of the named toxic gases (GB 18218—2018), including ones without a Q above.
BETA_TOXIC_GASES: dict[str, float] = {
    "carbon_monoxide": 2.0, "sulfur_dioxide": 2.0, "ammonia": 2.0, "ethylene_oxide": 2.0,
    "hydrogen_chloride": 3.0, "methyl_bromide": 3.0, "chlorine": 4.0,
    "hydrogen_sulfide": 5.0, "hydrogen_fluoride": 5.0, "nitrogen_dioxide": 10.0,
    "hydrogen_cyanide": 10.0, "phosgene": 20.0, "phosphine": 20.0, "methyl_isocyanate": 20.0,
}

#: β by hazard class for substances not among the named toxic gases.
BETA_BY_CLASS: dict[str, float] = {
    "J1": 4.0, "J2": 1.0, "J3": 2.0, "J4": 2.0, "J5": 1.0,
    "explosive": 2.0, "W2": 1.5, "W5.1": 1.5, "W6.1": 1.5, "W7.1": 1.5, "other": 1.0,
}


@dataclass(frozen=True, slots=True)
class Holding:
    """Quantity q of one substance in the unit, with its Q and β."""

    q_t: float
    q_critical_t: float
    beta: float
    key: str = ""

    def __post_init__(self) -> None:
        who = self.key or "holding"
        if not (math.isfinite(self.q_t) and self.q_t >= 0):
            raise ValueError(f"{who}: q must be finite and >= 0, got {self.q_t!r}")
        if not (math.isfinite(self.q_critical_t) and self.q_critical_t > 0):
            raise ValueError(f"{who}: Q must be > 0, got {self.q_critical_t!r}")
        if not (math.isfinite(self.beta) and self.beta > 0):
            raise ValueError(f"{who}: beta must be > 0, got {self.beta!r}")


def holding(key: str, q_t: float) -> Holding:
    """Holding of a chemical from :data:`CHEMICALS`."""
    c = CHEMICALS[key]
    return Holding(q_t, c.q_critical_t, c.beta, key)


def alpha_for_people(people_within_500m: int) -> float:
    """α from the number of people within 500 m outside the site.

    >>> [alpha_for_people(n) for n in (0, 1, 29, 30, 49, 50, 99, 100)]
    [0.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 2.0]
    """
    if people_within_500m < 0:
        raise ValueError(f"people count cannot be negative, got {people_within_500m}")
    if people_within_500m >= 100:
        return 2.0
    if people_within_500m >= 50:
        return 1.5
    if people_within_500m >= 30:
        return 1.2
    if people_within_500m >= 1:
        return 1.0
    return 0.5


class HazardGrade(IntEnum):
    """一级 (most severe) … 四级."""

    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4


GRADE_NAMES: dict[HazardGrade, Label] = {
    HazardGrade.ONE: Label("一级重大危险源", "Grade 1 major hazard"),
    HazardGrade.TWO: Label("二级重大危险源", "Grade 2 major hazard"),
    HazardGrade.THREE: Label("三级重大危险源", "Grade 3 major hazard"),
    HazardGrade.FOUR: Label("四级重大危险源", "Grade 4 major hazard"),
}


def grade_for_r(r: float) -> HazardGrade:
    """Grade of a corrected ratio R (float noise below 1e-9 ignored at the boundaries)."""
    if not (math.isfinite(r) and r >= 0):
        raise ValueError(f"R must be finite and >= 0, got {r!r}")
    rr = round(r, 9)
    if rr >= 100:
        return HazardGrade.ONE
    if rr >= 50:
        return HazardGrade.TWO
    if rr >= 10:
        return HazardGrade.THREE
    return HazardGrade.FOUR


@dataclass(frozen=True, slots=True)
class GradeInfo:
    """A grade with its bilingual name (kept apart from the enum for easy display)."""

    grade: HazardGrade
    name: Label


@dataclass(frozen=True, slots=True)
class MajorHazardAssessment:
    """S, whether the unit is a major hazard, α, R and the grade (None if not major)."""

    s: float
    is_major: bool
    alpha: float
    r: float
    grade: GradeInfo | None


def assess_major_hazard(
    holdings: Iterable[Holding], people_within_500m: int
) -> MajorHazardAssessment:
    """Identify and grade one unit from its holdings."""
    hs = list(holdings)
    if not hs:
        raise ValueError("a unit needs at least one holding")
    s = sum(h.q_t / h.q_critical_t for h in hs)
    alpha = alpha_for_people(people_within_500m)
    r = alpha * sum(h.beta * h.q_t / h.q_critical_t for h in hs)
    is_major = round(s, 9) >= 1.0
    grade = None
    if is_major:
        g = grade_for_r(r)
        grade = GradeInfo(g, GRADE_NAMES[g])
    return MajorHazardAssessment(s, is_major, alpha, r, grade)
