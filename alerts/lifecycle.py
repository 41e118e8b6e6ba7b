"""The alert lifecycle: raise, update, acknowledge, assign, comment, clear, escalate, link.

States are two flags (active/cleared × unacknowledged/acknowledged, see
:mod:`alerts.model`). Every action goes through :class:`AlertService`, which writes the
store (alert + timeline entry, one transaction, with who and when), then mirrors the
alert to the state store / topic. Time comes from an injected clock; the engine passes
the stream time of the readings for the changes it makes.

Rules of the lifecycle:

* one active alert per ``(source, type)``: raising a duplicate updates the active one;
* acknowledging twice is a no-op; a cleared and acknowledged alert is closed — it can
  no longer be assigned or acknowledged, only commented on;
* an active alert unacknowledged for ``escalation.unacknowledged_after_min`` minutes goes
  up one level (IV→III→…), at most to ``escalation.max_level``, each step logged;
* the engine clears an alert automatically when its condition is gone; an operator may
  clear it by hand;
* "create incident" calls dispatch's public API once and links the incident id.

>>> from streams.clock import ManualClock
>>> from alerts.store import AlertStore, Database
>>> clock = ManualClock(0)
>>> svc = AlertService(AlertStore(Database("sqlite://:memory:")), clock)
>>> a = svc.raise_alert(Alert.new("", "aqi", "city", "AQS-1", 4, "污染", "Pollution", (),
...                               119.3, 26.1, "350102", 0))
>>> clock.set(11 * 60_000); [x.level for x in svc.escalate_due()]
[3]
>>> svc.acknowledge(a.id, "operator").status
'active_ack'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from alerts.cap import identifier_for
from alerts.config import AlertRules, load_rules
from alerts.model import ACTIVE, CLEARED, Alert
from alerts.publish import AlertPublisher
from alerts.store import AlertConflict, AlertStore
from streams.clock import Clock

log = logging.getLogger(__name__)

MAX_COMMENT = 2000
MAX_NAME = 64

#: alert type → dispatch incident type (config/dispatch_plans.json codes)
INCIDENT_TYPES: dict[str, str] = {
    "gas_combustible": "hazmat_leak", "gas_toxic": "hazmat_leak", "congestion": "traffic_accident",
    "water_pressure": "rescue", "water_quality": "rescue", "aqi": "hazmat_leak",
    "anomaly": "rescue", "forecast": "rescue", "cap": "rescue",
}

#: creates a dispatch incident from a request body; returns the incident id
IncidentCreator = Callable[[dict[str, Any], str], str]


class AlertService:
    """All alert actions; one per process (engine worker or web process)."""

    def __init__(self, store: AlertStore, clock: Clock, rules: AlertRules | None = None,
                 publisher: AlertPublisher | None = None,
                 incidents: IncidentCreator | None = None) -> None:
        self.store = store
        self.clock = clock
        self.rules = rules or load_rules()
        self.publisher = publisher or AlertPublisher(None)
        self.incidents = incidents

    # ------------------------------------------------------------------ internals
    def _ident(self, alert: Alert, attempt: int) -> str:
        return identifier_for(self.rules.cap.sender_code, alert.first_ts, attempt,
                              self.rules.cap.utc_offset_min)

    def _change(self, alert_id: str, fn: Callable[[Alert], Any], actor: str,
                ts: int | None = None) -> Alert:
        when = self.clock.now_ms() if ts is None else int(ts)
        for _ in range(3):
            try:
                a = self.store.change(alert_id, fn, actor, when)
            except AlertConflict as e:
                if "concurrently" in str(e):
                    continue
                raise
            self.publisher.publish(a)
            return a
        raise AlertConflict(f"alert {alert_id} keeps changing; try again")

    @staticmethod
    def _text(value: str, limit: int, name: str) -> str:
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError(f"{name} must be a string without NUL characters")
        v = value.strip()
        if len(v) > limit:
            raise ValueError(f"{name} must be at most {limit} characters")
        return v

    # ------------------------------------------------------------------ engine side
    def raise_alert(self, draft: Alert, actor: str = "system", action: str = "raise",
                    detail: dict[str, Any] | None = None) -> Alert:
        """Store a new alert, or update the active one with the same ``(source, type)``."""
        cur = self.store.find_active(draft.source, draft.type)
        if cur is not None:
            members = tuple(dict.fromkeys(cur.sensor_ids + draft.sensor_ids))
            return self.engine_update(cur.id, draft.last_ts, level=min(cur.level, draft.level),
                                      sensor_ids=members)
        a = self.store.insert(draft, actor, draft.first_ts, action,
                              detail or {"level": draft.level, "source": draft.source,
                                         "sensors": len(draft.sensor_ids)},
                              identifier=self._ident)
        self.publisher.publish(a)
        return a

    def engine_update(self, alert_id: str, ts: int, **fields: Any) -> Alert:
        """Engine-owned fields only (level, members, last_ts, value, titles); never ack/assignee.

        A level change is logged as ``level``; a member change as ``update``; a plain
        ``last_ts`` refresh writes the row without a timeline entry worth reading.
        """
        allowed = {"level", "sensor_ids", "districts", "value", "title_zh", "title_en", "lon",
                   "lat", "detail_zh", "detail_en", "district", "area", "source"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"engine may not change {sorted(bad)}")

        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            if cur.state != ACTIVE:
                return None
            new = cur.replace(last_ts=max(cur.last_ts, int(ts)), **fields)
            if new.level != cur.level:
                # the engine's level is a floor: escalations by time are kept
                lvl = min(new.level, cur.level) if cur.escalations else new.level
                new = new.replace(level=lvl, base_level=new.level)
                if lvl != cur.level:
                    return new, "level", {"from": cur.level, "to": lvl}
            if new.sensor_ids != cur.sensor_ids:
                return new, "update", {"sensors": len(new.sensor_ids)}
            if new == cur:
                return None
            return new, "update", {}
        return self._change(alert_id, fn, "system", ts)

    def auto_clear(self, alert_id: str, ts: int, reason: str = "condition_normal") -> Alert:
        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            if cur.state != ACTIVE:
                return None
            return cur.replace(state=CLEARED, cleared_ts=int(ts),
                               last_ts=max(cur.last_ts, int(ts))), "auto_clear", {"reason": reason}
        return self._change(alert_id, fn, "system", ts)

    def merge_into(self, alert_id: str, area_id: str, ts: int) -> Alert:
        """Close a single alert whose condition now belongs to an area alert."""
        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            if cur.state != ACTIVE:
                return None
            return cur.replace(state=CLEARED, cleared_ts=int(ts)), "merge", {"into": area_id}
        return self._change(alert_id, fn, "system", ts)

    # ------------------------------------------------------------------ operator side
    def get(self, alert_id: str) -> Alert:
        return self.store.get(alert_id)

    def acknowledge(self, alert_id: str, actor: str) -> Alert:
        now = self.clock.now_ms()

        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            if cur.acknowledged:
                return None
            return cur.replace(acknowledged=True, acked_ts=now, acked_by=actor), "acknowledge", {}
        return self._change(alert_id, fn, actor)

    def assign(self, alert_id: str, assignee: str, actor: str) -> Alert:
        who = self._text(assignee, MAX_NAME, "assignee")

        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            if cur.state == CLEARED and cur.acknowledged:
                raise AlertConflict(f"alert {alert_id} is closed")
            if cur.assignee == who:
                return None
            return cur.replace(assignee=who), "assign", {"from": cur.assignee, "to": who}
        return self._change(alert_id, fn, actor)

    def comment(self, alert_id: str, text: str, actor: str) -> Alert:
        body = self._text(text, MAX_COMMENT, "comment")
        if not body:
            raise ValueError("comment must not be empty")
        self.store.log(alert_id, self.clock.now_ms(), actor, "comment", {"text": body})
        return self.store.get(alert_id)

    def clear(self, alert_id: str, actor: str, reason: str = "") -> Alert:
        why = self._text(reason, MAX_COMMENT, "reason")
        now = self.clock.now_ms()

        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            if cur.state == CLEARED:
                return None
            return cur.replace(state=CLEARED, cleared_ts=now), "clear", {"reason": why}
        return self._change(alert_id, fn, actor)

    def escalate_due(self, now_ms: int | None = None) -> list[Alert]:
        """Raise by one level every active, unacknowledged alert past the escalation delay."""
        now = self.clock.now_ms() if now_ms is None else int(now_ms)
        r = self.rules
        out = []
        for a in self.store.alerts(state=ACTIVE, limit=10_000):
            if a.acknowledged or a.kind not in r.escalate_kinds or a.level <= r.escalate_max_level:
                continue
            since = int(a.extra.get("escalated_ts", a.first_ts))
            if now - since < r.escalate_after_ms:
                continue

            def fn(cur: Alert, now: int = now) -> tuple[Alert, str, dict[str, Any]] | None:
                if cur.acknowledged or cur.state != ACTIVE or cur.level <= r.escalate_max_level:
                    return None
                extra = {**cur.extra, "escalated_ts": now}
                return (cur.replace(level=cur.level - 1, escalations=cur.escalations + 1,
                                    extra=extra),
                        "escalate", {"from": cur.level, "to": cur.level - 1})
            out.append(self._change(a.id, fn, "system", now))
        return out

    def create_incident(self, alert_id: str, actor: str, incident_type: str | None = None
                        ) -> tuple[Alert, str]:
        """Create a dispatch incident from the alert (once) and link it; returns its id."""
        if self.incidents is None:
            raise AlertConflict("dispatch is not available in this process")
        a = self.store.get(alert_id)
        if a.incident_id:
            return a, a.incident_id
        rule = self.rules.rules.get(a.type)
        kind = incident_type or (rule.params.get("incident_type") if rule else None) \
            or INCIDENT_TYPES.get(a.type, "rescue")
        body = {
            "type": kind, "lon": a.lon, "lat": a.lat, "priority": max(1, min(5, a.level)),
            "level": ("I", "II", "III", "IV")[a.level - 1], "source": "alert",
            "description": f"[{a.id}] {a.title_zh} / {a.title_en}"[:2000],
        }
        inc_id = self.incidents(body, actor)

        def fn(cur: Alert) -> tuple[Alert, str, dict[str, Any]] | None:
            return cur.replace(incident_id=inc_id), "incident", {"incident_id": inc_id,
                                                                 "type": kind}
        return self._change(alert_id, fn, actor), inc_id

    def import_alert(self, draft: Alert, actor: str) -> Alert:
        """An alert from outside (CAP): deduplicated by its CAP identifier."""
        if draft.cap_identifier:
            old = self.store.by_cap_identifier(draft.cap_identifier)
            if old is not None:
                return old
        a = self.store.insert(draft, actor, self.clock.now_ms(), "import",
                              {"cap_identifier": draft.cap_identifier, "level": draft.level},
                              identifier=self._ident)
        self.publisher.publish(a)
        return a
