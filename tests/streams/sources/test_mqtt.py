"""MQTT bridge against a real Mosquitto broker (started by the ``mosquitto_*`` fixtures)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from streams.codec import decode_dead_letter
from streams.sources.mqtt import MqttBridge
from streams.topics import DEAD_LETTER, readings_topic
from tests.fixtures.mqtt import MosquittoServer


class ListProducer:
    """In-memory stand-in for the bus producer: records what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.flushes = 0
        self._lock = threading.Lock()

    def send(
        self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None
    ) -> None:
        with self._lock:
            self.sent.append((topic, key, value))

    def flush(self) -> None:
        self.flushes += 1

    def on(self, topic: str) -> list[tuple[str, bytes | None, bytes]]:
        with self._lock:
            return [s for s in self.sent if s[0] == topic]


def _wait(cond: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _publish(host: str, port: int, messages: list[tuple[str, bytes]]) -> None:
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    pub.connect(host, port)
    pub.loop_start()
    try:
        for topic, payload in messages:
            pub.publish(topic, payload, qos=1).wait_for_publish(timeout=5)
    finally:
        pub.disconnect()
        pub.loop_stop()


@pytest.fixture
def producer() -> ListProducer:
    return ListProducer()


@pytest.fixture
def bridge(mosquitto_broker: tuple[str, int], producer: ListProducer) -> Iterator[MqttBridge]:
    host, port = mosquitto_broker
    b = MqttBridge(host, port, ("citycc/#",), producer)
    b.start()
    assert b.wait_connected(10.0)
    yield b
    b.stop()


def _reading(sensor: str, value: float, ts: int) -> bytes:
    return json.dumps({"sensor_id": sensor, "value": value, "ts": ts}).encode()


def test_payloads_go_unchanged_to_their_domain_topic_keyed_by_device(
    bridge: MqttBridge, producer: ListProducer, mosquitto_broker: tuple[str, int]
) -> None:
    msgs = [
        ("citycc/air/gulou/AIR-0001/pm25", _reading("AIR-0001", 35.5, 1_700_000_000_000)),
        ("citycc/water/n12/WAT-0007/pressure_mpa", b'[{"sensor_id":"WAT-0007","value":0.31}]'),
        ("citycc/traffic/s3/TRF-0042/speed_kmh", b"not even json"),  # bridge does not parse
    ]
    _publish(*mosquitto_broker, msgs)
    _wait(lambda: bridge.forwarded == 3)
    assert producer.on(readings_topic("air")) == [(readings_topic("air"), b"AIR-0001", msgs[0][1])]
    assert producer.on(readings_topic("water"))[0][1:] == (b"WAT-0007", msgs[1][1])
    assert producer.on(readings_topic("traffic"))[0][1:] == (b"TRF-0042", b"not even json")
    assert bridge.messages_in == 3 and bridge.rejected == 0


def test_bad_topics_are_dead_lettered_and_counted(
    bridge: MqttBridge, producer: ListProducer, mosquitto_broker: tuple[str, int]
) -> None:
    _publish(
        *mosquitto_broker,
        [
            ("citycc/weather/s1/W-1/temp", b"1"),  # unknown domain
            ("citycc/air/AIR-0001/pm25", b"2"),  # a level missing
            ("citycc/air/gulou/AIR-0001/pm25/extra", b"3"),  # a level too many
            ("citycc/air/gulou/AIR-0001/status", b"online"),  # device status: not a reading
            ("citycc/hazard/plant/HZ-9/pressure_kpa", b"4"),
        ],
    )
    _wait(lambda: bridge.messages_in == 5)
    assert (bridge.forwarded, bridge.rejected, bridge.skipped) == (1, 3, 1)
    dead = [decode_dead_letter(v) for _, _, v in producer.on(DEAD_LETTER)]
    assert [d.reason for d in dead] == ["malformed"] * 3
    assert {d.source_topic for d in dead} == {
        "citycc/weather/s1/W-1/temp",
        "citycc/air/AIR-0001/pm25",
        "citycc/air/gulou/AIR-0001/pm25/extra",
    }
    assert dead[0].raw == b"1" and "domain" in dead[0].detail
    assert bridge.counters()["mqtt_rejected"] == 3


def test_bridge_reconnects_after_a_broker_restart(mosquitto_server: MosquittoServer) -> None:
    producer = ListProducer()
    host, port = mosquitto_server.address
    with MqttBridge(host, port, producer=producer, reconnect_min_s=1, keepalive_s=5) as b:
        assert b.wait_connected(10.0)
        _publish(host, port, [("citycc/air/a/AIR-1/pm25", b"before")])
        _wait(lambda: b.forwarded == 1)
        mosquitto_server.restart()  # no persistence: subscriptions are gone with it
        _wait(lambda: b.connects >= 2 and b.connected, timeout_s=15.0)
        _publish(host, port, [("citycc/air/a/AIR-1/pm25", b"after")])
        _wait(lambda: b.forwarded == 2)
    assert [v for _, _, v in producer.sent] == [b"before", b"after"]
    assert producer.flushes >= 1  # stop() flushed the bus


def test_producer_failure_is_counted_and_does_not_stop_the_bridge(
    mosquitto_broker: tuple[str, int],
) -> None:
    class Flaky(ListProducer):
        def send(self, topic: str, value: bytes, key: bytes | None = None,
                 partition: int | None = None) -> None:  # fmt: skip
            if value == b"boom":
                raise ConnectionError("bus down")
            super().send(topic, value, key, partition)

    producer = Flaky()
    with MqttBridge(*mosquitto_broker, producer=producer, flush_each=True) as b:
        assert b.wait_connected(10.0)
        _publish(*mosquitto_broker, [("citycc/unit/u/U-1/lat", v) for v in (b"boom", b"ok")])
        _wait(lambda: b.messages_in == 2)
        _wait(lambda: b.forwarded == 1)
    assert b.errors == 1 and producer.sent[0][2] == b"ok" and producer.flushes >= 1


def test_bridge_needs_a_producer() -> None:
    with pytest.raises(ValueError, match="producer"):
        MqttBridge("127.0.0.1", 1883)
