"""The alert record (DESIGN.md §2): id, source, level I–IV, state, assignee, timeline.

State is two independent flags as in ISA-18.2-style alarm handling: the condition is
``active`` or ``cleared`` and the operator has or has not ``acknowledged`` it, giving four
combinations (active/unacknowledged is the one that demands attention). Level is
1..4 = :class:`~models.indices.levels.EmergencyLevel` I..IV (1 most severe).

>>> a = Alert.new("A000001", "water_pressure", "city", "WN-0012", 4, "低压", "Low pressure",
...               ("WTR-0012-pressure",), 119.3, 26.08, "350102", 1_000)
>>> a.status, a.as_state_doc()["level"]
('active_unack', 4)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from models.indices.levels import LEVELS, EmergencyLevel

ACTIVE = "active"
CLEARED = "cleared"
STATES = (ACTIVE, CLEARED)

#: Timeline actions (every change of an alert writes one entry: who, when, what).
ACTIONS = (
    "raise", "update", "level", "acknowledge", "assign", "comment", "clear", "auto_clear",
    "escalate", "merge", "incident", "import", "reactivate",
)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert; frozen — every change makes a new value (``dataclasses.replace``).

    ``source`` is what the alert is about: an asset (``WN-0012``, ``HZ-0003``), a sensor,
    an area (``district:350102``, ``cell:8841b5…``) or an external sender (CAP import).
    ``area`` names the outline used for the CAP ``<area>``: ``district:<adcode>``,
    ``cell:<h3>`` or ``circle:<lat>,<lon>,<km>``.
    """

    id: str
    type: str
    kind: str  # "city" | "sensor"
    source: str
    level: int
    title_zh: str
    title_en: str
    sensor_ids: tuple[str, ...]
    lon: float
    lat: float
    district: str
    first_ts: int
    last_ts: int
    state: str = ACTIVE
    acknowledged: bool = False
    assignee: str = ""
    base_level: int = 0
    districts: tuple[str, ...] = ()
    area: str = ""
    detail_zh: str = ""
    detail_en: str = ""
    value: float = float("nan")
    cleared_ts: int = 0
    acked_ts: int = 0
    acked_by: str = ""
    incident_id: str = ""
    cap_identifier: str = ""
    escalations: int = 0
    version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def new(alert_id: str, type_: str, kind: str, source: str, level: int, title_zh: str,
            title_en: str, sensor_ids: tuple[str, ...], lon: float, lat: float, district: str,
            ts: int, **more: Any) -> Alert:
        more.setdefault("districts", (district,) if district else ())
        more.setdefault("base_level", level)
        return Alert(alert_id, type_, kind, source, int(level), title_zh, title_en,
                     tuple(sensor_ids), float(lon), float(lat), district, int(ts), int(ts),
                     **more)

    @property
    def status(self) -> str:
        """``active_unack`` / ``active_ack`` / ``cleared_unack`` / ``cleared_ack``."""
        return f"{self.state}_{'ack' if self.acknowledged else 'unack'}"

    @property
    def level_info(self) -> Any:
        return LEVELS[EmergencyLevel(self.level)]

    @property
    def is_open(self) -> bool:
        """Needs the operator: still active, or cleared but never acknowledged."""
        return self.state == ACTIVE or not self.acknowledged

    def replace(self, **changes: Any) -> Alert:
        return dataclasses.replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["sensor_ids"] = list(self.sensor_ids)
        d["districts"] = list(self.districts)
        d["status"] = self.status
        d["colour"] = self.level_info.colour.hex
        d["level_roman"] = self.level_info.roman
        for k in ("value", "lon", "lat"):
            if d[k] != d[k]:  # NaN is not JSON
                d[k] = None
        return d

    def as_state_doc(self) -> dict[str, Any]:
        """The ``alert:<id>`` document the wall's ticker reads (a fixed, small field set)."""
        return {
            "id": self.id, "level": self.level, "state": self.state, "type": self.type,
            "kind": self.kind, "title_zh": self.title_zh, "title_en": self.title_en,
            "source": self.source, "sensor_ids": list(self.sensor_ids[:50]),
            "lon": _num(self.lon), "lat": _num(self.lat), "district": self.district,
            "first_ts": self.first_ts, "last_ts": self.last_ts,
            "acknowledged": self.acknowledged, "assignee": self.assignee,
            "colour": self.level_info.colour.hex,
        }


def _num(x: float) -> float | None:
    return None if x != x else x


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One action on an alert: who did what, when, with details (before/after, text)."""

    alert_id: str
    ts: int
    actor: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "ts": self.ts, "actor": self.actor,
                "action": self.action, "detail": self.detail}
