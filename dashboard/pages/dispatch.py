"""``/dispatch``: the commander's console — queue, map, recommendations, one-click assign.

Thin callbacks over :class:`dispatch.service.DispatchService` (the same object the
REST API uses) and the pure builders in :mod:`layouts.dispatch`. The page shows a
login form until the session has a user; every state-changing callback checks the
role and the CSRF token (Dash's renderer echoes the ``_csrf_token`` cookie in the
``X-CSRFToken`` header).
"""

from __future__ import annotations

from typing import Any

import dash
import numpy as np
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from flask import session

from dashboard.api.auth import CSRF_COOKIE, csrf_ok, current_user, form_login
from dashboard.api.dispatch_runtime import runtime_for
from dashboard.context import AppContext
from dispatch.auth import can
from dispatch.errors import Conflict, DispatchError, Invalid, NotFound
from layouts import dispatch as view
from layouts import ids
from layouts.messages import DEFAULT_LANGUAGE, LANGUAGES, t

RECS_EVERY_TICKS = 5


def _lang(lang: Any) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _road_lines(roads: Any) -> tuple[list[float | None], list[float | None]]:
    """All segments as one polyline with gaps (one trace, drawn once)."""
    lon: list[float | None] = []
    lat: list[float | None] = []
    seen: set[tuple[int, int]] = set()
    for a, b in zip(roads.src.tolist(), roads.dst.tolist(), strict=True):
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        lon += [float(roads.node_lon[a]), float(roads.node_lon[b]), None]
        lat += [float(roads.node_lat[a]), float(roads.node_lat[b]), None]
    return lon, lat


