"""Crash and resume against a real broker: a consumer process is SIGKILLed mid-stream.

The file is also the consumer program the test starts (``python this_file.py ...``): it
runs the real :class:`ConsumerLoop` on the Kafka bus and appends every processed
(sensor, ts) pair to an output file it fsyncs before committing. After the kill, a
second process resumes the group; every produced pair must appear at least once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 120
PER_MESSAGE = 500
PARTITIONS = 3


def consumer_main(bootstrap: str, topic: str, group: str, out: str, pause_ms: int) -> None:
    """The consumer process: poll → decode → append pairs → fsync → commit."""
    from streams.bus.kafka import KafkaBus, KafkaOptions
    from streams.codec import decode_readings
    from streams.consumer import ConsumerLoop, StageCounts

    options = KafkaOptions(session_timeout_ms=2000, heartbeat_interval_ms=300,
                           max_poll_interval_ms=2000, request_timeout_ms=10_000)
    bus = KafkaBus(bootstrap, options)
    pending: list[str] = []
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def process(records: list) -> StageCounts:
        n = 0
        for rec in records:
            batch, _ = decode_readings(rec.value, rec.topic)
            pending.extend(f"{s},{t}\n" for s, t in zip(batch.sensor_ids, batch.ts.tolist(),
                                                          strict=True))
            n += len(batch)
        time.sleep(pause_ms / 1000)  # a slow stage, so the kill lands mid-stream
        return StageCounts(readings=n, processed=n)

    def flush() -> None:
        if pending:
            os.write(fd, "".join(pending).encode())
            os.fsync(fd)
            pending.clear()

    loop = ConsumerLoop(bus.consumer(group, [topic]), process, flush,
                        poll_timeout_ms=100, max_records=4)
    loop.stop_on_signals()
    try:
        loop.run()
    finally:
        os.close(fd)
        bus.close()


def _pairs(paths: list[Path]) -> tuple[set[tuple[str, int]], int]:
    """Distinct pairs and total lines; a line cut by SIGKILL (no newline) is ignored."""
    seen: set[tuple[str, int]] = set()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        text = path.read_text()
        lines = text.split("\n")[:-1]  # the last chunk has no newline: cut or empty
        for line in lines:
            sid, ts = line.split(",")
            seen.add((sid, int(ts)))
            total += 1
    return seen, total


def _start(bootstrap: str, topic: str, group: str, out: Path, pause_ms: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, __file__, bootstrap, topic, group, str(out), str(pause_ms)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _produce(bootstrap: str, topic: str) -> set[tuple[str, int]]:
    from streams.bus.kafka import KafkaBus
    from streams.codec import encode_batch
    from streams.messages import ReadingBatch

    bus = KafkaBus(bootstrap)
    bus.create_topics([topic], PARTITIONS)
    producer = bus.producer()
    expected: set[tuple[str, int]] = set()
    for m in range(MESSAGES):
        ids = tuple(f"AIR-{i:04d}" for i in range(PER_MESSAGE))
        ts = np.full(PER_MESSAGE, 1_700_000_000_000 + m * 1000, np.int64)
        producer.send(topic, encode_batch(ReadingBatch(ids, np.ones(PER_MESSAGE), ts)),
                      partition=m % PARTITIONS)
        expected |= set(zip(ids, ts.tolist(), strict=True))
    producer.flush()
    bus.close()
    return expected


def _wait_for(cond, timeout_s: float, proc: subprocess.Popen) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not cond():
        if proc.poll() is not None:
            raise AssertionError(f"consumer exited early: {proc.stderr.read()!r}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout_s}s")
        time.sleep(0.05)


def test_sigkill_mid_stream_then_restart_processes_every_reading(
    kafka_broker: str, tmp_path: Path
) -> None:
    topic, group = f"crash-{uuid.uuid4().hex[:8]}", f"engine-{uuid.uuid4().hex[:8]}"
    expected = _produce(kafka_broker, topic)
    first_out, second_out = tmp_path / "run1.txt", tmp_path / "run2.txt"

    first = _start(kafka_broker, topic, group, first_out, pause_ms=60)
    try:
        _wait_for(lambda: _pairs([first_out])[1] >= len(expected) // 5, 40, first)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    done_before_kill = len(_pairs([first_out])[0])
    assert 0 < done_before_kill < len(expected), "the kill must land mid-stream"

    second = _start(kafka_broker, topic, group, second_out, pause_ms=0)
    try:
        _wait_for(lambda: len(_pairs([first_out, second_out])[0]) >= len(expected), 45, second)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
    seen, total = _pairs([first_out, second_out])
    assert seen == expected  # none lost, nothing invented
    resumed, _ = _pairs([second_out])
    assert len(resumed) < len(expected)  # the restart resumed from commits, not from zero


if __name__ == "__main__":
    consumer_main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
