"""Seeded sensor simulator of the demo city: one :class:`ReadingBatch` per tick.

``step(now_ms)`` emits every sample whose time falls in ``(previous now, now_ms]``
(first call: from ``start_ms`` inclusive), each stamped with its own sample time,
so the stream is the same whatever the tick size. Sensors sample on their own
period with a seeded phase, values come from :class:`CityModel` (pure functions of
seed, sensor and time), then scenarios and sensor faults are written over them.

Faults (stuck, drift, dropout, spike) start at a small seeded rate per
sensor-hour, generated hour by hour from ``(seed, hour)``; dropouts are either
missing rows or NaN with ``QUALITY_BAD``; spikes may leave the physical range
(they are faults, and :meth:`truth` labels them). Everything injected is in
:meth:`truth`: type, onset, end, affected sensors, per-sensor onsets.

>>> from config.city import load_city
>>> sim = Simulator(load_city(scale=0.05), seed=1, start_ms=1_767_225_600_000)
>>> b = sim.step(1_767_225_660_000)  # the first minute
>>> len(b) > 0, bool((b.ts >= 1_767_225_600_000).all())
(True, True)
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from config.city.city import City
from config.settings import Settings
from streams.messages import QUALITY_BAD, QUALITY_GOOD, ReadingBatch
from streams.sources.scenarios import Injection, ScenarioSpec, bind, parse_scenarios
from streams.sources.simulator_model import CityModel

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FAULT_TYPES: tuple[str, ...] = ("stuck", "drift", "dropout", "spike")
STUCK, DRIFT, DROPOUT, SPIKE = 1, 2, 3, 4
_HOUR_MS = 3_600_000
#: default fault onsets per sensor-hour (≈ 10 per hour at 5 000 sensors)
DEFAULT_FAULT_RATE = 0.002


@dataclass(frozen=True, slots=True)
class TruthEvent:
    """Ground truth of one injected fault or scenario.

    ``sensor_onsets_ms[i]`` is when ``sensor_ids[i]`` first shows the effect
    (scenarios spread with delays); ``end_ms`` is when the cause stops.
    """

    source: str  # "fault" | "scenario"
    type: str  # fault type or scenario kind
    onset_ms: int
    end_ms: int
    sensor_ids: tuple[str, ...]
    sensor_onsets_ms: tuple[int, ...]
    target: str = ""
    severity: float = 0.0
    detail: str = ""


def _empty() -> ReadingBatch:
    return ReadingBatch((), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.uint8))


class Simulator:
    """Deterministic, vectorised reading generator for a :class:`City`.

    Parameters
    ----------
    city : the city whose registry is simulated.
    seed : randomness of noise, phases, faults and default scenario targets.
    start_ms : stream start (epoch ms UTC); readings before it are never produced.
    tick_s : default step when ``step()`` is called without ``now_ms``.
    scenarios : a scenario string (``"pipe_burst@5,chemical_leak@10"``) or parsed specs.
    fault_rate : fault onsets per sensor-hour (0 disables faults).
    lookahead_s : samples are computed this far ahead in one pass (0: exactly per step).
    """

    def __init__(
        self,
        city: City,
        seed: int,
        start_ms: int,
        tick_s: float = 1.0,
        scenarios: str | Sequence[ScenarioSpec] = "",
        fault_rate: float = DEFAULT_FAULT_RATE,
        lookahead_s: float = 10.0,
    ) -> None:
        self.city = city
        self.seed = int(seed)
        self.start_ms = int(start_ms)
        self.tick_ms = max(1, int(round(tick_s * 1000)))
        self.fault_rate = float(fault_rate)
        reg = city.registry
        self.n = len(reg)
        self.ids = reg.ids
        self._get_ids = operator.itemgetter
        self.model = CityModel(city, self.seed)
        rng = np.random.default_rng([self.seed, 0x0FF5])
        self.period_ms = reg.period_s.astype(np.int64) * 1000
        # one phase per asset: a station / detector / node reports all its channels together
        _, asset = np.unique(np.array([s.asset_id for s in reg.sensors]), return_inverse=True)
        phase = rng.integers(0, 3600, int(asset.max()) + 1 if self.n else 0)
        self.offset_ms = (phase[asset] % np.maximum(reg.period_s, 1)).astype(np.int64) * 1000
        self.now_ms = self.start_ms - 1
        self.lookahead_ms = max(0, int(round(lookahead_s * 1000)))
        self._buf = _empty()
        self._buf_end = self.now_ms
        self._schedule = self._build_schedule()
        specs = parse_scenarios(scenarios) if isinstance(scenarios, str) else tuple(scenarios)
        self.injections: tuple[Injection, ...] = tuple(
            bind(s, city, self.seed, self.start_ms, k) for k, s in enumerate(specs)
        )
        # the latest fault per sensor (dense), plus the record of all faults
        self._f_type = np.zeros(self.n, np.int8)
        self._f_start = np.zeros(self.n, np.int64)
        self._f_end = np.zeros(self.n, np.int64)
        self._f_param = np.zeros(self.n)
        self._f_value = np.zeros(self.n)
        self._fault_hours_done = self.start_ms // _HOUR_MS - 1
        self._faults: list[TruthEvent] = []

    @classmethod
    def from_settings(cls, city: City, settings: Settings, start_ms: int) -> Simulator:
        """The simulator ``run.py`` wants: seed, tick and scenarios from ``settings``."""
        return cls(city, settings.seed, start_ms, settings.tick_s, settings.scenarios)

    # --- public API ---------------------------------------------------------------
    def step(self, now_ms: int | None = None) -> ReadingBatch:
        """Readings sampled in ``(last now, now_ms]``, ordered by time then sensor.

        Served from a look-ahead block (``lookahead_s``, default 10 s, of samples computed in
        one vectorised pass), so small ticks cost a slice, not a model evaluation.
        """
        now = self.now_ms + self.tick_ms if now_ms is None else int(now_ms)
        if now <= self.now_ms:
            return _empty()
        last = self.now_ms
        self.now_ms = now
        if now > self._buf_end:
            self._refill(last, max(now, last + self.lookahead_ms))
        buf = self._buf
        a = int(np.searchsorted(buf.ts, last, "right"))
        b = int(np.searchsorted(buf.ts, now, "right"))
        return ReadingBatch(buf.sensor_ids[a:b], buf.values[a:b], buf.ts[a:b], buf.quality[a:b])

    def _refill(self, last: int, target: int) -> None:
        """Keep the unread part of the block, append samples in ``(block end, target]``."""
        buf = self._buf
        a = int(np.searchsorted(buf.ts, last, "right"))
        fresh = self._generate(self._buf_end, target)
        if a < len(buf):
            rest = ReadingBatch(buf.sensor_ids[a:], buf.values[a:], buf.ts[a:], buf.quality[a:])
            fresh = ReadingBatch.concat([rest, fresh])
        self._buf = fresh
        self._buf_end = target

    def _generate(self, last: int, now: int) -> ReadingBatch:
        """Every reading sampled in ``(last, now]`` (the pure-ish core of ``step``)."""
        self._ensure_faults(now)
        idx, t, k = self._due(last, now)
        if idx.size == 0:
            return _empty()
        values = self.model.values(idx, t, k)
        keep = np.ones(idx.size, bool)
        for inj in self.injections:
            if inj.onset_ms <= t[-1] and t[0] <= inj.last_ms:
                inj.apply(idx, t, values, keep)
        values = np.clip(values, self.model.lo[idx], self.model.hi[idx])
        quality = np.full(idx.size, QUALITY_GOOD, np.uint8)
        self._apply_faults(idx, t, values, keep, quality)
        if not keep.all():
            idx, t, values, quality = idx[keep], t[keep], values[keep], quality[keep]
        if idx.size == 0:
            return _empty()
        ids = self._get_ids(*idx.tolist())(self.ids) if idx.size > 1 else (self.ids[int(idx[0])],)
        return ReadingBatch(ids, values, t, quality)

    def run(self, until_ms: int) -> ReadingBatch:
        """All readings up to ``until_ms`` in one batch (tests, benchmarks, back-fill)."""
        return self.step(until_ms)

    def truth(self, until_ms: int | None = None) -> list[TruthEvent]:
        """Injected scenarios and faults with onset ≤ ``until_ms`` (default: now), by onset."""
        until = self.now_ms if until_ms is None else int(until_ms)
        ev = [e for e in self._faults if e.onset_ms <= until]
        for inj in self.injections:
            if inj.onset_ms <= until:
                ev.append(
                    TruthEvent(
                        "scenario",
                        inj.kind,
                        inj.onset_ms,
                        inj.end_ms,
                        tuple(self.ids[i] for i in inj.sensors.tolist()),
                        tuple(int(x) for x in inj.sensor_onsets_ms().tolist()),
                        inj.target,
                        inj.severity,
                    )
                )
        return sorted(ev, key=lambda e: (e.onset_ms, e.source, e.type))

    # --- internals ----------------------------------------------------------------
    def _build_schedule(self) -> list[IntArray] | None:
        """Sensors due at each second of the periods' common cycle (None if too long).

        Offsets and periods are whole seconds, so the set of sensors sampling at
        second ``s`` depends only on ``s mod lcm(periods)``; small ticks then cost
        O(readings) instead of O(sensors).
        """
        per_s = (self.period_ms // 1000).astype(np.int64)
        if per_s.size == 0 or (per_s <= 0).any():
            return None
        cycle = int(np.lcm.reduce(per_s))
        if cycle > 3600:
            return None
        phase = (self.offset_ms // 1000) % per_s
        sched: list[list[int]] = [[] for _ in range(cycle)]
        for p in np.unique(per_s).tolist():
            members = np.flatnonzero(per_s == p)
            for r in range(0, cycle):
                hit = members[phase[members] == r % p]
                if hit.size:
                    sched[r].extend(hit.tolist())
        return [np.array(sorted(x), np.int64) for x in sched]

    def _due(self, last: int, now: int) -> tuple[IntArray, IntArray, IntArray]:
        """(sensor index, sample time, sample number) of every sample in (last, now]."""
        first_s, last_s = last // 1000 + 1, now // 1000
        sched = self._schedule
        if sched is not None and 0 < last_s - first_s + 1 <= 2 * len(sched):
            cyc = len(sched)
            parts = [sched[s % cyc] for s in range(first_s, last_s + 1)]
            lens = [a.size for a in parts]
            idx = np.concatenate(parts)
            t = np.repeat(np.arange(first_s, last_s + 1, dtype=np.int64) * 1000, lens)
            k = (t - self.offset_ms[idx]) // self.period_ms[idx]
            return idx, t, k
        p, off = self.period_ms, self.offset_ms
        k_last = (last - off) // p
        k_now = (now - off) // p
        count = k_now - k_last
        total = int(count.sum())
        if total == 0:
            z = np.zeros(0, np.int64)
            return z, z, z
        if total == int(np.count_nonzero(count)):
            idx = np.flatnonzero(count).astype(np.int64)
            k = k_now[idx]
        else:
            idx = np.repeat(np.arange(self.n, dtype=np.int64), count)
            within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
            k = k_last[idx] + 1 + within
        t = off[idx] + k * p[idx]
        order = np.argsort(t, kind="stable")
        return idx[order], t[order], k[order]

    def _ensure_faults(self, now: int) -> None:
        """Generate fault onsets hour by hour (each hour from ``(seed, hour)`` alone)."""
        if self.fault_rate <= 0:
            return
        for hour in range(self._fault_hours_done + 1, now // _HOUR_MS + 1):
            self._generate_faults(hour)
            self._fault_hours_done = hour

    def _generate_faults(self, hour: int) -> None:
        rng = np.random.default_rng([self.seed, 0xFA17, hour])
        n_f = int(rng.poisson(self.fault_rate * self.n))
        if n_f == 0:
            return
        sensors = rng.choice(self.n, size=min(n_f, self.n), replace=False)
        types = rng.choice(
            np.array([STUCK, DRIFT, DROPOUT, SPIKE]), size=sensors.size, p=[0.3, 0.25, 0.25, 0.2]
        )
        onset = hour * _HOUR_MS + rng.integers(0, _HOUR_MS, sensors.size)
        dur_min = np.select(
            [types == STUCK, types == DRIFT, types == DROPOUT],
            [
                rng.uniform(10, 60, sensors.size),
                rng.uniform(30, 120, sensors.size),
                rng.uniform(5, 30, sensors.size),
            ],
            0.0,
        )
        param = np.select(
            [types == DRIFT, types == DROPOUT, types == SPIKE],
            [
                rng.choice([-1.0, 1.0], sensors.size) * rng.uniform(0.03, 0.08, sensors.size),
                rng.random(sensors.size),
                rng.choice([-1.0, 1.0], sensors.size) * rng.uniform(0.3, 0.8, sensors.size),
            ],
            0.0,
        )
        lo, hi = self.model.lo, self.model.hi
        for s, ty, on, dm, pa in zip(
            sensors.tolist(),
            types.tolist(),
            onset.tolist(),
            dur_min.tolist(),
            param.tolist(),
            strict=True,
        ):
            if on < self.start_ms:
                continue
            if self._f_type[s] and self._f_end[s] > on:
                continue  # one fault at a time per sensor
            per = int(self.period_ms[s])
            first = on + (-(on - int(self.offset_ms[s])) % per)  # first sample at/after onset
            end = first + per if ty == SPIKE else on + int(dm * 60_000)
            self._f_type[s], self._f_start[s], self._f_end[s], self._f_param[s] = ty, on, end, pa
            if ty == STUCK:
                self._f_value[s] = float(
                    self.model.values(
                        np.array([s]),
                        np.array([first]),
                        np.array([(first - int(self.offset_ms[s])) // per]),
                    )[0]
                )
            detail = ""
            if ty == DRIFT:
                detail = f"{pa * (hi[s] - lo[s]):+.4g} per hour"
            elif ty == DROPOUT:
                detail = "NaN, quality bad" if pa >= 0.5 else "missing"
            elif ty == SPIKE:
                detail = f"{pa * (hi[s] - lo[s]):+.4g}"
            elif ty == STUCK:
                detail = f"stuck at {self._f_value[s]:.4g}"
            self._faults.append(
                TruthEvent(
                    "fault",
                    FAULT_TYPES[ty - 1],
                    first,
                    end,
                    (self.ids[s],),
                    (first,),
                    self.city.registry.sensors[s].asset_id,
                    0.0,
                    detail,
                )
            )

    def _apply_faults(
        self,
        idx: IntArray,
        t: IntArray,
        values: FloatArray,
        keep: npt.NDArray[np.bool_],
        quality: npt.NDArray[np.uint8],
    ) -> None:
        ft = self._f_type[idx]
        if not ft.any():
            return
        rows = np.flatnonzero(ft > 0)
        s = idx[rows]
        tt = t[rows]
        active = (tt >= self._f_start[s]) & (tt < self._f_end[s])
        rows, s, tt = rows[active], s[active], tt[active]
        if rows.size == 0:
            return
        ty = self._f_type[s]
        span = self.model.hi[s] - self.model.lo[s]
        pa = self._f_param[s]
        v = values[rows]
        v = np.where(ty == STUCK, self._f_value[s], v)
        v = np.where(ty == DRIFT, v + pa * span * (tt - self._f_start[s]) / _HOUR_MS, v)
        v = np.where(ty == SPIKE, v + pa * span, v)
        nan = (ty == DROPOUT) & (pa >= 0.5)
        v = np.where(nan, np.nan, v)
        values[rows] = v
        quality[rows[nan]] = QUALITY_BAD
        keep[rows[(ty == DROPOUT) & (pa < 0.5)]] = False
