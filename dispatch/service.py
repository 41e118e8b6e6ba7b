"""What the REST API and the console call: dispatch actions over store, routing and coverage.

One object per web process. Reads go to the durable store (so several web processes
behind a load balancer agree); routing matrices are rebuilt only when the live
speeds change (every few seconds); snapshots for the wall are written to the state
store as ``incident:<id>`` / ``unit:<id>`` plain JSON.

>>> from config.city import load_city
>>> from dispatch.db import Database
>>> from dispatch.store import DispatchStore
>>> from streams.clock import ManualClock
>>> from streams.state.memory import MemoryStateStore
>>> city = load_city(scale=0.05, seed=7)
>>> clock = ManualClock(0)
>>> svc = DispatchService(city, DispatchStore(Database("sqlite://:memory:"), clock),
...                       MemoryStateStore(), clock)
>>> inc = svc.create_incident({"type": "medical", "lon": 119.30, "lat": 26.08, "priority": 2},
...                           "operator")
>>> rec = svc.recommendations(inc.id)
>>> rec["candidates"][0]["kind"], rec["candidates"][0]["in_plan"]
('ambulance', True)
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from config.city.geo import haversine_m, to_xy
from dispatch import lifecycle
from dispatch.coverage import coverage_of
from dispatch.errors import Conflict, Invalid
from dispatch.model import (
    ACTIVE_INCIDENT_STATES,
    COMMITTED,
    Assignment,
    Incident,
    Plans,
    UnitRecord,
    load_plans,
)
from dispatch.recommend import UnitInput, rank
from dispatch.routing import graph_of
from dispatch.speeds import LiveSpeeds
from dispatch.store import DispatchStore
from dispatch.validation import incident_fields
from streams.bus.base import BusError, Producer
from streams.clock import Clock
from streams.state import StateStore
from streams.state.base import StateError
from streams.topics import AVL

log = logging.getLogger(__name__)

#: speed off the graph (from a point to its nearest road node), m/s (~20 km/h)
ACCESS_SPEED_MS = 5.5
#: unit snapshots for the wall expire unless refreshed (a dead web process leaves no ghosts)
SNAPSHOT_TTL_S = 6 * 3600.0


class DispatchService:
    def __init__(self, city: Any, store: DispatchStore, state: StateStore, clock: Clock,
                 producer: Producer | None = None, plans: Plans | None = None) -> None:
        self.city = city
        self.store = store
        self.state = state
        self.clock = clock
        self.producer = producer
        self.plans = plans or load_plans()
        self.graph = graph_of(city.roads)
        self.speeds = LiveSpeeds(city, state, clock)
        self.free_speed = np.asarray(city.roads.free_speed_kmh, np.float64)
        fwd, _ = self.graph.matrices(self.free_speed)
        self.coverage, self.station_row = coverage_of(
            city, lambda nodes: self.graph.times_from(nodes, fwd))
        self.stations = {s.station_id: s for s in city.stations}
        b = city.geo.city.bounds
        self.bbox = (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        x, y = to_xy(city.roads.node_lon, city.roads.node_lat)
        self._kd = cKDTree(np.column_stack([x, y]))
        self._station_access = {s.station_id: self.access_s(s.lon, s.lat, s.road_node)
                                for s in city.stations}
        self._mat_lock = threading.Lock()
        self._mat: tuple[int, sp.csr_matrix, sp.csr_matrix] | None = None
        self._pub_lock = threading.Lock()
        store.ensure_units(
            (u.unit_id, u.kind, u.station_id, u.capabilities,
             self.stations[u.station_id].lon, self.stations[u.station_id].lat)
            for u in city.units)

    # ------------------------------------------------------------------ routing
    def nearest_node(self, lon: float, lat: float) -> int:
        qx, qy = to_xy(np.array([lon]), np.array([lat]))
        _, idx = self._kd.query(np.column_stack([qx, qy]))
        return int(np.asarray(idx).ravel()[0])

    def matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Forward and reverse travel-time matrices at the current live speeds."""
        speeds = self.speeds.current()
        with self._mat_lock:
            if self._mat is None or self._mat[0] != self.speeds.version:
                fwd, rev = self.graph.matrices(speeds)
                self._mat = (self.speeds.version, fwd, rev)
            return self._mat[1], self._mat[2]

    def access_s(self, lon: float, lat: float, node: int) -> float:
        """Seconds between a point and a road node (straight line at ``ACCESS_SPEED_MS``)."""
        roads = self.city.roads
        d = haversine_m(np.array([lon]), np.array([lat]), roads.node_lon[[node]],
                        roads.node_lat[[node]])
        return float(d[0]) / ACCESS_SPEED_MS

    def route(self, lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
        """Fastest path at live speeds as plain data (nodes, lon/lat, cumulative seconds),
        from a point to a point: access legs to and from the nearest road nodes included."""
        a, b = self.nearest_node(lon0, lat0), self.nearest_node(lon1, lat1)
        fwd, _ = self.matrices()
        nodes, t = self.graph.path(a, b, fwd)
        roads = self.city.roads
        if not nodes:  # unreachable on the graph (not on a strongly connected city): go direct
            d = float(haversine_m(np.array([lon0]), np.array([lat0]), np.array([lon1]),
                                  np.array([lat1]))[0])
            return {"nodes": [], "t": [0.0, d / ACCESS_SPEED_MS], "lon": [lon0, lon1],
                    "lat": [lat0, lat1]}
        t0 = self.access_s(lon0, lat0, a)
        times = [t0 + x for x in t]
        return {"nodes": nodes,
                "t": [0.0, *times, times[-1] + self.access_s(lon1, lat1, b)],
                "lon": [lon0, *(float(roads.node_lon[n]) for n in nodes), lon1],
                "lat": [lat0, *(float(roads.node_lat[n]) for n in nodes), lat1]}

    # ------------------------------------------------------------------ incidents
    def create_incident(self, body: Any, actor: str) -> Incident:
        fields = incident_fields(body, self.plans.codes, self.bbox)
        fields["district"] = str(self.city.geo.district_of(
            np.array([fields["lon"]]), np.array([fields["lat"]]))[0])
        inc = self.store.create_incident(fields, actor)
        self.publish_incident(inc)
        return inc

    def _times_to(self, inc: Incident) -> npt.NDArray[np.float64]:
        """Seconds from every road node to the incident's location (graph + access leg)."""
        _, rev = self.matrices()
        node = self.nearest_node(inc.lon, inc.lat)
        return self.graph.times_to(node, self.free_speed, rev) + self.access_s(inc.lon, inc.lat,
                                                                                node)

    def recommendations(self, incident_id: str, limit: int = 30) -> dict[str, Any]:
        inc = self.store.incident(incident_id)
        if inc.state not in ACTIVE_INCIDENT_STATES:
            raise Conflict(f"incident {incident_id} is {inc.state}")
        times = self._times_to(inc)
        units = self.store.units()
        available = [u for u in units if u.status == "available"]
        committed = [u.capabilities for u in units
                     if u.incident_id == incident_id and u.status in COMMITTED]
        reqs = self.plans.plan(inc.type, inc.level)
        inputs = [UnitInput(u.unit_id, u.kind, u.station_id, u.capabilities,
                            self.stations[u.station_id].road_node,
                            self._station_access[u.station_id]) for u in available
                  if u.station_id in self.stations]
        cands = rank(inputs, times, reqs, committed, limit)
        impacts = self._impacts(available, {c.kind for c in cands})
        out = []
        for c in cands:
            row = self.station_row[c.station_id]
            d = c.as_json()
            d["coverage_impact"] = impacts[c.kind].get(row, {})
            out.append(d)
        need = {r.capability: r.count for r in reqs}
        from dispatch.recommend import outstanding

        return {"incident_id": incident_id, "plan": need,
                "outstanding": outstanding(reqs, committed), "candidates": out,
                "speeds_version": self.speeds.version}

    def _impacts(self, available: list[UnitRecord], kinds: set[str]
                 ) -> dict[str, dict[int, dict[str, Any]]]:
        out = {}
        for kind in kinds:
            counts: dict[int, int] = {}
            for u in available:
                if u.kind == kind and u.station_id in self.station_row:
                    r = self.station_row[u.station_id]
                    counts[r] = counts.get(r, 0) + 1
            out[kind] = self.coverage.impacts(kind, counts)
        return out

    def assign(self, incident_id: str, unit_id: str, actor: str) -> Assignment:
        unit = self.store.unit(unit_id)
        inc = self.store.incident(incident_id)
        station = self.stations.get(unit.station_id)
        eta = 0.0
        if station is not None:
            eta = (float(self._times_to(inc)[station.road_node])
                   + self._station_access[station.station_id]
                   + lifecycle.TURNOUT_S.get(unit.kind, 80.0))
        a = self.store.assign(incident_id, unit_id, actor, eta if np.isfinite(eta) else 0.0)
        self.publish_incident(self.store.incident(incident_id))
        self.publish_unit(self.store.unit(unit_id))
        return a

    def set_unit_status(self, unit_id: str, status: str, actor: str) -> UnitRecord:
        if status not in lifecycle.UNIT_TRANSITIONS:
            raise Invalid("status", f"must be one of {', '.join(lifecycle.UNIT_TRANSITIONS)}")
        before = self.store.unit(unit_id)
        kwargs: dict[str, Any] = {}
        if status == "on_scene" and before.incident_id:
            inc = self.store.incident(before.incident_id)
            kwargs = {"lon": inc.lon, "lat": inc.lat}
        elif status == "available" and before.station_id in self.stations:
            st = self.stations[before.station_id]
            kwargs = {"lon": st.lon, "lat": st.lat}
        u = self.store.set_unit_status(unit_id, status, actor, **kwargs)
        if before.incident_id:
            self.publish_incident(self.store.incident(before.incident_id))
        self.publish_unit(u)
        return u

    def close_incident(self, incident_id: str, state: str, actor: str) -> Incident:
        if state not in ("closed", "cancelled"):
            raise Invalid("state", "must be closed or cancelled")
        inc, released = self.store.close_incident(incident_id, state, actor)
        self.publish_incident(inc)
        for uid in released:
            self.publish_unit(self.store.unit(uid))
        return inc

    # ------------------------------------------------------------------ views
    def incident_view(self, inc: Incident, now_ms: int, *, show_phone: bool) -> dict[str, Any]:
        d = inc.as_json(show_phone=show_phone)
        d["timer"] = lifecycle.timer(inc.updated_ms if inc.state != "new" else inc.created_ms,
                                     now_ms, lifecycle.incident_limit_s(inc.state))
        return d

    def unit_views(self, positions: dict[str, tuple[float, float]] | None = None
                   ) -> list[dict[str, Any]]:
        now = self.clock.now_ms()
        active = {a.unit_id: a for a in self.store.assignments(active_only=True)}
        out = []
        for u in self.store.units():
            d = u.as_json()
            if positions and u.unit_id in positions:
                d["lon"], d["lat"] = positions[u.unit_id]
            a = active.get(u.unit_id)
            planned = (a.eta_s - lifecycle.TURNOUT_S.get(u.kind, 80.0)) if a else None
            d["timer"] = lifecycle.timer(u.status_since_ms, now,
                                         lifecycle.unit_limit_s(u.kind, u.status, planned))
            out.append(d)
        return out

    # ------------------------------------------------------------------ snapshots
    def publish_incident(self, inc: Incident) -> None:
        doc = {"id": inc.id, "type": inc.type, "level": inc.level, "priority": inc.priority,
               "status": inc.state, "lon": inc.lon, "lat": inc.lat, "district": inc.district,
               "ts": inc.updated_ms}
        ttl = None if inc.state in ACTIVE_INCIDENT_STATES else 600.0
        try:
            self.state.put_json(f"incident:{inc.id}", doc, ttl_s=ttl)
        except StateError as e:  # snapshots are best effort; the store holds the truth
            log.warning("incident snapshot not published: %s", e)

    def publish_unit(self, u: UnitRecord, lon: float | None = None, lat: float | None = None
                     ) -> None:
        doc = {"id": u.unit_id, "type": u.kind, "station_id": u.station_id, "status": u.status,
               "incident_id": u.incident_id, "lon": u.lon if lon is None else lon,
               "lat": u.lat if lat is None else lat, "ts": self.clock.now_ms()}
        with self._pub_lock:
            try:
                self.state.put_json(f"unit:{u.unit_id}", doc, ttl_s=SNAPSHOT_TTL_S)
                if self.producer is not None:
                    self.producer.send(AVL, json.dumps(doc).encode(), key=u.unit_id.encode())
            except (StateError, BusError) as e:  # best effort, see publish_incident
                log.warning("unit position not published: %s", e)
