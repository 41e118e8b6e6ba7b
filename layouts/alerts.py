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
    return any(_cues(a) for a in alerts)


def _cues(a: Doc) -> bool:
    return bool(a["state"] == "active" and not a["acknowledged"] and a["level"] <= 2)


def queue_order(alerts: Sequence[Doc]) -> list[Doc]:
    """What needs the operator first, then newest first.

    Groups: active and unacknowledged, cleared but unacknowledged, active and
    acknowledged, closed. Severity is carried by colour and the flashing cue, so within a
    group the newest alert is on top (the operator sees what just happened).

    >>> [a["id"] for a in queue_order([
    ...     {"id": "old", "state": "active", "acknowledged": False, "first_ts": 1},
    ...     {"id": "acked", "state": "active", "acknowledged": True, "first_ts": 3},
    ...     {"id": "new", "state": "active", "acknowledged": False, "first_ts": 2}])]
    ['new', 'old', 'acked']
    """
    def key(a: Doc) -> tuple[int, int, int, str]:
        group = (2 if a["acknowledged"] else 0) + (a["state"] != "active")
        return group, -int(a["first_ts"]), int(a.get("level", 4)), str(a["id"])
    return sorted(alerts, key=key)


def summary(alerts: Sequence[Doc], lang: str) -> html.Div:
    """Unacknowledged counts per level, most severe first (a zero chip is dimmed)."""
    counts = {lv: 0 for lv in (1, 2, 3, 4)}
    for a in alerts:
        if not a["acknowledged"]:
            counts[int(a["level"])] += 1
    chips = [html.Span(
        t("alerts.level_short", lang).format(roman=LEVELS[EmergencyLevel(lv)].roman) + f" {n}",
        className=f"alerts-chip lvl-{lv}" + ("" if n else " zero"),
        title=level_text(lv, lang)) for lv, n in counts.items()]
    return html.Div([html.Span(t("alerts.summary", lang), className="alerts-summary-label"),
                     *chips], className="alerts-summary")


def refreshed(now_ms: int, lang: str) -> list[html.Span]:
    """The data-age line: when the queue was last refreshed, and a note shown if stale.

    ``assets/alerts/alerts.js`` marks the element stale when no refresh arrived for 10 s
    (the note is hidden by CSS until then), so a frozen page cannot pass for a quiet one.
    """
    return [html.Span(className="alerts-dot"),
            html.Span(t("alerts.refreshed", lang).format(time=clock_text(now_ms))),
            html.Span(t("alerts.stale", lang), className="alerts-stale-note")]


def sound_button(on: bool, lang: str) -> tuple[list[html.Span], str, str]:
    """Children, tooltip and class of the sound toggle (bell icon + state in words)."""
    state = "on" if on else "off"
    return ([html.Span(className=f"alerts-icon bell-{state}"),
             html.Span(t(f"alerts.sound_{state}", lang))],
            t(f"alerts.sound_tip_{state}", lang), f"alerts-sound-toggle {state}")


def _when(ts: int, now_ms: int | None) -> str:
    """Time of day; with the date when it is not the day of ``now_ms``."""
    if not now_ms:
        return clock_text(ts)
    same = (clock_text(ts, True)[:5] == clock_text(now_ms, True)[:5])
    return clock_text(ts, not same)


def _empty(flt: str, now_ms: int | None, lang: str) -> html.Div:
    key = "alerts.none" if flt in ("open", "") else f"alerts.none.{flt}"
    return html.Div(id=ids.ALERTS_EMPTY, className="alerts-empty", children=[
        html.Div(className="alerts-empty-icon"),
        html.Div(t(key, lang), className="alerts-empty-text"),
        html.Div(t("alerts.none_hint", lang), className="alerts-empty-hint"),
        html.Div(t("alerts.refreshed", lang).format(time=clock_text(now_ms)),
                 className="alerts-empty-hint") if now_ms else None,
    ])


def queue(alerts: Sequence[Doc], selected: str | None, lang: str, flt: str = "open",
          now_ms: int | None = None) -> html.Div:
    """The queue card: heading with the count and order, then a row per alert.

    Rows carry ``lvl-<n>`` (colour stripe and badge), ``unack``/``ack``, the state and
    ``cue`` for the active unacknowledged level I–II alerts (tinted, flashing badge).
    """
    head = html.Div(className="alerts-queue-head", children=[
        html.H2([t("alerts.queue_title", lang), " · ", t(f"alerts.filter.{flt}", lang)
                 if flt in ("open", "city", "sensor", "all") else ""]),
        html.Span(t("alerts.queue_count", lang).format(n=len(alerts)), className="alerts-count"),
        html.Span(t("alerts.sort_note", lang), className="alerts-sort-note"),
    ])
    if not alerts:
        return html.Div([head, _empty(flt, now_ms, lang)], className="alerts-queue-inner")
    cols = ("level", "title", "kind", "district", "first", "last", "state", "assignee")
    rows = []
    for a in alerts:
        cls = [f"lvl-{a['level']}", "unack" if not a["acknowledged"] else "ack", a["state"]]
        if _cues(a):
            cls.append("cue")
        if a["id"] == selected:
            cls.append("selected")
        rows.append(html.Tr(
            id={"type": ids.ALERTS_ROW, "index": a["id"]}, n_clicks=0, className=" ".join(cls),
            children=[
                html.Td(html.Span(LEVELS[EmergencyLevel(a["level"])].roman,
                                  className=f"alerts-badge lvl-{a['level']}",
                                  title=level_text(a["level"], lang))),
                html.Td(_title(a, lang), className="alerts-title-cell"),
                html.Td(t(f"alerts.kind.{a['kind']}", lang)),
                html.Td(a.get("district_name") or a.get("district") or ""),
                html.Td(_when(a["first_ts"], now_ms), className="num"),
                html.Td(_when(a["last_ts"], now_ms), className="num"),
                html.Td(html.Span(t(f"alerts.status.{a['status']}", lang),
                                  className=f"alerts-status {a['status']}")),
                html.Td(a.get("assignee") or ""),
            ]))
    table = html.Table([html.Thead(html.Tr([html.Th(t(f"alerts.col.{c}", lang),
                                                    className=f"col-{c}") for c in cols])),
                        html.Tbody(rows)], className="alerts-table")
    return html.Div([head, html.Div(table, className="alerts-scroll")],
                    className="alerts-queue-inner")


