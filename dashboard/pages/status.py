"""``/status``: the pipeline, live (counters, newest-reading age, domains, dead letters)."""

from __future__ import annotations

import dash
from dash import Input, Output, dcc, html

from dashboard.context import AppContext
from dashboard.snapshot import status_view
from layouts import ids
from layouts.messages import DEFAULT_LANGUAGE, LANGUAGES, t
from layouts.status import render as render_status


def register(ctx: AppContext) -> None:
    def layout(**_query: str) -> html.Div:
        return html.Div(className="page", children=[
            html.Header(className="topbar", children=[html.H1(id=ids.STATUS_TITLE)]),
            dcc.Interval(id=ids.STATUS_TICK, interval=1000),
            html.Main(id=ids.STATUS_BODY),
        ])

    dash.register_page("status", path="/status", layout=layout, title=t("status.title"))

    @ctx.dash.callback(
        Output(ids.STATUS_BODY, "children"),
        Output(ids.STATUS_TITLE, "children"),
        Input(ids.STATUS_TICK, "n_intervals"),
        Input(ids.LANG_STORE, "data"),
    )
    def refresh(_n: int, lang: str) -> tuple[html.Div, str]:
        lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        view = status_view(ctx.state, ctx.city.registry, ctx.clock.now_ms(),
                           ctx.settings.stale_after_s, ctx.counters["pushed"])
        return render_status(view, lang), f"{t('app.title', lang)} · {t('status.title', lang)}"
