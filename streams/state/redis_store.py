"""Redis state store: the shared state of a scaled-out deployment.

Layout (``ns`` is the key namespace, ``citycc`` by default); every key expires
(``ttl_s``, refreshed on write) so a stopped city leaves nothing stale behind:

=====================  =================================================================
``ns:latest``          hash sensor_id → 21 packed bytes (value f8, ts i8, quality u1,
                       dense index i4): **one HSET of the whole batch**
``ns:score``           hash sensor_id → 17 packed bytes (score f8, fault i1, ts i8)
``ns:win:{bucket}``    hash sensor_id → 16 packed bytes (ts i8, value f8): one hash per
                       downsampling step (``window_step_ms``); expires after ``window_s``
                       plus two steps, so time-bounding costs nothing
``ns:newest``          sorted set, member ``readings`` scored by the newest event time
                       (``ZADD GT`` keeps the maximum without a read)
``ns:agg:{domain}``    hash metric → float text, plus ``ts``
``ns:counters``        hash name → int (``HINCRBY``)
``ns:json:{key}``      string (JSON), with its own TTL when given
=====================  =================================================================

A batch costs one pipelined round trip: HSET latest, HSET of the window bucket(s) for
sensors whose step is due (tracked by this writer, so at 1 Hz only one reading in ten
reaches a window), ZADD GT, EXPIREs. Per-sensor keys (one ZADD per reading) would be
5 000 commands per batch instead of three. Latest values are last-write-wins: the bus
keeps each sensor's readings in order on its partition.

Redis errors become :class:`~streams.state.base.StateError` raised from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import redis
import redis.exceptions

from streams.messages import ReadingBatch, ScoreBatch
from streams.state.base import (
    WINDOW_MAX,
    FloatArray,
    IntArray,
    StateError,
    StateStore,
    check_aggregates,
    empty_latest,
    window_step_ms,
)

_LATEST = np.dtype([("value", "<f8"), ("ts", "<i8"), ("quality", "u1"), ("idx", "<i4")])
_SCORE = np.dtype([("score", "<f8"), ("fault", "i1"), ("ts", "<i8")])
_POINT = np.dtype([("ts", "<i8"), ("value", "<f8")])
_NO_TS = np.iinfo(np.int64).min


@contextmanager
def _redis_errors(what: str) -> Iterator[None]:
    try:
        yield
    except redis.exceptions.RedisError as e:
        raise StateError(f"redis {what} failed: {e}") from e


def _records(arr: np.ndarray) -> list[bytes]:
    """One bytes object per row of a packed structured array (hash field values)."""
    buf = arr.tobytes()
    w = arr.dtype.itemsize
    return [buf[k : k + w] for k in range(0, len(buf), w)]


def _interleave(keys: Sequence[str], vals: list[bytes]) -> list[str | bytes]:
    args: list[str | bytes] = [b""] * (2 * len(keys))
    args[0::2] = keys
    args[1::2] = vals
    return args


def _unpack(raw: Sequence[bytes | None], dtype: np.dtype, missing: bytes) -> np.ndarray:
    w = dtype.itemsize
    joined = b"".join(r if r is not None and len(r) == w else missing for r in raw)
    return np.frombuffer(joined, dtype)


_MISSING_LATEST = np.array([(np.nan, _NO_TS, 0, -1)], _LATEST).tobytes()
_MISSING_SCORE = np.array([(np.nan, 0, _NO_TS)], _SCORE).tobytes()


class RedisStateStore(StateStore):
    """:class:`StateStore` on Redis (redis-py, pipelined, TTL on every key).

    >>> RedisStateStore.from_url("redis://127.0.0.1:1/0").window_step_ms  # no I/O yet
    10000
    """

    def __init__(
        self,
        client: redis.Redis,
        ttl_s: int = 6 * 3600,
        window_s: int = 3600,
        window_max: int = WINDOW_MAX,
        namespace: str = "citycc",
    ) -> None:
        self.client = client
        self.ttl_s = int(ttl_s)
        self.window_s = int(window_s)
        self.window_max = int(window_max)
        self.window_step_ms = window_step_ms(self.window_s, self.window_max)
        self._win_ttl_s = self.window_s + 2 * (self.window_step_ms // 1000 + 1)
        self.ns = namespace
        self._k_latest = f"{namespace}:latest"
        self._k_score = f"{namespace}:score"
        self._k_newest = f"{namespace}:newest"
        self._k_counters = f"{namespace}:counters"
        # window bucket last written per dense index, by this writer (downsampling)
        self._win_bucket = np.full(1024, _NO_TS, np.int64)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisStateStore:
        client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        return cls(client, **kwargs)

    def _win_key(self, bucket: int) -> str:
        return f"{self.ns}:win:{bucket}"

    # ------------------------------------------------------------------ writes
    def write_readings(self, batch: ReadingBatch, idx: IntArray) -> None:
        n = len(batch)
        if n == 0:
            return
        idx = np.asarray(idx, np.int64)
        if len(idx) != n or idx.min() < 0:
            raise ValueError("write_readings needs one dense index >= 0 per row")
        ts = np.asarray(batch.ts, np.int64)
        rec = np.empty(n, _LATEST)
        rec["value"] = batch.values
        rec["ts"] = ts
        rec["quality"] = batch.quality
        rec["idx"] = idx
        ids = batch.sensor_ids
        pipe = self.client.pipeline(transaction=False)
        pipe.execute_command("HSET", self._k_latest, *_interleave(ids, _records(rec)))
        pipe.expire(self._k_latest, self.ttl_s)
        pipe.zadd(self._k_newest, {"readings": int(ts.max())}, gt=True)
        pipe.expire(self._k_newest, self.ttl_s)
        due = self._due_window_points(idx, ts)
        if len(due):
            bucket = ts[due] // self.window_step_ms
            pts = np.empty(len(due), _POINT)
            pts["ts"] = ts[due]
            pts["value"] = batch.values[due]
            vals = _records(pts)
            for b in np.unique(bucket):
                rows = np.flatnonzero(bucket == b)
                key = self._win_key(int(b))
                args = _interleave([ids[int(due[r])] for r in rows], [vals[r] for r in rows])
                pipe.execute_command("HSET", key, *args)
                pipe.expire(key, self._win_ttl_s)
        with _redis_errors("write_readings"):
            pipe.execute()

    def _due_window_points(self, idx: IntArray, ts: IntArray) -> IntArray:
        top = int(idx.max()) + 1
        if top > len(self._win_bucket):
            grown = np.full(max(top, 2 * len(self._win_bucket)), _NO_TS, np.int64)
            grown[: len(self._win_bucket)] = self._win_bucket
            self._win_bucket = grown
        bucket = ts // self.window_step_ms
        due = np.flatnonzero(bucket > self._win_bucket[idx])
        if len(due) > 1:  # keep the first reading of a (sensor, step), as the memory store
            order = np.lexsort((due, bucket[due], idx[due]))
            i_s, b_s = idx[due][order], bucket[due][order]
            first = np.ones(len(order), bool)
            first[1:] = (i_s[1:] != i_s[:-1]) | (b_s[1:] != b_s[:-1])
            due = np.sort(due[order[first]])
        # np.maximum.at: a sensor present twice keeps its largest bucket
        np.maximum.at(self._win_bucket, idx[due], bucket[due])
        return due

    def write_scores(self, scores: ScoreBatch) -> None:
        if len(scores) == 0:
            return
        rec = np.empty(len(scores), _SCORE)
        rec["score"] = scores.score
        rec["fault"] = scores.fault
        rec["ts"] = scores.ts
        pipe = self.client.pipeline(transaction=False)
        pipe.execute_command("HSET", self._k_score, *_interleave(scores.sensor_ids, _records(rec)))
        pipe.expire(self._k_score, self.ttl_s)
        with _redis_errors("write_scores"):
            pipe.execute()

    def put_aggregates(self, domain: str, values: Mapping[str, float], ts: int) -> None:
        clean = check_aggregates(values)
        key = f"{self.ns}:agg:{domain}"
        mapping: dict[str, str] = {k: repr(v) for k, v in clean.items()}
        mapping["ts"] = str(int(ts))
        pipe = self.client.pipeline(transaction=True)  # readers never see half a snapshot
        pipe.delete(key)
        pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
        pipe.expire(key, self.ttl_s)
        with _redis_errors("put_aggregates"):
            pipe.execute()

    def incr(self, name: str, n: int = 1) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.hincrby(self._k_counters, name, int(n))
        pipe.expire(self._k_counters, self.ttl_s)
        with _redis_errors("incr"):
            value, _ = pipe.execute()
        return int(value)

    def put_json(self, key: str, obj: Any, ttl_s: float | None = None) -> None:
        text = json.dumps(obj, allow_nan=False)
        ttl_ms = int((self.ttl_s if ttl_s is None else ttl_s) * 1000)
        with _redis_errors("put_json"):
            self.client.set(f"{self.ns}:json:{key}", text, px=max(1, ttl_ms))

    def delete_json(self, key: str) -> None:
        with _redis_errors("delete_json"):
            self.client.delete(f"{self.ns}:json:{key}")

    # ------------------------------------------------------------------ reads
    def latest(self, sensor_ids: Sequence[str]) -> dict[str, FloatArray]:
        ids = list(sensor_ids)
        if not ids:
            return empty_latest(0)
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self._k_latest, ids)
        pipe.hmget(self._k_score, ids)
        with _redis_errors("latest"):
            raw_latest, raw_score = pipe.execute()
        return _columns(
            _unpack(raw_latest, _LATEST, _MISSING_LATEST),
            _unpack(raw_score, _SCORE, _MISSING_SCORE),
        )

    def latest_all(self) -> dict[str, FloatArray]:
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(self._k_latest)
        pipe.hgetall(self._k_score)
        with _redis_errors("latest_all"):
            all_latest, all_score = pipe.execute()
        if not all_latest:
            return empty_latest(0)
        names = list(all_latest)
        lat = _unpack([all_latest[k] for k in names], _LATEST, _MISSING_LATEST)
        sco = _unpack([all_score.get(k) for k in names], _SCORE, _MISSING_SCORE)
        ok = lat["idx"] >= 0
        lat, sco = lat[ok], sco[ok]
        pos = lat["idx"].astype(np.int64)
        out = empty_latest(int(pos.max()) + 1 if len(pos) else 0)
        for c, arr in _columns(lat, sco).items():
            out[c][pos] = arr
        return out

    def window(self, sensor_id: str, since_ms: int | None = None) -> tuple[IntArray, FloatArray]:
        with _redis_errors("window"):
            raw = self.client.hget(self._k_latest, sensor_id)
        if raw is None or len(raw) != _LATEST.itemsize:  # type: ignore[arg-type]
            return np.zeros(0, np.int64), np.zeros(0)
        newest = int(np.frombuffer(raw, _LATEST)["ts"][0])  # type: ignore[arg-type]
        lo = newest - self.window_s * 1000
        first = max(lo, since_ms) if since_ms is not None else lo
        step = self.window_step_ms
        buckets = range(first // step, newest // step + 1)
        pipe = self.client.pipeline(transaction=False)
        for b in buckets:
            pipe.hget(self._win_key(b), sensor_id)
        with _redis_errors("window"):
            got = pipe.execute()
        w = _POINT.itemsize
        pts = np.frombuffer(b"".join(g for g in got if g is not None and len(g) == w), _POINT)
        ts = pts["ts"].astype(np.int64)
        vals = pts["value"].astype(np.float64)
        keep = ts > lo if since_ms is None else (ts > lo) & (ts >= since_ms)
        return ts[keep], vals[keep]

    def newest_ts(self) -> int | None:
        with _redis_errors("newest_ts"):
            got = self.client.zscore(self._k_newest, "readings")
        return None if got is None else int(got)  # type: ignore[arg-type]

    def aggregates(self, domain: str) -> dict[str, float]:
        with _redis_errors("aggregates"):
            raw = self.client.hgetall(f"{self.ns}:agg:{domain}")
        try:
            return {k.decode(): float(v) for k, v in raw.items()}  # type: ignore[union-attr]
        except ValueError as e:
            raise StateError(f"corrupt aggregates for {domain!r}") from e

    def counters(self) -> dict[str, int]:
        with _redis_errors("counters"):
            raw = self.client.hgetall(self._k_counters)
        return {k.decode(): int(v) for k, v in raw.items()}  # type: ignore[union-attr]

    def get_json(self, key: str) -> Any | None:
        with _redis_errors("get_json"):
            raw = self.client.get(f"{self.ns}:json:{key}")
        if raw is None:
            return None
        try:
            return json.loads(raw)  # type: ignore[arg-type]
        except ValueError as e:
            raise StateError(f"corrupt JSON document {key!r}") from e

    def json_keys(self, prefix: str = "") -> list[str]:
        head = f"{self.ns}:json:"
        pattern = head + _glob_escape(prefix) + "*"
        with _redis_errors("json_keys"):
            keys = list(self.client.scan_iter(match=pattern, count=1000))
        return sorted(k.decode()[len(head) :] for k in keys)

    def ttl(self, key: str) -> int:
        """Seconds to live of a raw Redis key (-1 none, -2 absent): for tests and ops."""
        with _redis_errors("ttl"):
            return int(self.client.ttl(key))  # type: ignore[arg-type]

    def close(self) -> None:
        self.client.close()


def _columns(lat: np.ndarray, sco: np.ndarray) -> dict[str, FloatArray]:
    ts = lat["ts"].astype(np.int64)
    sts = sco["ts"].astype(np.int64)
    known_score = sts != _NO_TS
    return {
        "value": lat["value"].astype(np.float64),
        "ts": np.where(ts == _NO_TS, np.nan, ts.astype(np.float64)),
        "quality": np.where(ts == _NO_TS, np.nan, lat["quality"].astype(np.float64)),
        "score": np.where(known_score, sco["score"], np.nan),
        "fault": np.where(known_score, sco["fault"].astype(np.float64), np.nan),
        "score_ts": np.where(known_score, sts.astype(np.float64), np.nan),
    }


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
