"""Vectorised rule evaluation: one wave of readings → breach rank and clear flag per row.

The standards come from :mod:`models.indices` (never re-implemented here):

* ``aqi`` — HJ 633 AQI category of an air station from the running means of its six
  pollutants (:func:`~models.indices.aqi_china.china_aqi_array`, hourly report keys);
* ``congestion`` — speed-based segment level by road class, 严重拥堵 = level 5
  (:func:`~models.indices.traffic.speed_level_codes`);
* ``water_pressure`` — below 0.14 MPa (:func:`~models.indices.water.pressure_ok`);
* ``water_quality`` — GB 5749 turbidity / free chlorine
  (:func:`~models.indices.water.quality_codes`);
* ``gas_combustible`` / ``gas_toxic`` — GB/T 50493 first/second alarm at the detector's
  set-points (25/50 %LEL, 100/200 % OEL; :func:`~models.indices.gas_alarm.alarm_level_codes`).

Each sensor has at most one standards rule (by metric), fixed when the tables are built,
so evaluation is a handful of masked numpy operations per wave.

>>> from config.city.registry import Sensor, SensorRegistry
>>> from alerts.config import load_rules
>>> reg = SensorRegistry([Sensor("P1", "water", "pressure", "MPa", 119.3, 26.1, "350102", "c",
...                              0.0, 1.6, "WN-1", 10)])
>>> tab = RuleTables(reg, load_rules())
>>> rank, ok = tab.standards(np.array([0, 0]), np.array([0.12, 0.2]))
>>> rank.tolist(), ok.tolist()
([1, 0], [False, True])
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from alerts.config import AlertRules
from config.city.registry import SensorRegistry
from models.indices.aqi_china import china_aqi_array
from models.indices.gas_alarm import alarm_level_codes
from models.indices.traffic import SPEED_THRESHOLDS, speed_level_codes
from models.indices.water import ABOVE_MAX, BELOW_MIN, OK, pressure_ok, quality_codes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]

#: standards rule codes per sensor (0 = none); index = code
STD_TYPES: tuple[str, ...] = (
    "", "aqi", "congestion", "water_pressure", "water_quality", "gas_combustible", "gas_toxic",
)
AQI, CONGESTION, PRESSURE, QUALITY, GAS_LEL, GAS_TOXIC = 1, 2, 3, 4, 5, 6

#: air metric → HJ 633 hourly key (2026 edition: all six 1-h means)
AIR_KEYS: dict[str, str] = {
    "pm25": "pm25_1h", "pm10": "pm10_1h", "so2": "so2_1h", "no2": "no2_1h", "co": "co_1h",
    "o3": "o3_1h",
}
ROAD_CLASSES: tuple[str, ...] = tuple(SPEED_THRESHOLDS)

#: sudden-drop rules against the sensor's own running baseline (0 = none)
DROP_TYPES: tuple[str, ...] = ("", "pressure_drop", "speed_drop")


class RuleTables:
    """Per-sensor rule parameters as arrays, built once from the registry and the rules."""

    def __init__(self, registry: SensorRegistry, rules: AlertRules) -> None:
        n = len(registry)
        self.rules = rules
        self.n = n
        self.std = np.zeros(n, np.int8)
        self.road_class = np.full(n, -1, np.int8)
        self.alarm1 = np.full(n, np.nan)
        self.alarm2 = np.full(n, np.nan)
        self.quality_key = np.full(n, -1, np.int8)
        q_ind: dict[str, str] = dict(rules.rule("water_quality").params.get("indicators", {}))
        self.quality_keys: tuple[str, ...] = tuple(q_ind.values())
        # air stations: station row → six sensor indices (-1 absent)
        station_of: dict[str, int] = {}
        cols = list(AIR_KEYS)
        matrix: list[list[int]] = []
        self.station = np.full(n, -1, np.int64)
        for i, s in enumerate(registry.sensors):
            m = s.metric
            if s.domain == "air" and m in AIR_KEYS:
                st = station_of.setdefault(s.asset_id, len(station_of))
                if st == len(matrix):
                    matrix.append([-1] * len(cols))
                matrix[st][cols.index(m)] = i
                self.station[i] = st
                self.std[i] = AQI
            elif s.domain == "traffic" and m == "speed":
                rc = str(s.meta.get("road_class", "arterial"))
                self.road_class[i] = ROAD_CLASSES.index(rc) if rc in ROAD_CLASSES else 1
                self.std[i] = CONGESTION
            elif s.domain == "water" and m == "pressure":
                self.std[i] = PRESSURE
            elif s.domain == "water" and m in q_ind:
                self.quality_key[i] = self.quality_keys.index(q_ind[m])
                self.std[i] = QUALITY
            elif s.domain == "hazard" and m in ("lel", "toxic"):
                self.alarm1[i] = float(s.meta.get("alarm1", 25.0 if m == "lel" else 0.0))
                self.alarm2[i] = float(s.meta.get("alarm2", 50.0 if m == "lel" else 0.0))
                self.std[i] = GAS_LEL if m == "lel" else GAS_TOXIC
        self.station_sensors = np.array(matrix, np.int64).reshape(len(matrix), len(cols))
        # the hysteresis slot of an air sensor is its station's first sensor
        self.station_slot = np.where(self.station_sensors >= 0, self.station_sensors,
                                     n).min(axis=1) if len(matrix) else np.zeros(0, np.int64)
        self.aqi_keys = tuple(AIR_KEYS[c] for c in cols)
        self._rank_tables()
        self._drop_tables(registry)

    def _rank_tables(self) -> None:
        r = self.rules
        aqi = r.rule("aqi").params
        self.aqi_edition = str(aqi.get("edition", "2026"))
        self.aqi_raise = int(aqi.get("raise_category", 4))
        self.aqi_clear = int(aqi.get("clear_category", 3))
        self.aqi_rank = np.zeros(7, np.int8)
        for cat, rank in aqi.get("rank_by_category", {}).items():
            self.aqi_rank[int(cat)] = int(rank)
        self.aqi_rank[: self.aqi_raise] = 0
        self.aqi_rank[self.aqi_raise:] = np.maximum(self.aqi_rank[self.aqi_raise:], 1)
        self.aqi_tau_s = float(aqi.get("mean_tau_s", 600.0))
        c = r.rule("congestion").params
        self.cong_raise = int(c.get("raise_level", 5))
        self.cong_clear = int(c.get("clear_level", 3))
        self.cong_rank = int(c.get("rank", 1))
        p = r.rule("water_pressure").params
        self.p_limit = float(p.get("limit_mpa", 0.14))
        self.p_clear = float(p.get("clear_mpa", 0.15))
        self.p_rank, self.p_severe = int(p.get("rank", 1)), float(p.get("severe_mpa", -1.0))
        self.p_severe_rank = int(p.get("severe_rank", self.p_rank))
        q = r.rule("water_quality").params
        self.q_point = str(q.get("point", "tap"))
        self.q_rank = int(q.get("rank", 1))
        lel, tox = r.rule("gas_combustible").params, r.rule("gas_toxic").params
        self.gas_rank = {GAS_LEL: (int(lel.get("rank_first", 1)), int(lel.get("rank_second", 2)),
                                   float(lel.get("clear_ratio", 0.8))),
                         GAS_TOXIC: (int(tox.get("rank_first", 2)), int(tox.get("rank_second", 3)),
                                     float(tox.get("clear_ratio", 0.8)))}

    def _drop_tables(self, registry: SensorRegistry) -> None:
        """Sudden-drop rules (suspected pipe burst, suspected accident): per-sensor parameters."""
        n = self.n
        self.drop = np.zeros(n, np.int8)
        self.drop_ratio = np.full(n, np.nan)
        self.drop_clear = np.full(n, np.nan)
        self.drop_tau_s = np.full(n, np.nan)
        self.drop_min = np.zeros(n, np.int64)
        self.drop_rank = np.zeros(n, np.int8)
        for code, name in enumerate(DROP_TYPES):
            if not code or name not in self.rules.rules:
                continue
            p = self.rules.rule(name).params
            m = np.array([s.domain == p["domain"] and s.metric == p["metric"]
                          for s in registry.sensors], bool).reshape(n)
            self.drop[m] = code
            self.drop_ratio[m] = float(p.get("drop_ratio", 0.3))
            self.drop_clear[m] = float(p.get("clear_ratio", 0.1))
            self.drop_tau_s[m] = float(p.get("tau_s", 1800.0))
            self.drop_min[m] = int(p.get("min_readings", 30))
            self.drop_rank[m] = int(p.get("rank", 1))

    def drops(self, idx: IntArray, values: FloatArray, baseline: FloatArray, count: IntArray
              ) -> tuple[Int8Array, npt.NDArray[np.bool_]]:
        """Breach rank / clear flag of a sudden drop below the sensor's own running baseline.

        A reading below ``(1 − drop_ratio) × baseline`` breaches once the baseline has seen
        ``min_readings`` readings; it is normal again at ``(1 − clear_ratio) × baseline``.
        """
        ready = count >= self.drop_min[idx]
        with np.errstate(invalid="ignore"):
            low = values < (1.0 - self.drop_ratio[idx]) * baseline
            ok = values >= (1.0 - self.drop_clear[idx]) * baseline
        rank = np.where(ready & low, self.drop_rank[idx], 0).astype(np.int8)
        return rank, ok & ready

    # ------------------------------------------------------------------ per-sensor rules
    def standards(self, idx: IntArray, values: FloatArray
                  ) -> tuple[Int8Array, npt.NDArray[np.bool_]]:
        """Breach rank (0 none) and clear flag of non-air rows (AQI is per station, below).

        Rows without a standards rule, or with an invalid value, get rank 0 and
        ``clear_ok`` False (they neither raise nor clear).
        """
        std = self.std[idx]
        rank = np.zeros(idx.size, np.int8)
        ok = np.zeros(idx.size, bool)
        valid = np.isfinite(values)
        sel = np.flatnonzero((std == CONGESTION) & valid)
        if sel.size:
            rc = self.road_class[idx[sel]]
            lev = np.zeros(sel.size, np.int8)
            for c in np.unique(rc).tolist():
                m = rc == c
                lev[m] = speed_level_codes(values[sel[m]], ROAD_CLASSES[c])
            rank[sel] = np.where(lev >= self.cong_raise, self.cong_rank, 0)
            ok[sel] = (lev > 0) & (lev <= self.cong_clear)
        sel = np.flatnonzero((std == PRESSURE) & valid)
        if sel.size:
            v = values[sel]
            low = pressure_ok(v, self.p_limit) == 0
            rank[sel] = np.where(v < self.p_severe, self.p_severe_rank,
                                 np.where(low, self.p_rank, 0))
            ok[sel] = v >= self.p_clear
        sel = np.flatnonzero((std == QUALITY) & valid)
        if sel.size:
            qk = self.quality_key[idx[sel]]
            code = np.zeros(sel.size, np.int8)
            for k in np.unique(qk).tolist():
                m = qk == k
                code[m] = quality_codes(self.quality_keys[k], values[sel[m]], self.q_point)  # type: ignore[arg-type]
            rank[sel] = np.where((code == ABOVE_MAX) | (code == BELOW_MIN), self.q_rank, 0)
            ok[sel] = code == OK
        for gas in (GAS_LEL, GAS_TOXIC):
            sel = np.flatnonzero((std == gas) & valid)
            if sel.size:
                first, second, ratio = self.gas_rank[gas]
                a1, a2 = self.alarm1[idx[sel]], self.alarm2[idx[sel]]
                code = alarm_level_codes(values[sel], a1, a2)  # type: ignore[arg-type]
                rank[sel] = np.where(code == 2, second, np.where(code == 1, first, 0))
                ok[sel] = (code == 0) & (values[sel] < ratio * a1)
        return rank, ok

    def station_aqi(self, stations: IntArray, means: FloatArray) -> tuple[FloatArray, Int8Array]:
        """AQI and HJ 633 category (0 = NA) of ``stations`` from per-sensor running means."""
        cols = self.station_sensors[stations]
        conc = {}
        for j, key in enumerate(self.aqi_keys):
            s = cols[:, j]
            conc[key] = np.where(s >= 0, means[np.maximum(s, 0)], np.nan)
        res = china_aqi_array(conc, "hourly", self.aqi_edition)  # type: ignore[arg-type]
        return res.aqi, res.level

    def aqi_rank_of(self, category: Int8Array) -> tuple[Int8Array, npt.NDArray[np.bool_]]:
        return self.aqi_rank[category], (category > 0) & (category <= self.aqi_clear)
