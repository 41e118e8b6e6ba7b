"""Kill the web PROCESS with SIGKILL right after an acknowledged assignment; nothing is lost."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from tests.fixtures.ports import free_port, wait_listening

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "crash-test-pw"


def _start(port: int, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "CITYCC_DATA_DIR": str(data_dir), "CITYCC_DEMO_PASSWORD": PASSWORD,
           "CITYCC_SCALE": "0.05", "CITYCC_SEED": "7", "CITYCC_SECRET_KEY": "crash-secret",
           "NUMBA_CACHE_DIR": str(REPO / ".numba_cache")}
    proc = subprocess.Popen([sys.executable, "run.py", "web", "--port", str(port)], cwd=REPO,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_listening(port, timeout_s=60)
    return proc


class _Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.headers: dict[str, str] = {}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **self.headers})
        try:
            with self.opener.open(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def login(self, role: str) -> None:
        status, body = self.call("POST", "/api/v1/login", {"username": role, "password": PASSWORD})
        assert status == 200, body
        self.headers["X-CSRF-Token"] = body["csrf_token"]


def test_acknowledged_assignment_survives_sigkill(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(port, tmp_path)
    try:
        api = _Api(f"http://127.0.0.1:{port}")
        api.login("commander")
        status, inc = api.call("POST", "/api/v1/incidents", {
            "type": "medical", "lon": 119.30, "lat": 26.08, "priority": 1})
        assert status == 201
        _, rec = api.call("GET", f"/api/v1/incidents/{inc['id']}/recommendations")
        unit = rec["candidates"][0]["unit_id"]
        status, assignment = api.call("POST", f"/api/v1/incidents/{inc['id']}/assignments",
                                      {"unit_id": unit})
        assert status == 201
        proc.send_signal(signal.SIGKILL)  # the instant the acknowledgement arrived
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)

    port = free_port()
    proc = _start(port, tmp_path)
    try:
        api = _Api(f"http://127.0.0.1:{port}")
        api.login("admin")
        _, detail = api.call("GET", f"/api/v1/incidents/{inc['id']}")
        assert detail["state"] == "dispatched"
        assert [a["id"] for a in detail["assignments"]] == [assignment["id"]]
        assert detail["assignments"][0]["unit_id"] == unit
        _, audit = api.call("GET", "/api/v1/audit")
        assigned = [e for e in audit["items"] if e["action"] == "unit.assign"]
        assert len(assigned) == 1 and assigned[0]["entity_id"] == unit
        assert assigned[0]["actor"] == "commander" and assigned[0]["after"]["incident_id"] == \
            inc["id"]
        _, units = api.call("GET", "/api/v1/units?status=dispatched")
        assert [u["unit_id"] for u in units["items"]] == [unit]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert "Traceback" not in out, out[-3000:]
