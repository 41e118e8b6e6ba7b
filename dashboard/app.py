"""The web process: Dash pages, ``/healthz``, ``/metrics``, REST API and Socket.IO push.

``create_app`` is a factory (no module-level live objects): the caller passes the
settings, the state store to read, the city and a clock. Pages live in
``dashboard/pages/`` and API blueprints in ``dashboard/api/``; each module has
``register(ctx)`` and is picked up here, so adding one does not touch this file.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import secrets
import threading
from pathlib import Path
from typing import Any

import dash
from dash import Dash, Input, Output, State, dcc, html
from flask import Flask, Response, jsonify
from flask_socketio import SocketIO
from werkzeug.serving import BaseWSGIServer, make_server

from config.settings import Settings
from dashboard import api as api_package
from dashboard import pages as pages_package
from dashboard.context import AppContext
from dashboard.snapshot import health
from layouts import ids
from layouts.messages import DEFAULT_LANGUAGE, LANGUAGES, t
from streams.clock import Clock
from streams.state import StateStore

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"
#: largest request body accepted (bytes); larger ones get 413 before they are read
MAX_REQUEST_BYTES = 1 << 20
#: the page menu of the app shell: (catalog key under nav., path)
NAV_PAGES = (("wall", "/"), ("dispatch", "/dispatch"), ("alerts", "/alerts"), ("status", "/status"))


def create_app(settings: Settings, state: StateStore, city: Any, clock: Clock,
               bus: Any = None) -> AppContext:
    server = Flask(__name__)
    # shared by all web processes of a deployment (sessions); random when not configured
    server.config["SECRET_KEY"] = settings.secret_key or secrets.token_hex(32)
    # request bodies (incidents, CAP messages, logins) are small; refuse huge ones with 413
    server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    dash_app = Dash(
        __name__, server=server,  # type: ignore[arg-type]  # Dash's stub says bool
        assets_folder=str(ASSETS), serve_locally=True, use_pages=True, pages_folder="",
        title=t("app.title"), update_title=None,  # type: ignore[arg-type]  # None disables
        suppress_callback_exceptions=True,
    )
    queue = settings.state if settings.state.startswith("redis://") else None
    socketio = SocketIO(server, async_mode="threading", message_queue=queue,
                        cors_allowed_origins=[])
    ctx = AppContext(settings, state, city, clock, server, dash_app, socketio, bus=bus)

    @server.get("/healthz")
    def healthz() -> Response:
        snap = health(state, clock.now_ms(), settings.stale_after_s, ctx.counters["pushed"])
        return jsonify(snap.as_json())

    @server.get("/metrics")
    def metrics() -> Response:
        snap = health(state, clock.now_ms(), settings.stale_after_s, ctx.counters["pushed"])
        return Response(snap.as_prometheus(), mimetype="text/plain; version=0.0.4")

    for package in (pages_package, api_package):
        for mod in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package.__name__}.{mod.name}")
            module.register(ctx)

    dash_app.layout = html.Div(className="shell", children=[
        dcc.Store(id=ids.LANG_STORE, storage_type="local", data=settings.language),
        html.Div(className="shell-controls", children=[
            html.Details(className="nav-menu", children=[
                html.Summary("☰", title=t("nav.menu")), html.Nav(id=ids.NAV)]),
            html.Button(id=ids.LANG_BUTTON, n_clicks=0, className="lang-button"),
        ]),
        dash.page_container,
    ])

    @dash_app.callback(
        Output(ids.LANG_STORE, "data"),
        Input(ids.LANG_BUTTON, "n_clicks"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def switch_language(_n: int, lang: str) -> str:
        return "en" if lang != "en" else "zh-CN"

    @dash_app.callback(
        Output(ids.LANG_BUTTON, "children"), Output(ids.NAV, "children"),
        Input(ids.LANG_STORE, "data"),
    )
    def shell_texts(lang: str) -> tuple[str, list[Any]]:
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        links = [dcc.Link(t(f"nav.{name}", lang), href=path, className="nav-link")
                 for name, path in NAV_PAGES]
        return t("lang.switch", lang), links

    return ctx


class Server:
    """Threaded WSGI server that stops cleanly (Ctrl-C / SIGTERM call :meth:`shutdown`)."""

    def __init__(self, ctx: AppContext, host: str, port: int) -> None:
        self._ctx = ctx
        self._srv: BaseWSGIServer = make_server(host, port, ctx.server, threaded=True)
        self.port = self._srv.server_port
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._srv.serve_forever, name="web", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        for closer in self._ctx.closers:
            closer.stop()
        self._srv.shutdown()
        if self._thread:
            self._thread.join(timeout=5)
