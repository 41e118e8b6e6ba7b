"""What the REST API and the console call: dispatch actions over store, routing and coverage.

One object per web process. Reads go to the durable store (so several web processes
behind a load balancer agree); snapshots for the wall are written to the state store
as ``incident:<id>`` / ``unit:<id>`` plain JSON.

Live speeds stay off the request path: :meth:`DispatchService.refresh_speeds`
(called by the background :class:`~dispatch.movement.Mover` every step) reads the
detectors at most every few seconds and swaps in an immutable
:class:`SpeedSnapshot` (speeds + forward/reverse travel-time matrices); requests
only read the latest snapshot. Without a background refresher (tests, scripts) a
request refreshes a stale snapshot itself. The fleet's static part (road node,
access leg, turnout, capabilities) is a :class:`~dispatch.recommend.UnitTable`
rebuilt only when the stored fleet changes.

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
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from config.city.emergency import ACCESS_SPEED_MS
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
from dispatch.recommend import UnitInput, UnitTable, outstanding
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

__all__ = ["ACCESS_SPEED_MS", "DispatchService", "SpeedSnapshot"]

#: a request refreshes the speed snapshot itself when the background one is this old
MAX_STALE_MS = 30_000
#: reverse searches kept per snapshot (the console re-asks for the same incidents)
TIMES_CACHE = 256
#: unit snapshots for the wall expire unless refreshed (a dead web process leaves no ghosts)
SNAPSHOT_TTL_S = 6 * 3600.0


@dataclass(frozen=True, eq=False)
class SpeedSnapshot:
    """Live segment speeds and the travel-time matrices built from them (never mutated)."""

    version: int
    speeds: npt.NDArray[np.float64]
    fwd: sp.csr_matrix
    rev: sp.csr_matrix


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
        self._refresh_lock = threading.Lock()
        #: True while a background thread calls :meth:`refresh_speeds` (the Mover)
        self.background_refresh = False
        self._snap = SpeedSnapshot(-1, self.free_speed, fwd, self.graph.matrices(
            self.free_speed)[1])
        self._checked_ms = -(1 << 62)
        self._times: OrderedDict[tuple[int, int], npt.NDArray[np.float64]] = OrderedDict()
        self._table_key: tuple[tuple[str, str, str, tuple[str, ...]], ...] = ()
        self._table = UnitTable(())
        self._table_row = np.empty(0, np.int64)
        self._table_kind = np.empty(0, object)
        self._table_station = np.empty(0, np.int64)
        self._times_lock = threading.Lock()
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

    def refresh_speeds(self) -> SpeedSnapshot:
        """Read the live speeds (cached by :class:`LiveSpeeds` for a few seconds) and,
        when they changed, build and publish a new :class:`SpeedSnapshot`.

        Meant for a background thread; safe to call from several threads.
        """
        with self._refresh_lock:
            speeds = self.speeds.current()
            self._checked_ms = self.clock.now_ms()
            if self._snap.version != self.speeds.version:
                fwd, rev = self.graph.matrices(speeds)
                self._snap = SpeedSnapshot(self.speeds.version, speeds, fwd, rev)
            return self._snap

    def snapshot(self) -> SpeedSnapshot:
        """The latest speed snapshot; refreshed here only without a background refresher
        (or when the background one has fallen ``MAX_STALE_MS`` behind)."""
        snap = self._snap
        if (not self.background_refresh or snap.version < 0
                or self.clock.now_ms() - self._checked_ms > MAX_STALE_MS):
            snap = self.refresh_speeds()
        return snap

    def matrices(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Forward and reverse travel-time matrices at the current live speeds."""
        snap = self.snapshot()
        return snap.fwd, snap.rev

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
        """Seconds from every road node to the incident's location (graph + access leg).

        One reverse Dijkstra per (snapshot, incident node), kept in a small LRU.
        """
        snap = self.snapshot()
        node = self.nearest_node(inc.lon, inc.lat)
        key = (snap.version, node)
        with self._times_lock:
            t = self._times.get(key)
            if t is not None:
                self._times.move_to_end(key)
        if t is None:
            t = self.graph.times_to(node, snap.speeds, snap.rev)
            t.setflags(write=False)
            with self._times_lock:
                self._times[key] = t
                if len(self._times) > TIMES_CACHE:
                    self._times.popitem(last=False)
        return t + self.access_s(inc.lon, inc.lat, node)

    def _fleet(self, rows: list[tuple[str, str, str, tuple[str, ...], str, str | None]]
               ) -> UnitTable:
        """The :class:`UnitTable` of the stored fleet (rebuilt only when it changes)."""
        key = tuple((r[0], r[1], r[2], r[3]) for r in rows)
        if key != self._table_key:
            known = [r for r in rows if r[2] in self.stations]
            table = UnitTable([UnitInput(r[0], r[1], r[2], r[3],
                                         self.stations[r[2]].road_node,
                                         self._station_access[r[2]]) for r in known])
            self._table_row = np.array([i for i, r in enumerate(rows) if r[2] in self.stations],
                                       np.int64)
            self._table_kind = np.array([r[1] for r in known], object)
            self._table_station = np.array([self.station_row.get(r[2], -1) for r in known],
                                           np.int64)
            self._table, self._table_key = table, key
        return self._table

    def recommendations(self, incident_id: str, limit: int = 30) -> dict[str, Any]:
        inc = self.store.incident(incident_id)
        if inc.state not in ACTIVE_INCIDENT_STATES:
            raise Conflict(f"incident {incident_id} is {inc.state}")
        times = self._times_to(inc)
        rows = self.store.unit_states()
        table = self._fleet(rows)
        status = [r[4] for r in rows]
        available = np.array([status[i] == "available" for i in self._table_row.tolist()],
                             bool)
        committed = [r[3] for r in rows if r[5] == incident_id and r[4] in COMMITTED]
        reqs = self.plans.plan(inc.type, inc.level)
        cands = table.rank(times, reqs, committed, available, limit)
        impacts = self._impacts(available, {c.kind for c in cands})
        out = []
        for c in cands:
            row = self.station_row[c.station_id]
            d = c.as_json()
            d["coverage_impact"] = impacts[c.kind].get(row, {})
            out.append(d)
        need = {r.capability: r.count for r in reqs}
        return {"incident_id": incident_id, "plan": need,
                "outstanding": outstanding(reqs, committed), "candidates": out,
                "speeds_version": self._snap.version}

    def _impacts(self, available: npt.NDArray[np.bool_], kinds: set[str]
                 ) -> dict[str, dict[int, dict[str, Any]]]:
        out = {}
        for kind in kinds:
            sel = available & (self._table_kind == kind) & (self._table_station >= 0)
            rows, n = np.unique(self._table_station[sel], return_counts=True)
            counts = dict(zip(rows.tolist(), n.tolist(), strict=True))
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
