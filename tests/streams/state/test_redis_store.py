"""What only the Redis store has: key TTLs, key layout, errors as StateError."""

from __future__ import annotations

import time

import pytest
import redis

from streams.state import StateError
from streams.state.redis_store import RedisStateStore
from tests.fixtures.ports import free_port

from .conftest import T0, BatchFactory, scores


@pytest.fixture
def rstore(redis_url: str) -> RedisStateStore:
    return RedisStateStore.from_url(
        redis_url, ttl_s=600, window_s=100, window_max=10, namespace="t"
    )


def test_every_key_gets_a_ttl(rstore: RedisStateStore, make_batch: BatchFactory) -> None:
    rstore.write_readings(*make_batch([(0, 1.0, T0)]))
    rstore.write_scores(scores([("S-0", 0.2, 0, T0)]))
    rstore.put_aggregates("air", {"aqi": 1.0}, T0)
    rstore.incr("n")
    rstore.put_json("doc", {"a": 1})
    keys = sorted(k.decode() for k in rstore.client.keys("t:*"))  # type: ignore[union-attr]
    assert keys == [
        "t:agg:air",
        "t:counters",
        "t:json:doc",
        "t:latest",
        "t:newest",
        "t:score",
        f"t:win:{T0 // 10_000}",
    ]
    for k in keys:
        ttl = rstore.ttl(k)
        assert 0 < ttl <= 600, k
    assert rstore.ttl(f"t:win:{T0 // 10_000}") <= 100 + 2 * 11  # windows live window_s


def test_json_ttl_expires_the_document(rstore: RedisStateStore) -> None:
    rstore.put_json("short", {"a": 1}, ttl_s=0.05)
    rstore.put_json("long", {"a": 2}, ttl_s=30)
    assert 0 < rstore.client.pttl("t:json:short") <= 50  # type: ignore[operator]
    assert 29 <= rstore.ttl("t:json:long") <= 30
    time.sleep(0.12)
    assert rstore.get_json("short") is None and rstore.json_keys() == ["long"]


def test_latest_hash_is_one_field_per_sensor(
    rstore: RedisStateStore, make_batch: BatchFactory
) -> None:
    rstore.write_readings(*make_batch([(i, float(i), T0) for i in range(300)]))
    assert rstore.client.hlen("t:latest") == 300
    assert rstore.client.dbsize() == 3  # latest, newest, one window bucket


def test_namespaces_do_not_mix(redis_url: str, make_batch: BatchFactory) -> None:
    a = RedisStateStore.from_url(redis_url, namespace="a")
    b = RedisStateStore.from_url(redis_url, namespace="b")
    a.write_readings(*make_batch([(0, 1.0, T0)]))
    a.incr("x")
    assert b.latest_all()["value"].size == 0 and b.counters() == {} and b.newest_ts() is None


def test_connection_errors_become_state_error(make_batch: BatchFactory) -> None:
    dead = RedisStateStore.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StateError) as info:
        dead.write_readings(*make_batch([(0, 1.0, T0)]))
    assert isinstance(info.value.__cause__, redis.exceptions.ConnectionError)
    for read in (dead.counters, dead.newest_ts, dead.latest_all, lambda: dead.get_json("k")):
        with pytest.raises(StateError):
            read()


def test_corrupt_document_is_state_error(rstore: RedisStateStore) -> None:
    rstore.client.set("t:json:bad", b"{not json")
    with pytest.raises(StateError):
        rstore.get_json("bad")
