"""HJ 633 AQI: DOMAIN.md worked examples, breakpoints, special rules, missing data."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.indices.aqi_china import (
    ceil_guarded,
    china_aqi,
    china_aqi_array,
    china_iaqi_array,
    hj633_edition,
    round_gbt8170,
)
from models.indices.aqi_china_tables import (
    POLLUTANTS,
    REPORT_KEYS,
    breakpoints,
    category_for,
)

E1 = {"pm25_24h": 80, "pm10_24h": 120, "so2_24h": 20, "no2_24h": 45, "co_24h": 1.2, "o3_8h": 150}
E2 = {"pm25_1h": 40, "pm10_1h": 60, "so2_1h": 10, "no2_1h": 250, "co_1h": 0.8, "o3_1h": 210}
E3 = {"pm25_1h": 35, "pm10_1h": 40, "so2_1h": 900, "no2_1h": 60, "co_1h": 0.5, "o3_1h": 100}
E4 = {"pm25_24h": 35, "pm10_24h": 50, "so2_24h": 10, "no2_24h": 20, "co_24h": 0.6, "o3_8h": 90}


# --- worked examples (DOMAIN.md §1.4) ---------------------------------------------------


def test_e1_daily_2012() -> None:
    r = china_aqi(E1, "daily", standard_version="2012")
    assert r.iaqi == {"so2_24h": 20, "no2_24h": 57, "co_24h": 30, "o3_8h": 92,
                      "pm10_24h": 85, "pm25_24h": 107}
    assert r.aqi == 107
    assert r.primary == ("pm25_24h",)
    assert r.primary_symbols == ("PM2.5",)
    assert r.category is not None and r.category.grade.zh == "三级"
    assert r.category.klass.zh == "轻度污染"
    assert r.exceeding == ("pm25_24h",)


def test_e1_prime_daily_2026() -> None:
    r = china_aqi(E1, "daily", standard_version="2026")
    assert r.iaqi["pm25_24h"] == 119
    assert r.iaqi["pm10_24h"] == 100
    assert [r.iaqi[k] for k in ("so2_24h", "no2_24h", "co_24h", "o3_8h")] == [20, 57, 30, 92]
    assert r.aqi == 119 and r.primary == ("pm25_24h",)
    assert r.category is not None and r.category.grade.zh == "三级"
    assert r.exceeding is None  # 超标污染物 removed in 2026


def test_e2_hourly_2026_tie() -> None:
    r = china_aqi(E2, "hourly", standard_version="2026")
    assert r.iaqi == {"so2_1h": 4, "no2_1h": 105, "co_1h": 8, "o3_1h": 105,
                      "pm10_1h": 58, "pm25_1h": 60}
    assert r.aqi == 105
    assert r.primary == ("no2_1h", "o3_1h")
    assert r.primary_symbols == ("NO2", "O3")
    assert r.category is not None and r.category.level == 3


def test_e3_hourly_2026_so2_over_800() -> None:
    r = china_aqi(E3, "hourly", standard_version="2026")
    assert r.iaqi == {"so2_1h": 200, "no2_1h": 30, "co_1h": 5, "o3_1h": 32,
                      "pm10_1h": 40, "pm25_1h": 50}
    assert r.aqi == 200 and r.primary == ("so2_1h",)
    assert r.category is not None and r.category.grade.zh == "四级"
    assert any("800" in n for n in r.notes)


def test_e3_under_2012_uses_24h_so2() -> None:
    conc = {"so2_1h": 900, "so2_24h": 200, "no2_1h": 60, "co_1h": 0.5, "o3_1h": 100,
            "pm25_24h": 35, "pm10_24h": 40}
    r = china_aqi(conc, "hourly", standard_version="2012")
    # (200-150)/(475-150)*50+100 = 107.69 -> 108
    assert r.iaqi["so2_1h"] is None and r.iaqi["so2_24h"] == 108
    assert r.status["so2_1h"] == "replaced"
    assert r.aqi == 108 and r.primary == ("so2_24h",)


def test_e3_under_2012_without_24h_so2_is_na() -> None:
    conc = {"so2_1h": 900, "no2_1h": 60, "co_1h": 0.5, "o3_1h": 100,
            "pm25_24h": 35, "pm10_24h": 40}
    r = china_aqi(conc, "hourly", standard_version="2012")
    assert r.iaqi["so2_24h"] is None and r.status["so2_24h"] == "NA"
    assert r.aqi == 50  # 2012: AQI over the remaining pollutants


def test_e4_daily_2026_no_primary() -> None:
    r = china_aqi(E4, "daily", standard_version="2026")
    assert r.iaqi == {"so2_24h": 10, "no2_24h": 25, "co_24h": 15, "o3_8h": 45,
                      "pm10_24h": 50, "pm25_24h": 50}
    assert r.aqi == 50 and r.primary == ()
    assert r.category is not None and r.category.grade.zh == "一级"
    assert r.category.colour.hex == "#00E400" and r.category.colour.rgb == (0, 228, 0)


# --- breakpoints, both sides ------------------------------------------------------------


def _cases() -> list[tuple[str, str, int]]:
    out = []
    for ed in ("2012", "2026"):
        for key in POLLUTANTS:
            bp, _ = breakpoints(key, ed)  # type: ignore[arg-type]
            out += [(key, ed, j) for j in range(1, len(bp))]
    return out


@pytest.mark.parametrize(("key", "edition", "j"), _cases())
def test_iaqi_at_and_around_every_breakpoint(key: str, edition: str, j: int) -> None:
    bp, ia = breakpoints(key, edition)  # type: ignore[arg-type]
    at = china_iaqi_array(key, [bp[j]], edition)[0]  # type: ignore[arg-type]
    assert at == ia[j]
    # one input step either side: 1e-4 for 2012, the GB/T 8170 resolution for 2026
    step = 1e-4 if edition == "2012" else 10.0 ** -POLLUTANTS[key].decimals_2026
    below = china_iaqi_array(key, [bp[j] - step], edition)[0]  # type: ignore[arg-type]
    slope_lo = (ia[j] - ia[j - 1]) / (bp[j] - bp[j - 1])
    assert below == math.ceil(round(ia[j] - slope_lo * step, 9))
    assert below <= ia[j]
    above = china_iaqi_array(key, [bp[j] + step], edition)[0]  # type: ignore[arg-type]
    if j < len(bp) - 1:
        slope_hi = (ia[j + 1] - ia[j]) / (bp[j + 1] - bp[j])
        assert above == math.ceil(round(ia[j] + slope_hi * step, 9))
        assert above > ia[j]


@pytest.mark.parametrize(
    ("aqi", "level"),
    [(0, 1), (1, 1), (50, 1), (51, 2), (100, 2), (101, 3), (150, 3), (151, 4), (200, 4),
     (201, 5), (300, 5), (301, 6), (500, 6)],
)
def test_category_boundaries(aqi: int, level: int) -> None:
    assert category_for(aqi).level == level


def test_category_table_is_bilingual_with_colours() -> None:
    c = category_for(250)
    assert (c.grade.zh, c.klass.zh, c.klass.en) == ("五级", "重度污染", "Heavily polluted")
    assert (c.colour.hex, c.colour.rgb, c.colour.name.zh) == ("#99004C", (153, 0, 76), "紫色")
    assert category_for(400).colour.rgb == (126, 0, 35)


# --- special rules ----------------------------------------------------------------------


def test_o3_8h_over_800() -> None:
    r12 = china_aqi({"o3_8h": 850, "o3_1h": 900, "pm25_24h": 30}, "daily", standard_version="2012")
    assert r12.iaqi["o3_8h"] is None and r12.status["o3_8h"] == "replaced"
    assert r12.iaqi["o3_1h"] == 350 and r12.aqi == 350 and r12.primary == ("o3_1h",)
    r26 = china_aqi({"o3_8h": 850, "pm25_24h": 30}, "daily", standard_version="2026")
    assert r26.iaqi["o3_8h"] == 300 and r26.aqi == 300


def test_so2_1h_at_800_is_still_looked_up() -> None:
    for ed in ("2012", "2026"):
        r = china_aqi({"so2_1h": 800}, "hourly", standard_version=ed)
        assert r.aqi == 200 and r.status["so2_1h"] == "ok"


def test_cap_at_500_or_na() -> None:
    assert china_aqi({"pm25_24h": 700}, "daily", standard_version="2012").aqi == 500
    assert china_aqi({"co_1h": 151}, "hourly", standard_version="2026").aqi == 500
    r = china_aqi({"pm25_24h": 700, "no2_24h": 30}, "daily", standard_version="2012", cap=False)
    assert r.iaqi["pm25_24h"] is None and r.aqi == 38


def test_2026_aqi_minimum_is_one() -> None:
    zeros = dict.fromkeys(REPORT_KEYS[("2026", "daily")], 0.0)
    r = china_aqi(zeros, "daily", standard_version="2026")
    assert r.aqi == 1 and r.category is not None and r.category.level == 1
    assert china_aqi(zeros, "daily", standard_version="2012").aqi == 0


def test_2026_inputs_rounded_gbt8170() -> None:
    # 60.5 -> 60 (half to even) -> IAQI 100; 61.5 -> 62 -> 101.8 -> 102
    assert china_aqi({"pm25_24h": 60.5}, "daily", standard_version="2026").aqi == 100
    assert china_aqi({"pm25_24h": 61.5}, "daily", standard_version="2026").aqi == 102
    assert china_aqi({"pm25_24h": 60.4}, "daily", standard_version="2026").aqi == 100
    # 2012 does not round inputs: 75.4 -> 100.5 -> 101
    assert china_aqi({"pm25_24h": 75.4}, "daily", standard_version="2012").aqi == 101
    # CO to 0.1: 2.05 -> 2.0 -> 50 ; 2.15 -> 2.2 -> 55
    assert china_aqi({"co_24h": 2.05}, "daily", standard_version="2026").aqi == 50
    assert china_aqi({"co_24h": 2.15}, "daily", standard_version="2026").aqi == 55


def test_round_gbt8170_half_even() -> None:
    assert round_gbt8170([0.5, 1.5, 2.5, 2.51, -0.0], 0).tolist() == [0.0, 2.0, 2.0, 3.0, 0.0]
    assert round_gbt8170([0.15, 0.25, 0.35, 0.45, 1.05], 1).tolist() == [0.2, 0.2, 0.4, 0.4, 1.0]


def test_ceil_guard_against_float_error() -> None:
    assert (100 - 50) / (4 - 2) * (2.2 - 2) + 50 > 55  # the float trap the guard exists for
    assert ceil_guarded((100 - 50) / (4 - 2) * (2.2 - 2) + 50) == 55
    assert china_iaqi_array("co_24h", [2.2], "2012")[0] == 55
    assert ceil_guarded(15.001) == 16


def test_hourly_2012_uses_pm_24h_moving_mean_not_1h() -> None:
    conc = {"pm25_1h": 300, "pm25_24h": 35, "no2_1h": 10}
    r = china_aqi(conc, "hourly", standard_version="2012")
    assert "pm25_1h" not in r.iaqi and r.aqi == 50


# --- primary pollutant / 超标 ------------------------------------------------------------


def test_ties_in_primary_2026_daily() -> None:
    r = china_aqi({"pm25_24h": 60, "pm10_24h": 120, "no2_24h": 20}, "daily",
                  standard_version="2026")
    assert r.aqi == 100 and r.primary == ("pm10_24h", "pm25_24h")


def test_o3_1h_and_8h_tie_2012_daily() -> None:
    r = china_aqi({"o3_1h": 200, "o3_8h": 160}, "daily", standard_version="2012")
    assert r.primary == ("o3_1h", "o3_8h") and r.primary_symbols == ("O3",)
    assert r.exceeding == ()  # IAQI exactly 100 is not 超标


# --- edition switch ---------------------------------------------------------------------


def test_edition_by_date() -> None:
    assert hj633_edition(date(2026, 2, 28)) == "2012"
    assert hj633_edition(date(2026, 3, 1)) == "2026"
    assert hj633_edition(datetime(2026, 2, 28, 23, 59)) == "2012"  # naive = Beijing
    assert hj633_edition(datetime(2026, 3, 1, 0, 0)) == "2026"
    utc = UTC
    assert hj633_edition(datetime(2026, 2, 28, 16, 0, tzinfo=utc)) == "2026"
    assert hj633_edition(datetime(2026, 2, 28, 15, 59, tzinfo=utc)) == "2012"
    assert hj633_edition(datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=9)))) == "2012"


def test_when_selects_edition_and_override_wins() -> None:
    assert china_aqi(E1, "daily", when=date(2026, 2, 28)).aqi == 107
    assert china_aqi(E1, "daily", when=date(2026, 3, 1)).aqi == 119
    r = china_aqi(E1, "daily", when=date(2026, 3, 1), standard_version="2012")
    assert r.aqi == 107 and r.standard_version == "2012"


def test_edition_required() -> None:
    with pytest.raises(ValueError, match="standard_version"):
        china_aqi(E1, "daily")
    with pytest.raises(ValueError, match="standard_version"):
        china_aqi(E1, "daily", standard_version="2020")


# --- missing and invalid data -----------------------------------------------------------


def test_2026_missing_publishes_only_above_100() -> None:
    low = dict(E4, pm25_24h=None)
    r = china_aqi(low, "daily", standard_version="2026")
    assert r.aqi is None and r.aqi_text == "NA" and r.category is None
    assert r.status["pm25_24h"] == "NA" and r.primary == ()
    high = dict(E1, no2_24h=float("nan"))
    r = china_aqi(high, "daily", standard_version="2026")
    assert r.aqi == 119 and r.iaqi["no2_24h"] is None


def test_2012_missing_uses_remaining() -> None:
    r = china_aqi(dict(E1, pm25_24h=None), "daily", standard_version="2012")
    assert r.aqi == 92 and r.status["pm25_24h"] == "NA"


def test_not_monitored_is_slash_and_not_missing() -> None:
    conc = {k: v for k, v in E4.items() if k != "co_24h"}
    r = china_aqi(conc, "daily", standard_version="2026")
    assert r.status["co_24h"] == "/" and r.aqi == 50


def test_all_missing_is_na() -> None:
    r = china_aqi({"pm25_24h": None, "so2_24h": None}, "daily", standard_version="2012")
    assert r.aqi is None and r.aqi_text == "NA"


@pytest.mark.parametrize("bad", [-1.0, -1e-9, float("inf")])
def test_invalid_concentration_raises(bad: float) -> None:
    with pytest.raises(ValueError, match="pm25_24h"):
        china_aqi({"pm25_24h": bad}, "daily", standard_version="2026")


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError, match="pm2.5"):
        china_aqi({"pm2.5": 10}, "daily", standard_version="2026")


def test_array_invalid_gives_nan() -> None:
    out = china_iaqi_array("pm25_24h", [-5.0, np.nan, np.inf, 35.0], "2026")
    assert np.isnan(out[:3]).all() and out[3] == 50


# --- batch == scalar, properties --------------------------------------------------------


@pytest.mark.parametrize(("edition", "report"), list(REPORT_KEYS))
def test_array_matches_scalar(edition: str, report: str) -> None:
    rng = np.random.default_rng(7)
    keys = REPORT_KEYS[(edition, report)]  # type: ignore[index]
    n = 40
    conc = {k: rng.uniform(0, 1.3 * breakpoints(k, edition)[0][-1], n) for k in keys}  # type: ignore[arg-type]
    conc[keys[0]][:5] = np.nan
    batch = china_aqi_array(conc, report, edition)  # type: ignore[arg-type]
    for i in range(n):
        one = china_aqi({k: float(v[i]) for k, v in conc.items()}, report,  # type: ignore[arg-type]
                        standard_version=edition)
        want = np.nan if one.aqi is None else one.aqi
        assert np.array_equal(batch.aqi[i], want, equal_nan=True)
        assert batch.level[i] == (0 if one.category is None else one.category.level)


# Keys whose IAQI may fall when the concentration rises, by the standard's own rules
# (2012: SO2 1-h > 800 and O3 8-h > 800 hand over to another average).
_NON_MONOTONE = {("2012", "so2_1h"), ("2012", "o3_8h")}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([(e, k) for e in ("2012", "2026") for k in POLLUTANTS
                     if (e, k) not in _NON_MONOTONE]),
    st.floats(0, 5000), st.floats(0, 5000),
)
def test_iaqi_monotonic(ek: tuple[str, str], a: float, b: float) -> None:
    edition, key = ek
    lo, hi = sorted((a, b))
    ia = china_iaqi_array(key, [lo, hi], edition)  # type: ignore[arg-type]
    assert ia[0] <= ia[1]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(list(REPORT_KEYS)),
    st.lists(st.floats(0, 3000), min_size=7, max_size=7),
    st.integers(0, 6),
    st.floats(0, 500),
)
def test_aqi_monotonic_and_category_consistent(
    er: tuple[str, str], values: list[float], which: int, bump: float
) -> None:
    edition, report = er
    keys = [k for k in REPORT_KEYS[er] if (edition, k) not in _NON_MONOTONE]  # type: ignore[index]
    conc = dict(zip(keys, values, strict=False))
    r1 = china_aqi(conc, report, standard_version=edition)  # type: ignore[arg-type]
    k = keys[which % len(keys)]
    r2 = china_aqi(dict(conc, **{k: conc[k] + bump}), report,  # type: ignore[arg-type]
                   standard_version=edition)
    assert r1.aqi is not None and r2.aqi is not None and r1.aqi <= r2.aqi
    for r in (r1, r2):
        cat = r.category
        assert cat is not None and r.aqi is not None
        assert cat.lower <= r.aqi and (cat.upper is None or r.aqi <= cat.upper) or r.aqi == 0
        assert (r.aqi > 50) == bool(r.primary)
        assert 0 <= r.aqi <= 500
