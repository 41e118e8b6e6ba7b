"""The wall's deck.gl map as pydeck layer specs, plus the palettes the browser colours by.

Pure: input is plain rows (``city.cell_polygons()``, ``city.road_paths()``, points …),
output is the ``Deck.to_json()`` dict that ``deck.JSONConverter`` turns into layers in
the browser. The row order of each dynamic layer is the order of the status codes the
push loop sends (:mod:`dashboard.wall_data`), so an update is just "object *i* now has
code *c*": the browser never re-creates the map, it swaps a colour index and re-uses
the layer by id.

Basemap: the shipped land GeoJSON (served from ``/assets/geo/``) over a sea-coloured
background, and the district outlines with their names — no tile server.

>>> spec = map_spec(MapRows(outlines=[], cells=[], roads=[], air=[], water=[], hazard=[]))
>>> [layer["id"] for layer in spec["layers"]][:3]
['land', 'cells', 'districts']
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pydeck as pdk

from models.indices.aqi_china_tables import CATEGORIES
from models.indices.levels import LEVELS, EmergencyLevel
from models.indices.traffic import TRAFFIC_LEVELS

Row = dict[str, Any]
RGBA = list[int]

SEA_RGB = (14, 32, 58)
LAND_URL = "/assets/geo/land_fuzhou_region_datav.wgs84.geojson"
#: Fuzhou: the urban core sits in the west half of the municipality
VIEW = {"longitude": 119.45, "latitude": 25.95, "zoom": 8.6, "pitch": 0, "bearing": 0}

#: layers the operator can switch on and off, in legend order
TOGGLE_LAYERS = ("districts", "cells", "roads", "air", "water", "hazard", "units", "incidents")
#: layers coloured by a status code sent by the push loop
CODED_LAYERS = ("cells", "roads", "air", "water", "hazard")


def _rgba(rgb: Sequence[int], a: int = 255) -> RGBA:
    return [int(rgb[0]), int(rgb[1]), int(rgb[2]), a]


NO_DATA: RGBA = [110, 125, 150, 110]

PALETTES: dict[str, list[RGBA]] = {
    # no data, normal, watch, warning, alarm
    "cells": [
        [0, 0, 0, 0],
        [46, 204, 113, 22],
        [241, 196, 15, 80],
        [255, 126, 0, 120],
        [231, 76, 60, 170],
    ],
    "roads": [[90, 110, 140, 70]] + [_rgba(lv.colour.rgb, 235) for lv in TRAFFIC_LEVELS],
    "air": [NO_DATA] + [_rgba(c.colour.rgb, 240) for c in CATEGORIES],
    # no data, normal, quality breach, low pressure
    "water": [NO_DATA, [58, 160, 255, 220], [170, 90, 230, 240], [231, 76, 60, 250]],
    # no data, normal, first alarm, second alarm
    "hazard": [NO_DATA, [46, 204, 113, 230], [255, 126, 0, 250], [224, 32, 32, 255]],
    "incidents": [_rgba(LEVELS[EmergencyLevel(i)].colour.rgb, 250) for i in (1, 2, 3, 4)],
    "unit_groups": [[255, 90, 60, 235], [235, 240, 245, 235], [70, 150, 255, 235]],
}
#: catalog keys naming each code of a layer (legend, tooltips)
CODE_LABELS: dict[str, list[str]] = {
    "cells": [
        "wall.status.nodata",
        "wall.status.ok",
        "wall.status.notice",
        "wall.status.warning",
        "wall.status.alarm",
    ],
    "water": [
        "wall.status.nodata",
        "wall.status.ok",
        "wall.water.quality",
        "wall.water.low_pressure",
    ],
    "hazard": ["wall.status.nodata", "wall.status.ok", "wall.kpi.alarm1", "wall.kpi.alarm2"],
}


DISTRICT_LINE: RGBA = [120, 170, 230, 200]
#: road line width in pixels by traffic code: heavy and severe congestion drawn wider
ROAD_WIDTHS = [1.5, 1.5, 1.5, 1.5, 3.0, 3.0]
#: roads narrower than this (px) are drawn as 1-px GL lines: half the vertices on a software GL
ROAD_THIN_BELOW = 2.0


def code_names() -> dict[str, list[dict[str, str]]]:
    """Names of the codes that come from ``models.indices`` tables (both languages)."""
    na = {"zh-CN": "无数据", "en": "No data"}
    return {
        "roads": [na] + [{"zh-CN": lv.name.zh, "en": lv.name.en} for lv in TRAFFIC_LEVELS],
        "air": [na] + [{"zh-CN": c.klass.zh, "en": c.klass.en} for c in CATEGORIES],
        "incidents": [
            {"zh-CN": LEVELS[EmergencyLevel(i)].event.zh, "en": LEVELS[EmergencyLevel(i)].event.en}
            for i in (1, 2, 3, 4)
        ],
    }


@dataclass(frozen=True)
class MapRows:
    """Plain rows for each layer, in the order the push loop's codes use."""

    outlines: list[Row]
    cells: list[Row]
    roads: list[Row]
    air: list[Row]
    water: list[Row]
    hazard: list[Row]
    view: dict[str, float] = field(default_factory=lambda: dict(VIEW))


