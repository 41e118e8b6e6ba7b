"""``/healthz`` JSON and ``/metrics`` Prometheus text from the shared counters.

Every stage adds to counters in the state store (so a web process in a scaled-out
deployment sees the engine workers' counts); the web process adds its own
``pushed`` count. This module only formats.

>>> snap = HealthSnapshot(counters={"readings_in": 3}, newest_ts_ms=1_000, now_ms=3_500,
...                       stale_after_s=10.0)
>>> snap.as_json()["status"], snap.as_json()["newest_reading_age_s"]
('ok', 2.5)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The per-stage counters DESIGN.md §4 names; always present (0 when nothing happened yet).
STAGE_COUNTERS = ("readings_in", "scored", "pushed", "dead_lettered")


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    counters: Mapping[str, float]
    newest_ts_ms: int | None
    now_ms: int
    stale_after_s: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def age_s(self) -> float | None:
        if self.newest_ts_ms is None:
            return None
        return max(0.0, (self.now_ms - self.newest_ts_ms) / 1000.0)

    @property
    def status(self) -> str:
        age = self.age_s
        if age is None:
            return "starting"
        return "ok" if age <= self.stale_after_s else "stale"

    def as_json(self) -> dict[str, Any]:
        counters: dict[str, float | int] = {k: 0 for k in STAGE_COUNTERS}
        counters.update({k: _num(v) for k, v in self.counters.items()})
        return {
            "status": self.status,
            "counters": counters,
            "newest_reading_age_s": self.age_s,
            **dict(self.extra),
        }

    def as_prometheus(self) -> str:
        lines: list[str] = []
        counters = {k: 0.0 for k in STAGE_COUNTERS}
        counters.update({k: float(v) for k, v in self.counters.items()})
        for name in sorted(counters):
            metric = "citycc_" + _metric_name(name) + "_total"
            lines.append(f"# TYPE {metric} counter")
            lines.append(f"{metric} {_fmt(counters[name])}")
        age = self.age_s
        lines.append("# TYPE citycc_newest_reading_age_seconds gauge")
        age_text = _fmt(age if age is not None else math.nan)
        lines.append(f"citycc_newest_reading_age_seconds {age_text}")
        lines.append("# TYPE citycc_up gauge")
        lines.append(f"citycc_up {1 if self.status == 'ok' else 0}")
        return "\n".join(lines) + "\n"


def _metric_name(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def _num(v: float) -> float | int:
    f = float(v)
    return int(f) if f.is_integer() else f


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    return str(int(v)) if float(v).is_integer() else repr(float(v))
