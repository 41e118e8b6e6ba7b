"""The operator alert queue (``/alerts``): pure functions of alert JSON documents.

No I/O: the page module fetches alerts from the alert service and passes plain dicts
(``Alert.as_json()``). Dash renders every string as text, so titles, comments or
assignee names cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from dash import dcc, html

from layouts import ids
from layouts.messages import t
from models.indices.levels import LEVELS, EmergencyLevel

BEIJING = timezone(timedelta(hours=8))
Doc = Mapping[str, Any]


def clock_text(ts_ms: int | None, with_date: bool = False) -> str:
    """Beijing time of an event (the operators' clock)."""
    if not ts_ms:
        return "—"
    d = datetime.fromtimestamp(ts_ms / 1000, BEIJING)
    return d.strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def level_text(level: int, lang: str) -> str:
    info = LEVELS[EmergencyLevel(level)]
    return t("alerts.level", lang).format(roman=info.roman, colour=info.colour.name.text(
        "zh" if lang == "zh-CN" else "en"))


def _title(a: Doc, lang: str) -> str:
    return str(a.get("title_zh") if lang == "zh-CN" else a.get("title_en") or a.get("title_zh"))


def needs_cue(alerts: Sequence[Doc]) -> bool:
    """An active, unacknowledged level I or II alert is on the queue."""
    return any(a["state"] == "active" and not a["acknowledged"] and a["level"] <= 2
               for a in alerts)


def summary(alerts: Sequence[Doc], lang: str) -> html.Div:
    counts = {lv: 0 for lv in (1, 2, 3, 4)}
    for a in alerts:
        if not a["acknowledged"]:
            counts[int(a["level"])] += 1
    chips = [html.Span(f"{LEVELS[EmergencyLevel(lv)].roman} {n}", className=f"alerts-chip lvl-{lv}",
                       title=level_text(lv, lang)) for lv, n in counts.items()]
    return html.Div([html.Span(t("alerts.summary", lang)), *chips], className="alerts-summary")


def queue(alerts: Sequence[Doc], selected: str | None, lang: str) -> html.Div | html.Table:
    if not alerts:
        return html.Div(t("alerts.none", lang), className="muted")
    head = [t(f"alerts.col.{c}", lang) for c in ("level", "title", "kind", "district", "first",
                                                   "last", "state", "assignee")]
    rows = []
    for a in alerts:
        cls = [f"lvl-{a['level']}", "unack" if not a["acknowledged"] else "ack", a["state"]]
        if a["id"] == selected:
            cls.append("selected")
        rows.append(html.Tr(
            id={"type": ids.ALERTS_ROW, "index": a["id"]}, n_clicks=0, className=" ".join(cls),
            children=[
                html.Td(html.Span(LEVELS[EmergencyLevel(a["level"])].roman,
                                  className=f"alerts-badge lvl-{a['level']}",
                                  title=level_text(a["level"], lang))),
                html.Td(_title(a, lang)),
                html.Td(t(f"alerts.kind.{a['kind']}", lang)),
                html.Td(a.get("district_name") or a.get("district") or ""),
                html.Td(clock_text(a["first_ts"])),
                html.Td(clock_text(a["last_ts"])),
                html.Td(t(f"alerts.status.{a['status']}", lang)),
                html.Td(a.get("assignee") or ""),
            ]))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
                      className="alerts-table")


def _timeline_text(e: Doc, lang: str) -> str:
    d = e.get("detail") or {}
    extra = ""
    if e["action"] in ("level", "escalate"):
        extra = f" {d.get('from')} → {d.get('to')}"
    elif e["action"] == "assign":
        extra = f" → {d.get('to', '')}"
    elif e["action"] == "comment":
        extra = f": {d.get('text', '')}"
    elif e["action"] in ("clear", "auto_clear") and d.get("reason"):
        extra = f": {d.get('reason')}"
    elif e["action"] == "incident":
        extra = f" {d.get('incident_id', '')}"
    elif e["action"] == "merge":
        extra = f" {d.get('into', '')}"
    key = f"alerts.action.{e['action']}"
    return f"{clock_text(e['ts'], True)} · {e['actor']} · {t(key, lang)}{extra}"


