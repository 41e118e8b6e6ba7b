"""Load a user's own road network (OpenStreetMap extract) instead of the synthetic one.

Two formats, chosen by file extension:

* **GeoJSON** (``.geojson``/``.json``): LineString / MultiLineString features with
  OSM-style properties ``highway``, ``name``, ``oneway``, ``maxspeed``, ``lanes``.
  Line ends and vertices shared by several lines become nodes; the polyline
  between two nodes becomes one segment (keeping its geometry).
* **GraphML** (``.graphml``, e.g. from osmnx ``save_graphml``): nodes with ``x``
  (lon) and ``y`` (lat); edges with the same OSM keys plus optional ``length``.
  Edges are taken as directed (osmnx already expands two-way streets).

``highway`` maps to DOMAIN.md §3.2 classes: motorway/trunk(+_link) → expressway,
primary(+_link) → arterial, anything else → secondary. Only the largest strongly
connected component is kept so every node is routable.

>>> from pathlib import Path
>>> net = load_road_file(Path("tests/data/city/tiny_osm.geojson"))
>>> net.synthetic, net.is_strongly_connected()
(False, True)
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from config.city.geo import haversine_m
from config.city.roads import ARTERIAL, EXPRESSWAY, SECONDARY, RoadNetwork

_DEFAULT_SPEED = {EXPRESSWAY: 80.0, ARTERIAL: 50.0, SECONDARY: 40.0}
_DEFAULT_LANES = {EXPRESSWAY: 3, ARTERIAL: 2, SECONDARY: 1}


class RoadFileError(ValueError):
    """The road network file cannot be read or holds no usable road."""


def road_class_of(highway: object) -> int:
    """DOMAIN.md §3.2 class code for an OSM ``highway`` value (lists take the first)."""
    h = str(highway[0] if isinstance(highway, list) and highway else highway or "").lower()
    h = h.removesuffix("_link")
    if h in {"motorway", "trunk"}:
        return EXPRESSWAY
    if h == "primary":
        return ARTERIAL
    return SECONDARY


def parse_maxspeed(raw: object, cls: int) -> float:
    """km/h from OSM ``maxspeed`` ('50', '50 km/h', '30 mph', ['60','80']), else a class default."""
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if raw is None:
        return _DEFAULT_SPEED[cls]
    m = re.search(r"[\d.]+", str(raw))
    if not m:
        return _DEFAULT_SPEED[cls]
    v = float(m.group())
    return v * 1.609344 if "mph" in str(raw) else v


def parse_lanes(raw: object, cls: int, oneway: bool) -> int:
    """Lanes per direction: OSM ``lanes`` counts both directions on two-way roads."""
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        total = int(float(str(raw).split(";")[0]))
    except (TypeError, ValueError):
        return _DEFAULT_LANES[cls]
    return max(1, total if oneway else total // 2 or 1)


def oneway_of(raw: object) -> int:
    """1 forward only, -1 reverse only, 0 both ways."""
    s = str(raw).strip().lower() if raw is not None else ""
    if s in {"yes", "true", "1"}:
        return 1
    if s == "-1" or s == "reverse":
        return -1
    return 0


class _Builder:
    def __init__(self) -> None:
        self.node_of: dict[tuple[float, float], int] = {}
        self.lon: list[float] = []
        self.lat: list[float] = []
        self.src: list[int] = []
        self.dst: list[int] = []
        self.cls: list[int] = []
        self.lanes: list[int] = []
        self.speed: list[float] = []
        self.names: list[str] = []
        self.length: list[float] = []
        self.geom: list[np.ndarray] = []

    def node(self, lon: float, lat: float) -> int:
        key = (round(lon, 7), round(lat, 7))
        i = self.node_of.get(key)
        if i is None:
            i = self.node_of[key] = len(self.lon)
            self.lon.append(key[0])
            self.lat.append(key[1])
        return i

    def add(self, a: int, b: int, props: dict[str, Any], geom: np.ndarray, length: float) -> None:
        cls = road_class_of(props.get("highway"))
        one = oneway_of(props.get("oneway"))
        name = props.get("name") or props.get("ref") or f"{props.get('highway', 'road')}"
        name = str(name[0] if isinstance(name, list) else name)
        lanes = parse_lanes(props.get("lanes"), cls, one != 0)
        speed = parse_maxspeed(props.get("maxspeed"), cls)
        dirs = [(a, b, geom)] if one >= 0 else []
        if one <= 0:
            dirs.append((b, a, geom[::-1]))
        if one < 0:
            dirs = [(b, a, geom[::-1])]
        for s, d, g in dirs:
            self.src.append(s)
            self.dst.append(d)
            self.cls.append(cls)
            self.lanes.append(lanes)
            self.speed.append(speed)
            self.names.append(name)
            self.length.append(length)
            self.geom.append(g)

    def network(self, source: str) -> RoadNetwork:
        if not self.src:
            raise RoadFileError(f"{source}: no road segments found")
        net = RoadNetwork.build(
            np.array(self.lon),
            np.array(self.lat),
            np.array(self.src, np.int64),
            np.array(self.dst, np.int64),
            np.array(self.cls, np.int8),
            np.array(self.lanes, np.int64),
            np.array(self.speed),
            tuple(self.names),
            synthetic=False,
            source=source,
            length_m=np.array(self.length),
            geometry=tuple(self.geom),
        )
        return net.largest_strong_component()


def _polyline_length(g: np.ndarray) -> float:
    return float(haversine_m(g[:-1, 0], g[:-1, 1], g[1:, 0], g[1:, 1]).sum())


def load_geojson_roads(path: Path) -> RoadNetwork:
    """GeoJSON LineStrings → network, split at shared vertices (intersections)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RoadFileError(f"{path}: {e}") from e
    lines: list[tuple[np.ndarray, dict[str, Any]]] = []
    for f in data.get("features", []):
        geom = f.get("geometry") or {}
        props = f.get("properties") or {}
        if geom.get("type") == "LineString":
            parts = [geom["coordinates"]]
        elif geom.get("type") == "MultiLineString":
            parts = geom["coordinates"]
        else:
            continue
        for p in parts:
            arr = np.asarray(p, np.float64)[:, :2]
            if len(arr) >= 2:
                lines.append((arr, props))
    # a vertex is a node if it ends a line or appears on more than one line
    uses: dict[tuple[float, float], int] = {}
    for arr, _ in lines:
        for key in {(round(a, 7), round(b, 7)) for a, b in arr.tolist()}:
            uses[key] = uses.get(key, 0) + 1
    bld = _Builder()
    for arr, props in lines:
        keys = [(round(a, 7), round(b, 7)) for a, b in arr.tolist()]
        start = 0
        for k in range(1, len(arr)):
            if k == len(arr) - 1 or uses[keys[k]] > 1:
                piece = arr[start : k + 1]
                a = bld.node(*keys[start])
                b = bld.node(*keys[k])
                if a != b:
                    bld.add(a, b, props, piece, _polyline_length(piece))
                start = k
    return bld.network(f"user GeoJSON {path.name}")