def _round(path: Sequence[Sequence[float]], nd: int = 5) -> list[list[float]]:
    return [[round(float(x), nd), round(float(y), nd)] for x, y in path]


def _ring(ring: Sequence[Sequence[float]], nd: int = 5) -> list[list[float]]:
    """A polygon ring as a closed path (first point repeated at the end when missing)."""
    path = _round(ring, nd)
    if path and path[0] != path[-1]:
        path.append(path[0])
    return path


def _points(rows: Sequence[Row], keep: Sequence[str]) -> list[Row]:
    return [
        {**{k: r[k] for k in keep if k in r}, "p": [round(r["lon"], 5), round(r["lat"], 5)]}
        for r in rows
    ]


def district_labels(outlines: Sequence[Row]) -> list[Row]:
    """One label per district at its centroid (outlines have one row per polygon part)."""
    seen: dict[str, Row] = {}
    for r in outlines:
        seen.setdefault(
            r["adcode"],
            {
                "adcode": r["adcode"],
                "name_zh": r["name_zh"],
                "name_en": r["name_en"],
                "p": [round(c, 5) for c in r["centroid"]],
            },
        )
    return list(seen.values())


def character_set(labels: Sequence[Row]) -> str:
    """Every glyph the district-name TextLayer needs (CJK + Latin), sorted, deduplicated."""
    chars = set("0123456789 -'")
    for r in labels:
        chars.update(r["name_zh"])
        chars.update(r["name_en"])
    return "".join(sorted(chars))


