"""Particulate build-up: an early warning that a pollution episode is starting at a station.

The AQI rule waits for the concentration to reach a category (中度污染 by default); a haze
episode takes hours to get there. This rule looks at the *rise* instead: for each air station,
PM2.5 and PM10 are compared with their own recent level, and a one-sided CUSUM of the rise
(Page 1954) raises once both particulate monitors have risen together for long enough.

Per sensor (PM2.5 and PM10 of a station), on the log of the concentration ``x = ln max(v, floor)``:

* ``base`` — exponentially weighted mean of ``x`` (time constant ``tau_base_s``);
* ``scale`` — robust noise level from first differences: ``E|Δx| = 2σ/√π`` for white noise,
  so ``σ ≈ 0.886 · EWMA|Δx|`` (time constant ``tau_scale_s``; differences are clipped at
  five times the current scale so that one spike does not inflate it), floored at ``sd_floor``;
* ``z = (x − base) / σ`` before ``base`` takes ``x`` in.

Per station, at each PM2.5 reading whose PM10 partner reported within ``max_gap_s``:
``c = min(z_pm25, z_pm10)`` (coherence: one drifting instrument cannot raise it) and
``S ← min(max(0, S + c − k), s_max)``. A breach is ``S ≥ h``; normal is ``S ≤ clear_s``.
The cap ``s_max`` (2 h by default) keeps a long rise from banking hours of evidence, so the
alert clears within minutes once the concentration stops rising (the AQI rule then speaks
for the level reached).

Why the defaults (``k = 1``, ``h = 8`` in units of σ): under noise alone ``c`` has mean
−0.56 σ; a slow daily cycle biases ``z`` by slope × ``tau_base_s`` (≈ +0.9 σ at the steepest
night build-up with σ = 7 %), so the CUSUM drifts down by ≈ 0.6 σ per reading and ``h = 8``
is reached by chance about once in 10⁶ readings per station (Siegmund's approximation).
A rise of 80 %/h, a haze front, crosses ``h`` in about 20 readings.

>>> import numpy as np
>>> r = ParticulateRise(np.array([[0, 1]]), 2, RiseParams(min_readings=5))
>>> t = np.arange(0, 120) * 60_000
>>> flat = [r.update(np.array([0, 1]), np.array([ts, ts]), np.array([30.0, 45.0]))
...         for ts in t[:60]]
>>> float(r.cusum[0])
0.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: σ of white noise from the mean absolute first difference: E|Δx| = 2σ/√π
_DIFF_TO_SIGMA = float(np.sqrt(np.pi) / 2.0)


@dataclass(frozen=True, slots=True)
class RiseParams:
    """Settings of :class:`ParticulateRise` (the ``air_rise`` rule in config/alert_rules.json)."""

    tau_base_s: float = 1800.0
    tau_scale_s: float = 6 * 3600.0
    floor: float = 10.0
    sd_floor: float = 0.02
    k: float = 1.0
    h: float = 8.0
    clear_s: float = 1.0
    s_max: float = 16.0
    min_readings: int = 60
    max_gap_s: float = 180.0

    @staticmethod
    def from_rule(params: Mapping[str, Any]) -> RiseParams:
        known = RiseParams.__dataclass_fields__
        try:
            kw = {k: type(getattr(RiseParams(), k))(v) for k, v in params.items() if k in known}
        except (TypeError, ValueError) as e:
            raise ValueError(f"air_rise: settings must be numbers ({e})") from e
        p = RiseParams(**kw)
        if not (
            p.tau_base_s > 0
            and p.tau_scale_s > 0
            and p.floor > 0
            and p.sd_floor > 0
            and p.k >= 0
            and p.h > p.clear_s >= 0
            and p.s_max >= p.h
            and p.min_readings >= 2
        ):
            raise ValueError(f"air_rise: invalid settings {p}")
        return p


class ParticulateRise:
    """The state of the rule for every station (see the module text).

    Parameters
    ----------
    pairs
        ``(stations, 2)`` dense sensor indices of each station's PM2.5 and PM10 (−1 absent:
        that station never breaches).
    n
        Number of sensors (size of the per-sensor state).
    """

    def __init__(self, pairs: IntArray, n: int, params: RiseParams | None = None) -> None:
        self.p = params or RiseParams()
        self.pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
        self.station_of = np.full(n, -1, np.int64)
        self.column = np.full(n, -1, np.int64)
        for col in (0, 1):
            ok = self.pairs[:, col] >= 0
            self.station_of[self.pairs[ok, col]] = np.flatnonzero(ok)
            self.column[self.pairs[ok, col]] = col
        self.base = np.full(n, np.nan)
        self.prev = np.full(n, np.nan)
        self.scale = np.full(n, np.nan)
        self.ts = np.zeros(n, np.int64)
        self.count = np.zeros(n, np.int64)
        self.z = np.full(n, np.nan)
        self.excess = np.full(n, np.nan)
        self.cusum = np.zeros(len(self.pairs))

    def watches(self, idx: IntArray) -> npt.NDArray[np.bool_]:
        """Which of the dense indices ``idx`` are a station's PM2.5 or PM10."""
        return self.station_of[idx] >= 0

    def update(
        self, idx: IntArray, ts: IntArray, values: FloatArray
    ) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
        """Take one wave (distinct sensors, all watched) → ``(stations, S, ts, rise %)`` of the
        stations whose PM2.5 reported in it and whose statistic is defined (warmed up, partner
        fresh); ``rise %`` is the smaller of PM2.5's and PM10's excess over their recent level."""
        p = self.p
        idx = np.asarray(idx, np.int64)
        ts = np.asarray(ts, np.int64)
        x = np.log(np.maximum(np.asarray(values, np.float64), p.floor))
        first = self.count[idx] == 0
        dt = np.maximum(ts - self.ts[idx], 0) / 1000.0
        base, prev, scale = self.base[idx], self.prev[idx], self.scale[idx]
        base = np.where(first, x, base)
        d = np.abs(x - np.where(first, x, prev))
        cnt = self.count[idx]
        # scale: running mean of |Δx| until min_readings, then EWMA in time; clipped when known
        known = np.isfinite(scale) & (cnt >= p.min_readings)
        d = np.where(known, np.minimum(d, 5.0 * scale), d)
        a_run = 1.0 / np.maximum(cnt, 1)
        a_time = 1.0 - np.exp(-dt / p.tau_scale_s)
        a = np.where(cnt >= p.min_readings, a_time, a_run)
        scale = np.where(
            first | ~np.isfinite(scale), np.where(first, np.nan, d), scale + a * (d - scale)
        )
        sd = np.maximum(np.nan_to_num(scale, nan=0.0) * _DIFF_TO_SIGMA, p.sd_floor)
        z = (x - base) / sd
        ready = cnt + 1 > p.min_readings
        self.z[idx] = np.where(ready, z, np.nan)
        self.excess[idx] = np.expm1(x - base)
        alpha = 1.0 - np.exp(-dt / p.tau_base_s)
        self.base[idx] = base + alpha * (x - base)
        self.prev[idx] = x
        self.scale[idx] = scale
        self.ts[idx] = ts
        self.count[idx] = cnt + 1
        # stations: one CUSUM step per PM2.5 reading with a fresh PM10 partner
        lead = self.column[idx] == 0
        st = self.station_of[idx[lead]]
        t_st = ts[lead]
        partner = self.pairs[st, 1]
        has = partner >= 0
        pz = np.where(has, self.z[np.maximum(partner, 0)], np.nan)
        fresh = has & (np.abs(t_st - self.ts[np.maximum(partner, 0)]) <= p.max_gap_s * 1000.0)
        c = np.minimum(self.z[idx[lead]], pz)
        pct = 100.0 * np.minimum(self.excess[idx[lead]],
                                 np.where(has, self.excess[np.maximum(partner, 0)], np.nan))
        ok = fresh & np.isfinite(c)
        st, t_st, c, pct = st[ok], t_st[ok], c[ok], pct[ok]
        s = np.clip(self.cusum[st] + c - p.k, 0.0, p.s_max)
        self.cusum[st] = s
        return st, s, t_st, pct

    def reset(self, stations: IntArray) -> None:
        """Restart the CUSUM of ``stations`` (their alert was cleared by hand)."""
        self.cusum[np.asarray(stations, np.int64)] = 0.0
