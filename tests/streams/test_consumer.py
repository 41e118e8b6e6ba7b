"""Consumer loop on the in-process bus: ordering, crash-and-resume, stopping, errors."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping

import numpy as np
import pytest

from streams.bus.base import BusError, CommitFailedError, Consumer, Record, TopicPartition
from streams.bus.memory import MemoryBus
from streams.codec import decode_readings, encode_batch
from streams.consumer import ConsumerLoop, StageCounts
from streams.messages import ReadingBatch

TOPIC = "citycc.readings.air"


class Boom(Exception):
    """The crash of a testing stage."""


class PairSink:
    """Processing stage + sink: (sensor, ts) pairs buffered by process, made durable by flush.

    ``abort_after`` raises in ``process`` of that batch (a crash mid-stream).
    """

    def __init__(self, durable: list[tuple[str, int]], abort_after: int | None = None) -> None:
        self.durable = durable
        self.pending: list[tuple[str, int]] = []
        self.abort_after = abort_after
        self.batches = 0

    def process(self, records: list[Record]) -> StageCounts:
        self.batches += 1
        n = 0
        for rec in records:
            batch, _ = decode_readings(rec.value, rec.topic)
            self.pending += zip(batch.sensor_ids, batch.ts.tolist(), strict=True)
            n += len(batch)
            if self.abort_after is not None and self.batches >= self.abort_after:
                raise Boom("crash in the middle of a batch")
        return StageCounts(readings=n, processed=n)

    def flush(self) -> None:
        self.durable += self.pending
        self.pending = []


def _produce(bus: MemoryBus, messages: int = 40, per_message: int = 25,
             partitions: int = 3) -> set[tuple[str, int]]:
    bus.create_topics([TOPIC], partitions)
    p = bus.producer()
    expected: set[tuple[str, int]] = set()
    for m in range(messages):
        ids = tuple(f"AIR-{(m * 7 + i) % 50:04d}" for i in range(per_message))
        ts = 1_700_000_000_000 + m * 1000 + np.arange(per_message, dtype=np.int64)
        p.send(TOPIC, encode_batch(ReadingBatch(ids, np.ones(per_message), ts)),
               partition=m % partitions)
        expected |= set(zip(ids, ts.tolist(), strict=True))
    return expected


def _loop(consumer: Consumer, sink: PairSink, **kw: int) -> ConsumerLoop:
    return ConsumerLoop(consumer, sink.process, sink.flush, clock=lambda: 42,
                        poll_timeout_ms=20, max_records=4, **kw)


def _run_until_idle(loop: ConsumerLoop) -> None:
    while loop.run_once():
        pass


def test_one_cycle_flushes_outputs_then_commits_the_next_positions() -> None:
    bus = MemoryBus()
    _produce(bus, messages=3, partitions=1)
    durable: list[tuple[str, int]] = []
    sink = PairSink(durable)
    order: list[str] = []
    consumer = bus.consumer("g", [TOPIC])
    real_commit = consumer.commit

    def commit(offsets: Mapping[TopicPartition, int] | None = None) -> None:
        order.append(f"commit with {len(durable)} durable")
        real_commit(offsets)

    consumer.commit = commit  # type: ignore[method-assign]
    loop = _loop(consumer, sink)
    assert loop.run_once() == 3
    assert order == ["commit with 75 durable"]
    assert consumer.committed(TopicPartition(TOPIC, 0)) == 3
    c = loop.counters()
    assert (c["records_in"], c["readings_in"], c["processed"], c["commits"]) == (3, 75, 75, 1)
    assert c["last_commit_ms"] == 42


def test_a_crash_mid_stream_then_restart_loses_nothing() -> None:
    bus = MemoryBus()
    expected = _produce(bus)
    durable: list[tuple[str, int]] = []
    crashing = _loop(bus.consumer("engine", [TOPIC]), PairSink(durable, abort_after=4))
    with pytest.raises(Boom):
        crashing.run()
    assert 0 < len(set(durable)) < len(expected)  # really mid-stream
    resumed = _loop(bus.consumer("engine", [TOPIC]), PairSink(durable))
    _run_until_idle(resumed)
    assert set(durable) == expected  # at least once: nothing lost
    assert resumed.counters()["readings_in"] < len(expected)  # resumed, not restarted


def test_a_crash_between_flush_and_commit_replays_but_never_loses() -> None:
    bus = MemoryBus()
    expected = _produce(bus)
    durable: list[tuple[str, int]] = []
    consumer = bus.consumer("engine", [TOPIC])
    commits = 0
    real_commit = consumer.commit

    def dying_commit(offsets: Mapping[TopicPartition, int] | None = None) -> None:
        nonlocal commits
        commits += 1
        if commits == 3:
            raise Boom("killed just before the commit")
        real_commit(offsets)

    consumer.commit = dying_commit  # type: ignore[method-assign]
    with pytest.raises(Boom):
        _loop(consumer, PairSink(durable)).run()
    _run_until_idle(_loop(bus.consumer("engine", [TOPIC]), PairSink(durable)))
    assert set(durable) == expected
    assert len(durable) > len(expected)  # the flushed, uncommitted batch came again


def test_stop_from_another_thread_ends_the_loop_and_leaves_the_group() -> None:
    bus = MemoryBus()
    _produce(bus, messages=6)
    durable: list[tuple[str, int]] = []
    loop = _loop(bus.consumer("engine", [TOPIC]), PairSink(durable))
    other = bus.consumer("engine", [TOPIC])
    th = threading.Thread(target=loop.run)
    th.start()
    while loop.counters()["commits"] == 0:
        threading.Event().wait(0.01)
    loop.stop()
    th.join(timeout=2)
    assert not th.is_alive()
    assert other.assignment() == {TopicPartition(TOPIC, p) for p in range(3)}


def test_sigterm_stops_the_loop_gracefully() -> None:
    bus = MemoryBus()
    bus.create_topics([TOPIC], 1)
    loop = _loop(bus.consumer("engine", [TOPIC]), PairSink([]))
    old = signal.getsignal(signal.SIGTERM)
    try:
        loop.stop_on_signals((signal.SIGTERM,))
        signal.raise_signal(signal.SIGTERM)
        assert loop.stopped
        loop.run()  # returns at once
    finally:
        signal.signal(signal.SIGTERM, old)


class FlakyConsumer(Consumer):
    """Wraps a consumer; fails some calls the way a broker would."""

    def __init__(self, inner: Consumer, poll_failures: int = 0, commit_failure: type | None = None):
        self.inner = inner
        self.poll_failures = poll_failures
        self.commit_failure = commit_failure

    def poll(self, timeout_ms: int = 100, max_records: int = 500) -> list[Record]:
        if self.poll_failures:
            self.poll_failures -= 1
            raise BusError("broker unreachable")
        return self.inner.poll(timeout_ms, max_records)

    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        if self.commit_failure is not None:
            failure, self.commit_failure = self.commit_failure, None
            raise failure("refused")
        self.inner.commit(offsets)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.inner.seek(tp, offset)

    def position(self, tp: TopicPartition) -> int:
        return self.inner.position(tp)

    def committed(self, tp: TopicPartition) -> int | None:
        return self.inner.committed(tp)

    def assignment(self) -> set[TopicPartition]:
        return self.inner.assignment()

    def close(self) -> None:
        self.inner.close()


def test_a_refused_commit_is_counted_and_the_loop_goes_on() -> None:
    bus = MemoryBus()
    expected = _produce(bus, messages=8, partitions=1)
    durable: list[tuple[str, int]] = []
    flaky = FlakyConsumer(bus.consumer("g", [TOPIC]), commit_failure=CommitFailedError)
    loop = _loop(flaky, PairSink(durable))
    _run_until_idle(loop)
    assert set(durable) == expected
    assert loop.counters()["commit_failures"] == 1
    assert flaky.committed(TopicPartition(TOPIC, 0)) == 8


def test_poll_errors_are_retried_then_raised_when_persistent() -> None:
    bus = MemoryBus()
    _produce(bus, messages=2, partitions=1)
    durable: list[tuple[str, int]] = []
    loop = _loop(FlakyConsumer(bus.consumer("g", [TOPIC]), poll_failures=2), PairSink(durable),
                 max_bus_errors=3)
    loop._stop.wait = lambda timeout=None: False  # type: ignore[method-assign]  # no real pauses
    assert loop.run_once() == 0 and loop.run_once() == 0
    assert loop.run_once() == 2
    assert loop.counters()["bus_errors"] == 2
    dead = _loop(FlakyConsumer(bus.consumer("g2", [TOPIC]), poll_failures=10), PairSink([]),
                 max_bus_errors=3)
    dead._stop.wait = lambda timeout=None: False  # type: ignore[method-assign]
    with pytest.raises(BusError):
        for _ in range(5):
            dead.run_once()
