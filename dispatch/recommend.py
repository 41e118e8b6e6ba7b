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


class UnitTable:
    """The fleet's static part as arrays, ranked against changing availability.

    Node, access leg, turnout and capabilities do not change between requests, so
    they are laid out once; a recommendation is then a handful of numpy operations
    plus Python work only for the rows it returns.

    >>> import numpy as np
    >>> t = UnitTable([UnitInput("A", "ambulance", "S1", ("ems_bls",), 0),
    ...                UnitInput("B", "ambulance", "S2", ("ems_bls",), 1)])
    >>> [c.unit_id for c in t.rank(np.array([300.0, 120.0]), (Requirement("ems_bls", 1),),
    ...                            available=np.array([True, False]))]
    ['A']
    """

    def __init__(self, units: Sequence[UnitInput]) -> None:
        self.units = tuple(units)
        n = len(self.units)
        self.node = np.fromiter((u.node for u in self.units), np.int64, n)
        self.access_s = np.fromiter((u.access_s for u in self.units), np.float64, n)
        self.turnout_s = np.fromiter((TURNOUT_S.get(u.kind, 80.0) for u in self.units),
                                     np.float64, n)
        vocab = sorted({c for u in self.units for c in u.capabilities})
        self._cap_col = {c: i for i, c in enumerate(vocab)}
        self.caps = np.zeros((n, len(vocab)), bool)
        for i, u in enumerate(self.units):
            self.caps[i, [self._cap_col[c] for c in u.capabilities]] = True
        ids = np.array([u.unit_id for u in self.units], dtype=object)
        self._id_rank = np.empty(n, np.int64)
        self._id_rank[np.argsort(ids, kind="stable")] = np.arange(n)

    def __len__(self) -> int:
        return len(self.units)

    def rank(self, times_to_incident: npt.NDArray[np.float64],
             requirements: Sequence[Requirement],
             committed_caps: Iterable[tuple[str, ...]] = (),
             available: npt.NDArray[np.bool_] | None = None,
             limit: int | None = None) -> list[Candidate]:
        """Same contract as :func:`rank`; ``available`` masks the rows that may be sent."""
        wanted = {r.capability for r in requirements}
        need = outstanding(requirements, committed_caps)
        cols = [self._cap_col[c] for c in sorted(wanted) if c in self._cap_col]
        if not cols or not self.units:
            return []
        ok = self.caps[:, cols].any(axis=1)
        if available is not None:
            ok &= available
        travel = np.asarray(times_to_incident, np.float64)[self.node] + self.access_s
        ok &= np.isfinite(travel)
        idx = np.flatnonzero(ok)
        eta = travel[idx] + self.turnout_s[idx]
        order = idx[np.lexsort((self._id_rank[idx], eta))]
        out: list[Candidate] = []
        for i in order.tolist():
            u = self.units[i]
            matches = tuple(c for c in u.capabilities if c in wanted)
            fills = [c for c in matches if need.get(c, 0) > 0]
            if limit is not None and len(out) >= limit and not fills:
                if not any(v > 0 for v in need.values()):
                    break  # past the limit and the plan is full: nothing more to keep
                continue
            for c in fills:
                need[c] -= 1
            t = float(travel[i])
            out.append(Candidate(u.unit_id, u.kind, u.station_id, matches, t,
                                 float(self.turnout_s[i]), t + float(self.turnout_s[i]),
                                 bool(fills)))
        return out


def rank(units: Sequence[UnitInput], times_to_incident: npt.NDArray[np.float64],
         requirements: Sequence[Requirement],
         committed_caps: Iterable[tuple[str, ...]] = (), limit: int | None = None
         ) -> list[Candidate]:
    """Candidates sorted by ``eta_s`` (ties by unit id); in-plan units always included."""
    return UnitTable(units).rank(times_to_incident, requirements, committed_caps, limit=limit)
