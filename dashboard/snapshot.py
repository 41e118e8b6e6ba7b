"""Read the state store into the plain views the layouts render (the only reader here)."""

from __future__ import annotations

import numpy as np

from config.city.registry import SensorRegistry
from dashboard.health import HealthSnapshot
from layouts.status import DomainRow, SensorRow, StatusView
from streams.messages import DOMAINS
from streams.state import StateStore, latest_column

#: fault codes of the anomaly engine, for display
FAULT_NAMES = {0: "", 1: "stuck", 2: "dropout", 3: "spike", 4: "drift", 5: "out_of_range"}


def health(state: StateStore, now_ms: int, stale_after_s: float, pushed: int = 0) -> HealthSnapshot:
    counters = dict(state.counters())
    counters["pushed"] = counters.get("pushed", 0) + pushed
    return HealthSnapshot(
        counters=counters, newest_ts_ms=state.newest_ts(), now_ms=now_ms,
        stale_after_s=stale_after_s,
    )


def status_view(
    state: StateStore, registry: SensorRegistry, now_ms: int, stale_after_s: float,
    pushed: int = 0, top_n: int = 15,
) -> StatusView:
    h = health(state, now_ms, stale_after_s, pushed)
    snap = state.latest_all()
    n = len(registry)
    values = latest_column(snap, "value", n)
    ts = latest_column(snap, "ts", n)
    score = np.nan_to_num(latest_column(snap, "score", n), nan=0.0)
    fault = np.nan_to_num(latest_column(snap, "fault", n), nan=0.0).astype(np.int64)
    fresh = np.isfinite(ts) & (ts >= now_ms - 5 * 60_000)
    rows = []
    for code, domain in enumerate(DOMAINS):
        m = registry.domain_code == code
        if not m.any():
            continue
        rows.append(DomainRow(domain, int(m.sum()), int((m & fresh).sum()),
                              int((m & (score >= 0.5)).sum()), int((m & (fault > 0)).sum())))
    order = np.argsort(-score, kind="stable")[:top_n]
    top = []
    for i in order:
        if score[i] <= 0:
            break
        s = registry.sensors[int(i)]
        top.append(SensorRow(s.sensor_id, s.metric, s.district, float(values[i]), float(score[i]),
                             FAULT_NAMES.get(int(fault[i]), str(int(fault[i])))))
    counters = h.as_json()["counters"]
    dead = {k.removeprefix("dead_letter."): v for k, v in counters.items()
            if k.startswith("dead_letter.")}
    return StatusView(h.status, counters, h.age_s, rows, dead, top, now_ms)


