"""Moving averages over hourly series, as the AQI needs them.

Hourly arrays carry NaN for a missing hour; negative or infinite readings are treated as
missing too, so a faulty sensor cannot pull an average down. Time is the last axis, so a
``(n_stations, n_hours)`` block is averaged in one call.

Validity minimums follow GB 3095—2012 §8 / HJ 663 as commonly applied (24-h mean needs
20 hours, 8-h mean 6 hours, daily max 8-h needs 14 valid windows among those ending at
08:00…24:00). They are **[U]** in DOMAIN.md, hence parameters.

>>> import numpy as np
>>> x = np.arange(1.0, 9.0)          # hours labelled 1..8
>>> float(moving_mean(x, window=8, min_valid=6)[-1])
4.5
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

MIN_VALID_24H = 20
MIN_VALID_8H = 6
MIN_VALID_MAX8H_WINDOWS = 14


def _clean(x: ArrayLike) -> FloatArray:
    a = np.array(x, dtype=np.float64, copy=True)
    bad = ~np.isfinite(a) | (a < 0)
    a[bad] = np.nan
    return a


def moving_mean(x: ArrayLike, window: int, min_valid: int) -> FloatArray:
    """Trailing mean over the last ``window`` hours, including the current hour.

    The value at index ``i`` averages the valid values in ``x[i-window+1 : i+1]`` and is
    NaN when fewer than ``min_valid`` of them are valid (hours before the start of the
    series count as missing).
    """
    if window < 1 or not 1 <= min_valid <= window:
        raise ValueError("need window >= 1 and 1 <= min_valid <= window")
    a = _clean(x)
    valid = np.isfinite(a)
    filled = np.where(valid, a, 0.0)
    pad = [(0, 0)] * (a.ndim - 1) + [(1, 0)]
    csum = np.pad(np.cumsum(filled, axis=-1), pad)
    ccount = np.pad(np.cumsum(valid, axis=-1), pad)
    n = a.shape[-1]
    hi = np.arange(1, n + 1)
    lo = np.maximum(hi - window, 0)
    sums = np.take(csum, hi, axis=-1) - np.take(csum, lo, axis=-1)
    counts = np.take(ccount, hi, axis=-1) - np.take(ccount, lo, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = sums / counts
    out[counts < min_valid] = np.nan
    return out


def mean_24h(x: ArrayLike, min_valid: int = MIN_VALID_24H) -> FloatArray:
    """24-h moving mean (used for the 2012 hourly PM IAQI and daily means)."""
    return moving_mean(x, 24, min_valid)


def o3_8h(x: ArrayLike, min_valid: int = MIN_VALID_8H) -> FloatArray:
    """O₃ 8-h moving mean (hour ``i`` and the previous 7 hours)."""
    return moving_mean(x, 8, min_valid)


def daily_max_8h(
    hourly: ArrayLike,
    min_windows: int = MIN_VALID_MAX8H_WINDOWS,
    min_valid_hours: int = MIN_VALID_8H,
) -> FloatArray:
    """O₃ daily maximum 8-h mean, one value per calendar day.

    ``hourly`` has a whole number of days on its last axis, index 0 being the hour
    labelled 01:00 (00:00–01:00, Beijing time). Windows end at 08:00 … 24:00 and stay
    inside the day (17 windows); the day is NaN when fewer than ``min_windows`` of them
    are valid.

    >>> import numpy as np
    >>> float(daily_max_8h(np.r_[np.zeros(16), np.full(8, 80.0)])[0])
    80.0
    """
    a = _clean(hourly)
    n = a.shape[-1]
    if n % 24:
        raise ValueError(f"need whole days of hourly data, got {n} hours")
    days = a.reshape(a.shape[:-1] + (n // 24, 24))
    m8 = moving_mean(days, 8, min_valid_hours)[..., 7:]  # windows ending 08:00..24:00
    n_ok = np.isfinite(m8).sum(axis=-1)
    out = np.full(m8.shape[:-1], np.nan)
    has = n_ok >= min_windows
    if np.any(has):
        out[has] = np.nanmax(m8[has], axis=-1)
    return out
