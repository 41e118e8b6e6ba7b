"""Network pressure compliance and GB 5749—2022 limits."""

from __future__ import annotations

import numpy as np
import pytest

from models.indices.water import (
    ABOVE_MAX,
    BELOW_MIN,
    INVALID,
    OK,
    check_water_quality,
    pressure_compliance,
    pressure_ok,
    quality_codes,
)


def test_pressure_limit_inclusive() -> None:
    assert pressure_ok([0.14, 0.1399, np.nan, 0.3]).tolist() == [1, 0, -1, 1]


def test_compliance_rate_over_valid_readings() -> None:
    r = pressure_compliance([0.20, 0.13, 0.15, np.nan])
    assert (r.n_valid, r.n_compliant) == (3, 2)
    assert r.rate == pytest.approx(2 / 3) and not r.meets_target


def test_target_97_percent() -> None:
    ok = np.r_[np.full(97, 0.2), np.full(3, 0.1)]
    assert pressure_compliance(ok).meets_target
    bad = np.r_[np.full(96, 0.2), np.full(4, 0.1)]
    assert not pressure_compliance(bad).meets_target


def test_exclusion_mask_and_empty() -> None:
    p = np.array([0.2, 0.05, 0.05])
    r = pressure_compliance(p, exclude=[False, True, True])
    assert r.rate == 1.0 and r.n_valid == 1
    assert np.isnan(pressure_compliance([np.nan]).rate)


@pytest.mark.parametrize(
    ("key", "value", "point", "code"),
    [("ph", 6.5, "tap", OK), ("ph", 6.49, "tap", BELOW_MIN), ("ph", 8.5, "tap", OK),
     ("ph", 8.51, "tap", ABOVE_MAX), ("turbidity", 1.0, "tap", OK),
     ("turbidity", 1.01, "tap", ABOVE_MAX), ("free_chlorine", 0.3, "outlet", OK),
     ("free_chlorine", 0.29, "outlet", BELOW_MIN), ("free_chlorine", 0.05, "tap", OK),
     ("free_chlorine", 0.049, "tap", BELOW_MIN), ("free_chlorine", 2.0, "outlet", OK),
     ("free_chlorine", 2.01, "tap", ABOVE_MAX), ("total_coliforms", 0.0, "tap", OK),
     ("total_coliforms", 1.0, "tap", ABOVE_MAX), ("ammonia", 0.51, "tap", ABOVE_MAX),
     ("permanganate_index", 3.0, "tap", OK), ("tds", 1000.1, "tap", ABOVE_MAX),
     ("turbidity", -0.1, "tap", INVALID), ("ph", np.nan, "tap", INVALID)],
)
def test_indicator_limits(key: str, value: float, point: str, code: int) -> None:
    assert quality_codes(key, [value], point)[0] == code  # type: ignore[arg-type]


def test_sample_fail_with_bilingual_reasons() -> None:
    r = check_water_quality({"ph": 9.1, "turbidity": 0.4, "free_chlorine": 0.2}, point="outlet")
    assert r.status == "fail"
    assert r.per_indicator == {"ph": "above_max", "turbidity": "ok", "free_chlorine": "below_min"}
    kinds = {f.key: (f.kind, f.limit) for f in r.findings}
    assert kinds == {"ph": ("above_max", 8.5), "free_chlorine": ("below_min", 0.3)}
    msg = next(f.message for f in r.findings if f.key == "free_chlorine")
    assert "出厂水" in msg.zh and "outlet" in msg.en


def test_sample_pass_and_na() -> None:
    assert check_water_quality({"ph": 7.2, "turbidity": 0.3}).status == "pass"
    r = check_water_quality({"ph": 7.2, "turbidity": None})
    assert r.status == "na" and r.findings[0].kind == "invalid"
    assert check_water_quality({}).status == "na"


def test_unknown_indicator_and_point() -> None:
    with pytest.raises(KeyError):
        check_water_quality({"chlorine": 0.5})
    with pytest.raises(ValueError):
        quality_codes("ph", [7.0], "well")  # type: ignore[arg-type]
