"""Test-suite wiring: numba cache location and the shared server fixtures.

Server fixtures (Redis, the Kafka-protocol broker, Mosquitto, Chromium) live in
``tests/fixtures/`` and start real processes on free loopback ports; each cleans up.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("NUMBA_CACHE_DIR", str(REPO / ".numba_cache"))

_PLUGINS = (
    "tests.fixtures.ports",
    "tests.fixtures.redis",
    "tests.fixtures.kafka",
    "tests.fixtures.mqtt",
    "tests.fixtures.browser",
    "tests.fixtures.city",
)
pytest_plugins = [m for m in _PLUGINS if importlib.util.find_spec(m) is not None]
