"""Hazardous-chemical sources (危险化学品重大危险源): plants, gas stations, tank farms.

Each source stores chemicals with quantities, so the GB 18218—2018 grade can be
computed: ``S = Σ qᵢ/Qᵢ`` (major hazard if ≥ 1) and ``R = α · Σ βᵢ qᵢ/Qᵢ``
(一级 ≥ 100, 二级 50–100, 三级 10–50, 四级 < 10), α from the people within
500 m. Tanks report level (%), temperature (°C) and pressure (MPa gauge);
combustible-gas detectors report %LEL (alarms 25 / 50 %LEL, GB/T 50493—2019)
and toxic-gas detectors ppm (alarms 100 % / 200 % OEL).

OEL figures are approximate ppm conversions of GBZ 2.1 mg/m³ limits at 25 °C
(**[U]**: confirm before relying on them).

>>> grade_of(r_value(2.0, [(CHEMICALS["cl2"], 100.0)]))  # 2 · 4 · 100/5 = 160
1
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from config.city.placement import DensityField
from config.city.registry import Sensor
from config.city.spec import OLD_CITY


@dataclass(frozen=True, slots=True)
class Chemical:
    key: str
    name_zh: str
    name_en: str
    cas: str
    #: GB 18218 critical quantity Q (t)
    q_crit_t: float
    #: GB 18218 correction factor β
    beta: float
    flammable: bool
    #: occupational exposure limit (ppm) for toxic gases, 0 if not a toxic-gas hazard
    oel_ppm: float
    #: stored under pressure (liquefied gas) → tank pressure ~0.3–1.2 MPa
    pressurised: bool


CHEMICALS: dict[str, Chemical] = {
    c.key: c
    for c in (
        Chemical("nh3", "液氨", "Ammonia", "7664-41-7", 10, 2, True, 25.0, True),
        Chemical("cl2", "氯", "Chlorine", "7782-50-5", 5, 4, False, 0.5, True),
        Chemical("h2s", "硫化氢", "Hydrogen sulfide", "7783-06-4", 5, 5, True, 7.0, True),
        Chemical("so2", "二氧化硫", "Sulfur dioxide", "7446-09-5", 20, 2, False, 2.0, True),
        Chemical("hcl", "氯化氢(无水)", "Hydrogen chloride", "7647-01-0", 20, 3, False, 5.0, True),
        Chemical("eo", "环氧乙烷", "Ethylene oxide", "75-21-8", 10, 2, True, 1.0, True),
        Chemical("h2", "氢", "Hydrogen", "1333-74-0", 5, 1.5, True, 0.0, True),
        Chemical("ch4", "天然气", "Natural gas (methane)", "74-82-8", 50, 1.5, True, 0.0, True),
        Chemical("lpg", "液化石油气", "LPG", "68476-85-7", 50, 1.5, True, 0.0, True),
        Chemical("benzene", "苯", "Benzene", "71-43-2", 50, 1, True, 0.0, False),
        Chemical("gasoline", "汽油", "Gasoline", "86290-81-5", 200, 1, True, 0.0, False),
        Chemical("methanol", "甲醇", "Methanol", "67-56-1", 500, 1, True, 0.0, False),
        Chemical("toluene", "甲苯", "Toluene", "108-88-3", 500, 1, True, 0.0, False),
    )
}

KINDS: tuple[str, ...] = ("chemical_plant", "gas_station", "tank_farm")
KIND_ZH = {"chemical_plant": "化工厂", "gas_station": "加油加气站", "tank_farm": "油气库"}
KIND_EN = {
    "chemical_plant": "chemical plant",
    "gas_station": "gas station",
    "tank_farm": "tank farm",
}


def alpha_of(people_500m: int) -> float:
    """GB 18218 α from the number of people within 500 m outside the fence."""
    if people_500m >= 100:
        return 2.0
    if people_500m >= 50:
        return 1.5
    if people_500m >= 30:
        return 1.2
    if people_500m >= 1:
        return 1.0
    return 0.5


def r_value(alpha: float, stock: Sequence[tuple[Chemical, float]]) -> float:
    return float(alpha * sum(c.beta * q / c.q_crit_t for c, q in stock))


def grade_of(r: float) -> int:
    """1–4 for 一级…四级."""
    return 1 if r >= 100 else 2 if r >= 50 else 3 if r >= 10 else 4


@dataclass(frozen=True, slots=True)
class HazardTank:
    tank_id: str  # "T1"
    chemical: str  # key into CHEMICALS
    capacity_t: float
    pressurised: bool


@dataclass(frozen=True, slots=True)
class GasDetector:
    detector_id: str  # "G1" combustible, "X1" toxic
    kind: str  # "lel" | "toxic"
    chemical: str
    alarm1: float
    alarm2: float


@dataclass(frozen=True, slots=True)
class HazardSource:
    source_id: str  # "HZ-0007"
    name_zh: str
    name_en: str
    kind: str
    lon: float
    lat: float
    district: str
    #: (chemical key, design maximum quantity in t)
    stock: tuple[tuple[str, float], ...]
    people_500m: int
    tanks: tuple[HazardTank, ...]
    detectors: tuple[GasDetector, ...]

    @property
    def s_value(self) -> float:
        """GB 18218 S = Σ q/Q; a major hazard source if ≥ 1."""
        return float(sum(q / CHEMICALS[k].q_crit_t for k, q in self.stock))

    @property
    def is_major(self) -> bool:
        return self.s_value >= 1.0

    @property
    def alpha(self) -> float:
        return alpha_of(self.people_500m)

    @property
    def r(self) -> float:
        return r_value(self.alpha, [(CHEMICALS[k], q) for k, q in self.stock])

    @property
    def grade(self) -> int:
        """1–4 (一级…四级) for major hazard sources, 0 when not major (S < 1)."""
        return grade_of(self.r) if self.is_major else 0


_TOXIC = ("nh3", "cl2", "h2s", "so2", "hcl", "eo")
_FLAMMABLE_PLANT = ("benzene", "methanol", "toluene", "h2", "lpg")


def _stock_for(kind: str, rng: np.random.Generator) -> list[tuple[str, float]]:
    if kind == "gas_station":
        st = [("gasoline", float(rng.uniform(30, 90)))]
        if rng.random() < 0.3:
            st.append(("lpg", float(rng.uniform(5, 30))))
        return st
    if kind == "tank_farm":
        main = str(rng.choice(["gasoline", "lpg", "ch4"]))
        q = {"gasoline": 200, "lpg": 50, "ch4": 50}[main] * float(rng.uniform(2, 40))
        st = [(main, q)]
        if rng.random() < 0.4:
            st.append(("methanol", float(rng.uniform(200, 3000))))
        return st
    keys = list(rng.choice(_TOXIC, size=int(rng.integers(1, 3)), replace=False))
    keys += list(rng.choice(_FLAMMABLE_PLANT, size=int(rng.integers(1, 3)), replace=False))
    return [(str(k), CHEMICALS[str(k)].q_crit_t * float(rng.uniform(0.3, 4.0))) for k in keys]


def build_hazard_sources(
    field: DensityField, n: int, rng: np.random.Generator
) -> tuple[HazardSource, ...]:
    """``n`` sources: 40 % gas stations (urban), 40 % chemical plants, 20 % tank farms."""
    kinds = (["gas_station"] * (2 * n // 5)) + (["tank_farm"] * max(1, n // 5))
    kinds += ["chemical_plant"] * (n - len(kinds))
    kinds = kinds[:n]
    codes = [x.adcode for x in field.geo.districts]
    en = [x.name_en.split()[0] for x in field.geo.districts]
    zh = [x.name_zh for x in field.geo.districts]
    n_gas = kinds.count("gas_station")
    glon, glat, gd = field.sample(rng, n_gas, "urban")
    ilon, ilat, idist = field.sample(rng, n - n_gas, "industrial")
    lon = np.concatenate([glon, ilon])
    lat = np.concatenate([glat, ilat])
    dist = np.concatenate([gd, idist])
    out = []
    for i, kind in enumerate(kinds):
        stock = _stock_for(kind, rng)
        dcode = codes[dist[i]]
        people = int(rng.integers(200, 6000) if dcode in OLD_CITY else rng.integers(0, 1500))
        if rng.random() < 0.1:
            people = int(rng.integers(0, 40))
        tanks: list[HazardTank] = []
        for k, (chem, q) in enumerate(stock):
            n_t = int(rng.integers(1, 3)) if kind != "tank_farm" else int(rng.integers(2, 5))
            for _ in range(n_t):
                tanks.append(
                    HazardTank(
                        f"T{len(tanks) + 1}", chem, round(q / n_t, 1), CHEMICALS[chem].pressurised
                    )
                )
            del k
        dets = []
        n_lel = {"gas_station": 2, "tank_farm": 4, "chemical_plant": 3}[kind]
        flam = [c for c, _ in stock if CHEMICALS[c].flammable] or [stock[0][0]]
        for j in range(n_lel):
            dets.append(GasDetector(f"G{j + 1}", "lel", flam[j % len(flam)], 25.0, 50.0))
        for j, c in enumerate(c for c, _ in stock if CHEMICALS[c].oel_ppm > 0):
            oel = CHEMICALS[c].oel_ppm
            for r in range(2):
                dets.append(GasDetector(f"X{2 * j + r + 1}", "toxic", c, oel, 2.0 * oel))
        out.append(
            HazardSource(
                f"HZ-{i + 1:04d}",
                f"{zh[dist[i]]}{KIND_ZH[kind]} {i + 1}",
                f"{en[dist[i]]} {KIND_EN[kind]} {i + 1}",
                kind,
                float(lon[i]),
                float(lat[i]),
                dcode,
                tuple((c, round(q, 1)) for c, q in stock),
                people,
                tuple(tanks),
                tuple(dets),
            )
        )
    return tuple(out)


def hazard_sensors(
    sources: tuple[HazardSource, ...], period_s: int, cell_for: Callable[[float, float, str], str]
) -> list[Sensor]:
    out = []
    for s in sources:
        cell = cell_for(s.lon, s.lat, s.district)
        num = s.source_id.split("-")[1]
        for t in s.tanks:
            base = {"source": s.source_id, "tank": t.tank_id, "chemical": t.chemical}
            p_hi = 4.0 if t.pressurised else 1.0
            for metric, unit, lo, hi in (
                ("level", "%", 0.0, 100.0),
                ("temperature", "degC", -50.0, 150.0),
                ("pressure", "MPa", -0.1, p_hi),
            ):
                out.append(
                    Sensor(
                        f"HAZ-{num}-{t.tank_id}-{metric}",
                        "hazard",
                        metric,
                        unit,
                        s.lon,
                        s.lat,
                        s.district,
                        cell,
                        lo,
                        hi,
                        s.source_id,
                        period_s,
                        {**base, "pressurised": t.pressurised},
                    )
                )
        for d in s.detectors:
            hi = 100.0 if d.kind == "lel" else max(10.0, 20.0 * CHEMICALS[d.chemical].oel_ppm)
            unit = "%LEL" if d.kind == "lel" else "ppm"
            out.append(
                Sensor(
                    f"HAZ-{num}-{d.detector_id}-{d.kind}",
                    "hazard",
                    d.kind,
                    unit,
                    s.lon,
                    s.lat,
                    s.district,
                    cell,
                    0.0,
                    hi,
                    s.source_id,
                    period_s,
                    {
                        "source": s.source_id,
                        "detector": d.detector_id,
                        "chemical": d.chemical,
                        "alarm1": d.alarm1,
                        "alarm2": d.alarm2,
                        "oel_ppm": CHEMICALS[d.chemical].oel_ppm,
                    },
                )
            )
    return out
