"""Conditions → alerts: deduplication per (source, type) and grouping into area alerts.

A *condition* is one hysteresis slot in alarm (a sensor, or an air station). Its
*source* is the asset it measures (road segment, water node, station, hazard source)
for city alerts, or the sensor itself for sensor alerts; all conditions of one source
share one alert (deduplication). When ``grouping.min_members`` sources of the same type
are in alarm in one area (district, or H3 grid cell for sensor alerts), they become one
*area alert* (source ``district:<adcode>`` / ``cell:<h3>``): new conditions there join it,
single alerts already open there are merged into it (logged as ``merge``).

The level is recomputed whenever membership or ranks change:
``rules.level_for(max rank, members, districts, hazard grade)``.
This runs only on transitions (rare), so plain Python is fine here; the per-reading
work is in :mod:`alerts.rules` and :mod:`alerts.hysteresis`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from alerts.config import AlertRules, rank_to_level
from alerts.lifecycle import AlertService
from alerts.model import ACTIVE, Alert
from alerts.titles import title
from config.city.registry import SensorRegistry

Names = Mapping[str, tuple[str, str]]


@dataclass
class OpenAlert:
    """The engine's view of one alert it keeps open."""

    alert_id: str
    type: str
    source: str
    area: str
    members: dict[int, int] = field(default_factory=dict)  # slot → rank
    values: dict[int, float] = field(default_factory=dict)
    level: int = 4
    last_ts: int = 0


