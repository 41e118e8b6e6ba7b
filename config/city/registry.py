"""Sensor registry: every sensor of the city with a dense index and its physical range.

The registry is the bridge between string ids on the wire and the dense integer
indices the numba engine works with. It is immutable once built; the city builder
(``config/city/``) creates it from config with a seed.

>>> reg = SensorRegistry([
...     Sensor("AIR-0001", "air", "pm25", "ug/m3", 119.3, 26.08, "350102", "", 0.0, 1000.0,
...            "AQS-01", 3600),
... ])
>>> reg.indices(["AIR-0001", "nope"]).tolist()
[0, -1]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.messages import DOMAINS, Domain


@dataclass(frozen=True, slots=True)
class Sensor:
    """One physical (or replayed) sensor.

    ``lo``/``hi`` bound the physically possible values (readings outside go to the
    dead-letter topic); ``asset_id`` names what it measures (road segment, air
    station, water node/tank, hazard source); ``period_s`` is its nominal sampling
    period.
    """

    sensor_id: str
    domain: Domain
    metric: str
    unit: str
    lon: float
    lat: float
    district: str  # adcode, e.g. "350102"
    cell: str  # H3 cell id of the grid-management layer ("" if outside the grid)
    lo: float
    hi: float
    asset_id: str
    period_s: int
    meta: Mapping[str, Any] = field(default_factory=dict)


def partition_key(s: Sensor) -> str:
    """The key that places a sensor on a partition of its domain's topic.

    Sensors that one rule or model reads together share a key, so that with several engine
    workers they land in the same worker: the six pollutants of an air station (station AQI,
    particulate build-up), the sensors of a hazard source and of a water supply zone (the
    per-asset multivariate detectors). Traffic detectors and any sensor without a group are
    keyed by their own id. Each sensor still maps to exactly one partition, so its readings stay
    in order and its state in one worker.

    >>> partition_key(Sensor("W1", "water", "pressure", "MPa", 0, 0, "", "", 0, 2, "WN-1", 10,
    ...                      {"zone": "WZ-01"}))
    'zone:WZ-01'
    >>> partition_key(Sensor("V1", "traffic", "speed", "km/h", 0, 0, "", "", 0, 200, "SEG-1", 30))
    'V1'
    """
    if s.domain == "water":
        zone = (s.meta or {}).get("zone")
        if isinstance(zone, str) and zone:
            return f"zone:{zone}"
    if s.domain in ("air", "hazard", "water") and s.asset_id:
        return f"asset:{s.asset_id}"
    return s.sensor_id


class SensorRegistry:
    """Immutable list of sensors with O(1) id → dense index lookup and columnar arrays."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.sensors: tuple[Sensor, ...] = tuple(sensors)
        self._index: dict[str, int] = {}
        for i, s in enumerate(self.sensors):
            if s.sensor_id in self._index:
                raise ValueError(f"duplicate sensor id {s.sensor_id!r}")
            if not s.lo < s.hi:
                raise ValueError(f"sensor {s.sensor_id!r}: physical range lo < hi required")
            self._index[s.sensor_id] = i
        n = len(self.sensors)
        self.lo: npt.NDArray[np.float64] = np.array([s.lo for s in self.sensors], np.float64)
        self.hi: npt.NDArray[np.float64] = np.array([s.hi for s in self.sensors], np.float64)
        self.period_s: npt.NDArray[np.int64] = np.array(
            [s.period_s for s in self.sensors], np.int64
        )
        self.domain_code: npt.NDArray[np.int8] = np.array(
            [DOMAINS.index(s.domain) for s in self.sensors], np.int8
        ).reshape(n)
        self.ids: tuple[str, ...] = tuple(s.sensor_id for s in self.sensors)

    def __len__(self) -> int:
        return len(self.sensors)

    def __contains__(self, sensor_id: object) -> bool:
        return sensor_id in self._index

    def get(self, sensor_id: str) -> Sensor | None:
        i = self._index.get(sensor_id)
        return None if i is None else self.sensors[i]

    def index_of(self, sensor_id: str) -> int:
        """Dense index, or -1 for an unknown id."""
        return self._index.get(sensor_id, -1)

    def indices(self, sensor_ids: Sequence[str]) -> npt.NDArray[np.int64]:
        """Dense indices for many ids at once (-1 where unknown)."""
        get = self._index.get
        return np.fromiter((get(s, -1) for s in sensor_ids), np.int64, len(sensor_ids))

    def of_domain(self, domain: Domain) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.domain_code == DOMAINS.index(domain)).astype(np.int64)

    def domain_of(self, index: int) -> Domain:
        return DOMAINS[int(self.domain_code[index])]
