"""Live multivariate detectors, one per asset: each hazard source and each water zone.

Why: a single sensor can look normal while the relations between an asset's sensors break (a
tank's level falling while its pressure and the gas detectors beside it rise). This
``after_scoring`` step of the engine worker (:class:`streams.runtime.EngineStage`) groups the
sensors of each asset, turns the stream into one row per asset period (last value carried
forward per sensor, NaN until seen), learns each asset's normal structure from its first
``fit_after_s`` of stream time with an :class:`~models.anomaly.multivariate.AssetDetector`
(standardisation + dynamic PCA, gated adaptation) and then scores every new row. Each asset's
latest score, statistic and top contributing sensors go to the state store as ``asset:<id>``;
when the detector's own hysteresis latches an alarm the asset gets an ``asset_anomaly``
alert naming the top-3 sensors (zh and en), cleared automatically when it recovers.

Per batch the work is numpy over the batch (no per-reading Python); Python loops run per
closed row boundary and per asset (≈ 50 hazard sources + 10 zones at scale 1).

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
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from models.anomaly.multivariate import AssetDetector, MultivariateConfig
from streams.messages import QUALITY_BAD, ReadingBatch, ScoreBatch
from streams.state import StateStore

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

ALERT_TYPE = "asset_anomaly"

#: Hazard sources: 5-s rows, a few to ~30 sensors. One lag (tank dynamics), fast enough
#: adaptation (time constant 100 rows ≈ 8 min) to follow the ambient temperature's day
#: without learning a leak (updates are gated: never on rows over the limit).
HAZARD_CONFIG = MultivariateConfig(
    lags=1, variance_fraction=0.9, alpha=0.995, ewma_lambda=0.2, forget=0.01, refresh=50,
    raise_after=4, clear_after=24, folds=5,
)
#: Water zones: 10-s rows, up to ~180 sensors per zone at scale 1. Static PCA (the zone's
#: sensors move together with demand; lags would double an already wide row), adaptation
#: with a time constant of 100 rows ≈ 17 min to follow the demand's day.
WATER_CONFIG = MultivariateConfig(
    lags=0, variance_fraction=0.9, alpha=0.995, ewma_lambda=0.2, forget=0.01, refresh=50,
    raise_after=3, clear_after=18, folds=5,
)


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
    baseline_tau_s : time constant of each sensor's baseline (EW mean); the detector sees the
        rows minus their baselines, so the slow day cycle (demand, ambient temperature, tank
        filling) is not an anomaly while a leak or a burst (a change within minutes) is.
    alarm_slowdown : while the asset is in alarm its baselines move this many times slower, so
        a lasting fault stays visible (for about ``alarm_slowdown * baseline_tau_s``) but a
        drifting day cycle cannot hold an alarm forever.
    rel_floor : floor of a sensor's spread as a share of its typical magnitude (median of the
        warm-up): a very smooth signal (a tank level) must not alarm on a change of slope a
        few millimetres wide.
    level_iii_statistic : statistic (1 = limit) from which an alert is level III, else IV.
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
    alarm_slowdown: float = 10.0
    rel_floor: float = 0.01
    level_iii_statistic: float = 4.0
    update_every_s: float = 60.0
    top_k: int = 3

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> LiveAssetConfig:
        more = {k: v for k, v in d.items() if k not in ("hazard", "water")}
        return LiveAssetConfig(
            hazard=MultivariateConfig(**d["hazard"]) if "hazard" in d else HAZARD_CONFIG,
            water=MultivariateConfig(**d["water"]) if "water" in d else WATER_CONFIG,
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
    offset: int  # first column in the flat last-value array
    lon: float
    lat: float
    district: str
    detector: AssetDetector | None = None
    used: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # columns modelled
    buffer: list[FloatArray] = field(default_factory=list)
    buffer_ts: list[int] = field(default_factory=list)
    baseline: FloatArray = field(default_factory=lambda: np.zeros(0))
    floor: FloatArray = field(default_factory=lambda: np.zeros(0))  # per modelled column
    alarm: bool = False
    alert_id: str = ""
    alert_level: int = 0
    alert_ts: int = 0
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

    def __init__(self, city: Any, state: StateStore, config: LiveAssetConfig | None = None,
                 alerts: Any | None = None) -> None:
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
        self.last = np.full(width, np.nan)
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
        kinds: list[tuple[str, str, str, str]] = [
            (h.source_id, "hazard", h.name_zh, h.name_en) for h in city.hazard_sources]
        kinds += [(z.zone_id, "water", z.name_zh, z.name_en) for z in city.water.zones]
        for aid, kind, zh, en in kinds:
            members = np.array(by_key.get(aid, []), np.int64)
            if members.size < 2:
                continue
            sensors = [reg.sensors[int(i)] for i in members]
            period_s = min(s.period_s for s in sensors)
            districts = [s.district for s in sensors if s.district]
            out.append(AssetSlot(
                aid, kind, zh, en, members, [s.sensor_id for s in sensors],
                int(period_s) * 1000, offset,
                float(np.mean([s.lon for s in sensors])), float(np.mean([s.lat for s in sensors])),
                max(set(districts), key=districts.count) if districts else "",
                baseline=np.full((2, members.size), np.nan),
            ))
            offset += members.size
        return out

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

    def process(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch | None = None
                ) -> None:
        """Fold a validated batch into the per-asset rows; close, fit and score due rows."""
        if len(batch) == 0 or not self.assets:
            return
        self.batches += 1
        idx = np.asarray(idx, np.int64)
        col = self.col_of[idx]
        ok = (col >= 0) & np.isfinite(batch.values) & (batch.quality != QUALITY_BAD)
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
            self._apply(c[start:cut[b]], v[start:cut[b]])
            start = int(cut[b])
            bt = int(bounds[b])
            for k, a in enumerate(self.assets):
                if bt % a.period_ms == 0:
                    got = rows.setdefault(k, ([], []))
                    got[0].append(self.last[a.offset:a.offset + a.sensors.size].copy())
                    got[1].append(bt)
        self._apply(c[start:], v[start:])
        if n_b:
            self.next_boundary = int(bounds[-1]) + self.base_ms
        fits_left = self.cfg.fits_per_batch
        for k, (rs, ts) in rows.items():
            a = self.assets[k]
            x = np.vstack(rs)
            if a.detector is None:
                a.buffer.extend(rs)
                a.buffer_ts.extend(ts)
                if fits_left > 0 and ts[-1] - a.buffer_ts[0] >= self.cfg.fit_after_s * 1000:
                    fits_left -= self._fit(a)
                continue
            self._score(a, x, np.array(ts, np.int64))

    def _apply(self, c: IntArray, v: FloatArray) -> None:
        """Last value per column of a time-ordered chunk into the flat last-value array."""
        if c.size == 0:
            return
        u, first_rev = np.unique(c[::-1], return_index=True)
        self.last[u] = v[::-1][first_rev]

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
        dev = self._deviations(a, x, slow=False)
        skip = min(int(self.cfg.baseline_tau_s * 1000 // a.period_ms), x.shape[0] // 3)
        med = np.nanmedian(np.abs(x[:, used]), axis=0)
        a.floor = np.maximum(self.cfg.rel_floor * med, 1e-9)
        # deviations in floor units with min_scale 1: the detector's scale is max(std, floor)
        a.detector = AssetDetector(names, replace(mv, min_scale=1.0)).fit(
            dev[skip:, used] / a.floor)
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
        out = det.detect_batch(self._deviations(a, x, slow=a.alarm)[:, a.used] / a.floor)
        a.rows_scored += ts.size
        alarm = out["alarm"].astype(bool)
        stat, score, top = out["statistic"], out["score"], out["top_vars"]
        contrib = out["contrib"]
        r = ts.size - 1
        # the explanation of the newest scored row (NaN rows are neutral: top -1)
        scored = np.flatnonzero(top[:, 0] >= 0)
        rr = int(scored[-1]) if scored.size else r
        tops = self._tops(a, top[rr], contrib[rr])
        self.state.put_json(f"asset:{a.asset_id}", {
            "asset_id": a.asset_id, "kind": a.kind, "name_zh": a.name_zh, "name_en": a.name_en,
            "ts": int(ts[rr]), "score": float(score[rr]), "statistic": float(stat[rr]),
            "alarm": bool(alarm[r]), "fitted": True, "top": tops,
        })
        if self.alerts is None:
            a.alarm = bool(alarm[r])
            return
        if alarm[r] and not a.alarm:
            on = int(np.flatnonzero(alarm)[0])
            self._raise(a, int(ts[on]), float(stat[on:].max()),
                        self._tops(a, top[on], contrib[on]) if top[on, 0] >= 0 else tops)
        elif alarm[r] and a.alarm:
            self._update(a, int(ts[r]), float(stat.max()), tops)
        elif not alarm[r] and a.alarm:
            off = int(np.flatnonzero(~alarm)[0])
            self._clear(a, int(ts[off]))
        a.alarm = bool(alarm[r])

    def _deviations(self, a: AssetSlot, x: FloatArray, slow: bool) -> FloatArray:
        """Rows minus each sensor's lag-free baseline, advancing the baseline.

        Brown's double exponential smoothing: s1 = EW(x), s2 = EW(s1), level = 2 s1 - s2 follows
        a steady trend (a tank filling, the morning demand rise) without lag, so only a change
        faster than ``baseline_tau_s`` leaves a deviation.
        """
        tau = max(self.cfg.baseline_tau_s, 1e-9) * (self.cfg.alarm_slowdown if slow else 1.0)
        alpha = 1.0 - math.exp(-a.period_ms / 1000.0 / tau)
        s1, s2 = a.baseline[0], a.baseline[1]
        out = np.empty_like(x)
        for r in range(x.shape[0]):
            row = x[r]
            fresh = np.isnan(s1) & np.isfinite(row)
            s1[fresh] = row[fresh]
            s2[fresh] = row[fresh]
            out[r] = row - (2.0 * s1 - s2)
            ok = np.isfinite(row)
            np.add(s1, alpha * (row - s1), out=s1, where=ok)
            np.add(s2, alpha * (s1 - s2), out=s2, where=ok)
        return out

    def _tops(self, a: AssetSlot, top_row: IntArray, contrib_row: FloatArray
              ) -> list[dict[str, Any]]:
        det = a.detector
        assert det is not None
        return [{"sensor_id": det.variable_names[int(j)], "share": round(float(contrib_row[j]), 4)}
                for j in top_row[: self.cfg.top_k] if j >= 0]

    # ------------------------------------------------------------------ alerts
    def _level(self, stat: float) -> int:
        return 3 if stat >= self.cfg.level_iii_statistic else 4

    def _texts(self, a: AssetSlot, tops: list[dict[str, Any]]) -> dict[str, str]:
        names = "、".join(t["sensor_id"] for t in tops) or "—"
        names_en = ", ".join(t["sensor_id"] for t in tops) or "—"
        shares = ", ".join(f"{t['sensor_id']} {100 * t['share']:.0f}%" for t in tops)
        what_zh = "危险源多变量异常" if a.kind == "hazard" else "供水分区多变量异常"
        what_en = ("Multivariate anomaly at hazard source" if a.kind == "hazard"
                   else "Multivariate anomaly in water zone")
        return {
            "title_zh": f"{what_zh} · {a.name_zh}（{a.asset_id}）：{names}",
            "title_en": f"{what_en} {a.name_en} ({a.asset_id}): {names_en}",
            "detail_zh": f"传感器之间的关系偏离正常；主要贡献：{shares}",
            "detail_en": f"Relations between its sensors left normal; top contributors: {shares}",
        }

    def _raise(self, a: AssetSlot, ts: int, stat: float, tops: list[dict[str, Any]]) -> None:
        from alerts.model import Alert

        level = self._level(stat)
        tx = self._texts(a, tops)
        draft = Alert.new(
            "", ALERT_TYPE, "city", a.asset_id, level, tx["title_zh"], tx["title_en"],
            tuple(t["sensor_id"] for t in tops), a.lon, a.lat, a.district, ts,
            detail_zh=tx["detail_zh"], detail_en=tx["detail_en"], value=stat,
        )
        got = self.alerts.raise_alert(draft)  # type: ignore[union-attr]
        a.alert_id, a.alert_level, a.alert_ts = got.id, level, ts

    def _update(self, a: AssetSlot, ts: int, stat: float, tops: list[dict[str, Any]]) -> None:
        level = min(a.alert_level, self._level(stat))  # the level only goes up while open
        if level == a.alert_level and ts - a.alert_ts < self.cfg.update_every_s * 1000:
            return
        if not a.alert_id:
            return
        got = self.alerts.engine_update(a.alert_id, ts, level=level, value=stat,  # type: ignore[union-attr]
                                        **self._texts(a, tops))
        a.alert_level, a.alert_ts = level, ts
        if got.state != "active":  # an operator cleared it: a new alarm raises a new alert
            a.alert_id = ""

    def _clear(self, a: AssetSlot, ts: int) -> None:
        if a.alert_id:
            self.alerts.auto_clear(a.alert_id, ts)  # type: ignore[union-attr]
        a.alert_id, a.alert_level = "", 0

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, Any]:
        """Snapshot: carried-forward values, the row clock and every asset's state."""
        return {
            "config": {**asdict(self.cfg)},
            "last": self.last.copy(),
            "next_boundary": self.next_boundary,
            "assets": {
                a.asset_id: {
                    "detector": a.detector.state_dict() if a.detector is not None else None,
                    "used": a.used.copy(),
                    "baseline": a.baseline.copy(),
                    "floor": a.floor.copy(),
                    "buffer": np.vstack(a.buffer) if a.buffer else None,
                    "buffer_ts": list(a.buffer_ts),
                    "alarm": a.alarm, "alert_id": a.alert_id, "alert_level": a.alert_level,
                    "alert_ts": a.alert_ts,
                } for a in self.assets
            },
        }

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (same city: assets unknown to the snapshot stay fresh)."""
        self.cfg = LiveAssetConfig.from_dict(d["config"])
        last = np.asarray(d["last"], np.float64)
        if last.shape == self.last.shape:
            self.last[:] = last
        self.next_boundary = int(d["next_boundary"])
        for a in self.assets:
            s = d["assets"].get(a.asset_id)
            if s is None:
                continue
            det = s["detector"]
            a.detector = None if det is None else AssetDetector([], None).load_state_dict(det)
            a.used = np.asarray(s["used"], np.int64)
            a.baseline = np.asarray(s["baseline"], np.float64).copy()
            a.floor = np.asarray(s["floor"], np.float64).copy()
            a.buffer = [] if s["buffer"] is None else list(np.asarray(s["buffer"], np.float64))
            a.buffer_ts = [int(x) for x in s["buffer_ts"]]
            a.alarm, a.alert_id = bool(s["alarm"]), str(s["alert_id"])
            a.alert_level, a.alert_ts = int(s["alert_level"]), int(s["alert_ts"])

    def warm(self) -> None:
        """Compile (or load from the cache) the detector kernels on a tiny synthetic asset."""
        rng = np.random.default_rng(0)
        base = rng.normal(size=(200, 1))
        x = np.hstack([base, base + 0.1 * rng.normal(size=(200, 1)), rng.normal(size=(200, 1))])
        for mv in {self.cfg.hazard.lags: self.cfg.hazard, self.cfg.water.lags: self.cfg.water
                   }.values():
            det = AssetDetector(["a", "b", "c"], replace(mv, refresh=5)).fit(x)
            det.score_batch(x[:20])

    @property
    def fitted(self) -> int:
        return sum(a.detector is not None for a in self.assets)
