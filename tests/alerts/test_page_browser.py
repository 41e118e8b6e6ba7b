"""The /alerts page in Chromium: log in, see the I–II cue, select with j, acknowledge with a.

Titles carry an XSS payload that must show as text. Ends asserting no request left
127.0.0.1 and the console stayed clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.model import Alert
from dashboard.api.alerts import alerts_runtime
from dashboard.app import Server
from dashboard.context import AppContext
from streams.clock import ManualClock
from tests.dashboard.dispatch_app import PASSWORD, dispatch_app

XSS = '<img src=x onerror="window.__xss=1">爆管'
T0 = 1_700_000_000_000


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, AppContext]]:
    with dispatch_app(tmp_path, ManualClock(T0)) as ctx:
        srv = Server(ctx, "127.0.0.1", 0)
        srv.start()
        try:
            yield f"http://127.0.0.1:{srv.port}", ctx
        finally:
            srv.shutdown()


def test_alert_queue_one_key_acknowledge(served: tuple[str, AppContext], browser_page) -> None:  # type: ignore[no-untyped-def]
    base, ctx = served
    svc = alerts_runtime(ctx).service
    d = ctx.city.districts[0].adcode
    hot = svc.raise_alert(Alert.new("", "pressure_drop", "city", "WN-0001", 2, XSS, "Burst",
                                    ("WTR-0001-pressure",), 119.3, 26.08, d, T0))
    svc.raise_alert(Alert.new("", "sensor_fault", "sensor", "S-1", 4, "传感器故障", "Fault",
                              ("S-1",), 119.3, 26.08, d, T0 - 1000))
    page = browser_page.page
    page.goto(base + "/alerts")
    page.fill("#alerts-login-user", "operator")
    page.fill("#alerts-login-password", PASSWORD)
    page.click("#alerts-login-button")
    page.wait_for_selector("#alerts-queue tbody tr", timeout=20_000)
    assert page.locator("#alerts-queue tbody tr").count() == 2
    first = page.locator("#alerts-queue tbody tr").first
    assert XSS in first.inner_text()  # shown as text, not markup
    assert page.evaluate("window.__xss") is None
    page.wait_for_function("document.querySelector('#alerts-cue').dataset.cue === '1'",
                           timeout=10_000)
    assert "on" in page.get_attribute("#alerts-cue", "class").split()
    assert page.get_attribute("#alerts-cue", "data-sound") == "1"  # sound on by default
    page.keyboard.press("j")  # select the first row (the level II alert sorts first)
    page.wait_for_selector("#alerts-queue tbody tr.selected", timeout=10_000)
    page.wait_for_function("!document.querySelector('#alerts-ack').disabled", timeout=10_000)
    page.keyboard.press("a")
    page.wait_for_function("document.querySelector('#alerts-cue').dataset.cue === '0'",
                           timeout=10_000)
    got = svc.get(hot.id)
    assert got.acknowledged and got.acked_by == "operator"
    page.click("#alerts-sound-toggle")
    page.wait_for_function("document.querySelector('#alerts-cue').dataset.sound === '0'",
                           timeout=10_000)
    browser_page.screenshot("alerts-zh")
    page.click(".lang-button")
    page.wait_for_function("document.querySelector('h1').innerText.includes('Alert queue')",
                           timeout=10_000)
    browser_page.screenshot("alerts-en")
    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []
