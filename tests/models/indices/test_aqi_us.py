"""US EPA PM2.5 AQI (2024) and NowCast."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.indices.aqi_us import nowcast_pm, us_aqi_pm25, us_aqi_pm25_array, us_category


@pytest.mark.parametrize(("c", "aqi"), [(9.0, 50), (12.0, 56), (35.9, 102), (80.0, 168),
                                        (200.0, 275)])
def test_tad_vectors(c: float, aqi: int) -> None:
    assert us_aqi_pm25(c) == aqi


@pytest.mark.parametrize(
    ("c", "aqi"),
    [(0.0, 0), (9.1, 51), (35.4, 100), (35.5, 101), (55.4, 150), (55.5, 151), (125.4, 200),
     (125.5, 201), (225.4, 300), (225.5, 301), (325.4, 500)],
)
def test_band_edges(c: float, aqi: int) -> None:
    assert us_aqi_pm25(c) == aqi


def test_truncation_not_rounding() -> None:
    assert us_aqi_pm25(9.09) == 50  # truncated to 9.0, not 9.1
    assert us_aqi_pm25(35.49) == 100
    assert us_aqi_pm25(35.9) == us_aqi_pm25(35.99)


def test_round_to_nearest() -> None:
    # 12.0 -> 56.40 (down); 10.0 -> 49/26.3*0.9+51 = 52.68 (up)
    assert us_aqi_pm25(12.0) == 56 and us_aqi_pm25(10.0) == 53


def test_above_top_capped_or_extrapolated() -> None:
    assert us_aqi_pm25(500.0) == 500
    assert us_aqi_pm25(425.4, cap=False) == 699


def test_invalid_inputs() -> None:
    assert us_aqi_pm25(math.nan) is None
    with pytest.raises(ValueError):
        us_aqi_pm25(-1.0)
    assert np.isnan(us_aqi_pm25_array([-1.0, np.inf])).all()


@pytest.mark.parametrize(("aqi", "name", "hexc"),
                         [(50, "Good", "#00E400"), (51, "Moderate", "#FFFF00"),
                          (150, "Unhealthy for Sensitive Groups", "#FF7E00"),
                          (151, "Unhealthy", "#FF0000"), (300, "Very Unhealthy", "#8F3F97"),
                          (301, "Hazardous", "#7E0023")])
def test_categories(aqi: int, name: str, hexc: str) -> None:
    cat = us_category(aqi)
    assert cat.name.en == name and cat.colour.hex == hexc


def _loop_nowcast(oldest_first: list[float]) -> float:
    c = oldest_first[::-1][:12]
    valid = [(i, v) for i, v in enumerate(c) if not math.isnan(v)]
    vals = [v for _, v in valid]
    w = max(min(vals) / max(vals), 0.5) if max(vals) > 0 else 1.0
    num = sum(w**i * v for i, v in valid)
    den = sum(w**i for i, _ in valid)
    return math.floor(round(num / den * 10, 9)) / 10


def test_nowcast_weight_floor_half() -> None:
    hours = [10.0] * 10 + [20.0, 40.0]  # most recent 40; w = 10/40 -> 0.5
    # by hand: (40 + 20*.5 + 10*(.25+...+.5**11)) / (1 + .5 + ... + .5**11)
    num = 40 + 10 + 10 * sum(0.5**i for i in range(2, 12))
    den = sum(0.5**i for i in range(12))
    assert float(nowcast_pm(hours)) == math.floor(num / den * 10) / 10 == 27.5
    assert float(nowcast_pm(hours)) == _loop_nowcast(hours)


def test_nowcast_weight_above_half_and_gaps() -> None:
    hours = [12.0, 11.0, np.nan, 10.0, 13.0, 12.0, 11.0, 10.0, 12.0, 13.0, 11.0, 12.0]
    assert float(nowcast_pm(hours)) == _loop_nowcast(hours)


def test_nowcast_needs_two_of_last_three() -> None:
    hours = [10.0] * 10 + [np.nan, np.nan]
    assert np.isnan(nowcast_pm(hours))
    hours[-1] = 10.0
    assert float(nowcast_pm(hours)) == 10.0


def test_nowcast_batch_and_zeros() -> None:
    block = np.array([[0.0] * 12, [5.0] * 12])
    np.testing.assert_array_equal(nowcast_pm(block), [0.0, 5.0])
    with pytest.raises(ValueError):
        nowcast_pm([1.0] * 11)
