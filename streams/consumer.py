"""The consumer loop: poll → process → flush outputs → commit offsets (at-least-once).

The order is the whole guarantee. Offsets are committed only after the processing
stage's outputs (state writes, produced scores and dead letters) are flushed, so a
crash anywhere before the commit replays the uncommitted records on restart: every
record is processed at least once, none is lost. Duplicates after a crash are
expected; the stages downstream are idempotent per (sensor, ts) or tolerate it.

Error policy (the core never catches broad exceptions):

* bad *records* are the processing stage's business: it decodes at the edge and
  dead-letters what does not decode or validate, so a poisoned message never reaches
  this loop as an exception;
* :class:`~streams.bus.base.CommitFailedError` (the group rebalanced) is counted and
  the loop goes on — the new owner re-processes from the last commit;
* other :class:`~streams.bus.base.BusError` from poll/commit are counted and retried
  with a growing pause; after ``max_bus_errors`` in a row the error propagates;
* anything raised by ``process`` or ``flush`` propagates: nothing is committed, the
  consumer leaves its group, and whoever restarts the worker resumes from the last
  commit. Swallowing it would mean committing records whose outputs were never
  written — silent loss.

>>> from streams.bus.memory import MemoryBus
>>> bus = MemoryBus(); bus.create_topics(["t"], 1)
>>> p = bus.producer(); p.send("t", b"a"); p.send("t", b"b")
>>> seen, done = [], []
>>> loop = ConsumerLoop(bus.consumer("g", ["t"]), lambda recs: seen.extend(recs),
...                     lambda: done.extend(seen), clock=lambda: 0)
>>> loop.run_once(), [r.value for r in done], loop.counters()["records_in"]
(2, [b'a', b'b'], 2)
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

from streams.bus.base import BusError, CommitFailedError, Consumer, Record, next_positions
from streams.clock import SystemClock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StageCounts:
    """What a processing stage may report about one batch of records (all optional)."""

    readings: int = 0
    dead_lettered: int = 0
    processed: int = 0


ProcessFn = Callable[[list[Record]], StageCounts | None]


class ConsumerLoop:
    """Drive a consumer: poll, process, flush outputs, commit — until :meth:`stop`.

    Parameters
    ----------
    consumer : a group member from ``Bus.consumer``; the loop closes it when it ends.
    process : handles one polled batch of records; may return :class:`StageCounts`.
    flush : makes the outputs of everything processed so far durable.
    clock : epoch-ms clock for the ``last_*`` counters.
    poll_timeout_ms : longest wait for records; also bounds how fast ``stop`` acts.
    max_records : records per poll (each is a columnar batch of up to thousands of readings).
    max_bus_errors : consecutive bus errors tolerated before giving up.
    """

    def __init__(
        self,
        consumer: Consumer,
        process: ProcessFn,
        flush: Callable[[], None],
        clock: Callable[[], int] | None = None,
        poll_timeout_ms: int = 200,
        max_records: int = 64,
        max_bus_errors: int = 20,
    ) -> None:
        self.consumer = consumer
        self.process = process
        self.flush = flush
        self.clock = clock if clock is not None else SystemClock().now_ms
        self.poll_timeout_ms = poll_timeout_ms
        self.max_records = max_records
        self.max_bus_errors = max_bus_errors
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._errors_in_row = 0
        self._counts: dict[str, int] = {
            "records_in": 0,
            "readings_in": 0,
            "dead_lettered": 0,
            "processed": 0,
            "batches": 0,
            "commits": 0,
            "commit_failures": 0,
            "bus_errors": 0,
            "last_poll_ms": 0,
            "last_commit_ms": 0,
            "newest_record_ms": 0,  # producer timestamp of the newest record seen
        }

    # -------------------------------------------------------------------- control
    def stop(self) -> None:
        """Ask the loop to finish its current batch (flushed and committed) and end."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop_on_signals(self, signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)) -> None:
        """Make SIGTERM/SIGINT call :meth:`stop` (call from the main thread)."""

        def handler(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: stopping the consumer loop", signum)
            self.stop()

        for s in signals:
            signal.signal(s, handler)

    def counters(self) -> dict[str, int]:
        """A copy of the per-stage counters (for ``/healthz`` and ``/metrics``)."""
        with self._lock:
            return dict(self._counts)

    def _add(self, **inc: int) -> None:
        with self._lock:
            for k, v in inc.items():
                self._counts[k] += v

    def _set(self, **values: int) -> None:
        with self._lock:
            self._counts.update(values)

    # ----------------------------------------------------------------------- loop
    def run(self) -> None:
        """Loop until :meth:`stop`; always closes the consumer (leaving the group)."""
        try:
            while not self._stop.is_set():
                self.run_once()
        finally:
            self.consumer.close()

    def run_once(self) -> int:
        """One cycle: poll, process, flush, commit. Returns the number of records handled."""
        try:
            records = self.consumer.poll(self.poll_timeout_ms, self.max_records)
        except BusError as e:
            self._bus_error("poll", e)
            return 0
        now = self.clock()
        self._set(last_poll_ms=now)
        if not records:
            self._errors_in_row = 0
            return 0
        self._add(records_in=len(records), batches=1)
        outcome = self.process(records)
        self.flush()  # outputs durable before the offsets move: at-least-once
        if outcome is not None:
            self._add(
                readings_in=outcome.readings,
                dead_lettered=outcome.dead_lettered,
                processed=outcome.processed,
            )
        newest = max(r.timestamp_ms for r in records)
        self._set(newest_record_ms=max(newest, self._counts["newest_record_ms"]))
        try:
            self.consumer.commit(next_positions(records))
        except CommitFailedError as e:
            log.warning("commit refused (group rebalanced); records will be re-delivered: %s", e)
            self._add(commit_failures=1)
            return len(records)
        except BusError as e:
            self._bus_error("commit", e)
            return len(records)
        self._errors_in_row = 0
        self._add(commits=1)
        self._set(last_commit_ms=self.clock())
        return len(records)

    def _bus_error(self, what: str, e: BusError) -> None:
        self._errors_in_row += 1
        self._add(bus_errors=1)
        if self._errors_in_row > self.max_bus_errors:
            raise e
        pause = min(2.0, 0.05 * 2 ** min(self._errors_in_row, 6))
        log.warning("bus error during %s (%d in a row), retrying in %.2fs: %s",
                    what, self._errors_in_row, pause, e)
        self._stop.wait(pause)
