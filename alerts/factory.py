"""Build the alert engine of an engine worker from the settings (what ``streams/roles.py`` calls).

Alerts are stored in the same database as dispatch's incidents: ``dispatch_db`` when a
deployment sets it (PostgreSQL for several nodes), else SQLite at
``settings.data_dir / "dispatch.sqlite3"`` — the same rule as
:func:`dashboard.api.dispatch_runtime.database_url`, repeated here so the engine does not
import the web layer (a test keeps both in step).

>>> from pathlib import Path
>>> from config.settings import Settings
>>> database_url(Settings(data_dir=Path("/tmp/x")))
'sqlite:///tmp/x/dispatch.sqlite3'
"""

from __future__ import annotations

from typing import Any

from alerts.config import AlertRules, load_rules
from alerts.engine import AlertEngine
from alerts.lifecycle import AlertService
from alerts.publish import AlertPublisher
from alerts.store import AlertStore, Database
from streams.bus.base import Producer
from streams.clock import Clock, SystemClock
from streams.state import StateStore


def database_url(settings: Any) -> str:
    url = str(getattr(settings, "dispatch_db", "") or "")
    if url:
        return url
    return f"sqlite://{(settings.data_dir / 'dispatch.sqlite3').resolve()}"


def build_alert_engine(settings: Any, city: Any, state: StateStore,
                       producer: Producer | None = None, clock: Clock | None = None,
                       rules: AlertRules | None = None, db_url: str | None = None
                       ) -> AlertEngine:
    """An :class:`AlertEngine` ready to pass as ``EngineStage(after_scoring=[engine])``.

    It writes alerts to the shared database, mirrors active ones into ``state`` as
    ``alert:<id>`` documents and sends every change on the ALERTS topic when a
    ``producer`` is given. ``clock`` stamps operator-free actions; the engine itself
    uses stream time (the readings' timestamps).
    """
    url = db_url or database_url(settings)
    if url.startswith("sqlite://") and ":memory:" not in url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    service = AlertService(AlertStore(Database(url)), clock or SystemClock(), rules or load_rules(),
                           AlertPublisher(state, producer))
    return AlertEngine.for_city(city, service)