def layers(rows: MapRows) -> list[pdk.Layer]:
    """pydeck layers; dynamic colours are set in the browser from the code arrays."""
    labels = district_labels(rows.outlines)
    return [
        # the sea is the map's background colour (CSS, same as SEA_RGB): drawing the shipped
        # sea polygon cost more per frame than all other layers together on a software GL
        # (SwiftShader), and the land polygon already draws the coastline
        pdk.Layer(
            "GeoJsonLayer",
            data=LAND_URL,
            id="land",
            get_fill_color=[24, 33, 48, 255],
            stroked=False,
            filled=True,
            pickable=False,
        ),
        # cells, outlines, roads and stations are CodedLayers (assets/wall/coded_layer.js):
        # plain triangles instead of one GPU instance per object, which a software GL pays
        # dearly for; the browser draws every coded layer but the outlines in one progressive
        # CodedMapLayer
        pdk.Layer(
            "CodedLayer",
            id="cells",
            pickable=True,
            mode="polygons",
            data=[
                {"cell": r["cell"], "district": r["district"], "polygon": _round(r["polygon"])}
                for r in rows.cells
            ],
            palette=PALETTES["cells"],
            pixel_sizes=[0],
        ),
        pdk.Layer(
            "CodedLayer",
            id="districts",
            pickable=False,
            mode="lines",
            data=[{"adcode": r["adcode"], "path": _ring(r["polygon"], 4)} for r in rows.outlines],
            palette=[DISTRICT_LINE],
            pixel_sizes=[1.2],
        ),
        pdk.Layer(
            "CodedLayer",
            id="roads",
            pickable=True,
            mode="lines",
            data=[
                {
                    "segment": r["segment"],
                    "name": r["name"],
                    "road_class": r["road_class"],
                    "path": _round(r["path"]),
                }
                for r in rows.roads
            ],
            palette=PALETTES["roads"],
            pixel_sizes=ROAD_WIDTHS,
            # free-flowing roads as 1-px GL lines, congested ones as wide quads
            thin_below=ROAD_THIN_BELOW,
        ),
        pdk.Layer(
            "CodedLayer",
            id="water",
            pickable=True,
            mode="points",
            data=_points(rows.water, ("id", "zone", "district")),
            palette=PALETTES["water"],
            pixel_sizes=[2.5],
        ),
        pdk.Layer(
            "CodedLayer",
            id="air",
            pickable=True,
            mode="points",
            data=_points(rows.air, ("id", "name_zh", "name_en", "district")),
            palette=PALETTES["air"],
            pixel_sizes=[5.5],
            stroke=[10, 18, 32, 255],
        ),
        pdk.Layer(
            "CodedLayer",
            id="hazard",
            pickable=True,
            mode="points",
            data=_points(rows.hazard, ("id", "name_zh", "name_en", "district", "grade")),
            palette=PALETTES["hazard"],
            pixel_sizes=[4.5],
            stroke=[255, 255, 255, 200],
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="units",
            pickable=True,
            data=[],
            get_position="p",
            get_fill_color=PALETTES["unit_groups"][0],
            get_radius=300,
            radius_min_pixels=2.5,
            radius_max_pixels=8,
        ),
        pdk.Layer(
            "ScatterplotLayer",
            id="incidents",
            pickable=True,
            data=[],
            get_position="p",
            get_fill_color=PALETTES["incidents"][3],
            get_radius=900,
            radius_min_pixels=7,
            radius_max_pixels=22,
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=2,
        ),
        pdk.Layer(
            "TextLayer",
            id="district-names",
            pickable=False,
            data=labels,
            get_position="p",
            get_text="name_zh",
            get_size=15,
            size_units="pixels",
            get_color=[225, 235, 250, 235],
            outline_width=2,
            outline_color=[8, 14, 26, 255],
        ),
    ]


def map_spec(rows: MapRows) -> dict[str, Any]:
    """The ``Deck.to_json()`` document (as a dict) for the browser's JSONConverter."""
    deck = pdk.Deck(
        layers=layers(rows),
        initial_view_state=pdk.ViewState(**rows.view),
        map_provider=None,
        map_style=None,
    )
    spec: dict[str, Any] = json.loads(deck.to_json())
    for layer in spec["layers"]:
        plain_props(layer)
    spec.pop("mapStyle", None)
    spec.pop("mapProvider", None)
    return spec


def plain_props(layer: dict[str, Any]) -> dict[str, Any]:
    """Undo pydeck's expression prefix on props that are plain strings, not accessors.

    pydeck marks every string as a ``@@=`` expression; for ``widthUnits: "pixels"`` the
    converter would then evaluate the name ``pixels`` (undefined), which stalls deck.gl.

    >>> plain_props({"getPath": "@@=path", "widthUnits": "@@=pixels"})
    {'getPath': '@@=path', 'widthUnits': 'pixels'}
    """
    for key, value in layer.items():
        if isinstance(value, str) and value.startswith("@@=") and not key.startswith("get"):
            layer[key] = value.removeprefix("@@=")
    return layer


def map_config(rows: MapRows) -> dict[str, Any]:
    """What the browser needs beside the spec: palettes, code names, glyphs, layer ids."""
    return {
        "palettes": PALETTES,
        "codeLabels": CODE_LABELS,
        "codeNames": code_names(),
        "characterSet": character_set(district_labels(rows.outlines)),
        "toggles": list(TOGGLE_LAYERS),
        "coded": list(CODED_LAYERS),
    }
