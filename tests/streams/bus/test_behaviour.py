"""One behaviour suite, two buses: the in-process bus must act like Kafka (here: Tansu)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest

from streams.bus.base import Bus, BusError, Record, TopicPartition, next_positions
from streams.bus.partitioner import partition_for

Names = Callable[[str], str]
Drain = Callable[..., list[Record]]
Joined = Callable[..., set]


def _send(bus: Bus, topic: str, values: list[bytes], partition: int | None = 0) -> None:
    p = bus.producer()
    for v in values:
        p.send(topic, v, partition=partition)
    p.flush()


def test_offsets_count_from_zero_per_partition_in_send_order(
    bus: Bus, new_name: Names, drain_fn: Drain
) -> None:
    topic = new_name("offsets")
    bus.create_topics([topic], partitions=2)
    p = bus.producer()
    for i in range(5):
        p.send(topic, b"a%d" % i, partition=0)
    for i in range(3):
        p.send(topic, b"b%d" % i, partition=1)
    p.flush()
    recs = drain_fn(bus.consumer(new_name("g"), [topic]), 8)
    by_part: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    for r in recs:
        assert r.topic == topic
        by_part[r.partition].append((r.offset, r.value))
    assert by_part[0] == [(i, b"a%d" % i) for i in range(5)]
    assert by_part[1] == [(i, b"b%d" % i) for i in range(3)]


def test_a_key_always_lands_on_its_murmur2_partition(
    bus: Bus, new_name: Names, drain_fn: Drain
) -> None:
    topic = new_name("keys")
    bus.create_topics([topic], partitions=6)
    keys = [b"AIR-%04d" % i for i in range(30)]
    p = bus.producer()
    for _ in range(2):
        for k in keys:
            p.send(topic, b"x", key=k)
    p.flush()
    recs = drain_fn(bus.consumer(new_name("g"), [topic]), 60)
    seen: dict[bytes, set[int]] = defaultdict(set)
    for r in recs:
        assert r.key is not None
        seen[r.key].add(r.partition)
    assert seen == {k: {partition_for(k, 6)} for k in keys}
    assert len({next(iter(s)) for s in seen.values()}) > 1  # keys really spread


def test_resume_after_commit_starts_at_the_committed_position(
    bus: Bus, new_name: Names, drain_fn: Drain
) -> None:
    topic, group = new_name("resume"), new_name("g")
    bus.create_topics([topic], partitions=1)
    _send(bus, topic, [b"%d" % i for i in range(10)])
    tp = TopicPartition(topic, 0)
    first = bus.consumer(group, [topic])
    assert [r.offset for r in drain_fn(first, 10)] == list(range(10))
    assert first.committed(tp) is None
    first.commit({tp: 6})  # processed offsets 0..5
    assert first.committed(tp) == 6
    first.close()
    second = bus.consumer(group, [topic])
    assert [r.value for r in drain_fn(second, 4)] == [b"6", b"7", b"8", b"9"]
    assert second.committed(tp) == 6


def test_commit_without_offsets_stores_the_current_positions(
    bus: Bus, new_name: Names, drain_fn: Drain
) -> None:
    topic, group = new_name("commitall"), new_name("g")
    bus.create_topics([topic], partitions=2)
    _send(bus, topic, [b"a", b"b", b"c"], partition=0)
    _send(bus, topic, [b"d"], partition=1)
    c = bus.consumer(group, [topic])
    recs = drain_fn(c, 4)
    c.commit()
    assert c.committed(TopicPartition(topic, 0)) == 3
    assert c.committed(TopicPartition(topic, 1)) == 1
    assert next_positions(recs) == {TopicPartition(topic, 0): 3, TopicPartition(topic, 1): 1}
    c.close()
    again = bus.consumer(group, [topic])
    _send(bus, topic, [b"new"], partition=1)
    assert [(r.partition, r.offset, r.value) for r in drain_fn(again, 1)] == [(1, 1, b"new")]


def test_seek_rewinds_and_position_follows(bus: Bus, new_name: Names, drain_fn: Drain) -> None:
    topic = new_name("seek")
    bus.create_topics([topic], partitions=1)
    _send(bus, topic, [b"%d" % i for i in range(5)])
    tp = TopicPartition(topic, 0)
    c = bus.consumer(new_name("g"), [topic])
    drain_fn(c, 5)
    assert c.position(tp) == 5
    c.seek(tp, 2)
    assert c.position(tp) == 2
    assert [r.offset for r in drain_fn(c, 3)] == [2, 3, 4]
    assert c.position(tp) == 5


def test_latest_reset_skips_what_was_there_before(
    bus: Bus, new_name: Names, drain_fn: Drain, joined_fn: Joined
) -> None:
    topic = new_name("latest")
    bus.create_topics([topic], partitions=1)
    # One record per produce request: Tansu 0.6.0 (our test broker) answers ListOffsets
    # LATEST with "base offset of the last record batch + 1", not "last offset + 1";
    # with single-record batches both agree. Apache Kafka has no such quirk.
    for v in (b"old1", b"old2", b"old3"):
        _send(bus, topic, [v])
    c = bus.consumer(new_name("g"), [topic], auto_offset_reset="latest")
    tp = TopicPartition(topic, 0)
    assert joined_fn(c) == {tp}
    assert c.position(tp) == 3
    _send(bus, topic, [b"new1", b"new2"])
    assert [(r.offset, r.value) for r in drain_fn(c, 2)] == [(3, b"new1"), (4, b"new2")]


def test_each_group_reads_everything_independently(
    bus: Bus, new_name: Names, drain_fn: Drain
) -> None:
    topic = new_name("groups")
    bus.create_topics([topic], partitions=3)
    p = bus.producer()
    for i in range(9):
        p.send(topic, b"%d" % i, partition=i % 3)
    p.flush()
    a = bus.consumer(new_name("ga"), [topic])
    b = bus.consumer(new_name("gb"), [topic])
    assert sorted(r.value for r in drain_fn(a, 9)) == sorted(b"%d" % i for i in range(9))
    assert sorted(r.value for r in drain_fn(b, 9)) == sorted(b"%d" % i for i in range(9))


def test_poll_honours_max_records(bus: Bus, new_name: Names, drain_fn: Drain) -> None:
    topic = new_name("maxrec")
    bus.create_topics([topic], partitions=1)
    _send(bus, topic, [b"%d" % i for i in range(10)])
    c = bus.consumer(new_name("g"), [topic])
    first = drain_fn(c, 1)  # joins the group; the broker may hand us only part
    got = len(first)
    while got < 10:
        recs = c.poll(timeout_ms=200, max_records=3)
        assert len(recs) <= 3
        got += len(recs)
    assert got == 10


def test_poll_waits_then_wakes_on_a_new_record(
    bus: Bus, new_name: Names, drain_fn: Drain, joined_fn: Joined
) -> None:
    topic = new_name("wake")
    bus.create_topics([topic], partitions=1)
    c = bus.consumer(new_name("g"), [topic])
    joined_fn(c)
    t0 = time.monotonic()
    assert c.poll(timeout_ms=300, max_records=10) == []
    assert time.monotonic() - t0 >= 0.25  # waited (no early empty return)
    threading.Timer(0.2, _send, args=(bus, topic, [b"late"])).start()
    t0 = time.monotonic()
    recs: list[Record] = []
    while not recs and time.monotonic() - t0 < 5:
        recs = c.poll(timeout_ms=5000, max_records=10)
    assert [r.value for r in recs] == [b"late"]
    assert time.monotonic() - t0 < 3.0  # woken by the record, not by the 5 s timeout


def test_members_of_one_group_split_the_partitions(
    bus: Bus, new_name: Names
) -> None:
    topic, group = new_name("share"), new_name("g")
    bus.create_topics([topic], partitions=4)
    a = bus.consumer(group, [topic])
    b = bus.consumer(group, [topic])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # both must poll for the group to settle
        a.poll(timeout_ms=50, max_records=1)
        b.poll(timeout_ms=50, max_records=1)
        sa, sb = a.assignment(), b.assignment()
        if sa and sb and len(sa | sb) == 4:
            break
    sa, sb = a.assignment(), b.assignment()
    assert sa and sb and not (sa & sb)
    assert sa | sb == {TopicPartition(topic, p) for p in range(4)}
    p = bus.producer()
    for i in range(8):
        p.send(topic, b"%d" % i, partition=i % 4)
    p.flush()
    got: dict[str, list[Record]] = {"a": [], "b": []}
    while len(got["a"]) + len(got["b"]) < 8 and time.monotonic() < deadline + 10:
        got["a"] += a.poll(timeout_ms=50, max_records=8)
        got["b"] += b.poll(timeout_ms=50, max_records=8)
    assert {r.tp for r in got["a"]} <= sa and {r.tp for r in got["b"]} <= sb
    assert sorted(r.value for r in got["a"] + got["b"]) == sorted(b"%d" % i for i in range(8))


def test_position_of_a_partition_not_assigned_is_an_error(
    bus: Bus, new_name: Names, joined_fn: Joined
) -> None:
    topic = new_name("notmine")
    bus.create_topics([topic], partitions=1)
    c = bus.consumer(new_name("g"), [topic])
    joined_fn(c)
    with pytest.raises(BusError):
        c.position(TopicPartition(topic + "-other", 0))
    with pytest.raises(BusError):
        c.seek(TopicPartition(topic + "-other", 0), 0)


def test_create_topics_is_idempotent_and_reports_partitions(bus: Bus, new_name: Names) -> None:
    topic = new_name("create")
    bus.create_topics([topic], partitions=3)
    bus.create_topics([topic], partitions=5)  # exists: left as it is
    assert bus.partitions_for(topic) == 3
    with pytest.raises(BusError):
        bus.partitions_for(new_name("missing"))
