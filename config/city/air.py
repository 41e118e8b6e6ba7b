"""Air-quality monitoring stations (空气质量监测站) and their six pollutant sensors.

Each station measures PM2.5, PM10, SO₂, NO₂, CO and O₃ (HJ 633 pollutants);
every pollutant is one sensor ``AIR-0007-pm25``. Physical ranges are analyser
ranges, wide enough for the worst recorded Chinese episodes (IAQI 500 tops are
PM2.5 500, PM10 600, SO₂ 2620, NO₂ 3840 (1 h), CO 150 mg/m³ (1 h), O₃ 1200).

>>> [p.metric for p in POLLUTANTS][:2]
['pm25', 'pm10']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from config.city.placement import DensityField
from config.city.registry import Sensor


@dataclass(frozen=True, slots=True)
class Pollutant:
    metric: str
    name: str
    unit: str
    lo: float
    hi: float


POLLUTANTS: tuple[Pollutant, ...] = (
    Pollutant("pm25", "PM2.5", "ug/m3", 0.0, 1000.0),
    Pollutant("pm10", "PM10", "ug/m3", 0.0, 2000.0),
    Pollutant("so2", "SO2", "ug/m3", 0.0, 3000.0),
    Pollutant("no2", "NO2", "ug/m3", 0.0, 4000.0),
    Pollutant("co", "CO", "mg/m3", 0.0, 150.0),
    Pollutant("o3", "O3", "ug/m3", 0.0, 1500.0),
)


@dataclass(frozen=True, slots=True)
class AirStation:
    station_id: str  # "AQS-0007"
    name_zh: str
    name_en: str
    lon: float
    lat: float
    district: str


def build_air_stations(
    field: DensityField, n: int, rng: np.random.Generator
) -> tuple[AirStation, ...]:
    """``n`` stations by urban density (stations follow population)."""
    lon, lat, d = field.sample(rng, n, "urban")
    codes = [x.adcode for x in field.geo.districts]
    zh = [x.name_zh for x in field.geo.districts]
    en = [x.name_en.split()[0] for x in field.geo.districts]
    return tuple(
        AirStation(
            f"AQS-{i + 1:04d}",
            f"{zh[d[i]]}空气监测站 {i + 1}",
            f"{en[d[i]]} air station {i + 1}",
            float(lon[i]),
            float(lat[i]),
            codes[d[i]],
        )
        for i in range(n)
    )


def air_sensors(
    stations: tuple[AirStation, ...], period_s: int, cell_for: Callable[[float, float, str], str]
) -> list[Sensor]:
    out = []
    for st in stations:
        cell = cell_for(st.lon, st.lat, st.district)
        num = st.station_id.split("-")[1]
        for p in POLLUTANTS:
            out.append(
                Sensor(
                    f"AIR-{num}-{p.metric}",
                    "air",
                    p.metric,
                    p.unit,
                    st.lon,
                    st.lat,
                    st.district,
                    cell,
                    p.lo,
                    p.hi,
                    st.station_id,
                    period_s,
                    {"station": st.station_id, "pollutant": p.name},
                )
            )
    return out
