"""Behaviour of StreamingForecaster: equivalences, seasonality, intervals, missing data."""

from __future__ import annotations

import numpy as np
import pytest

from models.forecast.streaming import StreamingForecaster

from .conftest import HOUR_MS, T0_MS


def _interleaved(n_sensors: int, n_steps: int, seed: int) -> tuple[np.ndarray, ...]:
    """Readings of several sensors in arrival order, with NaNs and skipped steps."""
    rng = np.random.default_rng(seed)
    idx, ts, val = [], [], []
    for s in range(n_steps):
        for i in range(n_sensors):
            if rng.random() < 0.1:
                continue  # no reading at all (a gap)
            v = 5.0 * i + 2.0 * np.sin(2 * np.pi * s / 24) + rng.normal(0, 0.3)
            if rng.random() < 0.05:
                v = np.nan
            idx.append(i)
            ts.append(T0_MS + s * HOUR_MS)
            val.append(v)
    return np.array(idx, np.int64), np.array(val), np.array(ts, np.int64)


def test_chunked_updates_equal_one_call() -> None:
    idx, val, ts = _interleaved(4, 24 * 6, seed=1)
    one = StreamingForecaster(4, 3600, 6)
    one.update_batch(idx, val, ts)
    chunked = StreamingForecaster(1, 3600, 6)  # also exercises growth
    cuts = np.sort(np.random.default_rng(2).choice(len(idx), 25, replace=False))
    for part in np.split(np.arange(len(idx)), cuts):
        chunked.update_batch(idx[part], val[part], ts[part])
    q = np.arange(4)
    for a, b in zip(one.forecast(q), chunked.forecast(q), strict=True):
        np.testing.assert_array_equal(a, b)
    for key, arr in one.state.items():
        np.testing.assert_array_equal(arr, chunked.state[key][: arr.shape[0]], err_msg=key)


def test_run_series_equals_update_then_forecast_per_row(seasonal_series) -> None:
    ts, y = seasonal_series(n=24 * 4)
    y[30:33] = np.nan
    batch = StreamingForecaster(1, 3600, 5).run_series(y, ts)
    live = StreamingForecaster(1, 3600, 5)
    rows = []
    for r in range(len(y)):
        live.update_batch([0], [y[r]], [ts[r]])
        rows.append(live.forecast([0]))
    for k in range(3):
        np.testing.assert_array_equal(batch[k], np.concatenate([x[k] for x in rows]))


def test_recovers_daily_seasonality(seasonal_series) -> None:
    ts, y = seasonal_series(n=24 * 21, amp=3.0, noise=0.2)
    model = StreamingForecaster(1, 3600, 24)
    model.update_batch(np.zeros(len(y), np.int64), y, ts)
    yhat, _lo, _hi = model.forecast([0])
    t_next = len(y) + np.arange(24)
    truth = 10.0 + 3.0 * np.sin(2 * np.pi * t_next / 24)
    assert np.max(np.abs(yhat[0] - truth)) < 0.6  # amplitude 3: the shape is recovered
    assert np.corrcoef(yhat[0], truth)[0, 1] > 0.98


def test_interval_coverage_near_80_percent_on_gaussian_noise() -> None:
    rng = np.random.default_rng(7)
    n, h = 4000, 6
    y = 50.0 + rng.normal(0.0, 2.0, n)
    ts = T0_MS + np.arange(n, dtype=np.int64) * HOUR_MS
    yhat, lo, hi = StreamingForecaster(1, 3600, h).run_series(y, ts)
    start = 500
    for k in (0, h - 1):
        truth = y[start + k + 1:]
        inside = (truth >= lo[start:n - k - 1, k]) & (truth <= hi[start:n - k - 1, k])
        assert 0.74 < inside.mean() < 0.86, (k, inside.mean())


def test_nan_input_is_tolerated_and_widens_the_interval(seasonal_series) -> None:
    ts, y = seasonal_series(n=24 * 10)
    y[-6:] = np.nan
    model = StreamingForecaster(1, 3600, 3)
    yhat, lo, hi = model.run_series(y, ts)
    assert np.isfinite(yhat[-1]).all() and np.isfinite(lo[-1]).all()
    width_before = (hi[-7] - lo[-7])[0]
    width_after = (hi[-1] - lo[-1])[0]
    assert width_after > width_before


def test_skip_mask_keeps_flagged_points_out_of_the_state(seasonal_series) -> None:
    ts, y = seasonal_series(n=24 * 5)
    spiked = y.copy()
    spiked[-1] = 1e6
    a = StreamingForecaster(1, 3600, 3)
    a.update_batch(np.zeros(len(y), np.int64), spiked, ts, skip=np.arange(len(y)) == len(y) - 1)
    b = StreamingForecaster(1, 3600, 3)
    b.update_batch(np.zeros(len(y), np.int64), np.where(np.arange(len(y)) == len(y) - 1, np.nan,
                                                         y), ts)
    np.testing.assert_array_equal(a.forecast([0])[0], b.forecast([0])[0])
    assert a.forecast([0])[0].max() < 20.0


def test_state_dict_round_trip_continues_identically(seasonal_series) -> None:
    ts, y = seasonal_series(n=24 * 4)
    a = StreamingForecaster(1, 3600, 4)
    a.update_batch(np.zeros(60, np.int64), y[:60], ts[:60])
    b = StreamingForecaster(1, 3600, 4)
    b.load_state_dict(a.state_dict())
    for m in (a, b):
        m.update_batch(np.zeros(len(y) - 60, np.int64), y[60:], ts[60:])
    np.testing.assert_array_equal(a.forecast([0])[0], b.forecast([0])[0])


def test_long_gap_is_a_fault_then_the_sensor_recovers(seasonal_series) -> None:
    ts, y = seasonal_series(n=24 * 6)
    ts = ts.copy()
    ts[100:] += 3 * 24 * HOUR_MS  # three days without readings: a sensor fault
    model = StreamingForecaster(1, 3600, 3)
    zeros = np.zeros(len(y), np.int64)
    model.update_batch(zeros[:100], y[:100], ts[:100])
    assert model.state["loss"][0, :, :, 1].max() > 5.0
    model.update_batch(zeros[100:101], y[100:101], ts[100:101])
    assert model.state["loss"][0, :, :, 1].max() == 0.0  # skill forgotten: fallback blend
    yhat = model.forecast([0])[0][0]
    assert np.isfinite(yhat).all() and np.abs(yhat - y[100]).max() < 5.0
    model.update_batch(zeros[101:], y[101:], ts[101:])
    yhat, lo, hi = model.forecast([0])
    assert np.isfinite(yhat).all() and np.abs(yhat[0] - y[-1]).max() < 5.0


def test_warming_up_rows_are_nan() -> None:
    ts = T0_MS + np.arange(5, dtype=np.int64) * HOUR_MS
    yhat, lo, hi = StreamingForecaster(1, 3600, 2).run_series(np.ones(5), ts)
    assert np.isnan(yhat).all() and np.isnan(lo).all() and np.isnan(hi).all()


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        StreamingForecaster(1, 0, 3)
    model = StreamingForecaster(1, 60, 3)
    with pytest.raises(ValueError):
        model.update_batch([0, 1], [1.0], [0, 0])
