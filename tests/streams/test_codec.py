"""Codec: columnar round trips, the JSON forms external systems send, and malformed input."""

from __future__ import annotations

import base64
import json

import msgpack
import numpy as np
import pytest

from streams.codec import (
    RAW_LIMIT,
    DecodeError,
    decode_columnar,
    decode_dead_letter,
    decode_readings,
    decode_scores,
    encode_batch,
    encode_dead_letter,
    encode_scores,
)
from streams.messages import DEAD_LETTER_REASONS, DeadLetter, ReadingBatch, ScoreBatch

TOPIC = "citycc.readings.air"
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z


def batch(n: int = 5, seed: int = 1) -> ReadingBatch:
    rng = np.random.default_rng(seed)
    return ReadingBatch(
        tuple(f"AIR-{i:04d}" for i in range(n)),
        rng.normal(50, 20, n),
        T0 + np.arange(n, dtype=np.int64) * 1000,
        (np.arange(n) % 3).astype(np.uint8),
    )


def test_columnar_round_trip_is_exact() -> None:
    b = batch(100)
    back, dead = decode_readings(encode_batch(b), TOPIC)
    assert dead == []
    assert back.sensor_ids == b.sensor_ids
    np.testing.assert_array_equal(back.values, b.values)
    np.testing.assert_array_equal(back.ts, b.ts)
    np.testing.assert_array_equal(back.quality, b.quality)


def test_decoded_columns_are_native_writable_arrays() -> None:
    back, _ = decode_readings(encode_batch(batch()), TOPIC)
    assert back.values.dtype == np.float64 and back.ts.dtype == np.int64
    assert back.values.flags.writeable and back.ts.flags.c_contiguous


def test_columnar_round_trip_keeps_nan_and_empty_batch() -> None:
    b = ReadingBatch(
        ("a", "b"), np.array([np.nan, np.inf]), np.array([1, 2]), np.zeros(2, np.uint8)
    )
    back, _ = decode_readings(encode_batch(b), TOPIC)
    assert np.isnan(back.values[0]) and np.isinf(back.values[1])
    empty, dead = decode_readings(encode_batch(ReadingBatch.from_rows([])), TOPIC)
    assert len(empty) == 0 and dead == []


def test_columnar_wire_layout_is_little_endian_columns() -> None:
    obj = msgpack.unpackb(encode_batch(batch(3)))
    assert obj["v"] == 1 and obj["sid"] == ["AIR-0000", "AIR-0001", "AIR-0002"]
    assert np.frombuffer(obj["ts"], "<i8").tolist() == [T0, T0 + 1000, T0 + 2000]
    assert len(obj["val"]) == 24 and len(obj["q"]) == 3


@pytest.mark.parametrize("version", [0, 2, "1", None])
def test_other_schema_version_is_malformed(version: object) -> None:
    obj = msgpack.unpackb(encode_batch(batch(3)))
    obj["v"] = version
    payload = msgpack.packb(obj)
    back, dead = decode_readings(payload, TOPIC)
    assert len(back) == 0
    assert [d.reason for d in dead] == ["malformed"]
    assert dead[0].raw == payload and dead[0].source_topic == TOPIC
    with pytest.raises(DecodeError, match="version"):
        decode_columnar(payload)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda o: o.pop("sid"),
        lambda o: o.__setitem__("val", o["val"][:-1]),
        lambda o: o.__setitem__("ts", "not bytes"),
        lambda o: o.__setitem__("sid", ["a", 2, "c"]),
        lambda o: o.__setitem__("q", b"\x00"),
    ],
    ids=["no-sid", "short-values", "ts-not-binary", "non-str-id", "short-quality"],
)
def test_inconsistent_columns_are_malformed(mutate: object) -> None:
    obj = msgpack.unpackb(encode_batch(batch(3)))
    mutate(obj)  # type: ignore[operator]
    back, dead = decode_readings(msgpack.packb(obj), TOPIC)
    assert len(back) == 0 and [d.reason for d in dead] == ["malformed"]


def test_missing_quality_column_defaults_to_good() -> None:
    obj = msgpack.unpackb(encode_batch(batch(3)))
    del obj["q"]
    back, dead = decode_readings(msgpack.packb(obj), TOPIC)
    assert dead == [] and back.quality.tolist() == [0, 0, 0]


@pytest.mark.parametrize("payload", [b"", b"\xc1", b"\x93\x01\x02", b"garbage\xff", b"  "])
def test_undecodable_bytes_give_one_malformed_letter(payload: bytes) -> None:
    back, dead = decode_readings(payload, TOPIC)
    assert len(back) == 0 and len(dead) == 1 and dead[0].reason == "malformed"


def test_raw_bytes_of_a_dead_letter_are_bounded() -> None:
    payload = b"\xc1" * (RAW_LIMIT * 10)
    _, dead = decode_readings(payload, TOPIC)
    assert dead[0].raw == payload[:RAW_LIMIT]


