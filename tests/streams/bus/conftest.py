"""Fixtures of the bus behaviour suite: the same tests run on every implementation."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from streams.bus.base import Bus, Consumer, Record
from streams.bus.kafka import KafkaOptions
from streams.bus.memory import MemoryBus

#: Short group timeouts: a test consumer joins its group in about a second on Tansu.
TEST_KAFKA_OPTIONS = KafkaOptions(
    client_id="citycc-test",
    session_timeout_ms=2000,
    heartbeat_interval_ms=300,
    max_poll_interval_ms=2000,
    request_timeout_ms=10_000,
    linger_ms=1,
)


@pytest.fixture(params=["memory", "kafka"])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    impl: Bus
    if request.param == "memory":
        impl = MemoryBus()
    else:
        from streams.bus.kafka import KafkaBus

        impl = KafkaBus(request.getfixturevalue("kafka_broker"), TEST_KAFKA_OPTIONS)
    try:
        yield impl
    finally:
        impl.close()


@pytest.fixture
def new_name() -> Callable[[str], str]:
    """Unique topic / group names: the broker lives for the whole session."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:10]}"


def drain(consumer: Consumer, n: int, timeout_s: float = 15.0) -> list[Record]:
    """Poll until ``n`` records arrived (fails the test on timeout)."""
    out: list[Record] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < n:
        if time.monotonic() > deadline:
            raise AssertionError(f"got {len(out)} of {n} records in {timeout_s}s")
        out.extend(consumer.poll(timeout_ms=100, max_records=n - len(out)))
    return out


def joined(consumer: Consumer, timeout_s: float = 15.0) -> set:
    """Poll (with nothing expected) until the group assigned partitions to ``consumer``."""
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise AssertionError(f"no assignment after {timeout_s}s")
        assert consumer.poll(timeout_ms=100, max_records=1) == []
    return consumer.assignment()


@pytest.fixture
def drain_fn() -> Callable[..., list[Record]]:
    return drain


@pytest.fixture
def joined_fn() -> Callable[..., set]:
    return joined
