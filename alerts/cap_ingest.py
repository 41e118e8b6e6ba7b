"""Incoming CAP messages (REST body or a bus topic) → alerts, through the lifecycle service.

``Alert``/``Update`` create (or refresh, by CAP identifier) an alert of type ``cap``
(or our own type when the message is one of our exports); ``Cancel`` clears the alerts
it references. Anything malformed raises :class:`~alerts.cap_parse.CapError` (→ 400)
and, on the topic, is logged and skipped: one bad message never stops the loop.

>>> from streams.clock import ManualClock
>>> from alerts.store import AlertStore, Database
>>> from alerts.lifecycle import AlertService
>>> ingest = CapIngest(AlertService(AlertStore(Database("sqlite://:memory:")), ManualClock(0)))
>>> try:
...     ingest.handle(b"<alert/>", "api")
... except CapError as e:
...     print(e.problems[0][:30])
root element must be <alert> i
"""

from __future__ import annotations

import logging
import threading

from alerts.cap_parse import CapError, cap_to_alert, parse_cap
from alerts.lifecycle import AlertService
from alerts.model import ACTIVE, Alert
from streams.bus.base import Bus
from streams.codec import encode_dead_letter
from streams.messages import DeadLetter
from streams.state import StateStore
from streams.topics import CAP_IN, DEAD_LETTER

log = logging.getLogger(__name__)

#: topic carrying raw CAP XML from outside senders (e.g. a weather service gateway)
CAP_IN_TOPIC = CAP_IN


class CapIngest:
    def __init__(self, service: AlertService) -> None:
        self.service = service

    def handle(self, data: bytes, actor: str) -> tuple[str, list[Alert]]:
        """Apply one CAP message; returns ``(msgType, alerts touched)``."""
        msg = cap_to_alert(parse_cap(data))
        if msg.msg_type in ("Ack", "Error"):
            return msg.msg_type, []
        if msg.msg_type == "Cancel":
            touched = []
            for ident in msg.references or (msg.identifier,):
                old = self.service.store.by_cap_identifier(ident)
                if old is not None and old.state == ACTIVE:
                    why = f"CAP Cancel {msg.identifier}"
                    touched.append(self.service.clear(old.id, actor, why))
            return msg.msg_type, touched
        draft = msg.draft.replace(state=ACTIVE)
        if msg.msg_type == "Update":
            for ident in msg.references:
                old = self.service.store.by_cap_identifier(ident)
                if old is not None and old.state == ACTIVE:
                    self.service.clear(old.id, actor, f"CAP Update {msg.identifier}")
        return msg.msg_type, [self.service.import_alert(draft, actor)]


def consume(bus: Bus, ingest: CapIngest, stop: threading.Event, group: str = "citycc-cap",
            state: StateStore | None = None) -> None:
    """Read :data:`CAP_IN_TOPIC` until ``stop`` is set.

    A message that is not valid CAP 1.2 goes to the dead-letter topic with its reason
    (and the shared ``dead_letter.malformed`` counter); the ones beside it go on.
    """
    consumer = bus.consumer(group, [CAP_IN_TOPIC])
    producer = bus.producer()
    try:
        while not stop.is_set():
            for rec in consumer.poll(timeout_ms=500):
                try:
                    ingest.handle(rec.value, "cap-topic")
                except CapError as e:
                    log.warning("CAP message on %s rejected: %s", CAP_IN_TOPIC, e.problems)
                    detail = "; ".join(map(str, e.problems))[:500]
                    dead = DeadLetter("malformed", f"CAP: {detail}", CAP_IN_TOPIC, rec.value[:2048])
                    producer.send(DEAD_LETTER, encode_dead_letter(dead))
                    if state is not None:
                        state.incr("dead_lettered")
                        state.incr("dead_letter.malformed")
            producer.flush()
            consumer.commit()
    finally:
        consumer.close()
