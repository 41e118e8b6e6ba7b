"""What the demo city contains: counts per domain, sampling periods and densities.

One frozen :class:`CitySpec` drives the generator; ``scale`` multiplies the
sensor-bearing counts so ``scale=1`` gives about 5 000 sensors and ``scale=20``
about 100 000. Emergency stations do not scale (they are dispatch resources,
not sensors).

>>> s = CitySpec().scaled(0.05)
>>> s.air_stations, s.target_sensors
(3, 250)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

#: adcodes of the five central districts (鼓楼 台江 仓山 马尾 晋安) plus 长乐.
CORE_DISTRICTS: tuple[str, ...] = ("350102", "350103", "350104", "350105", "350111", "350112")
#: old-city core (鼓楼 台江 仓山), where density peaks.
OLD_CITY: tuple[str, ...] = ("350102", "350103", "350104")


@dataclass(frozen=True, slots=True)
class CitySpec:
    """Counts, periods and densities of the generated city.

    Sensor periods (seconds) are chosen for a lively demo, not from a standard:
    national air stations publish hourly, here they emit one-minute averages;
    water SCADA pressure/flow every 10 s; hazard-source safety monitoring every 5 s;
    traffic detectors aggregate 30 s.
    """

    #: total sensors wanted; traffic detectors take what the other domains leave.
    target_sensors: int = 5000
    air_stations: int = 40
    water_zones: int = 10
    water_nodes: int = 200
    #: share of water nodes that also carry turbidity and free-chlorine analysers
    water_quality_share: float = 1.0 / 3.0
    water_tanks: int = 16
    hazard_sources: int = 50
    #: upper bounds; build_stations sites by coverage (config/city/emergency.py)
    fire_stations: int = 90
    ems_stations: int = 60
    police_stations: int = 90
    road_nodes: int = 1400
    #: H3 resolution of the grid-management layer in CORE_DISTRICTS and elsewhere
    grid_res_core: int = 8
    grid_res_outer: int = 6
    period_traffic_s: int = 30
    period_air_s: int = 60
    period_water_fast_s: int = 10
    period_water_quality_s: int = 60
    period_tank_s: int = 30
    period_hazard_s: int = 5

    def scaled(self, scale: float) -> CitySpec:
        """Counts multiplied by ``scale`` (with floors that keep every domain present).

        Road nodes grow as ``scale**0.75`` so the graph stays road-like while still
        offering more directed segments than traffic detectors.
        """
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        return dataclasses.replace(
            self,
            target_sensors=max(60, round(self.target_sensors * scale)),
            air_stations=max(3, round(self.air_stations * scale)),
            water_zones=max(2, round(self.water_zones * scale)),
            water_nodes=max(12, round(self.water_nodes * scale)),
            water_tanks=max(2, round(self.water_tanks * scale)),
            hazard_sources=max(4, round(self.hazard_sources * scale)),
            road_nodes=max(150, round(self.road_nodes * scale**0.75)),
        )
