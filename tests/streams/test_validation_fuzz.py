"""Validator under generated batches: never raises, never loses a good row.

Each example is a columnar batch of arbitrary ids (registered or not), any float64
(NaN, ±inf, subnormals, huge) and any int64 time; the expected reason of every row is
computed independently, row by row, and compared with the vectorised result.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.city.registry import Sensor, SensorRegistry
from streams.codec import decode_readings, encode_batch
from streams.messages import ReadingBatch
from streams.validation import Validator

NOW = 1_700_000_000_000
MAX_FUTURE_MS = 300_000
TOPIC = "citycc.readings.water"
FUZZ = settings(
    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

SENSORS = [
    Sensor(f"WAT-{i}", "water", "m", "u", 0.0, 0.0, "", "", -float(i), 10.0 * (i + 1), "A", 60)
    for i in range(6)
]
SENSORS.append(Sensor("AIR-0", "air", "m", "u", 0.0, 0.0, "", "", 0.0, 500.0, "A", 60))
REGISTRY = SensorRegistry(SENSORS)


def expected_reason(sid: str, value: float, ts: int) -> str:
    s = REGISTRY.get(sid)
    if not math.isfinite(value):
        return "non_finite"
    if s is None or s.domain != "water":
        return "unknown_sensor"
    if not s.lo <= value <= s.hi:
        return "out_of_range"
    if ts > NOW + MAX_FUTURE_MS:
        return "future_ts"
    return "good"


rows = st.tuples(
    st.sampled_from([s.sensor_id for s in SENSORS]) | st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True) | st.floats(-20, 70),
    st.integers(-(2**63), 2**63 - 1) | st.integers(NOW - 10**9, NOW + 2 * MAX_FUTURE_MS),
    st.integers(0, 255),
)


@settings(FUZZ, max_examples=2000)
@given(st.lists(rows, max_size=30), st.booleans())
def test_validator_splits_every_row_correctly(
    data: list[tuple[str, float, int, int]], through_wire: bool
) -> None:
    batch = ReadingBatch(
        tuple(r[0] for r in data),
        np.array([r[1] for r in data], np.float64),
        np.array([r[2] for r in data], np.int64),
        np.array([r[3] for r in data], np.uint8),
    )
    if through_wire:  # the same rows after a columnar round trip
        batch, dead = decode_readings(encode_batch(batch), TOPIC)
        assert dead == []
    v = Validator(REGISTRY, MAX_FUTURE_MS, lambda: NOW)
    good, idx, dead = v.validate(batch, TOPIC)
    want = [expected_reason(sid, val, ts) for sid, val, ts, _ in data]
    keep = [i for i, w in enumerate(want) if w == "good"]
    assert len(good) + len(dead) == len(data)
    assert list(good.sensor_ids) == [data[i][0] for i in keep]
    assert good.quality.tolist() == [data[i][3] for i in keep]
    np.testing.assert_array_equal(good.values, [data[i][1] for i in keep])
    assert idx.tolist() == [REGISTRY.index_of(data[i][0]) for i in keep]
    assert [d.reason for d in dead] == [w for w in want if w != "good"]
    assert v.counts.total() == len(dead)
