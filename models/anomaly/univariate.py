"""Streaming univariate anomaly detector for every sensor of the city.

Why a class around a kernel: the class validates input, owns all sensors' state in contiguous
arrays (a row per dense sensor index), grows them when new sensors appear and checkpoints them;
the numba kernel in :mod:`models.anomaly.univariate_kernel` does the per-point work, one call
per batch. Scores are in [0, 1] (0.5 ~ tail probability 1e-5), 0 during warm-up; each point also
gets a fault code (:data:`~models.anomaly.config.FAULT_NAMES`).

>>> import numpy as np
>>> det = UnivariateDetector(n_sensors=2)
>>> idx = np.array([0, 1, 0], dtype=np.int64)
>>> val = np.array([1.0, 5.0, np.nan])
>>> ts = np.array([0, 0, 60_000], dtype=np.int64)
>>> score, fault = det.score_batch(idx, val, ts)
>>> score.tolist(), fault.tolist()
([0.0, 0.0, 0.0], [0, 0, 1])
"""

from __future__ import annotations

import numpy as np

from models.anomaly.config import DetectorConfig
from models.anomaly.univariate_kernel import (
    N_EVIDENCE,
    N_FSTATE,
    group_by_sensor,
    score_kernel,
)

_STATE_KEYS = ("fs", "ring", "counts")


class UnivariateDetector:
    """All sensors' detector state plus the batch-scoring entry point.

    Parameters
    ----------
    n_sensors : initial number of dense sensor indices (grows on demand).
    config : the one global :class:`DetectorConfig`.

    Attribute ``n_sensors`` is the allocated capacity (it grows by doubling); about 4.7 KB of
    state per sensor with the default configuration.
    """

    #: batches at least this long are grouped by sensor before scoring (same result, faster)
    group_min = 8192

    def __init__(self, n_sensors: int = 0, config: DetectorConfig | None = None) -> None:
        self.config = config if config is not None else DetectorConfig()
        if self.config.table_size & (self.config.table_size - 1):
            raise ValueError("table_size must be a power of two")
        self._params = self.config.as_array()
        self.n_sensors = 0
        self.fs = np.zeros((0, N_FSTATE), dtype=np.float64)
        self.ring = np.zeros((0, N_EVIDENCE * self.config.short_window), dtype=np.float64)
        self.counts = np.zeros((0, self.config.table_size), dtype=np.uint16)
        self.grow(n_sensors)

    def grow(self, n_sensors: int) -> None:
        """Make room for dense indices ``< n_sensors`` (new rows start empty)."""
        if n_sensors <= self.n_sensors:
            return
        new = max(n_sensors, 2 * self.n_sensors)
        for key in _STATE_KEYS:
            old = getattr(self, key)
            arr = np.zeros((new,) + old.shape[1:], dtype=old.dtype)
            arr[: self.n_sensors] = old[: self.n_sensors]
            setattr(self, key, arr)
        self.n_sensors = new

    def score_batch(
        self, idx: np.ndarray, val: np.ndarray, ts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score one batch in arrival order; return (score float64[n], fault int8[n]).

        ``idx`` dense sensor indices, ``val`` values (NaN = dropout), ``ts`` epoch milliseconds.
        The inputs are not modified.
        """
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        val = np.ascontiguousarray(val, dtype=np.float64)
        ts = np.ascontiguousarray(ts, dtype=np.int64)
        if not (idx.shape == val.shape == ts.shape) or idx.ndim != 1:
            raise ValueError("idx, val and ts must be 1-D arrays of the same length")
        if idx.size and idx.min() < 0:
            raise ValueError("sensor indices must be >= 0")
        if idx.size:
            self.grow(int(idx.max()) + 1)
        n = idx.shape[0]
        score = np.zeros(n, dtype=np.float64)
        fault = np.zeros(n, dtype=np.int8)
        if n >= self.group_min:
            order, idx_s, val_s, ts_s = group_by_sensor(idx, val, ts, self.n_sensors)
            score_s = np.zeros(n, dtype=np.float64)
            fault_s = np.zeros(n, dtype=np.int8)
            score_kernel(
                idx_s, val_s, ts_s, self._params, self.fs, self.ring, self.counts, score_s, fault_s
            )
            score[order] = score_s
            fault[order] = fault_s
        else:
            score_kernel(idx, val, ts, self._params, self.fs, self.ring, self.counts, score, fault)
        return score, fault

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the state arrays (for checkpoints)."""
        out = {key: getattr(self, key)[: self.n_sensors].copy() for key in _STATE_KEYS}
        out["params"] = self._params.copy()
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore arrays saved by :meth:`state_dict` (same configuration required)."""
        if not np.array_equal(state["params"], self._params):
            raise ValueError("checkpoint was made with another DetectorConfig")
        n = state["fs"].shape[0]
        for key in _STATE_KEYS:
            arr = np.ascontiguousarray(state[key], dtype=getattr(self, key).dtype)
            if arr.shape[0] != n or arr.shape[1:] != getattr(self, key).shape[1:]:
                raise ValueError(f"bad shape for {key}: {arr.shape}")
            setattr(self, key, arr.copy())
        self.n_sensors = n

    def warm(self) -> None:
        """Compile (or load from cache) the kernel on tiny arrays; state is left untouched."""
        probe = UnivariateDetector(1, self.config)
        idx = np.zeros(2, dtype=np.int64)
        val = np.array([1.0, np.nan])
        ts = np.array([0, 1], dtype=np.int64)
        probe.score_batch(idx, val, ts)
        group_by_sensor(idx, val, ts, 1)
