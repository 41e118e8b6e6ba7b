"""Rolling-origin benchmark of the streaming forecaster against statsforecast.

Data (default root ``../shared/data`` relative to the repository):

* NAB realTraffic: speed, occupancy and travel-time files (5- or 10-min, gappy);
  horizons 15/30/60 min (10-min series: 20/30/60 min).
* Beijing multi-site air quality: PM2.5 at 4 sites, hourly; horizons 1..24 h.
* BATADAL dataset03: the 7 tank levels and 4 pump/valve flows, hourly; horizons 1..24 h.

Protocol (causal, identical origins for every method):

* every series is put on its sampling grid (``ts // period``); the streaming forecaster reads
  the raw rows exactly like ``run.py forecast`` and is scored from the rows it has just seen;
* origins = observed grid steps inside the evaluation window (the tail of each series), targets
  = observed steps ``origin + h``;
* seasonal naive (daily) on the forward-filled grid;
* statsforecast ``AutoETS(season_length=m)`` and ``MSTL(season_length=[day(, week)])`` are
  refitted once per day of data on a trailing window of the (linearly interpolated, causal)
  grid; between refits the fitted model runs forward over the new data (``AutoETS.forward``;
  for MSTL the seasonal parts are frozen and its trend model runs forward);
* MASE scale = in-sample **naive (lag-1)** MAE over the training part (before the evaluation
  window) of each series; the printed MASE is the mean over series;
* coverage = share of targets inside the 80 % interval (pooled over series).

Also prints the per-update throughput (one core) and the time that updating and forecasting
5,000 sensors adds to a batch.

Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/forecast.py [--data DIR] [--quick]``
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from models.forecast.batch import infer_period_s  # noqa: E402
from models.forecast.config import ForecastConfig  # noqa: E402
from models.forecast.streaming import StreamingForecaster  # noqa: E402
from models.series_csv import read_series  # noqa: E402

DAY_S = 86_400


@dataclass
class Series:
    name: str
    ts: np.ndarray  # epoch ms per row
    val: np.ndarray  # value per row (NaN = missing)


@dataclass
class Dataset:
    name: str
    series: list[Series]
    horizon_min: tuple[int, ...] | None  # lead times in minutes (traffic) or None = 1..H steps
    horizon: int  # steps for hourly data
    eval_days: float
    eval_frac: float  # used when the series is short (traffic)
    fit_days: int
    show: tuple[int, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------- loading
def load_traffic(root: Path) -> list[Series]:
    out = []
    for p in sorted((root / "nab/data/realTraffic").glob("*.csv")):
        _tt, _vt, ts, val = read_series(p)
        out.append(Series(p.stem, ts, val))
    return out


def load_beijing(root: Path, sites: tuple[str, ...]) -> list[Series]:
    out = []
    for site in sites:
        (p,) = sorted((root / "beijing_air").glob(f"PRSA_Data_{site}_*.csv"))
        ts, val = [], []
        with p.open(newline="") as fh:
            for r in csv.DictReader(fh):
                dt = datetime(int(r["year"]), int(r["month"]), int(r["day"]), int(r["hour"]),
                              tzinfo=UTC)
                ts.append(int(dt.timestamp() * 1000))
                v = r["PM2.5"]
                val.append(float(v) if v not in ("NA", "") else math.nan)
        out.append(Series(f"PM2.5 {site}", np.array(ts, np.int64), np.array(val)))
    return out


def load_batadal(root: Path, cols: tuple[str, ...]) -> list[Series]:
    p = root / "batadal/BATADAL_dataset03.csv"
    with p.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    ts = np.array(
        [int(datetime.strptime(r["DATETIME"].strip(), "%d/%m/%y %H").replace(tzinfo=UTC)
             .timestamp() * 1000) for r in rows],
        np.int64,
    )
    return [Series(c, ts, np.array([float(r[c]) for r in rows])) for c in cols]


# ----------------------------------------------------------------------------- baselines
def _fit_autoets(y: np.ndarray, m: int):  # type: ignore[no-untyped-def]
    """AutoETS as statsforecast runs it; with m > 24 it cannot go seasonal in practice (AICc
    counts m - 1 seasonal states; see ALGORITHMS.md §4.1), so it is searched non-seasonal
    there, which gives the same model far faster."""
    from statsforecast.models import AutoETS

    return AutoETS(season_length=m if m <= 24 else 1).fit(y)


class FrozenMSTL:
    """MSTL fitted on a window; later origins reuse its seasonal parts and trend model."""

    def __init__(self, y: np.ndarray, seasons: list[int]) -> None:
        from statsforecast.models import MSTL

        model = MSTL(season_length=seasons).fit(y)
        frame = model.model_
        self.n = y.shape[0]
        cols = [c for c in frame.columns if c.startswith("seasonal")]
        self.comps = [(p, frame[c].to_numpy()) for p, c in zip(seasons, sorted(
            cols, key=lambda c: int(c[8:]) if c[8:] else 0), strict=True)]
        self.fit_sa = y - sum(c for _p, c in self.comps)
        self.trend = model.trend_forecaster

    def seasonal(self, j: np.ndarray) -> np.ndarray:
        """Seasonal total at window-relative indices ``j`` (extended by the last cycle)."""
        tot = np.zeros(j.shape[0])
        for p, comp in self.comps:
            jj = np.where(j < self.n, j, self.n - p + (j - self.n) % p)
            tot += comp[jj]
        return tot

    def forecast(self, y_new: np.ndarray, h: int) -> np.ndarray:
        """Forecast ``h`` steps after window data followed by ``y_new`` (may be empty)."""
        j_new = np.arange(self.n, self.n + y_new.shape[0])
        sa = np.concatenate([self.fit_sa, y_new - self.seasonal(j_new)])
        tr = self.trend.forward(sa, h=h)["mean"]
        j_f = np.arange(sa.shape[0], sa.shape[0] + h)
        return np.asarray(tr) + self.seasonal(j_f)


# ----------------------------------------------------------------------------- evaluation
def evaluate(ds: Dataset, methods: tuple[str, ...], stride: int,
             config: ForecastConfig | None = None) -> dict[str, dict]:
    """Per method: MASE per series and horizon, pooled coverage per horizon."""
    res: dict[str, dict] = {m: {"mase": [], "cov_in": None, "cov_n": None} for m in methods}
    horizons_out = None
    for s in ds.series:
        period_s = infer_period_s(s.ts)
        pms = round(period_s * 1000)
        m1 = round(DAY_S / period_s)
        if ds.horizon_min is not None:
            steps = [max(1, math.ceil(hm * 60 / period_s)) for hm in ds.horizon_min]
        else:
            steps = list(range(1, ds.horizon + 1))
        hmax = max(steps)
        # streaming forecaster: raw rows, like `run.py forecast`
        fc = StreamingForecaster(1, period_s, hmax, config)
        yhat, lo, hi = fc.run_series(s.val, s.ts)
        # grid
        step = s.ts // pms
        g = step - step[0]
        n_grid = int(g[-1]) + 1
        y = np.full(n_grid, np.nan)
        row_of = np.full(n_grid, -1, np.int64)
        for r in range(len(g) - 1, -1, -1):  # first row of a step wins (as in the kernel)
            y[g[r]] = s.val[r]
            row_of[g[r]] = r
        obs = np.flatnonzero(~np.isnan(y))
        y_int = np.interp(np.arange(n_grid), obs, y[obs])
        y_ff = y.copy()
        last = np.nan
        for j in range(n_grid):
            if np.isnan(y_ff[j]):
                y_ff[j] = last
            else:
                last = y_ff[j]
        # evaluation window
        span_days = n_grid / m1
        ev_days = min(ds.eval_days, ds.eval_frac * span_days)
        ev0 = n_grid - int(ev_days * m1)
        tr = np.arange(1, ev0)
        ok = ~np.isnan(y[tr]) & ~np.isnan(y[tr - 1])
        scale = float(np.mean(np.abs(y[tr][ok] - y[tr - 1][ok])))
        origins = np.array(
            [j for j in range(ev0, n_grid - 1) if not np.isnan(y[j]) and row_of[j] >= 0][::stride],
            np.int64,
        )
        hs = np.array(steps)
        tgt = origins[:, None] + hs[None, :]
        valid = tgt < n_grid
        truth = np.where(valid, y[np.minimum(tgt, n_grid - 1)], np.nan)
        preds: dict[str, np.ndarray] = {}
        ints: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        rows = row_of[origins]
        preds["ours"] = yhat[rows][:, hs - 1]
        ints["ours"] = (lo[rows][:, hs - 1], hi[rows][:, hs - 1])
        back = m1 * np.ceil(hs / m1).astype(np.int64)
        preds["snaive"] = y_ff[np.maximum(tgt - back[None, :], 0)]
        fit_len = ds.fit_days * m1
        weekly = m1 * 7
        if "autoets" in methods or "mstl" in methods:
            a_pred = np.full(truth.shape, np.nan)
            a_lo = np.full(truth.shape, np.nan)
            a_hi = np.full(truth.shape, np.nan)
            m_pred = np.full(truth.shape, np.nan)
            day_of = (origins - ev0) // m1
            for d in np.unique(day_of):
                sel = np.flatnonzero(day_of == d)
                day_start = ev0 + int(d) * m1
                last_obs = obs[obs < day_start][-1]
                w0 = max(0, last_obs + 1 - fit_len)
                wy = y_int[w0:last_obs + 1]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if "autoets" in methods:
                        ets = _fit_autoets(wy, m1)
                    if "mstl" in methods:
                        seas = [m1, weekly] if wy.shape[0] >= 2 * weekly else [m1]
                        mst = FrozenMSTL(wy, seas)
                    for q in sel:
                        o = origins[q]
                        hist = y_int[w0:o + 1]
                        if "autoets" in methods:
                            f = ets.forward(hist, h=hmax, level=[80])
                            a_pred[q] = f["mean"][hs - 1]
                            a_lo[q] = f["lo-80"][hs - 1]
                            a_hi[q] = f["hi-80"][hs - 1]
                        if "mstl" in methods:
                            m_pred[q] = mst.forecast(y_int[last_obs + 1:o + 1], hmax)[hs - 1]
            preds["autoets"] = a_pred
            ints["autoets"] = (a_lo, a_hi)
            preds["mstl"] = m_pred
        for mth in methods:
            p = preds[mth]
            ok = ~np.isnan(truth) & ~np.isnan(p)
            err = np.where(ok, np.abs(truth - p), 0.0)
            mae = err.sum(0) / np.maximum(ok.sum(0), 1)
            res[mth]["mase"].append(mae / scale)
            if mth in ints:
                lo_, hi_ = ints[mth]
                okc = ok & ~np.isnan(lo_) & ~np.isnan(hi_)
                inside = okc & (truth >= lo_) & (truth <= hi_)
                ci, cn = inside.sum(0), okc.sum(0)
                if res[mth]["cov_in"] is None:
                    res[mth]["cov_in"], res[mth]["cov_n"] = ci, cn
                else:
                    res[mth]["cov_in"] = res[mth]["cov_in"] + ci
                    res[mth]["cov_n"] = res[mth]["cov_n"] + cn
        res.setdefault("_meta", {"n_origins": 0, "labels": None})
        res["_meta"]["n_origins"] += len(origins)
        horizons_out = ds.horizon_min if ds.horizon_min is not None else steps
        res["_meta"]["labels"] = horizons_out
        print(f"  {s.name}: period {period_s:.0f}s, {len(origins)} origins, scale {scale:.4g}",
              flush=True)
    return res


def report(ds: Dataset, res: dict[str, dict], methods: tuple[str, ...]) -> bool:
    labels = list(res["_meta"]["labels"])
    unit = "min" if ds.horizon_min is not None else "h"
    show = [labels.index(x) for x in (ds.show or labels)]
    head = "method   " + "".join(f"{labels[i]:>7}{unit}" for i in show) + "    mean"
    print(f"\n{ds.name}: MASE (scale = in-sample naive lag-1 MAE), mean over "
          f"{len(ds.series)} series, {res['_meta']['n_origins']} origins")
    print(head)
    mase = {m: np.mean(np.array(res[m]["mase"]), axis=0) for m in methods}
    for m in methods:
        print(f"{m:8s} " + "".join(f"{mase[m][i]:8.3f}" for i in show)
              + f"{np.mean(mase[m]):8.3f}")
    beat = bool(np.all(mase["ours"] < mase["autoets"])) if "autoets" in mase else False
    if "autoets" in mase:
        ratio = mase["ours"] / mase["autoets"]
        print(f"ours/AutoETS MASE ratio: worst {ratio.max():.3f} at {labels[int(ratio.argmax())]}"
              f"{unit}, best {ratio.min():.3f}; below AutoETS at every horizon: {beat}")
        if not beat:
            lost = [f"{labels[i]}{unit}" for i in np.flatnonzero(ratio >= 1.0)]
            print(f"  horizons where ours >= AutoETS: {', '.join(lost)}")
    for m in methods:
        if res[m]["cov_in"] is not None:
            cov = res[m]["cov_in"] / np.maximum(res[m]["cov_n"], 1)
            pooled = res[m]["cov_in"].sum() / res[m]["cov_n"].sum()
            print(f"80% coverage {m:8s}: pooled {pooled:.3f}"
                  f", per horizon min {cov.min():.3f} max {cov.max():.3f}  ["
                  + " ".join(f"{cov[i]:.2f}" for i in show) + "]")
    return beat


# ----------------------------------------------------------------------------- throughput
def throughput(n: int = 5000, steps: int = 300, period_s: int = 300, horizon: int = 12) -> None:
    fc = StreamingForecaster(n, period_s, horizon)
    fc.warm()
    rng = np.random.default_rng(0)
    idx = np.arange(n, dtype=np.int64)
    base = rng.uniform(20, 60, n)
    t0 = 1_700_000_000_000 // (period_s * 1000) * (period_s * 1000)
    upd = []
    for s in range(steps):
        ts = np.full(n, t0 + s * period_s * 1000, dtype=np.int64)
        v = base + 10 * np.sin(2 * np.pi * s / 288 + base) + rng.normal(0, 2, n)
        a = time.perf_counter()
        fc.update_batch(idx, v, ts)
        upd.append(time.perf_counter() - a)
    u = np.median(np.array(upd[50:]))
    out, lo, hi = (np.empty((n, horizon)) for _ in range(3))
    fts = []
    for _ in range(30):
        a = time.perf_counter()
        fc.forecast_into(idx, out, lo, hi)
        fts.append(time.perf_counter() - a)
    f = float(np.median(fts))
    print(f"\nThroughput ({n} sensors, period {period_s}s, H={horizon}, one core, median of "
          f"{steps - 50} batches):")
    print(f"  update: {n / u / 1e6:.2f} M sensor-updates/s "
          f"({u * 1e3:.2f} ms per {n}-reading batch)")
    print(f"  forecast {n} sensors x {horizon} steps with intervals: {f * 1e3:.2f} ms")
    print(f"  added to a one-second batch (update {n} readings + forecast {n} sensors): "
          f"{(u + f) * 1e3:.2f} ms")
    small = StreamingForecaster(200, period_s, horizon)
    idx2 = idx[:200]
    tt = []
    for s in range(400):
        ts = np.full(200, t0 + s * period_s * 1000, dtype=np.int64)
        v = base[:200] + rng.normal(0, 2, 200)
        a = time.perf_counter()
        small.update_batch(idx2, v, ts)
        tt.append(time.perf_counter() - a)
    print(f"  update, 200 sensors (state in cache): "
          f"{200 / np.median(tt[50:]) / 1e6:.2f} M sensor-updates/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--quick", action="store_true", help="fewer evaluation days (smoke run)")
    ap.add_argument("--skip-baselines", action="store_true")
    ap.add_argument("--only", default="", help="comma list: traffic,air,water,throughput")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a ForecastConfig field (numbers only), e.g. power=4")
    args = ap.parse_args()
    overrides: dict[str, Any] = {k: float(v) if "." in v else int(v)
                                 for k, v in (item.split("=", 1) for item in args.set)}
    config = ForecastConfig(**overrides) if overrides else None
    logging.getLogger("statsforecast").setLevel(logging.ERROR)
    only = set(filter(None, args.only.split(",")))
    q = 0.3 if args.quick else 1.0
    methods = ("ours", "snaive") if args.skip_baselines else ("ours", "snaive", "autoets", "mstl")
    t_start = time.perf_counter()
    sets = []
    if not only or "traffic" in only:
        sets.append(Dataset("NAB realTraffic", load_traffic(args.data), (15, 30, 60), 12,
                            eval_days=10 * q, eval_frac=0.4, fit_days=7))
    if not only or "air" in only:
        sets.append(Dataset("Beijing PM2.5 (4 sites)", load_beijing(
            args.data, ("Aotizhongxin", "Changping", "Dingling", "Dongsi")), None, 24,
            eval_days=30 * q, eval_frac=0.5, fit_days=56, show=(1, 2, 3, 6, 12, 18, 24)))
    if not only or "water" in only:
        cols = ("L_T1", "L_T2", "L_T3", "L_T4", "L_T5", "L_T6", "L_T7",
                "F_PU1", "F_PU2", "F_PU7", "F_V2")
        sets.append(Dataset("BATADAL dataset03 (7 tanks, 4 flows)", load_batadal(args.data, cols),
                            None, 24, eval_days=20 * q, eval_frac=0.5, fit_days=56,
                            show=(1, 2, 3, 6, 12, 18, 24)))
    verdict = {}
    for ds in sets:
        print(f"\n== {ds.name}", flush=True)
        t0 = time.perf_counter()
        res = evaluate(ds, methods, stride=1, config=config)
        verdict[ds.name] = report(ds, res, methods)
        print(f"({time.perf_counter() - t0:.0f} s)", flush=True)
    if not only or "throughput" in only:
        throughput()
    if verdict:
        print("\nBelow AutoETS MASE at every horizon: "
              + ", ".join(f"{k}: {v}" for k, v in verdict.items()))
    print(f"total {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
