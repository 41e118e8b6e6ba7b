"""The wall's detail panel: one clicked map object → its sensors' history, forecast, score.

Read on click only (``GET /wall/detail``), never on the push path. Forecast bands come
from ``forecast:<sensor_id>`` JSON documents when the forecasting stage publishes them
(see :func:`dashboard.push.parse_band` for the shapes accepted).

>>> from config.city import load_city
>>> from streams.state.memory import MemoryStateStore
>>> city = load_city(scale=0.05)
>>> idx = DetailIndex(city)
>>> d = idx.detail(MemoryStateStore(clock=lambda: 0), "air", city.air_stations[0].station_id)
>>> d["sensors"][0]["metric"] in {"pm25", "pm10", "so2", "no2", "co", "o3"}
True
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from dashboard.push import parse_band
from streams.state import StateStore

#: sensors shown per object (the most anomalous first beyond this)
MAX_SENSORS = 6
LAYERS = ("cells", "roads", "air", "water", "hazard")


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


class DetailIndex:
    """Which sensors belong to which map object (by asset id, or by grid cell)."""

    def __init__(self, city: Any) -> None:
        self.city = city
        self.by_asset: dict[str, list[int]] = defaultdict(list)
        self.by_cell: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(city.registry.sensors):
            self.by_asset[s.asset_id].append(i)
            if s.cell:
                self.by_cell[s.cell].append(i)
        self.names: dict[str, dict[str, str]] = {}
        for st in city.air_stations:
            self.names[st.station_id] = {"zh-CN": st.name_zh, "en": st.name_en}
        for h in city.hazard_sources:
            self.names[h.source_id] = {"zh-CN": h.name_zh, "en": h.name_en}
        self.districts = {d.adcode: {"zh-CN": d.name_zh, "en": d.name_en}
                          for d in city.districts}

    def sensors_of(self, layer: str, obj_id: str) -> list[int]:
        if layer not in LAYERS:
            raise KeyError(layer)
        return list(self.by_cell.get(obj_id, []) if layer == "cells"
                    else self.by_asset.get(obj_id, []))

    def detail(self, state: StateStore, layer: str, obj_id: str) -> dict[str, Any]:
        """JSON-ready detail of one object; ``KeyError`` for an unknown layer."""
        idx = self.sensors_of(layer, obj_id)
        reg = self.city.registry
        ids = [reg.sensors[i].sensor_id for i in idx]
        latest = state.latest(ids) if ids else {}
        if ids:
            score = np.nan_to_num(latest["score"], nan=0.0)
            order = np.argsort(-score, kind="stable")[:MAX_SENSORS].tolist()
        else:
            order = []
        rows = []
        district = ""
        for k in order:
            s = reg.sensors[idx[k]]
            district = district or s.district
            wts, wv = state.window(s.sensor_id)
            rows.append({
                "id": s.sensor_id, "metric": s.metric, "unit": s.unit,
                "value": _finite(latest["value"][k]), "ts": _finite(latest["ts"][k]),
                "score": _finite(latest["score"][k]), "fault": _finite(latest["fault"][k]),
                "window": {"t": [int(x) for x in wts], "v": [_finite(x) for x in wv]},
                "band": parse_band(state.get_json(f"forecast:{s.sensor_id}")),
            })
        return {"layer": layer, "id": obj_id, "name": self.names.get(obj_id),
                "district": self.districts.get(district), "sensors": rows}
