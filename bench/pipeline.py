"""Pipeline benchmark: source → bus → consumer loop → state store, readings per second.

Two set-ups, both with the real publisher, codec, validator, consumer loop and state store:

* **embedded** — in-process bus + memory state store, source and consumer as two threads
  of one process (what ``python run.py`` runs);
* **kafka** — a Tansu broker (Kafka protocol, started here on a free port) + a
  ``redis-server`` (started here) with the Redis state store; the source runs in its
  own process, the measured consumer is this process.

Each set-up runs two phases:

1. *throughput*: the source publishes as fast as it can (bounded in flight, so the
   bus never drops anything) for ``--seconds``; figure = readings written to the state
   store / wall time until the last one is written;
2. *lag*: the source is paced at ``--rate`` readings/s; the figure is the distribution
   of (state-write time − reading ts) where ts is stamped at publish time.

Run (from the repo root)::

    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/pipeline.py
    NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/pipeline.py --mode kafka --seconds 10
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from config.city.registry import Sensor, SensorRegistry  # noqa: E402
from streams.bus.base import Bus, Record  # noqa: E402
from streams.codec import decode_readings  # noqa: E402
from streams.consumer import ConsumerLoop, StageCounts  # noqa: E402
from streams.messages import DOMAINS, ReadingBatch  # noqa: E402
from streams.publisher import Publisher  # noqa: E402
from streams.state.base import StateStore  # noqa: E402
from streams.topics import READINGS_TOPICS  # noqa: E402
from streams.validation import Validator  # noqa: E402


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def synthetic_registry(n: int, seed: int = 7) -> SensorRegistry:
    """``n`` sensors spread over the domains, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    lon = 119.2 + 0.2 * rng.random(n)
    lat = 26.0 + 0.1 * rng.random(n)
    return SensorRegistry(
        Sensor(f"{DOMAINS[i % len(DOMAINS)].upper()}-{i:06d}", DOMAINS[i % len(DOMAINS)], "m",
               "u", float(lon[i]), float(lat[i]), "350102", "", -1e9, 1e9, f"A{i}", 1)
        for i in range(n)
    )


class TickSource:
    """One batch per tick: every sensor once, values from a seeded walk, ts = publish time."""

    def __init__(self, registry: SensorRegistry, seed: int = 11) -> None:
        self.ids = registry.ids
        self.rng = np.random.default_rng(seed)
        self.values = self.rng.normal(50.0, 5.0, len(self.ids))

    def batch(self, now_ms: int) -> ReadingBatch:
        self.values += self.rng.normal(0.0, 0.5, len(self.ids))
        n = len(self.ids)
        return ReadingBatch(self.ids, self.values.copy(), np.full(n, now_ms, np.int64))


class StateStage:
    """decode → validate → state write; records lag (write time − ts) per reading."""

    def __init__(self, registry: SensorRegistry, state: StateStore) -> None:
        self.validator = Validator(registry, max_future_ms=60_000, clock=wall_ms)
        self.state = state
        self.written = 0
        self.lag_ms: list[np.ndarray] = []
        self.last_write_s = 0.0

    def process(self, records: list[Record]) -> StageCounts:
        goods: list[ReadingBatch] = []
        idxs: list[np.ndarray] = []
        dead = 0
        for rec in records:
            batch, bad = decode_readings(rec.value, rec.topic)
            good, idx, invalid = self.validator.validate(batch, rec.topic)
            dead += len(bad) + len(invalid)
            goods.append(good)
            idxs.append(idx)
        batch = ReadingBatch.concat(goods)
        self.state.write_readings(batch, np.concatenate(idxs))
        self.lag_ms.append(wall_ms() - batch.ts)
        self.written += len(batch)
        self.last_write_s = time.perf_counter()
        return StageCounts(readings=len(batch), dead_lettered=dead, processed=len(batch))

    def flush(self) -> None:
        pass  # the state store writes synchronously

    def lag_percentiles(self) -> tuple[float, float, float]:
        if not self.lag_ms:
            return (float("nan"),) * 3
        lag = np.concatenate(self.lag_ms)
        p50, p99 = np.percentile(lag, [50, 99])
        return float(p50), float(p99), float(lag.max())


