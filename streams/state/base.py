"""The state store contract: what the engine writes and the dashboard reads.

One interface, two implementations: :class:`~streams.state.memory.MemoryStateStore`
(embedded default, numpy arrays indexed by the dense sensor index) and
:class:`~streams.state.redis_store.RedisStateStore` (scale-out: several engine and web
workers share it). Both pass the same behaviour suite (``tests/streams/state/``).

Columnar reads (:meth:`StateStore.latest`, :meth:`StateStore.latest_all`) return a
dict of float64 arrays keyed by :data:`LATEST_COLUMNS`, with NaN wherever a sensor has
no value yet (times are epoch ms as float64: exact up to 2**53 ms).

Rolling windows (for charts) are **downsampled**: a sensor keeps at most one point per
``window_step_ms`` (the first reading of each step), at most ``window_max`` points,
and none older than ``window_s`` before its newest point. At 5 000 sensors × 1 Hz that
is one window write per sensor every 10 s instead of every second.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.messages import ReadingBatch, ScoreBatch

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Columns of :meth:`StateStore.latest`: last reading (value, ts, quality) and last
#: engine output (score in [0, 1], fault code, score_ts) per sensor.
LATEST_COLUMNS: tuple[str, ...] = ("value", "ts", "quality", "score", "fault", "score_ts")

#: Default number of points a rolling window keeps per sensor.
WINDOW_MAX = 360


class StateError(Exception):
    """The state backend failed (connection lost, timeout, corrupt data)."""


def window_step_ms(window_s: int, window_max: int) -> int:
    """Downsampling step so that ``window_max`` steps span ``window_s``.

    >>> window_step_ms(3600, 360)
    10000
    """
    if window_s <= 0 or window_max <= 0:
        raise ValueError("window_s and window_max must be positive")
    return max(1, math.ceil(window_s * 1000 / window_max))


class StateStore(ABC):
    """Latest values, scores, rolling windows, aggregates, counters and JSON documents."""

    window_s: int
    window_max: int
    window_step_ms: int

    # ------------------------------------------------------------------ writes
    @abstractmethod
    def write_readings(self, batch: ReadingBatch, idx: IntArray) -> None:
        """Record a validated batch; ``idx`` holds the dense registry index of each row.

        A reading older than the sensor's stored one does not replace the latest value.
        """

    @abstractmethod
    def write_scores(self, scores: ScoreBatch) -> None:
        """Record the engine's latest score and fault code per sensor."""

    @abstractmethod
    def put_aggregates(self, domain: str, values: Mapping[str, float], ts: int) -> None:
        """Replace the aggregates of a domain (e.g. mean AQI, congestion index) at ``ts``."""

    @abstractmethod
    def incr(self, name: str, n: int = 1) -> int:
        """Add ``n`` to a named counter and return its new value."""

    @abstractmethod
    def put_json(self, key: str, obj: Any, ttl_s: float | None = None) -> None:
        """Store a small JSON document (alerts, forecasts, KPI snapshots).

        ``ttl_s`` makes it expire; ``None`` keeps it as long as the store's own key TTL.
        """

    @abstractmethod
    def delete_json(self, key: str) -> None:
        """Remove a JSON document (no error when absent)."""

    # ------------------------------------------------------------------ reads
    @abstractmethod
    def latest(self, sensor_ids: Sequence[str]) -> dict[str, FloatArray]:
        """Columns of :data:`LATEST_COLUMNS` for these sensors, in this order (NaN if unknown)."""

    @abstractmethod
    def latest_all(self) -> dict[str, FloatArray]:
        """Columns for every sensor seen, position = dense registry index (NaN gaps)."""

    @abstractmethod
    def window(self, sensor_id: str, since_ms: int | None = None) -> tuple[IntArray, FloatArray]:
        """Downsampled recent points of one sensor, oldest first: ``(ts, value)``."""

    @abstractmethod
    def newest_ts(self) -> int | None:
        """Event time of the newest reading ever written (None before the first)."""

    @abstractmethod
    def aggregates(self, domain: str) -> dict[str, float]:
        """The domain's aggregates plus their time under ``"ts"`` (empty if none)."""

    @abstractmethod
    def counters(self) -> dict[str, int]:
        """All named counters."""

    @abstractmethod
    def get_json(self, key: str) -> Any | None:
        """A stored JSON document, or None when absent or expired."""

    @abstractmethod
    def json_keys(self, prefix: str = "") -> list[str]:
        """Keys of the live JSON documents starting with ``prefix``, sorted."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release connections."""


def check_aggregates(values: Mapping[str, float]) -> dict[str, float]:
    """Aggregates as plain floats; ``"ts"`` is reserved for the time they refer to."""
    if "ts" in values:
        raise ValueError("aggregate name 'ts' is reserved")
    return {str(k): float(v) for k, v in values.items()}


def empty_latest(n: int) -> dict[str, FloatArray]:
    return {c: np.full(n, np.nan) for c in LATEST_COLUMNS}


def latest_column(snap: Mapping[str, FloatArray], name: str, n: int) -> FloatArray:
    """Column ``name`` of a :meth:`StateStore.latest_all` snapshot, exactly ``n`` long.

    The snapshot only reaches the highest index seen so far; readers that index by the
    registry's dense index get NaN for sensors not heard from yet.
    """
    col = snap.get(name)
    if col is None:
        return np.full(n, np.nan)
    arr = np.asarray(col, dtype=np.float64)
    if len(arr) < n:
        arr = np.concatenate([arr, np.full(n - len(arr), np.nan)])
    return arr[:n]
