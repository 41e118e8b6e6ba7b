"""Physics-aware features of a water-network zone, derived from SCADA signal names alone.

A concealment attack replays normal-looking readings, so each signal alone looks fine; what
breaks are the relations *between* signals. This front end adds, to the raw signals, residuals
of relations every pumped water zone obeys, learned from normal data and found by naming
convention (``L_`` tank level, ``F_`` flow, ``S_`` on/off status, ``P_`` pressure; a status and
a flow with the same suffix belong to one pump or valve):

- ``pump:<X>``: status against flow, |F_X / F_on(X) - S_X| (a pump reported on with no flow, or
  off while water flows);
- ``dL:<T>``: the level change of each tank (mass balance needs the change, not the level);
- ``mass:<T>``: residual of a least-squares mass balance, dL_T explained by all flows and statuses;
- ``plc:<X>``: residual of a learned PLC switching rule, S_X(t) explained by S_X(t-1), every tank
  level, and their products (a hysteresis switch on some level);
- ``hour:<F>``: a flow minus its learned hour-of-day profile (demand pattern).

Signals constant in the normal data are kept out of the features (they carry no relation).
The transform is causal and streaming: it keeps the previous row, so any batch split gives the
same features.

>>> import numpy as np
>>> names = ["L_T1", "F_PU1", "S_PU1"]
>>> rng = np.random.default_rng(1)
>>> s = (rng.random(200) > 0.5).astype(float)
>>> x = np.column_stack([np.cumsum(s - 0.5) * 0.01 + 2, 50 * s, s])
>>> zone = WaterZoneFeatures(names).fit(x, np.arange(200) % 24)
>>> "pump:PU1" in zone.feature_names and "mass:T1" in zone.feature_names
True
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _ridge(a: np.ndarray, b: np.ndarray, reg: float = 1e-6) -> np.ndarray:
    """Least squares with a tiny ridge (columns may be collinear)."""
    g = a.T @ a
    g += reg * np.trace(g) / g.shape[0] * np.eye(g.shape[0])
    return np.asarray(np.linalg.solve(g, a.T @ b), dtype=np.float64)


def _rowdot(a: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """a @ coef computed row by row, so a row gives the same bits alone or in a batch
    (BLAS blocks differently for different batch sizes)."""
    if coef.ndim == 1:
        return np.asarray((a * coef).sum(axis=1), dtype=np.float64)
    if coef.shape[1] == 0:
        return np.zeros((a.shape[0], 0))
    return np.column_stack([(a * coef[:, j]).sum(axis=1) for j in range(coef.shape[1])])


class WaterZoneFeatures:
    """Streaming feature front end for one water zone.

    Parameters
    ----------
    signal_names : SCADA column names (``L_*``, ``F_*``, ``S_*``, ``P_*``; others pass through).
    use_hour : add hour-of-day profile residuals of the flows.
    """

    def __init__(self, signal_names: list[str], use_hour: bool = True):
        self.signal_names = list(signal_names)
        self.use_hour = use_hour
        self.feature_names: list[str] = []
        self._prev: np.ndarray | None = None

    # ---------------------------------------------------------------- naming
    def _idx(self, prefix: str) -> list[int]:
        return [i for i, n in enumerate(self.signal_names) if n.startswith(prefix)]

    def fit(self, x: np.ndarray, hours: np.ndarray) -> WaterZoneFeatures:
        """Learn the relations from normal rows ``x[n, p]`` with their hour of day (0-23)."""
        x = np.asarray(x, dtype=np.float64)
        hours = np.asarray(hours, dtype=np.int64)
        names = self.signal_names
        sd = x.std(axis=0)
        live = sd > 1e-9
        self.raw_idx = np.array([i for i in range(len(names)) if live[i]], dtype=np.int64)
        lev = [i for i in self._idx("L_") if live[i]]
        flow = [i for i in self._idx("F_") if live[i]]
        stat = [i for i in self._idx("S_") if live[i]]
        self.level_idx = np.array(lev, dtype=np.int64)
        self.flow_idx = np.array(flow, dtype=np.int64)
        self.status_idx = np.array(stat, dtype=np.int64)
        # pump / valve pairs: S_X with F_X
        pairs = []
        for si in stat:
            tag = names[si][2:]
            if "F_" + tag in names:
                fi = names.index("F_" + tag)
                on = x[:, si] > 0.5
                f_on = float(np.median(x[on, fi])) if on.any() else 1.0
                pairs.append((si, fi, max(f_on, 1e-6), tag))
        self.pairs = pairs
        # design of the mass balance: flows, statuses and an intercept
        prev = np.vstack([x[:1], x[:-1]])
        dlev = x[:, lev] - prev[:, lev]
        mass_x = self._mass_design(x)
        self.mass_coef = _ridge(mass_x[1:], dlev[1:]) if lev else np.zeros((mass_x.shape[1], 0))
        # PLC switching: S(t) on [1, S(t-1), L(t), S(t-1) * L(t)]
        self.plc_coef = []
        for si in stat:
            design = self._plc_design(x, prev, si)
            self.plc_coef.append(_ridge(design[1:], x[1:, si]))
        # hour-of-day profile of each flow
        self.hour_mean = np.zeros((24, len(flow)))
        for h in range(24):
            m = hours == h
            self.hour_mean[h] = x[m][:, flow].mean(axis=0) if m.any() else x[:, flow].mean(axis=0)
        self.feature_names = (
            [names[i] for i in self.raw_idx]
            + [f"pump:{tag}" for _, _, _, tag in pairs]
            + [f"dL:{names[i][2:]}" for i in lev]
            + [f"mass:{names[i][2:]}" for i in lev]
            + [f"plc:{names[i][2:]}" for i in stat]
            + ([f"hour:{names[i]}" for i in flow] if self.use_hour else [])
        )
        self._prev = None
        return self

    def _mass_design(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones(len(x)), x[:, self.flow_idx], x[:, self.status_idx]])

    def _plc_design(self, x: np.ndarray, prev: np.ndarray, si: int) -> np.ndarray:
        sp = prev[:, si : si + 1]
        lv = x[:, self.level_idx]
        return np.column_stack([np.ones(len(x)), sp, lv, sp * lv])

    def transform(self, x: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Features of rows ``x[n, p]`` in arrival order (keeps the last row for the next call)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[None, :]
        hours = np.asarray(hours, dtype=np.int64).reshape(-1)
        first = x[:1] if self._prev is None else self._prev[None, :]
        prev = np.vstack([first, x[:-1]])
        cols = [x[:, self.raw_idx]]
        if self.pairs:
            cols.append(
                np.column_stack(
                    [np.abs(x[:, fi] / f_on - x[:, si]) for si, fi, f_on, _ in self.pairs]
                )
            )
        lev = self.level_idx
        dlev = x[:, lev] - prev[:, lev]
        cols.append(dlev)
        cols.append(dlev - _rowdot(self._mass_design(x), self.mass_coef))
        if len(self.status_idx):
            cols.append(
                np.column_stack(
                    [
                        x[:, si] - _rowdot(self._plc_design(x, prev, si), c)
                        for si, c in zip(self.status_idx, self.plc_coef, strict=True)
                    ]
                )
            )
        if self.use_hour:
            cols.append(x[:, self.flow_idx] - self.hour_mean[hours % 24])
        self._prev = x[-1].copy()
        return np.ascontiguousarray(np.hstack(cols))

    def fit_transform(self, x: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Fit on normal rows and return their features (starting a fresh stream)."""
        feats = self.fit(x, hours).transform(x, hours)
        self._prev = None
        return feats

    def reset(self) -> None:
        """Forget the previous row (start of a new independent stream)."""
        self._prev = None

    def state_dict(self) -> dict[str, Any]:
        """Learned relations and the streaming memory."""
        return {k: v for k, v in vars(self).items()}

    def load_state_dict(self, sd: dict[str, Any]) -> WaterZoneFeatures:
        """Restore a :meth:`state_dict` snapshot; returns ``self``."""
        vars(self).update(sd)
        return self
