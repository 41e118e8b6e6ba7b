"""The configurable alert rules and levels, read once from ``config/alert_rules.json``.

Why a file: thresholds, hysteresis counts and the level mapping are policy that a city
changes without touching code. Severity inside the code is a *rank* 1..4 (higher is
worse) that maps to the emergency level IV..I (:mod:`models.indices.levels`).

>>> cfg = load_rules()
>>> cfg.rule("water_pressure").params["limit_mpa"], rank_to_level(4).name
(0.14, 'I')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.settings import REPO_ROOT
from models.indices.levels import EmergencyLevel

RULES_FILE = REPO_ROOT / "config" / "alert_rules.json"

#: Alert kinds: a city condition (operators dispatch) or a sensor problem (maintenance).
KINDS = ("city", "sensor")
GROUP_BY = ("district", "cell", "none")


def rank_to_level(rank: int) -> EmergencyLevel:
    """Rank 1 (least severe) → IV … rank ≥ 4 → I.

    >>> rank_to_level(2)
    <EmergencyLevel.III: 3>
    """
    return EmergencyLevel(max(1, 5 - max(1, min(4, int(rank)))))


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """One alert type: kind, grouping area, CAP category, hysteresis and its own parameters."""

    name: str
    kind: str
    group_by: str
    cap_category: str
    raise_after: int
    clear_after: int
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CapConfig:
    sender: str
    sender_code: str  # 14 digits: GB/T 2260 division (6) + agency (3) + 3 + 2
    utc_offset_min: int
    scope: str
    web: str


#: CAP 1.2 <urgency> and <certainty> values a rule may choose for its exported alerts
CAP_URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
CAP_CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")


@dataclass(frozen=True, slots=True)
class AlertRules:
    rules: Mapping[str, RuleConfig]
    group_min_members: int
    area_bumps: tuple[tuple[int, int, int], ...]  # (min_members, min_districts, bump)
    hazard_grade_bump: Mapping[int, int]
    escalate_after_ms: int
    escalate_max_level: EmergencyLevel
    escalate_kinds: tuple[str, ...]
    cap: CapConfig
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    def rule(self, name: str) -> RuleConfig:
        try:
            return self.rules[name]
        except KeyError:
            raise KeyError(f"unknown alert type {name!r}; known: {sorted(self.rules)}") from None

    def level_for(self, rank: int, members: int = 1, districts: int = 1,
                  hazard_grade: int = 0) -> EmergencyLevel:
        """Level from the rule's rank, bumped by the affected area and the hazard R grade.

        >>> load_rules().level_for(1, members=6, districts=3)
        <EmergencyLevel.II: 2>
        """
        r = rank + self.hazard_grade_bump.get(int(hazard_grade), 0)
        for min_members, min_districts, bump in self.area_bumps:
            if members >= min_members and districts >= min_districts:
                r += bump
        return rank_to_level(r)


def parse_rules(doc: Mapping[str, Any]) -> AlertRules:
    """Validate a rules document (the JSON's content) into :class:`AlertRules`."""
    hyst = doc.get("hysteresis", {})
    k0, m0 = int(hyst.get("raise_after", 2)), int(hyst.get("clear_after", 3))
    rules: dict[str, RuleConfig] = {}
    for name, r in doc["rules"].items():
        kind = r.get("kind", "city")
        group_by = r.get("group_by", "district")
        if kind not in KINDS or group_by not in GROUP_BY:
            raise ValueError(f"rule {name}: kind must be in {KINDS}, group_by in {GROUP_BY}")
        k, m = int(r.get("raise_after", k0)), int(r.get("clear_after", m0))
        if k < 1 or m < 1:
            raise ValueError(f"rule {name}: raise_after and clear_after must be ≥ 1")
        for key, allowed in (("cap_urgency", CAP_URGENCY), ("cap_certainty", CAP_CERTAINTY)):
            if key in r and r[key] not in allowed:
                raise ValueError(f"rule {name}: {key} must be one of {allowed} (CAP 1.2)")
        rules[name] = RuleConfig(name, kind, group_by, r.get("cap_category", "Other"), k, m,
                                 {key: v for key, v in r.items()})
    bumps = tuple(
        (int(b.get("min_members", 1)), int(b.get("min_districts", 1)), int(b["bump"]))
        for b in doc.get("area_bumps", ())
    )
    esc = doc.get("escalation", {})
    cap = doc.get("cap", {})
    code = str(cap.get("sender_code", "35010000000000"))
    if len(code) != 14 or not code.isdigit():
        raise ValueError("cap.sender_code must be 14 digits (GB/T 35965.1 identifier prefix)")
    return AlertRules(
        rules=rules,
        group_min_members=int(doc.get("grouping", {}).get("min_members", 3)),
        area_bumps=bumps,
        hazard_grade_bump={int(g): int(b) for g, b in doc.get("hazard_grade_bump", {}).items()},
        escalate_after_ms=int(float(esc.get("unacknowledged_after_min", 10)) * 60_000),
        escalate_max_level=EmergencyLevel(int(esc.get("max_level", 2))),
        escalate_kinds=tuple(esc.get("kinds", ("city",))),
        cap=CapConfig(str(cap.get("sender", "ioc.example.cn")), code,
                      int(cap.get("utc_offset_min", 480)), str(cap.get("scope", "Public")),
                      str(cap.get("web", ""))),
        raw=doc,
    )


def load_rules(path: Path = RULES_FILE, overrides: Mapping[str, Any] | None = None) -> AlertRules:
    """Read the rules file; ``overrides`` replaces top-level keys or single rules (tests).

    >>> load_rules(overrides={"rules": {"aqi": {"raise_after": 1}}}).rule("aqi").raise_after
    1
    """
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    for key, value in (overrides or {}).items():
        if key == "rules":
            for name, patch in value.items():
                doc["rules"][name] = {**doc["rules"].get(name, {}), **patch}
        elif isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return parse_rules(doc)
