"""What every page and API module receives when the web app is assembled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dash import Dash
from flask import Flask
from flask_socketio import SocketIO

from config.settings import Settings
from streams.clock import Clock
from streams.state import StateStore


@dataclass
class AppContext:
    """Live objects of the web process, passed to ``register(ctx)`` of each page/API module.

    ``city`` is the :class:`config.city.city.City` (registry, geometry, stations, units).
    ``counters`` holds the web process's own counters (e.g. ``pushed``), added to /healthz.
    """

    settings: Settings
    state: StateStore
    city: Any
    clock: Clock
    server: Flask
    dash: Dash
    socketio: SocketIO
    #: the bus of an embedded process (None in a web-only process)
    bus: Any = None
    counters: dict[str, int] = field(default_factory=lambda: {"pushed": 0})
    #: objects that need stopping when the server stops (push loops, stores)
    closers: list[Any] = field(default_factory=list)
