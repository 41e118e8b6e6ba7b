"""Does the live engine keep up with the city at ``--scale N``?

Runs the embedded pipeline in fast-forward — simulator → publisher → in-process bus →
engine stage (decode, validate, state, numba anomaly kernel, scores topic) → commit —
for a stretch of stream time, and compares the wall time it took with the stream
time it covered. A ratio above 1 means the engine is faster than real time.

    python bench/engine.py --scale 20 --minutes 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from config.city import load_city  # noqa: E402
from config.settings import Settings  # noqa: E402
from models.engine import Engine  # noqa: E402
from streams.bus.memory import MemoryBus  # noqa: E402
from streams.clock import ManualClock  # noqa: E402
from streams.consumer import ConsumerLoop  # noqa: E402
from streams.publisher import Publisher  # noqa: E402
from streams.runtime import EngineStage  # noqa: E402
from streams.sources.simulator import Simulator  # noqa: E402
from streams.state import MemoryStateStore  # noqa: E402
from streams.topics import DEAD_LETTER, READINGS_TOPICS, SCORES  # noqa: E402
from streams.validation import Validator  # noqa: E402

T0 = 1_764_547_200_000  # Monday 2025-12-01 00:00 UTC (08:00 Beijing)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--minutes", type=float, default=5.0, help="stream time to cover")
    ap.add_argument("--tick", type=float, default=1.0, help="stream seconds per source tick")
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
    stage = EngineStage(reg, state, bus.producer(), engine,
                        Validator(reg, 300_000, clock.now_ms))
    loop = ConsumerLoop(bus.consumer("bench", list(READINGS_TOPICS)), stage.process, stage.flush,
                        clock=clock.now_ms, poll_timeout_ms=0, max_records=256)
    sim = Simulator(city, settings.seed, T0, args.tick)
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


if __name__ == "__main__":
    main()
