"""The dispatch domain: incidents, units, assignments, audit entries and response plans.

Frozen records with plain ``as_json()`` views (the REST API and the wall read the
JSON; the store writes the fields). Vocabularies are tuples of codes; the UI
translates them through the message catalog.

>>> plan = load_plans().plan("fire", "II")
>>> [(r.capability, r.count) for r in plan]
[('fire_suppression', 4), ('ems_bls', 2)]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT

PLANS_FILE = REPO_ROOT / "config" / "dispatch_plans.json"

LEVELS: tuple[str, ...] = ("I", "II", "III", "IV")  # I = especially major (DOMAIN.md §6.1)
PRIORITIES: tuple[int, ...] = (1, 2, 3, 4, 5)  # 1 = most urgent
SOURCES: tuple[str, ...] = ("phone", "alert", "api")

INCIDENT_STATES: tuple[str, ...] = ("new", "dispatched", "on_scene", "closed", "cancelled")
ACTIVE_INCIDENT_STATES: tuple[str, ...] = ("new", "dispatched", "on_scene")

UNIT_STATUSES: tuple[str, ...] = (
    "available", "dispatched", "en_route", "on_scene", "returning", "out_of_service",
)
#: statuses in which a unit belongs to an incident
COMMITTED: tuple[str, ...] = ("dispatched", "en_route", "on_scene")

ASSIGNMENT_STATES: tuple[str, ...] = (
    "dispatched", "en_route", "on_scene", "released", "completed", "cancelled",
)


@dataclass(frozen=True, slots=True)
class Requirement:
    capability: str
    count: int


@dataclass(frozen=True, slots=True)
class IncidentType:
    code: str
    name_zh: str
    name_en: str
    hotline: str
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True, slots=True)
class Plans:
    """Response plans by incident type, read from ``config/dispatch_plans.json``."""

    types: tuple[IncidentType, ...]
    level_multiplier: tuple[tuple[str, int], ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.types)

    def get(self, code: str) -> IncidentType:
        for t in self.types:
            if t.code == code:
                return t
        raise KeyError(code)

    def plan(self, code: str, level: str) -> tuple[Requirement, ...]:
        """Requirements of ``code`` scaled for ``level``."""
        mult = dict(self.level_multiplier)[level]
        return tuple(Requirement(r.capability, r.count * mult) for r in self.get(code).requirements)


@lru_cache(maxsize=2)
def load_plans(path: Path = PLANS_FILE) -> Plans:
    raw = json.loads(path.read_text(encoding="utf-8"))
    types = tuple(
        IncidentType(code, v["zh"], v["en"], v["hotline"],
                     tuple(Requirement(r["capability"], int(r["count"]))
                           for r in v["requirements"]))
        for code, v in raw["types"].items()
    )
    mult = tuple((lv, int(raw["level_multiplier"][lv])) for lv in LEVELS)
    return Plans(types, mult)


def mask_phone(phone: str) -> str:
    """Keep the first three and last four digits (``138****5678``), mask the rest.

    >>> mask_phone("13812345678"), mask_phone("110")
    ('138****5678', '***')
    """
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


@dataclass(frozen=True, slots=True)
class Incident:
    id: str
    type: str
    priority: int
    level: str
    lon: float
    lat: float
    district: str
    caller_name: str
    caller_phone: str
    description: str
    source: str
    state: str
    created_ms: int
    updated_ms: int
    created_by: str
    version: int

    def as_json(self, *, show_phone: bool) -> dict[str, Any]:
        d = asdict(self)
        if not show_phone:
            d["caller_phone"] = mask_phone(self.caller_phone)
        return d


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A unit's dispatch status (the static fleet comes from the city)."""

    unit_id: str
    kind: str
    station_id: str
    capabilities: tuple[str, ...]
    status: str
    incident_id: str | None
    status_since_ms: int
    lon: float
    lat: float
    version: int

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["capabilities"] = list(self.capabilities)
        return d


@dataclass(frozen=True, slots=True)
class Assignment:
    id: int
    incident_id: str
    unit_id: str
    state: str
    eta_s: float
    assigned_ms: int
    assigned_by: str
    en_route_ms: int | None
    on_scene_ms: int | None
    released_ms: int | None
    completed_ms: int | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    ts_ms: int
    actor: str
    action: str
    entity: str
    entity_id: str
    incident_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def as_json(self, *, show_phone: bool) -> dict[str, Any]:
        d = asdict(self)
        if not show_phone:
            for side in ("before", "after"):
                doc = d[side]
                if isinstance(doc, dict) and isinstance(doc.get("caller_phone"), str):
                    d[side] = {**doc, "caller_phone": mask_phone(doc["caller_phone"])}
        return d
