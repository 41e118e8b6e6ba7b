"""The live engine: every sensor's models for the readings an engine worker owns.

The engine worker (``streams/runtime.py``) hands over validated readings with their
dense registry indices; the engine runs the numba kernels in one call per batch and
returns a :class:`~streams.messages.ScoreBatch`. State lives in the model classes'
contiguous arrays, so a worker only holds the sensors of its partitions in use.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from config.city.registry import SensorRegistry
from models.anomaly.config import DetectorConfig
from models.anomaly.univariate import UnivariateDetector
from streams.messages import ReadingBatch, ScoreBatch


class Engine:
    """Univariate anomaly scores (and sensor-fault codes) for every reading."""

    def __init__(self, registry: SensorRegistry, config: DetectorConfig | None = None) -> None:
        self.registry = registry
        self.detector = UnivariateDetector(len(registry), config)

    def warm(self) -> None:
        """Compile or load the cached kernels before live data arrives."""
        self.detector.warm()

    def process(self, batch: ReadingBatch, idx: npt.NDArray[np.int64]) -> ScoreBatch:
        score, fault = self.detector.score_batch(idx, batch.values, batch.ts)
        return ScoreBatch(batch.sensor_ids, batch.ts, score, fault)
