"""Clocks are injected, never read from ``time`` inside logic.

``SystemClock`` is wall time; ``ScaledClock`` runs stream time ``speed`` times faster
than the wall from a start instant (the simulator's and replay's clock);
``ManualClock`` is for tests.

>>> c = ManualClock(1_000)
>>> c.advance(500); c.now_ms()
1500
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ScaledClock:
    """Stream time = start_ms + (wall elapsed) × speed."""

    def __init__(self, start_ms: int, speed: float = 1.0, wall: Clock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._wall = wall or SystemClock()
        self._wall0 = self._wall.now_ms()
        self.start_ms = start_ms
        self.speed = speed

    def now_ms(self) -> int:
        return self.start_ms + int((self._wall.now_ms() - self._wall0) * self.speed)


class ManualClock:
    def __init__(self, now_ms: int = 0) -> None:
        self._now = now_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, ms: int) -> None:
        self._now += ms

    def set(self, now_ms: int) -> None:
        self._now = now_ms
