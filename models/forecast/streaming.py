"""Owner of every sensor's forecaster state; calls the kernels once per batch.

Why a class: the kernels are pure functions over arrays; something has to allocate those arrays,
grow them when a new sensor appears, turn the frozen config into the kernels' parameter arrays,
and save/restore the lot for checkpoints. That is all this class does.

>>> import numpy as np
>>> fc = StreamingForecaster(n_sensors=2, period_s=3600, horizon=3)
>>> ts = np.arange(48, dtype=np.int64) * 3_600_000
>>> for t in ts:
...     fc.update_batch(np.array([0, 1]), np.array([1.0, 5.0]), np.array([t, t]))
>>> yhat, lo, hi = fc.forecast(np.array([0, 1]))
>>> np.round(yhat[:, 0], 6).tolist()
[1.0, 5.0]
"""

from __future__ import annotations

from dataclasses import asdict
from statistics import NormalDist
from typing import Any

import numpy as np
import numpy.typing as npt

from models.forecast import kernels as kn
from models.forecast.config import (
    DSHW,
    HOLT,
    HW_ADD,
    HW_MUL,
    SNAIVE_DAY,
    ForecastConfig,
    horizon_grid,
)

_DAY_S = 86_400
_SD_TO_MAD = 1.2533141373155003  # Gaussian quantiles in units of E|e|
_STATE_KEYS = ("ist", "fst", "cst", "season", "week", "loss", "qst", "pend")