def detail(a: Doc | None, timeline: Sequence[Doc], lang: str) -> html.Div:
    if a is None:
        return html.Div(t("alerts.select", lang), className="muted")
    value = a.get("value")
    sensors = list(a.get("sensor_ids") or [])
    shown = ", ".join(sensors[:12]) + (f" … (+{len(sensors) - 12})" if len(sensors) > 12 else "")
    rows = [
        ("alerts.col.level", level_text(a["level"], lang)),
        ("alerts.col.state", t(f"alerts.status.{a['status']}", lang)),
        ("alerts.detail.source", str(a["source"])),
        ("alerts.detail.sensors", shown or "—"),
        ("alerts.detail.value", "—" if value is None else f"{value:.4g}"),
        ("alerts.detail.location", f"{a['lat']:.5f}, {a['lon']:.5f}"),
        ("alerts.col.first", clock_text(a["first_ts"], True)),
        ("alerts.col.last", clock_text(a["last_ts"], True)),
        ("alerts.col.assignee", a.get("assignee") or "—"),
        ("alerts.detail.escalations", str(a.get("escalations", 0))),
        ("alerts.incident_link", a.get("incident_id") or "—"),
    ]
    dl = html.Dl([c for k, v in rows for c in (html.Dt(t(k, lang)), html.Dd(v))])
    return html.Div(className="alerts-detail card", children=[
        html.H2(_title(a, lang)),
        dl,
        html.A(t("alerts.detail.cap", lang), href=f"/api/v1/alerts/{a['id']}.cap",
               target="_blank"),
        html.H3(t("alerts.detail.timeline", lang)),
        html.Ul([html.Li(_timeline_text(e, lang)) for e in reversed(timeline)],
                className="alerts-timeline"),
    ])


def actions(lang: str) -> html.Div:
    """The action bar: static (callbacks need their inputs in the layout)."""
    return html.Div(id=ids.ALERTS_ACTIONS, className="alerts-actions", children=[
        html.Button(t("alerts.ack", lang), id=ids.ALERTS_ACK, n_clicks=0, disabled=True,
                    className="dispatch-button"),
        dcc.Input(id=ids.ALERTS_ASSIGN_INPUT, type="text", maxLength=64,
                  placeholder=t("alerts.assign_placeholder", lang)),
        html.Button(t("alerts.assign", lang), id=ids.ALERTS_ASSIGN, n_clicks=0, disabled=True,
                    className="dispatch-button secondary"),
        dcc.Input(id=ids.ALERTS_COMMENT_INPUT, type="text", maxLength=2000,
                  placeholder=t("alerts.comment_placeholder", lang)),
        html.Button(t("alerts.comment", lang), id=ids.ALERTS_COMMENT, n_clicks=0,
                    disabled=True, className="dispatch-button secondary"),
        html.Button(t("alerts.clear", lang), id=ids.ALERTS_CLEAR, n_clicks=0, disabled=True,
                    className="dispatch-button secondary"),
        html.Button(t("alerts.incident", lang), id=ids.ALERTS_INCIDENT, n_clicks=0,
                    disabled=True, className="dispatch-button"),
        html.Div(id=ids.ALERTS_MESSAGE, className="alerts-message", role="status"),
    ])


def login_form(lang: str) -> list[Any]:
    return [
        html.H2(t("alerts.login_title", lang)),
        dcc.Input(id=ids.ALERTS_LOGIN_USER, type="text", placeholder=t("alerts.username", lang),
                  maxLength=64),
        dcc.Input(id=ids.ALERTS_LOGIN_PASSWORD, type="password",
                  placeholder=t("alerts.password", lang), maxLength=256, n_submit=0),
        html.Button(t("alerts.login", lang), id=ids.ALERTS_LOGIN_BUTTON, n_clicks=0,
                    className="dispatch-button"),
        html.Div(id=ids.ALERTS_LOGIN_ERROR, className="alerts-message"),
    ]


def filter_options(lang: str) -> list[dict[str, str]]:
    return [{"label": t(f"alerts.filter.{k}", lang), "value": k}
            for k in ("open", "city", "sensor", "all")]
