"""Socket.IO push of the wall: compact diffs by id, throttled per browser, one loop per process.

Why a loop and not per-request callbacks: thousands of map objects change every second; a
Dash callback round trip per update would re-send whole figures. Instead one background
thread per web process watches the state store, computes a :class:`~dashboard.wall_data.
WallFrame` once per push tick (shared by every client), diffs it against the frame it sent
before and emits only what changed:

- map layers: ``{"i": [changed positions], "v": [new codes]}`` (columnar), or ``{"full":
  [...]}`` when more than a third changed;
- rows keyed by id (units, incidents): ``{"upsert": {column: [...]}, "remove": [ids]}``;
- KPIs: only the keys whose value changed; ticker: the whole (short) list when it changed;
- charts: the new points of each KPI series.

Event-driven, throttled at the leading edge: in the embedded process the engine stage calls
:meth:`PushLoop.notify` right after it wrote a batch to the state store, which wakes the
loop at once; separate web processes poll the store's cheap ``newest_ts`` every
``poll_s`` (20 ms). New readings are sent at once unless the previous *data* message went
out less than ``1 / push_hz`` ago (then they wait for the rest of the period), so no panel
exceeds ``push_hz``. Messages that carry no new readings never take a data slot: document
changes (alerts, units, incidents, forecast bands) ride along with the next data message
and go out on their own only when no reading arrived (throttled separately), and with
nothing new at all a heartbeat (ages only) still goes out every second, which is how the
page tells "no data" from "no connection". Each message says when the newest batch in it
was published (``pub``, producer time, when known) and sampled (``newest``).

Each process emits to its own clients only (``ignore_queue=True``) from the shared state
store: with several web processes behind a balancer and a Redis state, every client gets
exactly one stream, consistent with the full snapshot it received on joining.

>>> import numpy as np
>>> diff_codes(np.array([1, 2, 3], np.int8), np.array([1, 4, 3], np.int8))
{'i': [1], 'v': [4]}
>>> diff_rows([{"id": "a", "x": 1}], [{"id": "b", "x": 2}], ("x",))
{'upsert': {'id': ['b'], 'x': [2]}, 'remove': ['a']}
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dashboard.wall_data import WallFrame, WallModel
from streams.clock import Clock
from streams.state import StateStore

log = logging.getLogger(__name__)

#: rooms that receive the full wall stream; "dispatch" gets units/incidents/ticker only
WALL_ROOMS = ("wall", "leader")
ROLES = ("wall", "leader", "dispatch")
#: KPI series kept for the charts (one point per second, ten minutes)
SERIES = ("tpi", "aqi", "pressure_pct", "alarms", "incidents")
SERIES_LEN = 600
UNIT_COLUMNS = ("lon", "lat", "group", "state", "kind", "home")
INCIDENT_COLUMNS = ("lon", "lat", "level", "kind", "state", "title")
HEARTBEAT_S = 1.0
DOCS_EVERY_S = 1.0


def diff_codes(prev: np.ndarray | None, cur: np.ndarray) -> dict[str, list[int]] | None:
    """What changed between two code arrays (None = nothing); full array when cheaper.

    >>> diff_codes(None, np.array([0, 1], np.int8))
    {'full': [0, 1]}
    """
    if prev is None or prev.shape != cur.shape:
        return {"full": cur.tolist()}
    changed = np.flatnonzero(prev != cur)
    if changed.size == 0:
        return None
    if changed.size * 3 > cur.size:
        return {"full": cur.tolist()}
    return {"i": changed.tolist(), "v": cur[changed].tolist()}


def columnar(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, list[Any]]:
    """Rows as one list per column (ids under ``"id"``): smaller JSON, faster to apply."""
    out: dict[str, list[Any]] = {"id": [r["id"] for r in rows]}
    for c in columns:
        out[c] = [r.get(c) for r in rows]
    return out


def diff_rows(
    prev: Sequence[dict[str, Any]] | None, cur: Sequence[dict[str, Any]], columns: Sequence[str]
) -> dict[str, Any] | None:
    """Rows keyed by ``id`` that appeared or changed (columnar) and ids that went away."""
    before = {r["id"]: r for r in (prev or ())}
    now_ids = {r["id"] for r in cur}
    changed = [r for r in cur if before.get(r["id"]) != r]
    removed = [i for i in before if i not in now_ids]
    if prev is not None and not changed and not removed:
        return None
    return {"upsert": columnar(changed, columns), "remove": removed}


def diff_kpis(prev: dict[str, Any] | None, cur: dict[str, Any]) -> dict[str, Any]:
    """KPI keys whose value changed (all of them against ``None``)."""
    if prev is None:
        return dict(cur)
    return {k: v for k, v in cur.items() if prev.get(k, object()) != v}


def series_point(frame: WallFrame) -> dict[str, float | None]:
    """One chart point per KPI series from a frame."""
    k = frame.kpis
    alarms = None if k.get("alarm1") is None else k.get("alarm1", 0) + k.get("alarm2", 0)
    return {"tpi": k.get("tpi"), "aqi": k.get("aqi"), "pressure_pct": k.get("pressure_pct"),
            "alarms": alarms, "incidents": k.get("incidents")}


def parse_band(doc: Any) -> dict[str, list[float]] | None:
    """A forecast band from a ``forecast:*`` JSON document, tolerant of two shapes.

    ``{"ts": [...], "yhat": [...], "lo": [...], "hi": [...]}`` or the same with
    ``"t0"`` and ``"step_ms"`` instead of ``"ts"``. Anything else gives None.

    >>> parse_band({"t0": 0, "step_ms": 1000, "yhat": [1], "lo": [0], "hi": [2]})
    {'t': [1000.0], 'yhat': [1.0], 'lo': [0.0], 'hi': [2.0]}
    """
    if not isinstance(doc, dict):
        return None
    try:
        yhat = [float(x) for x in doc["yhat"]]
        lo = [float(x) for x in doc.get("lo", yhat)]
        hi = [float(x) for x in doc.get("hi", yhat)]
        if "ts" in doc:
            ts = [int(x) for x in doc["ts"]]
        else:
            t0, step = int(doc["t0"]), int(doc["step_ms"])
            ts = [t0 + step * (h + 1) for h in range(len(yhat))]
    except (KeyError, TypeError, ValueError):
        return None
    if not (len(ts) == len(yhat) == len(lo) == len(hi)):
        return None
    return {"t": [float(x) for x in ts], "yhat": yhat, "lo": lo, "hi": hi}


def _clean(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


class PushLoop:
    """Background thread: state store → diffs → Socket.IO rooms.

    ``emit(event, payload, room)`` is injected (``socketio.emit`` in the app, a list in
    tests); :meth:`tick` does one step without a thread, so the diff logic is testable
    with a manual clock.
    """

    def __init__(
        self,
        state: StateStore,
        model: WallModel,
        clock: Clock,
        emit: Callable[[str, dict[str, Any], str], None],
        push_hz: float = 2.0,
        counters: dict[str, int] | None = None,
        poll_s: float = 0.02,
    ) -> None:
        if push_hz <= 0:
            raise ValueError("push_hz must be positive")
        self.state = state
        self.model = model
        self.clock = clock
        self.emit = emit
        self.period_s = 1.0 / push_hz
        self.poll_s = min(poll_s, self.period_s)
        self.counters = counters if counters is not None else {"pushed": 0}
        self.seq = 0
        self._lock = threading.Lock()
        self._frame: WallFrame | None = None
        self._series: deque[tuple[int, dict[str, float | None]]] = deque(maxlen=SERIES_LEN)
        self._bands: dict[str, dict[str, list[float]]] = {}
        self._docs: dict[str, list[dict[str, Any]]] = {"alerts": [], "units": [],
                                                        "incidents": []}
        self._docs_at = -math.inf
        self._pub_ms: int | None = None
        #: None: nobody calls notify (poll the store); else whether a notify is unanswered
        self._notified: bool | None = None
        self._bands_pending = False
        self._docs_dirty = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Start the thread (a second call does nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self.run, name="wall-push", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self, published_ms: int | None = None) -> None:
        """New data is in the store (called by the engine stage, any thread): wake the loop.

        ``published_ms`` is the producer time of the batch just written; the next message
        carries the newest one as ``pub`` so the page can measure publish → visible.
        """
        with self._lock:
            if published_ms is not None:
                self._pub_ms = max(published_ms, self._pub_ms or published_ms)
            self._notified = True
        self._wake.set()

    def run(self) -> None:
        last_fp: Any = self._fingerprint()
        last_data = last_docs = last_any = -math.inf
        wait_s = 0.0
        while not self._stop.is_set():
            self._wake.wait(wait_s)
            self._wake.clear()
            if self._stop.is_set():
                break
            wait_s = self.poll_s
            now = time.monotonic()
            fp = self._fingerprint()
            docs_due = now - self._docs_at >= DOCS_EVERY_S
            # with an engine stage in this process, new data is what it notified: the store
            # may already show part of a batch (readings before scores) before the notify
            fresh = fp != last_fp and self._notified is not False
            if fresh:  # new readings: send now unless this period already had data
                if now - last_data < self.period_s:
                    wait_s = self.period_s - (now - last_data)
                    continue
                kind = "data"
            elif (self._read_docs() if docs_due else False) or self._docs_dirty:
                if now - last_docs < self.period_s:
                    continue
                kind = "docs"
            elif now - last_any >= HEARTBEAT_S:
                kind = "heartbeat"
            else:
                continue
            try:
                self.tick(read_docs=docs_due and kind == "data")
            except Exception:  # noqa: BLE001 - keep pushing after a bad tick; logged
                log.exception("wall push tick failed")
            sent = time.monotonic()
            last_any = sent
            if kind == "data":
                last_fp, last_data, last_docs = fp, sent, sent
                with self._lock:
                    self._notified = None if self._notified is None else False
            elif kind == "docs":
                last_docs = sent

    # ------------------------------------------------------------------ one step
    def _fingerprint(self) -> tuple[Any, Any]:
        return self.state.newest_ts(), self.state.counters().get("scored")

    def _read_docs(self) -> bool:
        """Alerts, units, incidents and KPI forecast bands; True when any changed."""
        self._docs_at = time.monotonic()
        st = self.state
        docs = {
            name: [d for d in (st.get_json(k) for k in st.json_keys(prefix))
                   if isinstance(d, dict)]
            for name, prefix in (("alerts", "alert:"), ("units", "unit:"),
                                 ("incidents", "incident:"))
        }
        bands = {}
        for name in SERIES:
            band = parse_band(st.get_json(f"forecast:kpi.{name}"))
            if band is not None:
                bands[name] = band
        changed = docs != self._docs or bands != self._bands
        self._bands_pending = self._bands_pending or bands != self._bands
        self._docs_dirty = self._docs_dirty or changed
        self._docs, self._bands = docs, bands
        return changed

    def tick(self, read_docs: bool = True) -> dict[str, Any]:
        """Compute a frame, emit its diff to the rooms, return the payload sent."""
        if read_docs:
            self._read_docs()
        bands_changed, self._bands_pending, self._docs_dirty = self._bands_pending, False, False
        now = self.clock.now_ms()
        frame = self.model.frame(self.state.latest_all(), now, self._docs["alerts"],
                                 self._docs["units"], self._docs["incidents"])
        with self._lock:
            prev = self._frame
            self.seq += 1
            new_points = self._add_point(frame)
            payload = self._diff(prev, frame, new_points, bands_changed)
            self._frame = frame
        for room in WALL_ROOMS:
            self.emit("wall:update", payload, room)
        ops: dict[str, Any] = {k: payload[k] for k in ("seq", "t", "units", "incidents", "ticker")
                               if k in payload}
        if len(ops) > 2:
            self.emit("ops:update", ops, "dispatch")
        self.counters["pushed"] = self.counters.get("pushed", 0) + 1
        return payload

    def _add_point(self, frame: WallFrame) -> list[tuple[int, dict[str, Any]]]:
        """Append one chart point per second of stream time; returns what was added."""
        if self._series and frame.now_ms - self._series[-1][0] < 1000:
            return []
        point = (frame.now_ms, series_point(frame))
        self._series.append(point)
        return [point]

    def _diff(self, prev: WallFrame | None, frame: WallFrame,
              new_points: list[tuple[int, dict[str, Any]]], bands: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "t": frame.now_ms,
                               "newest": frame.newest_ms, "pub": self._pub_ms,
                               "ages": {k: _clean(v) for k, v in frame.ages_s.items()}}
        layers = {}
        for name, codes in frame.codes.items():
            d = diff_codes(None if prev is None else prev.codes.get(name), codes)
            if d is not None:
                layers[name] = d
        if layers:
            out["layers"] = layers
        kpis = diff_kpis(None if prev is None else prev.kpis, frame.kpis)
        if kpis:
            out["kpis"] = kpis
        if prev is None or prev.ticker != frame.ticker or \
                prev.ticker_derived != frame.ticker_derived:
            out["ticker"] = {"derived": frame.ticker_derived, "items": frame.ticker}
        units = diff_rows(None if prev is None else prev.units, frame.units, UNIT_COLUMNS)
        if units is not None:
            out["units"] = units
        inc = diff_rows(None if prev is None else prev.incidents, frame.incidents,
                        INCIDENT_COLUMNS)
        if inc is not None:
            out["incidents"] = inc
        if new_points:
            out["series"] = _series_columns(new_points)
        if bands or prev is None:
            out["bands"] = self._bands
        return out

    # ------------------------------------------------------------------ joining
    def full(self) -> dict[str, Any]:
        """Everything a client that just joined needs (the last frame, all series points)."""
        with self._lock:
            frame = self._frame
        if frame is None:
            self.tick()
            with self._lock:
                frame = self._frame
        assert frame is not None
        with self._lock:
            payload = self._diff(None, frame, list(self._series), True)
            payload["seq"] = self.seq
            payload["full"] = True
        return payload


def _series_columns(points: list[tuple[int, dict[str, Any]]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"t": [p[0] for p in points]}
    for name in SERIES:
        out[name] = [_clean(p[1].get(name)) for p in points]
    return out
