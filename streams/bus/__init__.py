"""The bus: Kafka-shaped topics, producers and consumer groups.

``streams.bus.base`` holds the contract; ``streams.bus.memory`` the in-process
implementation (embedded default); ``streams.bus.kafka`` the kafka-python one (imported
only when used, so the embedded mode never loads a Kafka client).
"""

from streams.bus.base import (
    Bus,
    BusError,
    CommitFailedError,
    Consumer,
    Producer,
    Record,
    TopicPartition,
    next_positions,
)
from streams.bus.memory import MemoryBus
from streams.bus.partitioner import murmur2, partition_for

__all__ = [
    "Bus",
    "BusError",
    "CommitFailedError",
    "Consumer",
    "MemoryBus",
    "Producer",
    "Record",
    "TopicPartition",
    "murmur2",
    "next_positions",
    "partition_for",
]