class Stall:
    """Fails the run when the written count stops growing (readings lost or a hang)."""

    def __init__(self, limit_s: float = 30.0) -> None:
        self.limit_s = limit_s
        self.last = -1
        self.since = time.perf_counter()

    def check(self, written: int) -> None:
        now = time.perf_counter()
        if written != self.last:
            self.last, self.since = written, now
        elif now - self.since > self.limit_s:
            raise RuntimeError(f"no progress for {self.limit_s}s at {written} readings written")


def produce(publisher: Publisher, source: TickSource, seconds: float, rate: float | None,
            backlog: Callable[[], int], max_backlog: int) -> int:
    """Publish ticks for ``seconds``; paced at ``rate`` readings/s if given. Readings sent."""
    per_tick = len(source.ids)
    sent = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if rate is not None:
            due = t0 + sent / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        while backlog() > max_backlog:
            time.sleep(0.0005)
        publisher.publish(source.batch(wall_ms()))
        publisher.flush()
        sent += per_tick
    return sent


# ------------------------------------------------------------------------------ embedded
def run_embedded(registry: SensorRegistry, seconds: float, rate: float | None,
                 partitions: int) -> dict[str, float]:
    from streams.bus.memory import MemoryBus
    from streams.state.memory import MemoryStateStore

    bus = MemoryBus(retention_bytes=256 * 1024 * 1024)
    bus.create_topics(READINGS_TOPICS, partitions)
    state = MemoryStateStore(window_s=3600)
    stage = StateStage(registry, state)
    loop = ConsumerLoop(bus.consumer("bench", list(READINGS_TOPICS)), stage.process,
                        stage.flush, poll_timeout_ms=50, max_records=64)
    consumer = threading.Thread(target=loop.run, name="consumer")
    consumer.start()
    publisher = Publisher(bus, registry, partitions)
    t0 = time.perf_counter()
    sent = produce(publisher, TickSource(registry), seconds, rate,
                   lambda: publisher.readings - stage.written, 20 * len(registry))
    stall = Stall()
    while stage.written < sent:
        stall.check(stage.written)
        time.sleep(0.001)
    elapsed = stage.last_write_s - t0
    loop.stop()
    consumer.join()
    bus.close()
    p50, p99, worst = stage.lag_percentiles()
    return {"readings": stage.written, "seconds": elapsed, "rate": stage.written / elapsed,
            "lag_p50_ms": p50, "lag_p99_ms": p99, "lag_max_ms": worst}


# --------------------------------------------------------------------------------- kafka
def _producer_process(bootstrap: str, n_sensors: int, seconds: float, rate: float | None,
                      partitions: int, sent_out: mp.Value) -> None:  # type: ignore[valid-type]
    from streams.bus.kafka import KafkaBus

    registry = synthetic_registry(n_sensors)
    bus = KafkaBus(bootstrap)
    publisher = Publisher(bus, registry, partitions)
    sent = produce(publisher, TickSource(registry), seconds, rate, lambda: 0, 1)
    sent_out.value = sent  # type: ignore[attr-defined]
    bus.close()


