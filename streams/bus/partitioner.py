"""Kafka's default key → partition mapping (murmur2), so every bus places keys alike.

Kafka's Java client (and kafka-python) map a key to ``toPositive(murmur2(key)) % n``
with MurmurHash2 (Austin Appleby), seed ``0x9747b28c``. The in-process bus and the
publisher use the same function, so a sensor lands on the same partition number
whether the pipeline runs embedded or against a broker.

>>> partition_for(b"AIR-0001", 6) == partition_for(b"AIR-0001", 6)
True
>>> murmur2(b"")
275646681
"""

from __future__ import annotations

_M = 0x5BD1E995
_SEED = 0x9747B28C
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """32-bit MurmurHash2 of ``data`` as Kafka computes it (a signed Java int)."""
    n = len(data)
    h = (_SEED ^ n) & _MASK
    body = n - n % 4
    for i in range(0, body, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = n % 4
    if tail == 3:
        h ^= data[body + 2] << 16
    if tail >= 2:
        h ^= data[body + 1] << 8
    if tail >= 1:
        h ^= data[body]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_for(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` among ``partitions``."""
    if partitions <= 0:
        raise ValueError("a topic has at least one partition")
    return (murmur2(key) & 0x7FFFFFFF) % partitions
