"""The dispatch objects of one web process: store, service, mover (built once per app).

``runtime_for(ctx)`` builds them on first use (whichever of the API and the page
registers first) and keeps them in ``ctx.server.extensions``; ``ctx.closers`` stops
the mover and closes the database when the server stops.

The store is embedded SQLite at ``settings.data_dir / "dispatch.sqlite3"`` unless a
``dispatch_db`` setting (``postgresql://…``) names a shared PostgreSQL for several
web processes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dashboard.context import AppContext
from dispatch.auth import ensure_demo_accounts
from dispatch.db import Database
from dispatch.movement import Mover
from dispatch.service import DispatchService
from dispatch.store import DispatchStore

log = logging.getLogger(__name__)
_KEY = "citycc_dispatch"


@dataclass
class DispatchRuntime:
    service: DispatchService
    mover: Mover
    bus: Any = None

    @property
    def store(self) -> DispatchStore:
        return self.service.store

    def stop(self) -> None:
        self.mover.stop()
        if self.service.producer is not None:
            self.service.producer.flush()
        if self.bus is not None:
            self.bus.close()
        self.service.store.close()


def database_url(settings: Any) -> str:
    url = str(getattr(settings, "dispatch_db", "") or "")
    if url:
        return url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite://{(settings.data_dir / 'dispatch.sqlite3').resolve()}"


def _bus(ctx: AppContext) -> tuple[Any, Any]:
    """(bus we opened or None, producer or None) for AVL positions."""
    shared = getattr(ctx, "bus", None)
    if shared is not None:
        return None, shared.producer()
    if ctx.settings.bus.startswith("kafka://"):
        from streams.runtime import build_bus

        bus = build_bus(ctx.settings)
        return bus, bus.producer()
    return None, None


def runtime_for(ctx: AppContext) -> DispatchRuntime:
    rt = ctx.server.extensions.get(_KEY)
    if rt is not None:
        return rt  # type: ignore[no-any-return]
    store = DispatchStore(Database(database_url(ctx.settings)), ctx.clock)
    bus, producer = _bus(ctx)
    service = DispatchService(ctx.city, store, ctx.state, ctx.clock, producer)
    password = ensure_demo_accounts(store, ctx.settings.demo_password)
    if not ctx.settings.demo_password:
        log.warning("demo accounts operator / commander / leader / admin — generated password: "
                    "%s (set CITYCC_DEMO_PASSWORD to choose one)", password)
    for u in store.units():
        service.publish_unit(u)
    for inc in store.incidents():
        if inc.state in ("new", "dispatched", "on_scene"):
            service.publish_incident(inc)
    mover = Mover(service)
    mover.start()
    rt = DispatchRuntime(service, mover, bus)
    ctx.server.extensions[_KEY] = rt
    ctx.closers.append(rt)
    return rt


def register(ctx: AppContext) -> None:
    runtime_for(ctx)
