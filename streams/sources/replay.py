"""Replay real recorded data sets onto city sensors at N× speed.

Why: synthetic data shows that the pipeline runs; recorded data shows that it copes with
real sensors - irregular sampling, gaps, spikes, drifts, cyber attacks and a chemical
process fault. Four data sets are replayed (sources and licences in
``streams/sources/recorded/ATTRIBUTION.md``):

==============  ============================================================  ======================
data set        recorded series                                                city sensors (domain)
==============  ============================================================  ======================
``nab_traffic`` NAB realTraffic speed / occupancy / travel time (MnDOT) and    traffic
                NAB ``nyc_taxi`` passengers as a demand / flow signal
``beijing_air`` hourly PM2.5, PM10, SO2, NO2, CO, O3 at 12 Beijing sites       air (a station/site)
``batadal``     C-Town SCADA: tank levels, pump flows + status, valve V2,      water
                junction pressures (hourly, with cyber attacks 1-3)
``tep``         Tennessee Eastman ``d00_te`` (normal) then ``d06_te``          hazard (one plant)
                (A-feed loss) - 52 process variables every 3 min
==============  ============================================================  ======================

Metric names (what a city sensor's ``metric`` must be to receive a recorded series):

===================  ========  =======  ==========================================================
metric               unit      domain   recorded source (conversion)
===================  ========  =======  ==========================================================
speed_kmh            km/h      traffic  NAB ``speed_*`` (MnDOT mph × 1.609344)
flow_vph             veh/h     traffic  NAB ``nyc_taxi`` (passengers per 30 min × 2 → per hour;
                                        citywide, up to ~80 000)
occupancy_pct        %         traffic  NAB ``occupancy_*``
travel_time_s        s         traffic  NAB ``TravelTime_*``
pm25, pm10           ug/m3     air      Beijing ``PM2.5``, ``PM10``
so2, no2, o3         ug/m3     air      Beijing ``SO2``, ``NO2``, ``O3``
co                   mg/m3     air      Beijing ``CO`` (ug/m3 × 0.001)
level_m              m         water    BATADAL ``L_T1..7``
flow_lps             L/s       water    BATADAL ``F_PU1..11``, ``F_V2``
pressure_mpa         MPa       water    BATADAL ``P_J*`` (m of head × 0.00980665)
pump_on              0/1       water    BATADAL ``S_PU1..11`` (optional)
valve_open           0/1       water    BATADAL ``S_V2`` (optional)
pressure_kpa         kPa (g)   hazard   TEP XMEAS 7, 13, 16
temperature_c        degC      hazard   TEP XMEAS 9, 11, 18, 21, 22
level_pct            %         hazard   TEP XMEAS 8, 12, 15 (optional)
flow_kscmh, flow_kgh,          hazard   TEP feed / recycle / purge / steam flows (optional)
flow_m3h
power_kw             kW        hazard   TEP XMEAS 20 compressor work (optional)
composition_molpct   mol %     hazard   TEP XMEAS 23-41 analysers (optional)
valve_pct            %         hazard   TEP XMV 1-11 (optional)
turbidity_ntu,                 water    no recorded source (simulator only)
chlorine_mgl
gas_lel_pct,                   hazard   no recorded source (simulator only)
gas_ppm
===================  ========  =======  ==========================================================

A city sensor also receives a series when its metric is an alias from
:data:`METRIC_ALIASES` (``speed``, ``flow``, ``occ``, ``pressure``, ``tank_level``,
``temperature``, ``level`` ...) and its ``unit`` is the series' unit, empty, or
convertible by :data:`UNIT_FACTORS` (e.g. L/s → m3/h × 3.6, kPa → MPa × 0.001); the
value is then converted to the sensor's unit.

Mapping onto a registry (deterministic): every recorded series belongs to a *group* (a
detector station, an air site, a tank / pump / junction, the plant). Groups are visited
in catalogue order; each claims the not-yet-claimed city asset (``Sensor.asset_id``) of
its domain that has free fitting sensors for the most of its series (ties: the asset named
like the standalone one, then ``asset_id`` order). Each series then takes a free sensor
of that asset with its metric, else a free sensor of that domain/metric anywhere;
candidates whose physical range ``[lo, hi]`` covers the recorded values come first,
then ``sensor_id`` order. A registry without any sensor for a data set's core metric
(see ``CORE_METRICS``) raises :class:`ReplayMappingError`; other series without a free
sensor are skipped and listed in ``ReplaySource.unmapped``.

Timing: each *recording* (files sharing one clock: NAB realTraffic, NAB taxi, Beijing,
BATADAL, TEP) starts at ``start_ms``; a row recorded at ``t`` is replayed at
``start_ms + floor((t - t0) / speed)`` (``t0`` = the recording's first time stamp) and
stamped with that replayed event time. ``step(now_ms)`` returns every not-yet-emitted
row whose replayed time is ≤ ``now_ms``. With ``loop=True`` a recording starts over one
sampling period after its last row.

Missing values: upstream ``NA`` cells become NaN readings with quality ``BAD``
(``missing="nan"``, the default, so gaps stay visible and the validator dead-letters
them as ``non_finite``); ``missing="skip"`` drops them instead, like a sensor that did
not report.

>>> reg = replay_registry(["beijing_air"])
>>> src = ReplaySource(reg, ["beijing_air"], speed=3600.0, start_ms=0)
>>> b = src.step(1_000)  # 1 s of replay = 1 recorded hour: rows at 0 ms and 1000 ms
>>> len(b), sorted(set(b.ts.tolist()))
(144, [0, 1000])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from config.city.registry import Sensor, SensorRegistry
from streams.messages import QUALITY_BAD, QUALITY_GOOD, ReadingBatch
from streams.sources.recorded import EXTRACTS_DIR
from streams.sources.recorded.catalog import (
    CORE_METRICS,
    DATASETS,
    RecordingSpec,
    SeriesSpec,
    recordings,
)
from streams.sources.recorded.readers import RecordedTable, read_recording

DEFAULT_DATASETS: tuple[str, ...] = ("nab_traffic", "beijing_air", "batadal", "tep")

#: metric -> (unit, lo, hi) of the standalone replay sensors (physical plausibility bounds)
METRICS: dict[str, tuple[str, float, float]] = {
    "speed_kmh": ("km/h", 0.0, 250.0),
    "flow_vph": ("veh/h", 0.0, 200_000.0),
    "occupancy_pct": ("%", 0.0, 100.0),
    "travel_time_s": ("s", 0.0, 86_400.0),
    "pm25": ("ug/m3", 0.0, 2000.0),
    "pm10": ("ug/m3", 0.0, 3000.0),
    "so2": ("ug/m3", 0.0, 2000.0),
    "no2": ("ug/m3", 0.0, 1000.0),
    "co": ("mg/m3", 0.0, 50.0),
    "o3": ("ug/m3", 0.0, 1500.0),
    "level_m": ("m", 0.0, 50.0),
    "flow_lps": ("L/s", -50.0, 2000.0),
    "pressure_mpa": ("MPa", -0.1, 2.0),
    "pump_on": ("0/1", 0.0, 1.0),
    "valve_open": ("0/1", 0.0, 1.0),
    "turbidity_ntu": ("NTU", 0.0, 1000.0),
    "chlorine_mgl": ("mg/L", 0.0, 20.0),
    "pressure_kpa": ("kPa", -100.0, 10_000.0),
    "temperature_c": ("degC", -50.0, 1000.0),
    "level_pct": ("%", -5.0, 150.0),
    "flow_kscmh": ("kscmh", -1.0, 1000.0),
    "flow_kgh": ("kg/h", -1.0, 100_000.0),
    "flow_m3h": ("m3/h", -1.0, 1000.0),
    "power_kw": ("kW", -1.0, 5000.0),
    "composition_molpct": ("mol%", -1.0, 101.0),
    "valve_pct": ("%", -5.0, 110.0),
    "gas_lel_pct": ("%LEL", 0.0, 100.0),
    "gas_ppm": ("ppm", 0.0, 10_000.0),
}

#: other metric names a city may use for the same quantity, per (domain, metric)
METRIC_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("traffic", "speed_kmh"): ("speed",),
    ("traffic", "flow_vph"): ("flow", "volume"),
    ("traffic", "occupancy_pct"): ("occupancy", "occ"),
    ("traffic", "travel_time_s"): ("travel_time",),
    ("air", "pm25"): ("pm2_5", "pm2.5"),
    ("water", "pressure_mpa"): ("pressure",),
    ("water", "flow_lps"): ("flow",),
    ("water", "level_m"): ("tank_level", "level"),
    ("water", "pump_on"): ("pump_status", "status"),
    ("hazard", "pressure_kpa"): ("pressure",),
    ("hazard", "temperature_c"): ("temperature",),
    ("hazard", "level_pct"): ("level",),
}

#: (series unit, sensor unit) -> factor, for sensors that use another unit (after aliasing)
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("kpa", "mpa"): 0.001,
    ("mpa", "kpa"): 1000.0,
    ("l/s", "m3/h"): 3.6,
    ("m3/h", "l/s"): 1.0 / 3.6,
    ("km/h", "m/s"): 1.0 / 3.6,
    ("mg/m3", "ug/m3"): 1000.0,
    ("%", "fraction"): 0.01,
}

#: where standalone replay sensors are drawn (Fuzhou, the default city) and their district
STANDALONE_CENTER = (119.296, 26.074)
STANDALONE_DISTRICT = "350102"
_DOMAIN_OFFSET = {"traffic": (-0.03, 0.02), "air": (0.02, 0.02), "water": (-0.03, -0.02),
                  "hazard": (0.03, -0.025), "unit": (0.0, 0.0)}  # fmt: skip


class ReplayMappingError(LookupError):
    """The registry has no sensors a data set needs (see the module's metric table)."""


def standalone_id(s: SeriesSpec) -> str:
    """Id of the standalone sensor for a recorded series, e.g. ``RP-AIR-DONGSI-PM25``."""
    return f"RP-{s.domain.upper()}-{s.key}"


def standalone_asset(s: SeriesSpec) -> str:
    return f"RP-{s.domain.upper()}-{s.group}"


def replay_registry(datasets: Sequence[str] = DEFAULT_DATASETS) -> SensorRegistry:
    """A registry holding one sensor per recorded series, usable without the city model.

    Sensors sit on small grids around :data:`STANDALONE_CENTER` (one patch per domain,
    one row per group); ``meta`` names the data set, recording and recorded column.

    >>> reg = replay_registry(["tep"])
    >>> len(reg), reg.get("RP-HAZARD-TEP-XMEAS07").metric
    (52, 'pressure_kpa')
    """
    sensors: list[Sensor] = []
    for name in _unique(datasets):
        for rec in recordings([name]):
            groups = _groups(rec)
            for gi, (group, idx) in enumerate(groups.items()):
                for k, i in enumerate(idx):
                    s = rec.series[i]
                    unit, lo, hi = METRICS[s.metric]
                    dx, dy = _DOMAIN_OFFSET[s.domain]
                    sensors.append(
                        Sensor(
                            standalone_id(s), s.domain, s.metric, unit,
                            round(STANDALONE_CENTER[0] + dx + 0.0015 * (k % 8), 6),
                            round(STANDALONE_CENTER[1] + dy + 0.0015 * gi + 0.0004 * (k // 8), 6),
                            STANDALONE_DISTRICT, "", lo, hi, standalone_asset(s), rec.period_s,
                            {"dataset": name, "recording": rec.name, "column": s.column,
                             "group": group, "source": rec.source},
                        )
                    )  # fmt: skip
    return SensorRegistry(sensors)


@dataclass(slots=True)
class _Cursor:
    """Replay position of one recording (mutable; owned by :class:`ReplaySource`)."""

    offset_ms: npt.NDArray[np.int64]  # scaled replay offsets, sorted
    sensor: npt.NDArray[np.int64]  # index into ReplaySource.sensor_ids
    values: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint8]
    cycle_ms: int  # length of one loop, scaled
    pos: int = 0
    cycle: int = 0


class ReplaySource:
    """Recorded rows as :class:`ReadingBatch` es, paced by the caller's clock.

    Parameters
    ----------
    registry : sensors to map the recorded series onto (the city's, or
        :func:`replay_registry`'s).
    datasets : names from ``DEFAULT_DATASETS``; unknown names raise ``ValueError``.
    speed : recorded time runs ``speed`` times faster than replayed time.
    start_ms : replayed event time (epoch ms UTC) of each recording's first row.
    data_dir : root of the full data sets (``nab/``, ``beijing_air/``, ``batadal/``,
        ``tep/``); default: the shipped extracts.
    loop : start each recording over after its end.
    missing : ``"nan"`` (NaN reading, quality BAD) or ``"skip"`` for upstream ``NA`` cells.

    >>> src = ReplaySource(replay_registry(["tep"]), ["tep"], speed=180.0, start_ms=10_000)
    >>> b = src.step(10_000)
    >>> len(b), int(b.ts[0]), b.sensor_ids[6], float(b.values[6])  # XMEAS(7), 1st row of d00_te
    (52, 10000, 'RP-HAZARD-TEP-XMEAS07', 2705.2)
    """

    def __init__(
        self,
        registry: SensorRegistry,
        datasets: Sequence[str] = DEFAULT_DATASETS,
        *,
        speed: float = 1.0,
        start_ms: int,
        data_dir: Path | None = None,
        loop: bool = False,
        missing: Literal["nan", "skip"] = "nan",
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if missing not in ("nan", "skip"):
            raise ValueError(f"missing must be 'nan' or 'skip', got {missing!r}")
        names = _unique(datasets)
        specs = recordings(names)  # validates names before any file is read
        root = EXTRACTS_DIR if data_dir is None else Path(data_dir)
        _check_core_metrics(registry, names)
        tables = [read_recording(r, root) for r in specs]
        assignment = map_series(registry, tables)
        self.speed = float(speed)
        self.start_ms = int(start_ms)
        self.loop = loop
        self.datasets = names
        ids = sorted({sid for sid, _ in assignment.values()})
        self.sensor_ids: tuple[str, ...] = tuple(ids)
        self._ids = np.array(ids, dtype=object)
        slot = {sid: i for i, sid in enumerate(ids)}
        #: (recording name, series key e.g. "DONGSI-PM25", "6005-SPEED") -> sensor id
        self.mapping: dict[tuple[str, str], str] = {}
        #: recorded series with no free matching sensor, as (recording name, series key)
        self.unmapped: list[tuple[str, str]] = []
        self._cursors: list[_Cursor] = []
        for t in tables:
            lut = np.full(len(t.spec.series), -1, np.int64)
            factor = np.ones(len(t.spec.series), np.float64)
            for i, s in enumerate(t.spec.series):
                label = (t.spec.name, s.key)
                hit = assignment.get((t.spec.name, i))
                if hit is None:
                    self.unmapped.append(label)
                else:
                    self.mapping[label] = hit[0]
                    lut[i] = slot[hit[0]]
                    factor[i] = hit[1]
            self._cursors.append(self._cursor(t, lut, factor, missing))

    def _cursor(
        self,
        t: RecordedTable,
        lut: npt.NDArray[np.int64],
        factor: npt.NDArray[np.float64],
        missing: str,
    ) -> _Cursor:
        sensor = lut[t.series]
        keep = sensor >= 0
        if missing == "skip":
            keep &= np.isfinite(t.values)
        rel = t.ts_ms - (int(t.ts_ms[0]) if len(t.ts_ms) else 0)
        span = int(rel[-1]) + t.spec.period_s * 1000 if len(rel) else t.spec.period_s * 1000
        f = factor[t.series[keep]]
        vals = np.where(f == 1.0, t.values[keep], t.values[keep] * f)
        return _Cursor(
            offset_ms=self._scale(rel[keep]),
            sensor=sensor[keep],
            values=vals,
            quality=np.where(np.isfinite(vals), QUALITY_GOOD, QUALITY_BAD).astype(np.uint8),
            cycle_ms=max(1, int(self._scale(np.array([span], np.int64))[0])),
        )

    def _scale(self, rel_ms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if self.speed == 1.0:
            return rel_ms.astype(np.int64)
        return np.floor(rel_ms / self.speed).astype(np.int64)

    @property
    def exhausted(self) -> bool:
        """True when every row has been emitted (never, with ``loop=True``)."""
        return not self.loop and all(c.pos >= len(c.offset_ms) for c in self._cursors)

    @property
    def end_ms(self) -> int:
        """Replayed time of the last row of the longest recording (first pass)."""
        last = [int(c.offset_ms[-1]) for c in self._cursors if len(c.offset_ms)]
        return self.start_ms + max(last, default=0)

    def step(self, now_ms: int) -> ReadingBatch:
        """Rows replayed at or before ``now_ms`` not emitted yet, stamped with replay time.

        Rows come out in replayed-time order (ties: catalogue order of the recordings).
        """
        rel = int(now_ms) - self.start_ms
        if rel < 0:
            return ReadingBatch.concat([])
        sensors: list[npt.NDArray[np.int64]] = []
        parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64],
                          npt.NDArray[np.uint8]]] = []  # fmt: skip
        for c in self._cursors:
            n = len(c.offset_ms)
            while n:
                base = c.cycle * c.cycle_ms
                if rel < base:
                    break
                hi = int(np.searchsorted(c.offset_ms, rel - base, side="right"))
                if hi > c.pos:
                    sensors.append(c.sensor[c.pos : hi])
                    parts.append(
                        (c.offset_ms[c.pos : hi] + (self.start_ms + base),
                         c.values[c.pos : hi], c.quality[c.pos : hi])
                    )  # fmt: skip
                    c.pos = hi
                if hi < n or not self.loop:
                    break
                c.cycle += 1
                c.pos = 0
        if not parts:
            return ReadingBatch.concat([])
        ts = np.concatenate([p[0] for p in parts])
        order = np.argsort(ts, kind="stable")
        sensor = np.concatenate(sensors)[order]
        return ReadingBatch(
            tuple(self._ids[sensor].tolist()),
            np.concatenate([p[1] for p in parts])[order],
            ts[order],
            np.concatenate([p[2] for p in parts])[order],
        )


def map_series(
    registry: SensorRegistry, tables: Sequence[RecordedTable]
) -> dict[tuple[str, int], tuple[str, float]]:
    """Deterministic (recording, series index) -> (sensor id, unit factor); see module doc."""
    by_asset: dict[tuple[str, str], list[Sensor]] = {}
    by_metric: dict[tuple[str, str], list[Sensor]] = {}
    for s in registry.sensors:
        by_asset.setdefault((s.domain, s.asset_id), []).append(s)
        by_metric.setdefault((s.domain, s.metric), []).append(s)
    used: set[str] = set()
    claimed: set[tuple[str, str]] = set()
    out: dict[tuple[str, int], tuple[str, float]] = {}
    for t in tables:
        lo, hi = _series_ranges(t)
        for idx in _groups(t.spec).values():
            specs = [t.spec.series[i] for i in idx]
            domain = specs[0].domain
            names = {n for sp in specs for n in metric_names(sp.domain, sp.metric)}
            best: tuple[tuple[int, bool, str], tuple[str, str]] | None = None
            for key, sensors in by_asset.items():
                if key[0] != domain or key in claimed:
                    continue
                free = [x for x in sensors if x.metric in names and x.sensor_id not in used]
                score = sum(any(unit_factor(sp, x) is not None for x in free) for sp in specs)
                if score == 0:
                    continue
                rank = (-score, key[1] != standalone_asset(specs[0]), key[1])
                if best is None or rank < best[0]:
                    best = (rank, key)
            asset = best[1] if best else None
            if asset is not None:
                claimed.add(asset)
            for i, spec in zip(idx, specs, strict=True):
                pools = [by_asset[asset]] if asset else []
                pools.append(
                    [
                        x
                        for n in metric_names(domain, spec.metric)
                        for x in by_metric.get((domain, n), [])
                    ]
                )
                for pool in pools:
                    hit = _pick(pool, spec, float(lo[i]), float(hi[i]), used)
                    if hit is not None:
                        used.add(hit[0])
                        out[(t.spec.name, i)] = hit
                        break
    return out


def metric_names(domain: str, metric: str) -> tuple[str, ...]:
    """The metric itself, then its accepted aliases (:data:`METRIC_ALIASES`)."""
    return (metric, *METRIC_ALIASES.get((domain, metric), ()))


def unit_factor(spec: SeriesSpec, sensor: Sensor) -> float | None:
    """Factor from the series' unit to the sensor's, or None if the sensor does not fit.

    A sensor fits when its metric is the series' metric or an alias, and its unit is the
    same (case and spaces ignored), empty (unspecified), or convertible (:data:`UNIT_FACTORS`).
    """
    if sensor.domain != spec.domain or sensor.metric not in metric_names(spec.domain, spec.metric):
        return None
    a, b = _norm_unit(spec.unit), _norm_unit(sensor.unit)
    if not b or a == b:
        return 1.0
    return UNIT_FACTORS.get((a, b))


def _norm_unit(u: str) -> str:
    return u.replace(" ", "").replace("µ", "u").replace("°", "deg").lower()


def _pick(
    pool: Iterable[Sensor], s: SeriesSpec, lo: float, hi: float, used: set[str]
) -> tuple[str, float] | None:
    want = standalone_id(s)
    best: tuple[tuple[bool, bool, str], tuple[str, float]] | None = None
    for x in pool:
        if x.sensor_id in used:
            continue
        f = unit_factor(s, x)
        if f is None:
            continue
        covers = not np.isfinite(lo) or (x.lo <= lo * f and hi * f <= x.hi)
        rank = (x.sensor_id != want, not covers, x.sensor_id)
        if best is None or rank < best[0]:
            best = (rank, (x.sensor_id, f))
    return None if best is None else best[1]


def _series_ranges(t: RecordedTable) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    n = len(t.spec.series)
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    ok = np.isfinite(t.values)
    np.minimum.at(lo, t.series[ok], t.values[ok])
    np.maximum.at(hi, t.series[ok], t.values[ok])
    lo[~np.isfinite(lo)] = np.nan
    hi[~np.isfinite(hi)] = np.nan
    return lo, hi


def _groups(rec: RecordingSpec) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(rec.series):
        groups.setdefault(s.group, []).append(i)
    return groups


def _check_core_metrics(registry: SensorRegistry, names: Sequence[str]) -> None:
    have = {(s.domain, s.metric) for s in registry.sensors}
    for name in names:
        domain = DATASETS[name][0].series[0].domain
        missing = [
            m for m in CORE_METRICS[name]
            if not any((domain, n) in have for n in metric_names(domain, m))
        ]  # fmt: skip
        if missing:
            offered = sorted({m for d, m in have if d == domain})
            raise ReplayMappingError(
                f"cannot replay {name!r}: the registry has no {domain} sensor with metric "
                f"{', '.join(repr(m) for m in missing)} (its {domain} metrics: "
                f"{offered or 'none'}). Add such sensors to the city, or use replay_registry() "
                "for a standalone registry."
            )


def _unique(names: Sequence[str] | str) -> tuple[str, ...]:
    if isinstance(names, str):
        names = [names]
    seen: dict[str, None] = {}
    for n in names:
        if n not in DATASETS:
            raise ValueError(f"unknown data set {n!r}; choose from {sorted(DATASETS)}")
        seen.setdefault(n, None)
    return tuple(seen)
