"""Topic names: constants, never string literals scattered through the code.

Readings are split per domain so consumers (and Kafka partitions) scale per domain.
"""

from __future__ import annotations

from streams.messages import DOMAINS, Domain

READINGS_PREFIX = "citycc.readings."
SCORES = "citycc.scores"
ALERTS = "citycc.alerts"
DEAD_LETTER = "citycc.deadletter"
AVL = "citycc.avl"  # unit positions (dispatch)
CAP_IN = "citycc.cap.in"  # raw CAP 1.2 XML from outside senders (e.g. a weather service)


def readings_topic(domain: Domain) -> str:
    return READINGS_PREFIX + domain


READINGS_TOPICS: tuple[str, ...] = tuple(readings_topic(d) for d in DOMAINS)
