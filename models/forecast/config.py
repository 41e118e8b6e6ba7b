"""Forecast settings: per-domain horizons and the candidate bank.

Why a module of its own: the horizons are part of the product contract (the wall shows traffic
15/30/60 min ahead, hourly AQI and water 24 h ahead), and the bank's fixed smoothing constants are
the only "model selection" knobs; both belong in one frozen, reviewable place.

>>> DOMAIN_HORIZONS["traffic"].steps()
(3, 6, 12)
>>> horizon_grid(12)
(1, 2, 3, 6, 9, 12)
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Candidate model codes (integer mode codes, statsforecast-v1 style; the kernels switch on them).
NAIVE = 0  #: last observed value
HOLT = 1  #: ETS(A,Ad,N); beta = 0 gives simple exponential smoothing
SNAIVE_DAY = 2  #: value at the same slot one day earlier
SNAIVE_WEEK = 3  #: value at the same slot one week earlier
HW_ADD = 4  #: ETS(A,Ad,A) with a daily season plus Taylor's AR(1) error correction
DSHW = 5  #: double-seasonal (day + week) additive Holt-Winters plus AR(1) correction
HW_MUL = 6  #: damped trend, multiplicative daily season (positive series only) plus AR(1)

COMBINE_INVERSE = 0  #: weights proportional to loss ** -power
COMBINE_ARGMIN = 1  #: best candidate per horizon


@dataclass(frozen=True)
class Candidate:
    """One member of the bank: model code and fixed smoothing constants.

    ``alpha``/``beta``/``phi`` drive level and damped trend (error-correction form, so
    ``beta`` is the trend gain per unit error); ``gamma`` the daily season, ``gamma_w`` the
    weekly season; ``ar`` the AR(1) coefficient of the one-step error carried forward.
    """

    code: int
    alpha: float = 0.0
    beta: float = 0.0
    phi: float = 1.0
    gamma: float = 0.0
    gamma_w: float = 0.0
    ar: float = 0.0


def default_bank() -> tuple[Candidate, ...]:
    """The default bank: cheap level trackers for short horizons, seasonal models for long ones."""
    return (
        Candidate(NAIVE),
        Candidate(HOLT, alpha=0.15),
        Candidate(HOLT, alpha=0.02),
        Candidate(HOLT, alpha=0.5, beta=0.02, phi=0.9),
        Candidate(HOLT, alpha=0.7, beta=0.2, phi=0.95),
        Candidate(SNAIVE_DAY),
        Candidate(SNAIVE_WEEK),
        Candidate(HW_ADD, alpha=0.3, beta=0.005, phi=0.9, gamma=0.1, ar=0.9),
        Candidate(DSHW, alpha=0.1, beta=0.0, phi=0.9, gamma=0.08, gamma_w=0.05, ar=0.9),
        Candidate(HW_MUL, alpha=0.3, beta=0.005, phi=0.9, gamma=0.1, ar=0.9),
    )


@dataclass(frozen=True)
class ForecastConfig:
    """Settings of :class:`~models.forecast.streaming.StreamingForecaster`.

    Parameters
    ----------
    bank
        Candidate models; at most one of each seasonal code (HW_ADD, DSHW, HW_MUL).
    grid
        Horizons (steps) at which online losses and interval quantiles are tracked; other
        horizons interpolate. ``None`` picks :func:`horizon_grid`.
    loss_discount
        Discount of the per-horizon absolute-error loss (0.99 = memory of ~100 errors).
    combine, power
        Inverse-loss weighting ``w ~ loss**-power`` or argmin.
    min_weight
        Effective number of scored forecasts before a candidate takes part in the combination;
        before any does, the fallback blend (first SES and daily seasonal naive) is used.
    recent_k
        A member whose recent (EW 0.7) one-step |error| exceeds ``recent_k`` times its usual
        (EW 0.98) one has its losses scaled up by the excess, so the combination leaves a
        member that has just stopped fitting (0 disables).
    huber_k
        Clip one-step errors at ``huber_k`` robust scales before they update a state.
    shift_k, shift_run
        ``shift_run`` consecutive one-step errors beyond ``shift_k`` scales on one side = level
        shift: levels jump to the data.
    max_gap_days
        A gap longer than this (in days) is a sensor fault: history and pending forecasts reset.
    tau_lo, tau_hi
        Quantiles of the interval (0.1 / 0.9 = the 80 % interval).
    q_rate, q_discount
        Step of the quantile tracker (the error is tracked in units of its EW mean absolute
        value) and the discount of that EW mean.
    warmup_obs
        Forecasts are NaN (batch rows empty) until this many observations were seen.
    nonneg
        Clip forecasts and bounds at 0 while every value seen so far is >= 0.
    """

    bank: tuple[Candidate, ...] = field(default_factory=default_bank)
    grid: tuple[int, ...] | None = None
    loss_discount: float = 0.99
    combine: int = COMBINE_INVERSE
    power: float = 6.0
    min_weight: float = 5.0
    recent_k: float = 3.0
    huber_k: float = 3.0
    shift_k: float = 4.0
    shift_run: int = 6
    max_gap_days: float = 1.0
    tau_lo: float = 0.1
    tau_hi: float = 0.9
    q_rate: float = 0.05
    q_discount: float = 0.9
    warmup_obs: int = 24
    nonneg: bool = True


def horizon_grid(horizon: int) -> tuple[int, ...]:
    """Tracked horizons for a maximum ``horizon``: dense at short range, sparse further out.

    >>> horizon_grid(3)
    (1, 2, 3)
    >>> horizon_grid(24)
    (1, 2, 3, 6, 12, 18, 24)
    """
    if horizon < 1:
        raise ValueError("horizon must be >= 1")
    if horizon <= 4:
        return tuple(range(1, horizon + 1))
    pts = {1, 2, 3, horizon}
    step = 3
    while step < horizon:
        pts.add(step)
        step *= 2
    for frac in (0.5, 0.75):
        pts.add(max(1, round(horizon * frac)))
    return tuple(sorted(p for p in pts if p <= horizon))


@dataclass(frozen=True)
class DomainHorizon:
    """Sampling period and the lead times the product shows for one kind of sensor."""

    period_s: int
    lead_times_s: tuple[int, ...]

    def steps(self) -> tuple[int, ...]:
        """Lead times in sampling steps."""
        return tuple(max(1, t // self.period_s) for t in self.lead_times_s)

    def horizon(self) -> int:
        """Largest lead time in steps (the ``horizon`` of a forecaster for this domain)."""
        return max(self.steps())


_HOUR = 3600
#: Per-domain defaults: traffic every 5 min shown 15/30/60 min ahead; hourly AQI 24 h ahead;
#: water demand and tank levels every 15 min, 24 h ahead.
DOMAIN_HORIZONS: dict[str, DomainHorizon] = {
    "traffic": DomainHorizon(300, (900, 1800, 3600)),
    "air": DomainHorizon(_HOUR, tuple(h * _HOUR for h in range(1, 25))),
    "water_demand": DomainHorizon(900, tuple(h * _HOUR for h in range(1, 25))),
    "tank_level": DomainHorizon(900, tuple(h * _HOUR for h in range(1, 25))),
}
