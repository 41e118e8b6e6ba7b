"""``/``: the command-center wall — thin adapters between the app and the wall modules.

- ``GET /wall/spec.json``: the pydeck map spec (built once per process) and the browser
  config (palettes, messages in both languages, stale threshold, push rate);
- ``GET /wall/detail?layer=…&id=…``: the clicked object's sensors (history, forecast, score);
- Socket.IO ``wall:join`` ``{"role": "wall" | "leader" | "dispatch"}``: joins the role's
  room and answers with ``wall:full``; afterwards :class:`~dashboard.push.PushLoop` sends
  ``wall:update`` diffs (and ``ops:update`` to ``dispatch``);
- the Dash page itself is :func:`layouts.wall.render`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import dash
from dash import Input, Output
from flask import Response, abort, request
from flask_socketio import emit, join_room

from dashboard.context import AppContext
from dashboard.push import ROLES, PushLoop
from dashboard.wall_data import WallModel
from dashboard.wall_detail import DetailIndex
from layouts import ids
from layouts.messages import CATALOG, DEFAULT_LANGUAGE, LANGUAGES, t
from layouts.wall import render
from layouts.wall_map import TOGGLE_LAYERS, MapRows, map_config, map_spec

_EXT = "citycc_wall"
_SHARED_KEYS = ("app.title", "lang.switch")


def map_rows(city: Any) -> MapRows:
    """The city's layers as plain rows (row order = the push loop's code order)."""
    return MapRows(outlines=city.district_outlines(), cells=city.cell_polygons(),
                   roads=city.road_paths(), air=city.points("air"),
                   water=city.points("water_nodes"), hazard=city.points("hazard"))


def browser_messages() -> dict[str, dict[str, str]]:
    """The catalog entries the wall's script needs (``wall.*`` plus a few shared ones)."""
    return {k: v for k, v in CATALOG.items() if k.startswith("wall.") or k in _SHARED_KEYS}


def push_loop(ctx: AppContext) -> PushLoop | None:
    """This app's wall push loop (None when the wall is not registered).

    The embedded process hands its :meth:`~dashboard.push.PushLoop.notify` to the engine
    stage so that a written batch is pushed at once.
    """
    loop = ctx.server.extensions.get(_EXT)
    return loop if isinstance(loop, PushLoop) else None


def register(ctx: AppContext) -> None:
    if _EXT in ctx.server.extensions:  # one push loop per app, however often registered
        return
    model = WallModel(ctx.city)
    details = DetailIndex(ctx.city)
    loop = PushLoop(
        ctx.state, model, ctx.clock,
        # each process serves its own clients from the shared store (see dashboard/push.py)
        lambda event, payload, room: ctx.socketio.emit(event, payload, to=room,
                                                       ignore_queue=True),
        push_hz=ctx.settings.push_hz, counters=ctx.counters,
    )
    ctx.server.extensions[_EXT] = loop
    spec_cache: dict[str, bytes] = {}
    spec_lock = threading.Lock()

    def spec_bytes() -> bytes:
        with spec_lock:
            if "spec" not in spec_cache:
                rows = map_rows(ctx.city)
                doc = {"deck": map_spec(rows), "config": {
                    **map_config(rows), "messages": browser_messages(),
                    "staleAfterS": ctx.settings.stale_after_s, "pushHz": ctx.settings.push_hz,
                    "language": ctx.settings.language,
                    "districts": {d.adcode: {"zh-CN": d.name_zh, "en": d.name_en}
                                  for d in ctx.city.districts},
                }}
                spec_cache["spec"] = json.dumps(doc, separators=(",", ":"),
                                                ensure_ascii=False).encode()
            return spec_cache["spec"]

    @ctx.server.get("/wall/spec.json")
    def wall_spec() -> Response:
        return Response(spec_bytes(), mimetype="application/json",
                        headers={"Cache-Control": "no-cache"})

    @ctx.server.get("/wall/detail")
    def wall_detail() -> Response:
        layer = request.args.get("layer", "")
        obj = request.args.get("id", "")
        try:
            body = details.detail(ctx.state, layer, obj)
        except KeyError:
            abort(404)
        return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

    @ctx.socketio.on("wall:join")
    def on_join(data: Any) -> None:
        role = data.get("role") if isinstance(data, dict) else None
        role = role if role in ROLES else "wall"
        join_room(role)
        emit("wall:full", loop.full())

    def layout(**_query: str) -> Any:
        return render(ctx.settings.language, TOGGLE_LAYERS)

    dash.register_page("wall", path="/", layout=layout, title=t("wall.title"))

    @ctx.dash.callback(Output(ids.WALL_ROOT, "lang"), Input(ids.LANG_STORE, "data"))
    def wall_language(lang: str) -> str:
        return lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    ctx.closers.append(loop)
    loop.start()
