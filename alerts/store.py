"""Durable alerts and their full timeline, in the same database as dispatch's incidents.

Uses dispatch's DB-API adapter (:class:`dispatch.db.Database`): SQLite at
``settings.data_dir`` embedded, PostgreSQL for several nodes, the same SQL for both.
Every change is one transaction that writes the alert row **and** its timeline entry,
committed before anyone is answered. Rows carry a ``version`` so that concurrent
writers (the engine updating an alert while an operator acknowledges it) never lose
each other's change: a stale write is retried on the fresh row. The timeline refuses
UPDATE and DELETE (trigger), so history is append-only.

>>> from streams.clock import ManualClock
>>> st = AlertStore(Database("sqlite://:memory:"))
>>> a = st.insert(Alert.new("", "aqi", "city", "AQS-0001", 4, "污染", "Pollution", ("S1",),
...                         119.3, 26.1, "350102", 1_000), actor="system", ts=1_000)
>>> a.id, st.get(a.id).title_en, [e.action for e in st.timeline(a.id)]
('ALT-00000001', 'Pollution', ['raise'])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from alerts.model import ACTIVE, Alert, TimelineEntry
from dispatch.db import Database, StoreError, Transaction

__all__ = ["AlertStore", "AlertNotFound", "AlertConflict", "Database", "StoreError"]


class AlertNotFound(KeyError):
    """No alert with this id."""


class AlertConflict(Exception):
    """The change is not allowed in the alert's current state (→ HTTP 409)."""


_COLS = (
    "id", "type", "kind", "source", "level", "title_zh", "title_en", "sensor_ids", "lon", "lat",
    "district", "first_ts", "last_ts", "state", "acknowledged", "assignee", "base_level",
    "districts", "area", "detail_zh", "detail_en", "value", "cleared_ts", "acked_ts", "acked_by",
    "incident_id", "cap_identifier", "escalations", "version", "extra",
)
_JSON_COLS = {"sensor_ids", "districts", "extra"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
  level INTEGER NOT NULL, title_zh TEXT NOT NULL, title_en TEXT NOT NULL,
  sensor_ids TEXT NOT NULL, lon DOUBLE PRECISION NOT NULL, lat DOUBLE PRECISION NOT NULL,
  district TEXT NOT NULL, first_ts BIGINT NOT NULL, last_ts BIGINT NOT NULL, state TEXT NOT NULL,
  acknowledged INTEGER NOT NULL, assignee TEXT NOT NULL, base_level INTEGER NOT NULL,
  districts TEXT NOT NULL, area TEXT NOT NULL, detail_zh TEXT NOT NULL, detail_en TEXT NOT NULL,
  value DOUBLE PRECISION, cleared_ts BIGINT NOT NULL, acked_ts BIGINT NOT NULL,
  acked_by TEXT NOT NULL, incident_id TEXT NOT NULL, cap_identifier TEXT NOT NULL,
  escalations INTEGER NOT NULL, version INTEGER NOT NULL, extra TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state, level, first_ts);
