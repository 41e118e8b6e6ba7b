"""murmur2 must equal Kafka's, or embedded and Kafka would place sensors differently."""

from __future__ import annotations

import random

import pytest

from streams.bus.partitioner import murmur2, partition_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [  # vectors of Apache Kafka's own UtilsTest.testMurmur2
        ("21", -973932308),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ("abc", 479470107),
    ],
)
def test_murmur2_matches_kafkas_reference_vectors(text: str, expected: int) -> None:
    assert murmur2(text.encode()) == expected


def test_partition_for_matches_kafka_pythons_default_partitioner() -> None:
    from kafka.partitioner.default import murmur2 as kafka_murmur2

    rng = random.Random(7)
    for n in range(0, 33):
        data = bytes(rng.randrange(256) for _ in range(n))
        for parts in (1, 3, 6, 7):
            assert partition_for(data, parts) == (kafka_murmur2(data) & 0x7FFFFFFF) % parts


def test_partition_for_rejects_zero_partitions() -> None:
    with pytest.raises(ValueError):
        partition_for(b"x", 0)
