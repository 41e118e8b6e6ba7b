"""Alert measures: false-alert rate on normal data, time to first alert / right level per scenario,
and the cost of the alert step per batch.

Everything runs offline in fast-forward: the seeded simulator (or a replay), the engine's
anomaly kernels (:class:`models.engine.Engine`) and the alert engine with its real lifecycle
service and an in-memory SQLite store, on a manual clock.

* normal day — no scenarios (the simulator's own sensor faults stay on: they are real
  faults and make *sensor* alerts; the target ≤ 1 alert / h / 1 000 sensors is for *city*
  alerts, i.e. false alarms to the command center);
* normal replays — BATADAL dataset03 and TEP d00_te mapped onto the city's sensors
  (streams/sources/replay.py) from ``--data`` (default ../shared/data);
* scenarios — each kind injected alone after a 60-min warm-up; time from onset to the first
  alert touching the scenario's sensors, and to the first alert at the expected level.
  The live forecasters (:class:`models.forecast.live.LiveForecasts`) run in the same step as
  in the engine worker, so their early warnings count (``--no-forecast`` leaves them out).
  So do the per-asset multivariate detectors
  (:class:`models.anomaly.live_assets.LiveAssetDetectors`, ``asset_anomaly`` alerts, after
  their 2-h warm-up; ``--no-assets`` leaves them out).
  For the pollution episode the bench also prints a detectability bound: the matched-filter
  SNR an *oracle* would have (it knows the onset, the ramp shape, the affected monitors and
  their noise-free baseline), from the injected ramp and the simulator's noise level — no
  detector that has to find an unknown onset can beat it.

Run from the repository root::

    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/alerts.py [--scale 0.2] [--hours 24]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.engine import AlertEngine  # noqa: E402
from alerts.lifecycle import AlertService  # noqa: E402
from alerts.model import Alert  # noqa: E402
from alerts.store import AlertStore, Database  # noqa: E402
from config.city import load_city  # noqa: E402
from models.engine import Engine  # noqa: E402
from streams.clock import ManualClock  # noqa: E402
from streams.messages import ReadingBatch  # noqa: E402
from streams.sources.simulator import Simulator  # noqa: E402
from streams.sources.simulator_model import AIR_NOISE_REL  # noqa: E402
from streams.state.memory import MemoryStateStore  # noqa: E402

START_MS = 1_780_243_200_000  # 2026-05-31 16:00 UTC = 2026-06-01 00:00 Beijing
SEED = 20261124
#: scenario onset: after the anomaly detector's warm-up (150+ points per sensor), 08:00 Beijing
ONSET_MIN = 480


class Run:
    """Simulator/replay → engine kernels → alert engine, one batch per tick."""

    def __init__(self, city: Any, forecast: bool = False, assets: bool = True) -> None:
        self.city = city
        self.clock = ManualClock(START_MS)
        self.service = AlertService(AlertStore(Database("sqlite://:memory:")), self.clock)
        self.engine = Engine(city.registry)
        self.engine.warm()
        self.alerts = AlertEngine.for_city(city, self.service)
        self.forecasts = None
        if forecast:
            from models.forecast.live import LiveForecasts

            self.forecasts = LiveForecasts.for_city(city, MemoryStateStore(),
                                                    sink=self.alerts.forecast_warnings)
            self.forecasts.warm()
        self.assets = None
        if assets:
            from models.anomaly.live_assets import LiveAssetDetectors

            self.assets = LiveAssetDetectors(city, MemoryStateStore(), alerts=self.service)
            self.assets.warm()
        self.step_s: list[float] = []
        self.asset_s: list[float] = []
        self.rows: list[int] = []

    def feed(self, batch: ReadingBatch, now_ms: int) -> None:
        self.clock.set(now_ms)
        if not len(batch):
            return
        idx = self.city.registry.indices(batch.sensor_ids)
        keep = idx >= 0
        if not keep.all():
            batch, idx = batch.take(keep), idx[keep]
        scores = self.engine.process(batch, idx)
        t0 = time.perf_counter()
        self.alerts(batch, idx, scores)
        self.step_s.append(time.perf_counter() - t0)
        if self.forecasts is not None:
            self.forecasts(batch, idx, scores)
        if self.assets is not None:
            t0 = time.perf_counter()
            self.assets(batch, idx, scores)
            self.asset_s.append(time.perf_counter() - t0)
        self.rows.append(len(batch))

    def all_alerts(self) -> list[Alert]:
        return self.service.store.alerts(limit=1_000_000)


def simulate(city: Any, hours: float, tick_s: float, scenarios: str = "", seed: int = SEED,
             forecast: bool = False, assets: bool = True) -> tuple[Run, Simulator]:
    run = Run(city, forecast, assets)
    sim = Simulator(city, seed=seed, start_ms=START_MS, tick_s=tick_s, scenarios=scenarios)
    tick = int(tick_s * 1000)
    for k in range(1, int(hours * 3600_000 / tick) + 1):
        now = START_MS + k * tick
        run.feed(sim.step(now), now)
    return run, sim


def fault_match(sensor_alerts: list[Alert], sim: Simulator) -> str:
    """Share of sensor alerts explained by an injected fault on one of their sensors."""
    faults: dict[str, list[tuple[int, int]]] = {}
    for e in sim.truth():
        if e.source == "fault":
            for sid in e.sensor_ids:
                faults.setdefault(sid, []).append((e.onset_ms, e.end_ms))
    ok = sum(1 for a in sensor_alerts if any(
        on - 300_000 <= a.first_ts <= end + 600_000
        for sid in a.sensor_ids for on, end in faults.get(sid, ())))
    n_faults = sum(1 for e in sim.truth() if e.source == "fault")
    return f"{ok}/{len(sensor_alerts)} explained by the {n_faults} injected sensor faults"


def rate_report(label: str, run: Run, hours: float, n_sensors: int,
                sim: Simulator | None = None) -> None:
    alerts = run.all_alerts()  # every alert ever shown, including singles later merged
    city = [a for a in alerts if a.kind == "city"]
    sensor = [a for a in alerts if a.kind == "sensor"]
    per = 1000.0 / n_sensors / hours
    print(f"{label}: {n_sensors} sensors, {hours:g} h, {sum(run.rows):,} readings")
    print(f"  city alerts   {len(city):4d} → {len(city) * per:.3f} / h / 1000 sensors  "
          f"{dict(Counter(a.type for a in city))}")
    print(f"  sensor alerts {len(sensor):4d} → {len(sensor) * per:.3f} / h / 1000 sensors  "
          f"{dict(Counter(a.type for a in sensor))}")
    if sim is not None:
        print(f"  sensor alerts: {fault_match(sensor, sim)}")


def cost_report(run: Run) -> None:
    s = np.array(run.step_s)
    r = np.array(run.rows, np.float64)
    print(f"  alert step: {len(s)} batches, mean {s.mean() * 1e3:.2f} ms / batch of "
          f"{r.mean():,.0f} readings, p99 {np.percentile(s, 99) * 1e3:.2f} ms, "
          f"{r.sum() / s.sum():,.0f} readings/s")
    if run.assets is not None and run.asset_s:
        a = np.array(run.asset_s)
        asset_alerts = [x for x in run.all_alerts() if x.type == "asset_anomaly"]
        alarm_h = sum(((x.cleared_ts or x.last_ts) - x.first_ts) for x in asset_alerts) / 3.6e6
        print(f"  asset step: {run.assets.fitted}/{len(run.assets.assets)} assets fitted, mean "
              f"{a.mean() * 1e3:.2f} ms / batch, p99 {np.percentile(a, 99) * 1e3:.2f} ms; "
              f"asset_anomaly {len(asset_alerts)} alerts, {alarm_h:.2f} alarm-h")


def expected_level(kind: str, city: Any, target: str) -> int:
    """The level an operator should see (DOMAIN.md §6.1 reasoning, documented in the report)."""
    if kind == "chemical_leak":
        grade = next((int(h.grade) for h in city.hazard_sources if h.source_id == target), 0)
        return {1: 1, 2: 2}.get(grade, 3)
    return {"pipe_burst": 3, "traffic_accident": 4, "pollution_episode": 4,
            "sensor_outage": 4}[kind]


def level_history(run: Run, a: Alert) -> list[tuple[int, int]]:
    """(ts, level) from the engine's own decisions (raise / level), not time escalations."""
    out = []
    for e in run.service.store.timeline(a.id):
        if e.action == "raise":
            out.append((e.ts, int(e.detail.get("level", a.base_level))))
        elif e.action == "level":
            out.append((e.ts, int(e.detail["to"])))
    return out


