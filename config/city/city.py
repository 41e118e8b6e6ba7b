"""The demo city, built from a :class:`CitySpec` and a seed: ``load_city()``.

Everything is deterministic for ``(name, scale, seed, road_network)`` and the
result is cached per process (the object is frozen, so sharing is safe). About
0.5 s at scale 1 (≈ 5 000 sensors) and a few seconds at scale 20 (≈ 100 000).

Synthetic by design: districts, land and sea are real (DataV GeoAtlas); roads,
stations, sensors, the water network and hazard sources are generated inside
them and say so (``roads.synthetic``, names "合成… / Synthetic …").

>>> city = load_city(scale=0.05, seed=7)
>>> len(city.registry) > 200, city.roads.is_strongly_connected()
(True, True)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from config.city import layers
from config.city.air import AirStation, air_sensors, build_air_stations
from config.city.emergency import EmergencyStation, Unit, build_stations
from config.city.geo import District, Geo, load_geo
from config.city.grid import Grid
from config.city.hazard import HazardSource, build_hazard_sources, hazard_sensors
from config.city.placement import DensityField
from config.city.registry import Sensor, SensorRegistry
from config.city.road_files import load_road_file
from config.city.road_synth import synthesize_roads
from config.city.roads import RoadNetwork
from config.city.spec import CORE_DISTRICTS, CitySpec
from config.city.traffic import TrafficDetector, build_detectors, traffic_sensors
from config.city.water import WaterNetwork, build_water, water_sensors
from config.settings import REPO_ROOT, Settings

DEFAULT_SEED = Settings().seed
CITIES = ("fuzhou",)

# independent random streams per domain, so changing one count never moves another
_STREAM = {"roads": 1, "air": 2, "water": 3, "hazard": 4, "stations": 5, "traffic": 6}


@dataclass(frozen=True, eq=False)
class City:
    """Everything the engine, the wall map and dispatch read about the city."""

    name: str
    seed: int
    scale: float
    spec: CitySpec
    geo: Geo
    grid: Grid
    roads: RoadNetwork
    detectors: tuple[TrafficDetector, ...]
    air_stations: tuple[AirStation, ...]
    water: WaterNetwork
    hazard_sources: tuple[HazardSource, ...]
    stations: tuple[EmergencyStation, ...]
    units: tuple[Unit, ...]
    registry: SensorRegistry

    @property
    def districts(self) -> tuple[District, ...]:
        return self.geo.districts

    def district(self, adcode: str) -> District:
        return self.geo.by_adcode(adcode)

    def hazard_source(self, source_id: str) -> HazardSource:
        for s in self.hazard_sources:
            if s.source_id == source_id:
                return s
        raise KeyError(source_id)

    def sensors_of_asset(self, asset_id: str) -> list[Sensor]:
        return [s for s in self.registry.sensors if s.asset_id == asset_id]

    # plain-data map layers (see config/city/layers.py)
    def district_outlines(self) -> list[dict[str, Any]]:
        return layers.district_outlines(self)

    def cell_polygons(self) -> list[dict[str, Any]]:
        return layers.cell_polygons(self)

    def road_paths(self) -> list[dict[str, Any]]:
        return layers.road_paths(self)

    def points(self, kind: str) -> list[dict[str, Any]]:
        return layers.points(self, kind)

    def to_geojson(self, layer: str) -> dict[str, Any]:
        return layers.to_geojson(self, layer)


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAM[stream]])


def _build(
    name: str, scale: float, seed: int, road_network: str, base: CitySpec | None = None
) -> City:
    if name not in CITIES:
        raise ValueError(f"unknown city {name!r}; available: {', '.join(CITIES)}")
    spec = (base or CitySpec()).scaled(scale)
    geo = load_geo()
    field = DensityField.build(geo)
    grid = Grid.build(geo, spec.grid_res_core, spec.grid_res_outer, CORE_DISTRICTS)

    if road_network:
        path = Path(road_network)
        roads = load_road_file(path if path.is_absolute() else REPO_ROOT / path)
    else:
        roads = synthesize_roads(field, spec.road_nodes, seed)

    air = build_air_stations(field, spec.air_stations, _rng(seed, "air"))
    water = build_water(
        field,
        spec.water_zones,
        spec.water_nodes,
        spec.water_tanks,
        spec.water_quality_share,
        _rng(seed, "water"),
    )
    hazard = build_hazard_sources(field, spec.hazard_sources, _rng(seed, "hazard"))
    stations, units = build_stations(
        field,
        roads,
        {"fire": spec.fire_stations, "ems": spec.ems_stations, "police": spec.police_stations},
        _rng(seed, "stations"),
    )
    cell_for = grid.cell_for
    others = (
        air_sensors(air, spec.period_air_s, cell_for)
        + water_sensors(
            water,
            spec.period_water_fast_s,
            spec.period_water_quality_s,
            spec.period_tank_s,
            cell_for,
        )
        + hazard_sensors(hazard, spec.period_hazard_s, cell_for)
    )
    n_det = max(4, math.ceil((spec.target_sensors - len(others)) / 3))
    detectors = build_detectors(geo, roads, n_det, _rng(seed, "traffic"))
    sensors = traffic_sensors(detectors, roads, spec.period_traffic_s, cell_for) + others
    grid = grid.with_extra((s.cell, s.district) for s in sensors)
    return City(
        name=name,
        seed=seed,
        scale=scale,
        spec=spec,
        geo=geo,
        grid=grid,
        roads=roads,
        detectors=detectors,
        air_stations=air,
        water=water,
        hazard_sources=hazard,
        stations=stations,
        units=units,
        registry=SensorRegistry(sensors),
    )


@functools.lru_cache(maxsize=8)
def load_city(
    name: str = "fuzhou",
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    road_network: str = "",
    spec: CitySpec | None = None,
) -> City:
    """The city for ``(name, scale, seed, road_network, spec)``; built once per process.

    ``road_network`` is an optional path (absolute or relative to the repository)
    to a GeoJSON or GraphML road file that replaces the synthetic graph. ``spec``
    overrides the default counts/periods (:class:`CitySpec`, before scaling).
    """
    return _build(name, float(scale), int(seed), road_network, spec)


def load_city_from_settings(settings: Settings) -> City:
    """Convenience for ``run.py``: ``load_city`` with the settings' city/scale/seed/roads."""
    return load_city(settings.city, settings.scale, settings.seed, settings.road_network)
