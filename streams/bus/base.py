"""The bus contract: a small, Kafka-shaped interface with two implementations.

:class:`~streams.bus.memory.MemoryBus` (in-process, the embedded default) and
:class:`~streams.bus.kafka.KafkaBus` (kafka-python against Apache Kafka or any broker
speaking its protocol) both implement :class:`Bus`. Code above the bus sees only
:class:`Record`, :class:`TopicPartition` and the three exceptions below, never a
kafka-python type: the Kafka module turns the outside world's errors into these
(``raise BusError(...) from e``).

Offsets follow Kafka's convention everywhere: a partition's records are numbered
0, 1, 2, ...; a consumer's *position* is the offset of the next record it will
receive; a *committed* offset is the position to resume from, i.e. the last
processed offset + 1.

>>> tp = TopicPartition("citycc.readings.air", 3)
>>> Record(tp.topic, tp.partition, 41, None, b"...", 0).offset + 1   # what to commit
42
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

OffsetReset = Literal["earliest", "latest"]


class BusError(Exception):
    """The bus (broker, network, or a misuse of the consumer) failed an operation."""


class CommitFailedError(BusError):
    """A commit was refused because the group rebalanced; the records will be re-delivered.

    Under at-least-once this is not data loss: the partition's new owner starts from the
    last successful commit. The consumer loop counts it and carries on.
    """


class TopicPartition(NamedTuple):
    """One partition of one topic (hashable; a dict key for offsets)."""

    topic: str
    partition: int


@dataclass(frozen=True, slots=True)
class Record:
    """One message read from the bus."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    #: producer (create) time, epoch milliseconds
    timestamp_ms: int

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


class Producer(ABC):
    """Sends messages; ``flush()`` returns only once every message sent so far is stored.

    ``send`` may buffer. A failure to store a message surfaces at the latest in the next
    ``flush()`` as :class:`BusError`, so "flush returned" means "durable on the bus".
    """

    @abstractmethod
    def send(
        self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None
    ) -> None:
        """Queue one message. ``partition`` wins over ``key``; a key picks the partition
        with Kafka's murmur2 hash; with neither, partitions are used round-robin."""

    @abstractmethod
    def flush(self) -> None:
        """Block until every message sent so far is stored (or raise :class:`BusError`)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release resources."""
        self.flush()


class Consumer(ABC):
    """A member of a consumer group, reading the partitions the group assigns it.

    Not thread-safe (like Kafka's consumer): one thread polls, processes and commits.
    """

    @abstractmethod
    def poll(self, timeout_ms: int = 100, max_records: int = 500) -> list[Record]:
        """Up to ``max_records`` records after the current positions; waits up to
        ``timeout_ms`` when nothing is there yet (an empty list then)."""

    @abstractmethod
    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        """Store the group's resume positions (last processed + 1).

        ``None`` commits the current positions of every assigned partition, i.e. all
        records returned by ``poll`` so far count as processed. Raises
        :class:`CommitFailedError` when the group rebalanced meanwhile.
        """

    @abstractmethod
    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Make ``offset`` the next record returned for ``tp`` (must be assigned)."""

    @abstractmethod
    def position(self, tp: TopicPartition) -> int:
        """Offset of the next record ``poll`` returns for ``tp`` (must be assigned)."""

    @abstractmethod
    def committed(self, tp: TopicPartition) -> int | None:
        """The group's committed position for ``tp``, ``None`` if never committed."""

    @abstractmethod
    def assignment(self) -> set[TopicPartition]:
        """Partitions currently assigned to this member (may change at each poll)."""

    @abstractmethod
    def close(self) -> None:
        """Leave the group (without committing); the partitions go to other members."""


class Bus(ABC):
    """Factory of producers and consumers over one set of topics."""

    @abstractmethod
    def create_topics(self, names: Iterable[str], partitions: int) -> None:
        """Create the topics that do not exist yet (existing ones are left as they are)."""

    @abstractmethod
    def partitions_for(self, topic: str) -> int:
        """Number of partitions of an existing topic (raises :class:`BusError` if unknown)."""

    @abstractmethod
    def producer(self) -> Producer:
        """A new producer (thread-safe: several threads may share it)."""

    @abstractmethod
    def consumer(
        self,
        group_id: str,
        topics: Sequence[str],
        auto_offset_reset: OffsetReset = "earliest",
    ) -> Consumer:
        """A new member of ``group_id`` subscribed to ``topics``.

        Partitions without a committed position start at the oldest retained record
        (``"earliest"``) or at the end (``"latest"``).
        """

    @abstractmethod
    def close(self) -> None:
        """Release the bus (producers and consumers it created should be closed first)."""


def next_positions(records: Iterable[Record]) -> dict[TopicPartition, int]:
    """The positions to commit after processing ``records``: max offset + 1 per partition.

    >>> recs = [Record("t", 0, 4, None, b"", 0), Record("t", 0, 5, None, b"", 0),
    ...         Record("t", 1, 9, None, b"", 0)]
    >>> next_positions(recs)
    {TopicPartition(topic='t', partition=0): 6, TopicPartition(topic='t', partition=1): 10}
    """
    out: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        if r.offset + 1 > out.get(tp, -1):
            out[tp] = r.offset + 1
    return out
