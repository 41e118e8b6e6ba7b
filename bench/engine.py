"""Does the live engine keep up with the city at ``--scale N``?

Runs the embedded pipeline in fast-forward — simulator → publisher → in-process bus →
engine stage (decode, validate, state, numba anomaly kernel, scores topic) → commit —
for a stretch of stream time, and compares the wall time it took with the stream
time it covered. A ratio above 1 means the engine is faster than real time.

    python bench/engine.py --scale 20 --minutes 5
    python bench/engine.py --scale 1 --minutes 30 --forecast   # + live forecasts and warnings

``--forecast`` adds the :class:`~models.forecast.live.LiveForecasts` step after scoring and
reports its own cost per one-second tick (mean, p99, max — the max is a bin-close tick that
forecasts and publishes a whole target), its state memory and what it published. The
forecasters are first seeded with ``--history-days`` of binned history from the simulator's
clean model, so the timed stretch pays for real forecasts and documents, not warm-up NaNs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config.city import load_city  # noqa: E402
from config.settings import Settings  # noqa: E402
from models.engine import Engine  # noqa: E402
from models.forecast.live import LiveForecasts  # noqa: E402
from streams.bus.memory import MemoryBus  # noqa: E402
from streams.clock import ManualClock  # noqa: E402
from streams.consumer import ConsumerLoop  # noqa: E402
from streams.messages import ReadingBatch, ScoreBatch  # noqa: E402
from streams.publisher import Publisher  # noqa: E402
from streams.runtime import EngineStage  # noqa: E402
from streams.sources.simulator import Simulator  # noqa: E402
from streams.state import MemoryStateStore  # noqa: E402
from streams.topics import DEAD_LETTER, READINGS_TOPICS, SCORES  # noqa: E402
from streams.validation import Validator  # noqa: E402

T0 = 1_764_547_200_000  # Monday 2025-12-01 00:00 UTC (08:00 Beijing)


class TimedStep:
    """An ``after_scoring`` step wrapped with a stopwatch (bench only) and a warning counter."""

    def __init__(self, step: LiveForecasts) -> None:
        self.step = step
        self.tick_s = 0.0
        self.per_tick: list[float] = []
        self.fired = 0
        self.likely = 0

    def __call__(self, batch: ReadingBatch, idx: Any, scores: ScoreBatch) -> None:
        a = time.perf_counter()
        self.step(batch, idx, scores)
        self.tick_s += time.perf_counter() - a

    def end_tick(self) -> None:
        self.per_tick.append(self.tick_s)
        self.tick_s = 0.0

    def sink(self, idx: Any, warning: Any, origin: int) -> None:
        self.fired += int(np.count_nonzero(warning.fires))
        self.likely += int(np.count_nonzero(warning.fires & (warning.confidence >= 2)))


def seed_history(live: LiveForecasts, sim: Simulator, days: float) -> float:
    """Feed ``days`` of binned history (clean model values at bin mid-points) before T0."""
    t = time.perf_counter()
    sel = np.flatnonzero(live.group_of >= 0)
    for g, gb in enumerate(live.groups):
        rows = sel[live.group_of[sel] == g]
        if rows.size == 0:
            continue
        p = gb.period_ms
        n_bins = int(days * 86_400_000 // p)
        ends = T0 - (np.arange(n_bins, 0, -1, dtype=np.int64) - 1) * p  # last bin ends at T0
        for chunk in np.array_split(ends, max(1, n_bins * rows.size // 2_000_000)):
            i = np.tile(rows, chunk.size)
            ts = np.repeat(chunk, rows.size)
            live.learn_history(i, sim.model.values(i, ts - p // 2), ts)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--minutes", type=float, default=5.0, help="stream time to cover")
    ap.add_argument("--tick", type=float, default=1.0, help="stream seconds per source tick")
    ap.add_argument("--forecast", action="store_true", help="add the live forecasting step")
    ap.add_argument("--history-days", type=float, default=3.0,
                    help="binned history fed to the forecasters before the run (--forecast)")
    args = ap.parse_args()

    settings = Settings.from_env({})
    t = time.perf_counter()
    city = load_city("fuzhou", args.scale, settings.seed)
    reg = city.registry
    built = time.perf_counter() - t
    print(f"city scale {args.scale:g}: {len(reg):,} sensors (built in {built:.1f}s)")
    clock = ManualClock(T0)
    bus = MemoryBus(retention_bytes=1 << 30)
    bus.create_topics([*READINGS_TOPICS, SCORES, DEAD_LETTER], settings.partitions)
    state = MemoryStateStore(window_s=settings.window_s)
    engine = Engine(reg)
    t = time.perf_counter()
    engine.warm()
    print(f"kernels warm in {time.perf_counter()-t:.2f}s")
    sim = Simulator(city, settings.seed, T0, args.tick)
    timed: TimedStep | None = None
    if args.forecast:
        live = LiveForecasts.for_city(city, state)
        timed = TimedStep(live)
        live.sink = timed.sink
        t = time.perf_counter()
        live.warm()
        print(f"forecast kernels warm in {time.perf_counter()-t:.2f}s; "
              f"history {args.history_days:g} days seeded in "
              f"{seed_history(live, sim, args.history_days):.1f}s: rows {dict(live.rows())}, "
              f"state {live.memory_bytes() / 2**20:.1f} MiB")
    stage = EngineStage(reg, state, bus.producer(), engine,
                        Validator(reg, 300_000, clock.now_ms),
                        after_scoring=[timed] if timed is not None else [])
    loop = ConsumerLoop(bus.consumer("bench", list(READINGS_TOPICS)), stage.process, stage.flush,
                        clock=clock.now_ms, poll_timeout_ms=0, max_records=256)
    pub = Publisher(bus, reg, settings.partitions)

    steps = int(args.minutes * 60 / args.tick)
    t_sim = t_eng = 0.0
    produced = 0
    for k in range(1, steps + 1):
        now = T0 + int(k * args.tick * 1000)
        clock.set(now)
        a = time.perf_counter()
        batch = sim.step(now)
        pub.publish(batch)
        b = time.perf_counter()
        while loop.run_once():
            pass
        c = time.perf_counter()
        if timed is not None:
            timed.end_tick()
        produced += len(batch)
        t_sim += b - a
        t_eng += c - b
    stream_s = steps * args.tick
    counts = stage.counts
    wall = t_sim + t_eng
    print(f"stream time covered     {stream_s:,.0f} s, readings produced {produced:,} "
          f"({produced / stream_s:,.0f} per stream second)")
    print(f"simulator + publish     {t_sim:7.2f} s wall")
    print(f"engine (consume..commit){t_eng:7.2f} s wall -> {counts['readings_in'] / t_eng:,.0f} "
          f"readings/s; scored {counts['scored']:,}, dead-lettered {counts['dead_lettered']:,}")
    print(f"real-time factor        {stream_s / wall:6.1f}x  "
          f"(engine alone {stream_s / t_eng:.1f}x; > 1 keeps up)")
    if timed is not None:
        report_forecast(timed, state, t_eng, args.tick)


def report_forecast(timed: TimedStep, state: MemoryStateStore, t_eng: float, tick: float
                    ) -> None:
    live = timed.step
    per = np.array(timed.per_tick) * 1000.0
    c = live.counts
    print(f"forecast step           {per.sum() / 1000:7.2f} s wall of the engine's {t_eng:.2f} s; "
          f"per {tick:g}-s tick: mean {per.mean():.3f} ms (amortised, incl. bin closes), "
          f"median {np.median(per):.3f} ms, p99 {np.percentile(per, 99):.2f} ms, "
          f"max {per.max():.1f} ms")
    top = np.argsort(per)[::-1][:5]
    print("forecast slowest ticks   " + ", ".join(f"{per[k]:.1f} ms at {(k + 1) * tick:g} s"
                                                  for k in top)
          + f"; ticks over 10 ms: {int((per > 10).sum())} of {per.size}")
    print(f"forecast output         bins closed {c['bins_closed']}, bin values "
          f"{c['bin_values']:,}, skipped {c['bin_skipped']:,}, late {c['late_dropped']}, "
          f"docs {c['docs']:,}, KPI docs {c['kpi_docs']}, warnings fired {timed.fired} "
          f"({timed.likely} likely or near certain); "
          f"forecast:* keys now {len(state.json_keys('forecast:')):,}")
    print(f"forecast memory         {live.memory_bytes() / 2**20:.1f} MiB for "
          f"{sum(live.rows().values()):,} sensors {dict(live.rows())}")


if __name__ == "__main__":
    main()
