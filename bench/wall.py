"""Wall benchmark in headless Debian Chromium (SwiftShader WebGL): latency and frame time.

1. ``latency``: ``python run.py`` at the default load (simulator → bus → engine → state →
   push → browser); in the page, each new newest-reading time is compared with the wall
   clock at the animation frame after the update was applied → p50 / p99 (ms).
2. ``frames``: the wall in-process over a bigger city with every sensor changing every
   second (a seeded feed written straight into the state store); requestAnimationFrame
   intervals while the map objects change → p50 / p99 / max frame time (ms).

Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/wall.py [--seconds 20]
[--scale 3]``. Prints one line per figure and the GL renderer.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures.browser import CHROMIUM, FLAGS  # noqa: E402
from tests.fixtures.ports import free_port, wait_listening  # noqa: E402

FRAMES_JS = """async (ms) => {
  const F = []; let last = performance.now(), go = true;
  const c0 = window.citycc_wall.stats.changed || 0, t0 = performance.now();
  const f = (t) => { F.push(t - last); last = t; if (go) requestAnimationFrame(f); };
  requestAnimationFrame(f);
  await new Promise(r => setTimeout(r, ms));
  go = false;
  const changed = (window.citycc_wall.stats.changed || 0) - c0;
  return {frames: F.slice(1), changed_per_s: changed / ((performance.now() - t0) / 1000)};
}"""
RENDERER_JS = """() => {
  const gl = document.createElement('canvas').getContext('webgl2');
  const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
  return gl ? (ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER))
            : 'no WebGL';
}"""


def _browser(pw: Any) -> Any:
    return pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)


def _open(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.wait_for_function("window.citycc_wall && window.citycc_wall.stats.applied > 2",
                           timeout=120_000)


def latency(seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "CITYCC_PORT": str(port),
           "NUMBA_CACHE_DIR": str(REPO / ".numba_cache")}
    proc = subprocess.Popen([sys.executable, "run.py"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, timeout_s=180)
        with sync_playwright() as pw:
            browser = _browser(pw)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            _open(page, f"http://127.0.0.1:{port}")
            time.sleep(3)  # warm-up
            page.evaluate("window.citycc_wall.stats.latency = []")
            time.sleep(seconds)
            lat = np.array(page.evaluate("window.citycc_wall.stats.latency"), float)
            srv = np.array(page.evaluate("window.citycc_wall.stats.server.slice(-200)"), float)
            arr = np.array(page.evaluate("window.citycc_wall.stats.arrival.slice(-200)"), float)
            renderer = page.evaluate(RENDERER_JS)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"GL renderer: {renderer}")
    if lat.size == 0:
        print("latency: no samples")
        return
    print(f"  of which reading->server frame p50 {np.percentile(srv, 50):.0f} ms, "
          f"reading->message in browser p50 {np.percentile(arr, 50):.0f} ms")
    print(f"latency reading->visible (run.py default load, {seconds:.0f} s, n={lat.size}): "
          f"p50 {np.percentile(lat, 50):.0f} ms, p99 {np.percentile(lat, 99):.0f} ms, "
          f"max {lat.max():.0f} ms")


def frames(seconds: float, scale: float) -> None:
    from playwright.sync_api import sync_playwright

    from config.city import load_city
    from config.settings import Settings
    from dashboard.app import Server, create_app
    from streams.clock import SystemClock
    from streams.state.memory import MemoryStateStore
    from tests.browser.wall_feed import WallFeed

    city = load_city(scale=scale)
    n_obj = (len(city.cell_polygons()) + city.roads.n_segments + len(city.air_stations)
             + len(city.water.nodes) + len(city.hazard_sources) + len(city.units))
    state = MemoryStateStore(window_s=600)
    ctx = create_app(Settings(), state, city, SystemClock())
    server = Server(ctx, "127.0.0.1", 0)
    server.start()
    feed = WallFeed(state, city, period_s=1.0)
    feed.start()
    try:
        with sync_playwright() as pw:
            browser = _browser(pw)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            _open(page, f"http://127.0.0.1:{server.port}")
            time.sleep(3)
            page.evaluate("window.citycc_wall.stats.latency = []")
            out = page.evaluate(FRAMES_JS, int(seconds * 1000))
            lat = np.array(page.evaluate("window.citycc_wall.stats.latency"), float)
            srv = np.array(page.evaluate("window.citycc_wall.stats.server.slice(-200)"), float)
            browser.close()
    finally:
        feed.stop()
        server.shutdown()
    f = np.array(out["frames"], float)
    print(f"frames: scale {scale}, {len(city.registry)} sensors, {n_obj} map objects, "
          f"{out['changed_per_s']:.0f} object codes changed/s; frame time p50 "
          f"{np.percentile(f, 50):.1f} ms, p99 {np.percentile(f, 99):.1f} ms, "
          f"max {f.max():.1f} ms, over 50 ms: {100 * np.mean(f > 50):.1f} % of {f.size} frames")
    if lat.size:
        print(f"  same run, feed written straight to the store: reading->server frame p50 "
              f"{np.percentile(srv, 50):.0f} ms; reading->visible p50 "
              f"{np.percentile(lat, 50):.0f} ms, p99 {np.percentile(lat, 99):.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--scale", type=float, default=3.0)
    ap.add_argument("--only", choices=("latency", "frames"), default=None)
    a = ap.parse_args()
    if a.only in (None, "latency"):
        latency(a.seconds)
    if a.only in (None, "frames"):
        frames(a.seconds, a.scale)


if __name__ == "__main__":
    main()
