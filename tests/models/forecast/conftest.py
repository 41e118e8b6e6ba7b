"""Factories for synthetic sensor series (seeded, small, fast)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

HOUR_MS = 3_600_000
T0_MS = 1_700_006_400_000  # a whole hour (and day) in epoch ms


@pytest.fixture
def seasonal_series() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Hourly ``level + amp * sin(2 pi t / 24) + N(0, noise)``: returns ``(ts_ms, values)``."""

    def make(n: int = 24 * 21, level: float = 10.0, amp: float = 3.0, noise: float = 0.2,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(n)
        rng = np.random.default_rng(seed)
        y = level + amp * np.sin(2 * np.pi * t / 24) + rng.normal(0.0, noise, n)
        return T0_MS + t.astype(np.int64) * HOUR_MS, y

    return make