CREATE INDEX IF NOT EXISTS alerts_source ON alerts (source, type, state);
CREATE TABLE IF NOT EXISTS alert_timeline (
  id {serial}, alert_id TEXT NOT NULL, ts_ms BIGINT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, detail_json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alert_timeline_alert ON alert_timeline (alert_id, id);
"""

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS alert_timeline_no_update BEFORE UPDATE ON alert_timeline "
    "BEGIN SELECT RAISE(ABORT, 'alert timeline is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS alert_timeline_no_delete BEFORE DELETE ON alert_timeline "
    "BEGIN SELECT RAISE(ABORT, 'alert timeline is append-only'); END",
)
_PG_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION citycc_alert_timeline_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'alert timeline is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS alert_timeline_append_only ON alert_timeline",
    "CREATE TRIGGER alert_timeline_append_only BEFORE UPDATE OR DELETE ON alert_timeline "
    "FOR EACH ROW EXECUTE FUNCTION citycc_alert_timeline_append_only()",
)


def _to_row(a: Alert) -> tuple[Any, ...]:
    out = []
    for c in _COLS:
        v = getattr(a, c)
        if c in _JSON_COLS:
            v = json.dumps(list(v) if not isinstance(v, dict) else v, ensure_ascii=False)
        elif c == "acknowledged":
            v = 1 if v else 0
        elif c == "value" and v != v:
            v = None
        out.append(v)
    return tuple(out)


def _from_row(row: Sequence[Any]) -> Alert:
    d = dict(zip(_COLS, row, strict=True))
    for c in ("sensor_ids", "districts"):
        d[c] = tuple(json.loads(d[c]))
    d["extra"] = json.loads(d["extra"])
    d["acknowledged"] = bool(d["acknowledged"])
    d["value"] = float("nan") if d["value"] is None else float(d["value"])
    for c in ("level", "first_ts", "last_ts", "base_level", "cleared_ts", "acked_ts",
              "escalations", "version"):
        d[c] = int(d[c])
    d["lon"], d["lat"] = float(d["lon"]), float(d["lat"])
    return Alert(**d)


class AlertStore:
    """Reads and writes of alerts; every write appends to the timeline in its transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        serial = ("BIGSERIAL PRIMARY KEY" if db.dialect == "postgresql"
                  else "INTEGER PRIMARY KEY AUTOINCREMENT")
        extra = _PG_APPEND_ONLY if db.dialect == "postgresql" else _SQLITE_APPEND_ONLY
        with db.transaction() as tx:
            for stmt in _SCHEMA.format(serial=serial).split(";"):
                if stmt.strip():
                    tx.execute(stmt)
            for stmt in extra:
                tx.execute(stmt)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _log(tx: Transaction, alert_id: str, ts: int, actor: str, action: str,
             detail: dict[str, Any]) -> None:
        tx.execute("INSERT INTO alert_timeline (alert_id, ts_ms, actor, action, detail_json) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (alert_id, int(ts), actor, action, json.dumps(detail, ensure_ascii=False)))

    @staticmethod
    def _get(tx: Transaction, alert_id: str) -> Alert:
        row = tx.one(f"SELECT {', '.join(_COLS)} FROM alerts WHERE id = ?", (alert_id,))
        if row is None:
            raise AlertNotFound(alert_id)
        return _from_row(row)

    @staticmethod
    def _next(tx: Transaction, name: str) -> int:
        tx.execute("INSERT INTO alert_counters (name, value) VALUES (?, 0) "
                   "ON CONFLICT (name) DO NOTHING", (name,))
        row = tx.one("UPDATE alert_counters SET value = value + 1 WHERE name = ? RETURNING value",
                     (name,))
        assert row is not None
        return int(row[0])

    # ------------------------------------------------------------------ writes
    def insert(self, alert: Alert, actor: str, ts: int, action: str = "raise",
               detail: dict[str, Any] | None = None,
               identifier: Callable[[Alert, int], str] | None = None) -> Alert:
        """Store a new alert (id ``ALT-<n>`` unless it has one) with its first timeline entry.

        ``identifier(alert, attempt)`` proposes CAP identifiers (attempt 0, 1, …); the first
        one not yet stored is kept, so identifiers stay unique per sender.
        """
        with self.db.transaction() as tx:
            n = self._next(tx, "alert")
            a = alert if alert.id else alert.replace(id=f"ALT-{n:08d}")
            if identifier is not None and not a.cap_identifier:
                for attempt in range(10_000):
                    ident = identifier(a, attempt)
                    if tx.one("SELECT 1 FROM alerts WHERE cap_identifier = ?", (ident,)) is None:
                        a = a.replace(cap_identifier=ident)
                        break
            tx.execute(f"INSERT INTO alerts ({', '.join(_COLS)}) VALUES "
                       f"({', '.join('?' * len(_COLS))})", _to_row(a))
            self._log(tx, a.id, ts, actor, action, detail or {"level": a.level, "source": a.source})
        return a

    def change(self, alert_id: str, fn: Callable[[Alert], tuple[Alert, str, dict[str, Any]] | None],
               actor: str, ts: int) -> Alert:
        """Apply ``fn(current) -> (new, action, detail)`` atomically (None = no change).

        ``fn`` may raise :class:`AlertConflict` to refuse the change.
        """
        with self.db.transaction() as tx:
            cur = self._get(tx, alert_id)
            res = fn(cur)
            if res is None:
                return cur
            new, action, detail = res
            new = new.replace(version=cur.version + 1)
            sets = ", ".join(f"{c} = ?" for c in _COLS if c != "id")
            row = _to_row(new)
            tx.execute(f"UPDATE alerts SET {sets} WHERE id = ? AND version = ?",
                       (*row[1:], alert_id, cur.version))
            if tx.rowcount != 1:
                raise AlertConflict(f"alert {alert_id} changed concurrently; retry")
            self._log(tx, alert_id, ts, actor, action, detail)
        return new

    def log(self, alert_id: str, ts: int, actor: str, action: str, detail: dict[str, Any]) -> None:
        """A timeline entry without a change of the alert (e.g. a comment)."""
        with self.db.transaction() as tx:
            self._get(tx, alert_id)
            self._log(tx, alert_id, ts, actor, action, detail)

    # ------------------------------------------------------------------ reads
    def get(self, alert_id: str) -> Alert:
        with self.db.transaction(write=False) as tx:
            return self._get(tx, alert_id)

    def find_active(self, source: str, type_: str) -> Alert | None:
        """The active alert of ``(source, type)`` (deduplication key), if any."""
        rows = self.db.query(f"SELECT {', '.join(_COLS)} FROM alerts WHERE source = ? AND "
                             "type = ? AND state = ? ORDER BY first_ts LIMIT 1",
                             (source, type_, ACTIVE))
        return _from_row(rows[0]) if rows else None

    def by_cap_identifier(self, identifier: str) -> Alert | None:
        rows = self.db.query(f"SELECT {', '.join(_COLS)} FROM alerts WHERE cap_identifier = ?",
                             (identifier,))
        return _from_row(rows[0]) if rows else None

    def alerts(self, state: str | None = None, kind: str | None = None, open_only: bool = False,
             limit: int = 500) -> list[Alert]:
        """Newest first; ``open_only`` = active, or cleared but not yet acknowledged."""
        where, params = [], []
        if state:
            where.append("state = ?")
            params.append(state)
        if kind:
            where.append("kind = ?")
            params.append(kind)
        if open_only:
            where.append("(state = ? OR acknowledged = 0)")
            params.append(ACTIVE)
        sql = f"SELECT {', '.join(_COLS)} FROM alerts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY first_ts DESC, id DESC LIMIT ?"
        return [_from_row(r) for r in self.db.query(sql, (*params, int(limit)))]

    def timeline(self, alert_id: str) -> list[TimelineEntry]:
        rows = self.db.query("SELECT alert_id, ts_ms, actor, action, detail_json FROM "
                             "alert_timeline WHERE alert_id = ? ORDER BY id", (alert_id,))
        return [TimelineEntry(r[0], int(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]
