"""Allowed status transitions and status timers with overdue flags.

A unit goes ``available → dispatched → en_route → on_scene → returning → available``;
a dispatch can be cancelled before arrival (``dispatched/en_route → returning``) and
an idle unit can be taken out of service. An incident goes ``new → dispatched →
on_scene → closed`` (or ``cancelled`` before anyone arrives).

Timer limits (seconds in a status before it is flagged overdue):

- incident ``new`` (not yet dispatched): 180 s — China's "3-minute dispatch" target
  for 120 (国卫医发〔2020〕19号, DOMAIN.md §6.3);
- unit ``dispatched`` (turnout): 80 s fire/rescue/hazmat, 60 s EMS and police —
  NFPA 1710 turnout times;
- unit ``en_route``: the planned travel time × 1.5 (at least 240 s, NFPA 1710's
  first-engine travel target), so a stuck or lost unit is noticed.

>>> can_unit("available", "dispatched"), can_unit("on_scene", "dispatched")
(True, False)
>>> timer(1_000, 200_000, limit_s=180.0)
{'elapsed_s': 199.0, 'limit_s': 180.0, 'overdue': True}
"""

from __future__ import annotations

from dispatch.errors import InvalidTransition

UNIT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "available": ("dispatched", "out_of_service"),
    "dispatched": ("en_route", "on_scene", "returning"),
    "en_route": ("on_scene", "returning"),
    "on_scene": ("returning",),
    "returning": ("available", "out_of_service"),
    "out_of_service": ("available",),
}

INCIDENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("dispatched", "cancelled", "closed"),
    "dispatched": ("on_scene", "cancelled", "closed"),
    "on_scene": ("closed",),
    "closed": (),
    "cancelled": (),
}

#: assignment state that follows a unit status
ASSIGNMENT_FOR_UNIT: dict[str, str] = {
    "dispatched": "dispatched", "en_route": "en_route", "on_scene": "on_scene",
    "returning": "released",
}

TURNOUT_S: dict[str, float] = {
    "fire_engine": 80.0, "ladder": 80.0, "hazmat": 80.0, "rescue": 80.0,
    "ambulance": 60.0, "police_car": 60.0,
}
NEW_INCIDENT_LIMIT_S = 180.0
MIN_TRAVEL_LIMIT_S = 240.0


def can_unit(old: str, new: str) -> bool:
    return new in UNIT_TRANSITIONS.get(old, ())


def check_unit(old: str, new: str) -> None:
    if not can_unit(old, new):
        raise InvalidTransition(f"unit status {old} cannot change to {new}")


def check_incident(old: str, new: str) -> None:
    if new not in INCIDENT_TRANSITIONS.get(old, ()):
        raise InvalidTransition(f"incident state {old} cannot change to {new}")


def unit_limit_s(kind: str, status: str, planned_travel_s: float | None = None) -> float | None:
    """How long a unit of ``kind`` may stay in ``status`` (None: no limit)."""
    if status == "dispatched":
        return TURNOUT_S.get(kind, 80.0)
    if status == "en_route":
        return max(MIN_TRAVEL_LIMIT_S, 1.5 * (planned_travel_s or 0.0))
    return None


def incident_limit_s(state: str) -> float | None:
    return NEW_INCIDENT_LIMIT_S if state == "new" else None


def timer(since_ms: int, now_ms: int, limit_s: float | None) -> dict[str, float | bool | None]:
    """Elapsed time in a status and whether it exceeds the limit."""
    elapsed = max(0.0, (now_ms - since_ms) / 1000.0)
    return {"elapsed_s": elapsed, "limit_s": limit_s,
            "overdue": bool(limit_s is not None and elapsed > limit_s)}
