"""Bad input at the bus edge: thousands of generated payloads, nothing escapes.

About 10 000 generated messages over this file (4 500 + 2 000 + 500 + 1 000) and
``test_validation_fuzz.py`` (2 000): random bytes, mutated columnar payloads, arbitrary
JSON, and JSON lists that mix good records with records carrying exactly one known
defect. Every bad record must be dead-lettered with the right reason and every good
record must survive, in order.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.city.registry import Sensor, SensorRegistry
from streams.codec import decode_readings, encode_batch
from streams.messages import DEAD_LETTER_REASONS, ReadingBatch
from streams.validation import Validator

TOPIC = "citycc.readings.air"
NOW = 1_700_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_FUTURE_MS = 300_000
FUZZ = settings(
    deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)

SENSORS = [(f"AIR-{i}", float(-10 * i), float(100 + 50 * i)) for i in range(8)]
REGISTRY = SensorRegistry(
    Sensor(sid, "air", "m", "u", 0.0, 0.0, "", "", lo, hi, "A", 60) for sid, lo, hi in SENSORS
)


def check_invariants(payload: bytes) -> tuple[ReadingBatch, list[Any]]:
    batch, dead = decode_readings(payload, TOPIC)
    assert isinstance(batch, ReadingBatch)
    assert all(d.reason in DEAD_LETTER_REASONS and d.source_topic == TOPIC for d in dead)
    assert all(isinstance(d.raw, bytes) and len(d.raw) <= 2048 for d in dead)
    assert batch.values.dtype == np.float64 and batch.ts.dtype == np.int64
    return batch, dead


@settings(FUZZ, max_examples=4500)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(payload: bytes) -> None:
    batch, dead = check_invariants(payload)
    if payload.lstrip()[:1] not in (b"{", b"["):
        # a columnar payload decodes whole or is one malformed letter, never half
        assert (len(dead) == 0) or (len(batch) == 0 and [d.reason for d in dead] == ["malformed"])


def _columnar(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return encode_batch(
        ReadingBatch(
            tuple(f"AIR-{i % 8}" for i in range(n)),
            rng.normal(0, 100, n),
            NOW + rng.integers(-(10**6), 10**6, n),
            rng.integers(0, 3, n).astype(np.uint8),
        )
    )


@settings(FUZZ, max_examples=2000)
@given(
    n=st.integers(0, 40),
    seed=st.integers(0, 2**16),
    edits=st.lists(
        st.tuples(
            st.sampled_from(["flip", "cut", "insert", "delete"]),
            st.integers(0, 10**4),
            st.integers(0, 255),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_columnar_payloads_decode_whole_or_dead_letter(
    n: int, seed: int, edits: list[tuple[str, int, int]]
) -> None:
    buf = bytearray(_columnar(n, seed))
    for op, pos, byte in edits:
        p = pos % (len(buf) + 1)
        if op == "flip" and p < len(buf):
            buf[p] ^= byte or 1
        elif op == "cut":
            del buf[p:]
        elif op == "insert":
            buf.insert(p, byte)
        elif op == "delete" and p < len(buf):
            del buf[p]
    batch, dead = check_invariants(bytes(buf))
    if dead and bytes(buf).lstrip()[:1] not in (b"{", b"["):
        assert len(batch) == 0 and [d.reason for d in dead] == ["malformed"]
    assert len(batch.sensor_ids) == len(batch.values) == len(batch.ts) == len(batch.quality)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(FUZZ, max_examples=500)
@given(st.lists(json_values, max_size=6) | json_values)
def test_arbitrary_json_never_raises_and_counts_add_up(obj: Any) -> None:
    payload = json.dumps(obj).encode()
    batch, dead = check_invariants(payload)
    if isinstance(obj, list) and payload.lstrip()[:1] == b"[":
        assert len(batch) + len(dead) == len(obj)
    good, idx, bad = Validator(REGISTRY, MAX_FUTURE_MS, lambda: NOW).validate(batch, TOPIC)
    assert len(good) + len(bad) == len(batch) and len(idx) == len(good)


# ---------------------------------------------------------------- records with known defects

good_ts = st.integers(NOW - 10**10, NOW + MAX_FUTURE_MS)


@st.composite
def good_record(draw: st.DrawFn) -> dict[str, Any]:
    sid, lo, hi = draw(st.sampled_from(SENSORS))
    rec: dict[str, Any] = {"sensor_id": sid, "value": draw(st.floats(lo, hi))}
    ts = draw(good_ts)
    if draw(st.booleans()):
        offset = timedelta(minutes=draw(st.integers(-12 * 60, 14 * 60)))
        when = (EPOCH + timedelta(milliseconds=ts)).astimezone(timezone(offset))
        rec["ts"] = when.isoformat(timespec="milliseconds")
    else:
        rec["ts"] = ts
    if draw(st.booleans()):
        rec["quality"] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        rec["v"] = 1
    return rec


not_a_number = st.one_of(
    st.text(max_size=5), st.none(), st.booleans(), st.lists(st.integers(), max_size=2)
)


@st.composite
def bad_record(draw: st.DrawFn) -> tuple[Any, str]:
    """A good record with exactly one defect, and the reason it must be dead-lettered for."""
    rec = draw(good_record())
    sid, lo, hi = next(s for s in SENSORS if s[0] == rec["sensor_id"])
    kind = draw(
        st.sampled_from(
            [
                "nan",
                "inf",
                "huge_int",
                "unknown",
                "above",
                "below",
                "future",
                "id_type",
                "value_type",
                "ts_type",
                "ts_frac",
                "quality",
                "missing",
                "not_object",
                "naive_iso",
                "bad_iso",
                "version",
            ]
        )
    )
    if kind == "nan":
        rec["value"] = float("nan")
        return rec, "non_finite"
    if kind == "inf":
        rec["value"] = draw(st.sampled_from([float("inf"), float("-inf")]))
        return rec, "non_finite"
    if kind == "huge_int":
        rec["value"] = draw(st.integers(10**20, 10**400))
        # JSON keeps the digits; beyond float64 they decode to inf
        return rec, "non_finite" if math.isinf(float(str(rec["value"]))) else "out_of_range"
    if kind == "unknown":
        rec["sensor_id"] = draw(st.text(max_size=12).filter(lambda s: s not in REGISTRY))
        return rec, "unknown_sensor"
    if kind == "above":
        rec["value"] = draw(st.floats(hi, 1e300, exclude_min=True))
        return rec, "out_of_range"
    if kind == "below":
        rec["value"] = draw(st.floats(-1e300, lo, exclude_max=True))
        return rec, "out_of_range"
    if kind == "future":
        rec["ts"] = draw(st.integers(NOW + MAX_FUTURE_MS + 1, 2**62))
        return rec, "future_ts"
    if kind == "id_type":
        rec["sensor_id"] = draw(
            st.one_of(st.integers(), st.none(), st.lists(st.text(), max_size=2))
        )
        return rec, "wrong_type"
    if kind == "value_type":
        rec["value"] = draw(not_a_number)
        return rec, "wrong_type"
    if kind == "ts_type":
        rec["ts"] = draw(
            st.one_of(
                st.none(),
                st.booleans(),
                st.lists(st.integers(), max_size=2),
                st.integers(2**63, 2**70),
                st.just(float("nan")),
            )
        )
        return rec, "wrong_type"
    if kind == "ts_frac":
        rec["ts"] = NOW + 0.25
        return rec, "wrong_type"
    if kind == "quality":
        rec["quality"] = draw(
            st.one_of(
                st.integers(256, 10**6),
                st.integers(-(10**6), -1),
                st.text(max_size=3),
                st.floats(),
                st.booleans(),
            )
        )
        return rec, "wrong_type"
    if kind == "missing":
        for k in draw(
            st.lists(st.sampled_from(["sensor_id", "value", "ts"]), min_size=1, unique=True)
        ):
            del rec[k]
        return rec, "malformed"
    if kind == "not_object":
        return draw(
            st.one_of(
                st.integers(), st.text(max_size=10), st.none(), st.lists(st.integers(), max_size=3)
            )
        ), "malformed"
    if kind == "naive_iso":
        rec["ts"] = "2023-11-14T22:13:20"
        return rec, "malformed"
    if kind == "bad_iso":
        rec["ts"] = draw(st.sampled_from(["soon", "2023-02-30T00:00:00Z", "12:00", ""]))
        return rec, "malformed"
    rec["v"] = draw(st.integers().filter(lambda v: v != 1))
    return rec, "malformed"


labelled = st.one_of(good_record().map(lambda r: (r, "good")), bad_record())


@settings(FUZZ, max_examples=1000)
@given(st.lists(labelled, max_size=12))
def test_mixed_json_lists_keep_every_good_record_and_name_every_bad_one(
    items: list[tuple[Any, str]],
) -> None:
    payload = json.dumps([rec for rec, _ in items]).encode()
    batch, dead = check_invariants(payload)
    good, idx, invalid = Validator(REGISTRY, MAX_FUTURE_MS, lambda: NOW).validate(batch, TOPIC)
    dead = dead + invalid
    expected_good = [rec for rec, label in items if label == "good"]
    assert len(good) + len(dead) == len(items)
    assert list(good.sensor_ids) == [r["sensor_id"] for r in expected_good]
    assert good.values.tolist() == [float(r["value"]) for r in expected_good]
    assert idx.tolist() == [REGISTRY.index_of(r["sensor_id"]) for r in expected_good]
    assert sorted(d.reason for d in dead) == sorted(label for _, label in items if label != "good")
