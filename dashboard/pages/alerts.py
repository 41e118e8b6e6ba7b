"""``/alerts``: the operator alert queue — select, acknowledge by one key, act, hear I–II alerts.

Thin callbacks over the web process's :class:`~alerts.lifecycle.AlertService`
(:func:`dashboard.api.alerts.alerts_runtime`, the same object the REST API uses) and the
pure builders in :mod:`layouts.alerts`. Login and roles are dispatch's: the page shows a
login form until the session has a user; every action checks the ``create`` permission
and the CSRF token (Dash's renderer echoes the ``_csrf_token`` cookie as ``X-CSRFToken``).
Keyboard and sound live in ``assets/alerts/alerts.js``; the sound is switchable and on by
default (stored in the browser).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from alerts.store import AlertConflict, AlertNotFound
from dashboard.api.alerts import alerts_runtime
from dashboard.api.auth import csrf_ok, current_user, form_login
from dashboard.api.dispatch_runtime import runtime_for
from dashboard.context import AppContext
from dispatch.auth import can
from dispatch.errors import DispatchError
from layouts import alerts as view
from layouts import ids
from layouts.messages import CATALOG, DEFAULT_LANGUAGE, LANGUAGES, t

QUEUE_LIMIT = 300
#: data-* attributes read by assets/alerts/alerts.js (cue on/off, sound on/off)
_CUE_ATTRS: dict[str, Any] = {"data-cue": "0", "data-sound": "1"}
#: data-tick changes on every refresh; alerts.js flags the data-age line when it stops
_TICK_ATTRS: dict[str, Any] = {"data-tick": ""}


def _lang(lang: Any) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def register(ctx_app: AppContext) -> None:
    names = {d.adcode: (d.name_zh, d.name_en) for d in ctx_app.city.districts}

    def service() -> Any:
        return alerts_runtime(ctx_app).service

    def layout(**_query: str) -> html.Div:
        return html.Div(className="page alerts-page", children=[
            html.Header(className="topbar", children=[
                html.H1(id=ids.ALERTS_TITLE),
                html.Span(id=ids.ALERTS_USER),
            ]),
            dcc.Store(id=ids.ALERTS_AUTH, data=0),
            dcc.Store(id=ids.ALERTS_BUMP, data=0),
            dcc.Store(id=ids.ALERTS_SELECTED, data=None),
            dcc.Store(id=ids.ALERTS_SOUND, storage_type="local", data=True),
            html.Main(id=ids.ALERTS_MAIN),
        ])

    dash.register_page("alerts", path="/alerts", layout=layout, title=t("alerts.title"))
    app = ctx_app.dash

    @app.callback(
        Output(ids.ALERTS_MAIN, "children"),
        Output(ids.ALERTS_TITLE, "children"),
        Output(ids.ALERTS_USER, "children"),
        Input(ids.LANG_STORE, "data"),
        Input(ids.ALERTS_AUTH, "data"),
        State(ids.ALERTS_SOUND, "data"),
    )
    def render_main(lang: str, _auth: int, sound: Any) -> tuple[Any, str, str]:
        lang = _lang(lang)
        title = f"{t('app.title', lang)} · {t('alerts.title', lang)}"
        who = current_user()
        if who is None:
            return html.Div(view.login_form(lang), className="alerts-login card"), title, ""
        label, tip, cls = view.sound_button(sound is not False, lang)
        body = html.Div(className="alerts-body", children=[
            dcc.Interval(id=ids.ALERTS_TICK, interval=2000),
            html.Div(className="alerts-toolbar", children=[
                html.Div(id=ids.ALERTS_SUMMARY),
                dcc.RadioItems(id=ids.ALERTS_FILTER, options=view.filter_options(lang),
                               value="open", inline=True, className="alerts-filter"),
                html.Div(className="alerts-toolbar-gap"),
                html.Div(id=ids.ALERTS_REFRESHED, className="alerts-refreshed",
                         title=t("alerts.refreshed_tip", lang), **_TICK_ATTRS),
                html.Button(label, id=ids.ALERTS_SOUND_TOGGLE, n_clicks=0, title=tip,
                            className=cls),
                html.Div(id=ids.ALERTS_CUE, className="alerts-cue", **_CUE_ATTRS),
            ]),
            html.Div(className="alerts-layout", children=[
                html.Section(id=ids.ALERTS_QUEUE, className="card alerts-queue"),
                html.Section(className="card alerts-side", children=[
                    html.Div(id=ids.ALERTS_DETAIL, children=view.detail(None, lang)),
                    view.actions(lang),
                    html.Div(id=ids.ALERTS_TIMELINE),
                ]),
            ]),
        ])
        role = f"dispatch.role_name.{who[1]}"
        return body, title, f"{who[0]} · {t(role, lang) if role in CATALOG else who[1]}"

    @app.callback(
        Output(ids.ALERTS_AUTH, "data", allow_duplicate=True),
        Output(ids.ALERTS_LOGIN_ERROR, "children"),
        Input(ids.ALERTS_LOGIN_BUTTON, "n_clicks"),
        Input(ids.ALERTS_LOGIN_PASSWORD, "n_submit"),
        State(ids.ALERTS_LOGIN_USER, "value"),
        State(ids.ALERTS_LOGIN_PASSWORD, "value"),
        State(ids.ALERTS_AUTH, "data"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def login(n: int, sub: int, user: Any, password: Any, bump: int, lang: str
              ) -> tuple[Any, Any]:
        done = form_login(n, sub, user, password, runtime_for(ctx_app).store)
        if done is None:
            return no_update, no_update
        if not done:
            return no_update, t("alerts.login_failed", _lang(lang))
        return (bump or 0) + 1, ""

    @app.callback(
        Output(ids.ALERTS_SOUND, "data"),
        Input(ids.ALERTS_SOUND_TOGGLE, "n_clicks"),
        State(ids.ALERTS_SOUND, "data"),
        prevent_initial_call=True,
    )
    def toggle_sound(n: int, on: Any) -> bool:
        if not n:
            raise PreventUpdate
        return not (on is not False)

    @app.callback(
        Output(ids.ALERTS_SOUND_TOGGLE, "children"),
        Output(ids.ALERTS_SOUND_TOGGLE, "title"),
        Output(ids.ALERTS_SOUND_TOGGLE, "className"),
        Input(ids.ALERTS_SOUND, "data"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def sound_label(on: Any, lang: str) -> tuple[Any, str, str]:
        return view.sound_button(on is not False, _lang(lang))

    @app.callback(
        Output(ids.ALERTS_SELECTED, "data"),
        Input({"type": ids.ALERTS_ROW, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(clicks: list[int]) -> str:
        trig = ctx.triggered_id
        if not isinstance(trig, dict) or not any(clicks or []):
            raise PreventUpdate
        return str(trig["index"])

    @app.callback(
        Output(ids.ALERTS_QUEUE, "children"),
        Output(ids.ALERTS_SUMMARY, "children"),
        Output(ids.ALERTS_DETAIL, "children"),
        Output(ids.ALERTS_TIMELINE, "children"),
        Output(ids.ALERTS_REFRESHED, "children"),
        Output(ids.ALERTS_REFRESHED, "data-tick"),
        Output(ids.ALERTS_CUE, "className"),
        Output(ids.ALERTS_CUE, "data-cue"),
        Output(ids.ALERTS_CUE, "data-sound"),
        Output(ids.ALERTS_ACK, "disabled"),
        Output(ids.ALERTS_ASSIGN, "disabled"),
        Output(ids.ALERTS_COMMENT, "disabled"),
        Output(ids.ALERTS_CLEAR, "disabled"),
        Output(ids.ALERTS_INCIDENT, "disabled"),
        Input(ids.ALERTS_TICK, "n_intervals"),
        Input(ids.ALERTS_SELECTED, "data"),
        Input(ids.ALERTS_BUMP, "data"),
        Input(ids.ALERTS_FILTER, "value"),
        Input(ids.ALERTS_SOUND, "data"),
        Input(ids.LANG_STORE, "data"),
    )
    def refresh(n: int, selected: Any, bump: int, flt: Any, sound: Any, lang: str
                ) -> tuple[Any, ...]:
        lang = _lang(lang)
        who = current_user()
        if who is None:
            raise PreventUpdate
        svc = service()
        now = svc.clock.now_ms()
        flt = flt if flt in ("open", "city", "sensor", "all") else "open"
        if flt == "all":
            alerts = svc.store.alerts(limit=QUEUE_LIMIT)
        elif flt in ("city", "sensor"):
            alerts = svc.store.alerts(kind=flt, open_only=True, limit=QUEUE_LIMIT)
        else:
            alerts = svc.store.alerts(open_only=True, limit=QUEUE_LIMIT)

        def doc(a: Any) -> dict[str, Any]:
            d: dict[str, Any] = a.as_json()
            zh, en = names.get(a.district, (a.district, a.district))
            d["district_name"] = zh if lang == "zh-CN" else en
            return d

        docs = view.queue_order([doc(a) for a in alerts])
        sel = next((d for d in docs if d["id"] == selected), None)
        if sel is None and isinstance(selected, str):
            try:
                sel = doc(svc.get(selected))
            except AlertNotFound:
                sel = None
        entries = [e.as_json() for e in svc.store.timeline(sel["id"])] if sel else []
        cue = view.needs_cue(docs)
        may = can(who[1], "create") and sel is not None
        closed = sel is None or (sel["state"] == "cleared" and sel["acknowledged"])
        return (
            view.queue(docs, sel["id"] if sel else None, lang, flt, now),
            view.summary(docs, lang), view.detail(sel, lang), view.timeline(sel, entries, lang),
            view.refreshed(now, lang), f"{n or 0}.{bump or 0}",
            "alerts-cue on" if cue else "alerts-cue",
            "1" if cue else "0", "0" if sound is False else "1",
            not may or bool(sel and sel["acknowledged"]), not may or closed, not may,
            not may or bool(sel and sel["state"] == "cleared"),
            not may or bool(sel and sel.get("incident_id")),
        )

    @app.callback(
        Output(ids.ALERTS_BUMP, "data"),
        Output(ids.ALERTS_MESSAGE, "children"),
        Output(ids.ALERTS_COMMENT_INPUT, "value"),
        Input(ids.ALERTS_ACK, "n_clicks"),
        Input(ids.ALERTS_ASSIGN, "n_clicks"),
        Input(ids.ALERTS_COMMENT, "n_clicks"),
        Input(ids.ALERTS_CLEAR, "n_clicks"),
        Input(ids.ALERTS_INCIDENT, "n_clicks"),
        State(ids.ALERTS_SELECTED, "data"),
        State(ids.ALERTS_ASSIGN_INPUT, "value"),
        State(ids.ALERTS_COMMENT_INPUT, "value"),
        State(ids.ALERTS_BUMP, "data"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def act(_a: int, _b: int, _c: int, _d: int, _e: int, selected: Any, assignee: Any,
            comment: Any, bump: int, lang: str) -> tuple[Any, str, Any]:
        lang = _lang(lang)
        trig = ctx.triggered_id
        if not isinstance(selected, str) or trig is None or not ctx.triggered[0].get("value"):
            raise PreventUpdate
        who = current_user()
        if who is None or not csrf_ok() or not can(who[1], "create"):
            return no_update, t("alerts.forbidden", lang), no_update
        svc = service()
        keep_comment: Any = no_update
        try:
            if trig == ids.ALERTS_ACK:
                svc.acknowledge(selected, who[0])
            elif trig == ids.ALERTS_ASSIGN:
                svc.assign(selected, assignee if isinstance(assignee, str) else "", who[0])
            elif trig == ids.ALERTS_COMMENT:
                svc.comment(selected, comment if isinstance(comment, str) else "", who[0])
                keep_comment = ""
            elif trig == ids.ALERTS_CLEAR:
                svc.clear(selected, who[0])
            elif trig == ids.ALERTS_INCIDENT:
                _, inc = svc.create_incident(selected, who[0])
                return (bump or 0) + 1, f"{t('alerts.incident_link', lang)} {inc}", no_update
        except (AlertNotFound, AlertConflict, ValueError, DispatchError) as e:
            return no_update, f"{t('alerts.failed', lang)}: {e}", no_update
        return (bump or 0) + 1, t("alerts.done", lang), keep_comment
