"""What only the in-process bus has to prove: retention, threads, rebalances, closing."""

from __future__ import annotations

import threading

import pytest

from streams.bus.base import BusError, CommitFailedError, TopicPartition
from streams.bus.memory import MemoryBus

TP = TopicPartition("t", 0)


def _bus(partitions: int = 1, **kw: int) -> MemoryBus:
    bus = MemoryBus(clock=lambda: 1_000, **kw)  # type: ignore[arg-type]
    bus.create_topics(["t"], partitions)
    return bus


def test_retention_drops_the_oldest_records_beyond_the_record_bound() -> None:
    bus = _bus(retention_records=3)
    p = bus.producer()
    for i in range(10):
        p.send("t", b"%d" % i, partition=0)
    c = bus.consumer("g", ["t"])
    recs = c.poll(timeout_ms=0)
    assert [(r.offset, r.value) for r in recs] == [(7, b"7"), (8, b"8"), (9, b"9")]
    assert bus.dropped == 7
    assert bus.end_offsets([TP]) == {TP: 10}


def test_retention_by_bytes_keeps_memory_bounded_but_always_the_newest_record() -> None:
    bus = _bus(retention_bytes=10_000)
    p = bus.producer()
    for _ in range(100):
        p.send("t", b"x" * 1_000, partition=0)
    kept = bus.consumer("g", ["t"]).poll(timeout_ms=0, max_records=1000)
    assert 1 <= len(kept) <= 10 and kept[-1].offset == 99
    p.send("t", b"y" * 50_000, partition=0)  # larger than the bound alone: still kept
    assert [r.value[:1] for r in bus.consumer("g2", ["t"]).poll(timeout_ms=0)] == [b"y"]


def test_a_consumer_behind_retention_skips_ahead_to_the_oldest_kept_record() -> None:
    bus = _bus(retention_records=2)
    p = bus.producer()
    p.send("t", b"0", partition=0)
    c = bus.consumer("g", ["t"])
    assert [r.offset for r in c.poll(timeout_ms=0)] == [0]
    for i in range(1, 6):
        p.send("t", b"%d" % i, partition=0)
    assert c.position(TP) == 4  # offsets 1..3 are gone
    assert [r.offset for r in c.poll(timeout_ms=0)] == [4, 5]


def test_concurrent_producers_lose_nothing_and_offsets_stay_dense() -> None:
    bus = _bus(partitions=2)

    def produce(k: int) -> None:
        p = bus.producer()
        for i in range(500):
            p.send("t", b"%d-%d" % (k, i), key=b"%d" % (i % 7))

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    recs = bus.consumer("g", ["t"]).poll(timeout_ms=0, max_records=5000)
    assert len({r.value for r in recs}) == 2000
    for part in (0, 1):
        offs = [r.offset for r in recs if r.partition == part]
        assert offs == list(range(len(offs)))


def test_without_key_or_partition_records_go_round_robin() -> None:
    bus = _bus(partitions=3)
    p = bus.producer()
    for _ in range(6):
        p.send("t", b"x")
    recs = bus.consumer("g", ["t"]).poll(timeout_ms=0)
    assert sorted(r.partition for r in recs) == [0, 0, 1, 1, 2, 2]


def test_a_joining_member_takes_partitions_and_resumes_from_the_group_commit() -> None:
    bus = _bus(partitions=2)
    p = bus.producer()
    for part in (0, 1):
        for i in range(3):
            p.send("t", b"%d" % i, partition=part)
    a = bus.consumer("g", ["t"])
    assert len(a.poll(timeout_ms=0, max_records=10)) == 6
    a.commit({TopicPartition("t", 0): 3, TopicPartition("t", 1): 1})  # partition 1: 1 done
    b = bus.consumer("g", ["t"])
    assert a.assignment() | b.assignment() == {TopicPartition("t", 0), TopicPartition("t", 1)}
    assert not a.assignment() & b.assignment()
    (moved,) = b.assignment()
    again = b.poll(timeout_ms=0)
    expected_start = 3 if moved.partition == 0 else 1
    assert [r.offset for r in again] == list(range(expected_start, 3))
    with pytest.raises(CommitFailedError):  # a processed it, but no longer owns it
        a.commit({moved: 3})


def test_leaving_member_hands_its_partitions_back() -> None:
    bus = _bus(partitions=2)
    a, b = bus.consumer("g", ["t"]), bus.consumer("g", ["t"])
    assert len(a.assignment()) == 1
    b.close()
    assert a.assignment() == {TopicPartition("t", 0), TopicPartition("t", 1)}


def test_a_topic_created_later_is_assigned_to_its_subscribers() -> None:
    bus = MemoryBus()
    c = bus.consumer("g", ["later"])
    assert c.assignment() == set()
    bus.create_topics(["later"], 2)
    assert c.assignment() == {TopicPartition("later", 0), TopicPartition("later", 1)}


def test_poll_of_a_closed_bus_or_consumer_raises_bus_error() -> None:
    bus = _bus()
    c = bus.consumer("g", ["t"])
    c.close()
    with pytest.raises(BusError):
        c.poll(timeout_ms=0)
    c2 = bus.consumer("g", ["t"])
    bus.close()
    with pytest.raises(BusError):
        c2.poll(timeout_ms=0)
    with pytest.raises(BusError):
        bus.producer().send("t", b"x", partition=0)


def test_close_wakes_a_blocked_poll() -> None:
    bus = _bus()
    c = bus.consumer("g", ["t"])
    errors: list[BaseException] = []

    def blocked() -> None:
        try:
            c.poll(timeout_ms=10_000)
        except BusError as e:
            errors.append(e)

    th = threading.Thread(target=blocked)
    th.start()
    bus.close()
    th.join(timeout=2)
    assert not th.is_alive() and len(errors) == 1


def test_sending_to_a_missing_topic_or_partition_is_a_bus_error() -> None:
    bus = _bus()
    with pytest.raises(BusError):
        bus.producer().send("nope", b"x")
    with pytest.raises(BusError):
        bus.producer().send("t", b"x", partition=5)
