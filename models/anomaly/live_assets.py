"""Live multivariate detectors, one per asset: each hazard source and each water zone.

Why: a single sensor can look normal while several of an asset's sensors change together (a
tank's level falling while its pressure and the gas detectors beside it rise). This
``after_scoring`` step of the engine worker (:class:`streams.runtime.EngineStage`) turns each
reading into its sensor's standardised *innovation* — the reading minus what the sensor's own
recent past predicts, in units of its own recent noise
(:func:`~models.anomaly.innovation_kernel.robust_innovations`) — groups the sensors of each asset
into one row per asset period (latest innovation per sensor, 0 once it is older than
``stale_periods`` sensor periods), learns each asset's normal structure from its first
``fit_after_s`` of stream time with an :class:`~models.anomaly.multivariate.AssetDetector`
(standardisation + dynamic PCA, T² and SPE, limits carried to a far tail) and then scores
every new row.

Innovations, not raw values: the sensors of one asset share slow cycles (demand, the ambient
temperature, a tank filling) whose level and noise change through the day, so a model of raw
values (or of deviations scaled by a warm-up's spread) fitted on a two-hour warm-up does not
hold a few hours later. Readings the univariate engine flags as stuck or dropout (the faults
the alert engine keeps out of city rules) are ignored, and the detector only alarms when the
anomaly is not explained by one sensor alone (``min_vars``, reconstruction-based): a change
confined to one sensor is a sensor matter for the univariate rules, an asset anomaly involves
several of its sensors.

Each asset's latest score, statistic and top contributing sensors go to the state store as
``asset:<id>``; when the detector's own hysteresis latches an alarm the asset gets an
``asset_anomaly`` alert naming the top-3 sensors (zh and en), cleared automatically when it
recovers; one active alert per asset (the lifecycle's ``(source, type)`` rule; the alert
rules' ``asset_anomaly`` entry sets the ranks, not grouped by area). Its level follows the
rules like other city alerts: rank from the peak statistic, bumped by a hazard source's R
grade.

Scale-out note: readings are partitioned by sensor, so with several engine workers each
models the sensors of an asset it receives (an asset needs two of them).

Per batch the work is one numba call per row boundary over the readings plus numpy per closed
row and asset (≈ 50 hazard sources + 10 zones at scale 1).

>>> from config.city import load_city
>>> from streams.state.memory import MemoryStateStore
>>> city = load_city(scale=0.05, seed=20261124)
>>> live = LiveAssetDetectors(city, MemoryStateStore())
>>> sorted(a.kind for a in live.assets)[:1], live.assets[0].variable_names[0][:4]
(['hazard'], 'HAZ-')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # a scikit-learn dependency

from models.anomaly import innovation_kernel as ik
from models.anomaly.config import FAULT_NAMES
from models.anomaly.multivariate import AssetDetector, MultivariateConfig
from streams.messages import QUALITY_BAD, ReadingBatch, ScoreBatch
from streams.state import StateStore

if TYPE_CHECKING:
    from alerts.lifecycle import AlertService

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

ALERT_TYPE = "asset_anomaly"

#: Both kinds see standardised innovations, stationary through the day by construction, so
#: the model fitted on the warm-up is kept (``forget=0``): its limits are calibrated on
#: out-of-fold rows of that fit, and an exponentially forgetting covariance has fewer
#: effective rows than a wide zone has sensors. Limits: the empirical 99 % quantile carried to
#: a per-row false-alarm rate of 1e-6 (``tail_alpha``), since ≈ 10⁶ asset rows are scored per
#: day at scale 1. ``min_vars=2``: the alarm needs two or more sensors — a change confined to
#: one sensor (a drift, a spike, a stuck value) is a sensor matter, left to the univariate
#: rules.
#:
#: Hazard sources: 5-s rows, a few to ~30 sensors; one lag (tank dynamics).
HAZARD_CONFIG = MultivariateConfig(
    lags=1,
    variance_fraction=0.9,
    alpha=0.99,
    tail_alpha=1.0 - 1e-6,
    ewma_lambda=0.2,
    forget=0.0,
    raise_after=4,
    clear_after=24,
    min_vars=2,
    folds=5,
)
#: Water zones: 10-s rows, up to ~180 sensors per zone at scale 1; static PCA (lags would
#: double an already wide row); otherwise as the hazard sources.
WATER_CONFIG = replace(HAZARD_CONFIG, lags=0, raise_after=3, clear_after=18)
#: Level policy when the alert rules have no ``asset_anomaly`` entry (they normally do:
#: ``config/alert_rules.json``): rank 1 (IV), rank 2 (III) from a statistic of 4 limits.
DEFAULT_RULE = {"rank": 1, "severe_rank": 2, "severe_statistic": 4.0}


@dataclass(frozen=True)
class LiveAssetConfig:
    """Deployment settings of the live asset detectors.

    Parameters
    ----------
    fit_after_s : stream time of rows buffered per asset before its detector is fitted.
    hazard, water : detector settings per kind of asset.
    fits_per_batch : detectors fitted per call at most (spreads the fitting cost over batches).
    min_seen_fraction : a sensor joins its asset's model only if it had a value in at least
        this share of the warm-up rows (a sensor dark at start-up never blocks its asset).
    max_rows_per_batch : row boundaries closed per call at most (a long stream gap skips ahead).
    baseline_tau_s : time constant of each sensor's trend-following baseline; the detector
        sees innovations against it, so the slow day cycle (demand, ambient temperature, tank
        filling) is not an anomaly while a leak or a burst (a change within minutes) is.
    spread_tau_s : time constant of each sensor's noise spread (it follows the day: a flow's
        noise grows with the demand).
    huber_k : innovations beyond ``huber_k`` spreads move a baseline and a spread only as much
        as one at ``huber_k`` would, so a lasting change stays visible for a while before it
        becomes the new normal, and one wild reading moves nothing.
    min_count : readings of a sensor before its innovations count.
    stale_periods : a sensor's innovation is held for this many of its periods, then it is 0
        (no evidence) until its next reading.
    rel_floor : floor of a sensor's spread as a share of its level: a very smooth signal must
        not alarm on a change a few quantisation steps wide.
    veto_faults : univariate fault codes whose readings are ignored (as the alert engine keeps
        them out of city rules): a stuck or dark sensor is a sensor alert, not an asset one.
    update_every_s : stream time between refreshes of an open alert (value, top sensors).
    top_k : contributing sensors named in documents and alerts.
    """

    fit_after_s: float = 7200.0
    hazard: MultivariateConfig = HAZARD_CONFIG
    water: MultivariateConfig = WATER_CONFIG
    fits_per_batch: int = 2
    min_seen_fraction: float = 0.9
    max_rows_per_batch: int = 720
    baseline_tau_s: float = 300.0
    spread_tau_s: float = 1800.0
    huber_k: float = 3.0
    min_count: int = 12
    stale_periods: float = 2.0
    rel_floor: float = 0.001
    veto_faults: tuple[str, ...] = ("stuck", "dropout")
    update_every_s: float = 60.0
    top_k: int = 3

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> LiveAssetConfig:
        known = {f.name for f in fields(LiveAssetConfig)} - {"hazard", "water", "veto_faults"}
        more = {k: v for k, v in d.items() if k in known}
        return LiveAssetConfig(
            hazard=MultivariateConfig(**d["hazard"]) if "hazard" in d else HAZARD_CONFIG,
            water=MultivariateConfig(**d["water"]) if "water" in d else WATER_CONFIG,
            veto_faults=tuple(d.get("veto_faults", LiveAssetConfig.veto_faults)),
            **more,
        )


@dataclass
class AssetSlot:
    """One watched asset: its sensors (dense indices, in column order) and live state."""

    asset_id: str
    kind: str  # "hazard" | "water"
    name_zh: str
    name_en: str
    sensors: IntArray
    variable_names: list[str]
    period_ms: int
    offset: int  # first column in the flat per-column arrays
    lon: float
    lat: float
    district: str
    grade: int = 0  # hazard source R grade (0: water zone), bumps the alert level
    detector: AssetDetector | None = None
    used: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # columns modelled
    buffer: list[FloatArray] = field(default_factory=list)
    buffer_ts: list[int] = field(default_factory=list)
    alarm: bool = False
    alert_id: str = ""
    alert_level: int = 0
    alert_ts: int = 0
    alert_peak: float = 0.0  # the open alert's largest statistic (its value)
    rows_scored: int = 0


def _gcd(values: list[int]) -> int:
    g = 0
    for v in values:
        g = math.gcd(g, int(v))
    return max(g, 1)


class LiveAssetDetectors:
    """The engine worker's per-asset multivariate step: ``step(batch, idx, scores)``.

    Parameters
    ----------
    city : the :class:`~config.city.city.City` (hazard sources, water zones, registry).
    state : where ``asset:<id>`` documents go.
    config : :class:`LiveAssetConfig`.
    alerts : an :class:`~alerts.lifecycle.AlertService` (or None: documents only).
    """

    def __init__(
        self,
        city: Any,
        state: StateStore,
        config: LiveAssetConfig | None = None,
        alerts: AlertService | None = None,
    ) -> None:
        self.cfg = config or LiveAssetConfig()
        self.state = state
        self.alerts = alerts
        self.registry = city.registry
        self.assets: list[AssetSlot] = self._group(city)
        n = len(self.registry)
        self.col_of = np.full(n, -1, np.int64)
        for a in self.assets:
            self.col_of[a.sensors] = a.offset + np.arange(a.sensors.size)
        width = sum(a.sensors.size for a in self.assets)
        self.period_s = np.ones(width)
        for a in self.assets:
            self.period_s[a.offset : a.offset + a.sensors.size] = self.registry.period_s[a.sensors]
        self.period_s = np.maximum(self.period_s, 1e-3)
        self._settings()
        #: per column innovation state (:mod:`models.anomaly.innovation_kernel`)
        self.inno = np.zeros((ik.N_STATE, width))
        self.inno[ik.S_Z] = np.nan
        self.base_ms = _gcd([a.period_ms for a in self.assets]) if self.assets else 1000
        self.next_boundary = -1  # stream time of the next row boundary (-1: not started)
        self.fits = 0
        self.batches = 0

    # ------------------------------------------------------------------ grouping
    def _group(self, city: Any) -> list[AssetSlot]:
        reg = self.registry
        by_key: dict[str, list[int]] = {}
        for i, s in enumerate(reg.sensors):
            if s.domain == "hazard" and s.asset_id:
                by_key.setdefault(s.asset_id, []).append(i)
            elif s.domain == "water":
                zone = (s.meta or {}).get("zone")
                if isinstance(zone, str) and zone:
                    by_key.setdefault(zone, []).append(i)
        out: list[AssetSlot] = []
        offset = 0
        kinds: list[tuple[str, str, str, str, int]] = [
            (h.source_id, "hazard", h.name_zh, h.name_en, int(h.grade)) for h in city.hazard_sources
        ]
        kinds += [(z.zone_id, "water", z.name_zh, z.name_en, 0) for z in city.water.zones]
        for aid, kind, zh, en, grade in kinds:
            members = np.array(by_key.get(aid, []), np.int64)
            if members.size < 2:
                continue
            sensors = [reg.sensors[int(i)] for i in members]
            period_s = min(s.period_s for s in sensors)
            districts = [s.district for s in sensors if s.district]
            out.append(
                AssetSlot(
                    aid,
                    kind,
                    zh,
                    en,
                    members,
                    [s.sensor_id for s in sensors],
                    int(period_s) * 1000,
                    offset,
                    float(np.mean([s.lon for s in sensors])),
                    float(np.mean([s.lat for s in sensors])),
                    max(set(districts), key=districts.count) if districts else "",
                    grade,
                )
            )
            offset += members.size
        return out

    def _settings(self) -> None:
        """Per-column smoothing weights per reading and stale ages (ms), fault codes vetoed."""
        cfg = self.cfg
        self.alpha = 1.0 - np.exp(-self.period_s / max(cfg.baseline_tau_s, 1e-9))
        self.beta = 1.0 - np.exp(-self.period_s / max(cfg.spread_tau_s, 1e-9))
        self.stale_ms = self.period_s * 1000.0 * cfg.stale_periods
        self.veto = np.array(
            [c for c, name in FAULT_NAMES.items() if c and name in cfg.veto_faults], np.int8
        )

    def asset(self, asset_id: str) -> AssetSlot:
        for a in self.assets:
            if a.asset_id == asset_id:
                return a
        raise KeyError(asset_id)

    def _mv_config(self, a: AssetSlot) -> MultivariateConfig:
        return self.cfg.hazard if a.kind == "hazard" else self.cfg.water

    # ------------------------------------------------------------------ the step
    def __call__(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch) -> None:
        self.process(batch, idx, scores)

    def process(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch | None = None) -> None:
        """Fold a validated batch into the per-asset rows; close, fit and score due rows."""
        if len(batch) == 0 or not self.assets:
            return
        self.batches += 1
        idx = np.asarray(idx, np.int64)
        col = self.col_of[idx]
        ok = (col >= 0) & np.isfinite(batch.values) & (batch.quality != QUALITY_BAD)
        if scores is not None and self.veto.size:
            ok &= ~np.isin(scores.fault, self.veto)
        now = int(batch.ts.max())
        sel = np.flatnonzero(ok)
        order = sel[np.argsort(batch.ts[sel], kind="stable")]
        c, v, t = col[order], batch.values[order], batch.ts[order]
        if self.next_boundary < 0:
            self.next_boundary = (int(batch.ts.min()) // self.base_ms + 1) * self.base_ms
        n_b = (now - self.next_boundary) // self.base_ms + 1 if now >= self.next_boundary else 0
        if n_b > self.cfg.max_rows_per_batch:  # long gap: rows in it would all repeat
            skip = n_b - self.cfg.max_rows_per_batch
            self.next_boundary += skip * self.base_ms
            n_b -= skip
        bounds = self.next_boundary + self.base_ms * np.arange(n_b, dtype=np.int64)
        cut = np.searchsorted(t, bounds, "left")
        rows: dict[int, tuple[list[FloatArray], list[int]]] = {}
        start = 0
        for b in range(n_b):
            self._apply(c[start : cut[b]], v[start : cut[b]], t[start : cut[b]])
            start = int(cut[b])
            bt = int(bounds[b])
            for k, a in enumerate(self.assets):
                if bt % a.period_ms == 0:
                    got = rows.setdefault(k, ([], []))
                    got[0].append(self._row(a, bt))
                    got[1].append(bt)
        self._apply(c[start:], v[start:], t[start:])
        if n_b:
            self.next_boundary = int(bounds[-1]) + self.base_ms
        fits_left = self.cfg.fits_per_batch
        for k, (rs, ts) in rows.items():
            a = self.assets[k]
            if a.detector is None:
                a.buffer.extend(rs)
                a.buffer_ts.extend(ts)
                if fits_left > 0 and ts[-1] - a.buffer_ts[0] >= self.cfg.fit_after_s * 1000:
                    fits_left -= self._fit(a)
                continue
            self._score(a, np.vstack(rs), np.array(ts, np.int64))

    def _apply(self, c: IntArray, v: FloatArray, t: IntArray) -> None:
        """Advance the columns' baselines by a time-ordered chunk of readings."""
        if c.size == 0:
            return
        ik.robust_innovations(
            c,
            v,
            t,
            self.alpha,
            self.beta,
            self.cfg.huber_k,
            self.cfg.rel_floor,
            self.cfg.min_count,
            self.inno,
        )

    def _row(self, a: AssetSlot, bt: int) -> FloatArray:
        """The asset's row at boundary ``bt``: latest innovations, NaN where none is fresh."""
        sl = slice(a.offset, a.offset + a.sensors.size)
        z = self.inno[ik.S_Z, sl]
        fresh = (bt - self.inno[ik.S_TS, sl]) <= self.stale_ms[sl]
        return np.where(fresh, z, np.nan)

    # ------------------------------------------------------------------ fitting
    def _fit(self, a: AssetSlot) -> int:
        """Fit ``a`` from its buffer; returns 1 when a fit was attempted (budget), else 0."""
        x = np.vstack(a.buffer)
        seen = np.isfinite(x).mean(axis=0)
        used = np.flatnonzero(seen >= self.cfg.min_seen_fraction).astype(np.int64)
        mv = self._mv_config(a)
        keep_rows = np.isfinite(x[:, used]).all(axis=1) if used.size else np.zeros(0, bool)
        if used.size < 2 or keep_rows.sum() < mv.folds * (mv.lags + 10):
            self._trim(a)
            return 0
        names = [a.variable_names[int(j)] for j in used]
        # the first baseline time constant of rows: spreads still settling
        skip = min(int(self.cfg.baseline_tau_s * 1000 // a.period_ms), x.shape[0] // 3)
        # one BLAS thread: the engine worker shares its cores (simulator, web, other workers),
        # and a multi-threaded BLAS on busy cores stalls the batch several-fold
        with threadpool_limits(1, user_api="blas"):
            a.detector = AssetDetector(names, mv).fit(x[skip:, used])
        a.used = used
        a.buffer, a.buffer_ts = [], []
        self.fits += 1
        return 1

    def _trim(self, a: AssetSlot) -> None:
        """Keep only the newest ``fit_after_s`` of rows while an asset cannot be fitted yet."""
        horizon = a.buffer_ts[-1] - int(self.cfg.fit_after_s * 1000)
        k = int(np.searchsorted(np.array(a.buffer_ts), horizon, "left"))
        if k > 0:
            del a.buffer[:k]
            del a.buffer_ts[:k]

    # ------------------------------------------------------------------ scoring
    def _score(self, a: AssetSlot, x: FloatArray, ts: IntArray) -> None:
        det = a.detector
        assert det is not None
        out = det.detect_batch(np.nan_to_num(x[:, a.used], nan=0.0))
        a.rows_scored += ts.size
        alarm = out["alarm"].astype(bool)
        stat, score, top = out["statistic"], out["score"], out["top_vars"]
        contrib = out["contrib"]
        r = ts.size - 1
        # the explanation of the newest scored row (NaN rows are neutral: top -1)
        scored = np.flatnonzero(top[:, 0] >= 0)
        rr = int(scored[-1]) if scored.size else r
        tops = self._tops(a, top[rr], contrib[rr])
        self.state.put_json(
            f"asset:{a.asset_id}",
            {
                "asset_id": a.asset_id,
                "kind": a.kind,
                "name_zh": a.name_zh,
                "name_en": a.name_en,
                "ts": int(ts[rr]),
                "score": float(score[rr]),
                "statistic": float(stat[rr]),
                "alarm": bool(alarm[r]),
                "fitted": True,
                "top": tops,
            },
        )
        if self.alerts is not None:
            self._alerts(a, alarm, stat, top, contrib, ts, tops)
        a.alarm = bool(alarm[r])

    def _alerts(
        self,
        a: AssetSlot,
        alarm: npt.NDArray[np.bool_],
        stat: FloatArray,
        top: IntArray,
        contrib: FloatArray,
        ts: IntArray,
        tops: list[dict[str, Any]],
    ) -> None:
        """Raise, refresh and clear the asset's alert from one batch of latch states.

        Every raise and clear edge of the latch is honoured in order (a long batch may hold
        several); the alert's value is the peak statistic of its alarm.
        """
        n = alarm.size
        edges = np.flatnonzero(np.diff(np.r_[a.alarm, alarm].astype(np.int8))).tolist()
        if not edges:
            if alarm[-1]:  # still in alarm: refresh
                self._update(a, int(ts[-1]), float(stat.max()), tops)
            return
        if a.alarm and edges[0] > 0:  # the last rows of an alarm carried in
            a.alert_peak = max(a.alert_peak, float(stat[: edges[0]].max()))
        for k, e in enumerate(edges):
            if alarm[e]:
                end = edges[k + 1] if k + 1 < len(edges) else n
                run_tops = self._tops(a, top[e], contrib[e]) if top[e, 0] >= 0 else tops
                self._raise(a, int(ts[e]), float(stat[e:end].max()), run_tops)
            else:
                self._clear(a, int(ts[e]))

    def _tops(
        self, a: AssetSlot, top_row: IntArray, contrib_row: FloatArray
    ) -> list[dict[str, Any]]:
        det = a.detector
        assert det is not None
        return [
            {"sensor_id": det.variable_names[int(j)], "share": round(float(contrib_row[j]), 4)}
            for j in top_row[: self.cfg.top_k]
            if j >= 0
        ]

    # ------------------------------------------------------------------ alerts
    @property
    def _service(self) -> AlertService:
        assert self.alerts is not None  # alert methods run only with a service
        return self.alerts

    def _level(self, a: AssetSlot, stat: float) -> int:
        """Emergency level from the ``asset_anomaly`` rule's ranks and the hazard R grade."""
        rules = self._service.rules
        rule = rules.rules.get(ALERT_TYPE)
        p = {**DEFAULT_RULE, **(rule.params if rule is not None else {})}
        severe = stat >= float(p["severe_statistic"])
        rank = int(p["severe_rank"] if severe else p["rank"])
        return int(rules.level_for(rank, hazard_grade=a.grade))

    def _texts(self, a: AssetSlot, tops: list[dict[str, Any]]) -> dict[str, str]:
        names = "、".join(t["sensor_id"] for t in tops) or "—"
        names_en = ", ".join(t["sensor_id"] for t in tops) or "—"
        shares = ", ".join(f"{t['sensor_id']} {100 * t['share']:.0f}%" for t in tops)
        what_zh = "危险源多变量异常" if a.kind == "hazard" else "供水分区多变量异常"
        what_en = (
            "Multivariate anomaly at hazard source"
            if a.kind == "hazard"
            else "Multivariate anomaly in water zone"
        )
        return {
            "title_zh": f"{what_zh} · {a.name_zh}（{a.asset_id}）：{names}",
            "title_en": f"{what_en} {a.name_en} ({a.asset_id}): {names_en}",
            "detail_zh": f"多个传感器同时偏离其联合正常状态；主要贡献：{shares}",
            "detail_en": f"Several of its sensors left their joint normal together; "
            f"top contributors: {shares}",
        }

    def _raise(self, a: AssetSlot, ts: int, stat: float, tops: list[dict[str, Any]]) -> None:
        from alerts.model import Alert

        level = self._level(a, stat)
        tx = self._texts(a, tops)
        draft = Alert.new(
            "",
            ALERT_TYPE,
            "city",
            a.asset_id,
            level,
            tx["title_zh"],
            tx["title_en"],
            tuple(t["sensor_id"] for t in tops),
            a.lon,
            a.lat,
            a.district,
            ts,
            detail_zh=tx["detail_zh"],
            detail_en=tx["detail_en"],
            value=stat,
        )
        got = self._service.raise_alert(draft)
        a.alert_id, a.alert_level, a.alert_ts, a.alert_peak = got.id, got.level, ts, stat

    def _update(self, a: AssetSlot, ts: int, stat: float, tops: list[dict[str, Any]]) -> None:
        peak = max(a.alert_peak, stat)
        level = min(a.alert_level, self._level(a, peak))  # the level only goes up while open
        if level == a.alert_level and ts - a.alert_ts < self.cfg.update_every_s * 1000:
            a.alert_peak = peak
            return
        if not a.alert_id:
            return
        got = self._service.engine_update(
            a.alert_id, ts, level=level, value=peak, **self._texts(a, tops)
        )
        a.alert_level, a.alert_ts, a.alert_peak = level, ts, peak
        if got.state != "active":  # an operator cleared it: a new alarm raises a new alert
            a.alert_id = ""

    def _clear(self, a: AssetSlot, ts: int) -> None:
        if a.alert_id:
            got = self._service.get(a.alert_id)
            if a.alert_peak > got.value:  # the alarm's last rows peaked after the last refresh
                self._service.engine_update(a.alert_id, ts, value=a.alert_peak)
            self._service.auto_clear(a.alert_id, ts)
        a.alert_id, a.alert_level, a.alert_peak = "", 0, 0.0

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Snapshot: the sensors' innovation state, the row clock and every asset's state."""
        return {
            "config": {**asdict(self.cfg)},
            "innovations": self.inno.copy(),
            "next_boundary": self.next_boundary,
            "assets": {
                a.asset_id: {
                    "detector": a.detector.state_dict() if a.detector is not None else None,
                    "used": a.used.copy(),
                    "buffer": np.vstack(a.buffer) if a.buffer else None,
                    "buffer_ts": list(a.buffer_ts),
                    "alarm": a.alarm,
                    "alert_id": a.alert_id,
                    "alert_level": a.alert_level,
                    "alert_ts": a.alert_ts,
                    "alert_peak": a.alert_peak,
                }
                for a in self.assets
            },
        }

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (same city: assets unknown to the snapshot stay fresh)."""
        self.cfg = LiveAssetConfig.from_dict(d["config"])
        self._settings()
        inno = np.asarray(d["innovations"], np.float64)
        if inno.shape == self.inno.shape:
            self.inno[:] = inno
        self.next_boundary = int(d["next_boundary"])
        for a in self.assets:
            s = d["assets"].get(a.asset_id)
            if s is None:
                continue
            det = s["detector"]
            a.detector = None if det is None else AssetDetector([], None).load_state_dict(det)
            a.used = np.asarray(s["used"], np.int64)
            a.buffer = [] if s["buffer"] is None else list(np.asarray(s["buffer"], np.float64))
            a.buffer_ts = [int(x) for x in s["buffer_ts"]]
            a.alarm, a.alert_id = bool(s["alarm"]), str(s["alert_id"])
            a.alert_level, a.alert_ts = int(s["alert_level"]), int(s["alert_ts"])
            a.alert_peak = float(s.get("alert_peak", 0.0))

    def warm(self) -> None:
        """Compile (or load from the cache) the kernels on a tiny synthetic asset."""
        st = np.zeros((ik.N_STATE, 1))
        ik.robust_innovations(
            np.zeros(3, np.int64),
            np.ones(3),
            np.arange(3, dtype=np.int64),
            np.full(1, 0.1),
            np.full(1, 0.01),
            3.0,
            1e-3,
            2,
            st,
        )
        rng = np.random.default_rng(0)
        base = rng.normal(size=(200, 1))
        x = np.hstack([base, base + 0.1 * rng.normal(size=(200, 1)), rng.normal(size=(200, 1))])
        for mv in {
            self.cfg.hazard.lags: self.cfg.hazard,
            self.cfg.water.lags: self.cfg.water,
        }.values():
            det = AssetDetector(["a", "b", "c"], replace(mv, refresh=5)).fit(x)
            det.score_batch(x[:20])

    @property
    def fitted(self) -> int:
        return sum(a.detector is not None for a in self.assets)
