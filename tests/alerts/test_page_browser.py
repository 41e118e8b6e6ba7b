"""The /alerts page in Chromium at 1920×1080: a seeded queue of level I–IV alerts.

Checks the order (unacknowledged first, newest first), the level colours and the I–II
cue, the hint and disabled actions before a selection, one-key acknowledge, assignment,
the sound toggle's label, the zh/en switch and the empty state with its data age. One
title carries an XSS payload that must show as text. Ends asserting no request left
127.0.0.1 and the console stayed clean. Screenshots: artifacts/alerts-{hint-zh,zh,en,
empty-zh}.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.lifecycle import AlertService
from alerts.model import Alert
from dashboard.api.alerts import alerts_runtime
from dashboard.app import Server
from dashboard.context import AppContext
from streams.clock import ManualClock
from tests.dashboard.dispatch_app import PASSWORD, dispatch_app

XSS = '<img src=x onerror="window.__xss=1">管网压力骤降'
T0 = 1_700_000_000_000  # 2023-11-15 06:13:20 Beijing
MIN = 60_000
ROWS = "#alerts-queue tbody tr"
BUTTONS = ("ack", "assign", "comment", "clear", "incident")


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, AppContext]]:
    with dispatch_app(tmp_path, ManualClock(T0)) as ctx:
        srv = Server(ctx, "127.0.0.1", 0)
        srv.start()
        try:
            yield f"http://127.0.0.1:{srv.port}", ctx
        finally:
            srv.shutdown()


def _seed(svc: AlertService, ctx: AppContext) -> dict[str, str]:
    """Six alerts, levels I–IV, four states of attention; returns name → alert id."""
    d = [x.adcode for x in ctx.city.districts]

    def new(type_: str, kind: str, source: str, level: int, zh: str, en: str,
            sensors: tuple[str, ...], district: str, ago_min: int, **more: Any) -> str:
        return svc.raise_alert(Alert.new("", type_, kind, source, level, zh, en, sensors,
                                         119.30, 26.08, district, T0 - ago_min * MIN,
                                         **more)).id

    ids = {
        "burst": new("water_pressure", "city", "WN-0001", 2, XSS, "Sudden pressure drop",
                     ("WTR-0001-pressure", "WTR-0002-pressure"), d[0], 1, value=0.12),
        "gas": new("gas_combustible", "city", "HZ-0003", 1, "可燃气体浓度超过二级报警值",
                   "Combustible gas above alarm level 2", ("HZ-0003-lel", "HZ-0004-lel"),
                   d[1 % len(d)], 4, value=62.0),
        "jam": new("congestion", "city", "SEG-0012", 3, "主干道严重拥堵", "Severe congestion",
                   ("TRF-0012-speed",), d[2 % len(d)], 9, value=8.5),
        "fault": new("sensor_fault", "sensor", "TRF-0040-speed", 4, "传感器数据中断",
                     "Sensor stopped reporting", ("TRF-0040-speed",), d[0], 15),
        "aqi": new("aqi", "city", "AQS-0002", 3, "空气质量指数 183（中度污染）",
                   "AQI 183 (moderately polluted)", ("AQS-0002-pm25",), d[3 % len(d)], 30),
        "turb": new("water_quality", "city", "WN-0007", 4, "出厂水浊度超标",
                    "Turbidity above limit", ("WTR-0007-turbidity",), d[1 % len(d)], 40),
    }
    svc.acknowledge(ids["aqi"], "commander")
    svc.assign(ids["aqi"], "环保值班组", "commander")
    svc.auto_clear(ids["turb"], T0 - 20 * MIN)
    return ids


def _wait_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
        arg=[selector, text], timeout=10_000)


def _disabled(page: Any) -> list[bool]:
    return [page.locator(f"#alerts-{b}").is_disabled() for b in BUTTONS]


def test_alert_queue_page(served: tuple[str, AppContext], browser_page) -> None:  # type: ignore[no-untyped-def]
    base, ctx = served
    svc = alerts_runtime(ctx).service
    seeded = _seed(svc, ctx)
    page = browser_page.page
    page.goto(base + "/alerts")
    page.fill("#alerts-login-user", "operator")
    page.fill("#alerts-login-password", PASSWORD)
    page.click("#alerts-login-button")
    page.wait_for_selector(ROWS, timeout=20_000)
    page.mouse.move(960, 1075)  # no hover highlight in the screenshots
    rows = page.locator(ROWS)
    assert rows.count() == 6  # the closed filter "open" keeps the acknowledged active one

    # unacknowledged first, newest first; the closed-by-condition one, then acknowledged
    titles = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(6)]
    assert titles == [XSS, "可燃气体浓度超过二级报警值", "主干道严重拥堵", "传感器数据中断",
                      "出厂水浊度超标", "空气质量指数 183（中度污染）"]
    assert page.evaluate("window.__xss") is None  # the payload is text, not markup
    classes = [rows.nth(i).get_attribute("class").split() for i in range(6)]
    assert [next(c for c in cl if c.startswith("lvl-")) for cl in classes] == [
        "lvl-2", "lvl-1", "lvl-3", "lvl-4", "lvl-4", "lvl-3"]
    assert ["cue" in cl for cl in classes] == [True, True, False, False, False, False]
    stripe = rows.nth(1).locator("td").first.evaluate(
        "e => getComputedStyle(e).boxShadow")
    assert "rgb(230, 0, 0)" in stripe  # level I red stripe
    chips = page.locator("#alerts-summary .alerts-chip").all_inner_texts()
    assert chips == ["Ⅰ级 1", "Ⅱ级 1", "Ⅲ级 1", "Ⅳ级 2"]

    # nothing selected: a hint, every action disabled; data age and sound label shown
    _wait_text(page, "#alerts-detail", "选择一条告警")
    assert all(_disabled(page))
    _wait_text(page, "#alerts-refreshed", "刷新于 06:13:20")
    assert page.get_attribute("#alerts-refreshed", "data-stale") != "1"
    toggle = page.locator("#alerts-sound-toggle")
    assert "声音开" in toggle.inner_text() and toggle.get_attribute("title")
    page.wait_for_function("document.querySelector('#alerts-cue').dataset.cue === '1'",
                           timeout=10_000)
    assert page.get_attribute("#alerts-cue", "data-sound") == "1"  # sound on by default
    browser_page.screenshot("alerts-hint-zh")

    # j selects the top row; details; a acknowledges it in one key
    page.keyboard.press("j")
    page.wait_for_selector(f"{ROWS}.selected", timeout=10_000)
    page.wait_for_function("!document.querySelector('#alerts-ack').disabled", timeout=10_000)
    detail = page.locator("#alerts-detail").inner_text()
    assert XSS in detail and "Ⅱ级 · 橙色" in detail and "WTR-0002-pressure" in detail
    _wait_text(page, "#alerts-timeline", "产生")
    page.keyboard.press("a")
    _wait_text(page, "#alerts-timeline", "operator")
    got = svc.get(seeded["burst"])
    assert got.acknowledged and got.acked_by == "operator"
    assert page.get_attribute("#alerts-cue", "data-cue") == "1"  # level I still open

    # the level I alert: select by click, assign, acknowledge → the cue stops
    rows.filter(has_text="可燃气体浓度超过二级报警值").click()
    _wait_text(page, "#alerts-detail", "Ⅰ级 · 红色")
    page.fill("#alerts-assign-input", "燃气抢修一队")
    page.click("#alerts-assign")
    _wait_text(page, "#alerts-timeline", "燃气抢修一队")
    page.mouse.move(960, 1075)
    page.wait_for_function("!document.querySelector('#alerts-ack').disabled", timeout=10_000)
    page.keyboard.press("a")
    page.wait_for_function("document.querySelector('#alerts-cue').dataset.cue === '0'",
                           timeout=10_000)
    assert svc.get(seeded["gas"]).assignee == "燃气抢修一队"
    page.click("#alerts-sound-toggle")
    page.wait_for_function("document.querySelector('#alerts-cue').dataset.sound === '0'",
                           timeout=10_000)
    _wait_text(page, "#alerts-sound-toggle", "声音关")
    browser_page.screenshot("alerts-zh")

    page.click(".lang-button")
    page.wait_for_function("document.querySelector('h1').innerText.includes('Alert queue')",
                           timeout=10_000)
    _wait_text(page, "#alerts-queue", "Combustible gas above alarm level 2")
    _wait_text(page, "#alerts-detail", "Level Ⅰ · red")
    _wait_text(page, "#alerts-sound-toggle", "Sound off")
    _wait_text(page, "#alerts-refreshed", "Refreshed 06:13:20")
    assert page.locator(ROWS).count() == 6
    browser_page.screenshot("alerts-en")

    # every alert closed: the queue says so, in both languages, with the data age
    for aid in seeded.values():
        svc.clear(aid, "commander")
        svc.acknowledge(aid, "commander")
    _wait_text(page, "#alerts-empty", "No open alerts")
    _wait_text(page, "#alerts-empty", "Refreshed 06:13:20")
    assert page.locator(ROWS).count() == 0
    page.click(".lang-button")
    _wait_text(page, "#alerts-empty", "当前无未结告警")
    browser_page.screenshot("alerts-empty-zh")
    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []
