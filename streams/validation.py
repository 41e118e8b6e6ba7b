"""Validation of decoded readings against the city's sensor registry, vectorised.

Every rule is one numpy expression over the whole batch, so a 5 000-row batch costs a
few hundred microseconds. Bad rows become :class:`DeadLetter` records (one per row,
first failing rule wins, in this order): ``non_finite`` (NaN / ±inf), ``unknown_sensor``
(not in the registry, or registered under another domain than the topic's — a
misrouted reading is unknown *on that topic*), ``out_of_range`` (outside the sensor's
physical ``lo``/``hi``), ``future_ts`` (event time beyond ``clock() + max_future_ms``).
Good rows beside bad ones are always kept, in order.

>>> from config.city.registry import Sensor, SensorRegistry
>>> from streams.messages import ReadingBatch
>>> reg = SensorRegistry([Sensor("AIR-1", "air", "pm25", "ug/m3", 0, 0, "", "", 0.0, 1000.0,
...                              "A", 60)])
>>> v = Validator(reg, max_future_ms=60_000, clock=lambda: 1_000_000)
>>> b = ReadingBatch.from_rows([("AIR-1", 12.0, 1_000_000), ("AIR-1", -5.0, 1_000_000),
...                             ("NOPE", 1.0, 1_000_000)])
>>> good, idx, dead = v.validate(b, "citycc.readings.air")
>>> good.values.tolist(), idx.tolist(), [d.reason for d in dead]
([12.0], [0], ['out_of_range', 'unknown_sensor'])
>>> v.counts.snapshot()["out_of_range"]
1
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt

from config.city.registry import SensorRegistry
from streams.messages import DEAD_LETTER_REASONS, DOMAINS, DeadLetter, ReadingBatch
from streams.topics import READINGS_PREFIX

#: Bytes of one rejected row kept in its dead letter.
ROW_RAW_LIMIT = 512


class ReasonCounter:
    """Thread-safe running count of dead letters per reason (for /healthz and /metrics).

    >>> c = ReasonCounter()
    >>> c.add("non_finite", 2); c.snapshot()["non_finite"], c.total()
    (2, 2)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = dict.fromkeys(DEAD_LETTER_REASONS, 0)

    def add(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._counts[reason] = self._counts.get(reason, 0) + n

    def count(self, dead: Iterable[DeadLetter]) -> None:
        """Count dead letters made elsewhere (e.g. by the decoder) in the same tally."""
        for d in dead:
            self.add(d.reason)

    def __getitem__(self, reason: str) -> int:
        with self._lock:
            return self._counts.get(reason, 0)

    def snapshot(self) -> dict[str, int]:
        """All known reasons (zeros included) and any others seen."""
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


class Validator:
    """Splits a decoded batch into good rows (with dense indices) and dead letters.

    ``clock`` returns the current time in epoch milliseconds (injected, so tests run on
    a manual clock); ``max_future_ms`` tolerates sensor clocks running slightly ahead.
    """

    def __init__(
        self, registry: SensorRegistry, max_future_ms: int, clock: Callable[[], int]
    ) -> None:
        self.registry = registry
        self.max_future_ms = int(max_future_ms)
        self.clock = clock
        self.counts = ReasonCounter()
        # a sentinel row at the end so unknown ids (-1) index it without a branch
        self._lo = np.append(registry.lo, np.inf)
        self._hi = np.append(registry.hi, -np.inf)
        self._domain = np.append(registry.domain_code.astype(np.int64), -1)

    def validate(
        self, batch: ReadingBatch, topic: str
    ) -> tuple[ReadingBatch, npt.NDArray[np.int64], list[DeadLetter]]:
        """Good rows (order kept), their dense registry indices, one dead letter per bad row."""
        n = len(batch)
        if n == 0:
            return batch, np.zeros(0, np.int64), []
        idx = self.registry.indices(batch.sensor_ids)
        values = np.asarray(batch.values, dtype=np.float64)
        ts = np.asarray(batch.ts, dtype=np.int64)

        # reason code per row: 0 good, else 1 + position in _CHECKS (first failure wins)
        code = np.zeros(n, np.int8)
        non_finite = ~np.isfinite(values)
        unknown = idx < 0
        domain = _topic_domain(topic)
        if domain >= 0:
            unknown |= self._domain[idx] != domain
        with np.errstate(invalid="ignore"):
            out_of_range = (values < self._lo[idx]) | (values > self._hi[idx])
        future = ts > self.clock() + self.max_future_ms
        for c, mask in ((4, future), (3, out_of_range), (2, unknown), (1, non_finite)):
            code[mask] = c
        bad = np.flatnonzero(code)
        if len(bad) == 0:
            return batch, idx, []
        dead = [self._dead_letter(batch, int(i), int(code[i]), topic) for i in bad]
        for reason, k in zip(*np.unique(code[bad], return_counts=True), strict=True):
            self.counts.add(_CHECKS[int(reason) - 1], int(k))
        keep = code == 0
        return batch.take(keep), idx[keep], dead

    def _dead_letter(self, batch: ReadingBatch, i: int, code: int, topic: str) -> DeadLetter:
        reason = _CHECKS[code - 1]
        sid = batch.sensor_ids[i]
        value = float(batch.values[i])
        ts = int(batch.ts[i])
        if reason == "non_finite":
            detail = f"value {value} of {sid[:80]!r} is not finite"
        elif reason == "unknown_sensor":
            j = self.registry.index_of(sid)
            detail = (
                f"sensor {sid[:80]!r} is not registered" if j < 0
                else f"sensor {sid[:80]!r} is a {self.registry.domain_of(j)} sensor, "
                f"not for topic {topic!r}"
            )
        elif reason == "out_of_range":
            s = self.registry.sensors[self.registry.index_of(sid)]
            detail = f"value {value} of {sid[:80]!r} outside physical range [{s.lo}, {s.hi}]"
        else:
            detail = f"ts {ts} of {sid[:80]!r} is more than {self.max_future_ms} ms ahead"
        row = {"sensor_id": sid[:200], "value": value, "ts": ts, "quality": int(batch.quality[i])}
        return DeadLetter(reason, detail, topic, json.dumps(row).encode()[:ROW_RAW_LIMIT])


_CHECKS: tuple[str, ...] = ("non_finite", "unknown_sensor", "out_of_range", "future_ts")


def _topic_domain(topic: str) -> int:
    """Domain code a readings topic carries, or -1 when the topic does not say."""
    if topic.startswith(READINGS_PREFIX):
        name = topic[len(READINGS_PREFIX):]
        if name in DOMAINS:
            return DOMAINS.index(name)  # type: ignore[arg-type]
    return -1
