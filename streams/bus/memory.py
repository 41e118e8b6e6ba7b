"""In-process bus: Kafka's model (partitioned logs, consumer groups, offsets) in memory.

The embedded default. It behaves like Kafka for everything the pipeline uses — the
same behaviour suite (``tests/streams/bus/``) runs against it and a real broker:

* a topic is N append-only partitions; offsets start at 0 and grow by one;
* a key picks its partition with Kafka's murmur2 (:mod:`streams.bus.partitioner`), an
  explicit partition wins, neither means round-robin;
* a consumer group stores committed positions; members of one group share the
  partitions (static round-robin per topic over the members, recomputed whenever a
  member joins or leaves or a subscribed topic appears), and a partition's new owner
  resumes from the group's committed position — so uncommitted records are
  re-delivered, exactly the at-least-once contract of Kafka;
* ``poll`` blocks on a condition variable (no busy wait) until records arrive or the
  timeout passes.

Differences, on purpose:

* **Retention is by size, always on.** Each partition keeps at most
  ``retention_bytes`` of payload (and at most ``retention_records`` records, if set);
  older records are dropped as new ones arrive, so an embedded process runs for weeks
  in bounded memory. The default 4 MiB per partition holds roughly a quarter of an
  hour of a 5 000-sensor city at 1 Hz. A consumer that falls further behind than that
  skips ahead to the oldest retained record (like Kafka's ``auto.offset.reset`` after
  retention deleted its position); the skip is counted in :attr:`MemoryBus.dropped`.
* Rebalances keep the positions of partitions a member keeps (Kafka's cooperative
  protocol); a commit for a partition the member no longer owns fails with
  :class:`~streams.bus.base.CommitFailedError`, as in Kafka.
* Nothing is persisted: the log dies with the process (the embedded mode rebuilds
  state by running, not by replay).

>>> bus = MemoryBus(clock=lambda: 0)
>>> bus.create_topics(["t"], partitions=2)
>>> p = bus.producer(); p.send("t", b"hello", key=b"AIR-0001"); p.flush()
>>> c = bus.consumer("g", ["t"])
>>> [(r.value, r.offset) for r in c.poll(timeout_ms=0)]
[(b'hello', 0)]
>>> c.commit(); c.committed(TopicPartition("t", 1)), c.committed(TopicPartition("t", 0))
(1, 0)
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from streams.bus.base import (
    Bus,
    BusError,
    CommitFailedError,
    Consumer,
    OffsetReset,
    Producer,
    Record,
    TopicPartition,
)
from streams.bus.partitioner import partition_for

#: Default retention per partition (payload + key bytes).
RETENTION_BYTES = 4 * 1024 * 1024
#: Bookkeeping bytes counted per record on top of its payload, so tiny records still count.
_RECORD_OVERHEAD = 64


def wall_clock_ms() -> int:
    """Record timestamps of the embedded bus (epoch ms); injected, replaceable in tests."""
    return time.time_ns() // 1_000_000


class _Partition:
    """Append-only log with a retained window ``[start, end)`` of offsets."""

    __slots__ = ("log", "head", "base", "size")

    def __init__(self) -> None:
        self.log: list[Record] = []
        self.head = 0  # index in ``log`` of the oldest retained record
        self.base = 0  # offset of ``log[0]``
        self.size = 0  # retained bytes

    @property
    def start(self) -> int:
        return self.base + self.head

    @property
    def end(self) -> int:
        return self.base + len(self.log)

    def append(self, rec: Record) -> None:
        self.log.append(rec)
        self.size += _weight(rec)

    def trim(self, max_bytes: int, max_records: int | None) -> int:
        """Drop the oldest records beyond the bounds (always keeping the newest); count."""
        dropped = 0
        cap = max_records if max_records is not None else 1 << 62
        while self.end - self.start > 1 and (self.size > max_bytes or self.end - self.start > cap):
            self.size -= _weight(self.log[self.head])
            self.head += 1
            dropped += 1
        if self.head > 1024 and self.head * 2 > len(self.log):
            del self.log[: self.head]  # amortised O(1): compact once half is dead
            self.base += self.head
            self.head = 0
        return dropped

    def read(self, offset: int, n: int) -> list[Record]:
        i = offset - self.base
        return self.log[i : i + n]


def _weight(rec: Record) -> int:
    return len(rec.value) + (len(rec.key) if rec.key else 0) + _RECORD_OVERHEAD


@dataclass
class _Group:
    members: dict[int, frozenset[str]] = field(default_factory=dict)  # member → topics
    owners: dict[TopicPartition, int] = field(default_factory=dict)
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    generation: int = 0


class MemoryBus(Bus):
    """Thread-safe in-process bus (see the module docstring for the contract).

    Parameters
    ----------
    retention_bytes : payload bytes kept per partition before the oldest records go.
    retention_records : optional cap on records kept per partition.
    clock : epoch-ms clock stamping records (their ``timestamp_ms``).
    """

    def __init__(
        self,
        retention_bytes: int = RETENTION_BYTES,
        retention_records: int | None = None,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        if retention_bytes <= 0 or (retention_records is not None and retention_records <= 0):
            raise ValueError("retention bounds must be positive")
        self.retention_bytes = retention_bytes
        self.retention_records = retention_records
        self.clock = clock
        self._cond = threading.Condition(threading.RLock())
        self._topics: dict[str, list[_Partition]] = {}
        self._groups: dict[str, _Group] = {}
        self._member_ids = itertools.count(1)
        self._closed = False
        #: records dropped by retention, total over all partitions
        self.dropped = 0

    # ------------------------------------------------------------------ topics
    def create_topics(self, names: Iterable[str], partitions: int) -> None:
        if partitions <= 0:
            raise ValueError("a topic has at least one partition")
        with self._cond:
            created = False
            for name in names:
                if name not in self._topics:
                    self._topics[name] = [_Partition() for _ in range(partitions)]
                    created = True
            if created:
                for group in self._groups.values():
                    self._rebalance(group)
                self._cond.notify_all()

    def partitions_for(self, topic: str) -> int:
        with self._cond:
            return len(self._partitions(topic))

    def _partitions(self, topic: str) -> list[_Partition]:
        parts = self._topics.get(topic)
        if parts is None:
            raise BusError(f"unknown topic {topic!r} (create it first)")
        return parts

    def end_offsets(self, tps: Iterable[TopicPartition]) -> dict[TopicPartition, int]:
        """Offset the next record of each partition will get (for lag and tests)."""
        with self._cond:
            return {tp: self._partitions(tp.topic)[tp.partition].end for tp in tps}

    # ---------------------------------------------------------------- producing
    def producer(self) -> Producer:
        return MemoryProducer(self)

    def _append(self, topic: str, partition: int, key: bytes | None, value: bytes) -> None:
        with self._cond:
            if self._closed:
                raise BusError("bus is closed")
            parts = self._partitions(topic)
            if not 0 <= partition < len(parts):
                raise BusError(f"topic {topic!r} has no partition {partition}")
            part = parts[partition]
            part.append(Record(topic, partition, part.end, key, value, self.clock()))
            self.dropped += part.trim(self.retention_bytes, self.retention_records)
            self._cond.notify_all()

    # ---------------------------------------------------------------- consuming
    def consumer(
        self,
        group_id: str,
        topics: Sequence[str],
        auto_offset_reset: OffsetReset = "earliest",
    ) -> Consumer:
        if auto_offset_reset not in ("earliest", "latest"):
            raise ValueError(f"auto_offset_reset must be earliest or latest: {auto_offset_reset!r}")
        with self._cond:
            if self._closed:
                raise BusError("bus is closed")
            group = self._groups.setdefault(group_id, _Group())
            member = next(self._member_ids)
            group.members[member] = frozenset(topics)
            self._rebalance(group)
            return MemoryConsumer(self, group, member, auto_offset_reset)

    def _leave(self, group: _Group, member: int) -> None:
        with self._cond:
            if group.members.pop(member, None) is not None:
                self._rebalance(group)

    def _rebalance(self, group: _Group) -> None:
        """Per topic, partition p goes to the (p mod k)-th of its k subscribed members."""
        owners: dict[TopicPartition, int] = {}
        for topic, parts in self._topics.items():
            members = sorted(m for m, subs in group.members.items() if topic in subs)
            if members:
                for p in range(len(parts)):
                    owners[TopicPartition(topic, p)] = members[p % len(members)]
        if owners != group.owners:
            group.owners = owners
            group.generation += 1
        self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class MemoryProducer(Producer):
    """Appends synchronously under the bus lock: ``flush`` has nothing left to wait for."""

    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus
        self._round_robin: dict[str, int] = {}
        self._lock = threading.Lock()

    def send(
        self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None
    ) -> None:
        if partition is None:
            n = self._bus.partitions_for(topic)
            if key is not None:
                partition = partition_for(key, n)
            else:
                with self._lock:
                    i = self._round_robin.get(topic, 0)
                    self._round_robin[topic] = i + 1
                partition = i % n
        self._bus._append(topic, partition, key, bytes(value))

    def flush(self) -> None:
        pass


class MemoryConsumer(Consumer):
    """One member of a group of the in-process bus (one thread uses it at a time)."""

    def __init__(
        self, bus: MemoryBus, group: _Group, member: int, auto_offset_reset: OffsetReset
    ) -> None:
        self._bus = bus
        self._group = group
        self._member = member
        self._reset = auto_offset_reset
        self._generation = -1
        self._positions: dict[TopicPartition, int] = {}
        self._order: list[TopicPartition] = []
        self._next = 0  # round-robin start among assigned partitions, for fairness
        self._closed = False

    # caller holds the bus lock in everything below that touches shared state
    def _sync(self) -> None:
        if self._closed:
            raise BusError("consumer is closed")
        if self._bus._closed:
            raise BusError("bus is closed")
        group = self._group
        if group.generation == self._generation:
            return
        mine = {tp for tp, m in group.owners.items() if m == self._member}
        positions = {tp: pos for tp, pos in self._positions.items() if tp in mine}
        for tp in mine - positions.keys():
            committed = group.committed.get(tp)
            positions[tp] = committed if committed is not None else self._reset_position(tp)
        self._positions = positions
        self._order = sorted(mine)
        self._generation = group.generation

    def _reset_position(self, tp: TopicPartition) -> int:
        part = self._bus._partitions(tp.topic)[tp.partition]
        return part.start if self._reset == "earliest" else part.end

    def _take(self, max_records: int) -> list[Record]:
        out: list[Record] = []
        n = len(self._order)
        for k in range(n):
            if len(out) >= max_records:
                break
            tp = self._order[(self._next + k) % n]
            part = self._bus._topics[tp.topic][tp.partition]
            pos = self._positions[tp]
            if pos < part.start or pos > part.end:  # retention passed us, or a bad seek
                pos = self._reset_position(tp)
            recs = part.read(pos, max_records - len(out))
            if recs:
                out.extend(recs)
                pos = recs[-1].offset + 1
            self._positions[tp] = pos
        if n:
            self._next = (self._next + 1) % n
        return out

    def poll(self, timeout_ms: int = 100, max_records: int = 500) -> list[Record]:
        if max_records <= 0:
            raise ValueError("max_records must be positive")
        deadline = time.monotonic() + max(0, timeout_ms) / 1000.0
        with self._bus._cond:
            while True:
                self._sync()
                recs = self._take(max_records)
                if recs:
                    return recs
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._bus._cond.wait(remaining)

    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        with self._bus._cond:
            if self._closed:
                raise BusError("consumer is closed")
            owned = {tp for tp, m in self._group.owners.items() if m == self._member}
            if offsets is None:
                offsets = dict(self._positions)
            lost = set(offsets) - owned
            if lost:
                raise CommitFailedError(
                    f"group rebalanced: {sorted(lost)} no longer assigned to this member"
                )
            for tp, off in offsets.items():
                if off < 0:
                    raise BusError(f"negative offset {off} for {tp}")
                self._group.committed[tp] = int(off)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        with self._bus._cond:
            self._sync()
            if tp not in self._positions:
                raise BusError(f"{tp} is not assigned to this consumer")
            if offset < 0:
                raise BusError(f"negative offset {offset}")
            self._positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        with self._bus._cond:
            self._sync()
            if tp not in self._positions:
                raise BusError(f"{tp} is not assigned to this consumer")
            part = self._bus._topics[tp.topic][tp.partition]
            pos = self._positions[tp]
            return pos if part.start <= pos <= part.end else self._reset_position(tp)

    def committed(self, tp: TopicPartition) -> int | None:
        with self._bus._cond:
            return self._group.committed.get(tp)

    def assignment(self) -> set[TopicPartition]:
        with self._bus._cond:
            self._sync()
            return set(self._positions)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._bus._leave(self._group, self._member)
