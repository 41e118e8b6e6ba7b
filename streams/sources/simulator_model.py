"""Clean sensor values of the simulated city as pure functions of (sensor, time).

Every value is computed from per-sensor parameters, the local clock (Asia/Shanghai,
UTC+8) and counter-based noise keyed by ``(seed, sensor, sample number)``: no state,
so a reading depends only on the seed, the sensor and its sample time — never on
how the simulator is stepped. All vectorised numpy over row arrays.

Shapes (documented choices, not measured Fuzhou data):

* traffic — weekday double peak (08:00, 18:00), a flatter weekend; demand ``x``
  per segment, speed by a BPR-like curve ``v = v_free / (1 + 0.6 x⁴)``, flow from
  demand and lane capacity, occupancy from density (5.5 m effective vehicle).
* air — a slow multi-day "weather" factor, night/morning PM build-up, NO₂ and CO
  rising with congestion on segments within 1.5 km (cross-domain coupling),
  diurnal O₃ peaking mid-afternoon and titrated by NO₂.
* water — demand low at night (≈ 0.4 at 03:00), morning and evening peaks;
  pressure falls with the node's position between source and zone extremity and
  with demand² (extremities stay ≥ 0.2 MPa, above the 0.14 MPa rule); free
  chlorine decays towards the extremities and at night (older water); tanks fill
  at night.
* hazard — tank temperature follows the day, pressurised tanks' pressure follows
  temperature, gas detectors sit near zero.

>>> from config.city import load_city
>>> m = CityModel(load_city(scale=0.05), seed=1)
>>> v = m.values(np.arange(3), np.full(3, 1_767_225_600_000))
>>> v.shape
(3,)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from config.city.city import City
from config.city.geo import haversine_m
from config.city.hazard import CHEMICALS

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# kind codes, one per (domain, metric)
KINDS: tuple[str, ...] = (
    "traffic.speed",
    "traffic.flow",
    "traffic.occ",
    "air.pm25",
    "air.pm10",
    "air.so2",
    "air.no2",
    "air.co",
    "air.o3",
    "water.pressure",
    "water.flow",
    "water.turbidity",
    "water.chlorine",
    "water.tank_level",
    "hazard.level",
    "hazard.temperature",
    "hazard.pressure",
    "hazard.lel",
    "hazard.toxic",
)
K = {k: i for i, k in enumerate(KINDS)}

TZ_OFFSET_S = 8 * 3600
#: at most this many detectors (nearest first, within 1.5 km) drive a station's NO2/CO
_NEAR_MAX = 24
_CAPACITY = np.array([1800.0, 1400.0, 900.0])  # veh/h/lane by road class
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64 finaliser (counter-based hashing; wraps modulo 2**64)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def hash_base(seed: int, a: IntArray, salt: int = 0) -> npt.NDArray[np.uint64]:
    """Per-key base hashes; precompute once per sensor and pass to :func:`normal_from`."""
    with np.errstate(over="ignore"):
        return _mix(
            np.uint64(seed & 0xFFFFFFFF) * np.uint64(0x100000001B3)
            + np.asarray(a).astype(np.uint64) * np.uint64(0x9E3779B1)
            + np.uint64(salt) * np.uint64(0x85EBCA77)
        )


#: fixed table of standard normals; the hash of (sensor, sample) picks one (cheap, seeded).
_NORMALS = np.random.default_rng(0x5EED_CAFE).standard_normal(1 << 16)


def normal_from(base: npt.NDArray[np.uint64], b: IntArray) -> FloatArray:
    """Standard normal deviates from base hashes and counters (hash → 65 536-entry table)."""
    with np.errstate(over="ignore"):
        h = base ^ (np.asarray(b).astype(np.uint64) * np.uint64(0xD1B54A32D192ED03))
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x94D049BB133111EB)
    return np.asarray(_NORMALS[(h >> np.uint64(48)).astype(np.intp)], np.float64)


def hash_normal(seed: int, a: IntArray, b: IntArray, salt: int = 0) -> FloatArray:
    """Standard normal deviates keyed by (seed, a, b, salt), reproducible and stateless."""
    return normal_from(hash_base(seed, a, salt), b)


def local_clock(t_ms: IntArray) -> tuple[FloatArray, IntArray, IntArray]:
    """(hour of day 0–24, weekday 0=Monday, day number) in Beijing time."""
    s = np.asarray(t_ms, np.int64) // 1000 + TZ_OFFSET_S
    day = s // 86400
    hour = (s - day * 86400) / 3600.0
    return hour, (day + 3) % 7, day


def _plateau(h: FloatArray, start: float, end: float) -> FloatArray:
    """Smooth day-time plateau between ``start`` and ``end`` o'clock, periodic over 24 h (the
    tail of the evening before is added, so 23:59 → 00:00 is continuous)."""
    h = np.asarray(h, np.float64)
    out = np.zeros_like(h)
    for shift in (-24.0, 0.0, 24.0):
        x = h + shift
        out = out + 1.0 / (1.0 + np.exp(-(x - start) * 2.0)) / (1.0 + np.exp((x - end) * 1.5))
    return out


def _bump(h: FloatArray, centre: FloatArray | float, width: float) -> FloatArray:
    """Gaussian peak of the day at ``centre`` o'clock, periodic over 24 h."""
    h = np.asarray(h, np.float64)
    return np.asarray(
        sum(np.exp(-(((h + shift - centre) / width) ** 2)) for shift in (-24.0, 0.0, 24.0)),
        np.float64,
    )


