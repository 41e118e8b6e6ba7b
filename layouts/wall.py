"""The wall page (``/``): a pure function of the language, no data and no I/O.

The page is a static frame — map, five domain panels with KPI tiles and small charts,
an alert ticker, a stale banner — whose live values are filled in by
``assets/wall/wall.js`` from the Socket.IO push. Every text node carries its catalog
key in ``data-t`` so the browser can switch language without a server round trip;
the first paint already uses ``lang``. Dash escapes all text it renders.

>>> from dash import html
>>> page = render("en")
>>> isinstance(page, html.Div) and page.id == "wall-root"
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import html

from layouts import ids
from layouts.messages import t


@dataclass(frozen=True, slots=True)
class Tile:
    """A KPI tile: catalog key of its label and the KPI key it shows."""

    label: str
    kpi: str
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Panel:
    domain: str  # age source (traffic / air / water / hazard / push)
    title: str
    tiles: tuple[Tile, ...]
    series: str
    chart: str


PANELS_LEFT = (
    Panel("traffic", "wall.panel.traffic",
          (Tile("wall.kpi.tpi", "tpi"), Tile("wall.kpi.congested", "congested_pct", "%")),
          "tpi", "wall.chart.tpi"),
    Panel("air", "wall.panel.air",
          (Tile("wall.kpi.aqi", "aqi"), Tile("wall.kpi.primary", "primary")),
          "aqi", "wall.chart.aqi"),
)
PANELS_RIGHT = (
    Panel("water", "wall.panel.water",
          (Tile("wall.kpi.pressure", "pressure_pct", "%"),
           Tile("wall.kpi.quality", "quality_breaches")),
          "pressure_pct", "wall.chart.pressure"),
    Panel("hazard", "wall.panel.hazard",
          (Tile("wall.kpi.alarm2", "alarm2"), Tile("wall.kpi.alarm1", "alarm1")),
          "alarms", "wall.chart.alarms"),
    Panel("push", "wall.panel.dispatch",
          (Tile("wall.kpi.incidents", "incidents"), Tile("wall.kpi.units_free", "units_free")),
          "incidents", "wall.chart.incidents"),
)


def _data(name: str, value: str) -> dict[str, Any]:
    """A ``data-*`` attribute as keyword arguments (Dash accepts them as wildcards)."""
    return {name: value}


def text(key: str, lang: str, tag: Any = html.Span, **props: Any) -> Any:
    """A text element that the browser can re-translate: ``data-t`` holds the key."""
    return tag(t(key, lang), **_data("data-t", key), **props)


def tile(spec: Tile, lang: str) -> html.Div:
    return html.Div(className="kpi", **_data("data-kpi", spec.kpi), children=[
        text(spec.label, lang, html.Div, className="kpi-label"),
        html.Div(className="kpi-value", children=[
            html.Span("—", className="kpi-number", **_data("data-kv", spec.kpi)),
            html.Span(spec.unit, className="kpi-unit"),
        ]),
        html.Div("", className="kpi-sub", **_data("data-ks", spec.kpi)),
    ])


def panel(spec: Panel, lang: str) -> html.Section:
    return html.Section(className=f"panel panel-{spec.domain}", **_data("data-panel", spec.domain),
                        children=[
        html.Header(className="panel-head", children=[
            text(spec.title, lang, html.H2),
            html.Span(className="age", **_data("data-age", spec.domain), children=[
                text("wall.age", lang), html.Span(" ", className="age-sep"),
                html.Span("—", className="age-value"),
                html.Span(" "), text("wall.seconds", lang),
            ]),
        ]),
        html.Div(className="kpis", children=[tile(x, lang) for x in spec.tiles]),
        html.Div(className="chart", children=[
            text(spec.chart, lang, html.Div, className="chart-title"),
            html.Div(className="chart-box", children=html.Canvas(
                className="chart-canvas", **_data("data-series", spec.series))),
        ]),
    ])


def toggles(layer_ids: tuple[str, ...] | list[str], lang: str) -> html.Div:
    return html.Div(id=ids.WALL_TOGGLES, className="wall-toggles", children=[
        text("wall.layers", lang, html.Div, className="toggles-title"),
        *[html.Button(className="toggle is-on", n_clicks=0, **_data("data-layer", layer),
                      children=[html.I(className="toggle-box"),
                                text(f"wall.layer.{layer}", lang)])
          for layer in layer_ids],
    ])


def render(lang: str, layer_ids: tuple[str, ...] | list[str] = ()) -> html.Div:
    """The whole page in ``lang``; ``layer_ids`` are the toggleable map layers."""
    return html.Div(id=ids.WALL_ROOT, className="wall", lang=lang, children=[
        html.Header(className="wall-top", children=[
            text("app.title", lang, html.H1, id=ids.WALL_TITLE),
            text("wall.title", lang, html.Div, className="wall-subtitle"),
            text("wall.synthetic", lang, html.Div, className="wall-note"),
            html.Div(id=ids.WALL_CLOCK, className="wall-clock"),
        ]),
        html.Div(id=ids.WALL_STALE, className="wall-stale", hidden=True,
                 role="alert", children=""),
        html.Div(className="wall-grid", children=[
            html.Aside(className="wall-col wall-left", children=[panel(p, lang)
                                                                 for p in PANELS_LEFT]),
            html.Main(className="wall-center", children=[
                html.Div(id=ids.WALL_MAP, className="wall-map"),
                toggles(layer_ids, lang),
                html.Div(id=ids.WALL_LEGEND, className="wall-legend"),
                html.Div(id=ids.WALL_DETAIL, className="wall-detail", hidden=True),
            ]),
            html.Aside(className="wall-col wall-right", children=[panel(p, lang)
                                                                  for p in PANELS_RIGHT]),
        ]),
        html.Footer(className="wall-ticker-bar", children=[
            text("wall.ticker", lang, html.Div, className="ticker-title"),
            html.Div(id=ids.WALL_TICKER, className="wall-ticker"),
        ]),
    ])
