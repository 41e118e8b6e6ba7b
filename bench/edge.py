"""Edge throughput: codec, validator, state stores (5 000-reading batches)."""

import json
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
import numpy as np

from config.city.registry import Sensor, SensorRegistry
from streams.codec import decode_readings, encode_batch
from streams.messages import ReadingBatch, ScoreBatch
from streams.state.memory import MemoryStateStore
from streams.state.redis_store import RedisStateStore
from streams.validation import Validator
from tests.fixtures.redis import start_redis, stop_redis

N, ROUNDS, T0 = 5000, 100, 1_700_000_000_000
reg = SensorRegistry(
    Sensor(f"TRF-{i:05d}", "traffic", "speed", "km/h", 0, 0, "", "", 0.0, 200.0, "a", 1)
    for i in range(N)
)
rng = np.random.default_rng(7)
ids, idx = reg.ids, np.arange(N, dtype=np.int64)
batches = [
    ReadingBatch(
        ids, rng.uniform(0, 150, N), np.full(N, T0 + k * 1000, np.int64), np.zeros(N, np.uint8)
    )
    for k in range(ROUNDS)
]
payloads = [encode_batch(b) for b in batches]
topic = "citycc.readings.traffic"


def rate(label, fn, items, rounds=ROUNDS):
    fn(0)
    t = time.perf_counter()
    for k in range(rounds):
        fn(k)
    dt = time.perf_counter() - t
    print(f"{label:58s} {items * rounds / dt:>14,.0f} /s  ({dt / rounds * 1e3:7.3f} ms per batch)")


rate("decode_readings columnar, 5000/batch", lambda k: decode_readings(payloads[k], topic), N)
js = json.dumps([{"sensor_id": s, "value": 1.0, "ts": T0} for s in ids]).encode()
rate("decode_readings JSON list, 5000/batch", lambda k: decode_readings(js, topic), N, 10)
v = Validator(reg, 300_000, lambda: T0 + 10**6)
rate("Validator.validate good batch, 5000/batch", lambda k: v.validate(batches[k], topic), N)
bad = ReadingBatch(
    ids,
    np.where(np.arange(N) % 10 == 0, np.nan, batches[0].values),
    batches[0].ts,
    batches[0].quality,
)
rate("Validator.validate 10% bad rows, 5000/batch", lambda k: v.validate(bad, topic), N, 20)
scores = [ScoreBatch(ids, b.ts, rng.uniform(0, 1, N), np.zeros(N, np.int8)) for b in batches]
# worst case for windows: batches 10 s apart, every reading starts a new window step
spaced = [
    ReadingBatch(ids, b.values, np.full(N, T0 + k * 10_000, np.int64), b.quality)
    for k, b in enumerate(batches)
]


def stores(label, st):
    rate(
        f"{label}.write_readings 1 Hz (window point 1 in 10)",
        lambda k: st.write_readings(batches[k], idx),
        N,
    )
    rate(
        f"{label}.write_readings every row a window point",
        lambda k: st.write_readings(spaced[k], idx),
        N,
    )
    rate(f"{label}.write_scores", lambda k: st.write_scores(scores[k]), N)
    rate(f"{label}.latest_all (5000 sensors) calls", lambda k: st.latest_all(), 1, 20)
    rate(f"{label}.window (one sensor, full window) calls", lambda k: st.window("TRF-00042"), 1, 20)


stores("MemoryStateStore", MemoryStateStore(window_s=3600, clock=lambda: 0))
proc, port = start_redis(pathlib.Path(tempfile.mkdtemp()))
try:
    stores("RedisStateStore", RedisStateStore.from_url(f"redis://127.0.0.1:{port}/0"))
finally:
    stop_redis(proc)