def traffic_demand(hour: FloatArray, weekday: IntArray) -> FloatArray:
    """Relative demand (≈ 0.12 at night, ≈ 1.1 in the weekday peaks, ≈ 0.7 weekend afternoons)."""
    wd = (
        0.12
        + 0.45 * _plateau(hour, 6.5, 22.0)
        + 0.55 * _bump(hour, 8.0, 0.9)
        + 0.60 * _bump(hour, 18.0, 1.1)
    )
    we = 0.10 + 0.45 * _plateau(hour, 8.5, 22.5) + 0.20 * _bump(hour, 15.0, 3.0)
    return np.asarray(np.where(weekday >= 5, we, wd), np.float64)


def water_demand(hour: FloatArray, weekday: IntArray) -> FloatArray:
    """Relative water demand (≈ 0.4 at 03:00, peaks ≈ 1.3 at 07:30 and 19:30)."""
    morning = np.where(weekday >= 5, 9.0, 7.5)
    return np.asarray(
        0.35
        + 0.30 * _plateau(hour, 6.0, 23.0)
        + 0.55 * _bump(hour, morning, 1.3)
        + 0.45 * _bump(hour, 19.5, 1.8),
        np.float64,
    )


def speed_factor(x: FloatArray) -> FloatArray:
    """Speed as a share of free-flow speed for demand/capacity ``x``."""
    return np.asarray(1.0 / (1.0 + 0.6 * np.maximum(x, 0.0) ** 4), np.float64)


#: relative white noise of the air monitors, in the order pm25, pm10, so2, no2, co, o3
AIR_NOISE_REL = np.array([0.07, 0.07, 0.07, 0.07, 0.05, 0.07])


