"""Read side of the wall: state-store columns → per-layer status codes and KPI values.

Nobody upstream has to pre-compute the wall's aggregates: :class:`WallModel` indexes the
city once (which sensor feeds which road segment, air station, water node, hazard source
and grid cell) and then turns one ``state.latest_all()`` snapshot into small integer
status codes per map object plus the KPI tiles, all vectorised with numpy. The indices
themselves (TPI, HJ 633 AQI, pressure compliance, GB/T 50493 alarm levels) come from
``models/indices``; nothing is re-implemented here.

Status codes are what the browser colours by (palettes in :mod:`layouts.wall_map`):

- cells: 0 no data, 1 normal, 2 watch, 3 warning, 4 alarm (worst sensor of the cell)
- roads: 0 no detector/no data, 1..5 GB/T 33171 traffic level
- air: 0 NA, 1..6 HJ 633 category
- water: 0 no data, 1 normal, 2 quality breach, 3 low pressure
- hazard: 0 no data, 1 normal, 2 first-level alarm, 3 second-level alarm

>>> from config.city import load_city
>>> from streams.state.base import empty_latest
>>> city = load_city(scale=0.05)
>>> model = WallModel(city)
>>> frame = model.frame(empty_latest(len(city.registry)), now_ms=0)
>>> int(frame.codes["roads"].max()), frame.kpis["tpi"] is None
(0, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from models.indices.aqi_china import china_aqi_array
from models.indices.aqi_china_tables import POLLUTANTS
from models.indices.traffic import tpi_from_times, traffic_level_codes, weighted_tpi
from models.indices.water import ABOVE_MAX, BELOW_MIN, pressure_compliance, quality_codes
from streams.messages import DOMAINS
from streams.state import latest_column

I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: registry metric → HJ 633—2026 hourly key (latest readings stand in for 1-h means:
#: the wall shows a *real-time* AQI, labelled as such)
AIR_KEYS = {"pm25": "pm25_1h", "pm10": "pm10_1h", "so2": "so2_1h", "no2": "no2_1h",
            "co": "co_1h", "o3": "o3_1h"}
#: anomaly scores at or above these raise a cell to watch / warning
SCORE_WATCH = 0.5
SCORE_WARN = 0.8
#: derived ticker entries: score threshold, and the level shown (Ⅲ above 0.95, else Ⅳ)
TICKER_SCORE = 0.8
TICKER_MAX = 30
#: unit state codes (dispatch docs use these names)
UNIT_STATES = ("available", "dispatched", "on_scene", "unavailable")
UNIT_GROUPS = ("fire", "ems", "police")
#: dispatch's unit lifecycle (dispatch/lifecycle.py) folded onto the four map states
UNIT_STATE_OF = {"available": "available", "dispatched": "dispatched", "en_route": "dispatched",
                 "returning": "dispatched", "on_scene": "on_scene",
                 "out_of_service": "unavailable", "unavailable": "unavailable"}
CLOSED_STATES = frozenset({"closed", "resolved", "cancelled", "cleared"})


@dataclass(frozen=True)
class WallFrame:
    """Everything the wall shows at one instant, as plain data."""

    now_ms: int
    #: status code per object, per layer (see the module docstring)
    codes: dict[str, I8]
    #: KPI tile values (None = no data)
    kpis: dict[str, Any]
    #: age in seconds of the newest reading per domain (None = never)
    ages_s: dict[str, float | None]
    #: event time of the newest reading in the snapshot (epoch ms; None before any)
    newest_ms: int | None = None
    ticker: list[dict[str, Any]] = field(default_factory=list)
    ticker_derived: bool = True
    units: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)




def _take(values: F64, idx: I64) -> F64:
    """``values[idx]`` with NaN where ``idx`` is -1 (sensor absent)."""
    out = values[np.maximum(idx, 0)]
    return np.where(idx >= 0, out, np.nan)


class WallModel:
    """Index of the city for the wall; :meth:`frame` is the per-tick computation.

    Built once per web process (about 50 ms at scale 1); :meth:`frame` costs a few
    milliseconds at 5 000 sensors and scales linearly.
    """

    def __init__(self, city: Any) -> None:
        self.city = city
        reg = city.registry
        self.n = len(reg)
        sensors = reg.sensors
        self.domain_code = reg.domain_code.astype(np.int64)

        # grid cells (order of city.cell_polygons())
        self.cell_ids = [c.cell for c in city.grid.cells]
        cell_pos = {c: i for i, c in enumerate(self.cell_ids)}
        self.sensor_cell = np.array([cell_pos.get(s.cell, -1) for s in sensors], np.int64)

        # traffic: speed detectors → road segments (order of city.road_paths())
        roads = city.roads
        self.n_roads = int(roads.n_segments)
        seg_pos = {sid: i for i, sid in enumerate(roads.seg_ids)}
        spd = [(i, seg_pos[s.asset_id], float(s.meta.get("free_speed_kmh", 0.0)))
               for i, s in enumerate(sensors)
               if s.domain == "traffic" and s.metric == "speed" and s.asset_id in seg_pos]
        self.spd_idx = np.array([r[0] for r in spd], np.int64)
        self.spd_seg = np.array([r[1] for r in spd], np.int64)
        self.spd_free = np.array([r[2] for r in spd], np.float64)
        self.spd_len_km = np.asarray(roads.length_m, np.float64)[self.spd_seg] / 1000.0
        # every traffic sensor → its detector row, to lift segment levels onto sensors
        det_row = {sensors[int(i)].meta.get("detector"): k for k, i in enumerate(self.spd_idx)}
        self.trf_sensor = np.flatnonzero(self.domain_code == DOMAINS.index("traffic"))
        self.trf_row = np.array([det_row.get(sensors[int(i)].meta.get("detector"), -1)
                                 for i in self.trf_sensor], np.int64)

        # air: station × pollutant sensor index matrix
        self.air_ids = [s.station_id for s in city.air_stations]
        st_pos = {sid: k for k, sid in enumerate(self.air_ids)}
        self.air_keys = list(AIR_KEYS.values())
        self.air_idx = np.full((len(self.air_ids), len(self.air_keys)), -1, np.int64)
        self.air_sensor_station = np.full(self.n, -1, np.int64)
        for i, s in enumerate(sensors):
            if s.domain == "air" and s.asset_id in st_pos and s.metric in AIR_KEYS:
                k = st_pos[s.asset_id]
                self.air_idx[k, self.air_keys.index(AIR_KEYS[s.metric])] = i
                self.air_sensor_station[i] = k

        # water nodes: pressure / free chlorine / turbidity sensor per node
        self.water_ids = [nd.node_id for nd in city.water.nodes]
        wn_pos = {nid: k for k, nid in enumerate(self.water_ids)}
        self.w_press = np.full(len(self.water_ids), -1, np.int64)
        self.w_chl = np.full(len(self.water_ids), -1, np.int64)
        self.w_turb = np.full(len(self.water_ids), -1, np.int64)
        self.water_sensor_node = np.full(self.n, -1, np.int64)
        slot = {"pressure": self.w_press, "chlorine": self.w_chl, "turbidity": self.w_turb}
        for i, s in enumerate(sensors):
            if s.domain == "water" and s.asset_id in wn_pos:
                self.water_sensor_node[i] = wn_pos[s.asset_id]
                if s.metric in slot:
                    slot[s.metric][wn_pos[s.asset_id]] = i

        # hazard sources: gas detectors with their alarm set-points
        self.hazard_ids = [h.source_id for h in city.hazard_sources]
        hz_pos = {hid: k for k, hid in enumerate(self.hazard_ids)}
        gas = [(i, hz_pos[s.asset_id], float(s.meta["alarm1"]), float(s.meta["alarm2"]))
               for i, s in enumerate(sensors)
               if s.domain == "hazard" and s.asset_id in hz_pos and "alarm1" in s.meta]
        self.gas_idx = np.array([g[0] for g in gas], np.int64)
        self.gas_src = np.array([g[1] for g in gas], np.int64)
        self.gas_a1 = np.array([g[2] for g in gas], np.float64)
        self.gas_a2 = np.array([g[3] for g in gas], np.float64)
        self.hazard_sensor_src = np.array(
            [hz_pos.get(s.asset_id, -1) if s.domain == "hazard" else -1 for s in sensors],
            np.int64)

        # units at their home stations (until dispatch publishes positions)
        kind_of_station = {st.station_id: st.kind for st in city.stations}
        self.home_units = [
            {"id": u.unit_id, "kind": u.kind, "group": kind_of_station.get(u.station_id, "fire"),
             "station": u.station_id, "lon": u.home_lon, "lat": u.home_lat,
             "state": "available", "home": True}
            for u in city.units
        ]

    # ------------------------------------------------------------------ per tick
    def frame(
        self,
        latest: Mapping[str, np.ndarray],
        now_ms: int,
        alerts: list[dict[str, Any]] | None = None,
        units: list[dict[str, Any]] | None = None,
        incidents: list[dict[str, Any]] | None = None,
    ) -> WallFrame:
        """Status codes and KPIs for one snapshot of ``state.latest_all()``."""
        n = self.n
        value = latest_column(latest, "value", n)
        ts = latest_column(latest, "ts", n)
        score = np.nan_to_num(latest_column(latest, "score", n), nan=0.0)
        fault = np.nan_to_num(latest_column(latest, "fault", n), nan=0.0)
        has = np.isfinite(value)

        kpis: dict[str, Any] = {}
        roads, sev_trf = self._traffic(value, kpis)
        air, sev_air = self._air(value, kpis)
        water, sev_water = self._water(value, kpis)
        hazard, sev_haz = self._hazard(value, kpis)

        # per-sensor severity (1 normal … 4 alarm), then worst per cell
        sev = np.where(has, 1, 0).astype(np.int8)
        sev = np.maximum(sev, np.where(has & (score >= SCORE_WATCH), 2, 0).astype(np.int8))
        sev = np.maximum(sev, np.where(has & (score >= SCORE_WARN), 3, 0).astype(np.int8))
        sev = np.maximum(sev, np.where(has & (fault > 0), 2, 0).astype(np.int8))
        sev = np.maximum.reduce([sev, sev_trf, sev_air, sev_water, sev_haz])
        sev = np.where(has, sev, 0).astype(np.int8)
        cells = np.zeros(len(self.cell_ids), np.int8)
        m = self.sensor_cell >= 0
        np.maximum.at(cells, self.sensor_cell[m], sev[m])
        kpis["anomalous"] = int(np.count_nonzero(has & (score >= SCORE_WATCH)))

        ages: dict[str, float | None] = {}
        for code, dom in enumerate(DOMAINS):
            t = ts[self.domain_code == code]
            t = t[np.isfinite(t)]
            ages[dom] = None if t.size == 0 else max(0.0, (now_ms - float(t.max())) / 1000.0)

        fin = ts[np.isfinite(ts)]
        newest = int(fin.max()) if fin.size else None

        unit_rows = self.units(units)
        open_inc = [i for i in (incidents or [])
                    if str(i.get("status", i.get("state", "open"))) not in CLOSED_STATES]
        by_level = [0, 0, 0, 0]
        for inc in open_inc:
            lv = _level(inc.get("level"))
            if lv:
                by_level[lv - 1] += 1
        kpis["incidents"] = len(open_inc)
        kpis["incidents_by_level"] = by_level
        kpis["units_free"] = sum(1 for u in unit_rows if u["state"] == "available")
        kpis["units_total"] = len(unit_rows)

        formal = [a for a in (alerts or [])
                  if str(a.get("state", a.get("status", "active"))).split("_")[0]
                  not in CLOSED_STATES]
        if formal:
            ticker = sorted((_alert_entry(a) for a in formal), key=lambda e: -e["ts"])
            derived = False
        else:
            ticker = self.derived_ticker(score, fault, ts)
            derived = True
        return WallFrame(
            now_ms=int(now_ms),
            codes={"cells": cells, "roads": roads, "air": air, "water": water, "hazard": hazard},
            kpis=kpis, ages_s=ages, newest_ms=newest, ticker=ticker[:TICKER_MAX],
            ticker_derived=derived,
            units=unit_rows, incidents=[_incident_row(i) for i in open_inc],
        )

    def _traffic(self, value: F64, kpis: dict[str, Any]) -> tuple[I8, I8]:
        speed = value[self.spd_idx]
        ok = np.isfinite(speed) & (speed > 0) & (self.spd_free > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            # travel time over the segment length ∝ 1/speed, so TTI = free speed / speed
            tpi = tpi_from_times(np.where(ok, 1.0 / speed, np.nan), 1.0 / self.spd_free)
        lev = traffic_level_codes(tpi)
        roads = np.zeros(self.n_roads, np.int8)
        np.maximum.at(roads, self.spd_seg, lev)
        if np.any(np.isfinite(tpi)):
            city_tpi = float(weighted_tpi(tpi, self.spd_len_km))
            kpis["tpi"] = round(city_tpi, 2)
            kpis["tpi_level"] = int(traffic_level_codes(np.array([city_tpi]))[0])
            valid = lev > 0
            kpis["congested_pct"] = round(100.0 * float(np.mean(lev[valid] >= 4)), 1)
        else:
            kpis["tpi"] = kpis["tpi_level"] = kpis["congested_pct"] = None
        sev = np.zeros(self.n, np.int8)
        row_lev = np.where(self.trf_row >= 0, lev[np.maximum(self.trf_row, 0)], 0)
        sev[self.trf_sensor] = np.select([row_lev >= 5, row_lev >= 4], [3, 2], 0)
        return roads, sev

    def _air(self, value: F64, kpis: dict[str, Any]) -> tuple[I8, I8]:
        conc = {k: _take(value, self.air_idx[:, j]) for j, k in enumerate(self.air_keys)}
        res = china_aqi_array(conc, "hourly", "2026")
        air = res.level.astype(np.int8)
        city_conc = {k: np.array([np.nanmean(v)]) if np.any(np.isfinite(v)) else
                     np.array([np.nan]) for k, v in conc.items()}
        city = china_aqi_array(city_conc, "hourly", "2026")
        aqi = float(city.aqi[0])
        if math.isfinite(aqi):
            kpis["aqi"] = int(aqi)
            kpis["aqi_level"] = int(city.level[0])
            iaqi = {k: float(v[0]) for k, v in city.iaqi.items() if np.isfinite(v[0])}
            top = max(iaqi.values())
            # HJ 633: a primary pollutant is named only when the AQI exceeds 50
            kpis["primary"] = [] if aqi <= 50 else sorted(
                {POLLUTANTS[k].symbol for k, v in iaqi.items() if v == top})
        else:
            kpis["aqi"] = kpis["aqi_level"] = None
            kpis["primary"] = []
        st_sev = np.select([air >= 5, air >= 4, air >= 3], [4, 3, 2], 0).astype(np.int8)
        sev = np.zeros(self.n, np.int8)
        m = self.air_sensor_station >= 0
        sev[m] = st_sev[self.air_sensor_station[m]]
        return air, sev

    def _water(self, value: F64, kpis: dict[str, Any]) -> tuple[I8, I8]:
        p = _take(value, self.w_press)
        chl = _take(value, self.w_chl)
        turb = _take(value, self.w_turb)
        qc = quality_codes("free_chlorine", chl, "tap")
        qt = quality_codes("turbidity", turb)
        bad_q = np.isin(qc, (ABOVE_MAX, BELOW_MIN)) | np.isin(qt, (ABOVE_MAX, BELOW_MIN))
        comp = pressure_compliance(p)
        low = np.isfinite(p) & (p < comp.limit_mpa)
        seen = np.isfinite(p) | np.isfinite(chl) | np.isfinite(turb)
        water = np.select([low, bad_q, seen], [3, 2, 1], 0).astype(np.int8)
        kpis["pressure_pct"] = None if comp.n_valid == 0 else round(100.0 * comp.rate, 1)
        kpis["pressure_target_pct"] = round(100.0 * comp.target, 1)
        kpis["quality_breaches"] = int(np.count_nonzero(bad_q))
        sev = np.zeros(self.n, np.int8)
        m = self.water_sensor_node >= 0
        node_sev = np.select([low | bad_q], [3], 0).astype(np.int8)
        sev[m] = node_sev[self.water_sensor_node[m]]
        return water, sev

    def _hazard(self, value: F64, kpis: dict[str, Any]) -> tuple[I8, I8]:
        v = value[self.gas_idx]
        # GB/T 50493 two-stage alarm with each detector's own set-points
        lev = np.where(v >= self.gas_a2, 2, np.where(v >= self.gas_a1, 1, 0))
        lev = np.where(np.isfinite(v), lev + 1, 0).astype(np.int8)
        hazard = np.zeros(len(self.hazard_ids), np.int8)
        np.maximum.at(hazard, self.gas_src, lev)
        kpis["alarm1"] = int(np.count_nonzero(hazard == 2))
        kpis["alarm2"] = int(np.count_nonzero(hazard == 3))
        src_sev = np.select([hazard >= 3, hazard >= 2], [4, 3], 0).astype(np.int8)
        sev = np.zeros(self.n, np.int8)
        m = self.hazard_sensor_src >= 0
        sev[m] = src_sev[self.hazard_sensor_src[m]]
        return hazard, sev

    def derived_ticker(self, score: F64, fault: F64, ts: F64) -> list[dict[str, Any]]:
        """Ticker entries from high anomaly scores and faults, newest first (until alerts exist)."""
        hit = np.flatnonzero((score >= TICKER_SCORE) | (fault > 0))
        if hit.size == 0:
            return []
        t = np.nan_to_num(ts[hit], nan=0.0)
        order = hit[np.lexsort((-score[hit], -t))][:TICKER_MAX]
        reg = self.city.registry
        out = []
        for i in order.tolist():
            s = reg.sensors[i]
            sc = float(score[i])
            out.append({"id": s.sensor_id, "level": 3 if sc >= 0.95 else 4,
                        "ts": int(np.nan_to_num(ts[i], nan=0.0)), "sensor": s.sensor_id,
                        "metric": s.metric, "domain": s.domain, "district": s.district,
                        "score": round(sc, 2), "fault": int(fault[i]), "derived": True})
        return out

    def units(self, docs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """Unit rows for the map: dispatch's published positions, else home stations."""
        if not docs:
            return self.home_units
        home = {u["id"]: u for u in self.home_units}
        out = []
        for d in docs:
            uid = str(d.get("id") or d.get("unit_id") or "")
            base = home.get(uid, {})
            lon, lat = d.get("lon", base.get("lon")), d.get("lat", base.get("lat"))
            if lon is None or lat is None:
                continue
            state = UNIT_STATE_OF.get(str(d.get("status", d.get("state", "available"))),
                                      "dispatched")
            kind = str(d.get("type") or d.get("kind") or base.get("kind", ""))
            out.append({"id": uid, "kind": kind, "group": base.get("group", _group_of(kind)),
                        "station": base.get("station", d.get("station_id", "")),
                        "lon": float(lon), "lat": float(lat),
                        "state": state, "home": False})
        return out