def register(ctx_app: AppContext) -> None:
    city = ctx_app.city
    road_lon, road_lat = _road_lines(city.roads)
    center = (float(np.median(city.roads.node_lon)), float(np.median(city.roads.node_lat)))
    if city.stations:
        center = (float(np.mean([s.lon for s in city.stations])),
                  float(np.mean([s.lat for s in city.stations])))

    def rt() -> Any:
        return runtime_for(ctx_app)

    def layout(**_query: str) -> html.Div:
        return html.Div(className="page dispatch-page", children=[
            html.Header(className="topbar", children=[
                html.H1(id=ids.DISPATCH_TITLE),
                html.Div(className="dispatch-user", children=[
                    html.Span(id=ids.DISPATCH_USER),
                    html.Button(id=ids.DISPATCH_LOGOUT, n_clicks=0,
                                className="dispatch-button small secondary"),
                ]),
            ]),
            dcc.Store(id=ids.DISPATCH_AUTH, data=0),
            dcc.Interval(id=ids.DISPATCH_TICK, interval=1000),
            html.Main(id=ids.DISPATCH_BODY),
        ])

    dash.register_page("dispatch", path="/dispatch", layout=layout, title=t("dispatch.title"))
    app = ctx_app.dash

    @app.callback(
        Output(ids.DISPATCH_BODY, "children"),
        Output(ids.DISPATCH_TITLE, "children"),
        Output(ids.DISPATCH_USER, "children"),
        Output(ids.DISPATCH_LOGOUT, "children"),
        Output(ids.DISPATCH_LOGOUT, "style"),
        Input(ids.LANG_STORE, "data"),
        Input(ids.DISPATCH_AUTH, "data"),
    )
    def render_body(lang: str, _auth: int) -> tuple[Any, ...]:
        lang = _lang(lang)
        title = f"{t('app.title', lang)} · {t('dispatch.title', lang)}"
        who = current_user()
        if who is None:
            return view.login_panel(lang), title, "", "", {"display": "none"}
        user, role = who
        fig = view.base_figure(road_lon, road_lat, center, lang)
        body = view.console(lang, role, can(role, "create"), rt().service.plans, center, fig)
        label = f"{user} · {t('dispatch.role_name.' + role, lang)}"
        return body, title, label, t("dispatch.logout", lang), {}

    @app.callback(
        Output(ids.DISPATCH_AUTH, "data", allow_duplicate=True),
        Output(ids.DISPATCH_LOGIN_ERROR, "children"),
        Input(ids.DISPATCH_LOGIN_BUTTON, "n_clicks"),
        Input(ids.DISPATCH_LOGIN_PASSWORD, "n_submit"),
        State(ids.DISPATCH_LOGIN_USER, "value"),
        State(ids.DISPATCH_LOGIN_PASSWORD, "value"),
        State(ids.DISPATCH_AUTH, "data"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def login(n: int, sub: int, user: Any, password: Any, bump: int, lang: str) -> tuple[Any, Any]:
        done = form_login(n, sub, user, password, rt().store)
        if done is None:
            return no_update, no_update
        if not done:
            return no_update, t("dispatch.login_failed", _lang(lang))
        return (bump or 0) + 1, ""

    @app.callback(
        Output(ids.DISPATCH_AUTH, "data", allow_duplicate=True),
        Input(ids.DISPATCH_LOGOUT, "n_clicks"),
        State(ids.DISPATCH_AUTH, "data"),
        prevent_initial_call=True,
    )
    def logout(n: int, bump: int) -> int:
        if not n or current_user() is None or not csrf_ok():
            raise PreventUpdate
        session.clear()
        ctx.response.delete_cookie(CSRF_COOKIE)
        return (bump or 0) + 1

    @app.callback(
        Output(ids.DISPATCH_QUEUE, "children"),
        Output(ids.DISPATCH_UNITS, "children"),
        Output(ids.DISPATCH_DETAIL, "children"),
        Output(ids.DISPATCH_TIMELINE, "children"),
        Output(ids.DISPATCH_MAP, "figure"),
        Input(ids.DISPATCH_TICK, "n_intervals"),
        Input(ids.DISPATCH_SELECTED, "data"),
        Input(ids.DISPATCH_REFRESH, "data"),
        State(ids.LANG_STORE, "data"),
    )
    def refresh(_n: int, selected: str | None, _r: int, lang: str) -> tuple[Any, ...]:
        who = current_user()
        if who is None:
            raise PreventUpdate
        lang = _lang(lang)
        svc = rt().service
        now = ctx_app.clock.now_ms()
        show_phone = can(who[1], "see_phone")
        dispatcher = can(who[1], "dispatch")
        incidents = [svc.incident_view(i, now, show_phone=show_phone)
                     for i in svc.store.incidents(limit=200)]
        active = [i for i in incidents if i["state"] in ("new", "dispatched", "on_scene")]
        shown = active + [i for i in incidents if i["state"] not in (
            "new", "dispatched", "on_scene")][:10]
        units = svc.unit_views(dict(rt().mover.positions))
        sel = next((i for i in incidents if i["id"] == selected), None)
        entries = ([e.as_json(show_phone=show_phone)
                    for e in svc.store.audit(incident_id=selected, limit=200)]
                   if sel else [])
        patch = Patch()
        for trace, cols in view.map_data(units, active, [], sel, lang).items():
            if trace == view.TRACE_CANDIDATES:
                continue
            for key, value in cols.items():
                if key == "marker.color":
                    patch["data"][trace]["marker"]["color"] = value
                else:
                    patch["data"][trace][key] = value
        return (view.queue(shown, selected, svc.plans, lang),
                view.units_board(units, dispatcher, lang),
                view.detail(sel, units, svc.plans, dispatcher, lang),
                view.timeline(entries, lang), patch)

    @app.callback(
        Output(ids.DISPATCH_RECS, "children"),
        Output(ids.DISPATCH_MAP, "figure", allow_duplicate=True),
        Input(ids.DISPATCH_SELECTED, "data"),
        Input(ids.DISPATCH_REFRESH, "data"),
        Input(ids.DISPATCH_TICK, "n_intervals"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def recommendations(selected: str | None, _r: int, n: int | None,
                        lang: str) -> tuple[Any, Any]:
        who = current_user()
        if who is None:
            raise PreventUpdate
        if ctx.triggered_id == ids.DISPATCH_TICK and (n or 0) % RECS_EVERY_TICKS:
            raise PreventUpdate
        lang = _lang(lang)
        rec = None
        if selected:
            try:
                rec = rt().service.recommendations(selected)
            except (NotFound, Conflict):
                rec = None
        patch = Patch()
        svc = rt().service
        units = svc.unit_views(dict(rt().mover.positions)) if rec else []
        cols = view.map_data(units, [], rec["candidates"] if rec else [], None, lang)
        for key, value in cols[view.TRACE_CANDIDATES].items():
            patch["data"][view.TRACE_CANDIDATES][key] = value
        return view.recommendations(rec, can(who[1], "dispatch"), lang), patch

    @app.callback(
        Output(ids.DISPATCH_SELECTED, "data"),
        Input({"type": ids.DISPATCH_QUEUE_ROW, "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(_clicks: list[int]) -> str:
        trig = ctx.triggered_id
        if not isinstance(trig, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        return str(trig["index"])

    @app.callback(
        Output(ids.DISPATCH_FORM_LON, "value"),
        Output(ids.DISPATCH_FORM_LAT, "value"),
        Input(ids.DISPATCH_MAP, "clickData"),
        prevent_initial_call=True,
    )
    def pick_location(click: Any) -> tuple[Any, Any]:
        try:
            p = click["points"][0]
            return round(float(p["x"]), 5), round(float(p["y"]), 5)
        except (TypeError, KeyError, IndexError, ValueError):
            raise PreventUpdate from None

    @app.callback(
        Output(ids.DISPATCH_MESSAGE, "children"),
        Output(ids.DISPATCH_REFRESH, "data"),
        Output(ids.DISPATCH_SELECTED, "data", allow_duplicate=True),
        Input(ids.DISPATCH_FORM_SUBMIT, "n_clicks"),
        Input({"type": ids.DISPATCH_ASSIGN, "index": ALL}, "n_clicks"),
        Input({"type": ids.DISPATCH_UNIT_ACTION, "index": ALL}, "n_clicks"),
        Input({"type": ids.DISPATCH_INCIDENT_ACTION, "index": ALL}, "n_clicks"),
        State(ids.DISPATCH_FORM_TYPE, "value"),
        State(ids.DISPATCH_FORM_LEVEL, "value"),
        State(ids.DISPATCH_FORM_PRIORITY, "value"),
        State(ids.DISPATCH_FORM_LON, "value"),
        State(ids.DISPATCH_FORM_LAT, "value"),
        State(ids.DISPATCH_FORM_CALLER, "value"),
        State(ids.DISPATCH_FORM_PHONE, "value"),
        State(ids.DISPATCH_FORM_DESCRIPTION, "value"),
        State(ids.DISPATCH_SELECTED, "data"),
        State(ids.DISPATCH_REFRESH, "data"),
        State(ids.LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def act(_s: int, _a: list[int], _u: list[int], _i: list[int], itype: Any, level: Any,
            priority: Any, lon: Any, lat: Any, caller: Any, phone: Any, description: Any,
            selected: str | None, bump: int, lang: str) -> tuple[Any, Any, Any]:
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        lang = _lang(lang)
        who = current_user()
        if who is None:
            raise PreventUpdate
        if not csrf_ok():
            return _msg(t("dispatch.csrf", lang), "error"), no_update, no_update
        user, role = who
        trig = ctx.triggered_id
        svc = rt().service
        try:
            if trig == ids.DISPATCH_FORM_SUBMIT:
                if not can(role, "create"):
                    return _msg(t("dispatch.forbidden", lang), "error"), no_update, no_update
                body = {"type": itype, "level": level, "priority": priority, "lon": lon,
                        "lat": lat, "caller_name": caller or "", "caller_phone": phone or "",
                        "description": description or "", "source": "phone"}
                inc = svc.create_incident(body, user)
                return (_msg(f"{t('dispatch.created', lang)} {inc.id}", "ok"), (bump or 0) + 1,
                        inc.id)
            if not isinstance(trig, dict):
                raise PreventUpdate
            if not can(role, "dispatch"):
                return _msg(t("dispatch.forbidden", lang), "error"), no_update, no_update
            kind, index = trig.get("type"), str(trig.get("index"))
            if kind == ids.DISPATCH_ASSIGN:
                if not selected:
                    raise PreventUpdate
                svc.assign(selected, index, user)
                text = f"{t('dispatch.assigned', lang)} {index} → {selected}"
            elif kind == ids.DISPATCH_UNIT_ACTION:
                unit_id, _, status = index.partition("|")
                svc.set_unit_status(unit_id, status, user)
                text = f"{unit_id} → {t('dispatch.unit_status.' + status, lang)}"
            elif kind == ids.DISPATCH_INCIDENT_ACTION:
                if not selected:
                    raise PreventUpdate
                svc.close_incident(selected, index, user)
                text = f"{selected} → {t('dispatch.incident_state.' + index, lang)}"
            else:
                raise PreventUpdate
        except Invalid as e:
            return _msg(t("dispatch.invalid", lang) + str(e), "error"), no_update, no_update
        except (Conflict, NotFound) as e:
            return _msg(t("dispatch.conflict", lang) + str(e), "error"), (bump or 0) + 1, \
                no_update
        except DispatchError as e:
            return _msg(str(e), "error"), no_update, no_update
        return _msg(text, "ok"), (bump or 0) + 1, no_update


def _msg(text: str, kind: str) -> html.Div:
    return html.Div(text, className=f"dispatch-msg dispatch-msg-{kind}")