def load_graphml_roads(path: Path) -> RoadNetwork:
    """GraphML (osmnx style: node keys x/y, edge keys highway/name/oneway/…)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        raise RoadFileError(f"{path}: {e}") from e
    ns = {"g": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
    pre = "g:" if ns else ""
    keys = {
        k.get("id"): k.get("attr.name") for k in root.iter(f"{{{ns['g']}}}key" if ns else "key")
    }
    graph = root.find(f"{pre}graph", ns)
    if graph is None:
        raise RoadFileError(f"{path}: no <graph> element")
    directed = graph.get("edgedefault", "directed") == "directed"

    def data(el: ET.Element) -> dict[str, Any]:
        return {
            str(keys.get(d.get("key"), d.get("key"))): (d.text or "")
            for d in el.findall(f"{pre}data", ns)
        }

    bld = _Builder()
    node_idx: dict[str, int] = {}
    for nd in graph.findall(f"{pre}node", ns):
        d = data(nd)
        try:
            node_idx[str(nd.get("id"))] = bld.node(float(d["x"]), float(d["y"]))
        except (KeyError, ValueError) as e:
            raise RoadFileError(f"{path}: node {nd.get('id')} lacks numeric x/y") from e
    for ed in graph.findall(f"{pre}edge", ns):
        d = data(ed)
        a, b = node_idx.get(str(ed.get("source"))), node_idx.get(str(ed.get("target")))
        if a is None or b is None or a == b:
            continue
        g = np.array([[bld.lon[a], bld.lat[a]], [bld.lon[b], bld.lat[b]]])
        try:
            length = float(d["length"])
        except (KeyError, ValueError):
            length = _polyline_length(g)
        props = dict(d)
        # osmnx lists both directions explicitly; undirected graphs mean two-way
        props["oneway"] = "yes" if directed else props.get("oneway", "no")
        bld.add(a, b, props, g, length)
    return bld.network(f"user GraphML {path.name}")


def load_road_file(path: Path) -> RoadNetwork:
    """Dispatch on the file extension (``.graphml`` or GeoJSON)."""
    if not path.exists():
        raise RoadFileError(f"road network file not found: {path}")
    if path.suffix.lower() == ".graphml":
        return load_graphml_roads(path)
    return load_geojson_roads(path)
