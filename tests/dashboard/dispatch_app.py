"""An in-process web app with dispatch (small city, temporary SQLite, known password)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config.city import load_city
from config.settings import Settings
from dashboard.app import create_app
from dashboard.context import AppContext
from streams.clock import Clock, ManualClock
from streams.state.memory import MemoryStateStore

PASSWORD = "test-pass-123"
ROLES = ("operator", "commander", "leader", "admin")


@contextmanager
def dispatch_app(data_dir: Path, clock: Clock | None = None) -> Iterator[AppContext]:
    settings = Settings(data_dir=data_dir, demo_password=PASSWORD, scale=0.05, seed=7,
                        secret_key="test-secret")
    city = load_city(scale=0.05, seed=7)
    ctx = create_app(settings, MemoryStateStore(), city, clock or ManualClock(1_700_000_000_000))
    try:
        yield ctx
    finally:
        for closer in ctx.closers:
            closer.stop()


def login(client: Any, role: str) -> dict[str, str]:
    """Log ``client`` in as the demo account of ``role``; the CSRF header to send."""
    r = client.post("/api/v1/login", json={"username": role, "password": PASSWORD})
    assert r.status_code == 200, r.json
    return {"X-CSRF-Token": r.json["csrf_token"]}
