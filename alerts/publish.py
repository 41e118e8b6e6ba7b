"""Where alerts go besides the database: ``alert:<id>`` state documents and the ALERTS topic.

The wall's ticker (and any web process) reads the active alerts from the state store
without touching the database; a cleared alert's document is deleted. Each change is
also sent as JSON on :data:`streams.topics.ALERTS` for downstream consumers.

>>> from streams.state.memory import MemoryStateStore
>>> from alerts.model import Alert
>>> st = MemoryStateStore()
>>> pub = AlertPublisher(st)
>>> pub.publish(Alert.new("ALT-1", "aqi", "city", "AQS-1", 3, "污染", "Pollution", (), 119.3,
...                       26.1, "350102", 5))
>>> st.json_keys("alert:")
['alert:ALT-1']
"""

from __future__ import annotations

import json

from alerts.model import ACTIVE, Alert
from streams.bus.base import Producer
from streams.state import StateStore
from streams.topics import ALERTS

KEY_PREFIX = "alert:"


def state_key(alert_id: str) -> str:
    return KEY_PREFIX + alert_id


class AlertPublisher:
    """Mirror alert changes into the state store (and the ALERTS topic when given)."""

    def __init__(self, state: StateStore | None, producer: Producer | None = None) -> None:
        self.state = state
        self.producer = producer

    def publish(self, alert: Alert) -> None:
        if self.state is not None:
            if alert.state == ACTIVE:
                self.state.put_json(state_key(alert.id), alert.as_state_doc())
            else:
                self.state.delete_json(state_key(alert.id))
        if self.producer is not None:
            self.producer.send(ALERTS, json.dumps(alert.as_json(), ensure_ascii=False,
                                                  default=str).encode("utf-8"))

    def flush(self) -> None:
        if self.producer is not None:
            self.producer.flush()
