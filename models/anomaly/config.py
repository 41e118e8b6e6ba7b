"""One global configuration for the univariate detector, and the fault-type codes.

Why one frozen object: the detector must run every sensor of the city (and every NAB file) with
the same settings; nothing here is tuned per series. The kernel reads the numbers as one
float64 vector (:meth:`DetectorConfig.as_array`) so kernels stay pure functions over arrays.

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
FAULT_NAMES = {FAULT_NONE: "none", FAULT_DROPOUT: "dropout", FAULT_STUCK: "stuck", FAULT_SPIKE: "spike"}


@dataclass(frozen=True)
class DetectorConfig:
    """Settings shared by all sensors (order matters: it is the kernel's parameter vector).

    Attributes
    ----------
    warmup : points per sensor before any non-zero score (probation).
    n_levels : quantisation levels of the value (symbols of the context model).
    max_order : longest context (in symbols) of the sequence model.
    table_size : hashed count cells per sensor (power of two).
    smoothing : additive smoothing of the next-symbol probability.
    level_alpha : EW rate of the one-step level used for the forecast surprise.
    mad_alpha : EW rate of the mean absolute residual.
    surprise_scale : z at which the forecast surprise reaches 1 - e^{-1/2}.
    short_window : points averaged before the likelihood (HTM uses 10).
    lik_window : effective memory of the likelihood's Gaussian (points).
    lik_min : points of likelihood statistics needed before scoring.
    mean_floor, var_floor : floors of the likelihood Gaussian.
    range_break : fraction of the running range beyond which a new extreme scores 1.
    refractory : points of zero output after an alarm.
    alarm_level : output level that starts the refractory period and freezes learning.
    stuck_len : identical consecutive values that make a "stuck" fault.
    spike_z : robust z of a lone point that makes a "spike" fault.
    season_ms : length of the seasonal cycle in ms (one week).
    season_slots : slots of the seasonal profile (hour of week).
    season_alpha : EW rate of each seasonal slot.
    season_weight : share of the seasonal profile in the forecast (0 disables it).
    use_surprise, use_context : weights of the two raw evidences (0 disables one).
    two_sided : 1 mirrors unusually low evidence into the likelihood tail as well.
    lik_skip : points before the likelihood statistics start learning.
    freeze : 1 stops alarms from teaching the models.
    day_slots : time-of-day slots of the daily context (0 disables it).
    use_daily : weight of the time-of-day novelty.
    combine : 0 takes the max of the weighted evidences, 1 their weighted mean.
    lik_mode : 0 HTM likelihood of the short mean, 1 the short mean itself.
    ds_block : points per block of the down-sampled context (0 disables it).
    use_downsampled : weight of the down-sampled context novelty.
    ds_order : blocks in the down-sampled context.
    lik_window_slow : memory of a second, slow likelihood Gaussian; the score is the smaller
        of the two (0 disables it).
    context_mode : sequence evidence: 0 surprise 1 - P, 1 novelty 1/(1+count), 2 1 - count/best.
    """

    warmup: int = 150
    n_levels: int = 6
    max_order: int = 3
    table_size: int = 1024
    smoothing: float = 0.1
    level_alpha: float = 0.3
    mad_alpha: float = 0.02
    surprise_scale: float = 4.0
    short_window: int = 10
    lik_window: int = 200
    lik_min: int = 100
    mean_floor: float = 0.03
    var_floor: float = 3e-4
    range_break: float = 0.02
    refractory: int = 20
    alarm_level: float = 0.53
    stuck_len: int = 30
    spike_z: float = 12.0
    season_ms: int = 7 * 24 * 3600 * 1000
    season_slots: int = 168
    season_alpha: float = 0.2
    season_weight: float = 0.0
    use_surprise: float = 0.0
    use_context: float = 1.0
    two_sided: float = 0.0
    lik_skip: int = 75
    freeze: float = 1.0
    context_mode: int = 1
    day_slots: int = 24
    use_daily: float = 1.0
    combine: int = 0
    lik_mode: int = 0
    ds_block: int = 8
    use_downsampled: float = 1.0
    ds_order: int = 3
    lik_window_slow: int = 0

    def as_array(self) -> np.ndarray:
        """The parameter vector the kernel reads (same order as the fields)."""
        return np.array(astuple(self), dtype=np.float64)
