"""Factory fixtures: the same behaviour suite runs on every StateStore implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from streams.messages import ReadingBatch, ScoreBatch
from streams.state import MemoryStateStore, StateStore
from streams.state.redis_store import RedisStateStore

T0 = 1_700_000_000_000
WINDOW_S = 100
WINDOW_MAX = 10  # one window point per 10 s


class ManualClock:
    """Epoch-ms clock the test moves by hand (JSON TTLs of the memory store)."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[StateStore]:
    if request.param == "memory":
        st: StateStore = MemoryStateStore(WINDOW_S, clock.now_ms, window_max=WINDOW_MAX)
    else:
        url = request.getfixturevalue("redis_url")
        st = RedisStateStore.from_url(url, ttl_s=600, window_s=WINDOW_S, window_max=WINDOW_MAX)
    yield st
    st.close()


BatchFactory = Callable[..., tuple[ReadingBatch, np.ndarray]]


@pytest.fixture
def make_batch() -> BatchFactory:
    """``make_batch([(dense_idx, value, ts), ...])`` → (batch, idx); ids are ``S-<idx>``."""

    def make(
        rows: list[tuple[int, float, int]], quality: int = 0
    ) -> tuple[ReadingBatch, np.ndarray]:
        batch = ReadingBatch(
            tuple(f"S-{i}" for i, _, _ in rows),
            np.array([v for _, v, _ in rows], np.float64),
            np.array([t for _, _, t in rows], np.int64),
            np.full(len(rows), quality, np.uint8),
        )
        return batch, np.array([i for i, _, _ in rows], np.int64)

    return make


def scores(rows: list[tuple[str, float, int, int]]) -> ScoreBatch:
    """``[(sensor_id, score, fault, ts), ...]``"""
    return ScoreBatch(
        tuple(r[0] for r in rows),
        np.array([r[3] for r in rows], np.int64),
        np.array([r[1] for r in rows], np.float64),
        np.array([r[2] for r in rows], np.int8),
    )
