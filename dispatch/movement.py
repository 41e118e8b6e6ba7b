"""Simulated unit movement for the demo: AVL positions along routes, automatic arrivals.

Every step (on the injected clock) the mover

- refreshes the service's live-speed snapshot (so recommendations never rebuild
  routing matrices on the request path);
- turns ``dispatched`` units ``en_route`` once their turnout time has passed, with a
  fastest route at live speeds stored on the assignment (so a restart resumes it);
- moves ``en_route`` and ``returning`` units along their routes, publishing positions
  (state store ``unit:<id>`` and the bus AVL topic);
- marks arrivals: ``en_route → on_scene`` at the incident, ``returning → available``
  at the home station.

Automatic changes are conditional on the status the mover saw, audited as
``system:avl``, and lose quietly to a commander who acted in between.

>>> route = {"lon": [0.0, 1.0, 1.0], "lat": [0.0, 0.0, 2.0], "t": [0.0, 10.0, 30.0]}
>>> position_at(route, 5.0), position_at(route, 20.0), position_at(route, 99.0)
((0.5, 0.0), (1.0, 1.0), (1.0, 2.0))
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np

from dispatch import lifecycle
from dispatch.errors import Conflict
from dispatch.model import UnitRecord
from dispatch.service import DispatchService

log = logging.getLogger(__name__)
ACTOR = "system:avl"


def position_at(route: dict[str, Any], elapsed_s: float) -> tuple[float, float]:
    """lon/lat after ``elapsed_s`` seconds along ``route`` (linear within a segment)."""
    t = route["t"]
    if not t:
        return float("nan"), float("nan")
    lon = float(np.interp(elapsed_s, t, route["lon"]))
    lat = float(np.interp(elapsed_s, t, route["lat"]))
    return lon, lat


class Mover:
    """Background thread calling :meth:`step` every ``period_s`` wall seconds."""

    def __init__(self, service: DispatchService, period_s: float = 0.5) -> None:
        self.service = service
        self.period_s = period_s
        self.positions: dict[str, tuple[float, float]] = {}
        self._routes: dict[tuple[str, int], dict[str, Any]] = {}
        self._published: dict[str, tuple[str, str | None]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ thread
    def start(self) -> None:
        self.service.background_refresh = True
        self._thread = threading.Thread(target=self._run, name="dispatch-mover", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.service.background_refresh = False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # a failed step must not stop positions or speed refreshes
                log.exception("dispatch mover step failed")
            self._stop.wait(self.period_s)

    # ------------------------------------------------------------------ logic
    def step(self) -> None:
        svc = self.service
        svc.refresh_speeds()
        now = svc.clock.now_ms()
        for u in svc.store.units():
            pos: tuple[float, float] | None = None
            try:
                if u.status == "dispatched":
                    self._maybe_leave(u, now)
                elif u.status == "en_route":
                    pos = self._drive(u, now)
                elif u.status == "returning":
                    pos = self._return(u, now)
            except Conflict:
                continue  # someone acted meanwhile; next step sees the new status
            if pos is None:
                self.positions.pop(u.unit_id, None)
                key = (u.status, u.incident_id)
                if self._published.get(u.unit_id) != key:
                    svc.publish_unit(u)
                    self._published[u.unit_id] = key
            else:
                self.positions[u.unit_id] = pos
                svc.publish_unit(u, *pos)
                self._published[u.unit_id] = (u.status, u.incident_id)
        # forget routes of finished legs
        live = {(u.unit_id, u.status_since_ms) for u in svc.store.units()}
        for k in [k for k in self._routes if k not in live]:
            del self._routes[k]

    def _maybe_leave(self, u: UnitRecord, now: int) -> None:
        svc = self.service
        if now - u.status_since_ms < lifecycle.TURNOUT_S.get(u.kind, 80.0) * 1000 or not (
                u.incident_id):
            return
        inc = svc.store.incident(u.incident_id)
        route = svc.route(u.lon, u.lat, inc.lon, inc.lat)
        svc.store.set_unit_status(u.unit_id, "en_route", ACTOR, expect="dispatched", route=route)
        svc.publish_unit(svc.store.unit(u.unit_id))

    def _drive(self, u: UnitRecord, now: int) -> tuple[float, float] | None:
        svc = self.service
        key = (u.unit_id, u.status_since_ms)
        route = self._routes.get(key)
        start = u.status_since_ms
        if route is None:
            a = next((a for a in svc.store.assignments(u.incident_id, active_only=True)
                      if a.unit_id == u.unit_id), None) if u.incident_id else None
            stored, stored_start = svc.store.route_of(a.id) if a else (None, None)
            if stored is None and u.incident_id:
                # a commander set en_route by hand: plan the route now
                inc = svc.store.incident(u.incident_id)
                stored = svc.route(u.lon, u.lat, inc.lon, inc.lat)
            if stored is None:
                return None
            route = self._routes[key] = stored
            start = stored_start or u.status_since_ms
            route["start"] = start
        start = int(route.get("start", u.status_since_ms))
        elapsed = (now - start) / 1000.0
        if elapsed >= route["t"][-1]:
            dest = svc.store.incident(u.incident_id) if u.incident_id else None
            lon, lat = (dest.lon, dest.lat) if dest else (route["lon"][-1], route["lat"][-1])
            done = svc.store.set_unit_status(u.unit_id, "on_scene", ACTOR, expect="en_route",
                                             lon=lon, lat=lat)
            if dest is not None:
                svc.publish_incident(svc.store.incident(dest.id))
            svc.publish_unit(done)
            return None
        return position_at(route, elapsed)

    def _return(self, u: UnitRecord, now: int) -> tuple[float, float] | None:
        svc = self.service
        station = svc.stations.get(u.station_id)
        if station is None:
            return None
        key = (u.unit_id, u.status_since_ms)
        route = self._routes.get(key)
        if route is None:
            lon, lat = self.positions.get(u.unit_id, (u.lon, u.lat))
            route = self._routes[key] = svc.route(lon, lat, station.lon, station.lat)
        elapsed = (now - u.status_since_ms) / 1000.0
        if not route["t"] or elapsed >= route["t"][-1]:
            done = svc.store.set_unit_status(u.unit_id, "available", ACTOR, expect="returning",
                                             lon=station.lon, lat=station.lat)
            svc.publish_unit(done)
            return None
        return position_at(route, elapsed)