def run_kafka(registry: SensorRegistry, seconds: float, rate: float | None, partitions: int,
              bootstrap: str, redis_url: str, concurrent: bool = True) -> dict[str, float]:
    """One phase on a fresh broker: with ``concurrent=False`` the source fills the topics
    first and the consumer then drains them (the consumer process's own capacity)."""
    from streams.bus.kafka import KafkaBus, KafkaOptions
    from streams.state.redis_store import RedisStateStore

    options = KafkaOptions(session_timeout_ms=6000, heartbeat_interval_ms=1000,
                           max_poll_interval_ms=6000)
    bus: Bus = KafkaBus(bootstrap, options)
    bus.create_topics(READINGS_TOPICS, partitions)
    state = RedisStateStore.from_url(redis_url)
    stage = StateStage(registry, state)
    ctx = mp.get_context("spawn")
    sent_out = ctx.Value("q", -1)
    proc = ctx.Process(
        target=_producer_process,
        args=(bootstrap, len(registry), seconds, rate, partitions, sent_out),
    )
    if not concurrent:
        proc.start()
        proc.join()
    consumer = bus.consumer("bench", list(READINGS_TOPICS))
    loop = ConsumerLoop(consumer, stage.process, stage.flush, poll_timeout_ms=100,
                        max_records=64)
    while not consumer.assignment():  # join the group before the clock starts
        loop.run_once()
    if concurrent:
        proc.start()
    first_write = None
    stall = Stall()
    while sent_out.value < 0 or stage.written < sent_out.value:  # type: ignore[attr-defined]
        loop.run_once()
        stall.check(stage.written)
        if first_write is None and stage.written:
            first_write = time.perf_counter()
        if not proc.is_alive() and sent_out.value < 0:  # type: ignore[attr-defined]
            raise RuntimeError("producer process died")
    proc.join()
    consumer.close()
    bus.close()
    state.close()
    p50, p99, worst = stage.lag_percentiles()
    assert first_write is not None
    consuming = stage.last_write_s - first_write  # excludes the producer's start-up
    return {"readings": stage.written, "seconds": consuming,
            "rate": stage.written / consuming, "lag_p50_ms": p50, "lag_p99_ms": p99,
            "lag_max_ms": worst}


def _start_servers(workdir: Path) -> tuple[list[subprocess.Popen[bytes]], str, str]:
    from tests.fixtures.kafka import start_tansu
    from tests.fixtures.ports import free_port
    from tests.fixtures.redis import start_redis

    kport = free_port()
    tansu = start_tansu(kport, workdir / "tansu.log")
    redis_proc, rport = start_redis(workdir)
    return [tansu, redis_proc], f"127.0.0.1:{kport}", f"redis://127.0.0.1:{rport}/0"


def _report(name: str, phase: str, r: dict[str, float]) -> None:
    print(f"{name:9s} {phase:11s} {int(r['readings']):>10,d} readings in {r['seconds']:6.2f}s"
          f"  -> {r['rate']:>10,.0f} readings/s   lag p50 {r['lag_p50_ms']:7.1f} ms"
          f"  p99 {r['lag_p99_ms']:7.1f} ms  max {r['lag_max_ms']:7.1f} ms", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", choices=["embedded", "kafka", "both"], default="both")
    ap.add_argument("--sensors", type=int, default=5000, help="readings per source tick")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=8.0, help="duration of each phase")
    ap.add_argument("--rate", type=float, default=50_000.0,
                    help="paced rate of the lag phase (readings/s)")
    args = ap.parse_args()
    registry = synthetic_registry(args.sensors)
    print(f"{args.sensors} sensors, {args.partitions} partitions per domain topic, "
          f"{args.seconds:.0f}s per phase", flush=True)
    if args.mode in ("embedded", "both"):
        run_embedded(registry, 1.0, None, args.partitions)  # warm-up
        _report("embedded", "throughput", run_embedded(registry, args.seconds, None,
                                                       args.partitions))
        _report("embedded", "lag@rate", run_embedded(registry, args.seconds, args.rate,
                                                     args.partitions))
    if args.mode in ("kafka", "both"):
        if shutil.which("redis-server") is None:
            sys.exit("redis-server not installed")
        from tests.fixtures.kafka import stop_process

        phases = [("drain", None, False), ("throughput", None, True),
                  ("lag@rate", args.rate, True)]
        for phase, rate, concurrent in phases:
            with tempfile.TemporaryDirectory() as tmp:  # fresh broker and Redis per phase
                procs, bootstrap, redis_url = _start_servers(Path(tmp))
                try:
                    _report("kafka+redis", phase, run_kafka(
                        registry, args.seconds, rate, args.partitions, bootstrap, redis_url,
                        concurrent))
                finally:
                    for p in procs:
                        stop_process(p)


if __name__ == "__main__":
    main()
