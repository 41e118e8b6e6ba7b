"""MQTT → bus bridge: field devices publish to a broker, the pipeline reads the bus.

Why a bridge and not an MQTT consumer stage: the bus (in-process or Kafka) is the log
the engine replays and scales on; MQTT is only the edge protocol of the devices. The
bridge therefore does as little as possible - it routes each message by its topic and
forwards the payload **unchanged**; decoding and validation (``streams/codec.py``) stay
in the consumer stage, which dead-letters bad payloads with a precise reason.

Topic convention (DOMAIN.md §7.5): ``{city}/{domain}/{site}/{device}/{metric}``, QoS 1.

- ``domain`` one of :data:`streams.messages.DOMAINS` → the payload goes to
  ``readings_topic(domain)`` with the record key = ``device`` (the sensor id), so one
  sensor's readings stay in one partition, in order.
- ``metric == "status"`` (the retained last-will / online topic of a device) is not a
  reading: counted as ``skipped``, not forwarded.
- anything else (wrong number of levels, empty level, unknown domain) → the dead-letter
  topic as a ``DeadLetter(reason="malformed")`` with the MQTT topic and raw payload,
  counted as ``rejected``.

Delivery: paho acknowledges a QoS 1 message when the callback returns, i.e. after
``producer.send`` (buffered) but before the producer's own flush; ``flush_each=True``
flushes every message before the ack (at-least-once end to end, slower). ``stop()``
always flushes. A producer error is logged and counted (``errors``); it never kills the
network thread. With a fixed ``client_id`` the session is persistent
(``clean_session=False``): the broker queues QoS 1 messages while the bridge is away.
The bridge reconnects by itself (paho's exponential ``reconnect_delay_set``) and
re-subscribes on every connect, so a broker restart without persistence is survived.

>>> sent = []
>>> class ListProducer:
...     def send(self, topic, value, key=None, partition=None): sent.append((topic, key, value))
...     def flush(self): pass
>>> bridge = MqttBridge("127.0.0.1", 1, producer=ListProducer())
>>> bridge.route("fuzhou/air/gulou/AIR-0001/pm25", b'{"v":1}')
'forwarded'
>>> bridge.route("fuzhou/weather/x/y/z", b"{}"), sent[0][:2], sent[1][0]
('rejected', ('citycc.readings.air', b'AIR-0001'), 'citycc.deadletter')
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from streams.codec import RAW_LIMIT, encode_dead_letter
from streams.messages import DOMAINS, DeadLetter
from streams.topics import DEAD_LETTER, readings_topic

log = logging.getLogger(__name__)

Outcome = Literal["forwarded", "rejected", "skipped", "error"]
_TOPIC_FORM = "{city}/{domain}/{site}/{device}/{metric}"


class Producer(Protocol):
    """The bus producer interface the bridge needs (``streams/bus/``)."""

    def send(
        self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None
    ) -> Any: ...

    def flush(self) -> Any: ...


class MqttBridge:
    """Subscribe to device topics (QoS 1) and forward payloads to the bus readings topics.

    Parameters
    ----------
    host, port : the MQTT broker.
    topics : subscription filters (default ``("citycc/#",)``).
    producer : bus producer (``send(topic, value, key=...)``, ``flush()``).
    client_id : fixed id → persistent session; empty → random id, clean session.
    username, password : optional broker credentials.
    keepalive_s : MQTT keep-alive; also bounds how fast a dead broker is noticed.
    reconnect_min_s, reconnect_max_s : paho's exponential reconnect back-off.
    flush_each : flush the producer before acknowledging each message.
    """

    def __init__(
        self,
        host: str,
        port: int,
        topics: Sequence[str] = ("citycc/#",),
        producer: Producer | None = None,
        *,
        client_id: str = "",
        username: str | None = None,
        password: str | None = None,
        keepalive_s: int = 30,
        reconnect_min_s: int = 1,
        reconnect_max_s: int = 30,
        flush_each: bool = False,
    ) -> None:
        if producer is None:
            raise ValueError("MqttBridge needs a producer (the bus to forward to)")
        if isinstance(topics, str):
            topics = (topics,)
        self.host = host
        self.port = int(port)
        self.topics: tuple[str, ...] = tuple(topics)
        self.producer = producer
        self.flush_each = flush_each
        self.keepalive_s = keepalive_s
        #: messages received / forwarded to readings / dead-lettered / status skipped /
        #: producer errors / successful (re)connects
        self.messages_in = 0
        self.forwarded = 0
        self.rejected = 0
        self.skipped = 0
        self.errors = 0
        self.connects = 0
        self._connected = threading.Event()
        self._started = False
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not client_id,
            protocol=mqtt.MQTTv311,
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.reconnect_delay_set(min_delay=reconnect_min_s, max_delay=reconnect_max_s)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self._subscribe_mid: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Connect in the background and keep (re)connecting until :meth:`stop`."""
        if self._started:
            raise RuntimeError("MqttBridge already started")
        self._started = True
        self._client.connect_async(self.host, self.port, keepalive=self.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect, stop the network thread and flush the producer. Idempotent."""
        if not self._started:
            return
        self._started = False
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()
        self.producer.flush()

    def __enter__(self) -> MqttBridge:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """Block until connected *and* subscribed (True) or ``timeout_s`` passed (False)."""
        return self._connected.wait(timeout_s)

    def counters(self) -> dict[str, int]:
        """Snapshot of the counters (for ``/healthz`` and ``/metrics``)."""
        return {
            "mqtt_in": self.messages_in,
            "mqtt_forwarded": self.forwarded,
            "mqtt_rejected": self.rejected,
            "mqtt_skipped": self.skipped,
            "mqtt_errors": self.errors,
            "mqtt_connects": self.connects,
        }

    # ------------------------------------------------------------------ routing

    def route(self, topic: str, payload: bytes) -> Outcome:
        """Forward one MQTT message to the bus; returns what happened (and counts it)."""
        self.messages_in += 1
        parts = topic.split("/")
        try:
            if len(parts) == 5 and all(parts) and parts[1] in DOMAINS:
                if parts[4] == "status":
                    self.skipped += 1
                    return "skipped"
                self.producer.send(
                    readings_topic(parts[1]),  # type: ignore[arg-type]  # checked above
                    payload,
                    key=parts[3].encode("utf-8"),
                )
                outcome: Outcome = "forwarded"
            else:
                detail = (
                    f"MQTT topic {topic!r} does not match {_TOPIC_FORM} with domain in "
                    f"{'|'.join(DOMAINS)}"
                )
                dead = DeadLetter("malformed", detail[:500], topic, payload[:RAW_LIMIT])
                self.producer.send(DEAD_LETTER, encode_dead_letter(dead))
                outcome = "rejected"
            if self.flush_each:
                self.producer.flush()
        except Exception:  # the bus edge: any producer failure is counted, not fatal
            self.errors += 1
            log.exception("MQTT bridge could not hand a message from %r to the bus", topic)
            return "error"
        if outcome == "forwarded":
            self.forwarded += 1
        else:
            self.rejected += 1
        return outcome

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            log.warning("MQTT broker %s:%s refused the connection: %s", self.host, self.port,
                        reason_code)  # fmt: skip
            return
        self.connects += 1
        result, self._subscribe_mid = client.subscribe([(t, 1) for t in self.topics])
        if result != mqtt.MQTT_ERR_SUCCESS:
            log.warning("MQTT subscribe to %s failed: %s", self.topics, result)

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any
    ) -> None:
        if mid != self._subscribe_mid:
            return
        refused = [rc for rc in reason_codes if rc.is_failure]
        if refused:
            log.warning("MQTT broker refused subscriptions %s: %s", self.topics, refused)
            return
        log.info("MQTT bridge connected to %s:%s, subscribed to %s", self.host, self.port,
                 self.topics)  # fmt: skip
        self._connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        self._connected.clear()
        if self._started:
            log.warning("MQTT bridge lost %s:%s (%s); reconnecting", self.host, self.port,
                        reason_code)  # fmt: skip

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.route(msg.topic, bytes(msg.payload))
