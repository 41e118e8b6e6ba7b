"""Segment speeds from live traffic detector readings (the state store's latest speeds).

A segment with a detector uses its reading (several detectors: their mean); a fresh
reading older than ``max_age_s`` is ignored. Segments without a detector use their
free-flow speed scaled by the median live/free ratio of instrumented segments of the
same road class (congestion is regional; one detector per few segments would
otherwise leave most of a jam invisible). Speeds are capped at 1.2 × free flow.

>>> import numpy as np
>>> segment_speeds(np.array([60.0, 60.0, 40.0]), np.array([0, 0, 1]),
...                np.array([0]), np.array([30.0])).tolist()
[30.0, 30.0, 40.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from streams.clock import Clock
from streams.state import StateStore

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def segment_speeds(free_kmh: FloatArray, road_class: npt.NDArray[np.integer[Any]],
                   det_segment: IntArray, det_speed: FloatArray,
                   fill_uninstrumented: bool = True) -> FloatArray:
    """Per-segment speeds from detector readings (NaN readings are ignored)."""
    free = np.asarray(free_kmh, np.float64)
    out = free.copy()
    ok = np.isfinite(det_speed) & (det_speed >= 0)
    seg, v = np.asarray(det_segment)[ok], np.asarray(det_speed, np.float64)[ok]
    if seg.size == 0:
        return out
    total = np.bincount(seg, weights=v, minlength=free.size)
    count = np.bincount(seg, minlength=free.size)
    has = count > 0
    measured = total[has] / count[has]
    if fill_uninstrumented:
        ratio = measured / free[has]
        classes = np.asarray(road_class)
        for c in np.unique(classes):
            sel = classes[has] == c
            if sel.any():
                out[classes == c] = free[classes == c] * float(np.median(ratio[sel]))
    out[has] = measured
    return np.minimum(out, 1.2 * free)


class LiveSpeeds:
    """Reads the detectors' latest speeds from the state store, cached for ``refresh_s``."""

    def __init__(self, city: Any, state: StateStore, clock: Clock, refresh_s: float = 5.0,
                 max_age_s: float = 900.0) -> None:
        roads = city.roads
        self._free = np.asarray(roads.free_speed_kmh, np.float64)
        self._class = np.asarray(roads.road_class)
        self._ids = [f"{d.detector_id}-speed" for d in city.detectors]
        self._seg = np.array([d.segment for d in city.detectors], np.int64)
        self._state = state
        self._clock = clock
        self._refresh_ms = int(refresh_s * 1000)
        self._max_age_ms = max_age_s * 1000
        self._cached: FloatArray | None = None
        self._at = -(1 << 62)
        self.version = 0

    def current(self) -> FloatArray:
        now = self._clock.now_ms()
        if self._cached is None or now - self._at >= self._refresh_ms:
            self._cached = self._read(now)
            self._at = now
            self.version += 1
        return self._cached

    def _read(self, now: int) -> FloatArray:
        if not self._ids:
            return self._free.copy()
        cols = self._state.latest(self._ids)
        v = np.array(cols["value"], np.float64)
        ts = np.asarray(cols["ts"], np.float64)
        v[~(np.isfinite(ts) & (now - ts <= self._max_age_ms))] = np.nan
        return segment_speeds(self._free, self._class, self._seg, v)
