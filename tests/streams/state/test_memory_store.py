"""What only the memory store promises: order by event time, thread safety, clocked TTL."""

from __future__ import annotations

import threading

import numpy as np

from config.settings import Settings
from streams.state import MemoryStateStore, factory
from streams.state.redis_store import RedisStateStore

from .conftest import T0, BatchFactory, ManualClock, scores


def test_older_reading_does_not_replace_latest(make_batch: BatchFactory) -> None:
    st = MemoryStateStore(window_s=100)
    st.write_readings(*make_batch([(0, 2.0, T0 + 10)]))
    st.write_readings(*make_batch([(0, 1.0, T0)]))
    assert st.latest(["S-0"])["value"].tolist() == [2.0]
    st.write_scores(scores([("S-0", 0.9, 1, T0 + 10), ("S-0", 0.1, 0, T0)]))
    assert st.latest(["S-0"])["score"].tolist() == [0.9]


def test_newest_row_wins_inside_one_batch(make_batch: BatchFactory) -> None:
    st = MemoryStateStore(window_s=100, window_max=10)
    st.write_readings(*make_batch([(0, 3.0, T0 + 30_000), (0, 1.0, T0), (0, 2.0, T0 + 20_000)]))
    assert st.latest(["S-0"])["value"].tolist() == [3.0]
    assert st.window("S-0")[1].tolist() == [1.0, 2.0, 3.0]  # three steps, time order


def test_json_ttl_follows_the_injected_clock(clock: ManualClock) -> None:
    st = MemoryStateStore(window_s=100, clock=clock.now_ms)
    st.put_json("a", 1, ttl_s=5)
    st.put_json("b", 2)
    clock.now += 4_999
    assert st.get_json("a") == 1
    clock.now += 1
    assert st.get_json("a") is None and st.json_keys() == ["b"]


def test_grows_beyond_initial_capacity(make_batch: BatchFactory) -> None:
    st = MemoryStateStore(window_s=100, capacity=2)
    st.write_readings(*make_batch([(0, 1.0, T0)]))
    st.write_readings(*make_batch([(4000, 2.0, T0)]))
    assert st.latest(["S-0", "S-4000"])["value"].tolist() == [1.0, 2.0]
    assert len(st.latest_all()["value"]) == 4001


def test_concurrent_writers_and_readers(make_batch: BatchFactory) -> None:
    st = MemoryStateStore(window_s=100)
    batch, idx = make_batch([(i, float(i), T0) for i in range(500)])
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for k in range(200):
                st.write_readings(batch, idx)
                st.incr("n")
                st.put_json(f"k{k % 5}", {"k": k})
        except BaseException as e:  # noqa: BLE001 - surfaced by the assert below
            errors.append(e)

    def read() -> None:
        try:
            for _ in range(200):
                snap = st.latest_all()
                assert len(snap["value"]) in (0, 500)
                st.window("S-1")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=f) for f in (write, write, read, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and st.counters()["n"] == 400


def test_memory_and_redis_agree(redis_url: str, make_batch: BatchFactory) -> None:
    rng = np.random.default_rng(11)
    mem = MemoryStateStore(window_s=100, window_max=10)
    red = RedisStateStore.from_url(redis_url, window_s=100, window_max=10)
    for k in range(0, 200, 3):
        rows = [(int(i), float(rng.normal()), T0 + k * 1000) for i in rng.choice(50, 20, False)]
        for st in (mem, red):
            st.write_readings(*make_batch(rows))
    a, b = mem.latest_all(), red.latest_all()
    for col in a:
        np.testing.assert_array_equal(a[col], b[col])
    for sid in ("S-0", "S-7", "S-49"):
        np.testing.assert_array_equal(mem.window(sid)[0], red.window(sid)[0])
        np.testing.assert_array_equal(mem.window(sid)[1], red.window(sid)[1])
    assert mem.newest_ts() == red.newest_ts()


def test_factory_picks_by_scheme(redis_url: str) -> None:
    s = Settings(window_s=600, state_ttl_s=60)
    mem = factory("memory://", s)
    assert isinstance(mem, MemoryStateStore) and mem.window_s == 600
    red = factory(redis_url, s)
    assert isinstance(red, RedisStateStore) and red.ttl_s == 60 and red.window_s == 600
    try:
        factory("mongodb://x", s)
    except ValueError as e:
        assert "unknown state URL" in str(e)
    else:
        raise AssertionError("unknown scheme accepted")
