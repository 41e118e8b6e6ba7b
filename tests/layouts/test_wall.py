"""Pure builders of the wall: page layout, pydeck map spec, palettes, catalog."""

from __future__ import annotations

from typing import Any

from dash import html

from layouts.catalog.wall import MESSAGES
from layouts.wall import PANELS_LEFT, PANELS_RIGHT, render
from layouts.wall_map import (
    CODE_LABELS,
    CODED_LAYERS,
    PALETTES,
    MapRows,
    character_set,
    code_names,
    map_spec,
    plain_props,
)
from models.indices.aqi_china_tables import CATEGORIES
from models.indices.traffic import TRAFFIC_LEVELS


def _walk(node: Any) -> list[Any]:
    out = [node]
    kids = getattr(node, "children", None)
    if isinstance(kids, list | tuple):
        for k in kids:
            out.extend(_walk(k))
    elif kids is not None and not isinstance(kids, str):
        out.extend(_walk(kids))
    return out


def _rows() -> MapRows:
    square = [[119.0, 26.0], [119.1, 26.0], [119.1, 26.1], [119.0, 26.0]]
    return MapRows(
        outlines=[
            {
                "adcode": "350102",
                "name_zh": "鼓楼区",
                "name_en": "Gulou District",
                "polygon": square,
                "centroid": [119.05, 26.05],
            }
        ],
        cells=[{"cell": "c1", "district": "350102", "polygon": square}],
        roads=[{"segment": "S1", "name": "n", "road_class": "arterial", "path": square[:2]}],
        air=[
            {
                "id": "AQS-1",
                "name_zh": "站",
                "name_en": "St",
                "district": "350102",
                "lon": 119.05,
                "lat": 26.05,
            }
        ],
        water=[],
        hazard=[],
    )


def test_every_text_node_has_a_catalog_key_in_both_languages() -> None:
    nodes = _walk(render("en", ["roads", "air"]))
    keys = [
        n.to_plotly_json()["props"].get("data-t") for n in nodes if hasattr(n, "to_plotly_json")
    ]
    keys = [k for k in keys if k]
    assert len(keys) > 20
    from layouts.messages import CATALOG

    for k in keys:
        assert set(CATALOG[k]) >= {"zh-CN", "en"}, k


def test_render_uses_the_language_for_first_paint() -> None:
    zh = [n.children for n in _walk(render("zh-CN")) if isinstance(n, html.H2)]
    en = [n.children for n in _walk(render("en")) if isinstance(n, html.H2)]
    assert "交通运行" in zh and "Traffic" in en
    assert len(zh) == len(PANELS_LEFT) + len(PANELS_RIGHT)


def test_wall_messages_are_namespaced_and_bilingual() -> None:
    for key, entry in MESSAGES.items():
        assert key.startswith("wall."), key
        assert entry["zh-CN"] and entry["en"], key


def test_map_spec_keeps_row_order_and_plain_enum_props() -> None:
    spec = map_spec(_rows())
    by_id = {layer["id"]: layer for layer in spec["layers"]}
    assert set(CODED_LAYERS) <= set(by_id)
    assert by_id["air"]["data"][0]["id"] == "AQS-1"
    assert by_id["air"]["data"][0]["p"] == [119.05, 26.05]
    assert by_id["district-names"]["getText"] == "@@=name_zh"  # accessors stay expressions
    # cells, outlines, roads and stations: non-instanced CodedLayers coloured by code in the
    # browser
    for lid in ("cells", "districts", "roads", "air", "water", "hazard"):
        assert by_id[lid]["@@type"] == "CodedLayer", lid
    assert by_id["roads"]["mode"] == "lines"  # not "@@=lines"
    assert by_id["air"]["mode"] == "points"
    assert by_id["cells"]["mode"] == "polygons"
    assert by_id["cells"]["palette"] == PALETTES["cells"]
    assert by_id["roads"]["palette"] == PALETTES["roads"]
    assert by_id["roads"]["data"][0]["path"] and "pixelSizes" in by_id["roads"]
    ring = by_id["districts"]["data"][0]["path"]
    assert ring[0] == ring[-1]  # outlines are closed paths
    assert by_id["land"]["data"].startswith("/assets/geo/")
    assert "mapStyle" not in spec and "initialViewState" in spec


def test_plain_props_leaves_accessors_alone() -> None:
    layer = plain_props({"getText": "@@=name", "fontFamily": "@@=sans", "x": 1})
    assert layer == {"getText": "@@=name", "fontFamily": "sans", "x": 1}


def test_palettes_follow_the_standards_colours() -> None:
    assert PALETTES["roads"][1][:3] == list(TRAFFIC_LEVELS[0].colour.rgb)
    assert PALETTES["air"][1][:3] == [0, 228, 0]  # HJ 633 优 #00E400
    assert PALETTES["air"][6][:3] == [126, 0, 35]  # 严重污染 #7E0023
    assert len(PALETTES["air"]) == len(CATEGORIES) + 1
    assert len(PALETTES["incidents"]) == 4
    assert PALETTES["incidents"][0][0] > 200 and PALETTES["incidents"][3][2] > 200  # red … blue
    names = code_names()
    assert len(names["roads"]) == len(PALETTES["roads"])
    assert len(CODE_LABELS["cells"]) == len(PALETTES["cells"])


def test_character_set_covers_both_names() -> None:
    chars = character_set([{"name_zh": "鼓楼区", "name_en": "Jin'an"}])
    assert {"鼓", "楼", "区", "J", "'"} <= set(chars)
