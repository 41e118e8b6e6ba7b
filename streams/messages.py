"""Typed, frozen messages: the contract between the pipeline's stages.

Raw dicts and bytes exist only at the bus edge (``streams/codec.py``); every stage
inside the pipeline passes these objects. Readings travel as *columnar batches*
(one payload, many sensors): per-reading objects do not reach the throughput
targets, so :class:`Reading` is the convenience view of one row.

Time is event time in **epoch milliseconds, UTC** (int64) everywhere.

>>> import numpy as np
>>> b = ReadingBatch.from_rows([("AIR-0001", 35.0, 1_700_000_000_000)])
>>> len(b), b.reading(0).sensor_id
(1, 'AIR-0001')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

#: Bumped whenever a wire format changes incompatibly; decoders reject other versions.
SCHEMA_VERSION = 1

Domain = Literal["traffic", "air", "water", "hazard", "unit"]
DOMAINS: tuple[Domain, ...] = ("traffic", "air", "water", "hazard", "unit")

#: Quality flags carried with each reading (a sensor's own opinion of itself).
QUALITY_GOOD = 0
QUALITY_SUSPECT = 1
QUALITY_BAD = 2

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
QualityArray = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Reading:
    """One measurement of one sensor (a row of a :class:`ReadingBatch`)."""

    sensor_id: str
    value: float
    ts: int
    quality: int = QUALITY_GOOD


@dataclass(frozen=True, slots=True, eq=False)
class ReadingBatch:
    """Columnar batch of readings: ``sensor_ids[i]`` measured ``values[i]`` at ``ts[i]``.

    Domain, metric and unit of each sensor come from the sensor registry (the city
    definition), so they are not repeated per row. Arrays are never mutated after
    construction; stages that need changes build a new batch.
    """

    sensor_ids: tuple[str, ...]
    values: FloatArray
    ts: IntArray
    quality: QualityArray = field(default_factory=lambda: np.zeros(0, np.uint8))

    def __post_init__(self) -> None:
        n = len(self.sensor_ids)
        if len(self.quality) == 0 and n:
            object.__setattr__(self, "quality", np.zeros(n, np.uint8))
        if not (len(self.values) == len(self.ts) == len(self.quality) == n):
            raise ValueError(
                f"ReadingBatch columns differ in length: ids {n}, values {len(self.values)}, "
                f"ts {len(self.ts)}, quality {len(self.quality)}"
            )

    def __len__(self) -> int:
        return len(self.sensor_ids)

    def reading(self, i: int) -> Reading:
        return Reading(
            self.sensor_ids[i], float(self.values[i]), int(self.ts[i]), int(self.quality[i])
        )

    def __iter__(self) -> Iterator[Reading]:
        return (self.reading(i) for i in range(len(self)))

    def take(self, mask_or_index: npt.NDArray[np.bool_] | npt.NDArray[np.int64]) -> ReadingBatch:
        """Rows selected by a boolean mask or an index array, order kept."""
        sel = np.asarray(mask_or_index)
        rows = np.flatnonzero(sel) if sel.dtype == np.bool_ else sel
        ids = self.sensor_ids
        return ReadingBatch(
            tuple(ids[int(i)] for i in rows),
            self.values[rows],
            self.ts[rows],
            self.quality[rows],
        )

    @staticmethod
    def from_rows(rows: Iterable[tuple[str, float, int]] | Iterable[Reading]) -> ReadingBatch:
        ids: list[str] = []
        vals: list[float] = []
        tss: list[int] = []
        qs: list[int] = []
        for r in rows:
            if isinstance(r, Reading):
                ids.append(r.sensor_id)
                vals.append(r.value)
                tss.append(r.ts)
                qs.append(r.quality)
            else:
                ids.append(r[0])
                vals.append(r[1])
                tss.append(r[2])
                qs.append(QUALITY_GOOD)
        return ReadingBatch(
            tuple(ids),
            np.asarray(vals, dtype=np.float64),
            np.asarray(tss, dtype=np.int64),
            np.asarray(qs, dtype=np.uint8),
        )

    @staticmethod
    def concat(batches: Sequence[ReadingBatch]) -> ReadingBatch:
        if not batches:
            return ReadingBatch((), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.uint8))
        ids: list[str] = []
        for b in batches:
            ids.extend(b.sensor_ids)
        return ReadingBatch(
            tuple(ids),
            np.concatenate([b.values for b in batches]),
            np.concatenate([b.ts for b in batches]),
            np.concatenate([b.quality for b in batches]),
        )


@dataclass(frozen=True, slots=True, eq=False)
class ScoreBatch:
    """Engine output for a batch: anomaly score in [0, 1] and a sensor-fault code per row.

    ``fault`` codes are defined by the anomaly engine (0 = no fault).
    """

    sensor_ids: tuple[str, ...]
    ts: IntArray
    score: FloatArray
    fault: npt.NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.sensor_ids)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that failed decoding or validation, with the reason, kept for inspection.

    ``reason`` is one of :data:`DEAD_LETTER_REASONS`; ``detail`` is human-readable;
    ``raw`` is the offending record (bytes for undecodable payloads, else a small repr).
    """

    reason: str
    detail: str
    source_topic: str
    raw: bytes


DEAD_LETTER_REASONS: tuple[str, ...] = (
    "malformed",  # bytes that do not decode, wrong schema version, missing fields
    "wrong_type",  # a field of the wrong type (e.g. a string value)
    "non_finite",  # NaN or +-inf value
    "unknown_sensor",  # sensor id not in the registry
    "out_of_range",  # outside the sensor's physical range
    "future_ts",  # event time too far in the future
)