def _group_of(kind: str) -> str:
    if kind in ("ambulance", "ems"):
        return "ems"
    if kind.startswith("police"):
        return "police"
    return "fire"


def _level(raw: Any) -> int:
    """Emergency level 1..4 from 1..4, "I".."IV", "Ⅰ".."Ⅳ"; 0 when unknown."""
    if isinstance(raw, int | float) and 1 <= int(raw) <= 4:
        return int(raw)
    text = str(raw or "").strip().upper().removeprefix("LEVEL").strip()
    names = {"I": 1, "II": 2, "III": 3, "IV": 4, "Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4,
             "1": 1, "2": 2, "3": 3, "4": 4}
    return names.get(text, 0)


def _text(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        zh = str(raw.get("zh-CN") or raw.get("zh") or raw.get("en") or "")
        return {"zh-CN": zh, "en": str(raw.get("en") or zh)}
    return {"zh-CN": str(raw or ""), "en": str(raw or "")}


def _title(doc: dict[str, Any], *fallbacks: str) -> dict[str, str]:
    if doc.get("title_zh") or doc.get("title_en"):
        return _text({"zh-CN": doc.get("title_zh"), "en": doc.get("title_en")})
    for key in ("title", "message", *fallbacks):
        if doc.get(key):
            return _text(doc[key])
    return _text(doc.get("id"))


def _alert_entry(doc: dict[str, Any]) -> dict[str, Any]:
    """A ticker entry from an ``alert:*`` document (alerts/model.py ``as_state_doc``)."""
    return {"id": str(doc.get("id", "")), "level": _level(doc.get("level")) or 4,
            "ts": int(doc.get("last_ts") or doc.get("ts") or doc.get("first_ts") or 0),
            "title": _title(doc, "kind", "type"),
            "state": str(doc.get("state", "active")), "derived": False}


def _incident_row(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(doc.get("id", "")), "level": _level(doc.get("level")) or 4,
            "lon": float(doc.get("lon", 0.0)), "lat": float(doc.get("lat", 0.0)),
            "kind": str(doc.get("type", doc.get("kind", ""))),
            "state": str(doc.get("status", doc.get("state", "open"))),
            "title": _title(doc, "type", "kind")}