def episode_bound(city: Any, sim: Simulator) -> str:
    """Oracle matched-filter SNR of the injected pollution episode (see the module text).

    Each affected air monitor is sampled every period from the onset; its log signal is
    ``ln(1 + magnitude · r(t))`` against white noise of the simulator's relative σ. The SNR
    after ``T`` minutes is the root of the sum of (signal / σ)² over every sample so far.
    """
    inj = next(j for j in sim.injections if j.kind == "pollution_episode")
    reg = city.registry
    cols = {"pm25": 0, "pm10": 1, "so2": 2, "no2": 3, "co": 4, "o3": 5}
    t_min = np.arange(0.0, 180.0, 0.25)
    snr2 = np.zeros(t_min.size)
    for j, i in enumerate(inj.sensors.tolist()):
        metric = reg.sensors[i].metric
        if metric not in cols:
            continue
        per = float(reg.period_s[i])
        ts = np.arange(per, 180 * 60.0, per)  # sample times after the onset (s)
        r = np.clip((ts - inj.delay_ms[j] / 1000.0) / (inj.rise_ms[j] / 1000.0), 0.0, 1.0)
        e = (np.log1p(inj.magnitude[j] * r) / AIR_NOISE_REL[cols[metric]]) ** 2
        cum = np.concatenate([[0.0], np.cumsum(e)])
        snr2 += cum[np.searchsorted(ts, t_min * 60.0, side="right")]
    snr = np.sqrt(snr2)

    def first(x: float) -> str:
        k = np.flatnonzero(snr >= x)
        return f"{t_min[k[0]]:.1f} min" if k.size else "> 180 min"
    at2 = float(snr[np.searchsorted(t_min, 2.0)])
    return (f"oracle matched-filter SNR at 2 min {at2:.2f} (needs ≥ 5 to alarm without false "
            f"alarms); SNR 3 at {first(3.0)}, SNR 5 at {first(5.0)}")


