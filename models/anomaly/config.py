"""One global configuration for the univariate detector, and the fault-type codes.

Why one frozen object: the detector must run every sensor of the city (and every NAB file) with
the same settings; nothing here is tuned per series. The kernel reads the numbers as one
float64 vector (:meth:`DetectorConfig.as_array`) so kernels stay pure functions over arrays.
The defaults were chosen by ablation on the whole NAB corpus with one threshold per profile
(``bench/nab.py``), never per file.

>>> cfg = DetectorConfig()
>>> cfg.as_array().dtype
dtype('float64')
>>> FAULT_NAMES[FAULT_STUCK]
'stuck'
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

import numpy as np

#: fault-type codes written to ``out_fault`` (int8)
FAULT_NONE = 0
FAULT_DROPOUT = 1
FAULT_STUCK = 2
FAULT_SPIKE = 3
FAULT_NAMES = {
    FAULT_NONE: "none",
    FAULT_DROPOUT: "dropout",
    FAULT_STUCK: "stuck",
    FAULT_SPIKE: "spike",
}


@dataclass(frozen=True)
class DetectorConfig:
    """Settings shared by all sensors (field order is the kernel's parameter vector).

    Attributes
    ----------
    warmup : points per sensor with a neutral (0) score while the models learn.
    n_levels : quantisation levels of the value over its running range (context symbols).
    max_order : longest context of the sequence model, in symbols (orders 0..max_order).
    table_size : hashed count cells per sensor (power of two).
    day_slots : time-of-day slots of the daily context (0 disables it).
    ds_block : points per block of the down-sampled context (0 disables it).
    ds_order : blocks in the down-sampled context.
    use_context, use_daily, use_downsampled, use_deviation : weights of the four raw evidences
        (sequence novelty, time-of-day novelty, down-sampled novelty, sustained deviation);
        0 disables one.
    split_likelihood : 1 gives each evidence its own likelihood (the score is the most
        surprising), 0 runs one likelihood on the max of the evidences.
    short_window : raw scores averaged before the likelihood (HTM uses 10).
    lik_window : memory (points) of the likelihood's exponentially weighted Gaussian.
    lik_min : likelihood updates needed before scoring.
    lik_skip : points before the likelihood starts learning (early novelty is not typical).
    mean_floor, var_floor : floors of the likelihood Gaussian.
    range_break : a value beyond the running [min, max] by this fraction of the range scores 1.
    refractory : points of zero output after an alarm (extra alarms earn nothing).
    alarm_level : output level that starts the refractory period and freezes learning.
    freeze : 1 stops alarmed points from teaching the count tables.
    level_alpha, mad_alpha : EW rates of the one-step level and of its mean absolute residual.
    deviation_scale : z (smoothed value vs slow mean/sd) at which the deviation evidence
        reaches 1 - e^{-1/2}.
    stuck_len : identical consecutive values that make a "stuck" fault.
    spike_z : robust z (against the level) that makes a "spike" fault.
    range_floor : score of a new extreme just past the running range; it rises linearly to 1
        at ``range_break`` (graded scores rank better in a threshold sweep than a flat 1).
    deviation_window : memory (points) of the slow mean/sd of the deviation evidence.
    """

    warmup: int = 150
    n_levels: int = 6
    max_order: int = 3
    table_size: int = 2048
    day_slots: int = 24
    ds_block: int = 8
    ds_order: int = 3
    use_context: float = 1.0
    use_daily: float = 1.0
    use_downsampled: float = 1.0
    use_deviation: float = 0.5
    split_likelihood: int = 0
    short_window: int = 10
    lik_window: int = 200
    lik_min: int = 100
    lik_skip: int = 75
    mean_floor: float = 0.03
    var_floor: float = 3e-4
    range_break: float = 0.02
    refractory: int = 20
    alarm_level: float = 0.53
    freeze: int = 1
    level_alpha: float = 0.3
    mad_alpha: float = 0.02
    deviation_scale: float = 3.0
    stuck_len: int = 30
    spike_z: float = 12.0
    range_floor: float = 0.5
    deviation_window: int = 4000

    def as_array(self) -> np.ndarray:
        """The parameter vector the kernel reads (same order as the fields)."""
        return np.array(astuple(self), dtype=np.float64)
