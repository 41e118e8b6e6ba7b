"""Publisher: per-domain topics, one fixed partition per sensor, unknown ids kept aside."""

from __future__ import annotations

import numpy as np
import pytest

from config.city.registry import Sensor, SensorRegistry, partition_key
from streams.bus.memory import MemoryBus
from streams.bus.partitioner import partition_for
from streams.codec import decode_readings
from streams.messages import DOMAINS, ReadingBatch
from streams.publisher import UNKNOWN_SENSOR_TOPIC, Publisher
from streams.topics import READINGS_TOPICS, readings_topic
from streams.validation import Validator

PARTS = 4


@pytest.fixture
def registry() -> SensorRegistry:
    return SensorRegistry(
        Sensor(f"{d.upper()}-{i:03d}", d, "m", "u", 119.3, 26.1, "350102", "", 0.0, 1e6,
               f"{d}-asset", 60)
        for d in DOMAINS
        for i in range(20)
    )


def _batch(ids: list[str], t0: int = 1_700_000_000_000) -> ReadingBatch:
    n = len(ids)
    return ReadingBatch(tuple(ids), np.arange(n, dtype=np.float64), t0 + np.arange(n))


def _all_records(bus: MemoryBus) -> list:
    c = bus.consumer("check", list(READINGS_TOPICS))
    return c.poll(timeout_ms=0, max_records=100_000)


def test_every_reading_goes_to_its_domain_topic_on_its_sensors_partition(
    registry: SensorRegistry,
) -> None:
    bus = MemoryBus()
    bus.create_topics(READINGS_TOPICS, PARTS)
    pub = Publisher(bus, registry, PARTS)
    ids = [s.sensor_id for s in registry.sensors] * 3
    batch = _batch(ids)
    pub.publish(batch)
    pub.publish(_batch(ids[::-1], t0=1_800_000_000_000))
    pub.flush()
    seen = 0
    for rec in _all_records(bus):
        got, dead = decode_readings(rec.value, rec.topic)
        assert not dead
        for sid in got.sensor_ids:
            sensor = registry.get(sid)
            assert sensor is not None
            assert rec.topic == readings_topic(sensor.domain)
            assert rec.partition == partition_for(partition_key(sensor).encode(), PARTS)
        seen += len(got)
    assert seen == 2 * len(ids) == pub.readings


def test_rows_keep_their_order_within_a_sensor(registry: SensorRegistry) -> None:
    bus = MemoryBus()
    bus.create_topics(READINGS_TOPICS, PARTS)
    sid = registry.ids[5]
    Publisher(bus, registry, PARTS).publish(_batch([sid, registry.ids[50], sid, sid]))
    ts: list[int] = []
    for rec in _all_records(bus):
        got, _ = decode_readings(rec.value, rec.topic)
        ts += [int(t) for s, t in zip(got.sensor_ids, got.ts, strict=True) if s == sid]
    assert ts == sorted(ts) and len(ts) == 3


def test_large_sub_batches_are_split_below_max_readings(registry: SensorRegistry) -> None:
    bus = MemoryBus()
    bus.create_topics(READINGS_TOPICS, PARTS)
    pub = Publisher(bus, registry, PARTS, max_readings=7)
    sid = registry.ids[0]
    assert pub.publish(_batch([sid] * 30)) == 5  # 7 + 7 + 7 + 7 + 2
    sizes = [len(decode_readings(r.value, r.topic)[0]) for r in _all_records(bus)]
    assert sorted(sizes) == [2, 7, 7, 7, 7]


def test_unknown_sensors_travel_alone_and_are_dead_lettered_downstream(
    registry: SensorRegistry,
) -> None:
    bus = MemoryBus()
    bus.create_topics(READINGS_TOPICS, PARTS)
    known = registry.ids[0]
    same_topic_known = next(s.sensor_id for s in registry.sensors
                            if readings_topic(s.domain) == UNKNOWN_SENSOR_TOPIC)
    Publisher(bus, registry, PARTS).publish(_batch([known, "GHOST-1", same_topic_known,
                                                    "GHOST-2"]))
    validator = Validator(registry, max_future_ms=10**15, clock=lambda: 0)
    reasons: dict[str, str] = {}
    for rec in _all_records(bus):
        batch, _ = decode_readings(rec.value, rec.topic)
        ghosts = {s for s in batch.sensor_ids if s.startswith("GHOST")}
        assert not ghosts or ghosts == set(batch.sensor_ids)  # never mixed with known ones
        if ghosts:
            assert rec.topic == UNKNOWN_SENSOR_TOPIC
        good, _, dead = validator.validate(batch, rec.topic)
        for sid in good.sensor_ids:
            reasons[sid] = "ok"
        for d in dead:
            reasons[d.raw.decode(errors="replace")] = d.reason
    assert reasons[known] == "ok" and reasons[same_topic_known] == "ok"
    ghost_reasons = [r for k, r in reasons.items() if "GHOST" in k]
    assert ghost_reasons == ["unknown_sensor", "unknown_sensor"]


def test_an_empty_batch_sends_nothing(registry: SensorRegistry) -> None:
    bus = MemoryBus()
    bus.create_topics(READINGS_TOPICS, PARTS)
    assert Publisher(bus, registry, PARTS).publish(_batch([])) == 0
    assert _all_records(bus) == []


def test_sensors_read_together_share_a_partition(small_city) -> None:
    """Station AQI, particulate build-up and the asset detectors need all of a group's sensors
    in one engine worker: the six pollutants of a station, a hazard source, a water zone."""
    registry = small_city.registry
    bus = MemoryBus()
    bus.create_topics(READINGS_TOPICS, PARTS)
    pub = Publisher(bus, registry, PARTS)
    groups: dict[tuple[str, str], set[int]] = {}
    for s in registry.sensors:
        zone = (s.meta or {}).get("zone") if s.domain == "water" else None
        group = zone or (s.asset_id if s.domain in ("air", "hazard") else None)
        if group:
            route = int(pub.routes((s.sensor_id,))[0])
            groups.setdefault((s.domain, str(group)), set()).add(route)
    assert {d for d, _ in groups} >= {"air", "hazard", "water"}
    assert all(len(routes) == 1 for routes in groups.values())
    # and the load still spreads: traffic detectors over every partition
    traffic = {int(r) % PARTS for r in pub.routes(tuple(registry.ids[i]
                                                     for i in registry.of_domain("traffic")))}
    assert len(traffic) == PARTS
