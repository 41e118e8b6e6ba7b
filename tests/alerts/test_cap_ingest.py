"""CAP messages read from a bus topic become alerts; a bad message is dead-lettered, not fatal."""

from __future__ import annotations

import threading

from alerts.cap import alert_to_cap
from alerts.cap_ingest import CAP_IN_TOPIC, CapIngest, consume
from alerts.model import ACTIVE, Alert
from streams.bus.memory import MemoryBus
from streams.codec import decode_dead_letter
from streams.topics import DEAD_LETTER
from tests.alerts.conftest import T0


def test_topic_messages_become_alerts(service):
    bus = MemoryBus()
    bus.create_topics([CAP_IN_TOPIC, DEAD_LETTER], 1)
    good = alert_to_cap(Alert.new("X-1", "cap", "city", "cap:qx", 2, "台风橙色预警", "Typhoon",
                                  (), 119.3, 26.08, "350102", T0,
                                  cap_identifier="35000041600000_20260601083000_0"),
                        service.rules, T0)
    p = bus.producer()
    p.send(CAP_IN_TOPIC, b"<!DOCTYPE x [<!ENTITY a 'b'>]><alert/>")
    p.send(CAP_IN_TOPIC, good)
    p.flush()
    stop = threading.Event()
    th = threading.Thread(target=consume, args=(bus, CapIngest(service), stop))
    th.start()
    for _ in range(100):
        if service.store.alerts(state=ACTIVE):
            break
        stop.wait(0.05)
    stop.set()
    th.join(5)
    [a] = service.store.alerts(state=ACTIVE)
    assert a.title_zh == "台风橙色预警" and a.level == 2
    assert service.store.timeline(a.id)[0].actor == "cap-topic"
    # the hostile message (a DTD with an entity) went to the dead-letter topic with a reason
    dlq = bus.consumer("dlq", [DEAD_LETTER])
    [rec] = dlq.poll(timeout_ms=1000, max_records=10)
    dead = decode_dead_letter(rec.value)
    assert dead.reason == "malformed" and dead.source_topic == CAP_IN_TOPIC
