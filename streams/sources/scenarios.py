"""Scenario injection: incidents written over the simulated city's clean signals.

A scenario string (``Settings.scenarios`` or ``run.py --scenarios``) lists items
separated by commas::

    kind@minutes[:target][:severity=0.7][:duration=30]

``minutes`` after the simulator's start; ``target`` an asset id (water node
``WN-0012``, hazard source ``HZ-0003``, segment ``SEG-000120`` or detector
``TRF-000015``, district adcode, H3 cell), or any sensor id of that asset;
``severity`` in (0, 1]; ``duration`` in minutes. Without a target one is picked
from the seed. Kinds and signatures:

* ``pipe_burst`` — pressure drops at the node and spreads along pipes (40 s per
  hop, weaker with distance), flow rises near the break, turbidity follows,
  the zone's tanks drain.
* ``chemical_leak`` — %LEL and toxic ppm rise at the source past the alarm
  levels, weaker and later at sources within 3 km; the leaking tank's level
  and pressure fall.
* ``traffic_accident`` — speed drops and occupancy rises on the segment and on
  segments upstream (queue grows 90 s per hop); flow falls.
* ``pollution_episode`` — PM2.5/PM10 (and SO₂, NO₂, CO) rise over hours across
  stations, a front moving north-west to south-east.
* ``sensor_outage`` — a group of sensors (an H3 cell and its neighbours, a
  district, an asset) stops reporting; ``severity`` is the share that goes dark.

>>> parse_scenarios("pipe_burst@5,chemical_leak@10:HZ-0003:severity=0.9")[1].target
'HZ-0003'
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import numpy.typing as npt

from config.city.city import City
from config.city.geo import haversine_m, to_xy
from config.city.spec import CORE_DISTRICTS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SCENARIO_KINDS: tuple[str, ...] = (
    "pipe_burst",
    "chemical_leak",
    "traffic_accident",
    "pollution_episode",
    "sensor_outage",
)
DEFAULT_DURATION_MIN = {
    "pipe_burst": 60.0,
    "chemical_leak": 45.0,
    "traffic_accident": 40.0,
    "pollution_episode": 12 * 60.0,
    "sensor_outage": 20.0,
}
DEFAULT_SEVERITY = 0.7

MODE_SCALE, MODE_ADD, MODE_DROP = 0, 1, 2


class ScenarioError(ValueError):
    """A scenario string or target that cannot be used."""


@dataclass(frozen=True, slots=True)
class ScenarioSpec:
    """One requested injection (parsed, not yet bound to a city)."""

    kind: str
    at_min: float
    target: str = ""
    severity: float = DEFAULT_SEVERITY
    duration_min: float = 0.0  # 0 → DEFAULT_DURATION_MIN[kind]

    @property
    def duration(self) -> float:
        return self.duration_min or DEFAULT_DURATION_MIN[self.kind]


def parse_scenarios(text: str) -> tuple[ScenarioSpec, ...]:
    """Parse ``kind@min[:target][:severity=x][:duration=m]`` items, comma-separated."""
    out = []
    for raw in (p.strip() for p in (text or "").split(",")):
        if not raw:
            continue
        head, *opts = raw.split(":")
        if "@" not in head:
            raise ScenarioError(f"scenario {raw!r}: expected kind@minutes")
        kind, at = (s.strip() for s in head.split("@", 1))
        if kind not in SCENARIO_KINDS:
            raise ScenarioError(f"unknown scenario {kind!r}; one of {', '.join(SCENARIO_KINDS)}")
        try:
            at_min = float(at)
        except ValueError as e:
            raise ScenarioError(f"scenario {raw!r}: minutes {at!r} is not a number") from e
        target, sev, dur = "", DEFAULT_SEVERITY, 0.0
        for o in opts:
            key, eq, val = o.partition("=")
            key = key.strip().lower()
            try:
                if eq and key in ("severity", "sev"):
                    sev = float(val)
                elif eq and key in ("duration", "dur"):
                    dur = float(val)
                elif eq and key == "target":
                    target = val.strip()
                elif not eq:
                    target = o.strip()
                else:
                    raise ScenarioError(f"scenario {raw!r}: unknown option {key!r}")
            except ValueError as e:
                if isinstance(e, ScenarioError):
                    raise
                raise ScenarioError(f"scenario {raw!r}: {key}={val!r} is not a number") from e
        if not 0.0 < sev <= 1.0:
            raise ScenarioError(f"scenario {raw!r}: severity must be in (0, 1]")
        if at_min < 0 or dur < 0:
            raise ScenarioError(f"scenario {raw!r}: minutes and duration must be ≥ 0")
        out.append(ScenarioSpec(kind, at_min, target, sev, dur))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class Injection:
    """A scenario bound to sensors: per-sensor delay, magnitude, mode and rise time.

    Effect on sensor ``j`` at time ``t``: ramp ``r = clip((t − onset − delay)/rise, 0, 1)``
    fading out over ``rise`` after ``end_ms``; ``MODE_SCALE``: ``v·(1 + mag·r)``,
    ``MODE_ADD``: ``v + mag·r``, ``MODE_DROP``: no reading while active.
    """

    kind: str
    target: str
    severity: float
    onset_ms: int
    end_ms: int
    sensors: IntArray
    delay_ms: IntArray
    magnitude: FloatArray
    mode: npt.NDArray[np.int8]
    rise_ms: FloatArray
    _pos: IntArray  # dense sensor index → row in the arrays above, -1 if unaffected

    @staticmethod
    def make(
        kind: str,
        target: str,
        severity: float,
        onset_ms: int,
        end_ms: int,
        n: int,
        rows: list[tuple[int, float, float, int, float]],
    ) -> Injection:
        """``rows`` of (sensor index, delay s, magnitude, mode, rise s); first wins on repeats."""
        seen: dict[int, tuple[int, float, float, int, float]] = {}
        for r in rows:
            seen.setdefault(r[0], r)
        rr = sorted(seen.values())
        sensors = np.array([r[0] for r in rr], np.int64)
        pos = np.full(n, -1, np.int64)
        pos[sensors] = np.arange(sensors.size)
        return Injection(
            kind,
            target,
            severity,
            onset_ms,
            end_ms,
            sensors,
            np.array([round(r[1] * 1000) for r in rr], np.int64),
            np.array([r[2] for r in rr], np.float64),
            np.array([r[3] for r in rr], np.int8),
            np.array([max(r[4], 1.0) * 1000 for r in rr], np.float64),
            pos,
        )

    @property
    def last_ms(self) -> int:
        """After this time the injection changes nothing any more."""
        return int(self.end_ms + (self.rise_ms.max() if self.rise_ms.size else 0.0))

    def sensor_onsets_ms(self) -> IntArray:
        return self.onset_ms + self.delay_ms

    def apply(
        self, idx: IntArray, t_ms: IntArray, values: FloatArray, keep: npt.NDArray[np.bool_]
    ) -> None:
        """Modify ``values`` / clear ``keep`` in place for the affected rows."""
        j = self._pos[idx]
        rows = np.flatnonzero(j >= 0)
        if rows.size == 0:
            return
        j = j[rows]
        t = t_ms[rows].astype(np.float64)
        start = self.onset_ms + self.delay_ms[j]
        rise = self.rise_ms[j]
        r = np.clip((t - start) / rise, 0.0, 1.0) * (1.0 - np.clip((t - self.end_ms) / rise, 0, 1))
        mode = self.mode[j]
        mag = self.magnitude[j]
        v = values[rows]
        v = np.where(
            mode == MODE_SCALE, v * (1.0 + mag * r), np.where(mode == MODE_ADD, v + mag * r, v)
        )
        values[rows] = v
        dark = (mode == MODE_DROP) & (t >= start) & (t < self.end_ms)
        keep[rows[dark]] = False


# --- binding a spec to the city -----------------------------------------------------


def _asset_of(city: City, target: str) -> str:
    s = city.registry.get(target)
    return s.asset_id if s is not None else target


def _by_asset(city: City) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, s in enumerate(city.registry.sensors):
        out.setdefault(s.asset_id, []).append(i)
    return out


def _pipe_burst(city: City, spec: ScenarioSpec, rng: np.random.Generator) -> tuple[str, list]:
    w = city.water
    target = _asset_of(city, spec.target)
    if target:
        node = w.node_index(target)
        if node < 0:
            raise ScenarioError(f"pipe_burst: {spec.target!r} is not a water node (WN-…)")
    else:
        cand = [i for i, n in enumerate(w.nodes) if n.hop >= 2] or list(range(len(w.nodes)))
        node = int(rng.choice(cand))
    sev = spec.severity
    reg = city.registry
    by_asset = _by_asset(city)
    rows = []
    for j, h in w.hops_from(node, 6).items():
        for i in by_asset.get(w.nodes[j].node_id, []):
            m = reg.sensors[i].metric
            if m == "pressure":
                rows.append((i, 40.0 * h, -0.30 * sev * 0.72**h, MODE_ADD, 90.0))
            elif m == "flow" and h <= 3:
                rows.append((i, 40.0 * h, 2.5 * sev * 0.55**h, MODE_SCALE, 90.0))
            elif m == "turbidity" and h <= 2:
                rows.append((i, 120.0 + 60.0 * h, 5.0 * sev * 0.5**h, MODE_SCALE, 180.0))
            elif m == "chlorine" and h <= 1:
                rows.append((i, 120.0 + 60.0 * h, -0.3 * sev, MODE_SCALE, 300.0))
    zone = w.nodes[node].zone
    for t in w.tanks:
        if t.zone == zone:
            for i in by_asset.get(t.tank_id, []):
                rows.append(
                    (
                        i,
                        60.0,
                        -0.3 * sev * (t.max_level_m - t.min_level_m),
                        MODE_ADD,
                        spec.duration * 60.0,
                    )
                )
    return w.nodes[node].node_id, rows


def _chemical_leak(city: City, spec: ScenarioSpec, rng: np.random.Generator) -> tuple[str, list]:
    target = _asset_of(city, spec.target)
    srcs = city.hazard_sources
    if target:
        k = next((i for i, s in enumerate(srcs) if s.source_id == target), -1)
        if k < 0:
            raise ScenarioError(f"chemical_leak: {spec.target!r} is not a hazard source (HZ-…)")
    else:
        cand = [i for i, s in enumerate(srcs) if any(d.kind == "toxic" for d in s.detectors)]
        k = int(rng.choice(cand or list(range(len(srcs)))))
    src = srcs[k]
    sev = spec.severity
    reg = city.registry
    by_asset = _by_asset(city)
    lon = np.array([s.lon for s in srcs])
    lat = np.array([s.lat for s in srcs])
    dist = haversine_m(np.full(lon.size, src.lon), np.full(lat.size, src.lat), lon, lat)
    rows = []
    leak_tank = src.tanks[0].tank_id if src.tanks else ""
    for j in np.argsort(dist).tolist():
        if dist[j] > 3000.0:
            break
        near = j == k
        scale = 1.0 if near else 0.35 * float(np.exp(-dist[j] / 1500.0))
        base_delay = 0.0 if near else 120.0 + dist[j] / 2.0  # plume at ~2 m/s
        for i in by_asset.get(srcs[j].source_id, []):
            s = reg.sensors[i]
            d = base_delay + float(rng.uniform(0.0, 60.0))
            if s.metric == "lel":
                rows.append((i, d, scale * sev * float(rng.uniform(35.0, 85.0)), MODE_ADD, 180.0))
            elif s.metric == "toxic":
                oel = float(s.meta["oel_ppm"])
                rows.append(
                    (i, d, scale * sev * oel * float(rng.uniform(2.5, 6.0)), MODE_ADD, 180.0)
                )
            elif near and s.meta.get("tank") == leak_tank and s.metric == "level":
                rows.append((i, 0.0, -8.0 * sev, MODE_ADD, spec.duration * 60.0))
            elif near and s.meta.get("tank") == leak_tank and s.metric == "pressure":
                rows.append((i, 0.0, -0.25 * sev, MODE_SCALE, 300.0))
    return src.source_id, rows


def _traffic_accident(city: City, spec: ScenarioSpec, rng: np.random.Generator) -> tuple[str, list]:
    roads = city.roads
    dets_of: dict[int, list[int]] = {}
    for j, d in enumerate(city.detectors):
        dets_of.setdefault(d.segment, []).append(j)
    target = _asset_of(city, spec.target)
    if target.startswith("TRF-"):
        target = next((d.seg_id for d in city.detectors if d.detector_id == target), target)
    if target:
        seg = roads.segment_index(target)
        if seg < 0:
            raise ScenarioError(f"traffic_accident: {spec.target!r} is not a road segment")
    else:
        cand = [
            s
            for s in sorted(dets_of)
            if roads.road_class[s] <= 1 and city.detectors[dets_of[s][0]].district in CORE_DISTRICTS
        ]
        cand = cand or sorted(dets_of)
        pick = rng.choice(len(cand), size=min(len(cand), 30), replace=False)
        scored = [
            (sum(1 for u, h in roads.upstream(cand[p], 3) if h and u in dets_of), cand[p])
            for p in sorted(pick.tolist())
        ]
        seg = max(scored)[1]
    sev = spec.severity
    det_pos = {d.detector_id: j for j, d in enumerate(city.detectors)}
    det_sensors: dict[int, list[int]] = {}
    for i, s in enumerate(city.registry.sensors):
        if s.domain == "traffic":
            det_sensors.setdefault(det_pos[str(s.meta["detector"])], []).append(i)
    rows = []
    for u, h in roads.upstream(seg, 3):
        for dj in dets_of.get(u, []):
            for i in det_sensors.get(dj, []):
                m = city.registry.sensors[i].metric
                decay = 0.7**h
                if m == "speed":
                    rows.append((i, 90.0 * h, -0.75 * sev * decay, MODE_SCALE, 120.0))
                elif m == "occ":
                    rows.append((i, 90.0 * h, 2.5 * sev * decay, MODE_SCALE, 120.0))
                else:
                    rows.append(
                        (i, 90.0 * h, (-0.6 if h == 0 else -0.3 * decay) * sev, MODE_SCALE, 120.0)
                    )
    return roads.seg_ids[seg], rows


def _pollution_episode(
    city: City, spec: ScenarioSpec, rng: np.random.Generator
) -> tuple[str, list]:
    target = spec.target
    stations = [s for s in city.air_stations if not target or s.district == target]
    if not stations:
        raise ScenarioError(f"pollution_episode: no air station in {target!r}")
    x, y = to_xy(np.array([s.lon for s in stations]), np.array([s.lat for s in stations]))
    front = (x - y) / np.sqrt(2.0)  # NW → SE
    delay = (front - front.min()) / max(float(np.ptp(front)), 1.0) * 2 * 3600.0
    sev = spec.severity
    gain = {"pm25": 3.5, "pm10": 3.0, "so2": 1.0, "no2": 0.6, "co": 1.2, "o3": -0.3}
    by_asset = _by_asset(city)
    rows = []
    for s, d in zip(stations, delay.tolist(), strict=True):
        for i in by_asset.get(s.station_id, []):
            m = city.registry.sensors[i].metric
            rows.append((i, d, gain[m] * sev, MODE_SCALE, 3 * 3600.0))
    return target or "citywide", rows


def _sensor_outage(city: City, spec: ScenarioSpec, rng: np.random.Generator) -> tuple[str, list]:
    reg = city.registry
    target = spec.target
    if target and h3.is_valid_cell(target):
        cells = set(h3.grid_disk(target, 1))
        group = [i for i, s in enumerate(reg.sensors) if s.cell in cells]
    elif target and any(d.adcode == target for d in city.districts):
        group = [i for i, s in enumerate(reg.sensors) if s.district == target]
    elif target:
        asset = _asset_of(city, target)
        group = [i for i, s in enumerate(reg.sensors) if s.asset_id == asset]
    else:
        counts: dict[str, int] = {}
        for s in reg.sensors:
            if s.cell and h3.get_resolution(s.cell) == 8:
                counts[s.cell] = counts.get(s.cell, 0) + 1
        cand = sorted(c for c, n in counts.items() if n >= 3) or sorted(counts)
        target = str(cand[int(rng.integers(len(cand)))])
        cells = set(h3.grid_disk(target, 1))
        group = [i for i, s in enumerate(reg.sensors) if s.cell in cells]
    if not group:
        raise ScenarioError(f"sensor_outage: no sensors match {spec.target!r}")
    n_dark = max(1, round(spec.severity * len(group)))
    dark = sorted(rng.choice(group, size=n_dark, replace=False).tolist())
    return target, [(int(i), 0.0, 0.0, MODE_DROP, 1.0) for i in dark]


_BUILDERS = {
    "pipe_burst": _pipe_burst,
    "chemical_leak": _chemical_leak,
    "traffic_accident": _traffic_accident,
    "pollution_episode": _pollution_episode,
    "sensor_outage": _sensor_outage,
}


def bind(spec: ScenarioSpec, city: City, seed: int, start_ms: int, number: int) -> Injection:
    """Bind ``spec`` (the ``number``-th of the run) to sensors of ``city``."""
    rng = np.random.default_rng([seed, 0x5CE, number])
    target, rows = _BUILDERS[spec.kind](city, spec, rng)
    if not rows:
        raise ScenarioError(f"{spec.kind}: target {target!r} has no sensors to affect")
    onset = int(start_ms + round(spec.at_min * 60_000))
    end = onset + int(round(spec.duration * 60_000))
    return Injection.make(spec.kind, target, spec.severity, onset, end, len(city.registry), rows)
