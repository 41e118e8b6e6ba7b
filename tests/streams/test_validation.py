"""Validator: each rule, order kept, domain of the topic, per-reason counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from config.city.registry import Sensor, SensorRegistry
from streams.messages import DEAD_LETTER_REASONS, ReadingBatch
from streams.validation import ReasonCounter, Validator

NOW = 1_700_000_000_000
AIR = "citycc.readings.air"


def make_registry() -> SensorRegistry:
    def sensor(sid: str, domain: str, lo: float, hi: float) -> Sensor:
        return Sensor(sid, domain, "m", "u", 119.3, 26.0, "350102", "", lo, hi, "A", 60)  # type: ignore[arg-type]

    return SensorRegistry(
        [
            sensor("AIR-1", "air", 0.0, 1000.0),
            sensor("AIR-2", "air", -40.0, 60.0),
            sensor("TRF-1", "traffic", 0.0, 200.0),
        ]
    )


@pytest.fixture
def validator() -> Validator:
    return Validator(make_registry(), max_future_ms=300_000, clock=lambda: NOW)


def rows(*r: tuple[str, float, int]) -> ReadingBatch:
    return ReadingBatch.from_rows(list(r))


def test_good_batch_passes_whole_with_dense_indices(validator: Validator) -> None:
    b = rows(("AIR-2", 10.0, NOW), ("AIR-1", 0.0, NOW - 10), ("AIR-2", 60.0, NOW + 300_000))
    good, idx, dead = validator.validate(b, AIR)
    assert dead == [] and good.sensor_ids == b.sensor_ids and idx.tolist() == [1, 0, 1]
    assert idx.dtype == np.int64 and validator.counts.total() == 0


@pytest.mark.parametrize(
    "row, reason",
    [
        (("AIR-1", float("nan"), NOW), "non_finite"),
        (("AIR-1", float("inf"), NOW), "non_finite"),
        (("AIR-1", float("-inf"), NOW), "non_finite"),
        (("AIR-9", 1.0, NOW), "unknown_sensor"),
        (("", 1.0, NOW), "unknown_sensor"),
        (("AIR-1", -0.001, NOW), "out_of_range"),
        (("AIR-2", 60.5, NOW), "out_of_range"),
        (("AIR-1", 1.0, NOW + 300_001), "future_ts"),
    ],
)
def test_each_rule_dead_letters_its_row(
    validator: Validator, row: tuple[str, float, int], reason: str
) -> None:
    b = rows(("AIR-1", 5.0, NOW), row, ("AIR-2", 6.0, NOW))
    good, idx, dead = validator.validate(b, AIR)
    assert good.values.tolist() == [5.0, 6.0] and idx.tolist() == [0, 1]
    assert [d.reason for d in dead] == [reason]
    assert dead[0].source_topic == AIR and reason in DEAD_LETTER_REASONS
    assert json.loads(dead[0].raw)["sensor_id"] == row[0]
    assert validator.counts[reason] == 1


def test_sensor_on_another_domains_topic_is_unknown_there(validator: Validator) -> None:
    b = rows(("TRF-1", 50.0, NOW), ("AIR-1", 5.0, NOW))
    good, idx, dead = validator.validate(b, AIR)
    assert good.sensor_ids == ("AIR-1",) and idx.tolist() == [0]
    assert [d.reason for d in dead] == ["unknown_sensor"] and "traffic" in dead[0].detail
    good, idx, dead = validator.validate(b, "citycc.readings.traffic")
    assert good.sensor_ids == ("TRF-1",)


def test_topic_without_domain_skips_the_domain_rule(validator: Validator) -> None:
    good, _, dead = validator.validate(rows(("TRF-1", 50.0, NOW), ("AIR-1", 5.0, NOW)), "replay")
    assert len(good) == 2 and dead == []


def test_first_failing_rule_names_the_reason(validator: Validator) -> None:
    b = rows(
        ("NOPE", float("nan"), NOW + 10**9), ("NOPE", 1e9, NOW + 10**9), ("AIR-1", 1e9, NOW + 10**9)
    )
    _, _, dead = validator.validate(b, AIR)
    assert [d.reason for d in dead] == ["non_finite", "unknown_sensor", "out_of_range"]


def test_clock_is_read_per_batch() -> None:
    now = [NOW]
    v = Validator(make_registry(), max_future_ms=0, clock=lambda: now[0])
    b = rows(("AIR-1", 1.0, NOW + 1000))
    assert [d.reason for d in v.validate(b, AIR)[2]] == ["future_ts"]
    now[0] += 1000
    assert v.validate(b, AIR)[2] == []


def test_quality_flags_survive_validation(validator: Validator) -> None:
    b = ReadingBatch(
        ("AIR-1", "X", "AIR-2"),
        np.array([1.0, 2.0, 3.0]),
        np.full(3, NOW, np.int64),
        np.array([2, 0, 1], np.uint8),
    )
    good, _, _ = validator.validate(b, AIR)
    assert good.quality.tolist() == [2, 1]


def test_empty_batch(validator: Validator) -> None:
    good, idx, dead = validator.validate(ReadingBatch.from_rows([]), AIR)
    assert len(good) == 0 and len(idx) == 0 and dead == []


def test_counts_accumulate_per_reason(validator: Validator) -> None:
    for _ in range(3):
        validator.validate(rows(("X", 1.0, NOW), ("AIR-1", float("nan"), NOW)), AIR)
    snap = validator.counts.snapshot()
    assert snap["unknown_sensor"] == 3 and snap["non_finite"] == 3
    assert set(DEAD_LETTER_REASONS) <= set(snap) and validator.counts.total() == 6


def test_reason_counter_counts_decoder_letters_too() -> None:
    from streams.codec import decode_readings

    c = ReasonCounter()
    c.count(decode_readings(b"\xc1", AIR)[1])
    assert c["malformed"] == 1
