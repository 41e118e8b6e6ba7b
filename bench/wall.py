"""Wall benchmark in headless Debian Chromium (SwiftShader WebGL): latency and frame time.

1. ``latency``: ``python run.py`` at the default load (simulator → bus → engine → state →
   push → browser). In the page, at the animation frame after an update was applied, the
   wall clock is compared with (a) the *publish* time of the newest batch in it (producer
   timestamp of its bus records: "produced", what the ≤ 200 ms target is judged on) and
   (b) the *sample* time of its newest reading (which also contains the wait inside the
   source tick: readings are sampled during a tick and published at its end) → p50 / p99.
   Also the CPU share of the ``run.py`` process over the window (``--tick`` overrides
   ``CITYCC_TICK_S`` to compare source tick lengths).
2. ``frames``: the wall in-process over a city big enough for ``--objects`` coded map
   objects (grid cells, road segments, stations), with *every* object changing its status
   code every second (a seeded feed written straight into the state store, and codes
   rotated each second so that all of them change); requestAnimationFrame intervals while
   they change → p50 / p99 / max frame time (ms).

Run: ``NUMBA_CACHE_DIR=.numba_cache .venv/bin/python bench/wall.py [--seconds 20]
[--objects 20000] [--tick 0.25]``. Prints one line per figure and the GL renderer.
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
# how the page's map showed updates so far (assets/wall/coded_layer.js CodedMapPair counts)
COUNTS_JS = """() => Object.assign({}, window.citycc_wall.state.codedPair.counts)"""
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
    page.wait_for_function(
        "window.citycc_wall && window.citycc_wall.stats.applied > 2", timeout=120_000
    )


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(a: np.ndarray, q: float) -> str:
    return f"{np.percentile(a, q):.0f}" if a.size else "-"


def latency(seconds: float, tick_s: float | None) -> None:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "CITYCC_PORT": str(port), "NUMBA_CACHE_DIR": str(REPO / ".numba_cache")}
    if tick_s is not None:
        env["CITYCC_TICK_S"] = str(tick_s)
    proc = subprocess.Popen(
        [sys.executable, "run.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, timeout_s=180)
        with sync_playwright() as pw:
            browser = _browser(pw)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            _open(page, f"http://127.0.0.1:{port}")
            time.sleep(3)  # warm-up
            page.evaluate(
                "window.citycc_wall.stats.latency = [];"
                "window.citycc_wall.stats.latencyPub = [];"
                "window.citycc_wall.stats.inPage = []"
            )
            cpu0, t0 = _cpu_s(proc.pid), time.monotonic()
            time.sleep(seconds)
            cpu = (_cpu_s(proc.pid) - cpu0) / (time.monotonic() - t0)
            lat = np.array(page.evaluate("window.citycc_wall.stats.latency"), float)
            pub = np.array(page.evaluate("window.citycc_wall.stats.latencyPub"), float)
            srv = np.array(page.evaluate("window.citycc_wall.stats.server.slice(-200)"), float)
            arr = np.array(page.evaluate("window.citycc_wall.stats.arrival.slice(-200)"), float)
            inpage = np.array(page.evaluate("window.citycc_wall.stats.inPage"), float)
            renderer = page.evaluate(RENDERER_JS)
            browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    tick = "default" if tick_s is None else f"{tick_s:g} s"
    print(f"GL renderer: {renderer}")
    if lat.size == 0:
        print("latency: no samples")
        return
    print(
        f"latency published->visible (run.py default load, source tick {tick}, "
        f"{seconds:.0f} s, n={pub.size}): p50 {_pct(pub, 50)} ms, p99 {_pct(pub, 99)} ms, "
        f"max {pub.max() if pub.size else float('nan'):.0f} ms"
    )
    print(
        f"latency sampled->visible   (same run, n={lat.size}): p50 {_pct(lat, 50)} ms, "
        f"p99 {_pct(lat, 99)} ms, max {lat.max():.0f} ms"
    )
    print(
        f"  sampled->server frame p50 {_pct(srv, 50)} ms, sampled->message in browser "
        f"p50 {_pct(arr, 50)} ms; message in browser->visible p50 {_pct(inpage, 50)} ms, "
        f"p99 {_pct(inpage, 99)} ms; run.py CPU {100 * cpu:.0f} % of one core"
    )


def coded_objects(city: Any) -> int:
    """Map objects coloured by a status code (cells, road segments, stations)."""
    return (
        len(city.cell_polygons())
        + city.roads.n_segments
        + len(city.air_stations)
        + len(city.water.nodes)
        + len(city.hazard_sources)
    )


def city_for(objects: int) -> tuple[Any, float]:
    """The smallest scale (steps of 0.5) whose city has at least ``objects`` coded objects."""
    from config.city import load_city

    scale = 1.0
    while True:
        city = load_city(scale=scale)
        if coded_objects(city) >= objects or scale >= 20:
            return city, scale
        scale += 0.5


class ChurnModel:
    """A wall model whose codes all change every second: the real codes, rotated by t // 1 s.

    The seeded feed moves values, but most objects keep their level from one second to
    the next; rotating every code by the second makes each object change every second.
    """

    def __init__(self, model: Any) -> None:
        self.model = model

    def frame(self, latest: Any, now_ms: int, *args: Any) -> Any:
        from dataclasses import replace

        from layouts.wall_map import PALETTES

        fr = self.model.frame(latest, now_ms, *args)
        k = int(now_ms // 1000)
        codes = {
            name: ((c.astype(np.int64) + k) % len(PALETTES[name])).astype(np.int8)
            for name, c in fr.codes.items()
        }
        return replace(fr, codes=codes)


def frames(seconds: float, objects: int) -> None:
    from playwright.sync_api import sync_playwright

    from config.settings import Settings
    from dashboard.app import Server, create_app
    from dashboard.pages.wall import push_loop
    from streams.clock import SystemClock
    from streams.state.memory import MemoryStateStore
    from tests.browser.wall_feed import WallFeed

    city, scale = city_for(objects)
    n_coded = coded_objects(city)
    state = MemoryStateStore(window_s=600)
    ctx = create_app(Settings(), state, city, SystemClock())
    loop = push_loop(ctx)
    assert loop is not None
    loop.model = ChurnModel(loop.model)  # type: ignore[assignment]
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
            page.evaluate(
                "window.citycc_wall.stats.latency = [];window.citycc_wall.stats.inPage = []"
            )
            counts0 = page.evaluate(COUNTS_JS)
            load0 = os.getloadavg()[0]
            out = page.evaluate(FRAMES_JS, int(seconds * 1000))
            load1 = os.getloadavg()[0]
            counts = page.evaluate(COUNTS_JS)
            inpage = np.array(page.evaluate("window.citycc_wall.stats.inPage"), float)
            lat = np.array(page.evaluate("window.citycc_wall.stats.latency"), float)
            srv = np.array(page.evaluate("window.citycc_wall.stats.server.slice(-200)"), float)
            renderer = page.evaluate(RENDERER_JS)
            js = page.evaluate(
                "[window.citycc_wall.stats.renderMs, window.citycc_wall.stats.applyMs]"
            )
            browser.close()
    finally:
        feed.stop()
        server.shutdown()
    print(f"GL renderer: {renderer}")
    # the machine is shared (2 cores here): its load says how much else competed for the CPU
    print(f"machine load average (1 min) at start / end of the window: {load0:.2f} / {load1:.2f}")
    f = np.array(out["frames"], float)
    print(
        f"frames: scale {scale}, {len(city.registry)} sensors, {n_coded} coded map objects "
        f"(+{len(city.units)} units), "
        f"{out['changed_per_s']:.0f} object codes changed/s; frame time p50 "
        f"{np.percentile(f, 50):.1f} ms, p99 {np.percentile(f, 99):.1f} ms, "
        f"max {f.max():.1f} ms, over 50 ms: {100 * np.mean(f > 50):.1f} % of {f.size} frames"
    )
    # deck.gl updates its buffers and draws in its own frame callback: that cost (and the
    # GPU's, which SwiftShader runs on the CPU) shows in the frame times above
    for name, arr in (
        ("map layers (setProps, requestUpdate)", np.array(js[0]["map"])),
        ("panel region paint (KPIs, charts, ages or ticker)", np.array(js[0]["panels"])),
        ("message apply", np.array(js[1])),
    ):
        print(
            f"  main-thread JS per update, {name}: p50 {_pct(arr, 50)} ms, "
            f"max {arr.max() if arr.size else float('nan'):.0f} ms"
        )
    shown = {k: counts[k] - counts0[k] for k in counts}
    print(
        f"  map updates shown: {shown['presented']} drawn on the hidden canvas in "
        f"{shown['chunkFrames']} chunk frames, {shown['direct']} drawn directly in one frame"
    )
    if lat.size:
        print(
            f"  same run, feed written straight to the store: reading->server frame p50 "
            f"{np.percentile(srv, 50):.0f} ms; reading->visible p50 "
            f"{np.percentile(lat, 50):.0f} ms, p99 {np.percentile(lat, 99):.0f} ms; "
            f"message in browser->visible p50 {_pct(inpage, 50)} ms, p99 {_pct(inpage, 99)} ms"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument(
        "--objects",
        type=int,
        default=20_000,
        help="coded map objects for the frame-time run (picks the city scale)",
    )
    ap.add_argument(
        "--tick",
        type=float,
        default=None,
        help="source tick in seconds for the latency run (default: settings)",
    )
    ap.add_argument("--only", choices=("latency", "frames"), default=None)
    a = ap.parse_args()
    if a.only in (None, "latency"):
        latency(a.seconds, a.tick)
    if a.only in (None, "frames"):
        frames(a.seconds, a.objects)


if __name__ == "__main__":
    main()