class CityModel:
    """Per-sensor parameters (dense arrays) and the vectorised clean-value function."""

    def __init__(self, city: City, seed: int) -> None:
        self.seed = int(seed)
        reg = city.registry
        n = len(reg)
        self.n = n
        rng = np.random.default_rng([self.seed, 0x51])
        kind = np.full(n, -1, np.int64)
        group = np.zeros(n, np.int64)
        p1 = np.zeros(n)
        p2 = np.zeros(n)
        p3 = np.zeros(n)
        roads = city.roads
        det_index = {d.detector_id: j for j, d in enumerate(city.detectors)}
        st_index = {s.station_id: j for j, s in enumerate(city.air_stations)}
        node_index = {w.node_id: j for j, w in enumerate(city.water.nodes)}
        tank_index = {t.tank_id: j for j, t in enumerate(city.water.tanks)}
        zone_p = {z.zone_id: z.source_pressure_mpa for z in city.water.zones}
        zone_hops: dict[str, int] = {}
        for w in city.water.nodes:
            zone_hops[w.zone] = max(zone_hops.get(w.zone, 0), w.hop)
        src_index = {h.source_id: j for j, h in enumerate(city.hazard_sources)}
        # per traffic detector: demand multiplier from distance to the centre + noise
        n_det = len(city.detectors)
        det_lon = np.array([d.lon for d in city.detectors])
        det_lat = np.array([d.lat for d in city.detectors])
        seg = np.array([d.segment for d in city.detectors], np.int64)
        r_km = (
            haversine_m(det_lon, det_lat, np.full(n_det, 119.2965), np.full(n_det, 26.0745)) / 1e3
        )
        self.det_m = 0.5 + 0.65 * np.exp(-r_km / 9.0) + rng.normal(0, 0.08, n_det)
        self.det_ff = roads.free_speed_kmh[seg] if n_det else np.zeros(0)
        # air stations: nearby detectors (CSR) for the congestion → NO2/CO coupling
        st_lon = np.array([s.lon for s in city.air_stations])
        st_lat = np.array([s.lat for s in city.air_stations])
        near: list[IntArray] = []
        for j in range(len(st_lon)):
            dist = haversine_m(
                np.full(n_det, st_lon[j]), np.full(n_det, st_lat[j]), det_lon, det_lat
            )
            cand = np.flatnonzero(dist < 1500.0)
            near.append(cand[np.argsort(dist[cand], kind="stable")[:_NEAR_MAX]])
        self.near_ptr = np.zeros(len(near) + 1, np.int64)
        self.near_ptr[1:] = np.cumsum([a.size for a in near])
        self.near_idx = np.concatenate(near) if near else np.zeros(0, np.int64)
        self.st_base = rng.uniform(0.8, 1.25, len(st_lon))

        for i, s in enumerate(reg.sensors):
            key = f"{s.domain}.{s.metric}"
            kind[i] = K[key]
            if s.domain == "traffic":
                j = det_index[str(s.meta["detector"])]
                group[i] = j
                p1[i] = self.det_ff[j]
                p2[i] = _CAPACITY[int(roads.road_class[city.detectors[j].segment])] * float(
                    s.meta["lanes"]
                )
                p3[i] = float(s.meta["lanes"])
            elif s.domain == "air":
                group[i] = st_index[s.asset_id]
                p1[i] = self.st_base[group[i]]
                p2[i] = rng.uniform(1.45, 1.9)  # PM10 / PM2.5 ratio
            elif s.domain == "water":
                if s.metric == "tank_level":
                    t = city.water.tanks[tank_index[s.asset_id]]
                    group[i] = tank_index[s.asset_id]
                    p1[i], p2[i] = t.min_level_m, t.max_level_m
                    p3[i] = rng.uniform(-1.0, 1.0)
                else:
                    w = city.water.nodes[node_index[s.asset_id]]
                    group[i] = node_index[s.asset_id]
                    # position in the zone: 0 at the source, 1 at the farthest extremity
                    frac = w.hop / max(zone_hops[w.zone], 1)
                    p1[i] = zone_p[w.zone] - 0.08 * frac - 0.0008 * (w.elevation_m - 5.0)
                    p2[i] = w.base_flow_m3h if s.metric == "flow" else frac
                    p3[i] = 0.05 * max(frac, 0.05)
            else:
                group[i] = src_index[s.asset_id]
                if s.metric == "level":
                    p1[i] = rng.uniform(35.0, 80.0)
                    p2[i] = rng.uniform(2.0, 8.0)
                elif s.metric == "temperature":
                    p1[i] = rng.uniform(-2.0, 3.0)
                elif s.metric == "pressure":
                    pressurised = bool(s.meta.get("pressurised"))
                    p1[i] = rng.uniform(0.4, 1.0) if pressurised else rng.uniform(0.002, 0.006)
                elif s.metric == "lel":
                    p1[i] = rng.uniform(0.2, 1.0)
                else:
                    p1[i] = 0.03 * CHEMICALS[str(s.meta["chemical"])].oel_ppm
        self.kind, self.group, self.p1, self.p2, self.p3 = kind, group, p1, p2, p3
        #: 0 traffic, 1 air, 2 water, 3 hazard
        self.family = np.searchsorted(
            np.array([K["air.pm25"], K["water.pressure"], K["hazard.level"]]), kind, side="right"
        )
        self._sensor_base = hash_base(self.seed, np.arange(n))
        self._det_base = hash_base(self.seed, np.arange(n_det), salt=7)
        self.lo, self.hi = reg.lo, reg.hi
        ph = np.random.default_rng([self.seed, 0x52]).uniform(0, 2 * np.pi, 3)
        self._weather_phase = ph

    # --- shared drivers -------------------------------------------------------------
    def weather(self, t_ms: IntArray) -> FloatArray:
        """City-wide slow pollution factor (multi-day swings, 0.5–1.6)."""
        d = np.asarray(t_ms, np.float64) / 86_400_000.0
        ph = self._weather_phase
        return np.asarray(
            1.0
            + 0.35 * np.sin(2 * np.pi * d / 3.7 + ph[0])
            + 0.18 * np.sin(2 * np.pi * d / 1.3 + ph[1]),
            np.float64,
        )

    def detector_x(self, det: IntArray, demand: FloatArray, day: IntArray) -> FloatArray:
        """Demand/capacity ratio of detectors for a relative ``demand`` (day-to-day wobble)."""
        wobble = 1.0 + 0.05 * normal_from(self._det_base[det], day)
        return np.asarray(demand * self.det_m[det] * wobble, np.float64)

    def clock(self, t_ms: IntArray) -> _Clock:
        """Time features per row, computed once per distinct time (rows share seconds)."""
        t_ms = np.asarray(t_ms, np.int64)
        if t_ms.size > 1 and bool((t_ms[1:] >= t_ms[:-1]).all()):
            starts = np.concatenate(([0], np.flatnonzero(t_ms[1:] != t_ms[:-1]) + 1))
            tu = t_ms[starts]
            inv = np.repeat(np.arange(tu.size), np.diff(np.append(starts, t_ms.size)))
        else:
            tu, inv = np.unique(t_ms, return_inverse=True)
        hour, weekday, day = local_clock(tu)
        return _Clock(
            hour=hour[inv],
            day=day[inv],
            weekday=weekday[inv],
            traffic=traffic_demand(hour, weekday)[inv],
            water=water_demand(hour, weekday)[inv],
            weather=self.weather(tu)[inv],
            frac_day=(tu.astype(np.float64) / 86_400_000.0)[inv],
        )

    # --- clean values ---------------------------------------------------------------
    def values(self, idx: IntArray, t_ms: IntArray, sample: IntArray | None = None) -> FloatArray:
        """Clean (fault-free, scenario-free) values of sensors ``idx`` at times ``t_ms``.

        ``sample`` numbers key the noise (defaults to ``t_ms // 1000``).
        """
        idx = np.asarray(idx, np.int64)
        t_ms = np.asarray(t_ms, np.int64)
        k = t_ms // 1000 if sample is None else np.asarray(sample, np.int64)
        out = np.empty(idx.size)
        if idx.size == 0:
            return out
        z = normal_from(self._sensor_base[idx], k)
        c = self.clock(t_ms)
        fam = self.family[idx]
        kind = self.kind[idx]
        for f, fn in enumerate((self._traffic, self._air, self._water, self._hazard)):
            m = fam == f
            if m.all():
                out[:] = fn(idx, kind, c, z)
            elif m.any():
                out[m] = fn(idx[m], kind[m], c.take(m), z[m])
        return np.clip(out, self.lo[idx], self.hi[idx])

    def _traffic(self, idx: IntArray, kind: IntArray, c: _Clock, z: FloatArray) -> FloatArray:
        x = self.detector_x(self.group[idx], c.traffic, c.day)
        speed = self.p1[idx] * speed_factor(x)
        flow = self.p2[idx] * np.where(x <= 1.0, x, np.maximum(0.55, 1.0 - 0.5 * (x - 1.0)))
        occ = 100.0 * (flow / self.p3[idx]) / np.maximum(speed, 3.0) * 0.0055
        k = kind - K["traffic.speed"]
        v = np.choose(k, (speed, flow, occ)) * (1.0 + np.choose(k, (0.05, 0.07, 0.06)) * z)
        return np.asarray(np.maximum(v, 0.0), np.float64)

    def station_traffic(self, st: IntArray, c: _Clock) -> tuple[FloatArray, FloatArray]:
        """(mean demand, mean congestion 1 − v/v_free) of detectors near each row's station.

        Computed once per distinct (station, time): a station's pollutant rows share both.
        """
        if st.size == 0:
            return np.zeros(0), np.zeros(0)
        tkey = c.hour * 1e-3 + c.day.astype(np.float64) * 100.0
        order = np.lexsort((tkey, st))
        s_sorted, t_sorted = st[order], tkey[order]
        first = np.ones(st.size, bool)
        first[1:] = (s_sorted[1:] != s_sorted[:-1]) | (t_sorted[1:] != t_sorted[:-1])
        group = np.cumsum(first) - 1
        rep = order[first]  # one representative row per (station, time)
        ust = st[rep]
        cnt = self.near_ptr[ust + 1] - self.near_ptr[ust]
        rows = np.repeat(np.arange(ust.size), cnt)
        mx = np.zeros(ust.size)
        mc = np.zeros(ust.size)
        if rows.size:
            starts = np.repeat(self.near_ptr[ust], cnt)
            within = np.arange(rows.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            det = self.near_idx[starts + within]
            x = self.detector_x(det, c.traffic[rep][rows], c.day[rep][rows])
            safe = np.maximum(cnt, 1)
            mx = np.bincount(rows, x, ust.size) / safe
            mc = np.bincount(rows, 1.0 - speed_factor(x), ust.size) / safe
        out_x = np.empty(st.size)
        out_c = np.empty(st.size)
        out_x[order] = mx[group]
        out_c[order] = mc[group]
        return out_x, out_c

    def _air(self, idx: IntArray, kind: IntArray, c: _Clock, z: FloatArray) -> FloatArray:
        base = self.p1[idx]
        w = c.weather
        tx, tc = self.station_traffic(self.group[idx], c)
        night = 1.0 + 0.25 * np.cos(2 * np.pi * (c.hour - 6.0) / 24.0)
        pm25 = 28.0 * base * w * night * (1.0 + 0.12 * tx)
        sun = np.maximum(0.0, np.sin(np.pi * (c.hour - 8.0) / 12.0)) ** 1.5  # O3 peaks ~14:00
        no2 = 18.0 * base * (0.8 + 0.2 * w) + 12.0 * tx + 60.0 * tc
        o3 = 22.0 + 120.0 * sun * (0.7 + 0.3 * w) - 0.25 * (no2 - 18.0)
        k = kind - K["air.pm25"]
        out = np.choose(
            k,
            (
                pm25,
                pm25 * self.p2[idx],
                7.0 * base * np.sqrt(w) * night,
                no2,
                0.45 * base + 0.25 * tx + 0.6 * tc + 0.1 * w,
                o3,
            ),
        )
        rel = AIR_NOISE_REL[k]
        return np.asarray(np.maximum(out * (1.0 + rel * z), 0.0), np.float64)

    def _water(self, idx: IntArray, kind: IntArray, c: _Clock, z: FloatArray) -> FloatArray:
        dem = c.water
        p1, p2, p3 = self.p1[idx], self.p2[idx], self.p3[idx]
        p = p1 - p3 * dem**2 + 0.004 * z
        flow = p2 * dem * (1.0 + 0.04 * z)
        turb = 0.18 + 0.05 * dem + 0.04 * np.abs(z)
        chlorine = np.maximum(0.68 - 0.25 * p2 - 0.06 * (1.3 - dem) + 0.02 * z, 0.08)
        tank = p1 + (p2 - p1) * (0.55 + 0.3 * np.cos(2 * np.pi * (c.hour - 5.0 + p3) / 24.0))
        tank = tank + 0.01 * z
        out = np.choose(kind - K["water.pressure"], (p, flow, turb, chlorine, tank))
        return np.asarray(out, np.float64)

    def _hazard(self, idx: IntArray, kind: IntArray, c: _Clock, z: FloatArray) -> FloatArray:
        ambient = 22.0 + 5.0 * np.sin(2 * np.pi * (c.hour - 9.0) / 24.0)
        p1 = self.p1[idx]
        level = p1 + self.p2[idx] * np.sin(2 * np.pi * c.frac_day / 2.3 + idx) + 0.2 * z
        temp = ambient + p1 + 0.2 * z
        press = p1 * (1.0 + 0.02 * (ambient - 20.0)) * (1.0 + 0.005 * z)
        az = np.abs(z)
        out = np.choose(
            kind - K["hazard.level"],
            (level, temp, press, p1 * (1.0 + 0.3 * az), p1 * (1.0 + 0.5 * az)),
        )
        return np.asarray(out, np.float64)


@dataclass(frozen=True, slots=True)
class _Clock:
    """Row-aligned time features (see :meth:`CityModel.clock`)."""

    hour: FloatArray
    day: IntArray
    weekday: IntArray
    traffic: FloatArray
    water: FloatArray
    weather: FloatArray
    frac_day: FloatArray

    def take(self, m: npt.NDArray[np.bool_]) -> _Clock:
        return _Clock(
            self.hour[m],
            self.day[m],
            self.weekday[m],
            self.traffic[m],
            self.water[m],
            self.weather[m],
            self.frac_day[m],
        )
