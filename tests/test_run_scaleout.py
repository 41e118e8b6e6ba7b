"""Scale-out: the same code as separate processes on a Kafka-protocol broker and Redis.

``run.py simulate`` → Kafka → ``run.py engine`` → Redis → ``run.py web`` (its /healthz
reads the shared counters the other processes wrote).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.ports import free_port, wait_listening

REPO = Path(__file__).resolve().parent.parent


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "run.py", *args], cwd=REPO, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"{proc.args!r} ignored SIGTERM:\n{log.read_text()[-2000:]}")
    text = log.read_text()
    assert proc.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]


@pytest.fixture()
def roles(kafka_broker: str, redis_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CITYCC_SCALE": "0.1", "CITYCC_PARTITIONS": "3",
           "NUMBA_CACHE_DIR": str(REPO / ".numba_cache"), "CITYCC_DATA_DIR": str(tmp_path)}
    common = ["--bus", f"kafka://{kafka_broker}", "--state", redis_url]
    procs = [
        (_start(["engine", *common], env, tmp_path / "engine.log"), tmp_path / "engine.log"),
        (_start(["simulate", *common], env, tmp_path / "sim.log"), tmp_path / "sim.log"),
        (_start(["web", "--state", redis_url, "--port", str(port)], env, tmp_path / "web.log"),
         tmp_path / "web.log"),
    ]
    try:
        wait_listening(port, timeout_s=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        for proc, log in reversed(procs):
            _stop(proc, log)


def test_separate_processes_share_state_through_kafka_and_redis(roles: str) -> None:
    deadline = time.monotonic() + 120
    body: dict = {}
    while time.monotonic() < deadline:
        with urllib.request.urlopen(roles + "/healthz", timeout=5) as r:
            body = json.loads(r.read())
        if body["counters"]["scored"] > 0 and body["status"] == "ok":
            break
        time.sleep(1)
    first = body["counters"]["scored"]
    assert first > 0, body
    time.sleep(3)
    with urllib.request.urlopen(roles + "/healthz", timeout=5) as r:
        later = json.loads(r.read())
    assert later["counters"]["scored"] > first, later
    assert later["counters"]["produced"] >= later["counters"]["readings_in"] > 0
