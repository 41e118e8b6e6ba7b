"""The whole dispatch flow in Chromium: log in → create → recommend → assign → moves → on scene.

In-process server on a fast clock (50 stream seconds per wall second) so turnout and
travel take seconds. The description carries an XSS payload that must show as text.
Ends asserting no request left 127.0.0.1 and the console stayed clean.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dashboard.app import Server
from dashboard.context import AppContext
from streams.clock import ScaledClock
from tests.dashboard.dispatch_app import PASSWORD, dispatch_app

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, AppContext]]:
    with dispatch_app(tmp_path, ScaledClock(1_700_000_000_000, speed=50.0)) as ctx:
        srv = Server(ctx, "127.0.0.1", 0)
        srv.start()
        try:
            yield f"http://127.0.0.1:{srv.port}", ctx
        finally:
            srv.shutdown()


def _away_from_stations(ctx: AppContext) -> tuple[float, float]:
    roads = ctx.city.roads
    stations = {s.road_node for s in ctx.city.stations}
    d = (roads.node_lon - 119.30) ** 2 + (roads.node_lat - 26.08) ** 2
    node = next(int(n) for n in np.argsort(d) if int(n) not in stations)
    return round(float(roads.node_lon[node]), 5), round(float(roads.node_lat[node]), 5)


def test_dispatch_flow_end_to_end(served: tuple[str, AppContext], browser_page) -> None:  # type: ignore[no-untyped-def]
    base, ctx = served
    page = browser_page.page
    page.goto(base + "/dispatch")
    page.fill("#dispatch-login-user", "commander")
    page.fill("#dispatch-login-password", PASSWORD)
    page.click("#dispatch-login-button")
    page.wait_for_selector("#dispatch-form-submit", timeout=20_000)
    lon, lat = _away_from_stations(ctx)
    page.fill("#dispatch-form-lon", str(lon))
    page.fill("#dispatch-form-lat", str(lat))
    page.fill("#dispatch-form-phone", "13812345678")
    page.fill("#dispatch-form-description", XSS)
    page.click("#dispatch-form-submit")
    page.wait_for_selector("#dispatch-description", timeout=20_000)
    assert page.inner_text("#dispatch-description") == XSS  # shown as text
    assert page.evaluate("window.__xss") is None
    assert page.locator("#dispatch-description img, #dispatch-description script").count() == 0

    assign = page.locator("#dispatch-recs button").first
    assign.wait_for(timeout=20_000)
    etas = page.locator("#dispatch-recs .dispatch-eta").all_inner_texts()
    assert etas and all(":" in e for e in etas)
    assign.click()
    page.wait_for_function(
        "document.querySelector('#dispatch-message').innerText.includes('已派遣')",
        timeout=10_000)
    unit_id = page.inner_text("#dispatch-message").split()[1]
    # the mover turns the unit out, then drives it: AVL positions change along the route
    seen = set()
    for _ in range(600):
        pos = ctx.server.extensions["citycc_dispatch"].mover.positions.get(unit_id)
        if pos:
            seen.add(pos)
        if len(seen) >= 2:
            break
        page.wait_for_timeout(50)
    assert len(seen) >= 2, "the unit did not move"
    page.wait_for_function(
        "document.querySelector('#dispatch-detail').innerText.includes('处置中')",
        timeout=60_000)
    snapshot = ctx.state.get_json(f"unit:{unit_id}")
    assert snapshot is not None and snapshot["status"] == "on_scene"
    timeline = page.inner_text("#dispatch-timeline")
    assert "system:avl" in timeline and "commander" in timeline
    browser_page.screenshot("dispatch-zh")
    page.click(".lang-button")
    page.wait_for_function(
        "document.querySelector('h1').innerText.includes('Emergency dispatch')")
    page.wait_for_selector("#dispatch-queue button", timeout=10_000)
    browser_page.screenshot("dispatch-en")
    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []
