"""In-process state store: numpy arrays indexed by the dense sensor index.

The embedded default. Writes are a handful of vectorised numpy assignments per batch
(millions of readings per second); one lock makes it safe for the engine thread to
write while web threads read.

>>> import numpy as np
>>> from streams.messages import ReadingBatch
>>> st = MemoryStateStore(window_s=600, clock=lambda: 0)
>>> st.write_readings(ReadingBatch.from_rows([("AIR-1", 3.5, 60_000)]), np.array([0]))
>>> st.latest(["AIR-1", "nope"])["value"].tolist()
[3.5, nan]
>>> st.newest_ts()
60000
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from streams.messages import ReadingBatch, ScoreBatch
from streams.state.base import (
    WINDOW_MAX,
    FloatArray,
    IntArray,
    StateStore,
    check_aggregates,
    empty_latest,
    window_step_ms,
)

_NO_TS = np.iinfo(np.int64).min


def newest_per_slot(slots: IntArray, ts: IntArray) -> IntArray:
    """Row positions holding each slot's newest time (ties: the later row), slot order.

    >>> newest_per_slot(np.array([3, 1, 3]), np.array([5, 9, 5])).tolist()
    [1, 2]
    """
    order = np.lexsort((np.arange(len(slots)), ts, slots))
    s = slots[order]
    last = np.ones(len(s), bool)
    last[:-1] = s[1:] != s[:-1]
    return order[last]


class MemoryStateStore(StateStore):
    """Thread-safe in-memory :class:`StateStore`.

    ``clock`` (epoch ms) only serves JSON document TTLs; the store never reads the time.
    """

    def __init__(
        self,
        window_s: int = 3600,
        clock: Callable[[], int] | None = None,
        window_max: int = WINDOW_MAX,
        capacity: int = 1024,
    ) -> None:
        self.window_s = int(window_s)
        self.window_max = int(window_max)
        self.window_step_ms = window_step_ms(self.window_s, self.window_max)
        self._clock = clock or _wall_ms
        self._lock = threading.RLock()
        self._n = 0  # slots in use = max dense index seen + 1
        self._ids: list[str | None] = []
        self._slot: dict[str, int] = {}
        self._cap = self.window_max + 1  # ring length: window_max steps may touch +1 bucket
        self._alloc(max(1, capacity))
        self._newest: int | None = None
        self._aggs: dict[str, tuple[dict[str, float], int]] = {}
        self._counters: dict[str, int] = {}
        self._docs: dict[str, tuple[str, int | None]] = {}

    # ------------------------------------------------------------------ storage
    def _alloc(self, size: int) -> None:
        """(Re)size every per-sensor array to ``size`` slots, keeping the contents."""
        self._value = _grown(getattr(self, "_value", None), size, np.nan)
        self._ts = _grown(getattr(self, "_ts", None), size, _NO_TS)
        self._quality = _grown(getattr(self, "_quality", None), size, np.nan)
        self._score = _grown(getattr(self, "_score", None), size, np.nan)
        self._fault = _grown(getattr(self, "_fault", None), size, np.nan)
        self._score_ts = _grown(getattr(self, "_score_ts", None), size, _NO_TS)
        self._known = _grown(getattr(self, "_known", None), size, False)
        # rolling windows: a ring of self._cap points per sensor
        self._win_bucket = _grown(getattr(self, "_win_bucket", None), size, _NO_TS)
        self._win_head = _grown(getattr(self, "_win_head", None), size, 0)
        self._win_len = _grown(getattr(self, "_win_len", None), size, 0)
        self._win_ts = _grown(getattr(self, "_win_ts", None), size, 0, self._cap)
        self._win_val = _grown(getattr(self, "_win_val", None), size, 0.0, self._cap)

    def _ensure(self, size: int) -> None:
        if size > len(self._value):
            self._alloc(max(size, 2 * len(self._value)))
        if size > self._n:
            self._ids.extend([None] * (size - self._n))
            self._n = size

    def _register(self, batch: ReadingBatch, idx: IntArray) -> None:
        """Learn id ↔ dense index for rows whose index is new (rare after warm-up)."""
        for i in np.flatnonzero(~self._known[idx]):
            j = int(idx[i])
            sid = batch.sensor_ids[int(i)]
            old = self._ids[j]
            if old is not None and old != sid:
                self._slot.pop(old, None)
            self._ids[j] = sid
            self._slot[sid] = j
            self._known[j] = True

    # ------------------------------------------------------------------ writes
    def write_readings(self, batch: ReadingBatch, idx: IntArray) -> None:
        n = len(batch)
        if n == 0:
            return
        idx = np.asarray(idx, np.int64)
        if len(idx) != n or idx.min() < 0:
            raise ValueError("write_readings needs one dense index >= 0 per row")
        ts = np.asarray(batch.ts, np.int64)
        values = np.asarray(batch.values, np.float64)
        with self._lock:
            self._ensure(int(idx.max()) + 1)
            if not self._known[idx].all():
                self._register(batch, idx)
            rows = newest_per_slot(idx, ts) if _has_duplicates(idx, self._n) else None
            sel_idx = idx if rows is None else idx[rows]
            sel_ts = ts if rows is None else ts[rows]
            newer = sel_ts >= self._ts[sel_idx]
            take = np.flatnonzero(newer) if rows is None else rows[newer]
            j = idx[take]
            self._value[j] = values[take]
            self._ts[j] = ts[take]
            self._quality[j] = batch.quality[take]
            top = int(ts.max())
            self._newest = top if self._newest is None else max(self._newest, top)
            self._append_windows(idx, ts, values)

    def _append_windows(self, idx: IntArray, ts: IntArray, values: FloatArray) -> None:
        bucket = ts // self.window_step_ms
        due = np.flatnonzero(bucket > self._win_bucket[idx])
        if len(due) == 0:
            return
        if _has_duplicates(idx[due], self._n):
            # one sensor several times in a batch (replays): append in time order
            for i in due[np.argsort(ts[due], kind="stable")]:
                self._append_points(idx[i : i + 1], ts[i : i + 1], values[i : i + 1])
            return
        self._append_points(idx[due], ts[due], values[due])

    def _append_points(self, j: IntArray, ts: IntArray, values: FloatArray) -> None:
        bucket = ts // self.window_step_ms
        ok = bucket > self._win_bucket[j]  # re-checked: the slow path appends one by one
        j, ts, values, bucket = j[ok], ts[ok], values[ok], bucket[ok]
        pos = self._win_head[j]
        self._win_ts[j, pos] = ts
        self._win_val[j, pos] = values
        self._win_head[j] = (pos + 1) % self._cap
        self._win_len[j] = np.minimum(self._win_len[j] + 1, self._cap)
        self._win_bucket[j] = bucket

    def write_scores(self, scores: ScoreBatch) -> None:
        if len(scores) == 0:
            return
        with self._lock:
            get = self._slot.get
            slots = np.fromiter((get(s, -1) for s in scores.sensor_ids), np.int64, len(scores))
            known = np.flatnonzero(slots >= 0)  # a score for a never-read sensor has no slot
            if len(known) == 0:
                return
            ts = np.asarray(scores.ts, np.int64)
            rows = known[newest_per_slot(slots[known], ts[known])]
            rows = rows[ts[rows] >= self._score_ts[slots[rows]]]
            j = slots[rows]
            self._score[j] = scores.score[rows]
            self._fault[j] = scores.fault[rows]
            self._score_ts[j] = ts[rows]

    def put_aggregates(self, domain: str, values: Mapping[str, float], ts: int) -> None:
        clean = check_aggregates(values)
        with self._lock:
            self._aggs[domain] = (clean, int(ts))

    def incr(self, name: str, n: int = 1) -> int:
        with self._lock:
            v = self._counters.get(name, 0) + int(n)
            self._counters[name] = v
            return v

    def put_json(self, key: str, obj: Any, ttl_s: float | None = None) -> None:
        text = json.dumps(obj, allow_nan=False)  # same rules as the Redis store
        expires = None if ttl_s is None else self._clock() + int(ttl_s * 1000)
        with self._lock:
            self._docs[key] = (text, expires)

    def delete_json(self, key: str) -> None:
        with self._lock:
            self._docs.pop(key, None)

    # ------------------------------------------------------------------ reads
    def latest(self, sensor_ids: Sequence[str]) -> dict[str, FloatArray]:
        with self._lock:
            get = self._slot.get
            slots = np.fromiter((get(s, -1) for s in sensor_ids), np.int64, len(sensor_ids))
            out = empty_latest(len(slots))
            have = np.flatnonzero(slots >= 0)
            full = self._columns(slots[have])
        for c, arr in full.items():
            out[c][have] = arr
        return out

    def latest_all(self) -> dict[str, FloatArray]:
        with self._lock:
            return self._columns(np.arange(self._n))

    def _columns(self, j: IntArray) -> dict[str, FloatArray]:
        return {
            "value": self._value[j].copy(),
            "ts": _ts_float(self._ts[j]),
            "quality": self._quality[j].copy(),
            "score": self._score[j].copy(),
            "fault": self._fault[j].copy(),
            "score_ts": _ts_float(self._score_ts[j]),
        }

    def window(self, sensor_id: str, since_ms: int | None = None) -> tuple[IntArray, FloatArray]:
        with self._lock:
            j = self._slot.get(sensor_id)
            if j is None or self._win_len[j] == 0:
                return np.zeros(0, np.int64), np.zeros(0)
            k = int(self._win_len[j])
            start = (int(self._win_head[j]) - k) % self._cap
            order = (start + np.arange(k)) % self._cap
            ts = self._win_ts[j, order]
            vals = self._win_val[j, order]
        lo = int(ts[-1]) - self.window_s * 1000
        keep = ts > lo if since_ms is None else (ts > lo) & (ts >= since_ms)
        return ts[keep], vals[keep]

    def newest_ts(self) -> int | None:
        with self._lock:
            return self._newest

    def aggregates(self, domain: str) -> dict[str, float]:
        with self._lock:
            got = self._aggs.get(domain)
        if got is None:
            return {}
        values, ts = got
        return {**values, "ts": float(ts)}

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def get_json(self, key: str) -> Any | None:
        with self._lock:
            got = self._docs.get(key)
            if got is None:
                return None
            text, expires = got
            if expires is not None and self._clock() >= expires:
                del self._docs[key]
                return None
        return json.loads(text)

    def json_keys(self, prefix: str = "") -> list[str]:
        now = self._clock()
        with self._lock:
            return sorted(
                k for k, (_, exp) in self._docs.items()
                if k.startswith(prefix) and (exp is None or now < exp)
            )


def _grown(old: Any, size: int, fill: Any, width: int = 0) -> Any:
    """A copy of ``old`` with ``size`` rows (new rows = ``fill``); dtype from ``fill``."""
    dtype = np.asarray(fill).dtype if old is None else old.dtype
    if isinstance(fill, int) and not isinstance(fill, bool) and old is None:
        dtype = np.dtype(np.int64)
    arr = np.full((size, width) if width else size, fill, dtype)
    if old is not None:
        arr[: len(old)] = old
    return arr


def _has_duplicates(idx: IntArray, size: int) -> bool:
    """True when a slot occurs twice, in O(n) without sorting."""
    if len(idx) < 2:
        return False
    mark = np.empty(size, np.int64)
    pos = np.arange(len(idx))
    mark[idx] = pos
    return bool((mark[idx] != pos).any())


def _ts_float(ts: IntArray) -> FloatArray:
    out = ts.astype(np.float64)
    out[ts == _NO_TS] = np.nan
    return out


def _wall_ms() -> int:
    """Default wall clock for JSON TTLs (the edge: tests pass a manual clock)."""
    return time.time_ns() // 1_000_000
