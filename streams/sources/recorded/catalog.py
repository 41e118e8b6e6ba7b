"""Which recorded series exist, and what city metric each one becomes.

Every recorded column is described by a :class:`SeriesSpec`: the physical *group* it
belongs to (a detector station, an air site, a tank or pump, the chemical plant), the
city ``domain``/``metric`` it is replayed as, and the factor converting the recorded
unit to the metric's unit. Specs are static (they do not depend on which copy of the
data is read), so a standalone registry can be built without touching any file.

>>> [s.metric for s in DATASETS["beijing_air"][0].series[:6]]
['pm25', 'pm10', 'so2', 'no2', 'co', 'o3']
>>> DATASETS["beijing_air"][0].series[4].scale  # CO: ug/m3 -> mg/m3
0.001
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.messages import Domain

MPH_TO_KMH = 1.609344
M_HEAD_TO_MPA = 0.00980665  # 1 m of water head = rho*g*h = 9806.65 Pa


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    """One recorded column and the city sensor kind it is replayed as.

    ``key`` is unique within its data set and names the standalone sensor
    (``RP-<DOMAIN>-<key>``); ``group`` is the physical asset the column belongs to, so
    columns of one site land on sensors of one city asset.
    """

    file: str  # logical file (path below the data root, without extension)
    column: str  # recorded column name ("value" for NAB files)
    key: str
    group: str
    domain: Domain
    metric: str
    unit: str
    scale: float = 1.0  # city value = recorded value * scale


@dataclass(frozen=True, slots=True)
class RecordingSpec:
    """Files that share one clock (replayed together, first row at the replay start)."""

    name: str
    reader: str  # "nab" | "beijing" | "batadal" | "tep"
    files: tuple[str, ...]
    period_s: int
    series: tuple[SeriesSpec, ...]
    source: str  # short attribution


def _nab_traffic() -> tuple[RecordingSpec, ...]:
    kinds = {
        "speed": ("speed_kmh", "km/h", MPH_TO_KMH, "SPEED"),
        "occupancy": ("occupancy_pct", "%", 1.0, "OCC"),
        "TravelTime": ("travel_time_s", "s", 1.0, "TT"),
    }
    names = (
        "speed_6005",
        "occupancy_6005",
        "speed_t4013",
        "occupancy_t4013",
        "speed_7578",
        "TravelTime_387",
        "TravelTime_451",
    )
    series = []
    for n in names:
        kind, site = n.split("_")
        metric, unit, scale, tag = kinds[kind]
        group = ("TT" + site) if kind == "TravelTime" else site.upper()
        f = f"nab/data/realTraffic/{n}"
        series.append(
            SeriesSpec(f, "value", f"{group}-{tag}", group, "traffic", metric, unit, scale)
        )
    traffic = RecordingSpec(
        "nab_realtraffic",
        "nab",
        tuple(s.file for s in series),
        300,
        tuple(series),
        "NAB realTraffic (MnDOT detectors, Twin Cities), MIT licence",
    )
    taxi_file = "nab/data/realKnownCause/nyc_taxi"
    taxi = RecordingSpec(
        "nab_nyc_taxi",
        "nab",
        (taxi_file,),
        1800,
        # passengers per 30 min -> per hour (x2): a citywide demand/flow signal
        (
            SeriesSpec(
                taxi_file, "value", "NYCTAXI-FLOW", "NYCTAXI", "traffic", "flow_vph", "veh/h", 2.0
            ),
        ),
        "NAB realKnownCause/nyc_taxi (NYC TLC, aggregated by Numenta), MIT licence",
    )
    return traffic, taxi


BEIJING_SITES = (
    "Aotizhongxin", "Changping", "Dingling", "Dongsi", "Guanyuan", "Gucheng",
    "Huairou", "Nongzhanguan", "Shunyi", "Tiantan", "Wanliu", "Wanshouxigong",
)  # fmt: skip

_AIR = (
    ("PM2.5", "pm25", "ug/m3", 1.0),
    ("PM10", "pm10", "ug/m3", 1.0),
    ("SO2", "so2", "ug/m3", 1.0),
    ("NO2", "no2", "ug/m3", 1.0),
    ("CO", "co", "mg/m3", 0.001),
    ("O3", "o3", "ug/m3", 1.0),
)


def _beijing() -> tuple[RecordingSpec, ...]:
    series = []
    files = []
    for site in BEIJING_SITES:
        f = f"beijing_air/PRSA_Data_{site}_20130301-20170228"
        files.append(f)
        g = site.upper()
        for col, metric, unit, scale in _AIR:
            series.append(
                SeriesSpec(f, col, f"{g}-{metric.upper()}", g, "air", metric, unit, scale)
            )
    return (
        RecordingSpec(
            "beijing_air",
            "beijing",
            tuple(files),
            3600,
            tuple(series),
            "UCI Beijing Multi-Site Air-Quality (Zhang et al. 2017), CC BY 4.0",
        ),
    )


_BATADAL_JUNCTIONS = (
    "J280", "J269", "J300", "J256", "J289", "J415", "J302", "J306", "J307", "J317", "J14", "J422",
)  # fmt: skip


def _batadal() -> tuple[RecordingSpec, ...]:
    f = "batadal/BATADAL_dataset04"
    s: list[SeriesSpec] = []
    for i in range(1, 8):
        s.append(SeriesSpec(f, f"L_T{i}", f"T{i}-LEVEL", f"T{i}", "water", "level_m", "m"))
    for i in range(1, 12):
        g = f"PU{i}"
        s.append(SeriesSpec(f, f"F_{g}", f"{g}-FLOW", g, "water", "flow_lps", "L/s"))
        s.append(SeriesSpec(f, f"S_{g}", f"{g}-STATUS", g, "water", "pump_on", "0/1"))
    s.append(SeriesSpec(f, "F_V2", "V2-FLOW", "V2", "water", "flow_lps", "L/s"))
    s.append(SeriesSpec(f, "S_V2", "V2-STATUS", "V2", "water", "valve_open", "0/1"))
    for j in _BATADAL_JUNCTIONS:
        s.append(
            SeriesSpec(
                f, f"P_{j}", f"{j}-PRESSURE", j, "water", "pressure_mpa", "MPa", M_HEAD_TO_MPA
            )
        )
    return (
        RecordingSpec(
            "batadal",
            "batadal",
            (f,),
            3600,
            tuple(s),
            "BATADAL C-Town SCADA (Taormina et al. 2018), CC BY 4.0",
        ),
    )


# XMEAS(1..41) then XMV(1..11): (metric, unit) per column, from tep_variables.csv
_TEP_KINDS: tuple[tuple[str, str], ...] = (
    ("flow_kscmh", "kscmh"), ("flow_kgh", "kg/h"), ("flow_kgh", "kg/h"),
    ("flow_kscmh", "kscmh"), ("flow_kscmh", "kscmh"), ("flow_kscmh", "kscmh"),
    ("pressure_kpa", "kPa"), ("level_pct", "%"), ("temperature_c", "degC"),
    ("flow_kscmh", "kscmh"), ("temperature_c", "degC"), ("level_pct", "%"),
    ("pressure_kpa", "kPa"), ("flow_m3h", "m3/h"), ("level_pct", "%"),
    ("pressure_kpa", "kPa"), ("flow_m3h", "m3/h"), ("temperature_c", "degC"),
    ("flow_kgh", "kg/h"), ("power_kw", "kW"), ("temperature_c", "degC"),
    ("temperature_c", "degC"),
) + (("composition_molpct", "mol%"),) * 19 + (("valve_pct", "%"),) * 11  # fmt: skip

TEP_COLUMNS = tuple(f"XMEAS({i})" for i in range(1, 42)) + tuple(f"XMV({i})" for i in range(1, 12))
#: normal run followed by fault 6 (A feed loss: reactor pressure climbs to ~3000 kPa)
TEP_FILES = ("tep/d00_te", "tep/d06_te")


def _tep() -> tuple[RecordingSpec, ...]:
    series = []
    for col, (metric, unit) in zip(TEP_COLUMNS, _TEP_KINDS, strict=True):
        name, num = col.rstrip(")").split("(")
        key = f"TEP-{name}{int(num):02d}"  # TEP-XMEAS07, TEP-XMV03
        series.append(SeriesSpec("tep", col, key, "TEP", "hazard", metric, unit))
    return (
        RecordingSpec(
            "tep",
            "tep",
            TEP_FILES,
            180,
            tuple(series),
            "Tennessee Eastman Process, Braatz lab (c) 1998-2002 Univ. of Illinois",
        ),
    )


#: data set name -> recordings (each with its own clock)
DATASETS: dict[str, tuple[RecordingSpec, ...]] = {
    "nab_traffic": _nab_traffic(),
    "beijing_air": _beijing(),
    "batadal": _batadal(),
    "tep": _tep(),
}

#: metrics a registry must offer (in the data set's domain) before a data set can replay
CORE_METRICS: dict[str, tuple[str, ...]] = {
    "nab_traffic": ("speed_kmh", "occupancy_pct"),
    "beijing_air": ("pm25",),
    "batadal": ("level_m", "flow_lps", "pressure_mpa"),
    "tep": ("pressure_kpa", "temperature_c"),
}


def recordings(names: tuple[str, ...] | list[str]) -> tuple[RecordingSpec, ...]:
    """Recording specs of the named data sets, in order; unknown names raise ``ValueError``."""
    out: list[RecordingSpec] = []
    for n in names:
        if n not in DATASETS:
            raise ValueError(f"unknown data set {n!r}; choose from {sorted(DATASETS)}")
        out.extend(DATASETS[n])
    return tuple(out)
