"""Fire (119), EMS (120) and police (110) stations and their units, for dispatch.

Stations are synthetic (no real POIs ship), placed by urban density and snapped
to the nearest road node so routing starts on the graph. Units carry
capabilities the dispatch domain matches incidents against.

>>> UNIT_CAPABILITIES["hazmat"]
('hazmat', 'gas_detection', 'decontamination')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from config.city.placement import DensityField
from config.city.roads import RoadNetwork

UNIT_KINDS: tuple[str, ...] = (
    "fire_engine",
    "ladder",
    "hazmat",
    "rescue",
    "ambulance",
    "police_car",
)
UNIT_KIND_ZH = {
    "fire_engine": "水罐消防车",
    "ladder": "云梯消防车",
    "hazmat": "危化品处置车",
    "rescue": "抢险救援车",
    "ambulance": "救护车",
    "police_car": "警车",
}
UNIT_CAPABILITIES: dict[str, tuple[str, ...]] = {
    "fire_engine": ("fire_suppression", "water_supply"),
    "ladder": ("fire_suppression", "high_rise_rescue"),
    "hazmat": ("hazmat", "gas_detection", "decontamination"),
    "rescue": ("technical_rescue", "extrication"),
    "ambulance": ("ems_bls",),
    "police_car": ("law_enforcement", "traffic_control", "cordon"),
}
STATION_KINDS = {
    "fire": ("消防站", "fire station"),
    "ems": ("急救站", "EMS station"),
    "police": ("派出所", "police station"),
}


@dataclass(frozen=True, slots=True)
class EmergencyStation:
    station_id: str  # "FS-01" / "EMS-01" / "PS-01"
    kind: str  # fire | ems | police
    name_zh: str
    name_en: str
    lon: float
    lat: float
    district: str
    #: nearest road node (routing origin)
    road_node: int


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str  # "FS-01-E1"
    kind: str
    station_id: str
    capabilities: tuple[str, ...]
    crew: int
    name_zh: str
    #: home station position and its road node (where the unit starts and returns)
    home_lon: float
    home_lat: float
    home_node: int


def build_stations(
    field: DensityField,
    roads: RoadNetwork,
    counts: dict[str, int],
    rng: np.random.Generator,
) -> tuple[tuple[EmergencyStation, ...], tuple[Unit, ...]]:
    """Stations per kind (``counts`` like ``{"fire": 24, "ems": 18, "police": 30}``) and units."""
    prefix = {"fire": "FS", "ems": "EMS", "police": "PS"}
    codes = [x.adcode for x in field.geo.districts]
    zh = [x.name_zh for x in field.geo.districts]
    en = [x.name_en.split()[0] for x in field.geo.districts]
    stations: list[EmergencyStation] = []
    units: list[Unit] = []
    for kind in ("fire", "ems", "police"):
        n = counts.get(kind, 0)
        if n <= 0:
            continue
        lon, lat, d = field.sample(rng, n, "urban")
        nodes = roads.nearest_node(lon, lat)
        for i in range(n):
            sid = f"{prefix[kind]}-{i + 1:02d}"
            kzh, ken = STATION_KINDS[kind]
            stations.append(
                EmergencyStation(
                    sid,
                    kind,
                    f"{zh[d[i]]}{kzh} {i + 1}",
                    f"{en[d[i]]} {ken} {i + 1}",
                    float(lon[i]),
                    float(lat[i]),
                    codes[d[i]],
                    int(nodes[i]),
                )
            )
            fleet: list[tuple[str, str, int]] = []
            if kind == "fire":
                fleet += [("E1", "fire_engine", 6), ("E2", "fire_engine", 6)]
                if i % 3 == 0:
                    fleet.append(("L1", "ladder", 4))
                if i % 5 == 0:
                    fleet.append(("H1", "hazmat", 5))
                if i % 4 == 1:
                    fleet.append(("R1", "rescue", 5))
            elif kind == "ems":
                fleet += [(f"A{k + 1}", "ambulance", 3) for k in range(2 + (i % 2))]
            else:
                fleet += [(f"P{k + 1}", "police_car", 2) for k in range(3)]
            for code, ukind, crew in fleet:
                caps = UNIT_CAPABILITIES[ukind]
                if ukind == "ambulance" and code == "A1":
                    caps = ("ems_bls", "ems_als")
                units.append(
                    Unit(
                        f"{sid}-{code}",
                        ukind,
                        sid,
                        caps,
                        crew,
                        f"{stations[-1].name_zh} {UNIT_KIND_ZH[ukind]} {code}",
                        stations[-1].lon,
                        stations[-1].lat,
                        stations[-1].road_node,
                    )
                )
    return tuple(stations), tuple(units)
