"""The system status page: a pure function of a :class:`StatusView` snapshot.

No I/O here; ``dashboard/`` builds the view from the state store. Dash escapes
every string it renders as text, so sensor ids or reasons cannot inject markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dash import html

from layouts.messages import t


@dataclass(frozen=True, slots=True)
class DomainRow:
    domain: str
    sensors: int
    reporting: int
    anomalous: int
    faulty: int


@dataclass(frozen=True, slots=True)
class SensorRow:
    sensor_id: str
    metric: str
    district: str
    value: float
    score: float
    fault: str


@dataclass(frozen=True, slots=True)
class StatusView:
    status: str
    counters: Mapping[str, float]
    newest_age_s: float | None
    domains: Sequence[DomainRow]
    dead_letters: Mapping[str, float]
    top: Sequence[SensorRow]
    now_ms: int
    extra: Mapping[str, Any] = field(default_factory=dict)


def render(view: StatusView, lang: str) -> html.Div:
    return html.Div(
        className="status-grid",
        children=[
            _pipeline(view, lang),
            _domains(view, lang),
            _dead_letters(view, lang),
            _top(view, lang),
        ],
    )


def _card(title: str, *children: Any) -> html.Section:
    return html.Section(className="card", children=[html.H2(title), *children])


def _pipeline(view: StatusView, lang: str) -> html.Section:
    status_key = {"ok": "status.ok", "stale": "status.stale"}.get(view.status, "status.starting")
    seconds = t("status.seconds", lang)
    age = "—" if view.newest_age_s is None else f"{view.newest_age_s:.1f} {seconds}"
    tiles = [
        html.Div(
            className=f"tile status-{view.status}",
            children=[html.Div(t("status.state", lang), className="tile-label"),
                      html.Div(t(status_key, lang), className="tile-value", id="status-state")],
        ),
        html.Div(
            className="tile",
            children=[html.Div(t("status.newest_age", lang), className="tile-label"),
                      html.Div(age, className="tile-value", id="status-age")],
        ),
    ]
    for key in ("produced", "readings_in", "scored", "pushed", "dead_lettered"):
        tiles.append(
            html.Div(
                className="tile",
                children=[
                    html.Div(t(f"counter.{key}", lang), className="tile-label"),
                    html.Div(f"{int(view.counters.get(key, 0)):,}", className="tile-value",
                             id=f"counter-{key}"),
                ],
            )
        )
    stamp = datetime.fromtimestamp(view.now_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return _card(t("status.pipeline", lang), html.Div(tiles, className="tiles"),
                 html.Div(f"{t('status.updated', lang)} {stamp}", className="muted"))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str = "") -> html.Table:
    """A table; with no rows, one muted row saying so (``empty``) instead of bare headers."""
    body = [html.Tr([html.Td(c) for c in r]) for r in rows]
    if not body and empty:
        body = [html.Tr(html.Td(empty, colSpan=len(headers), className="status-empty"))]
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)])


def _domains(view: StatusView, lang: str) -> html.Section:
    headers = [t(k, lang) for k in ("status.domain", "status.sensors", "status.reporting",
                                    "status.anomalous", "status.faulty")]
    rows = [[t(f"domain.{d.domain}", lang), f"{d.sensors:,}", f"{d.reporting:,}",
             f"{d.anomalous:,}", f"{d.faulty:,}"] for d in view.domains]
    return _card(t("status.domains", lang), _table(headers, rows))


def _dead_letters(view: StatusView, lang: str) -> html.Section:
    headers = [t("status.reason", lang), t("status.count", lang)]
    rows = [[reason, f"{int(n):,}"] for reason, n in sorted(view.dead_letters.items())]
    return _card(t("status.dead_letters", lang),
                 _table(headers, rows, t("status.no_dead_letters", lang)))


def _top(view: StatusView, lang: str) -> html.Section:
    headers = [t(k, lang) for k in ("status.sensor", "status.metric", "status.district",
                                    "status.value", "status.score", "status.fault")]
    rows = [[r.sensor_id, r.metric, r.district, f"{r.value:.3g}", f"{r.score:.2f}", r.fault]
            for r in view.top]
    return _card(t("status.top_anomalies", lang),
                 _table(headers, rows, t("status.no_anomalies", lang)))
