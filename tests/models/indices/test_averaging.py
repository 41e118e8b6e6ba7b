"""Moving averages with NaN gaps, compared with a plain loop."""

from __future__ import annotations

import numpy as np
import pytest

from models.indices.averaging import daily_max_8h, mean_24h, moving_mean, o3_8h


def _loop_mean(x: np.ndarray, window: int, min_valid: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        w = x[max(0, i - window + 1): i + 1]
        w = w[np.isfinite(w) & (w >= 0)]
        if len(w) >= min_valid:
            out[i] = w.mean()
    return out


def test_matches_loop_with_gaps() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 200, 200)
    x[rng.random(200) < 0.2] = np.nan
    x[5] = -3.0  # invalid reading
    for window, mv in ((24, 20), (8, 6), (3, 1)):
        np.testing.assert_allclose(moving_mean(x, window, mv), _loop_mean(x, window, mv),
                                   rtol=1e-12, equal_nan=True)


def test_24h_needs_20_valid_hours() -> None:
    x = np.full(24, 10.0)
    x[:4] = np.nan
    assert mean_24h(x)[-1] == 10.0  # 20 valid
    x[4] = np.nan
    assert np.isnan(mean_24h(x)[-1])  # 19 valid


def test_8h_needs_6_valid_hours() -> None:
    x = np.array([np.nan, np.nan, 1, 2, 3, 4, 5, 6.0])
    assert o3_8h(x)[-1] == 3.5
    x[2] = np.nan
    assert np.isnan(o3_8h(x)[-1])


def test_batch_rows_independent() -> None:
    rng = np.random.default_rng(5)
    block = rng.uniform(0, 100, (3, 50))
    block[1, 10:20] = np.nan
    got = mean_24h(block)
    for r in range(3):
        np.testing.assert_array_equal(got[r], mean_24h(block[r]))


def test_daily_max_8h_known_day() -> None:
    day = np.zeros(24)
    day[10:18] = 80.0  # window ending at hour label 18 is all 80
    two = np.r_[day, np.full(24, 10.0)]
    np.testing.assert_array_equal(daily_max_8h(two), [80.0, 10.0])


def test_daily_max_8h_ignores_previous_day_and_early_windows() -> None:
    day1 = np.full(24, 500.0)
    day2 = np.r_[np.full(7, 300.0), np.full(17, 20.0)]  # first 7 hours only in window 08:00
    # window ending 08:00 = hours 1..8 -> (7*300+20)/8 = 265
    assert daily_max_8h(np.r_[day1, day2])[1] == 265.0


def test_daily_max_8h_needs_14_windows() -> None:
    day = np.full(24, 50.0)
    day[19:] = np.nan  # windows ending 20..24 have 7,6,5,4,3 valid hours -> 15 valid
    assert daily_max_8h(day)[0] == 50.0
    day[18] = np.nan  # ending 19: 7 ok; 20: 6 ok; 21..24 invalid -> 13 windows valid
    assert np.isnan(daily_max_8h(day)[0])
    assert daily_max_8h(day, min_windows=13)[0] == 50.0


def test_daily_max_8h_whole_days_only() -> None:
    with pytest.raises(ValueError, match="whole days"):
        daily_max_8h(np.zeros(25))


def test_bad_window_arguments() -> None:
    with pytest.raises(ValueError):
        moving_mean(np.zeros(5), 4, 5)
