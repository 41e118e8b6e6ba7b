"""GB 18218 identification and grading, with R worked out by hand."""

from __future__ import annotations

import pytest

from models.indices.major_hazard import (
    CHEMICALS,
    HazardGrade,
    Holding,
    alpha_for_people,
    assess_major_hazard,
    grade_for_r,
    holding,
)


def test_single_chlorine_store() -> None:
    # q/Q = 10/5 = 2 (major); R = alpha 2.0 * beta 4 * 2 = 16 -> 三级
    a = assess_major_hazard([holding("chlorine", 10.0)], people_within_500m=120)
    assert a.s == 2.0 and a.is_major and a.alpha == 2.0 and a.r == 16.0
    assert a.grade is not None and a.grade.grade == HazardGrade.THREE
    assert a.grade.name.zh == "三级重大危险源"


def test_mixed_unit() -> None:
    # S = 50/10 + 20/5 = 9; R = 1.5 * (2*5 + 4*4) = 39 -> 三级
    a = assess_major_hazard([holding("ammonia", 50.0), holding("chlorine", 20.0)], 60)
    assert a.s == 9.0 and a.r == pytest.approx(39.0)
    assert a.grade is not None and a.grade.grade == HazardGrade.THREE


def test_phosgene_grade_one() -> None:
    # R = 2.0 * 20 * (3/0.3) = 400 -> 一级
    a = assess_major_hazard([holding("phosgene", 3.0)], 200)
    assert a.r == pytest.approx(400.0)
    assert a.grade is not None and a.grade.grade == HazardGrade.ONE


def test_r_exactly_ten_at_alpha_one() -> None:
    # H2S 10 t: q/Q = 2, beta 5, 29 people -> alpha 1.0 -> R = 10 -> 三级 (boundary)
    a = assess_major_hazard([holding("hydrogen_sulfide", 10.0)], 29)
    assert a.r == 10.0 and a.grade is not None and a.grade.grade == HazardGrade.THREE
    b = assess_major_hazard([holding("hydrogen_sulfide", 10.0)], 30)
    assert b.r == pytest.approx(12.0)


def test_grade_four_when_nobody_near() -> None:
    # methane 50 t: S = 1; R = 0.5 * 1.5 * 1 = 0.75 -> 四级
    a = assess_major_hazard([holding("methane", 50.0)], 0)
    assert a.is_major and a.r == 0.75
    assert a.grade is not None and a.grade.grade == HazardGrade.FOUR


def test_below_threshold_is_not_major() -> None:
    a = assess_major_hazard([holding("ammonia", 5.0), holding("chlorine", 2.4)], 500)
    assert a.s == pytest.approx(0.98) and not a.is_major and a.grade is None


@pytest.mark.parametrize(("r", "grade"), [(100.0, 1), (99.99, 2), (50.0, 2), (49.99, 3),
                                          (10.0, 3), (9.99, 4), (0.0, 4)])
def test_grade_boundaries(r: float, grade: int) -> None:
    assert grade_for_r(r) == HazardGrade(grade)


def test_float_noise_at_boundary_does_not_drop_a_grade() -> None:
    assert grade_for_r(100.0 - 1e-12) == HazardGrade.ONE  # e.g. 99.99999999999999
    assert grade_for_r(10.0 - 1e-12) == HazardGrade.THREE
    assert grade_for_r(100.0 - 1e-6) == HazardGrade.TWO  # a real difference still counts


def test_alpha_table() -> None:
    assert [alpha_for_people(n) for n in (0, 1, 29, 30, 49, 50, 99, 100, 5000)] == [
        0.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 2.0, 2.0]
    with pytest.raises(ValueError):
        alpha_for_people(-1)


def test_invalid_holdings() -> None:
    with pytest.raises(ValueError):
        Holding(-1.0, 5.0, 1.0)
    with pytest.raises(ValueError):
        Holding(1.0, 0.0, 1.0)
    with pytest.raises(ValueError):
        Holding(float("nan"), 5.0, 1.0)
    with pytest.raises(ValueError):
        assess_major_hazard([], 10)
    with pytest.raises(KeyError):
        holding("unobtainium", 1.0)


def test_chemical_table() -> None:
    assert CHEMICALS["phosgene"].q_critical_t == 0.3 and CHEMICALS["phosgene"].beta == 20.0
    assert CHEMICALS["lpg"].name.zh == "液化石油气"
    assert not CHEMICALS["gasoline"].beta_verified
