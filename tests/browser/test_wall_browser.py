"""The wall in headless Debian Chromium: map pixels, live values, offline, stale banner, English.

The app runs in-process on a free port with a MemoryStateStore fed by :class:`WallFeed`,
a source the test can pause (stale banner) and resume (banner clears). Screenshots go to
``artifacts/``; with ``CITYCC_UPDATE_DOCS=1`` the wall screenshot also replaces the README's
``docs/wall.png`` (off by default, so a test run never changes tracked files).
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.city import load_city
from config.settings import Settings
from dashboard.app import Server, create_app
from streams.clock import SystemClock
from streams.state.memory import MemoryStateStore
from tests.browser.wall_feed import WallFeed

REPO = Path(__file__).resolve().parents[2]
STALE_S = 2.0

# counts "status-coloured" pixels: saturated and bright, unlike land, sea, grey roads, text
_COUNT_JS = """async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const px = g.getImageData(0, 0, c.width, c.height).data;
  let coloured = 0, land = 0;
  const hues = new Set();
  for (let i = 0; i < px.length; i += 4) {
    const r = px[i], gg = px[i + 1], b = px[i + 2];
    const mx = Math.max(r, gg, b), mn = Math.min(r, gg, b);
    if (mx - mn > 80 && mx > 120) {
      coloured++;
      hues.add((r > 150 ? 'R' : '') + (gg > 150 ? 'G' : '') + (b > 150 ? 'B' : ''));
    }
    if (Math.abs(r - 24) < 6 && Math.abs(gg - 33) < 6 && Math.abs(b - 48) < 6) land++;
  }
  return {coloured, land, hues: hues.size, total: px.length / 4};
}"""


@pytest.fixture(scope="module")
def wall() -> Iterator[tuple[str, WallFeed]]:
    city = load_city(scale=0.2)
    state = MemoryStateStore(window_s=600)
    ctx = create_app(Settings(stale_after_s=STALE_S), state, city, SystemClock())
    server = Server(ctx, "127.0.0.1", 0)
    server.start()
    feed = WallFeed(state, city, period_s=0.5)
    feed.start()
    try:
        yield f"http://127.0.0.1:{server.port}", feed
    finally:
        feed.stop()
        server.shutdown()


def _open(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.wait_for_function(
        "window.citycc_wall && window.citycc_wall.stats.full > 0 "
        "&& window.citycc_wall.stats.applied > 2",
        timeout=30_000,
    )


def _kpis(page: Any) -> dict[str, str]:
    return page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('[data-kv]')]"
        ".map(e => [e.dataset.kv, e.textContent]))"
    )


def test_map_renders_live_values_offline(wall: tuple[str, WallFeed], browser_page: Any) -> None:
    url, _feed = wall
    page = browser_page.page
    _open(page, url)
    page.wait_for_timeout(800)  # let deck.gl draw the first coded frame

    box = page.locator("#wall-map").bounding_box()
    png = page.screenshot(clip=box)
    counts = page.evaluate(_COUNT_JS, base64.b64encode(png).decode())
    # roads, air, water, hazard and grid cells in status colours, on a drawn land polygon
    assert counts["coloured"] > 2000, counts
    assert counts["hues"] >= 3, counts
    assert counts["land"] > counts["total"] * 0.05, counts

    before = _kpis(page)
    assert before["tpi"] != "—" and before["aqi"] != "—", before
    t0 = time.monotonic()
    page.wait_for_function(
        "(b) => [...document.querySelectorAll('[data-kv]')]"
        ".some(e => b[e.dataset.kv] !== e.textContent)",
        arg=before,
        timeout=2_000,
    )
    assert time.monotonic() - t0 < 2.0

    # the clock shows the city's time (UTC+8), whatever the browser's time zone
    shown = page.locator("#wall-clock").text_content() or ""
    cst = [time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() + 8 * 3600 - k))
           for k in (0, 60)]
    assert shown[:16] in cst, (shown, cst)

    path = browser_page.screenshot("wall")
    if os.environ.get("CITYCC_UPDATE_DOCS") == "1":
        shutil.copyfile(path, REPO / "docs" / "wall.png")

    # click an air station: the detail panel fetches its sensors' history
    xy = page.evaluate("""() => {
      const W = window.citycc_wall, d = W.state.base.air.props.data[0];
      const [x, y] = W.deck.getViewports()[0].project(d.p);
      const r = document.getElementById('wall-map').getBoundingClientRect();
      return [r.left + x, r.top + y];
    }""")
    page.mouse.click(xy[0], xy[1])
    page.wait_for_selector("#wall-detail .detail-sensor", timeout=5_000)
    assert page.locator("#wall-detail .detail-sensor").count() >= 3

    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []


def test_stale_banner_appears_and_clears(wall: tuple[str, WallFeed], browser_page: Any) -> None:
    url, feed = wall
    page = browser_page.page
    _open(page, url)
    assert page.locator("#wall-stale").is_hidden()
    feed.pause()
    try:
        page.wait_for_selector("#wall-stale", state="visible", timeout=(STALE_S + 4) * 1000)
        assert "2" in page.inner_text("#wall-stale")
        browser_page.screenshot("wall-stale")
    finally:
        feed.start()
    page.wait_for_selector("#wall-stale", state="hidden", timeout=5_000)
    assert browser_page.console_errors == []


def test_english_switch_changes_texts(wall: tuple[str, WallFeed], browser_page: Any) -> None:
    url, _feed = wall
    page = browser_page.page
    _open(page, url)
    assert page.inner_text("#wall-title") == "城市运行指挥中心"
    page.click("#lang-button")
    page.wait_for_function(
        "document.getElementById('wall-title').textContent === 'City Operations Command Center'",
        timeout=5_000,
    )
    assert page.inner_text(".panel-traffic h2") == "Traffic"
    assert "Alerts" in page.inner_text(".ticker-title")
    browser_page.screenshot("wall-en")
    page.click("#lang-button")  # back to zh-CN for whoever opens the page next
    page.wait_for_function(
        "document.getElementById('wall-title').textContent === '城市运行指挥中心'", timeout=5_000
    )
    assert browser_page.external_requests() == []
    assert browser_page.console_errors == []


def test_zoom_survives_updates_and_both_map_layers_follow(
    wall: tuple[str, WallFeed], browser_page: Any
) -> None:
    url, _feed = wall
    page = browser_page.page
    _open(page, url)
    box = page.locator("#wall-map").bounding_box()
    zoom0 = page.evaluate("window.citycc_wall.deck.getViewports()[0].zoom")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(3):
        page.mouse.wheel(0, -400)
        page.wait_for_timeout(150)
    page.wait_for_timeout(600)  # the zoom transition ends
    zoomed = page.evaluate("window.citycc_wall.deck.getViewports()[0].zoom")
    assert zoomed > zoom0 + 0.5
    applied = page.evaluate("window.citycc_wall.stats.applied")
    page.wait_for_function(f"window.citycc_wall.stats.applied > {applied + 1}", timeout=5_000)
    # live updates did not reset the view; the static canvas (land, outlines) follows it
    views = page.evaluate(
        "[window.citycc_wall.deck, window.citycc_wall.base, ...window.citycc_wall.codedDecks]"
        ".map(d => d.getViewports()[0].zoom)"
    )
    assert all(abs(v - zoomed) < 1e-6 for v in views), views
    assert browser_page.console_errors == []


def test_hover_reaches_grid_cells_on_the_canvas_below(
    wall: tuple[str, WallFeed], browser_page: Any
) -> None:
    url, _feed = wall
    page = browser_page.page
    _open(page, url)
    # the middle of a grid cell far from stations and roads: the top canvas has no object
    # there and the coded canvas only that cell, so the tooltip must come from the cell
    xy = page.evaluate("""() => {
      const W = window.citycc_wall, vp = W.deck.getViewports()[0];
      const r = document.getElementById('wall-map').getBoundingClientRect();
      for (const c of W.state.base.cells.props.data) {
        const n = c.polygon.length, lon = c.polygon.reduce((a, p) => a + p[0], 0) / n,
              lat = c.polygon.reduce((a, p) => a + p[1], 0) / n;
        const [x, y] = vp.project([lon, lat]);
        if (x < 20 || y < 20 || x > r.width - 20 || y > r.height - 20) continue;
        const near = W.codedDeck().pickObjects({x: x - 2, y: y - 2, width: 5, height: 5});
        if (!W.deck.pickObject({x, y, radius: 2}) && near.length &&
            near.every(o => o.kind === 'cells' && o.object.cell === c.cell))
          return [r.left + x, r.top + y, c.cell];
      }
      return null;
    }""")
    assert xy is not None
    page.mouse.move(xy[0], xy[1])
    page.wait_for_selector(".wall-tooltip", state="visible", timeout=3_000)
    assert xy[2] in page.inner_text(".wall-tooltip")


def test_update_drawn_in_chunks_on_the_hidden_canvas_equals_direct_drawing(
    wall: tuple[str, WallFeed], browser_page: Any
) -> None:
    """On a software GL an update is drawn a chunk per frame on the hidden one of two canvases,
    which is then shown: its picture must be exactly the one a direct draw of the same codes
    gives, and the other canvas must be hidden."""
    url, _feed = wall
    page = browser_page.page
    _open(page, url)
    out = page.evaluate("""async () => {
      const W = window.citycc_wall, raf = () => new Promise(r => requestAnimationFrame(r));
      W.socket.disconnect();  // no other update in between
      const pair = W.state.codedPair;
      pair.budget = 1000;     // many chunks, even for the small test city
      W.state.budget = 1000;
      W.setCoded();
      for (let i = 0; i < 5; i++) await raf();
      const read = (d) => {
        const gl = d.device.gl, w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
        const a = new Uint8Array(w * h * 4);
        gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, a);
        return a;
      };
      for (const id of Object.keys(W.state.codes)) {
        const c = W.state.codes[id];
        for (let i = 0; i < c.length; i++) c[i] = (c[i] + 1 + i % 3) % 5;
      }
      const before = W.codedDeck(), counts0 = Object.assign({}, pair.counts);
      let shown = null;
      const onPresent = pair.onPresent;
      pair.onPresent = () => { shown = read(W.codedDeck()); };
      pair.requestUpdate(null, {});
      for (let i = 0; i < 300 && !shown; i++) await raf();
      pair.onPresent = onPresent;
      const after = W.codedDeck();
      const visible = W.codedDecks.map(d => d.getCanvas().style.visibility);
      const chunkFrames = pair.counts.chunkFrames - counts0.chunkFrames;
      const presented = pair.counts.presented - counts0.presented;
      after.redraw('direct');  // the same codes, everything drawn directly
      const direct = read(after);
      let differ = 0, drawn = 0;
      for (let i = 0; i < direct.length; i += 4) {
        if (direct[i + 3]) drawn++;
        if (direct[i] !== shown[i] || direct[i + 1] !== shown[i + 1] ||
            direct[i + 2] !== shown[i + 2] || direct[i + 3] !== shown[i + 3]) differ++;
      }
      W.socket.connect();
      return {chunkFrames, presented, differ, drawn, total: direct.length / 4,
              swapped: before !== after, visible};
    }""")
    assert out["presented"] == 1, out
    assert out["swapped"], out
    assert sorted(out["visible"]) == ["hidden", "visible"], out
    assert out["chunkFrames"] >= 5, out
    assert out["drawn"] > out["total"] * 0.02, out
    assert out["differ"] == 0, out
    assert browser_page.console_errors == []