def scenario_report(city: Any, kind: str, hours: float, tick_s: float, seed: int = SEED,
                    forecast: bool = True, assets: bool = True
                    ) -> tuple[float | None, float | None]:
    run, sim = simulate(city, hours, tick_s, f"{kind}@{ONSET_MIN}", seed, forecast, assets)
    truth = [e for e in sim.truth() if e.source == "scenario"][0]
    sensors = set(truth.sensor_ids)
    want_kind = "sensor" if kind == "sensor_outage" else "city"
    hits = [a for a in run.all_alerts() if a.kind == want_kind and a.first_ts >= truth.onset_ms
            and sensors & set(a.sensor_ids)]
    exp = expected_level(kind, city, truth.target)
    first = min((a.first_ts for a in hits), default=None)
    right = None
    for a in hits:
        for ts, lvl in level_history(run, a):
            if lvl <= exp and (right is None or ts < right):
                right = ts
    def fmt(t: int | None) -> str:
        return "never" if t is None else f"{(t - truth.onset_ms) / 60000:.1f} min"

    best = min((a.base_level for a in hits), default=None)
    print(f"  {kind:18s} seed {seed} target {truth.target:16s} first alert {fmt(first):>9s}  "
          f"expected level {'ⅠⅡⅢⅣ'[exp - 1]} reached {fmt(right):>9s}  "
          f"(alerts {len(hits)}, best level {'-' if best is None else 'ⅠⅡⅢⅣ'[best - 1]}; "
          f"types {sorted({a.type for a in hits})})")
    by_type: dict[str, int] = {}
    for a in hits:
        by_type[a.type] = min(by_type.get(a.type, a.first_ts), a.first_ts)
    print("    first alert by type: " + ", ".join(
        f"{t} {fmt(ts)}" for t, ts in sorted(by_type.items(), key=lambda kv: kv[1])))
    if kind == "pollution_episode":
        print(f"    {episode_bound(city, sim)}")
    return ((None if first is None else (first - truth.onset_ms) / 60000),
            (None if right is None else (right - truth.onset_ms) / 60000))


def replay_report(city: Any, data: Path, tick_s: float, forecast: bool = True,
                  assets: bool = True) -> None:
    from streams.sources.replay import ReplaySource

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "batadal").mkdir()
        (root / "tep").mkdir()
        # the normal recordings under the names the catalogue reads
        (root / "batadal" / "BATADAL_dataset04.csv").symlink_to(
            data / "batadal" / "BATADAL_dataset03.csv")
        for name in ("d00_te", "d06_te"):
            (root / "tep" / f"{name}.dat").symlink_to(data / "tep" / "d00_te.dat")
        for ds, speed, hours in (("batadal", 60.0, 8760.0), ("tep", 30.0, 48.0)):
            run = Run(city, forecast, assets)
            src = ReplaySource(city.registry, [ds], speed=speed, start_ms=START_MS,
                               data_dir=root)
            mapped = set(src.mapping.values())
            tick = int(tick_s * 1000)
            stream_h = hours / speed
            for k in range(1, int(stream_h * 3600_000 / tick) + 1):
                now = START_MS + k * tick
                run.feed(src.step(now), now)
                if src.exhausted:
                    break
            alerts = [a for a in run.all_alerts() if set(a.sensor_ids) & mapped]
            city_alerts = [a for a in alerts if a.kind == "city"]
            rec_h = hours
            print(f"  replay {ds}: {len(mapped)} sensors mapped, {rec_h:g} h recorded "
                  f"({stream_h:.1f} h stream at {speed:g}x), {sum(run.rows):,} readings; "
                  f"city alerts {len(city_alerts)} → "
                  f"{len(city_alerts) * 1000 / len(mapped) / rec_h:.3f} / h / 1000 sensors "
                  f"(recorded time); sensor alerts {len(alerts) - len(city_alerts)}; "
                  f"{dict(Counter(a.type for a in alerts))}")


def cost_at_scale(scale: float, minutes: float) -> None:
    """The engine worker's view: 1-s ticks on a big city (≈ 5 000 readings per batch)."""
    city = load_city(scale=scale, seed=SEED)
    run, _ = simulate(city, minutes / 60.0, 1.0, assets=False)
    s = np.array(run.step_s[60:])  # after the first minute (first readings of every sensor)
    r = np.array(run.rows[60:], np.float64)
    print(f"alert step at scale {scale:g} ({len(city.registry):,} sensors), 1-s ticks, "
          f"{minutes:g} min: mean {s.mean() * 1e3:.2f} ms / batch of {r.mean():,.0f} readings "
          f"(p50 {np.percentile(s, 50) * 1e3:.2f}, p99 {np.percentile(s, 99) * 1e3:.2f} ms), "
          f"{r.sum() / s.sum():,.0f} readings/s per core; alerts raised "
          f"{len(run.all_alerts())}")


def asset_cost_at_scale(scale: float, minutes: float) -> None:
    """The asset detectors in the engine worker's view: 1-s ticks, after their 2-h warm-up.

    Two hours of stream fast-forward at 60-s ticks, then 1-s ticks while the assets are fitted
    (a few per batch) and ``minutes`` of scoring.
    """
    city = load_city(scale=scale, seed=SEED)
    run = Run(city, forecast=False, assets=True)
    sim = Simulator(city, seed=SEED, start_ms=START_MS, tick_s=1.0)
    live = run.assets
    assert live is not None
    now = START_MS
    while now < START_MS + 7_140_000:
        now += 60_000
        run.feed(sim.step(now), now)
    start = len(run.asset_s)
    while live.fitted < len(live.assets) and now < START_MS + 6 * 3_600_000:
        now += 1000
        run.feed(sim.step(now), now)
    fit = np.array(run.asset_s[start:]) * 1e3
    start, first = len(run.asset_s), len(run.rows)
    for _ in range(int(minutes * 60)):
        now += 1000
        run.feed(sim.step(now), now)
    a = np.array(run.asset_s[start:]) * 1e3
    print(f"asset step at scale {scale:g} ({len(city.registry):,} sensors, {len(live.assets)} "
          f"assets), 1-s ticks: while fitting ({fit.size} batches) mean {fit.mean():.2f} ms, "
          f"max {fit.max():.1f} ms; then {minutes:g} min: mean {a.mean():.2f} ms / batch of "
          f"{np.mean(run.rows[first:]):,.0f} readings (p50 {np.percentile(a, 50):.2f}, "
          f"p99 {np.percentile(a, 99):.2f}, max {a.max():.2f} ms)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--tick", type=float, default=60.0, help="simulator tick (s)")
    ap.add_argument("--scenario-hours", type=float, default=1.0,
                    help="hours simulated after the onset")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--skip", default="", help="comma list of: normal,scenarios,replay,cost")
    ap.add_argument("--kinds", default="pipe_burst,chemical_leak,traffic_accident,"
                    "sensor_outage,pollution_episode", help="scenario kinds to inject (comma list)")
    ap.add_argument("--runs", type=int, default=3, help="scenario runs (targets) per kind")
    ap.add_argument("--no-forecast", action="store_true",
                    help="leave the live forecasters' early warnings out")
    ap.add_argument("--no-assets", action="store_true",
                    help="leave the per-asset multivariate detectors out")
    ap.add_argument("--normal-seeds", type=int, default=1,
                    help="normal days simulated (simulator seeds from the default one on)")
    ap.add_argument("--cost-scale", type=float, default=16.0)
    ap.add_argument("--cost-minutes", type=float, default=5.0)
    ap.add_argument("--asset-cost-scales", default="1,5",
                    help="scales of the asset-step cost measure (comma list, empty: none)")
    args = ap.parse_args()
    skip = set(args.skip.split(","))
    city = load_city(scale=args.scale, seed=SEED)
    n = len(city.registry)
    for k in range(args.normal_seeds if "normal" not in skip else 0):
        t0 = time.perf_counter()
        run, sim = simulate(city, args.hours, args.tick, seed=SEED + k,
                            forecast=not args.no_forecast, assets=not args.no_assets)
        label = "simulated normal day" + (f" (seed {SEED + k})" if args.normal_seeds > 1 else "")
        rate_report(label, run, args.hours, n, sim)
        cost_report(run)
        print(f"  wall time {time.perf_counter() - t0:.1f} s")
    if "scenarios" not in skip:
        print(f"scenarios (scale {args.scale:g}, {n} sensors, onset at minute {ONSET_MIN}, "
              f"{args.tick:g}-s ticks):")
        for kind in args.kinds.split(","):
            hours = ONSET_MIN / 60 + (6.0 if kind == "pollution_episode" else args.scenario_hours)
            res = [scenario_report(city, kind, hours, args.tick, SEED + k,
                                   not args.no_forecast, not args.no_assets)
                   for k in range(args.runs)]
            firsts = [f for f, _ in res]
            rights = [r for _, r in res]

            def worst(xs: list[float | None]) -> str:
                return "never" if any(x is None for x in xs) else f"{max(xs):.1f} min"  # type: ignore[type-var]
            print(f"  → {kind}: worst time to first alert {worst(firsts)}, "
                  f"to the expected level {worst(rights)} over {args.runs} runs")
    if "cost" not in skip:
        cost_at_scale(args.cost_scale, args.cost_minutes)
        if not args.no_assets:
            for sc in filter(None, args.asset_cost_scales.split(",")):
                asset_cost_at_scale(float(sc), args.cost_minutes)
    if "replay" not in skip and args.data.is_dir():
        print("normal replays:")
        replay_report(city, args.data, args.tick, not args.no_forecast, not args.no_assets)


if __name__ == "__main__":
    main()
