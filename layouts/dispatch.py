"""Dispatch console layout: pure functions of plain data (no I/O, no store access).

User text (descriptions, caller names) is passed to Dash as plain strings, which
React renders as text — never as HTML. The map is a plotly figure without tiles:
roads as thin lines in lon/lat, incidents, units and candidates as markers, so the
console works offline.

>>> fmt_s(75.4), fmt_s(3725)
('1:15', '1:02:05')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from layouts import ids
from layouts.messages import t

CST = timezone(timedelta(hours=8))
STATUS_COLOURS = {
    "available": "#2ecc71", "dispatched": "#f1c40f", "en_route": "#ff7e00",
    "on_scene": "#e74c3c", "returning": "#3aa0ff", "out_of_service": "#8a9bb8",
}
LEVEL_COLOURS = {"I": "#e02020", "II": "#ff7e00", "III": "#f5d000", "IV": "#2f7bff"}
#: unit actions a commander can take from each status (buttons)
UNIT_ACTIONS = {
    "dispatched": ("en_route", "on_scene", "returning"),
    "en_route": ("on_scene", "returning"),
    "on_scene": ("returning",),
    "available": ("out_of_service",),
    "out_of_service": ("available",),
}
# trace order of the map figure (the page patches traces by index)
TRACE_ROADS, TRACE_UNITS, TRACE_INCIDENTS, TRACE_CANDIDATES, TRACE_SELECTED = range(5)


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(CST).strftime("%H:%M:%S")


def type_name(plans: Any, code: str, lang: str) -> str:
    try:
        it = plans.get(code)
    except KeyError:
        return code
    return str(it.name_en if lang == "en" else it.name_zh)


def login_panel(lang: str) -> html.Div:
    return html.Div(className="card dispatch-login", children=[
        html.H2(t("dispatch.login", lang)),
        html.Label(t("dispatch.username", lang)),
        dcc.Input(id=ids.DISPATCH_LOGIN_USER, type="text", autoComplete="username",
                  debounce=False),
        html.Label(t("dispatch.password", lang)),
        dcc.Input(id=ids.DISPATCH_LOGIN_PASSWORD, type="password",
                  autoComplete="current-password", debounce=False),
        html.Button(t("dispatch.login", lang), id=ids.DISPATCH_LOGIN_BUTTON, n_clicks=0,
                    className="dispatch-button"),
        html.Div(id=ids.DISPATCH_LOGIN_ERROR, className="dispatch-error"),
        html.Div(t("dispatch.login_hint", lang), className="muted"),
    ])


def _field(label: str, control: Any) -> html.Div:
    return html.Div(className="dispatch-field", children=[html.Label(label), control])


def incident_form(lang: str, plans: Any, center: tuple[float, float]) -> html.Div:
    types = [{"label": type_name(plans, c, lang), "value": c} for c in plans.codes]
    return html.Div(className="card", children=[
        html.H2(t("dispatch.new_incident", lang)),
        _field(t("dispatch.type", lang), dcc.Dropdown(
            id=ids.DISPATCH_FORM_TYPE, options=types, value=plans.codes[0], clearable=False)),
        html.Div(className="dispatch-row", children=[
            _field(t("dispatch.level", lang), dcc.Dropdown(
                id=ids.DISPATCH_FORM_LEVEL, options=["I", "II", "III", "IV"], value="IV",
                clearable=False)),
            _field(t("dispatch.priority", lang), dcc.Dropdown(
                id=ids.DISPATCH_FORM_PRIORITY, options=[1, 2, 3, 4, 5], value=2,
                clearable=False)),
        ]),
        html.Div(className="dispatch-row", children=[
            _field(t("dispatch.lon", lang), dcc.Input(
                id=ids.DISPATCH_FORM_LON, type="number", value=round(center[0], 5),
                step="any")),
            _field(t("dispatch.lat", lang), dcc.Input(
                id=ids.DISPATCH_FORM_LAT, type="number", value=round(center[1], 5),
                step="any")),
        ]),
        html.Div(t("dispatch.map_hint", lang), className="muted"),
        html.Div(className="dispatch-row", children=[
            _field(t("dispatch.caller_name", lang), dcc.Input(
                id=ids.DISPATCH_FORM_CALLER, type="text", maxLength=64)),
            _field(t("dispatch.caller_phone", lang), dcc.Input(
                id=ids.DISPATCH_FORM_PHONE, type="text", maxLength=32)),
        ]),
        _field(t("dispatch.description", lang), dcc.Textarea(
            id=ids.DISPATCH_FORM_DESCRIPTION, maxLength=2000, className="dispatch-textarea")),
        html.Button(t("dispatch.create", lang), id=ids.DISPATCH_FORM_SUBMIT, n_clicks=0,
                    className="dispatch-button"),
    ])


def base_figure(road_lon: Sequence[float | None], road_lat: Sequence[float | None],
                center: tuple[float, float], lang: str) -> go.Figure:
    """Roads plus empty marker traces (filled by patches every second)."""
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=list(road_lon), y=list(road_lat), mode="lines",
                               line={"color": "#2b3a5a", "width": 1}, hoverinfo="skip",
                               name=t("dispatch.legend_roads", lang)))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=t("dispatch.legend_units", lang),
                             marker={"size": 7, "line": {"width": 0}}, hoverinfo="text"))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers",
                             name=t("dispatch.legend_incident", lang),
                             marker={"size": 14, "symbol": "diamond",
                                     "line": {"width": 1, "color": "#ffffff"}},
                             hoverinfo="text"))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers",
                             name=t("dispatch.legend_candidate", lang),
                             marker={"size": 13, "symbol": "circle-open",
                                     "line": {"width": 2, "color": "#ffffff"}},
                             hoverinfo="text"))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", showlegend=False,
                             marker={"size": 26, "symbol": "circle-open",
                                     "line": {"width": 3, "color": "#3aa0ff"}},
                             hoverinfo="skip"))
    lon0, lat0 = center
    fig.update_layout(
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, paper_bgcolor="#121b2e",
        plot_bgcolor="#0b1220", font={"color": "#e6edf7"}, uirevision="dispatch-map",
        legend={"orientation": "h", "y": 0.01, "x": 0.01, "bgcolor": "rgba(0,0,0,0.4)"},
        xaxis={"visible": False, "range": [lon0 - 0.12, lon0 + 0.12]},
        yaxis={"visible": False, "range": [lat0 - 0.09, lat0 + 0.09],
               "scaleanchor": "x", "scaleratio": 1.11},
        clickmode="event", dragmode="pan",
    )
    return fig


def console(lang: str, role: str, can_create: bool, plans: Any, center: tuple[float, float],
            figure: go.Figure) -> html.Div:
    left = [incident_form(lang, plans, center)] if can_create else []
    left.append(html.Div(className="card", children=[
        html.H2(t("dispatch.queue", lang)), html.Div(id=ids.DISPATCH_QUEUE)]))
    return html.Div(className="dispatch-grid", children=[
        dcc.Store(id=ids.DISPATCH_SELECTED, data=None),
        dcc.Store(id=ids.DISPATCH_REFRESH, data=0),
        html.Div(className="dispatch-col", children=left),
        html.Div(className="dispatch-col dispatch-col-wide", children=[
            html.Div(id=ids.DISPATCH_MESSAGE, className="dispatch-message"),
            html.Div(className="card", children=[
                dcc.Graph(id=ids.DISPATCH_MAP, figure=figure, className="dispatch-map",
                          config={"displaylogo": False, "scrollZoom": True,
                                  "modeBarButtonsToRemove": ["toImage", "select2d",
                                                             "lasso2d"]})]),
            html.Div(className="card", children=[
                html.H2(t("dispatch.units", lang)), html.Div(id=ids.DISPATCH_UNITS)]),
        ]),
        html.Div(className="dispatch-col", children=[
            html.Div(className="card", children=[
                html.H2(t("dispatch.detail", lang)), html.Div(id=ids.DISPATCH_DETAIL)]),
            html.Div(className="card", children=[
                html.H2(t("dispatch.recommendations", lang)), html.Div(id=ids.DISPATCH_RECS)]),
            html.Div(className="card", children=[
                html.H2(t("dispatch.timeline", lang)), html.Div(id=ids.DISPATCH_TIMELINE)]),
        ]),
    ])


def queue(incidents: Sequence[Mapping[str, Any]], selected: str | None, plans: Any,
          lang: str) -> html.Div:
    if not incidents:
        return html.Div(t("dispatch.queue_empty", lang), className="muted")
    rows = []
    for inc in incidents:
        timer = inc["timer"]
        cls = "dispatch-queue-row"
        if inc["id"] == selected:
            cls += " selected"
        if timer["overdue"]:
            cls += " overdue"
        rows.append(html.Button(
            id={"type": ids.DISPATCH_QUEUE_ROW, "index": inc["id"]}, n_clicks=0, className=cls,
            children=[
                html.Span(inc["level"], className=f"level-badge level-{inc['level']}"),
                html.Span(inc["id"], className="dispatch-mono"),
                html.Span(type_name(plans, inc["type"], lang)),
                html.Span(t(f"dispatch.incident_state.{inc['state']}", lang),
                          className=f"state-{inc['state']}"),
                html.Span(fmt_s(timer["elapsed_s"]),
                          className="dispatch-mono" + (" overdue-text" if timer["overdue"]
                                                       else "")),
            ]))
    return html.Div(rows, className="dispatch-queue")


def _impact_text(imp: Mapping[str, Any], lang: str) -> str:
    if not imp or not imp.get("nodes_affected"):
        return t("dispatch.no_impact", lang)
    name = imp.get("name_en") if lang == "en" else imp.get("name_zh")
    return t("dispatch.impact_text", lang).format(
        district=name or imp.get("district") or "", before=fmt_s(imp.get("before_s")),
        after=fmt_s(imp.get("after_s")))


def recommendations(rec: Mapping[str, Any] | None, can_dispatch: bool, lang: str) -> html.Div:
    if rec is None:
        return html.Div(t("dispatch.select_incident", lang), className="muted")
    need = {k: v for k, v in rec["outstanding"].items() if v > 0}
    head = (html.Div(t("dispatch.plan_met", lang), className="dispatch-ok") if not need else
            html.Div(t("dispatch.outstanding", lang) + ": " + ", ".join(
                f"{t('dispatch.cap.' + k, lang)} × {v}" for k, v in need.items()),
                className="dispatch-warn"))
    if not rec["candidates"]:
        return html.Div([head, html.Div(t("dispatch.no_candidates", lang), className="muted")])
    header = html.Tr([html.Th(t(k, lang)) for k in (
        "dispatch.unit", "dispatch.kind", "dispatch.eta", "dispatch.in_plan",
        "dispatch.coverage")] + ([html.Th("")] if can_dispatch else []))
    rows = []
    for c in rec["candidates"]:
        cells = [
            html.Td(c["unit_id"], className="dispatch-mono"),
            html.Td(t(f"dispatch.kind.{c['kind']}", lang)),
            html.Td(fmt_s(c["eta_s"]), className="dispatch-mono dispatch-eta"),
            html.Td("✓" if c["in_plan"] else ""),
            html.Td(_impact_text(c["coverage_impact"], lang), className="dispatch-impact"),
        ]
        if can_dispatch:
            cells.append(html.Td(html.Button(
                t("dispatch.assign", lang), n_clicks=0, className="dispatch-button small",
                id={"type": ids.DISPATCH_ASSIGN, "index": c["unit_id"]})))
        rows.append(html.Tr(cells, className="in-plan" if c["in_plan"] else ""))
    return html.Div([head, html.Table([html.Thead(header), html.Tbody(rows)],
                                      className="dispatch-recs-table")])


def _unit_buttons(unit: Mapping[str, Any], lang: str) -> list[html.Button]:
    return [html.Button(t(f"dispatch.act.{a}", lang), n_clicks=0,
                        className="dispatch-button small",
                        id={"type": ids.DISPATCH_UNIT_ACTION,
                            "index": f"{unit['unit_id']}|{a}"})
            for a in UNIT_ACTIONS.get(unit["status"], ())]


def detail(inc: Mapping[str, Any] | None, units: Sequence[Mapping[str, Any]], plans: Any,
           can_dispatch: bool, lang: str) -> html.Div:
    if inc is None:
        return html.Div(t("dispatch.select_incident", lang), className="muted")
    rows = [
        (t("dispatch.id", lang), inc["id"]),
        (t("dispatch.type", lang), type_name(plans, inc["type"], lang)),
        (t("dispatch.level", lang), inc["level"]),
        (t("dispatch.priority", lang), str(inc["priority"])),
        (t("dispatch.state", lang), t(f"dispatch.incident_state.{inc['state']}", lang)),
        (t("dispatch.district", lang), inc["district"]),
        (t("dispatch.caller_name", lang), inc["caller_name"]),
        (t("dispatch.caller_phone", lang), inc["caller_phone"]),
    ]
    mine = [u for u in units if u.get("incident_id") == inc["id"]]
    out: list[Any] = [
        html.Table([html.Tr([html.Th(k), html.Td(v)]) for k, v in rows]),
        html.Div(t("dispatch.description", lang), className="muted"),
        html.Div(inc["description"], id="dispatch-description", className="dispatch-text"),
    ]
    if mine:
        out.append(html.Div(t("dispatch.assigned_units", lang), className="muted"))
        for u in mine:
            out.append(html.Div(className="dispatch-assigned", children=[
                html.Span(u["unit_id"], className="dispatch-mono"),
                html.Span(t(f"dispatch.unit_status.{u['status']}", lang),
                          className=f"unit-status status-{u['status']}",
                          id={"type": "dispatch-unit-status", "index": u["unit_id"]}),
                *(_unit_buttons(u, lang) if can_dispatch else []),
            ]))
    if can_dispatch and inc["state"] in ("new", "dispatched", "on_scene"):
        acts = [("closed", "dispatch.close")]
        if inc["state"] != "on_scene":
            acts.append(("cancelled", "dispatch.cancel"))
        out.append(html.Div(className="dispatch-row", children=[
            html.Button(t(key, lang), n_clicks=0, className="dispatch-button small secondary",
                        id={"type": ids.DISPATCH_INCIDENT_ACTION, "index": state})
            for state, key in acts]))
    return html.Div(out)


def units_board(units: Sequence[Mapping[str, Any]], can_dispatch: bool, lang: str) -> html.Div:
    counts: dict[str, int] = {}
    for u in units:
        counts[u["status"]] = counts.get(u["status"], 0) + 1
    tiles = html.Div(className="tiles", children=[
        html.Div(className=f"tile status-{s}", children=[
            html.Div(t(f"dispatch.unit_status.{s}", lang), className="tile-label"),
            html.Div(str(counts.get(s, 0)), className="tile-value",
                     id={"type": "dispatch-count", "index": s})])
        for s in STATUS_COLOURS])
    busy = [u for u in units if u["status"] != "available"]
    busy.sort(key=lambda u: (not u["timer"]["overdue"], u["unit_id"]))
    header = html.Tr([html.Th(t(k, lang)) for k in (
        "dispatch.unit", "dispatch.kind", "dispatch.state", "dispatch.incident",
        "dispatch.timer")] + ([html.Th("")] if can_dispatch else []))
    rows = []
    for u in busy[:40]:
        timer = u["timer"]
        cells = [
            html.Td(u["unit_id"], className="dispatch-mono"),
            html.Td(t(f"dispatch.kind.{u['kind']}", lang)),
            html.Td(t(f"dispatch.unit_status.{u['status']}", lang),
                    className=f"unit-status status-{u['status']}"),
            html.Td(u["incident_id"] or "", className="dispatch-mono"),
            html.Td(fmt_s(timer["elapsed_s"]) + (
                f" ⚠ {t('dispatch.overdue', lang)}" if timer["overdue"] else ""),
                className="dispatch-mono" + (" overdue-text" if timer["overdue"] else "")),
        ]
        if can_dispatch:
            cells.append(html.Td(_unit_buttons(u, lang)))
        rows.append(html.Tr(cells))
    return html.Div([tiles, html.Table([html.Thead(header), html.Tbody(rows)])
                     if rows else html.Div()])


def timeline(entries: Sequence[Mapping[str, Any]], lang: str) -> html.Div:
    if not entries:
        return html.Div(t("dispatch.select_incident", lang), className="muted")
    rows = []
    for e in entries:
        after = e.get("after") or {}
        what = e["action"]
        if e["entity"] == "unit":
            what = f"{e['entity_id']} → {after.get('status', '')}"
        elif e["action"].startswith("incident.") and "state" in after:
            what = f"{e['entity_id']} → {after['state']}"
        elif e["action"] == "incident.create":
            what = f"{e['entity_id']} +"
        rows.append(html.Tr([html.Td(fmt_clock(e["ts_ms"]), className="dispatch-mono"),
                             html.Td(e["actor"]), html.Td(what)]))
    header = html.Tr([html.Th(t(k, lang)) for k in ("dispatch.time", "dispatch.actor",
                                                    "dispatch.action")])
    return html.Div(html.Table([html.Thead(header), html.Tbody(rows)]),
                    className="dispatch-timeline")


def map_data(units: Sequence[Mapping[str, Any]], incidents: Sequence[Mapping[str, Any]],
             candidates: Sequence[Mapping[str, Any]], selected: Mapping[str, Any] | None,
             lang: str) -> dict[int, dict[str, Any]]:
    """Marker arrays per trace index (for a ``Patch`` of the figure)."""
    by_id = {u["unit_id"]: u for u in units}
    cand = [by_id[c["unit_id"]] for c in candidates if c["unit_id"] in by_id]
    return {
        TRACE_UNITS: {"x": [u["lon"] for u in units], "y": [u["lat"] for u in units],
                      "text": [f"{u['unit_id']} · {t('dispatch.unit_status.' + u['status'], lang)}"
                               for u in units],
                      "marker.color": [STATUS_COLOURS.get(u["status"], "#ffffff")
                                       for u in units]},
        TRACE_INCIDENTS: {"x": [i["lon"] for i in incidents], "y": [i["lat"] for i in incidents],
                          "text": [f"{i['id']} · {i['level']}" for i in incidents],
                          "marker.color": [LEVEL_COLOURS.get(i["level"], "#ffffff")
                                           for i in incidents]},
        TRACE_CANDIDATES: {"x": [u["lon"] for u in cand], "y": [u["lat"] for u in cand],
                           "text": [u["unit_id"] for u in cand]},
        TRACE_SELECTED: {"x": [selected["lon"]] if selected else [],
                         "y": [selected["lat"]] if selected else []},
    }
