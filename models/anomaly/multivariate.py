"""Streaming, explainable multivariate anomaly detector for one asset.

One :class:`AssetDetector` watches all signals of one asset together (a hazard source's
sensors, a water-network zone). It learns the normal correlation structure with (dynamic) PCA,
then scores each new row by Yue & Qin's combined index of T^2 and SPE, both on the row and on
its EWMA-filtered vector (small persistent shifts), and names the variables that explain an
alarm with reconstruction-based contributions. Alarms latch with hysteresis, and the model
adapts only on rows it considers normal (gated updates), so a fault is never learned as normal.

Limits are empirical: the training data is split into contiguous folds, each fold is scored by a
model fitted on the others, and the limits are the ``alpha`` quantiles of those out-of-fold
statistics (in-sample statistics of a PCA are optimistically small).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> base = rng.normal(size=(600, 1))
>>> normal = np.hstack([base, base + 0.1 * rng.normal(size=(600, 1)), rng.normal(size=(600, 1))])
>>> det = AssetDetector(["a", "b", "c"], MultivariateConfig(lags=0)).fit(normal)
>>> row = np.array([[2.0, -2.0, 0.0]])        # a and b disagree
>>> score, stat, top = det.score_batch(row)
>>> bool(score[0] > 0.5), sorted(n for n, _ in det.explain(np.array([2.0, -2.0, 0.0]))[:2])
(True, ['a', 'b'])
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from models.anomaly import multivariate_kernels as mk


@dataclass(frozen=True)
class MultivariateConfig:
    """Settings one deployment chooses for one kind of asset (never per fault).

    Parameters
    ----------
    lags : past rows appended to each row (dynamic PCA); 0 = static PCA.
    variance_fraction : share of variance the retained components explain.
    n_components : fixed number of components (overrides ``variance_fraction``).
    alpha : quantile of out-of-fold normal statistics used as the limit (1 - target FAR).
    tail_alpha : when set, each limit is carried from its empirical ``alpha`` quantile out to
        this far-tail quantile (1 - per-row false-alarm rate) with the quantile ratio of the
        scaled chi-square ``g·χ²_h`` whose mean and variance match the statistic's out-of-fold
        values (Box's approximation, as Yue & Qin use for the combined index): a stream of
        ~10⁶ rows a day needs a tail that a warm-up of ~10³ rows cannot estimate empirically.
    ewma_lambda : weight of the EWMA-filtered vector (small persistent shifts).
    forget : weight of a gated recursive covariance update per accepted row (0 = frozen).
    refresh : accepted rows between re-decompositions of the adapted covariance.
    raise_after, clear_after : hysteresis of the alarm latch, in rows.
    min_vars : 1 — the alarm follows the statistic; 2 — it follows the statistic left after
        the best reconstruction of any single variable (all its lags), so a change confined to
        one variable (a sensor fault) never alarms while one shared by two or more does. The
        statistic, score and contributions are the same either way.
    folds : contiguous folds used to compute the empirical limits.
    min_scale : floor of a variable's standard deviation (constant signals).
    """

    lags: int = 1
    variance_fraction: float = 0.9
    n_components: int | None = None
    alpha: float = 0.99
    tail_alpha: float | None = None
    ewma_lambda: float = 0.1
    forget: float = 0.0
    refresh: int = 100
    raise_after: int = 1
    clear_after: int = 1
    min_vars: int = 1
    folds: int = 5
    min_scale: float = 1e-3


def calibrate(stat: np.ndarray) -> np.ndarray:
    """Map a statistic in limit units (1.0 = at the limit) to a score in [0, 1], 0.5 at the limit.

    >>> calibrate(np.array([0.0, 1.0, 3.0])).round(2).tolist()
    [0.0, 0.5, 0.9]
    """
    s2 = np.square(np.maximum(stat, 0.0))
    return np.asarray(s2 / (1.0 + s2), dtype=np.float64)


def tail_ratio(stat: np.ndarray, alpha: float, tail_alpha: float) -> float:
    """Quantile ratio ``q(tail_alpha) / q(alpha)`` of the scaled chi-square matching ``stat``.

    >>> rng = np.random.default_rng(0)
    >>> x = rng.chisquare(8, 200_000)
    >>> r = tail_ratio(x, 0.99, 0.99999)
    >>> emp = np.quantile(x, 0.99999) / np.quantile(x, 0.99)
    >>> bool(abs(r / emp - 1) < 0.05)
    True
    """
    from scipy.stats import chi2

    x = np.asarray(stat, np.float64)
    m, v = float(x.mean()), float(x.var())
    if not (m > 0 and v > 0) or tail_alpha <= alpha:
        return 1.0
    h = 2.0 * m * m / v
    return float(chi2.ppf(tail_alpha, h) / chi2.ppf(alpha, h))


def _row_quad(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``a[i] @ m @ a[i]`` for every row ``i``."""
    return np.asarray(np.einsum("ij,ij->i", a @ m, a), np.float64)


def _lag_stack(z: np.ndarray, lags: int) -> np.ndarray:
    """Rows [z_t, z_{t-1}, ..., z_{t-lags}] for t = lags..n-1 (same layout as the kernel)."""
    n = z.shape[0]
    return np.hstack([z[lags - k : n - k] for k in range(lags + 1)])


class AssetDetector:
    """Gated recursive dynamic-PCA detector with RBC explanations for one asset.

    Parameters
    ----------
    variable_names : names of the columns of every row passed in, in order.
    config : :class:`MultivariateConfig`.

    ``fit`` learns from normal data; ``score_batch`` / ``detect_batch`` stream rows (any batch
    split gives the same output); ``explain`` names the top variables of one row without
    advancing the state; ``state_dict`` / ``load_state_dict`` snapshot and restore.
    """

    def __init__(self, variable_names: list[str], config: MultivariateConfig | None = None):
        self.variable_names = list(variable_names)
        self.config = config or MultivariateConfig()
        self._state: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ fitting
    @property
    def n_vars(self) -> int:
        return len(self.variable_names)

    def _blank_state(self, mean: np.ndarray, scale: np.ndarray, n_comp: int) -> dict[str, Any]:
        cfg = self.config
        p = self.n_vars
        q = p * (cfg.lags + 1)
        fpar = np.zeros(mk.N_FPAR)
        fpar[[mk.F_TAU2, mk.F_DELTA2, mk.F_LIM_PHI, mk.F_LIM_EWMA]] = 1.0
        fpar[mk.F_LAM] = cfg.ewma_lambda
        fpar[mk.F_FORGET] = cfg.forget
        ipar = np.zeros(mk.N_IPAR, dtype=np.int64)
        ipar[mk.I_LAGS] = cfg.lags
        ipar[mk.I_NCOMP] = n_comp
        ipar[mk.I_REFRESH] = cfg.refresh
        ipar[mk.I_RAISE] = cfg.raise_after
        ipar[mk.I_CLEAR] = cfg.clear_after
        ipar[mk.I_MINVARS] = cfg.min_vars
        return {
            "mean": mean.copy(),
            "scale": scale.copy(),
            "ring": np.zeros((cfg.lags + 1, p)),
            "ctr": np.zeros(mk.N_CTR, dtype=np.int64),
            "center": np.zeros(q),
            "cov": np.eye(q),
            "ewma_vec": np.zeros(q),
            "d_mat": np.zeros((q, q)),
            "ct_mat": np.zeros((q, q)),
            "phi_mat": np.zeros((q, q)),
            "eigvals": np.zeros(q),
            "fpar": fpar,
            "ipar": ipar,
        }

    @staticmethod
    def _set_model(state: dict[str, np.ndarray], rows: np.ndarray) -> None:
        state["center"][:] = rows.mean(axis=0)
        state["cov"][:] = np.cov(rows, rowvar=False, bias=False)
        fpar, ipar = state["fpar"], state["ipar"]
        mk.rebuild_model(
            state["cov"],
            int(ipar[mk.I_NCOMP]),
            fpar[mk.F_TAU2],
            fpar[mk.F_DELTA2],
            fpar[mk.F_EIG_FLOOR],
            state["d_mat"],
            state["ct_mat"],
            state["phi_mat"],
            state["eigvals"],
        )

    def fit(self, normal_data: np.ndarray) -> AssetDetector:
        """Learn scaling, (dynamic) PCA and empirical limits from normal rows ``[n, p]``.

        Rows holding NaN are dropped. Returns ``self``.
        """
        cfg = self.config
        x = np.asarray(normal_data, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_vars:
            raise ValueError(f"expected [n, {self.n_vars}] rows, got {x.shape}")
        if cfg.min_vars not in (1, 2):
            raise ValueError(f"min_vars must be 1 or 2, got {cfg.min_vars}")
        x = x[~np.isnan(x).any(axis=1)]
        n_min = cfg.folds * (cfg.lags + 10)
        if x.shape[0] < n_min:
            raise ValueError(f"need at least {n_min} normal rows, got {x.shape[0]}")
        mean = x.mean(axis=0)
        scale = np.maximum(x.std(axis=0, ddof=1), cfg.min_scale)
        z = (x - mean) / scale
        rows = _lag_stack(z, cfg.lags)
        eig = np.sort(np.linalg.eigvalsh(np.cov(rows, rowvar=False)))[::-1]
        if cfg.n_components is not None:
            n_comp = int(cfg.n_components)
        else:
            frac = np.cumsum(eig) / eig.sum()
            n_comp = int(np.searchsorted(frac, cfg.variance_fraction) + 1)
        n_comp = max(1, min(n_comp, rows.shape[1] - 1))
        eig_floor = max(eig[0] * 1e-9, 1e-12)

        # out-of-fold statistics on contiguous folds. With the model frozen (no adaptation) the
        # kernel's per-row T², SPE and combined indices are quadratic forms of the lag-stacked
        # row and of its EWMA, so they are computed for a whole fold at once with BLAS (the
        # kernel would take O(q²) per row, four times over, in plain loops).
        from scipy.signal import lfilter

        lam = cfg.ewma_lambda
        edges = np.linspace(0, x.shape[0], cfg.folds + 1).astype(int)
        quads = []  # per fold: T², SPE of the rows, then of their EWMA
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):
            # lag rows of `rows` index t - lags; keep rows whose whole window is outside the fold
            t = np.arange(cfg.lags, x.shape[0])
            keep = (t < lo) | (t - cfg.lags >= hi)
            st = self._blank_state(mean, scale, n_comp)
            st["fpar"][mk.F_EIG_FLOOR] = eig_floor
            self._set_model(st, rows[keep])
            xa = _lag_stack(z[lo:hi], cfg.lags) - st["center"]
            ew = lfilter([lam], [1.0, lam - 1.0], xa, axis=0)  # the kernel's EWMA, from 0
            # the EWMA statistic once its filter has settled (as the kernel's warm-up)
            skip = min(cfg.lags + int(np.ceil(1.0 / lam)), (hi - lo) // 2)
            ew = ew[max(skip - cfg.lags, 0) :]
            d_mat, ct_mat = st["d_mat"], st["ct_mat"]
            quads.append(
                (
                    _row_quad(xa, d_mat),
                    _row_quad(xa, ct_mat),
                    _row_quad(ew, d_mat),
                    _row_quad(ew, ct_mat),
                )
            )
        tau2 = float(np.quantile(np.concatenate([q[0] for q in quads]), cfg.alpha))
        delta2 = float(np.quantile(np.concatenate([q[1] for q in quads]), cfg.alpha))
        # Yue & Qin's combined index phi = SPE/delta2 + T²/tau2, of the row and of its EWMA,
        # on the rows where both are defined (after the EWMA's warm-up)
        phi = np.concatenate(
            [(q[1] / delta2 + q[0] / tau2)[q[0].size - q[2].size :] for q in quads]
        )
        phi_w = np.concatenate([q[3] / delta2 + q[2] / tau2 for q in quads])
        lim_phi = float(np.quantile(phi, cfg.alpha))
        lim_ewma = float(np.quantile(phi_w, cfg.alpha))
        # the statistic is the larger of the two in limit units; its own quantile rescales both
        both = np.maximum(phi / lim_phi, phi_w / lim_ewma)
        joint = float(np.quantile(both, cfg.alpha))
        lim_phi *= joint
        lim_ewma *= joint
        if cfg.tail_alpha is not None:
            lim_phi *= tail_ratio(phi, cfg.alpha, cfg.tail_alpha)
            lim_ewma *= tail_ratio(phi_w, cfg.alpha, cfg.tail_alpha)

        state = self._blank_state(mean, scale, n_comp)
        state["fpar"][mk.F_EIG_FLOOR] = eig_floor
        state["fpar"][[mk.F_TAU2, mk.F_DELTA2]] = tau2, delta2
        state["fpar"][[mk.F_LIM_PHI, mk.F_LIM_EWMA]] = lim_phi, lim_ewma
        self._set_model(state, rows)
        self._state = state
        self._fitted = {k: v.copy() for k, v in state.items()}
        return self

    # ------------------------------------------------------------------ scoring
    def _run(
        self, st: dict[str, np.ndarray], x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = x.shape[0]
        p = self.n_vars
        t2 = np.zeros(n)
        spe = np.zeros(n)
        stat = np.zeros(n)
        contrib = np.zeros((n, p))
        top = np.full((n, 3), -1, dtype=np.int64)
        alarm = np.zeros(n, dtype=np.int64)
        mk.score_rows(
            x,
            st["mean"],
            st["scale"],
            st["ring"],
            st["ctr"],
            st["center"],
            st["cov"],
            st["ewma_vec"],
            st["d_mat"],
            st["ct_mat"],
            st["phi_mat"],
            st["eigvals"],
            st["fpar"],
            st["ipar"],
            t2,
            spe,
            stat,
            contrib,
            top,
            alarm,
        )
        return t2, spe, stat, contrib, top, alarm

    def _rows(self, x: np.ndarray) -> np.ndarray:
        if self._state is None:
            raise RuntimeError("fit() or load_state_dict() first")
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != self.n_vars:
            raise ValueError(f"expected [n, {self.n_vars}] rows, got {arr.shape}")
        return np.ascontiguousarray(arr).copy()

    def detect_batch(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Score rows and return every output: ``score``, ``statistic`` (1 = limit), ``t2``,
        ``spe``, ``contrib`` (per-variable shares, rows sum to 1), ``top_vars`` and ``alarm``
        (hysteresis latch, 0/1)."""
        rows = self._rows(x)
        assert self._state is not None
        t2, spe, stat, contrib, top, alarm = self._run(self._state, rows)
        return {
            "score": calibrate(stat),
            "statistic": stat,
            "t2": t2,
            "spe": spe,
            "contrib": contrib,
            "top_vars": top,
            "alarm": alarm,
        }

    def score_batch(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Score rows ``x[n, p]`` in order: ``(score[n] in [0, 1], statistic[n], top_vars[n, 3])``.

        ``statistic`` is in limit units (1.0 = at the limit, where score = 0.5); ``top_vars``
        holds column indices of the three largest contributors (-1 while warming up).
        """
        out = self.detect_batch(x)
        return out["score"], out["statistic"], out["top_vars"]

    def explain(self, row: np.ndarray, k: int = 3) -> list[tuple[str, float]]:
        """Top ``k`` (name, share) contributors of ``row`` scored now; the state is not advanced."""
        rows = self._rows(row)[-1:]
        assert self._state is not None
        st = {key: v.copy() for key, v in self._state.items()}
        _, _, _, contrib, _, _ = self._run(st, rows)
        order = np.argsort(-contrib[0], kind="stable")[:k]
        return [(self.variable_names[j], float(contrib[0, j])) for j in order if contrib[0, j] > 0]

    def top_names(self, top_row: np.ndarray) -> list[str]:
        """Names of the indices in one ``top_vars`` row (warm-up markers dropped)."""
        return [self.variable_names[int(j)] for j in top_row if j >= 0]

    def reset(self) -> None:
        """Return to the state right after ``fit`` (start of a new independent stream)."""
        self._state = {k: v.copy() for k, v in self._fitted.items()}

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Snapshot: config, names and copies of every state array (fitted and live)."""
        if self._state is None:
            raise RuntimeError("nothing to save before fit()")
        return {
            "config": asdict(self.config),
            "variable_names": list(self.variable_names),
            "state": {k: v.copy() for k, v in self._state.items()},
            "fitted": {k: v.copy() for k, v in self._fitted.items()},
        }

    def load_state_dict(self, sd: dict[str, Any]) -> AssetDetector:
        """Restore a :meth:`state_dict` snapshot; returns ``self``."""
        self.config = MultivariateConfig(**sd["config"])
        self.variable_names = list(sd["variable_names"])
        self._state = {k: np.array(v, copy=True) for k, v in sd["state"].items()}
        self._fitted = {k: np.array(v, copy=True) for k, v in sd["fitted"].items()}
        for st in (self._state, self._fitted):  # snapshots from before ``min_vars``
            if st["ipar"].size < mk.N_IPAR:
                ipar = np.zeros(mk.N_IPAR, np.int64)
                ipar[: st["ipar"].size] = st["ipar"]
                ipar[mk.I_MINVARS] = self.config.min_vars
                st["ipar"] = ipar
        return self

    @property
    def n_components(self) -> int:
        if self._state is None:
            raise RuntimeError("fit() first")
        return int(self._state["ipar"][mk.I_NCOMP])