def _roman(level: Any) -> str:
    return LEVELS[EmergencyLevel(level)].roman if level in (1, 2, 3, 4) else str(level)


def _timeline_text(e: Doc, lang: str) -> str:
    d = e.get("detail") or {}
    extra = ""
    if e["action"] in ("level", "escalate"):
        extra = f" {_roman(d.get('from'))} → {_roman(d.get('to'))}"
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
    return f"{t(key, lang)}{extra}"


def detail(a: Doc | None, lang: str) -> html.Div:
    """The selected alert (level in its colour, title, where, when, who) or a hint."""
    if a is None:
        return html.Div(className="alerts-hint", children=[
            html.Div("←", className="alerts-hint-icon"),
            html.H2(t("alerts.select", lang)),
            html.P(t("alerts.select_hint", lang)),
        ])
    value = a.get("value")
    sensors = list(a.get("sensor_ids") or [])
    shown = ", ".join(sensors[:12]) + (f" … (+{len(sensors) - 12})" if len(sensors) > 12 else "")
    lat, lon = a.get("lat"), a.get("lon")
    rows = [
        ("alerts.detail.sensors", shown or "—"),
        ("alerts.col.district", a.get("district_name") or a.get("district") or "—"),
        ("alerts.detail.source", str(a["source"])),
        ("alerts.detail.kind", t(f"alerts.kind.{a['kind']}", lang)),
        ("alerts.detail.value", "—" if value is None else f"{value:.4g}"),
        ("alerts.detail.location",
         "—" if lat is None or lon is None else f"{lat:.5f}, {lon:.5f}"),
        ("alerts.col.first", clock_text(a["first_ts"], True)),
        ("alerts.col.last", clock_text(a["last_ts"], True)),
        ("alerts.col.assignee", a.get("assignee") or "—"),
        ("alerts.detail.escalations", str(a.get("escalations", 0))),
        ("alerts.incident_link", a.get("incident_id") or "—"),
    ]
    lv = int(a["level"])
    dl = html.Dl([c for k, v in rows for c in (html.Dt(t(k, lang)), html.Dd(v))])
    return html.Div(className=f"alerts-detail lvl-{lv}", children=[
        html.Div(className="alerts-detail-head", children=[
            html.Span(level_text(lv, lang), className=f"alerts-badge big lvl-{lv}"),
            html.Span(t(f"alerts.status.{a['status']}", lang),
                      className=f"alerts-status {a['status']}"),
            html.A(t("alerts.detail.cap", lang), href=f"/api/v1/alerts/{a['id']}.cap",
                   target="_blank", className="alerts-cap-link"),
        ]),
        html.H2(_title(a, lang), className="alerts-detail-title"),
        html.Div(a.get("detail_zh") if lang == "zh-CN" else
                 (a.get("detail_en") or a.get("detail_zh")), className="alerts-detail-text")
        if (a.get("detail_zh") or a.get("detail_en")) else None,
        dl,
    ])


def timeline(a: Doc | None, entries: Sequence[Doc], lang: str) -> html.Div | None:
    """Every action on the selected alert, newest first: when, who, what."""
    if a is None:
        return None
    items = [html.Li([html.Span(clock_text(e["ts"], True), className="num"),
                      html.Span(str(e["actor"]), className="alerts-actor"),
                      html.Span(_timeline_text(e, lang))],
                     className=f"act-{e['action']}") for e in reversed(entries)]
    return html.Div([html.H3(t("alerts.detail.timeline", lang)),
                     html.Ul(items, className="alerts-timeline")])


def actions(lang: str) -> html.Div:
    """The action bar: static (callbacks need their inputs in the layout), disabled
    until an alert is selected."""
    def button(key: str, id_: str, cls: str = "secondary") -> html.Button:
        return html.Button(t(key, lang), id=id_, n_clicks=0, disabled=True,
                           className=f"dispatch-button alerts-button {cls}")

    return html.Div(id=ids.ALERTS_ACTIONS, className="alerts-actions", children=[
        html.H3(t("alerts.actions_title", lang)),
        html.Div(className="alerts-action-row", children=[
            button("alerts.ack", ids.ALERTS_ACK, "primary"),
            button("alerts.incident", ids.ALERTS_INCIDENT),
            button("alerts.clear", ids.ALERTS_CLEAR),
        ]),
        html.Div(className="alerts-action-row", children=[
            dcc.Input(id=ids.ALERTS_ASSIGN_INPUT, type="text", maxLength=64,
                      placeholder=t("alerts.assign_placeholder", lang)),
            button("alerts.assign", ids.ALERTS_ASSIGN),
        ]),
        html.Div(className="alerts-action-row", children=[
            dcc.Input(id=ids.ALERTS_COMMENT_INPUT, type="text", maxLength=2000,
                      placeholder=t("alerts.comment_placeholder", lang)),
            button("alerts.comment", ids.ALERTS_COMMENT),
        ]),
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
