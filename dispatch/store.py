"""The durable incident store: incidents, unit statuses, assignments, users, audit log.

Every action is one transaction that writes the change **and** its audit entry
(who, when, what, before/after), committed before the API answers. Assigning a
unit is a conditional ``UPDATE … WHERE status = 'available'``: when two
commanders race for the same unit exactly one row changes, the other gets
:class:`~dispatch.errors.Conflict`. The audit table refuses UPDATE and DELETE
(a trigger), so the log is append-only even for a careless client.

>>> from streams.clock import ManualClock
>>> s = DispatchStore(Database("sqlite://:memory:"), ManualClock(1_000))
>>> s.ensure_units([("U1", "ambulance", "EMS-01", ("ems_bls",), 119.3, 26.08)])
>>> inc = s.create_incident(dict(type="medical", priority=2, level="IV", lon=119.3, lat=26.08,
...     district="350102", caller_name="", caller_phone="13800000000", description="",
...     source="api"), actor="op")
>>> s.assign(inc.id, "U1", actor="cmd", eta_s=120.0).state
'dispatched'
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from dispatch import lifecycle
from dispatch.db import Database, Transaction
from dispatch.errors import Conflict, NotFound
from dispatch.model import COMMITTED, Assignment, AuditEntry, Incident, UnitRecord
from streams.clock import Clock

_INCIDENT_COLS = ("id, type, priority, level, lon, lat, district, caller_name, caller_phone, "
                  "description, source, state, created_ms, updated_ms, created_by, version")
_UNIT_COLS = ("unit_id, kind, station_id, capabilities, status, incident_id, status_since_ms, "
              "lon, lat, version")
_ASSIGN_COLS = ("id, incident_id, unit_id, state, eta_s, assigned_ms, assigned_by, en_route_ms, "
                "on_scene_ms, released_ms, completed_ms")
_AUDIT_COLS = "id, ts_ms, actor, action, entity, entity_id, incident_id, before_json, after_json"

_TABLES = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
  updated_ms BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, priority INTEGER NOT NULL, level TEXT NOT NULL,
  lon DOUBLE PRECISION NOT NULL, lat DOUBLE PRECISION NOT NULL, district TEXT NOT NULL,
  caller_name TEXT NOT NULL, caller_phone TEXT NOT NULL, description TEXT NOT NULL,
  source TEXT NOT NULL, state TEXT NOT NULL, created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL, created_by TEXT NOT NULL, version INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_state ON incidents (state, created_ms);
CREATE TABLE IF NOT EXISTS units (
  unit_id TEXT PRIMARY KEY, kind TEXT NOT NULL, station_id TEXT NOT NULL,
  capabilities TEXT NOT NULL, status TEXT NOT NULL, incident_id TEXT,
  status_since_ms BIGINT NOT NULL, lon DOUBLE PRECISION NOT NULL,
  lat DOUBLE PRECISION NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (
  id {serial}, incident_id TEXT NOT NULL, unit_id TEXT NOT NULL, state TEXT NOT NULL,
  eta_s DOUBLE PRECISION NOT NULL, assigned_ms BIGINT NOT NULL, assigned_by TEXT NOT NULL,
  en_route_ms BIGINT, on_scene_ms BIGINT, released_ms BIGINT, completed_ms BIGINT,
  route_json TEXT, route_start_ms BIGINT);
CREATE INDEX IF NOT EXISTS assignments_incident ON assignments (incident_id);
CREATE INDEX IF NOT EXISTS assignments_unit ON assignments (unit_id, state);
CREATE TABLE IF NOT EXISTS audit (
  id {serial}, ts_ms BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  entity TEXT NOT NULL, entity_id TEXT NOT NULL, incident_id TEXT,
  before_json TEXT, after_json TEXT);
CREATE INDEX IF NOT EXISTS audit_incident ON audit (incident_id, id);
"""

_SQLITE_APPEND_ONLY = """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""

_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION citycc_audit_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_append_only ON audit;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
FOR EACH ROW EXECUTE FUNCTION citycc_audit_append_only();
"""

UnitSeed = tuple[str, str, str, Sequence[str], float, float]


@functools.lru_cache(maxsize=256)
def _capabilities(raw: str) -> tuple[str, ...]:
    """Parsed capability lists (a handful of distinct values across the fleet)."""
    return tuple(json.loads(raw))


def _split(script: str) -> list[str]:
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (text.count("$$") % 2 == 0) and (
                not text.upper().startswith("CREATE TRIGGER IF") or text.endswith("END;")):
            out.append(text.rstrip(";"))
            buf = []
    return out


class DispatchStore:
    """All reads and writes of dispatch state; every write is audited in its transaction."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._create_schema()

    # ------------------------------------------------------------------ schema
    def _create_schema(self) -> None:
        serial = ("BIGSERIAL PRIMARY KEY" if self.db.dialect == "postgresql"
                  else "INTEGER PRIMARY KEY AUTOINCREMENT")
        extra = _PG_APPEND_ONLY if self.db.dialect == "postgresql" else _SQLITE_APPEND_ONLY
        with self.db.transaction() as tx:
            for stmt in _split(_TABLES.format(serial=serial)) + _split(extra):
                tx.execute(stmt)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ helpers
    def _audit(self, tx: Transaction, actor: str, action: str, entity: str, entity_id: str,
               incident_id: str | None, before: dict[str, Any] | None,
               after: dict[str, Any] | None) -> None:
        tx.execute(
            "INSERT INTO audit (ts_ms, actor, action, entity, entity_id, incident_id, "
            "before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.clock.now_ms(), actor, action, entity, entity_id, incident_id,
             None if before is None else json.dumps(before, ensure_ascii=False),
             None if after is None else json.dumps(after, ensure_ascii=False)),
        )

    def _next(self, tx: Transaction, name: str) -> int:
        tx.execute("INSERT INTO counters (name, value) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
                   (name,))
        row = tx.one("UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value",
                     (name,))
        assert row is not None
        return int(row[0])

    @staticmethod
    def _incident(row: Sequence[Any]) -> Incident:
        r = list(row)
        return Incident(r[0], r[1], int(r[2]), r[3], float(r[4]), float(r[5]), r[6], r[7], r[8],
                        r[9], r[10], r[11], int(r[12]), int(r[13]), r[14], int(r[15]))

    @staticmethod
    def _unit(row: Sequence[Any]) -> UnitRecord:
        r = list(row)
        return UnitRecord(r[0], r[1], r[2], _capabilities(r[3]), r[4], r[5], int(r[6]),
                          float(r[7]), float(r[8]), int(r[9]))

    @staticmethod
    def _assignment(row: Sequence[Any]) -> Assignment:
        r = list(row)
        return Assignment(int(r[0]), r[1], r[2], r[3], float(r[4]), int(r[5]), r[6],
                          *(None if v is None else int(v) for v in r[7:11]))

    def _get_incident(self, tx: Transaction, incident_id: str) -> Incident:
        row = tx.one(f"SELECT {_INCIDENT_COLS} FROM incidents WHERE id = ?", (incident_id,))
        if row is None:
            raise NotFound(f"incident {incident_id} not found")
        return self._incident(row)

    def _get_unit(self, tx: Transaction, unit_id: str) -> UnitRecord:
        row = tx.one(f"SELECT {_UNIT_COLS} FROM units WHERE unit_id = ?", (unit_id,))
        if row is None:
            raise NotFound(f"unit {unit_id} not found")
        return self._unit(row)

    # ------------------------------------------------------------------ users
    def put_user(self, username: str, password_hash: str, role: str, actor: str) -> None:
        with self.db.transaction() as tx:
            old = tx.one("SELECT role FROM users WHERE username = ?", (username,))
            tx.execute(
                "INSERT INTO users (username, password_hash, role, updated_ms) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
                "role = excluded.role, updated_ms = excluded.updated_ms",
                (username, password_hash, role, self.clock.now_ms()))
            self._audit(tx, actor, "user.put", "user", username, None,
                        None if old is None else {"role": old[0]}, {"role": role})

    def get_user(self, username: str) -> tuple[str, str] | None:
        """``(password_hash, role)`` or None."""
        rows = self.db.query("SELECT password_hash, role FROM users WHERE username = ?",
                             (username,))
        return (rows[0][0], rows[0][1]) if rows else None

    # ------------------------------------------------------------------ units
    def ensure_units(self, seeds: Iterable[UnitSeed], actor: str = "system") -> None:
        """Make the stored fleet the city's fleet.

        New units are inserted available at their stations. Stored units that are no longer
        in the fleet (the city's scale, seed or stations changed) are retired — removed with
        an audit entry — unless they are committed to an incident, in which case they stay
        until that incident releases them (the next start retires them).
        """
        now = self.clock.now_ms()
        seeds = list(seeds)
        fleet = {seed[0] for seed in seeds}
        with self.db.transaction() as tx:
            for unit_id, kind, station, caps, lon, lat in seeds:
                tx.execute(
                    f"INSERT INTO units ({_UNIT_COLS}) VALUES (?, ?, ?, ?, 'available', NULL, ?, "
                    "?, ?, 0) ON CONFLICT (unit_id) DO NOTHING",
                    (unit_id, kind, station, json.dumps(list(caps)), now, lon, lat))
            for unit_id, kind, station, status in tx.all(
                    "SELECT unit_id, kind, station_id, status FROM units"):
                if unit_id in fleet or status in COMMITTED:
                    continue
                tx.execute("DELETE FROM units WHERE unit_id = ?", (unit_id,))
                self._audit(tx, actor, "unit.retired", "unit", unit_id, None,
                            {"kind": kind, "station_id": station, "status": status}, None)

    def units(self) -> list[UnitRecord]:
        return [self._unit(r) for r in
                self.db.query(f"SELECT {_UNIT_COLS} FROM units ORDER BY unit_id")]

    def unit_states(self) -> list[tuple[str, str, str, tuple[str, ...], str, str | None]]:
        """``(unit_id, kind, station_id, capabilities, status, incident_id)`` per unit, by id.

        The light read behind every recommendation (no positions, timers or versions).
        """
        return [(r[0], r[1], r[2], _capabilities(r[3]), r[4], r[5]) for r in self.db.query(
            "SELECT unit_id, kind, station_id, capabilities, status, incident_id FROM units "
            "ORDER BY unit_id")]

    def unit(self, unit_id: str) -> UnitRecord:
        with self.db.transaction(write=False) as tx:
            return self._get_unit(tx, unit_id)

    # ------------------------------------------------------------------ incidents
    def create_incident(self, fields: dict[str, Any], actor: str) -> Incident:
        now = self.clock.now_ms()
        with self.db.transaction() as tx:
            n = self._next(tx, "incident")
            inc = Incident(id=f"INC-{n:06d}", state="new", created_ms=now, updated_ms=now,
                           created_by=actor, version=1, **fields)
            tx.execute(
                f"INSERT INTO incidents ({_INCIDENT_COLS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (inc.id, inc.type, inc.priority, inc.level, inc.lon, inc.lat, inc.district,
                 inc.caller_name, inc.caller_phone, inc.description, inc.source, inc.state,
                 inc.created_ms, inc.updated_ms, inc.created_by, inc.version))
            self._audit(tx, actor, "incident.create", "incident", inc.id, inc.id, None,
                        inc.as_json(show_phone=True))
        return inc

    def incident(self, incident_id: str) -> Incident:
        with self.db.transaction(write=False) as tx:
            return self._get_incident(tx, incident_id)

    def incidents(self, state: str | None = None, limit: int = 200) -> list[Incident]:
        if state:
            rows = self.db.query(f"SELECT {_INCIDENT_COLS} FROM incidents WHERE state = ? "
                                 "ORDER BY created_ms DESC, id DESC LIMIT ?", (state, limit))
        else:
            rows = self.db.query(f"SELECT {_INCIDENT_COLS} FROM incidents "
                                 "ORDER BY created_ms DESC, id DESC LIMIT ?", (limit,))
        return [self._incident(r) for r in rows]

    def _set_incident_state(self, tx: Transaction, inc: Incident, new: str, actor: str) -> None:
        lifecycle.check_incident(inc.state, new)
        now = self.clock.now_ms()
        n = tx.execute("UPDATE incidents SET state = ?, updated_ms = ?, version = version + 1 "
                       "WHERE id = ? AND state = ?", (new, now, inc.id, inc.state)).rowcount
        if n != 1:
            raise Conflict(f"incident {inc.id} changed meanwhile")
        self._audit(tx, actor, f"incident.{new}", "incident", inc.id, inc.id,
                    {"state": inc.state}, {"state": new})

    # ------------------------------------------------------------------ assignments
    def assign(self, incident_id: str, unit_id: str, actor: str, eta_s: float) -> Assignment:
        """Commit ``unit_id`` to the incident; :class:`Conflict` if it is not available."""
        now = self.clock.now_ms()
        with self.db.transaction() as tx:
            inc = self._get_incident(tx, incident_id)
            unit = self._get_unit(tx, unit_id)
            if inc.state not in ("new", "dispatched", "on_scene"):
                raise Conflict(f"incident {incident_id} is {inc.state}")
            changed = tx.execute(
                "UPDATE units SET status = 'dispatched', incident_id = ?, status_since_ms = ?, "
                "version = version + 1 WHERE unit_id = ? AND status = 'available'",
                (incident_id, now, unit_id)).rowcount
            if changed != 1:
                raise Conflict(f"unit {unit_id} is not available")
            row = tx.one(
                "INSERT INTO assignments (incident_id, unit_id, state, eta_s, assigned_ms, "
                "assigned_by) VALUES (?, ?, 'dispatched', ?, ?, ?) RETURNING " + _ASSIGN_COLS,
                (incident_id, unit_id, float(eta_s), now, actor))
            assert row is not None
            a = self._assignment(row)
            self._audit(tx, actor, "unit.assign", "unit", unit_id, incident_id,
                        {"status": unit.status, "incident_id": unit.incident_id},
                        {"status": "dispatched", "incident_id": incident_id,
                         "assignment_id": a.id, "eta_s": round(float(eta_s), 1)})
            if inc.state == "new":
                self._set_incident_state(tx, inc, "dispatched", actor)
        return a

    def assignments(self, incident_id: str | None = None,
                    active_only: bool = False) -> list[Assignment]:
        where, params = [], []
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        if active_only:
            where.append("state IN ('dispatched', 'en_route', 'on_scene', 'released')")
        sql = f"SELECT {_ASSIGN_COLS} FROM assignments"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._assignment(r) for r in self.db.query(sql + " ORDER BY id", params)]

    def active_assignment(self, tx: Transaction, unit_id: str) -> Assignment | None:
        row = tx.one(f"SELECT {_ASSIGN_COLS} FROM assignments WHERE unit_id = ? AND state IN "
                     "('dispatched', 'en_route', 'on_scene', 'released') ORDER BY id DESC",
                     (unit_id,))
        return None if row is None else self._assignment(row)

    def route_of(self, assignment_id: int) -> tuple[dict[str, Any] | None, int | None]:
        rows = self.db.query("SELECT route_json, route_start_ms FROM assignments WHERE id = ?",
                             (assignment_id,))
        if not rows or rows[0][0] is None:
            return None, None
        return json.loads(rows[0][0]), int(rows[0][1])

    def set_unit_status(self, unit_id: str, new: str, actor: str, *,
                        expect: str | None = None, lon: float | None = None,
                        lat: float | None = None,
                        route: dict[str, Any] | None = None) -> UnitRecord:
        """Move a unit along its lifecycle, updating its assignment and incident.

        ``expect`` makes the change conditional on the current status (the mover uses
        it so it never overrides a commander who acted meanwhile). ``route`` (nodes and
        cumulative seconds) is stored with the assignment so movement survives restarts.
        """
        now = self.clock.now_ms()
        with self.db.transaction() as tx:
            unit = self._get_unit(tx, unit_id)
            if expect is not None and unit.status != expect:
                raise Conflict(f"unit {unit_id} is {unit.status}, not {expect}")
            lifecycle.check_unit(unit.status, new)
            keep_incident = new in COMMITTED
            sets = ["status = ?", "status_since_ms = ?", "version = version + 1",
                    "incident_id = ?"]
            params: list[Any] = [new, now, unit.incident_id if keep_incident else None]
            if lon is not None and lat is not None:
                sets += ["lon = ?", "lat = ?"]
                params += [lon, lat]
            n = tx.execute(f"UPDATE units SET {', '.join(sets)} WHERE unit_id = ? AND version = ?",
                           (*params, unit_id, unit.version)).rowcount
            if n != 1:
                raise Conflict(f"unit {unit_id} changed meanwhile")
            a = self.active_assignment(tx, unit_id)
            if a is not None:
                self._advance_assignment(tx, a, unit.status, new, now, route)
            self._audit(tx, actor, f"unit.{new}", "unit", unit_id, unit.incident_id,
                        {"status": unit.status, "incident_id": unit.incident_id},
                        {"status": new, "incident_id": unit.incident_id if keep_incident
                         else None})
            if new == "on_scene" and unit.incident_id:
                inc = self._get_incident(tx, unit.incident_id)
                if inc.state == "dispatched":
                    self._set_incident_state(tx, inc, "on_scene", actor)
            return self._get_unit(tx, unit_id)

    def _advance_assignment(self, tx: Transaction, a: Assignment, old: str, new: str, now: int,
                            route: dict[str, Any] | None) -> None:
        col = {"en_route": "en_route_ms", "on_scene": "on_scene_ms", "returning": "released_ms",
               "available": "completed_ms", "out_of_service": "completed_ms"}.get(new)
        state = lifecycle.ASSIGNMENT_FOR_UNIT.get(new, "completed")
        if new == "returning" and old in ("dispatched", "en_route"):
            state = "cancelled"
        sets: list[str] = ["state = ?"]
        params: list[Any] = [state]
        if col:
            sets.append(f"{col} = ?")
            params.append(now)
        if route is not None:
            sets += ["route_json = ?", "route_start_ms = ?"]
            params += [json.dumps(route), now]
        tx.execute(f"UPDATE assignments SET {', '.join(sets)} WHERE id = ?", (*params, a.id))

    def close_incident(self, incident_id: str, new: str, actor: str) -> tuple[Incident, list[str]]:
        """Close or cancel; committed units are released (they start returning)."""
        now = self.clock.now_ms()
        with self.db.transaction() as tx:
            inc = self._get_incident(tx, incident_id)
            self._set_incident_state(tx, inc, new, actor)
            rows = tx.all(f"SELECT {_UNIT_COLS} FROM units WHERE incident_id = ?", (incident_id,))
            released = []
            for r in rows:
                u = self._unit(r)
                if u.status not in COMMITTED:
                    continue
                tx.execute("UPDATE units SET status = 'returning', incident_id = NULL, "
                           "status_since_ms = ?, version = version + 1 WHERE unit_id = ?",
                           (now, u.unit_id))
                a = self.active_assignment(tx, u.unit_id)
                if a is not None:
                    self._advance_assignment(tx, a, u.status, "returning", now, None)
                self._audit(tx, actor, "unit.returning", "unit", u.unit_id, incident_id,
                            {"status": u.status, "incident_id": incident_id},
                            {"status": "returning", "incident_id": None})
                released.append(u.unit_id)
            return self._get_incident(tx, incident_id), released

    # ------------------------------------------------------------------ audit
    def audit(self, incident_id: str | None = None, limit: int = 200,
              before_id: int | None = None) -> list[AuditEntry]:
        where: list[str] = []
        params: list[Any] = []
        if incident_id is not None:
            where.append("incident_id = ?")
            params.append(incident_id)
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        sql = f"SELECT {_AUDIT_COLS} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        order = " ORDER BY id ASC" if incident_id is not None else " ORDER BY id DESC"
        rows = self.db.query(sql + order + " LIMIT ?", (*params, limit))
        return [AuditEntry(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6],
                           None if r[7] is None else json.loads(r[7]),
                           None if r[8] is None else json.loads(r[8])) for r in rows]
