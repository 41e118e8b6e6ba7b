"""State store: latest values, scores, rolling windows, aggregates, counters, JSON docs.

``factory(settings.state, settings)`` picks the implementation; everything else codes
against :class:`StateStore`.
"""

from streams.state.base import LATEST_COLUMNS, StateError, StateStore, latest_column
from streams.state.factory import factory
from streams.state.memory import MemoryStateStore

__all__ = [
    "LATEST_COLUMNS", "MemoryStateStore", "StateError", "StateStore", "factory", "latest_column",
]