class AlertGrouper:
    """Keeps the open alerts of one engine worker and turns transitions into service calls."""

    def __init__(self, registry: SensorRegistry, rules: AlertRules, service: AlertService,
                 hazard_grades: Mapping[str, int] | None = None,
                 district_names: Names | None = None, asset_names: Names | None = None,
                 slot_sensors: Mapping[int, tuple[str, ...]] | None = None) -> None:
        self.registry = registry
        self.rules = rules
        self.service = service
        self.grades = dict(hazard_grades or {})
        self.district_names = dict(district_names or {})
        self.asset_names = dict(asset_names or {})
        self.slot_sensors = dict(slot_sensors or {})
        self.open: dict[tuple[str, str], OpenAlert] = {}  # (source, type)
        self.member_of: dict[tuple[str, int], tuple[str, str]] = {}  # (type, slot)
        self.raised = 0
        self.cleared = 0
        #: (type, slot) of alerts an operator cleared by hand; the engine resets those slots
        self.dropped: list[tuple[str, int]] = []

    # ------------------------------------------------------------------ naming
    def source_of(self, type_: str, slot: int) -> str:
        s = self.registry.sensors[slot]
        if self.rules.rule(type_).kind == "sensor":
            return s.sensor_id
        return s.asset_id or s.sensor_id

    def area_of(self, type_: str, slot: int) -> str:
        g = self.rules.rule(type_).group_by
        s = self.registry.sensors[slot]
        if g == "district" and s.district:
            return f"district:{s.district}"
        if g == "cell" and s.cell:
            return f"cell:{s.cell}"
        return ""

    def _where(self, oa: OpenAlert) -> tuple[str, str]:
        if oa.source.startswith(("district:", "cell:")):
            d = self.registry.sensors[next(iter(oa.members))].district
            zh, en = self.district_names.get(d, (d, d))
            if oa.source.startswith("cell:"):
                return f"{zh}网格{oa.source[5:]}", f"grid cell {oa.source[5:]}, {en}"
            return zh, en
        s = self.registry.sensors[next(iter(oa.members))]
        dz, de = self.district_names.get(s.district, (s.district, s.district))
        az, ae = self.asset_names.get(oa.source, (oa.source, oa.source))
        return f"{dz} {az}", f"{ae}, {de}"

    def _sensors(self, slots: list[int]) -> tuple[str, ...]:
        out: list[str] = []
        for s in slots:
            out.extend(self.slot_sensors.get(s, (self.registry.ids[s],)))
        return tuple(dict.fromkeys(out))

    def _shape(self, oa: OpenAlert) -> dict[str, object]:
        """Engine-owned fields of the alert from its members."""
        rule = self.rules.rule(oa.type)
        slots = sorted(oa.members)
        sensors = [self.registry.sensors[s] for s in slots]
        sources = {self.source_of(oa.type, s) for s in slots}
        districts = tuple(sorted({s.district for s in sensors if s.district}))
        rank = max(oa.members.values())
        if rule.kind == "sensor":
            level = rank_to_level(rank)
        else:
            grade = min((self.grades.get(src, 0) for src in sources if self.grades.get(src, 0)),
                        default=0)
            level = self.rules.level_for(rank, len(sources), len(districts), grade)
        vals = [v for v in oa.values.values() if math.isfinite(v)]
        value = max(vals) if vals else math.nan
        if oa.type == "water_pressure" and vals:
            value = min(vals)
        tz, te = title(oa.type, *self._where(oa), rank, value, len(sources))
        return {
            "level": int(level), "sensor_ids": self._sensors(slots),
            "districts": districts, "district": districts[0] if districts else "",
            "lon": sum(s.lon for s in sensors) / len(sensors),
            "lat": sum(s.lat for s in sensors) / len(sensors),
            "title_zh": tz, "title_en": te, "value": value,
        }

    # ------------------------------------------------------------------ transitions
    def raise_many(self, type_: str, items: list[tuple[int, int, int, float]]) -> None:
        """New conditions ``(slot, rank, ts, value)`` of one type from one batch."""
        rule = self.rules.rule(type_)
        by_area: dict[str, list[tuple[int, int, int, float]]] = {}
        for it in items:
            by_area.setdefault(self.area_of(type_, it[0]), []).append(it)
        for area, group in by_area.items():
            akey = (area, type_)
            if area and akey in self.open:
                self._join(self.open[akey], group)
                continue
            singles = [k for k, oa in self.open.items() if oa.type == type_ and oa.area == area
                       and not oa.source.startswith(("district:", "cell:"))]
            new_sources = {self.source_of(type_, s) for s, *_ in group}
            existing = {k[0] for k in singles}
            if (area and rule.group_by != "none"
                    and len(new_sources | existing) >= self.rules.group_min_members):
                self._open_area(type_, area, group, singles)
                continue
            for it in group:
                key = (self.source_of(type_, it[0]), type_)
                if key in self.open:
                    self._join(self.open[key], [it])
                else:
                    self._open_single(type_, key[0], area, it)

    def _open(self, oa: OpenAlert, ts: int) -> None:
        rule = self.rules.rule(oa.type)
        f = self._shape(oa)
        draft = Alert.new("", oa.type, rule.kind, oa.source, f.pop("level"),  # type: ignore[arg-type]
                          f.pop("title_zh"), f.pop("title_en"), f.pop("sensor_ids"),  # type: ignore[arg-type]
                          f.pop("lon"), f.pop("lat"), f.pop("district"), ts,  # type: ignore[arg-type]
                          area=oa.area, **f)
        a = self.service.raise_alert(draft)
        oa.alert_id, oa.level, oa.last_ts = a.id, a.level, a.last_ts
        self.open[(oa.source, oa.type)] = oa
        for slot in oa.members:
            self.member_of[(oa.type, slot)] = (oa.source, oa.type)
        self.raised += 1

    def _open_single(self, type_: str, source: str, area: str,
                     it: tuple[int, int, int, float]) -> None:
        slot, rank, ts, value = it
        oa = OpenAlert("", type_, source, area, {slot: rank}, {slot: value})
        self._open(oa, ts)

    def _open_area(self, type_: str, area: str, group: list[tuple[int, int, int, float]],
                   singles: list[tuple[str, str]]) -> None:
        ts = min(it[2] for it in group)
        oa = OpenAlert("", type_, area, area)
        for slot, rank, _ts, value in group:
            oa.members[slot] = rank
            oa.values[slot] = value
        absorbed = [self.open.pop(k) for k in singles]
        for old in absorbed:
            oa.members.update(old.members)
            oa.values.update(old.values)
        self._open(oa, ts)
        for old in absorbed:
            self.service.merge_into(old.alert_id, oa.alert_id, ts)

    def _join(self, oa: OpenAlert, group: list[tuple[int, int, int, float]]) -> None:
        for slot, rank, _ts, value in group:
            oa.members[slot] = max(rank, oa.members.get(slot, 0))
            oa.values[slot] = value
            self.member_of[(oa.type, slot)] = (oa.source, oa.type)
        self._push(oa, max(it[2] for it in group))

    def _push(self, oa: OpenAlert, ts: int) -> Alert | None:
        f = self._shape(oa)
        a = self.service.engine_update(oa.alert_id, ts, **f)
        if a.state != ACTIVE:  # cleared by an operator meanwhile: forget it
            self._forget(oa)
            return None
        oa.level, oa.last_ts = a.level, a.last_ts
        return a

    def _forget(self, oa: OpenAlert) -> list[int]:
        self.open.pop((oa.source, oa.type), None)
        for slot in oa.members:
            self.member_of.pop((oa.type, slot), None)
            self.dropped.append((oa.type, slot))
        return list(oa.members)

    def upgrade(self, type_: str, slot: int, rank: int, ts: int, value: float) -> None:
        key = self.member_of.get((type_, slot))
        if key is None or key not in self.open:
            return
        oa = self.open[key]
        oa.members[slot] = max(rank, oa.members.get(slot, 0))
        oa.values[slot] = value
        self._push(oa, ts)

    def clear(self, type_: str, slot: int, ts: int) -> None:
        key = self.member_of.pop((type_, slot), None)
        if key is None or key not in self.open:
            return
        oa = self.open[key]
        oa.members.pop(slot, None)
        oa.values.pop(slot, None)
        if oa.members:
            self._push(oa, ts)
            return
        del self.open[key]
        self.service.auto_clear(oa.alert_id, ts)
        self.cleared += 1

    def refresh(self, last_breach: Mapping[str, object], ts: int) -> None:
        """Move ``last_ts`` of open alerts forward (called every ``refresh_ms`` of stream time).

        ``last_breach[type](slots)`` returns the newest breach time of those slots.
        """
        for oa in list(self.open.values()):
            fn = last_breach.get(oa.type)
            if fn is None:
                continue
            newest = int(fn(list(oa.members)))  # type: ignore[operator]
            if newest > oa.last_ts:
                a = self.service.engine_update(oa.alert_id, newest)
                if a.state != ACTIVE:
                    self._forget(oa)
                else:
                    oa.last_ts = a.last_ts
