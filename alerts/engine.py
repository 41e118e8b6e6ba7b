"""The alert engine: the engine worker's ``after_scoring`` step (streams/runtime.py).

Per scored batch, all per-reading work is numpy over the whole batch:

1. rows are sorted by (sensor, time) and split into *waves* by their occurrence
   number per sensor (a 5-s sensor has 12 rows in a 1-min batch: 12 waves; at 1-s ticks
   one wave), so each sensor's hysteresis advances reading by reading, in order;
2. per wave: standards (:class:`~alerts.rules.RuleTables`), station AQI from running
   means, anomaly score ≥ threshold, detector fault codes → three
   :class:`~alerts.hysteresis.HysteresisBank` s;
3. stale sensors (no reading for ``periods`` × their period) are checked every few
   seconds of stream time;
4. only the transitions (rare) go to :class:`~alerts.grouping.AlertGrouper`, which
   deduplicates, groups into area alerts and calls the lifecycle service.

A fault flagged by the detector (stuck, spike, dropout) makes a *sensor* alert. Readings
with the faults listed in ``sensor_fault.veto_city_rules`` (stuck, dropout) are kept out
of the city rules, so a broken sensor cannot raise a city alert; a "spike" is not vetoed —
a real leak or burst rises fast enough to look like one, and a gas set-point must alarm.
Conversely a reading that breaches a city rule does not count as a sensor fault.

>>> from config.city import load_city
>>> from alerts.lifecycle import AlertService
>>> from alerts.store import AlertStore, Database
>>> from streams.clock import ManualClock
>>> city = load_city(scale=0.05, seed=7)
>>> eng = AlertEngine.for_city(city, AlertService(AlertStore(Database("sqlite://:memory:")),
...                                               ManualClock(0)))
>>> bool(eng.tables.std.any())
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from alerts.config import AlertRules
from alerts.grouping import AlertGrouper, Names
from alerts.hysteresis import CLEAR, RAISE, UPGRADE, HysteresisBank
from alerts.lifecycle import AlertService
from alerts.rise import ParticulateRise, RiseParams
from alerts.rules import AQI, DROP_TYPES, STD_TYPES, RuleTables
from config.city.registry import SensorRegistry
from models.anomaly.config import FAULT_NAMES
from streams.messages import QUALITY_BAD, ReadingBatch, ScoreBatch

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: stream-time periods of the engine's slower duties
STALE_CHECK_MS = 5_000
REFRESH_MS = 60_000
ESCALATE_CHECK_MS = 30_000

Event = tuple[str, int, int, int, int, float]  # (type, slot, event, rank, ts, value)


class AlertEngine:
    """Rules + hysteresis + grouping for the sensors of one engine worker.

    Call it as an ``after_scoring`` step: ``engine(batch, idx, scores)``.
    """

    def __init__(self, registry: SensorRegistry, service: AlertService,
                 rules: AlertRules | None = None, hazard_grades: Mapping[str, int] | None = None,
                 district_names: Names | None = None, asset_names: Names | None = None) -> None:
        self.registry = registry
        self.rules = rules or service.rules
        self.service = service
        t = self.tables = RuleTables(registry, self.rules)
        n = len(registry)
        k = np.ones(n, np.int64)
        m = np.ones(n, np.int64)
        for code, name in enumerate(STD_TYPES):
            if code:
                r = self.rules.rule(name)
                k[t.std == code] = r.raise_after
                m[t.std == code] = r.clear_after
        self.std_bank = HysteresisBank(k, m)
        kd = np.ones(n, np.int64)
        md = np.ones(n, np.int64)
        for code, name in enumerate(DROP_TYPES):
            if code and name in self.rules.rules:
                r = self.rules.rule(name)
                kd[t.drop == code] = r.raise_after
                md[t.drop == code] = r.clear_after
        self.drop_bank = HysteresisBank(kd, md)
        self.baseline = np.full(n, np.nan)
        self.baseline_ts = np.zeros(n, np.int64)
        self.baseline_n = np.zeros(n, np.int64)
        an, fa = self.rules.rule("anomaly"), self.rules.rule("sensor_fault")
        self.anomaly_bank = HysteresisBank(np.full(n, an.raise_after), np.full(n, an.clear_after))
        self.fault_bank = HysteresisBank(np.full(n, fa.raise_after), np.full(n, fa.clear_after))
        fc = self.rules.rule("forecast")
        self.forecast_bank = HysteresisBank(np.full(n, fc.raise_after),
                                            np.full(n, fc.clear_after))
        self.forecast_min_confidence = int(fc.params.get("min_confidence", 2))
        self._init_rise(n)
        self.forecast_rank = int(fc.params.get("rank", 1))
        metrics = an.params.get("metrics", ["*"])
        self.anomaly_on = np.array([("*" in metrics or s.metric in metrics)
                                    for s in registry.sensors], bool).reshape(n)
        self.anomaly_score = float(an.params.get("score", 0.9))
        self.anomaly_clear = float(an.params.get("clear_score", 0.5))
        self.anomaly_rank = int(an.params.get("rank", 1))
        veto = fa.params.get("veto_city_rules", ["stuck", "dropout"])
        self.veto_faults = np.array([c for c, name in FAULT_NAMES.items() if name in veto and c],
                                    np.int8)
        st = self.rules.rule("sensor_stale").params
        self.stale_after_ms = np.maximum(registry.period_s * int(st.get("periods", 5)),
                                         int(st.get("min_gap_s", 60))).astype(np.int64) * 1000
        self.means = np.full(n, np.nan)
        self.mean_ts = np.zeros(n, np.int64)
        self.last_seen = np.zeros(n, np.int64)
        self.stale = np.zeros(n, bool)
        slot_sensors = {int(t.station_slot[s]): tuple(registry.ids[j] for j in row if j >= 0)
                        for s, row in enumerate(t.station_sensors)}
        self.grouper = AlertGrouper(registry, self.rules, service, hazard_grades,
                                    district_names, asset_names, slot_sensors)
        self._next_stale = 0
        self._next_refresh = 0
        self._next_escalate = 0
        self.batches = 0
        self.readings = 0

    def _init_rise(self, n: int) -> None:
        """The ``air_rise`` rule (:mod:`alerts.rise`) on each station's PM2.5 and PM10."""
        t = self.tables
        self.rise: ParticulateRise | None = None
        slots = t.station_slot
        self.rise_bank = HysteresisBank(np.ones(n, np.int64), np.ones(n, np.int64))
        if "air_rise" not in self.rules.rules or not len(t.station_sensors):
            return
        r = self.rules.rule("air_rise")
        self.rise = ParticulateRise(t.station_sensors[:, :2], n, RiseParams.from_rule(r.params))
        self.rise_rank = int(r.params.get("rank", 1))
        self.rise_bank.k[slots] = r.raise_after
        self.rise_bank.m[slots] = r.clear_after

    @staticmethod
    def for_city(city: Any, service: AlertService, rules: AlertRules | None = None
                 ) -> AlertEngine:
        """An engine with the city's district names, asset names and hazard R grades."""
        districts = {d.adcode: (d.name_zh, d.name_en) for d in city.districts}
        grades = {h.source_id: int(h.grade) for h in city.hazard_sources}
        assets: dict[str, tuple[str, str]] = {h.source_id: (h.name_zh, h.name_en)
                                             for h in city.hazard_sources}
        for s in city.registry.sensors:
            name = s.meta.get("name") if s.meta else None
            if isinstance(name, str) and " / " in name and s.asset_id not in assets:
                zh, en = name.split(" / ", 1)
                assets[s.asset_id] = (f"{zh} {s.asset_id}", f"{en} {s.asset_id}")
        return AlertEngine(city.registry, service, rules, grades, districts, assets)

    # ------------------------------------------------------------------ the step
    def __call__(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch) -> None:
        self.process(batch, idx, scores)

    def process(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch) -> None:
        n = len(batch)
        if n == 0:
            return
        idx = np.asarray(idx, np.int64)
        order = np.lexsort((batch.ts, idx))
        si, sts = idx[order], batch.ts[order]
        sv, ssc = batch.values[order], scores.score[order]
        sfa, sq = scores.fault[order], batch.quality[order]
        new_sensor = np.empty(n, bool)
        new_sensor[0] = True
        np.not_equal(si[1:], si[:-1], out=new_sensor[1:])
        pos = np.arange(n)
        occ = pos - np.maximum.accumulate(np.where(new_sensor, pos, 0))
        events: list[Event] = []
        n_waves = int(occ.max()) + 1
        if n_waves == 1:
            self._wave(si, sts, sv, ssc, sfa, sq, events)
        else:
            w_order = np.argsort(occ, kind="stable")
            bounds = np.searchsorted(occ[w_order], np.arange(n_waves + 1))
            for w in range(n_waves):
                r = w_order[bounds[w]:bounds[w + 1]]
                self._wave(si[r], sts[r], sv[r], ssc[r], sfa[r], sq[r], events)
        last = np.empty(n, bool)
        last[-1] = True
        np.not_equal(si[1:], si[:-1], out=last[:-1])
        li, lt = si[last], sts[last]
        self.last_seen[li] = np.maximum(self.last_seen[li], lt)
        back = li[self.stale[li]]
        if back.size:
            self.stale[back] = False
            events.extend(("sensor_stale", int(s), CLEAR, 0, int(self.last_seen[s]), math.nan)
                          for s in back.tolist())
        now = int(sts.max())
        if now >= self._next_stale:
            self._next_stale = now + STALE_CHECK_MS
            events.extend(self._stale_events(now))
        self.batches += 1
        self.readings += n
        if events:
            self._apply(events)
        if now >= self._next_refresh:
            self._next_refresh = now + REFRESH_MS
            self._refresh(now)
        if now >= self._next_escalate:
            self._next_escalate = now + ESCALATE_CHECK_MS
            self.service.escalate_due(now)

    def _wave(self, i: IntArray, t: IntArray, v: FloatArray, s: FloatArray,
              f: npt.NDArray[np.int8], q: npt.NDArray[np.uint8], out: list[Event]) -> None:
        tab = self.tables
        std = tab.std[i]
        healthy = np.isfinite(v) & ~np.isin(f, self.veto_faults) & (q != QUALITY_BAD)
        city_breach = np.zeros(i.size, bool)
        m = (std > 0) & (std != AQI) & healthy
        if m.any():
            rank, ok = tab.standards(i[m], v[m])
            city_breach[m] = rank > 0
            self._collect(self.std_bank, None, i[m], rank, ok, t[m], v[m], out)
        m = (std == AQI) & healthy
        if m.any():
            self._air(i[m], t[m], v[m], out)
            if self.rise is not None:
                w = m & self.rise.watches(i)
                if w.any():
                    self._rise(i[w], t[w], v[w], out)
        m = (tab.drop[i] > 0) & healthy
        if m.any():
            city_breach[m] |= self._drops(i[m], t[m], v[m], out) > 0
        m = self.anomaly_on[i] & np.isfinite(s) & (f == 0) & ~city_breach
        if m.any():
            sm = s[m]
            rank = np.where(sm >= self.anomaly_score, self.anomaly_rank, 0).astype(np.int8)
            self._collect(self.anomaly_bank, "anomaly", i[m], rank, sm < self.anomaly_clear,
                          t[m], v[m], out)
        # a reading that breaches a standard is the city's problem, not the sensor's: a real
        # fast rise (gas leak, burst) often looks like a "spike" to the detector
        rank = ((f != 0) & ~city_breach).astype(np.int8)
        self._collect(self.fault_bank, "sensor_fault", i, rank, (f == 0) & np.isfinite(v), t,
                      f.astype(np.float64), out)

    def _air(self, i: IntArray, t: IntArray, v: FloatArray, out: list[Event]) -> None:
        tab = self.tables
        prev, prev_t = self.means[i], self.mean_ts[i]
        dt = np.maximum(t - prev_t, 0) / 1000.0
        alpha = 1.0 - np.exp(-dt / max(tab.aqi_tau_s, 1e-9))
        self.means[i] = np.where(np.isnan(prev), v, prev + alpha * (v - prev))
        self.mean_ts[i] = t
        stations, inv = np.unique(tab.station[i], return_inverse=True)
        tmax = np.zeros(stations.size, np.int64)
        np.maximum.at(tmax, inv, t)
        aqi, cat = tab.station_aqi(stations, self.means)
        rank, ok = tab.aqi_rank_of(cat)
        self._collect(self.std_bank, None, tab.station_slot[stations], rank, ok, tmax, aqi, out)

    def _rise(self, i: IntArray, t: IntArray, v: FloatArray, out: list[Event]) -> None:
        rise = self.rise
        assert rise is not None
        st, s, ts, pct = rise.update(i, t, v)
        if not st.size:
            return
        order = np.argsort(st)
        st, s, ts, pct = st[order], s[order], ts[order], pct[order]
        p = rise.p
        rank = np.where(s >= p.h, self.rise_rank, 0).astype(np.int8)
        self._collect(self.rise_bank, "air_rise", self.tables.station_slot[st], rank,
                      s <= p.clear_s, ts, pct, out)

    def _drops(self, i: IntArray, t: IntArray, v: FloatArray, out: list[Event]
               ) -> npt.NDArray[np.int8]:
        tab = self.tables
        base = self.baseline[i]
        rank, ok = tab.drops(i, v, base, self.baseline_n[i])
        types = tab.drop[i]
        self._collect(self.drop_bank, None, i, rank, ok, t, v, out, DROP_TYPES, types)
        # the baseline follows normal readings; during a drop it nearly freezes (10× slower)
        # so the alert stays up until the value recovers
        tau = tab.drop_tau_s[i] * np.where((rank > 0) | self.drop_bank.active[i], 10.0, 1.0)
        dt = np.maximum(t - self.baseline_ts[i], 0) / 1000.0
        alpha = 1.0 - np.exp(-dt / tau)
        self.baseline[i] = np.where(np.isnan(base), v, base + alpha * (v - base))
        self.baseline_ts[i] = t
        self.baseline_n[i] += 1
        return rank

    def _collect(self, bank: HysteresisBank, type_: str | None, slots: IntArray,
                 rank: npt.NDArray[np.int8], ok: npt.NDArray[np.bool_], ts: IntArray,
                 values: FloatArray, out: list[Event], names: tuple[str, ...] = STD_TYPES,
                 codes: npt.NDArray[np.int8] | None = None) -> None:
        sl, ev, rk, et = bank.step(slots, rank, ok, ts)
        if sl.size == 0:
            return
        where = np.searchsorted(slots, sl) if np.all(slots[:-1] <= slots[1:]) else None
        table = self.tables.std if codes is None else self.tables.drop
        for j in range(sl.size):
            s = int(sl[j])
            name = type_ or names[int(table[s])]
            k = int(where[j]) if where is not None else int(np.flatnonzero(slots == s)[0])
            out.append((name, s, int(ev[j]), int(rk[j]), int(et[j]), float(values[k])))

    def _stale_events(self, now: int) -> list[Event]:
        seen = self.last_seen > 0
        gone = seen & ~self.stale & (now - self.last_seen > self.stale_after_ms)
        new = np.flatnonzero(gone)
        if new.size == 0:
            return []
        self.stale[new] = True
        return [("sensor_stale", int(s), RAISE, 1, now, (now - int(self.last_seen[s])) / 1000.0)
                for s in new.tolist()]

    # ------------------------------------------------------------------ forecasts
    def forecast_warnings(self, idx: IntArray, warning: Any, ts: int) -> None:
        """Accept early warnings of :func:`models.forecast.warnings.early_warnings`.

        ``idx`` are the dense indices of the forecast rows, ``warning`` the
        :class:`~models.forecast.warnings.EarlyWarning` for them (``fires``, ``confidence``,
        ``lead_s``), ``ts`` the forecast origin (stream time). A warning at or above the
        configured ``min_confidence`` is a breach; no warning is normal (hysteresis as usual).
        """
        idx = np.asarray(idx, np.int64)
        if idx.size == 0:
            return
        slots, first = np.unique(idx, return_index=True)
        fires = np.asarray(warning.fires, bool)[first]
        conf = np.asarray(warning.confidence, np.int64)[first]
        lead = np.asarray(warning.lead_s, np.float64)[first]
        hot = fires & (conf >= self.forecast_min_confidence)
        rank = np.where(hot, self.forecast_rank, 0).astype(np.int8)
        events: list[Event] = []
        self._collect(self.forecast_bank, "forecast", slots, rank, ~fires,
                      np.full(slots.size, int(ts), np.int64), lead / 60.0, events)
        if events:
            self._apply(events)

    def forecast_events(self, docs: Iterable[Mapping[str, Any]]) -> None:
        """The same from JSON documents ``{"sensor_id", "fires", "confidence", "lead_s", "ts"}``."""
        rows = [d for d in docs if self.registry.index_of(str(d.get("sensor_id", ""))) >= 0]
        if not rows:
            return

        class _W:
            fires = np.array([bool(d.get("fires", False)) for d in rows])
            confidence = np.array([int(d.get("confidence", 0)) for d in rows])
            lead_s = np.array([float(d.get("lead_s", math.nan)) for d in rows])

        idx = np.array([self.registry.index_of(str(d["sensor_id"])) for d in rows], np.int64)
        self.forecast_warnings(idx, _W, max(int(d.get("ts", 0)) for d in rows))

    # ------------------------------------------------------------------ transitions
    def _apply(self, events: Iterable[Event]) -> None:
        g = self.grouper
        raises: dict[str, list[tuple[int, int, int, float]]] = {}

        def flush() -> None:
            for type_, items in raises.items():
                g.raise_many(type_, items)
            raises.clear()

        for type_, slot, ev, rank, ts, value in events:
            if ev == RAISE:
                raises.setdefault(type_, []).append((slot, rank, ts, value))
                continue
            flush()
            if ev == UPGRADE:
                g.upgrade(type_, slot, rank, ts, value)
            elif ev == CLEAR:
                g.clear(type_, slot, ts)
        flush()
        self._reset_dropped()

    def _reset_dropped(self) -> None:
        g = self.grouper
        for type_, slot in g.dropped:
            bank = self._bank(type_)
            if bank is not None:
                bank.force_clear(np.array([slot], np.int64))
                if type_ == "air_rise" and self.rise is not None:
                    self.rise.reset(np.flatnonzero(self.tables.station_slot == slot))
            elif type_ == "sensor_stale":
                self.stale[slot] = False
        g.dropped.clear()

    def _bank(self, type_: str) -> HysteresisBank | None:
        if type_ == "anomaly":
            return self.anomaly_bank
        if type_ == "sensor_fault":
            return self.fault_bank
        if type_ in DROP_TYPES:
            return self.drop_bank
        if type_ == "forecast":
            return self.forecast_bank
        if type_ == "air_rise":
            return self.rise_bank
        return self.std_bank if type_ in STD_TYPES else None

    def _refresh(self, now: int) -> None:
        def newest(bank: HysteresisBank) -> Any:
            return lambda slots: int(bank.last_breach_ts[np.asarray(slots, np.int64)].max())
        fns: dict[str, object] = {name: newest(self.std_bank) for name in STD_TYPES if name}
        fns.update({name: newest(self.drop_bank) for name in DROP_TYPES if name})
        fns["anomaly"] = newest(self.anomaly_bank)
        fns["sensor_fault"] = newest(self.fault_bank)
        fns["forecast"] = newest(self.forecast_bank)
        fns["air_rise"] = newest(self.rise_bank)
        fns["sensor_stale"] = lambda slots: now
        self.grouper.refresh(fns, now)
        self._reset_dropped()
