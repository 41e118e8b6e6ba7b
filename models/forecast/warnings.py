"""Early warnings (预警): will a forecast interval cross a threshold within the horizon?

Why a pure function: the same rule serves every domain — AQI above 200 (重污染), a tank level
below its minimum, a road segment's speed falling into the 严重拥堵 band (e.g. ≤ 20 km/h on an
expressway, see :mod:`models.indices.traffic`) — so it takes forecasts with their interval and a
threshold with a direction and returns plain arrays; alert rules decide what to do with them.

Confidence grows with how much of the interval is past the threshold:

* 1 "possible": the far bound crosses (P(cross) ≳ 10 % with the 80 % interval);
* 2 "likely": the point forecast crosses (≈ 50 %);
* 3 "near certain": the near bound crosses (≳ 90 %).

The predicted crossing is the first step at which the point forecast crosses, or, if it never
does, the first step at which the interval does; the lead time is that many sampling periods.

>>> import numpy as np
>>> yhat = np.array([[150.0, 180.0, 210.0], [100.0, 100.0, 100.0]])
>>> w = early_warnings(yhat, yhat - 20, yhat + 20, threshold=200.0, direction=ABOVE,
...                    period_s=3600)
>>> w.fires.tolist(), w.cross_step.tolist(), w.lead_s.tolist(), w.confidence.tolist()
([True, False], [3, 0], [10800.0, nan], [2, 0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

ABOVE = 1  #: warn when the value rises above the threshold (AQI, travel time, tank high)
BELOW = -1  #: warn when the value falls below the threshold (tank minimum, speed band)

POSSIBLE = 1
LIKELY = 2
NEAR_CERTAIN = 3


@dataclass(frozen=True)
class EarlyWarning:
    """Per-sensor result of :func:`early_warnings` (arrays of length ``n``).

    ``fires``: the interval reaches the threshold within the horizon (and the sensor is not
    already past it). ``first_step``: first step (1-based) at which the interval reaches it, 0 if
    never. ``cross_step``: predicted crossing step (point forecast, else interval), 0 if none.
    ``cross_ts``: epoch ms of the predicted crossing (-1 if none or no origin given).
    ``lead_s``: seconds from the origin to the predicted crossing (NaN if none).
    ``confidence``: 0 none, 1 possible, 2 likely, 3 near certain (best over the horizon).
    ``already``: the current value is already past the threshold (an alarm, not a warning).
    """

    fires: npt.NDArray[np.bool_]
    first_step: npt.NDArray[np.int64]
    cross_step: npt.NDArray[np.int64]
    cross_ts: npt.NDArray[np.int64]
    lead_s: npt.NDArray[np.float64]
    confidence: npt.NDArray[np.int8]
    already: npt.NDArray[np.bool_]


def _first_true(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """1-based index of the first True per row, 0 when the row has none."""
    any_ = mask.any(axis=1)
    return np.where(any_, mask.argmax(axis=1) + 1, 0).astype(np.int64)


def early_warnings(
    yhat: npt.ArrayLike,
    lo: npt.ArrayLike,
    hi: npt.ArrayLike,
    threshold: float | npt.ArrayLike,
    direction: int,
    period_s: float | npt.ArrayLike,
    origin_ts: npt.ArrayLike | None = None,
    current: npt.ArrayLike | None = None,
) -> EarlyWarning:
    """Threshold-crossing warnings from ``[n, H]`` forecasts and their interval bounds.

    Parameters
    ----------
    yhat, lo, hi
        Forecasts for steps 1..H and the interval (as from ``StreamingForecaster.forecast``).
        NaN cells (warming up) never fire.
    threshold
        Scalar or per-sensor ``[n]`` threshold (e.g. 200 for AQI, the tank's minimum level).
    direction
        :data:`ABOVE` or :data:`BELOW`.
    period_s
        Sampling period in seconds (scalar or ``[n]``), to turn steps into lead times.
    origin_ts
        Epoch ms of each sensor's last reading (the forecast origin), for ``cross_ts``.
    current
        Latest values; a sensor already past the threshold gets ``already`` and no warning.
    """
    if direction not in (ABOVE, BELOW):
        raise ValueError("direction must be ABOVE (1) or BELOW (-1)")
    y = np.atleast_2d(np.asarray(yhat, dtype=np.float64))
    lo_a = np.atleast_2d(np.asarray(lo, dtype=np.float64))
    hi_a = np.atleast_2d(np.asarray(hi, dtype=np.float64))
    n = y.shape[0]
    thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64), (n,))[:, None]
    if direction == ABOVE:
        far, mid, near = hi_a >= thr, y >= thr, lo_a >= thr
    else:
        far, mid, near = lo_a <= thr, y <= thr, hi_a <= thr
    first = _first_true(far)
    mid_step = _first_true(mid)
    cross = np.where(mid_step > 0, mid_step, first)
    conf = np.where(near.any(axis=1), NEAR_CERTAIN,
                    np.where(mid.any(axis=1), LIKELY, np.where(far.any(axis=1), POSSIBLE, 0)))
    if current is None:
        already = np.zeros(n, dtype=bool)
    else:
        cur = np.broadcast_to(np.asarray(current, dtype=np.float64), (n,))
        already = (cur >= thr[:, 0]) if direction == ABOVE else (cur <= thr[:, 0])
    fires = (first > 0) & ~already
    per = np.broadcast_to(np.asarray(period_s, dtype=np.float64), (n,))
    lead = np.where(fires, cross * per, np.nan)
    if origin_ts is None:
        cross_ts = np.full(n, -1, dtype=np.int64)
    else:
        org = np.broadcast_to(np.asarray(origin_ts, dtype=np.int64), (n,))
        cross_ts = np.where(fires, org + np.round(cross * per * 1000).astype(np.int64), -1)
    return EarlyWarning(
        fires=fires,
        first_step=np.where(fires, first, 0).astype(np.int64),
        cross_step=np.where(fires, cross, 0).astype(np.int64),
        cross_ts=cross_ts.astype(np.int64),
        lead_s=lead.astype(np.float64),
        confidence=np.where(fires, conf, 0).astype(np.int8),
        already=np.asarray(already, dtype=bool),
    )
