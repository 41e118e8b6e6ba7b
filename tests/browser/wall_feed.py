"""A source the browser tests control: plausible readings + scores written into a state store.

Stands in for simulator → bus → engine so a test can pause the data (stale banner) and
resume it, and so values change every period (live updates). Seeded; the time base is
the wall clock because the browser measures ages against it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from streams.messages import ReadingBatch, ScoreBatch
from streams.state import StateStore

# (low, high) of the plausible band per metric; speed is a share of free-flow speed
BANDS = {
    "speed": (0.25, 1.1), "flow": (200.0, 1800.0), "occ": (5.0, 45.0),
    "pm25": (10.0, 110.0), "pm10": (25.0, 160.0), "so2": (4.0, 25.0), "no2": (15.0, 90.0),
    "co": (0.4, 1.6), "o3": (40.0, 170.0), "pressure": (0.12, 0.45), "chlorine": (0.2, 0.9),
    "turbidity": (0.1, 1.2), "tank_level": (3.0, 8.0), "level": (30.0, 70.0),
    "temperature": (15.0, 35.0), "lel": (0.0, 40.0), "toxic": (0.0, 9.0),
}


class WallFeed:
    """Writes one reading + score per sensor every ``period_s`` until paused or stopped."""

    def __init__(self, state: StateStore, city: Any, period_s: float = 0.5, seed: int = 7,
                 share: float = 1.0) -> None:
        reg = city.registry
        self.state = state
        self.period_s = period_s
        self.ids = reg.ids
        self.idx = np.arange(len(reg), dtype=np.int64)
        rng = np.random.default_rng(seed)
        lo = np.array([BANDS.get(s.metric, (s.lo, s.hi))[0] for s in reg.sensors])
        hi = np.array([BANDS.get(s.metric, (s.lo, s.hi))[1] for s in reg.sensors])
        free = np.array([float(s.meta.get("free_speed_kmh", 1.0)) for s in reg.sensors])
        is_speed = np.array([s.metric == "speed" for s in reg.sensors])
        self.lo = np.where(is_speed, lo * free, lo)
        self.hi = np.where(is_speed, hi * free, hi)
        self.phase = rng.uniform(0, 2 * np.pi, len(reg))
        self.base = rng.beta(2.0, 2.5, len(reg))
        self.hot = rng.uniform(0, 1, len(reg)) ** 12  # a few sensors score high
        self.share = share
        self.rng = rng
        self.ticks = 0
        self.last_ts = 0
        self._run = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self, now_ms: int) -> None:
        """Write one round of readings and scores stamped ``now_ms``."""
        self.ticks += 1
        wobble = 0.18 * np.sin(self.phase + self.ticks * 0.7)
        frac = np.clip(self.base + wobble, 0.0, 1.0)
        values = self.lo + (self.hi - self.lo) * frac
        take = self.idx if self.share >= 1 else np.flatnonzero(
            self.rng.uniform(0, 1, len(self.idx)) < self.share)
        ts = np.full(len(take), now_ms, np.int64)
        ids = tuple(self.ids[int(i)] for i in take)
        self.state.write_readings(ReadingBatch(ids, values[take], ts), take)
        score = np.clip(self.hot[take] + 0.1 * np.abs(wobble[take]), 0.0, 1.0)
        self.state.write_scores(ScoreBatch(ids, ts, score, np.zeros(len(take), np.int8)))
        self.state.incr("scored", len(take))
        self.last_ts = now_ms

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._run.is_set():
                self.step(time.time_ns() // 1_000_000)
            self._stop.wait(self.period_s)

    def start(self) -> None:
        self._run.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="wall-feed", daemon=True)
            self._thread.start()

    def pause(self) -> None:
        self._run.clear()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