class StreamingForecaster:
    """Streaming per-sensor forecasts with 80 % intervals, O(1) work per reading.

    Parameters
    ----------
    n_sensors
        Initial capacity (dense indices ``0 .. n_sensors - 1``); grows on demand.
    period_s
        Sampling period in seconds (300 traffic, 3600 air, 900 water); the daily and weekly
        season lengths are ``86400 / period_s`` and seven times that.
    horizon
        Number of steps ahead ``H`` that :meth:`forecast` returns.
    config
        :class:`~models.forecast.config.ForecastConfig`.
    """

    def __init__(
        self,
        n_sensors: int,
        period_s: float,
        horizon: int,
        config: ForecastConfig | None = None,
    ) -> None:
        if period_s <= 0 or horizon < 1:
            raise ValueError("period_s must be > 0 and horizon >= 1")
        self.config = config or ForecastConfig()
        cfg = self.config
        self.period_s = float(period_s)
        self.horizon = int(horizon)
        self.m1 = max(1, round(_DAY_S / self.period_s))
        self.m2 = max(self.m1, round(7 * _DAY_S / self.period_s))
        grid = tuple(g for g in (cfg.grid or horizon_grid(self.horizon)) if g <= self.horizon)
        if not grid or grid[-1] != self.horizon:
            grid = tuple(sorted(set(grid) | {self.horizon}))
        self.grid = np.asarray(grid, dtype=np.int64)
        g_n = self.grid.shape[0]
        ring = -(-self.grid // g_n)  # ceil(h / G) issued forecasts in flight per horizon
        self.gi = np.zeros((g_n, 4), dtype=np.int64)
        self.gi[:, kn.GI_H] = self.grid
        self.gi[:, kn.GI_OFF] = np.concatenate([[0], np.cumsum(ring)[:-1]])
        self.gi[:, kn.GI_LEN] = ring
        self.gi[:, kn.GI_DUE] = (self.grid + np.arange(g_n)) % g_n
        self.n_slots = int(ring.sum())
        bank = cfg.bank
        codes = [c.code for c in bank]
        for code in (HW_ADD, DSHW, HW_MUL):
            if codes.count(code) > 1:
                raise ValueError("at most one seasonal member of each kind in the bank")
        self.ctype = np.asarray(codes, dtype=np.int64)
        self.cp = np.array(
            [[c.alpha, c.beta, c.phi, c.gamma, c.gamma_w, c.ar] for c in bank], dtype=np.float64
        )
        hs = np.arange(self.horizon + 1, dtype=np.float64)
        self.phih = np.zeros((len(bank), self.horizon + 1))
        self.arp = np.zeros((len(bank), self.horizon + 1))
        for k, c in enumerate(bank):
            self.phih[k] = np.concatenate([[0.0], np.cumsum(c.phi ** hs[1:])])
            self.arp[k] = c.ar**hs
        self.hmap = np.zeros((self.horizon + 1, 2), dtype=np.int64)
        self.hfrac = np.zeros(self.horizon + 1)
        for h in range(1, self.horizon + 1):
            gb = int(np.searchsorted(self.grid, h))
            ga = gb if self.grid[gb] == h else gb - 1
            self.hmap[h] = (ga, gb)
            if ga != gb:
                self.hfrac[h] = (h - self.grid[ga]) / (self.grid[gb] - self.grid[ga])
        self.par = np.array(
            [
                cfg.loss_discount,
                cfg.power,
                max(cfg.min_weight, 1e-9),
                cfg.huber_k,
                cfg.shift_k,
                cfg.tau_lo,
                cfg.tau_hi,
                cfg.q_rate,
                cfg.q_discount,
                NormalDist().inv_cdf(cfg.tau_lo) * _SD_TO_MAD,
                NormalDist().inv_cdf(cfg.tau_hi) * _SD_TO_MAD,
                cfg.recent_k,
            ],
            dtype=np.float64,
        )
        fb1 = codes.index(HOLT) if HOLT in codes else -1
        fb2 = codes.index(SNAIVE_DAY) if SNAIVE_DAY in codes else -1
        self.period_ms = max(1, round(self.period_s * 1000))
        self.ipar = np.array(
            [
                self.period_ms,
                self.m1,
                self.m2,
                max(1, round(cfg.max_gap_days * self.m1)),
                cfg.combine,
                fb1,
                fb2,
                cfg.shift_run,
                cfg.warmup_obs,
                1 if cfg.nonneg else 0,
            ],
            dtype=np.int64,
        )
        self.capacity = 0
        self.state: dict[str, npt.NDArray[Any]] = {}
        self._alloc(max(1, int(n_sensors)))

    # ------------------------------------------------------------------ state arrays
    def _fresh(self, n: int) -> dict[str, npt.NDArray[Any]]:
        k_n = self.ctype.shape[0]
        g_n = self.grid.shape[0]
        ist = np.zeros((n, kn.NI), dtype=np.int64)
        ist[:, kn.I_STEP] = -1
        fst = np.empty((n, kn.NF))
        fst[:, kn.F_YLAST] = np.nan
        fst[:, kn.F_MINY] = np.inf
        fst[:, kn.F_MAXY] = -np.inf
        return {
            "ist": ist,
            "fst": fst,
            "cst": np.zeros((n, k_n, kn.NC)),
            "season": np.full((n, self.m1, 3), np.nan),
            "week": np.full((n, self.m2, 2), np.nan),
            "loss": np.zeros((n, g_n, k_n, 2)),
            "qst": np.zeros((n, g_n, kn.NQ)),
            "pend": np.full((n, self.n_slots, k_n + 1), np.nan),
        }

    def _alloc(self, n: int) -> None:
        fresh = self._fresh(n - self.capacity)
        if self.capacity == 0:
            self.state = fresh
        else:
            self.state = {
                key: np.ascontiguousarray(np.concatenate([self.state[key], fresh[key]]))
                for key in _STATE_KEYS
            }
        self.capacity = n

    def ensure_capacity(self, n_sensors: int) -> None:
        """Grow the arrays (doubling) so indices ``< n_sensors`` are valid."""
        if n_sensors > self.capacity:
            self._alloc(max(n_sensors, 2 * self.capacity))

    # ------------------------------------------------------------------ hot path
    def update_batch(
        self,
        idx: npt.ArrayLike,
        val: npt.ArrayLike,
        ts: npt.ArrayLike,
        skip: npt.ArrayLike | None = None,
    ) -> None:
        """Feed readings in arrival order: dense index, value (NaN = missing), epoch ms.

        ``skip`` (bool/uint8) marks readings the anomaly engine flagged; they are treated as
        missing so they never update the state.
        """
        idx_a = np.ascontiguousarray(idx, dtype=np.int64)
        val_a = np.ascontiguousarray(val, dtype=np.float64)
        ts_a = np.ascontiguousarray(ts, dtype=np.int64)
        if skip is None:
            skip_a = np.zeros(idx_a.shape[0], dtype=np.uint8)
        else:
            skip_a = np.ascontiguousarray(skip, dtype=np.uint8)
        if not (idx_a.shape == val_a.shape == ts_a.shape == skip_a.shape):
            raise ValueError("idx, val, ts (and skip) must have the same length")
        if idx_a.size == 0:
            return
        if idx_a.min() < 0:
            raise ValueError("sensor indices must be >= 0")
        self.ensure_capacity(int(idx_a.max()) + 1)
        s = self.state
        kn.update(idx_a, val_a, ts_a, skip_a, s["ist"], s["fst"], s["cst"], s["season"],
                  s["week"], s["loss"], s["qst"], s["pend"], self.ctype, self.cp, self.gi,
                  self.phih, self.arp, self.par, self.ipar)

    def forecast_into(
        self,
        idx: npt.NDArray[np.int64],
        out: npt.NDArray[np.float64],
        lo: npt.NDArray[np.float64],
        hi: npt.NDArray[np.float64],
    ) -> None:
        """Allocation-free :meth:`forecast`: write rows ``[len(idx), horizon]`` in place."""
        if idx.size and int(idx.max()) >= self.capacity:
            self.ensure_capacity(int(idx.max()) + 1)
        s = self.state
        kn.forecast(idx, s["ist"], s["fst"], s["cst"], s["season"], s["week"], s["loss"],
                    s["qst"], self.ctype, self.gi, self.hmap, self.hfrac, self.phih, self.arp,
                    self.par, self.ipar, out, lo, hi)

    def forecast(
        self, idx: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Forecasts for steps ``last+1 .. last+horizon`` of each sensor, with 80 % bounds.

        Returns ``(yhat, lo, hi)``, each ``[len(idx), horizon]``; NaN rows while warming up.
        """
        idx_a = np.ascontiguousarray(idx, dtype=np.int64)
        n = idx_a.shape[0]
        out = np.empty((n, self.horizon))
        lo = np.empty((n, self.horizon))
        hi = np.empty((n, self.horizon))
        self.forecast_into(idx_a, out, lo, hi)
        return out, lo, hi

    def run_series(
        self, val: npt.ArrayLike, ts: npt.ArrayLike, skip: npt.ArrayLike | None = None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Batch path for one series (sensor 0): update with each row, then forecast from it.

        Row ``r`` of each result holds the forecasts for ``t_r + 1 .. t_r + H`` made right after
        row ``r``; identical to ``update_batch`` + ``forecast`` per row.
        """
        val_a = np.ascontiguousarray(val, dtype=np.float64)
        ts_a = np.ascontiguousarray(ts, dtype=np.int64)
        n = val_a.shape[0]
        skip_a = (
            np.zeros(n, dtype=np.uint8)
            if skip is None
            else np.ascontiguousarray(skip, dtype=np.uint8)
        )
        out = np.empty((n, self.horizon))
        lo = np.empty((n, self.horizon))
        hi = np.empty((n, self.horizon))
        s = self.state
        kn.run_series(val_a, ts_a, skip_a, s["ist"], s["fst"], s["cst"], s["season"], s["week"],
                      s["loss"], s["qst"], s["pend"], self.ctype, self.cp, self.gi, self.hmap,
                      self.hfrac, self.phih, self.arp, self.par, self.ipar, out, lo, hi)
        return out, lo, hi

    # ------------------------------------------------------------------ lifecycle
    def state_dict(self) -> dict[str, Any]:
        """Copies of all state arrays plus the settings that shape them (for checkpoints)."""
        d: dict[str, Any] = {k: v.copy() for k, v in self.state.items()}
        d["meta"] = {
            "period_s": self.period_s,
            "horizon": self.horizon,
            "capacity": self.capacity,
            "config": asdict(self.config),
        }
        return d

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore arrays saved by :meth:`state_dict` (same period, horizon and bank)."""
        meta = d["meta"]
        if meta["period_s"] != self.period_s or meta["horizon"] != self.horizon:
            raise ValueError("state was saved with another period or horizon")
        fresh = self._fresh(1)
        for key in _STATE_KEYS:
            if d[key].shape[1:] != fresh[key].shape[1:]:
                raise ValueError(f"state array {key!r} has an incompatible shape")
        self.state = {key: np.ascontiguousarray(d[key]).copy() for key in _STATE_KEYS}
        self.capacity = int(meta["capacity"])

    def warm(self) -> None:
        """Compile (or load from cache) every kernel on a throwaway copy of tiny arrays."""
        probe = StreamingForecaster(1, self.period_s, self.horizon, self.config)
        ts = np.arange(3, dtype=np.int64) * probe.period_ms
        probe.update_batch(np.zeros(3, dtype=np.int64), np.array([1.0, np.nan, 2.0]), ts)
        probe.forecast(np.zeros(1, dtype=np.int64))
        probe.run_series(np.array([1.0, 2.0]), ts[:2] + 10 * probe.period_ms)
