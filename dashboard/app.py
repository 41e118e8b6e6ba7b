"""The web process: Dash pages, ``/healthz``, ``/metrics`` and the Socket.IO push server.

``create_app`` is a factory (no module-level live objects): the caller passes the
settings, the state store to read, the registry and a clock.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from dash import Dash, Input, Output, State, dcc, html
from flask import Flask, Response, jsonify
from flask_socketio import SocketIO
from werkzeug.serving import BaseWSGIServer, make_server

from config.city.registry import SensorRegistry
from config.settings import Settings
from dashboard.snapshot import health, status_view
from layouts import ids
from layouts.messages import DEFAULT_LANGUAGE, LANGUAGES, t
from layouts.status import render as render_status
from streams.clock import Clock
from streams.state import StateStore

log = logging.getLogger(__name__)
ASSETS = Path(__file__).resolve().parent.parent / "assets"


@dataclass
class WebApp:
    server: Flask
    dash: Dash
    socketio: SocketIO
    pushed: list[int] = field(default_factory=lambda: [0])


def create_app(settings: Settings, state: StateStore, registry: SensorRegistry,
               clock: Clock) -> WebApp:
    server = Flask(__name__)
    server.config["SECRET_KEY"] = _secret(settings)
    dash_app = Dash(
        __name__, server=server, assets_folder=str(ASSETS), serve_locally=True,
        title=t("app.title"), update_title=None, suppress_callback_exceptions=True,
    )
    queue = settings.state if settings.state.startswith("redis://") else None
    socketio = SocketIO(server, async_mode="threading", message_queue=queue,
                        cors_allowed_origins=[])
    app = WebApp(server, dash_app, socketio)

    @server.get("/healthz")
    def healthz() -> Response:
        snap = health(state, clock.now_ms(), settings.stale_after_s, app.pushed[0])
        return jsonify(snap.as_json())

    @server.get("/metrics")
    def metrics() -> Response:
        snap = health(state, clock.now_ms(), settings.stale_after_s, app.pushed[0])
        return Response(snap.as_prometheus(), mimetype="text/plain; version=0.0.4")

    dash_app.layout = html.Div(
        className="page",
        children=[
            dcc.Store(id=ids.LANG_STORE, storage_type="local", data=settings.language),
            html.Header(className="topbar", children=[
                html.H1(id="page-title"),
                html.Button(id=ids.LANG_BUTTON, n_clicks=0, className="lang-button"),
            ]),
            dcc.Interval(id=ids.STATUS_TICK, interval=1000),
            html.Main(id=ids.STATUS_BODY),
        ],
    )

    @dash_app.callback(
        Output(ids.LANG_STORE, "data"),
        Input(ids.LANG_BUTTON, "n_clicks"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def switch_language(_n: int, lang: str) -> str:
        return "en" if lang != "en" else "zh-CN"

    @dash_app.callback(
        Output(ids.STATUS_BODY, "children"),
        Output("page-title", "children"),
        Output(ids.LANG_BUTTON, "children"),
        Input(ids.STATUS_TICK, "n_intervals"),
        Input(ids.LANG_STORE, "data"),
    )
    def refresh(_n: int, lang: str) -> tuple[html.Div, str, str]:
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        view = status_view(state, registry, clock.now_ms(), settings.stale_after_s,
                           app.pushed[0])
        title = f"{t('app.title', lang)} · {t('status.title', lang)}"
        return render_status(view, lang), title, t("lang.switch", lang)

    return app


def _secret(settings: Settings) -> str:
    import secrets

    return secrets.token_hex(32)


class Server:
    """Threaded WSGI server that stops cleanly (Ctrl-C / SIGTERM call :meth:`shutdown`)."""

    def __init__(self, app: WebApp, host: str, port: int) -> None:
        self._srv: BaseWSGIServer = make_server(host, port, app.server, threaded=True)
        self.port = self._srv.server_port
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._srv.serve_forever, name="web", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self._srv.shutdown()
        if self._thread:
            self._thread.join(timeout=5)
