"""End to end: ``python run.py`` serves real, growing data; stops cleanly on SIGTERM."""

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


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CITYCC_SCALE": "0.1", "CITYCC_PORT": str(port),
           "CITYCC_DATA_DIR": str(tmp_path_factory.mktemp("embedded")),
           "NUMBA_CACHE_DIR": str(REPO / ".numba_cache")}
    proc = subprocess.Popen([sys.executable, "run.py"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_listening(port, timeout_s=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            pytest.fail("run.py did not stop within 20 s of SIGTERM:\n" + out[-3000:])
        assert proc.returncode == 0, out[-3000:]
        assert "Traceback" not in out, out[-3000:]


def _health(base: str) -> dict:
    status, body = _get(base + "/healthz")
    assert status == 200
    return json.loads(body)


def test_healthz_counters_grow(embedded: str) -> None:
    deadline = time.monotonic() + 60
    first = _health(embedded)
    while time.monotonic() < deadline:
        time.sleep(1.5)
        now = _health(embedded)
        if first["counters"]["scored"] == 0:
            first = now  # nothing scored yet: measure growth from the first scored batch
        elif now["counters"]["scored"] > first["counters"]["scored"]:
            break
    assert now["status"] == "ok", now
    assert now["counters"]["readings_in"] > first["counters"]["readings_in"]
    assert now["counters"]["scored"] > first["counters"]["scored"] > 0
    assert now["newest_reading_age_s"] is not None and now["newest_reading_age_s"] < 10


def test_metrics_is_prometheus_text(embedded: str) -> None:
    status, body = _get(embedded + "/metrics")
    assert status == 200
    assert "citycc_readings_in_total" in body and "citycc_up 1" in body


def test_status_page_in_browser_is_local_and_clean(embedded: str, browser_page) -> None:
    page = browser_page.page
    page.goto(embedded + "/status")
    page.wait_for_selector("#counter-scored", timeout=30_000)
    first = page.inner_text("#counter-scored")
    page.wait_for_function(
        "(v) => document.querySelector('#counter-scored').innerText !== v", arg=first,
        timeout=10_000,
    )
    assert "城市运行指挥中心" in page.inner_text("h1")
    browser_page.screenshot("status-zh")
    page.click(".lang-button")
    page.wait_for_function("document.querySelector('h1').innerText.includes('City Operations')")
    browser_page.screenshot("status-en")
    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []


@pytest.mark.parametrize("path", ["/", "/dispatch", "/alerts", "/status"])
def test_every_page_is_local_and_clean(embedded: str, browser_page, path: str) -> None:
    page = browser_page.page
    page.goto(embedded + path)
    page.wait_for_load_state("networkidle", timeout=30_000)
    page.wait_for_timeout(1500)  # a few pushes / interval ticks
    browser_page.screenshot("page" + (path.replace("/", "-") if path != "/" else "-wall"))
    # a freshly rendered login form must not greet the user with a login error
    assert "用户名或密码错误" not in page.inner_text("body")
    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []


def test_page_menu_links_every_page(embedded: str, browser_page) -> None:
    page = browser_page.page
    page.goto(embedded + "/status")
    page.click(".nav-menu summary")
    hrefs = page.eval_on_selector_all(".nav-menu .nav-link", "els => els.map(e => e.pathname)")
    assert hrefs == ["/", "/dispatch", "/alerts", "/status"]
    page.click(".nav-menu .nav-link[href='/dispatch']")
    page.wait_for_url("**/dispatch")
    assert browser_page.console_errors == []
