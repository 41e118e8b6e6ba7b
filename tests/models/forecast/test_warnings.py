"""Early warnings: fire with positive lead time before a crossing, stay quiet on flat data."""

from __future__ import annotations

import numpy as np
import pytest

from models.forecast.streaming import StreamingForecaster
from models.forecast.warnings import ABOVE, BELOW, LIKELY, NEAR_CERTAIN, early_warnings

from .conftest import HOUR_MS, T0_MS


def test_fires_before_an_injected_crossing_with_positive_lead_time() -> None:
    rng = np.random.default_rng(5)
    n = 24 * 8
    y = 100.0 + rng.normal(0.0, 2.0, n)
    ramp_start = n - 30
    y[ramp_start:] += 6.0 * np.arange(30)  # pollution episode: AQI climbs past 200
    ts = T0_MS + np.arange(n, dtype=np.int64) * HOUR_MS
    threshold = 200.0
    crossing = int(np.argmax(y > threshold))
    assert crossing > ramp_start
    yhat, lo, hi = StreamingForecaster(1, 3600, 12).run_series(y, ts)
    warned = None
    for r in range(ramp_start, crossing):
        w = early_warnings(yhat[r:r + 1], lo[r:r + 1], hi[r:r + 1], threshold, ABOVE, 3600,
                           origin_ts=ts[r:r + 1], current=y[r:r + 1])
        if w.fires[0]:
            warned = r
            break
    assert warned is not None and warned < crossing
    assert w.lead_s[0] > 0 and w.cross_ts[0] > ts[warned]


def test_quiet_on_a_flat_series() -> None:
    rng = np.random.default_rng(6)
    n = 24 * 8
    y = 100.0 + rng.normal(0.0, 2.0, n)
    ts = T0_MS + np.arange(n, dtype=np.int64) * HOUR_MS
    yhat, lo, hi = StreamingForecaster(1, 3600, 12).run_series(y, ts)
    w = early_warnings(yhat[48:], lo[48:], hi[48:], 200.0, ABOVE, 3600)
    assert not w.fires.any() and np.isnan(w.lead_s).all()


def test_below_direction_confidence_and_current_value() -> None:
    # tank level falling towards its 1.0 m minimum; second tank already below it
    yhat = np.array([[2.0, 1.5, 0.9, 0.5], [0.8, 0.8, 0.8, 0.8]])
    lo = yhat - 0.2
    hi = yhat + 0.2
    w = early_warnings(yhat, lo, hi, threshold=np.array([1.0, 1.0]), direction=BELOW,
                       period_s=900, origin_ts=np.array([0, 0]), current=np.array([2.1, 0.8]))
    assert w.fires.tolist() == [True, False]
    assert w.already.tolist() == [False, True]
    assert w.first_step[0] == 3 and w.cross_step[0] == 3
    assert w.lead_s[0] == 3 * 900 and w.cross_ts[0] == 3 * 900 * 1000
    assert w.confidence[0] == NEAR_CERTAIN


def test_point_forecast_crossing_is_likely_interval_only_is_possible() -> None:
    yhat = np.array([[10.0, 16.0], [10.0, 12.0]])
    w = early_warnings(yhat, yhat - 5.0, yhat + 5.0, 15.0, ABOVE, 300)
    assert w.confidence.tolist() == [LIKELY, 1]
    assert w.cross_step.tolist() == [2, 1]  # point crossing, else first interval crossing


def test_nan_rows_never_fire_and_bad_direction_raises() -> None:
    nan = np.full((1, 3), np.nan)
    assert not early_warnings(nan, nan, nan, 0.0, ABOVE, 60).fires.any()
    with pytest.raises(ValueError):
        early_warnings(nan, nan, nan, 0.0, 0, 60)
