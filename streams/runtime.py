"""Factories and the long-running loops that connect the stages.

``build_bus`` and ``build_state`` turn the URLs of the settings into the embedded
or the scaled-out implementation; :class:`SourceLoop` drives a source (simulator,
replay) on a clock into the publisher; :class:`EngineStage` is the processing step
of an engine worker's consumer loop (decode → validate → state → engine → outputs).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from config.city.registry import SensorRegistry
from config.settings import Settings
from streams.bus.base import Bus, Producer, Record
from streams.clock import Clock
from streams.codec import decode_readings, encode_dead_letter, encode_scores
from streams.consumer import StageCounts
from streams.messages import DeadLetter, ReadingBatch, ScoreBatch
from streams.publisher import Publisher
from streams.state import StateStore
from streams.state import factory as state_factory
from streams.topics import DEAD_LETTER, SCORES
from streams.validation import Validator

log = logging.getLogger(__name__)


def build_bus(settings: Settings) -> Bus:
    url = settings.bus
    if url.startswith("memory://"):
        from streams.bus.memory import MemoryBus

        return MemoryBus()
    if url.startswith("kafka://"):
        from streams.bus.kafka import KafkaBus

        return KafkaBus(url.removeprefix("kafka://"))
    raise ValueError(f"unknown bus URL {url!r}: use memory:// or kafka://host:port")


def build_state(settings: Settings) -> StateStore:
    return state_factory(settings.state, settings)


class Source(Protocol):
    def step(self, now_ms: int) -> ReadingBatch: ...


class SourceLoop:
    """Every ``tick_s`` of stream time, take the source's due readings and publish them."""

    def __init__(
        self,
        source: Source,
        publisher: Publisher,
        clock: Clock,
        tick_s: float,
        speed: float,
        state: StateStore,
        stop: threading.Event,
    ) -> None:
        self.source = source
        self.publisher = publisher
        self.clock = clock
        self.wall_period_s = max(0.01, tick_s / speed)
        self.state = state
        self.stop = stop
        self.produced = 0

    def run(self) -> None:
        while not self.stop.is_set():
            batch = self.source.step(self.clock.now_ms())
            if len(batch):
                self.publisher.publish(batch)
                self.publisher.flush()
                self.produced += len(batch)
                self.state.incr("produced", len(batch))
            self.stop.wait(self.wall_period_s)


class Scorer(Protocol):
    """What the engine worker needs from ``models/``: scores for dense-indexed readings."""

    def process(self, batch: ReadingBatch, idx: np.ndarray) -> ScoreBatch: ...


#: Called with the newest producer (publish) time, epoch ms, of a batch whose readings and
#: scores are now in the state store: lets an in-process reader (the wall's push loop) wake
#: at once instead of polling.
OnWritten = Callable[[int], None]

#: Later steps of the engine worker (alert rules, forecasts): they see every scored batch,
#: write their own outputs (state, topics) and are flushed with the stage.
AfterScoring = Callable[[ReadingBatch, np.ndarray, ScoreBatch], None]


class EngineStage:
    """The processing step of an engine worker: records in, state and topics out.

    Bad records never stop the stage: undecodable payloads and invalid rows become
    dead letters (topic + per-reason counters); the good rows beside them go on.
    """

    def __init__(
        self,
        registry: SensorRegistry,
        state: StateStore,
        producer: Producer,
        scorer: Scorer,
        validator: Validator,
        after_scoring: Sequence[AfterScoring] = (),
        on_written: OnWritten | None = None,
    ) -> None:
        self.registry = registry
        self.state = state
        self.producer = producer
        self.scorer = scorer
        self.validator = validator
        self.after_scoring = tuple(after_scoring)
        self.on_written = on_written
        self.counts: Counter[str] = Counter()

    def process(self, records: list[Record]) -> StageCounts:
        goods: list[ReadingBatch] = []
        idxs: list[np.ndarray] = []
        dead: list[DeadLetter] = []
        for rec in records:
            batch, bad = decode_readings(rec.value, rec.topic)
            dead.extend(bad)
            if len(batch):
                good, idx, invalid = self.validator.validate(batch, rec.topic)
                dead.extend(invalid)
                if len(good):
                    goods.append(good)
                    idxs.append(idx)
        self.counts["records_in"] += len(records)
        if dead:
            self._dead_letter(dead)
        if not goods:
            return StageCounts(0, len(dead), 0)
        batch = ReadingBatch.concat(goods)
        idx = np.concatenate(idxs)
        self.state.write_readings(batch, idx)
        scores = self.scorer.process(batch, idx)
        self.state.write_scores(scores)
        if self.on_written is not None:
            self.on_written(max(rec.timestamp_ms for rec in records))
        self.producer.send(SCORES, encode_scores(scores))
        for step in self.after_scoring:
            step(batch, idx, scores)
        self.counts["readings_in"] += len(batch)
        self.counts["scored"] += len(scores)
        self.state.incr("readings_in", len(batch))
        self.state.incr("scored", len(scores))
        return StageCounts(len(batch), len(dead), len(scores))

    def _dead_letter(self, dead: list[DeadLetter]) -> None:
        by_reason: Counter[str] = Counter(d.reason for d in dead)
        for d in dead:
            self.producer.send(DEAD_LETTER, encode_dead_letter(d))
        self.state.incr("dead_lettered", len(dead))
        for reason, n in by_reason.items():
            self.state.incr(f"dead_letter.{reason}", n)
        self.counts["dead_lettered"] += len(dead)

    def flush(self) -> None:
        self.producer.flush()


def run_in_thread(target: Callable[[], None], name: str) -> threading.Thread:
    th = threading.Thread(target=target, name=name, daemon=True)
    th.start()
    return th
