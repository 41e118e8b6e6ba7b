"""Rank available units for an incident by ETA, honouring the response plan.

Pure: the caller supplies each unit's road node, the travel times from every node
to the incident (one reverse Dijkstra) and the plan's requirements. ``eta_s`` is
turnout (NFPA 1710: 60 s EMS/police, 80 s fire) plus travel. A unit is *in plan*
when, taking units fastest first, it fills a capability the plan still needs
(counting units already committed to the incident). Units that match none of the
plan's capabilities are not candidates.

>>> import numpy as np
>>> from dispatch.model import Requirement
>>> units = [UnitInput("A", "ambulance", "S1", ("ems_bls",), 0),
...          UnitInput("B", "ambulance", "S2", ("ems_bls",), 1),
...          UnitInput("P", "police_car", "S3", ("law_enforcement",), 1)]
>>> c = rank(units, np.array([300.0, 120.0]), (Requirement("ems_bls", 1),))
>>> [(x.unit_id, x.eta_s, x.in_plan) for x in c]
[('B', 180.0, True), ('A', 360.0, False)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dispatch.lifecycle import TURNOUT_S
from dispatch.model import Requirement


@dataclass(frozen=True, slots=True)
class UnitInput:
    unit_id: str
    kind: str
    station_id: str
    capabilities: tuple[str, ...]
    node: int
    #: seconds to add to the graph time (e.g. from the station's door to its road node)
    access_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Candidate:
    unit_id: str
    kind: str
    station_id: str
    matches: tuple[str, ...]
    travel_s: float
    turnout_s: float
    eta_s: float
    in_plan: bool
    coverage_impact: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"unit_id": self.unit_id, "kind": self.kind, "station_id": self.station_id,
                "matches": list(self.matches), "travel_s": round(self.travel_s, 1),
                "turnout_s": self.turnout_s, "eta_s": round(self.eta_s, 1),
                "in_plan": self.in_plan, "coverage_impact": self.coverage_impact}


def outstanding(requirements: Sequence[Requirement],
                committed_caps: Iterable[tuple[str, ...]]) -> dict[str, int]:
    """What the plan still needs once the committed units' capabilities are counted."""
    need = {r.capability: r.count for r in requirements}
    have: Counter[str] = Counter()
    for caps in committed_caps:
        for c in set(caps):
            have[c] += 1
    return {c: max(0, n - have[c]) for c, n in need.items()}


def rank(units: Sequence[UnitInput], times_to_incident: npt.NDArray[np.float64],
         requirements: Sequence[Requirement],
         committed_caps: Iterable[tuple[str, ...]] = (), limit: int | None = None
         ) -> list[Candidate]:
    """Candidates sorted by ``eta_s`` (ties by unit id); in-plan units always included."""
    wanted = {r.capability for r in requirements}
    need = outstanding(requirements, committed_caps)
    rows = []
    for u in units:
        matches = tuple(c for c in u.capabilities if c in wanted)
        if not matches:
            continue
        travel = float(times_to_incident[u.node]) + u.access_s
        if not np.isfinite(travel):
            continue
        turnout = TURNOUT_S.get(u.kind, 80.0)
        rows.append((travel + turnout, u.unit_id, u, matches, travel, turnout))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = []
    for eta, _, u, matches, travel, turnout in rows:
        fills = [c for c in matches if need.get(c, 0) > 0]
        for c in fills:
            need[c] -= 1
        out.append(Candidate(u.unit_id, u.kind, u.station_id, matches, travel, turnout, eta,
                             bool(fills)))
    if limit is not None and len(out) > limit:
        keep = [c for i, c in enumerate(out) if i < limit or c.in_plan]
        out = keep
    return out