def test_json_single_object_with_epoch_ms() -> None:
    payload = json.dumps({"sensor_id": "AIR-1", "value": 12, "ts": T0, "quality": 1}).encode()
    back, dead = decode_readings(payload, TOPIC)
    assert dead == [] and list(back) == [back.reading(0)]
    r = back.reading(0)
    assert (r.sensor_id, r.value, r.ts, r.quality) == ("AIR-1", 12.0, T0, 1)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-11-14T22:13:20Z", T0),
        ("2023-11-14T22:13:20.123Z", T0 + 123),
        ("2023-11-15T06:13:20+08:00", T0),
        ("2023-11-14T22:13:20.5-00:00", T0 + 500),
        ("  2023-11-14 22:13:20+00:00 ", T0),
    ],
)
def test_json_iso_timestamps_with_offset(text: str, expected: int) -> None:
    payload = json.dumps([{"sensor_id": "AIR-1", "value": 1.5, "ts": text}]).encode()
    back, dead = decode_readings(payload, TOPIC)
    assert dead == [] and back.ts.tolist() == [expected]


@pytest.mark.parametrize("text", ["2023-11-14T22:13:20", "yesterday", "", "2023-13-40T00:00:00Z"])
def test_json_naive_or_invalid_iso_timestamp_is_malformed(text: str) -> None:
    payload = json.dumps({"sensor_id": "AIR-1", "value": 1.5, "ts": text}).encode()
    back, dead = decode_readings(payload, TOPIC)
    assert len(back) == 0 and [d.reason for d in dead] == ["malformed"]


def test_json_list_keeps_good_elements_beside_bad_ones() -> None:
    elements = [
        {"sensor_id": "A", "value": 1.0, "ts": T0},
        {"sensor_id": 5, "value": 1.0, "ts": T0},  # wrong_type id
        {"sensor_id": "B", "value": "high", "ts": T0},  # wrong_type value
        {"sensor_id": "C", "value": True, "ts": T0},  # bools are not numbers here
        {"sensor_id": "D", "ts": T0},  # malformed: missing value
        "AIR-1 12.0",  # malformed: not an object
        {"sensor_id": "E", "value": 2.0, "ts": T0 + 1.5},  # wrong_type: fractional ms
        {"sensor_id": "F", "value": 3.0, "ts": T0, "quality": 999},  # wrong_type quality
        {"sensor_id": "G", "value": 4.0, "ts": T0, "v": 2},  # malformed: version
        {"sensor_id": "H", "value": 5, "ts": float(T0), "extra": [1, 2]},
    ]
    back, dead = decode_readings(json.dumps(elements).encode(), TOPIC)
    assert back.sensor_ids == ("A", "H")
    assert back.values.tolist() == [1.0, 5.0] and back.ts.tolist() == [T0, T0]
    assert [d.reason for d in dead] == [
        "wrong_type",
        "wrong_type",
        "wrong_type",
        "malformed",
        "malformed",
        "wrong_type",
        "wrong_type",
        "malformed",
    ]
    assert all(d.source_topic == TOPIC and d.detail for d in dead)
    assert b"high" in dead[1].raw


def test_json_nan_and_huge_numbers_pass_to_the_validator_as_non_finite() -> None:
    payload = (
        b'[{"sensor_id": "A", "value": NaN, "ts": 1}, {"sensor_id": "B", "value": 1e999, "ts": 1},'
        b' {"sensor_id": "C", "value": ' + b"9" * 5000 + b', "ts": 1}]'
    )
    back, dead = decode_readings(payload, TOPIC)
    assert dead == [] and len(back) == 3 and not np.isfinite(back.values).any()


def test_json_huge_integer_timestamp_is_wrong_type() -> None:
    payload = b'[{"sensor_id": "A", "value": 1, "ts": ' + b"1" * 30 + b"}]"
    back, dead = decode_readings(payload, TOPIC)
    assert len(back) == 0 and [d.reason for d in dead] == ["wrong_type"]


@pytest.mark.parametrize("payload", [b"{", b"[1, 2", b'{"a": 1} x', b"[" * 100_000, b"{\xff}"])
def test_broken_json_is_one_malformed_letter(payload: bytes) -> None:
    back, dead = decode_readings(payload, TOPIC)
    assert len(back) == 0 and [d.reason for d in dead] == ["malformed"]


def test_scores_round_trip() -> None:
    s = ScoreBatch(
        ("a", "b"), np.array([T0, T0 + 1]), np.array([0.1, 0.9]), np.array([0, 3], np.int8)
    )
    back = decode_scores(encode_scores(s))
    assert back.sensor_ids == s.sensor_ids
    assert back.score.tolist() == [0.1, 0.9] and back.fault.tolist() == [0, 3]
    assert back.ts.tolist() == [T0, T0 + 1]


@pytest.mark.parametrize(
    "payload", [b"", b"\x80", encode_batch(ReadingBatch.from_rows([("a", 1.0, 1)]))]
)
def test_bad_score_payload_raises_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_scores(payload)


def test_dead_letter_is_json_with_base64_raw() -> None:
    dl = DeadLetter("malformed", "not msgpack", TOPIC, b"\x00\xffabc")
    obj = json.loads(encode_dead_letter(dl))
    assert obj["reason"] == "malformed" and obj["topic"] == TOPIC and obj["detail"] == "not msgpack"
    assert base64.b64decode(obj["raw"]) == b"\x00\xffabc"
    assert decode_dead_letter(encode_dead_letter(dl)) == dl
    assert dl.reason in DEAD_LETTER_REASONS
