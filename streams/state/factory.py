"""Choose the state store from its URL: ``memory://`` (embedded) or ``redis://host:port/db``.

>>> from config.settings import Settings
>>> type(factory("memory://", Settings())).__name__
'MemoryStateStore'
"""

from __future__ import annotations

from collections.abc import Callable

from config.settings import Settings
from streams.state.base import StateStore
from streams.state.memory import MemoryStateStore


def factory(url: str, settings: Settings, clock: Callable[[], int] | None = None) -> StateStore:
    """A state store for ``url``, sized by ``settings`` (window_s, state_ttl_s).

    ``clock`` (epoch ms) serves the memory store's JSON TTLs; Redis keeps its own time.
    """
    if url.startswith("memory://"):
        return MemoryStateStore(window_s=settings.window_s, clock=clock)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from streams.state.redis_store import RedisStateStore

        return RedisStateStore.from_url(
            url, ttl_s=settings.state_ttl_s, window_s=settings.window_s
        )
    raise ValueError(f"unknown state URL {url!r}: use memory:// or redis://host:port/db")
