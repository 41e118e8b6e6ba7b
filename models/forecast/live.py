"""Live forecasts and early warnings: the engine worker's forecasting ``after_scoring`` step.

Why a step of its own: the anomaly engine scores every reading at its own rate (5–60 s), but
forecasts are made per *period* (5 min traffic, 1 h air, 15 min water) and only for the few
metrics someone acts on — forecasting every sensor would cost ~40 KB of state per sensor for
nothing. So this step

1. picks the sensors of a few *targets* (traffic speed, air PM2.5/O₃, tank level, node demand)
   from the registry by metric, each target with its own period and horizon
   (:data:`~models.forecast.config.DOMAIN_HORIZONS`) and one
   :class:`~models.forecast.streaming.StreamingForecaster`;
2. averages the readings into period bins (numpy ``bincount`` over the batch; flagged readings —
   fault codes, very high anomaly scores, bad quality — stay out of the mean, and a bin with
   only flagged readings is passed as ``skip``; a bin with none is NaN = dropout). Bins close on
   *stream time* (newest reading + ``lateness_s``), so a silent sensor still gets its NaN bin;
3. feeds the closed bins with one ``update_batch`` per target, forecasts the target's rows,
   writes ``forecast:<sensor_id>`` (and ``forecast:kpi.tpi`` / ``forecast:kpi.aqi``) documents in
   the shape :func:`dashboard.push.parse_band` reads, and hands early warnings (PM2.5/O₃ above
   the IAQI-200 concentration, tank below its minimum level, speed into the 严重拥堵 band of the
   road class) to the alert engine's ``forecast_warnings``.

Bins are labelled by their *end* time (the mean of ``[k·P, (k+1)·P)`` is stamped
``(k+1)·P``), like an hour-ending AQI; a document's ``t0`` is the last closed bin and step ``h``
is at ``t0 + h·step_ms``.

>>> from config.city.registry import Sensor, SensorRegistry
>>> from streams.messages import ReadingBatch, ScoreBatch
>>> from streams.state.memory import MemoryStateStore
>>> reg = SensorRegistry([Sensor("T1", "water", "tank_level", "m", 119.3, 26.1, "350102", "",
...                              0.0, 6.0, "WT-1", 30, {"min_level_m": 1.0})])
>>> live = LiveForecasts(reg, MemoryStateStore(clock=lambda: 0))
>>> ts = np.arange(0, 4 * 900_000, 30_000, dtype=np.int64)
>>> n = ts.size
>>> live(ReadingBatch(("T1",) * n, np.full(n, 3.0), ts), np.zeros(n, np.int64),
...      ScoreBatch(("T1",) * n, ts, np.zeros(n), np.zeros(n, np.int8)))
>>> live.counts["bins_closed"]  # three bins closed by stream time, the fourth is still open
3
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from config.city.registry import SensorRegistry
from models.forecast.config import DOMAIN_HORIZONS, ForecastConfig
from models.forecast.streaming import StreamingForecaster
from models.forecast.warnings import ABOVE, BELOW, EarlyWarning, early_warnings
from models.indices.aqi_china import china_iaqi_array
from models.indices.aqi_china_tables import breakpoints
from models.indices.traffic import SPEED_THRESHOLDS, tpi_from_times
from streams.messages import QUALITY_BAD, ReadingBatch, ScoreBatch
from streams.state import StateStore

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Where early warnings go: ``AlertEngine.forecast_warnings(idx, warning, origin_ts)``.
WarningSink = Callable[[IntArray, EarlyWarning, int], None]

#: Warning kinds a target may carry (thresholds come from the registry or the standards).
WARN_NONE = ""
WARN_IAQI_200 = "iaqi_200"  #: concentration at IAQI 200 (重度污染 begins), rising above
WARN_TANK_MIN = "tank_min"  #: the tank's ``min_level_m``, falling below
WARN_SEVERE_SPEED = "severe_speed"  #: the 严重拥堵 speed of the road class, falling below

#: 1-h averaging keys of the air metrics (as the wall computes hourly AQI)
AIR_KEYS = {"pm25": "pm25_1h", "pm10": "pm10_1h", "so2": "so2_1h", "no2": "no2_1h",
            "co": "co_1h", "o3": "o3_1h"}


@dataclass(frozen=True)
class ForecastTarget:
    """One group of forecast sensors: same period and horizon, one forecaster, one warning.

    ``horizon`` names an entry of :data:`~models.forecast.config.DOMAIN_HORIZONS`.
    """

    name: str
    domain: str
    metrics: tuple[str, ...]
    horizon: str
    warn: str = WARN_NONE


def default_targets() -> tuple[ForecastTarget, ...]:
    """Traffic speed (5 min, 1 h ahead), PM2.5 and O₃ (1 h, 24 h), tank level and node demand
    (15 min, 24 h)."""
    return (
        ForecastTarget("traffic", "traffic", ("speed",), "traffic", WARN_SEVERE_SPEED),
        ForecastTarget("air", "air", ("pm25", "o3"), "air", WARN_IAQI_200),
        ForecastTarget("tank", "water", ("tank_level",), "tank_level", WARN_TANK_MIN),
        ForecastTarget("demand", "water", ("flow",), "water_demand"),
    )


@dataclass(frozen=True)
class LiveForecastConfig:
    """Settings of :class:`LiveForecasts`.

    Parameters
    ----------
    targets
        What to forecast (see :func:`default_targets`).
    lateness_s
        A bin closes once stream time passes its end by this much (readings later than that
        are dropped); must be below the shortest period.
    skip_score
        Readings with an anomaly score at or above this stay out of the bins (fault codes and
        bad quality always do). High on purpose: a real episode (smog, a draining tank) scores
        high too, and the forecaster's own robust updates handle moderate outliers.
    doc_ttl_periods
        ``forecast:*`` documents expire after this many periods without a refresh.
    aqi_edition
        HJ 633 edition of the IAQI breakpoints (warning thresholds, AQI KPI).
    forecast
        :class:`~models.forecast.config.ForecastConfig` of every forecaster.
    publish_docs
        Write the per-sensor documents (the KPI bands and warnings are always produced).
    values_per_batch
        Per-sensor documents are written a few per processed batch (none in a batch that closed
        bins) until their numbers (3 × horizon each) reach this budget; the rest wait for the
        next batches. A bin close of 1 000+ speed sensors would otherwise put ~15 ms of JSON into
        one batch; spread out, the wall sees a 5-min forecast a few seconds later.
    """

    targets: tuple[ForecastTarget, ...] = field(default_factory=default_targets)
    lateness_s: float = 30.0
    skip_score: float = 0.999
    doc_ttl_periods: float = 2.5
    aqi_edition: str = "2026"
    forecast: ForecastConfig = field(default_factory=ForecastConfig)
    publish_docs: bool = True
    values_per_batch: int = 4000
    targets_per_batch: int = 1


def iaqi_concentration(key: str, iaqi: float, edition: str = "2026") -> float:
    """Concentration at which ``key`` reaches ``iaqi`` (linear between breakpoints).

    >>> iaqi_concentration("pm25_1h", 200.0)
    150.0
    """
    conc, levels = breakpoints(key, edition)  # type: ignore[arg-type]
    return float(np.interp(iaqi, levels, conc))


def _threshold(target: ForecastTarget, sensor: Any, edition: str) -> float:
    """Per-sensor warning threshold (NaN = this sensor never warns)."""
    meta = sensor.meta or {}
    if target.warn == WARN_IAQI_200 and sensor.metric in AIR_KEYS:
        return iaqi_concentration(AIR_KEYS[sensor.metric], 200.0, edition)
    if target.warn == WARN_TANK_MIN and "min_level_m" in meta:
        return float(meta["min_level_m"])
    if target.warn == WARN_SEVERE_SPEED and meta.get("road_class") in SPEED_THRESHOLDS:
        return SPEED_THRESHOLDS[str(meta["road_class"])][3]
    return float("nan")


class _TargetBins:
    """Bins, row map and forecaster of one target (rows assigned on a sensor's first reading,
    so a worker only holds the sensors of its own partitions)."""

    def __init__(self, target: ForecastTarget, cfg: LiveForecastConfig) -> None:
        hz = DOMAIN_HORIZONS[target.horizon]
        self.target = target
        self.period_ms = int(hz.period_s * 1000)
        if cfg.lateness_s * 1000 >= self.period_ms:
            raise ValueError("lateness_s must be shorter than every target's period")
        self.direction = BELOW if target.warn in (WARN_TANK_MIN, WARN_SEVERE_SPEED) else ABOVE
        self.fc = StreamingForecaster(1, hz.period_s, hz.horizon(), cfg.forecast)
        self.n = 0
        self.dense = np.zeros(0, np.int64)  # row -> registry index
        self.thr = np.zeros(0)  # row -> warning threshold
        self.last = np.zeros(0)  # row -> value of the last closed bin
        self.acc = np.zeros((2, 3, 0))  # [bin % 2, (sum, valid, seen), row]
        self.open_bin = -1  # oldest bin still open (-1 before the first reading)
        self.closed: list[tuple[int, FloatArray, npt.NDArray[np.uint8]]] = []  # not yet fed
        # documents still to write: (rows, yhat, lo, hi, origin), a cursor into rows
        self.pending: tuple[IntArray, FloatArray, FloatArray, FloatArray, int] | None = None
        self.cursor = 0

    def grow(self, n: int) -> None:
        cap = self.dense.shape[0]
        if n <= cap:
            return
        new = max(n, 2 * cap, 16)
        pad = new - cap
        self.dense = np.concatenate([self.dense, np.full(pad, -1, np.int64)])
        self.thr = np.concatenate([self.thr, np.full(pad, np.nan)])
        self.last = np.concatenate([self.last, np.full(pad, np.nan)])
        self.acc = np.concatenate([self.acc, np.zeros((2, 3, pad))], axis=2)

    def add(self, rows: IntArray, bins: IntArray, val: FloatArray, ok: npt.NDArray[np.bool_],
            closed: list[tuple[int, FloatArray, npt.NDArray[np.uint8]]]) -> int:
        """Accumulate readings; bins pushed out of the two-bin window close into ``closed``.
        Returns the number of late readings dropped (their bin had closed already)."""
        if self.open_bin < 0:
            self.open_bin = int(bins.min())
        cap = self.dense.shape[0]
        late = 0
        for b in np.unique(bins).tolist():  # one or two distinct bins per batch, ascending
            m = bins == b
            if b < self.open_bin:
                late += int(m.sum())
                continue
            if b >= self.open_bin + 2:
                self.close_before(b - 1, closed)
            r = rows[m]
            good = ok[m]
            a = self.acc[b % 2]
            a[0] += np.bincount(r[good], weights=val[m][good], minlength=cap)
            a[1] += np.bincount(r[good], minlength=cap)
            a[2] += np.bincount(r, minlength=cap)
        return late

    def close_before(self, stop_bin: int,
                     closed: list[tuple[int, FloatArray, npt.NDArray[np.uint8]]]) -> None:
        """Close every open bin ``< stop_bin`` (at most two can hold readings)."""
        if self.open_bin < 0:
            return
        for b in range(self.open_bin, min(stop_bin, self.open_bin + 2)):
            a = self.acc[b % 2, :, : self.n]
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(a[1] > 0, a[0] / a[1], np.nan)
            skip = ((a[2] > 0) & (a[1] == 0)).astype(np.uint8)
            closed.append((b, mean, skip))
            self.acc[b % 2] = 0.0
        self.open_bin = max(self.open_bin, stop_bin)


class LiveForecasts:
    """The forecasting ``after_scoring`` step: bins → forecasts → documents and warnings.

    Parameters
    ----------
    registry
        The city's sensors; targets pick theirs by domain and metric.
    state
        Where ``forecast:*`` documents go.
    config
        :class:`LiveForecastConfig`.
    sink
        Called with ``(dense indices, EarlyWarning, origin ms)`` after each forecast of a target
        with a warning rule — pass ``AlertEngine.forecast_warnings``.
    segment_km
        Optional length (km) per registry index, the weight of a speed sensor in the city TPI
        (the wall weights by segment length); 1 for every sensor when omitted.
    """

    def __init__(self, registry: SensorRegistry, state: StateStore,
                 config: LiveForecastConfig | None = None, sink: WarningSink | None = None,
                 segment_km: FloatArray | None = None) -> None:
        self.registry = registry
        self.state = state
        self.config = cfg = config or LiveForecastConfig()
        self.sink = sink
        n = len(registry)
        self.groups = [_TargetBins(t, cfg) for t in cfg.targets]
        self.group_of = np.full(n, -1, np.int64)
        self.row_of = np.full(n, -1, np.int64)
        self.threshold = np.full(n, np.nan)
        for g, t in enumerate(cfg.targets):
            for i, s in enumerate(registry.sensors):
                if s.domain == t.domain and s.metric in t.metrics and self.group_of[i] < 0:
                    self.group_of[i] = g
                    self.threshold[i] = _threshold(t, s, cfg.aqi_edition)
        self.metric = np.array([s.metric for s in registry.sensors], dtype=str).reshape(n)
        self.free_kmh = np.array([float((s.meta or {}).get("free_speed_kmh", np.nan))
                                  for s in registry.sensors], np.float64).reshape(n)
        self.segment_km = (np.ones(n) if segment_km is None
                           else np.asarray(segment_km, np.float64).reshape(n))
        self.now_ms = -1
        self.counts: Counter[str] = Counter()

    @staticmethod
    def for_city(city: Any, state: StateStore, config: LiveForecastConfig | None = None,
                 sink: WarningSink | None = None) -> LiveForecasts:
        """A step whose city TPI weights speed sensors by their segment's length, as the wall."""
        reg = city.registry
        roads = city.roads
        seg_km = dict(zip(roads.seg_ids, np.asarray(roads.length_m, np.float64) / 1000.0,
                          strict=False))
        km = np.array([seg_km.get(s.asset_id, 1.0) for s in reg.sensors], np.float64)
        return LiveForecasts(reg, state, config, sink, km)

    # ------------------------------------------------------------------ the step
    def __call__(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch) -> None:
        self.process(batch, idx, scores)

    def process(self, batch: ReadingBatch, idx: IntArray, scores: ScoreBatch) -> None:
        """Bin this batch's readings, close due bins, forecast and publish what closed."""
        if len(batch) == 0:
            return
        idx = np.asarray(idx, np.int64)
        self.now_ms = max(self.now_ms, int(batch.ts.max()))
        grp = self.group_of[idx]
        sel = np.flatnonzero(grp >= 0)
        if sel.size:
            si, sg = idx[sel], grp[sel]
            val = batch.values[sel]
            ok = (np.isfinite(val) & (scores.fault[sel] == 0)
                  & ~(scores.score[sel] >= self.config.skip_score)
                  & (batch.quality[sel] != QUALITY_BAD))
            self._assign(si, sg)
            rows = self.row_of[si]
            bins_all = batch.ts[sel]
            for g in np.unique(sg).tolist():
                m = sg == g
                gb = self.groups[g]
                b = bins_all[m] // gb.period_ms
                self.counts["late_dropped"] += gb.add(rows[m], b, val[m], ok[m], gb.closed)
        late_ms = int(self.config.lateness_s * 1000)
        for gb in self.groups:
            gb.close_before((self.now_ms - late_ms) // gb.period_ms, gb.closed)
        due = [gb for gb in self.groups if gb.closed]
        for gb in due[: self.config.targets_per_batch]:
            self._feed(gb)
        if not due:  # a batch that closed bins has paid its share; documents start next batch
            self._write_docs(self.config.values_per_batch)

    def flush(self) -> None:
        """Feed every closed bin and write every pending document now (shutdown, tests)."""
        for gb in self.groups:
            if gb.closed:
                self._feed(gb)
        while any(gb.pending is not None for gb in self.groups):
            self._write_docs(max(1, self.config.values_per_batch))

    def _assign(self, si: IntArray, sg: IntArray) -> None:
        """Give sensors seen for the first time a row in their target's forecaster."""
        new = si[self.row_of[si] < 0]
        if new.size == 0:
            return
        new = np.unique(new)
        for g in np.unique(self.group_of[new]).tolist():
            ids = new[self.group_of[new] == g]
            gb = self.groups[g]
            rows = gb.n + np.arange(ids.size)
            gb.grow(gb.n + ids.size)
            gb.dense[rows] = ids
            gb.thr[rows] = self.threshold[ids]
            self.row_of[ids] = rows
            gb.n += ids.size
            gb.fc.ensure_capacity(gb.n)

    def _feed(self, gb: _TargetBins) -> None:
        """One ``update_batch`` with every closed bin of a target, then forecast its rows."""
        closed, gb.closed = gb.closed, []
        n = gb.n
        rows = np.arange(n, dtype=np.int64)
        k = len(closed)
        idx = np.concatenate([np.arange(c[1].size, dtype=np.int64) for c in closed])
        ts = np.concatenate([np.full(c[1].size, (c[0] + 1) * gb.period_ms, np.int64)
                             for c in closed])
        val = np.concatenate([c[1] for c in closed])
        skip = np.concatenate([c[2] for c in closed])
        gb.fc.update_batch(idx, val, ts, skip)
        gb.last[: closed[-1][1].size] = closed[-1][1]
        origin = int(ts[-1])
        self.counts["bins_closed"] += k
        self.counts["bin_values"] += int(np.isfinite(val).sum())
        self.counts["bin_skipped"] += int(skip.sum())
        yhat, lo, hi = gb.fc.forecast(rows)
        self._publish(gb, yhat, lo, hi, origin)
        if gb.target.warn and self.sink is not None:
            w = early_warnings(yhat, lo, hi, gb.thr[:n], gb.direction, gb.fc.period_s,
                               origin_ts=np.full(n, origin, np.int64), current=gb.last[:n])
            self.counts["warnings"] += int(w.fires.sum())
            self.sink(gb.dense[:n].copy(), w, origin)

    def learn_history(self, idx: IntArray, val: FloatArray, ts: IntArray) -> None:
        """Seed the forecasters with already-binned history (e.g. from an archive).

        ``ts`` are bin labels (bin end, epoch ms) on each target's period grid, all before the
        live stream; sensors outside every target are ignored. One ``update_batch`` per target.
        """
        idx = np.asarray(idx, np.int64)
        grp = self.group_of[idx]
        sel = grp >= 0
        if not sel.any():
            return
        idx, val, ts, grp = idx[sel], np.asarray(val, np.float64)[sel], \
            np.asarray(ts, np.int64)[sel], grp[sel]
        self._assign(idx, grp)
        for g in np.unique(grp).tolist():
            m = np.flatnonzero(grp == g)
            m = m[np.argsort(ts[m], kind="stable")]
            self.groups[g].fc.update_batch(self.row_of[idx[m]], val[m], ts[m])

    # ------------------------------------------------------------------ documents
    def _publish(self, gb: _TargetBins, yhat: FloatArray, lo: FloatArray, hi: FloatArray,
                 origin: int) -> None:
        ttl = self.config.doc_ttl_periods * gb.fc.period_s
        ready: npt.NDArray[np.bool_] = np.asarray(
            np.isfinite(yhat).all(axis=1) & np.isfinite(lo).all(axis=1)
            & np.isfinite(hi).all(axis=1), dtype=bool)
        if self.config.publish_docs and ready.any():
            r = np.flatnonzero(ready)
            gb.pending = (r, np.round(yhat[r], 3), np.round(lo[r], 3), np.round(hi[r], 3),
                          origin)  # a newer forecast supersedes what was not written yet
            gb.cursor = 0
        if gb.target.name == "traffic":
            self._kpi_tpi(gb, yhat, lo, hi, ready, origin, ttl)
        elif gb.target.name == "air":
            self._kpi_aqi(gb, yhat, lo, hi, ready, origin, ttl)

    def _write_docs(self, budget: int) -> None:
        """Write pending ``forecast:<sensor_id>`` documents worth ``budget`` numbers (at least
        one document)."""
        ids = self.registry.ids
        for gb in self.groups:
            if gb.pending is None or budget <= 0:
                continue
            rows, yhat, lo, hi, origin = gb.pending
            a = gb.cursor
            per_doc = 3 * yhat.shape[1]
            b = min(rows.size, a + max(1, budget // per_doc))
            ttl = self.config.doc_ttl_periods * gb.fc.period_s
            ys, ls, hs = (x[a:b].tolist() for x in (yhat, lo, hi))
            for j, row in enumerate(rows[a:b].tolist()):
                i = int(gb.dense[row])
                self.state.put_json(f"forecast:{ids[i]}", {
                    "sensor_id": ids[i], "metric": str(self.metric[i]), "t0": origin,
                    "step_ms": gb.period_ms, "yhat": ys[j], "lo": ls[j], "hi": hs[j],
                }, ttl_s=ttl)
            self.counts["docs"] += b - a
            budget -= (b - a) * per_doc
            gb.cursor = b
            if b >= rows.size:
                gb.pending = None

    def _kpi_doc(self, name: str, origin: int, step_ms: int, bands: list[FloatArray],
                 ttl: float) -> None:
        y, lo, hi = (np.round(b, 2) for b in bands)
        if not (np.isfinite(y).all() and np.isfinite(lo).all() and np.isfinite(hi).all()):
            return
        self.state.put_json(f"forecast:kpi.{name}", {
            "kpi": name, "t0": origin, "step_ms": step_ms, "yhat": y.tolist(),
            "lo": np.minimum(lo, y).tolist(), "hi": np.maximum(hi, y).tolist()}, ttl_s=ttl)
        self.counts["kpi_docs"] += 1

    def _kpi_tpi(self, gb: _TargetBins, yhat: FloatArray, lo: FloatArray, hi: FloatArray,
                 ready: npt.NDArray[np.bool_], origin: int, ttl: float) -> None:
        """City TPI from forecast speeds; a slower speed is a higher TPI, so the band's upper
        edge comes from the speeds' lower bound. The band averages per-segment bounds
        (fully correlated errors): wider than the true city interval, never narrower."""
        dense = gb.dense[: gb.n]
        free = self.free_kmh[dense]
        use = ready & np.isfinite(free) & (free > 0)
        if not use.any():
            return
        free, km = free[use], self.segment_km[dense[use]]

        def city(speed: FloatArray) -> FloatArray:
            v = np.maximum(speed, 0.5)  # a stopped-traffic floor keeps 1/speed finite
            seg = tpi_from_times(1.0 / v, 1.0 / free[:, None])
            # weighted_tpi per step, all steps at once (same rule: skip NaN, weight > 0)
            ok = np.isfinite(seg) & (km[:, None] > 0)
            w = np.where(ok, km[:, None], 0.0)
            tot = w.sum(axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(tot > 0, (w * np.where(ok, seg, 0.0)).sum(axis=0) / tot, np.nan)

        self._kpi_doc("tpi", origin, gb.period_ms,
                      [city(yhat[use]), city(hi[use]), city(lo[use])], ttl)

    def _kpi_aqi(self, gb: _TargetBins, yhat: FloatArray, lo: FloatArray, hi: FloatArray,
                 ready: npt.NDArray[np.bool_], origin: int, ttl: float) -> None:
        """AQI proxy: the highest IAQI of the forecast pollutants' city-mean concentrations
        (the wall's AQI uses all six; PM2.5 and O₃ drive most episodes)."""
        dense = gb.dense[: gb.n]
        out: list[FloatArray] = []
        for arr in (yhat, lo, hi):
            best = np.full(arr.shape[1], np.nan)
            for metric, key in AIR_KEYS.items():
                m = ready & (self.metric[dense] == metric)
                if m.any():
                    iaqi = china_iaqi_array(key, np.maximum(arr[m].mean(axis=0), 0.0),
                                            self.config.aqi_edition)  # type: ignore[arg-type]
                    best = np.fmax(best, iaqi)
            out.append(best)
        self._kpi_doc("aqi", origin, gb.period_ms, out, ttl)

    # ------------------------------------------------------------------ lifecycle
    def memory_bytes(self) -> int:
        """Bytes held by the forecasters' state arrays and the bins."""
        total = 0
        for gb in self.groups:
            total += sum(a.nbytes for a in gb.fc.state.values()) + gb.acc.nbytes
        return total

    def rows(self) -> Mapping[str, int]:
        """Sensors forecast per target so far."""
        return {gb.target.name: gb.n for gb in self.groups}

    def state_dict(self) -> dict[str, Any]:
        """Forecaster states, row maps and open bins (for checkpoints)."""
        return {
            "now_ms": self.now_ms,
            "row_of": self.row_of.copy(),
            "groups": [{"name": gb.target.name, "n": gb.n, "dense": gb.dense.copy(),
                        "last": gb.last.copy(), "acc": gb.acc.copy(), "open_bin": gb.open_bin,
                        "closed": [(b, m.copy(), k.copy()) for b, m, k in gb.closed],
                        "fc": gb.fc.state_dict()} for gb in self.groups],
        }

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output (same registry and targets)."""
        if [g["name"] for g in d["groups"]] != [gb.target.name for gb in self.groups]:
            raise ValueError("state was saved with other forecast targets")
        if d["row_of"].shape != self.row_of.shape:
            raise ValueError("state was saved for another registry")
        self.now_ms = int(d["now_ms"])
        self.row_of = np.asarray(d["row_of"], np.int64).copy()
        for gb, g in zip(self.groups, d["groups"], strict=True):
            cap = int(g["dense"].shape[0])
            gb.dense = np.zeros(0, np.int64)
            gb.thr = np.zeros(0)
            gb.last = np.zeros(0)
            gb.acc = np.zeros((2, 3, 0))
            gb.grow(cap)
            gb.n = int(g["n"])
            gb.dense[:cap] = g["dense"]
            gb.last[:cap] = g["last"]
            gb.acc[:, :, :cap] = g["acc"]
            gb.thr[: gb.n] = self.threshold[gb.dense[: gb.n]]
            gb.open_bin = int(g["open_bin"])
            gb.closed = [(int(b), m.copy(), k.copy()) for b, m, k in g["closed"]]
            gb.fc.load_state_dict(g["fc"])

    def warm(self) -> None:
        """Compile (or load from the cache) the forecasting kernels of every target."""
        seen: set[tuple[float, int]] = set()
        for gb in self.groups:
            key = (gb.fc.period_s, gb.fc.horizon)
            if key not in seen:
                seen.add(key)
                gb.fc.warm()
