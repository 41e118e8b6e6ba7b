"""CAP 1.2 in: safe parsing, a structural validator, and CAP → alert.

Safety first: the input is size-limited and pre-scanned with expat, rejecting any
DOCTYPE, entity declaration or external reference (no XXE, no "billion laughs") before
ElementTree sees it — the defusedxml approach, written here without the dependency.
Then :func:`validate_cap` checks the CAP 1.2 required elements and enumerations
(DOMAIN.md §7.1) and returns every problem found; :func:`parse_cap` raises
:class:`CapError` (→ HTTP 400) listing them.

>>> parse_cap(b'<!DOCTYPE x [<!ENTITY e "boom">]><alert/>')
Traceback (most recent call last):
...
alerts.cap_parse.CapError: DTDs and entities are not accepted
"""

from __future__ import annotations

import math
import re
import xml.parsers.expat
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from alerts.cap import LEVEL_OF_SEVERITY, NS, PARAM, parse_cap_time
from alerts.model import ACTIVE, CLEARED, Alert

MAX_BYTES = 512 * 1024

STATUS = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPE = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPE = ("Public", "Restricted", "Private")
CATEGORY = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport",
            "Infra", "CBRNE", "Other")
URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITY = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")
RESPONSE = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear",
            "None")

DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
#: CAP: identifiers and sender must not include spaces, commas or restricted characters
TOKEN_RE = re.compile(r"^[^\s,<&]+$")
GBT_ID_RE = re.compile(r"^\d{14}_\d{14}_\d$")


class CapError(ValueError):
    """Input that is not an acceptable CAP 1.2 message; ``problems`` lists why."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def safe_fromstring(data: bytes | str) -> ET.Element:
    """Parse XML refusing DTDs, entities and external references; size-limited."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise CapError(f"message larger than {MAX_BYTES} bytes")
    guard = xml.parsers.expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise CapError("DTDs and entities are not accepted")

    guard.StartDoctypeDeclHandler = refuse
    guard.EntityDeclHandler = refuse
    guard.UnparsedEntityDeclHandler = refuse
    guard.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    guard.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        guard.Parse(raw, True)
    except xml.parsers.expat.ExpatError as e:
        raise CapError(f"not well-formed XML: {e}") from e
    try:
        return ET.fromstring(raw)
    except ET.ParseError as e:
        raise CapError(f"not well-formed XML: {e}") from e


def _text(parent: ET.Element, tag: str) -> str | None:
    e = parent.find(_q(tag))
    return None if e is None or e.text is None else e.text.strip()


def _check_enum(problems: list[str], where: str, value: str | None, allowed: Sequence[str]) -> None:
    if value is None:
        problems.append(f"{where}: required element missing")
    elif value not in allowed:
        problems.append(f"{where}: {value!r} is not one of {', '.join(allowed)}")


def _check_time(problems: list[str], where: str, value: str | None, required: bool) -> None:
    if value is None:
        if required:
            problems.append(f"{where}: required element missing")
        return
    if not DATETIME_RE.match(value):
        problems.append(f"{where}: {value!r} must be YYYY-MM-DDThh:mm:ss±hh:mm (no 'Z')")
        return
    try:
        parse_cap_time(value)
    except ValueError:
        problems.append(f"{where}: {value!r} is not a valid date-time")


def _check_pairs(problems: list[str], where: str, text: str) -> None:
    pts = text.split()
    coords = []
    for p in pts:
        try:
            lat_s, lon_s = p.split(",")
            lat, lon = float(lat_s), float(lon_s)
        except ValueError:
            problems.append(f"{where}: point {p!r} is not 'lat,lon'")
            return
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):
            problems.append(f"{where}: point {p!r} out of range")
            return
        coords.append((lat, lon))
    if len(coords) < 4:
        problems.append(f"{where}: a polygon needs at least 4 points")
    elif coords[0] != coords[-1]:
        problems.append(f"{where}: polygon is not closed (first point ≠ last point)")


def _check_circle(problems: list[str], where: str, text: str) -> None:
    try:
        centre, radius = text.split()
        lat_s, lon_s = centre.split(",")
        lat, lon, r = float(lat_s), float(lon_s), float(radius)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180 and r >= 0 and math.isfinite(r)):
            raise ValueError
    except ValueError:
        problems.append(f"{where}: {text!r} is not 'lat,lon radius_km'")


def validate_cap(root: ET.Element) -> list[str]:
    """Problems of one CAP 1.2 ``<alert>`` element (empty list = valid)."""
    p: list[str] = []
    if root.tag != _q("alert"):
        return [f"root element must be <alert> in namespace {NS}, got {root.tag!r}"]
    for tag in ("identifier", "sender"):
        v = _text(root, tag)
        if not v:
            p.append(f"alert/{tag}: required element missing")
        elif not TOKEN_RE.match(v):
            p.append(f"alert/{tag}: must not contain spaces, commas, '<' or '&'")
    _check_time(p, "alert/sent", _text(root, "sent"), True)
    _check_enum(p, "alert/status", _text(root, "status"), STATUS)
    msg_type = _text(root, "msgType")
    _check_enum(p, "alert/msgType", msg_type, MSG_TYPE)
    scope = _text(root, "scope")
    _check_enum(p, "alert/scope", scope, SCOPE)
    if scope == "Restricted" and not _text(root, "restriction"):
        p.append("alert/restriction: required when scope is Restricted")
    if scope == "Private" and not _text(root, "addresses"):
        p.append("alert/addresses: required when scope is Private")
    if msg_type in ("Update", "Cancel", "Ack", "Error") and not _text(root, "references"):
        p.append(f"alert/references: required for msgType {msg_type}")
    for k, info in enumerate(root.findall(_q("info"))):
        w = f"info[{k}]"
        cats = [c.text for c in info.findall(_q("category"))]
        if not cats:
            p.append(f"{w}/category: required element missing")
        for c in cats:
            _check_enum(p, f"{w}/category", (c or "").strip(), CATEGORY)
        if not _text(info, "event"):
            p.append(f"{w}/event: required element missing")
        for r in info.findall(_q("responseType")):
            _check_enum(p, f"{w}/responseType", (r.text or "").strip(), RESPONSE)
        _check_enum(p, f"{w}/urgency", _text(info, "urgency"), URGENCY)
        _check_enum(p, f"{w}/severity", _text(info, "severity"), SEVERITY)
        _check_enum(p, f"{w}/certainty", _text(info, "certainty"), CERTAINTY)
        for tag in ("effective", "onset", "expires"):
            _check_time(p, f"{w}/{tag}", _text(info, tag), False)
        for j, area in enumerate(info.findall(_q("area"))):
            a = f"{w}/area[{j}]"
            if not _text(area, "areaDesc"):
                p.append(f"{a}/areaDesc: required element missing")
            for poly in area.findall(_q("polygon")):
                _check_pairs(p, f"{a}/polygon", poly.text or "")
            for circ in area.findall(_q("circle")):
                _check_circle(p, f"{a}/circle", (circ.text or "").strip())
        for j, res in enumerate(info.findall(_q("resource"))):
            for tag in ("resourceDesc", "mimeType"):
                if not _text(res, tag):
                    p.append(f"{w}/resource[{j}]/{tag}: required element missing")
    return p


def parse_cap(data: bytes | str) -> ET.Element:
    """Safe-parse and validate one CAP alert; :class:`CapError` lists every problem."""
    root = safe_fromstring(data)
    problems = validate_cap(root)
    if problems:
        raise CapError(f"invalid CAP 1.2 alert: {problems[0]}", problems)
    return root


@dataclass(frozen=True, slots=True)
class CapMessage:
    """What an incoming CAP message asks for: a new/updated alert or a cancellation."""

    msg_type: str
    identifier: str
    sender: str
    references: tuple[str, ...]  # identifiers referenced (Update / Cancel)
    draft: Alert


def _params(info: ET.Element) -> dict[str, str]:
    out = {}
    for prm in info.findall(_q("parameter")):
        name, value = _text(prm, "valueName"), _text(prm, "value")
        if name and value is not None:
            out[name] = value
    return out


def _centre(info: ET.Element) -> tuple[float, float]:
    """(lon, lat) of the first circle centre, or the mean of the first polygon."""
    area = info.find(_q("area"))
    if area is None:
        return math.nan, math.nan
    circ = _text(area, "circle")
    if circ:
        lat_s, lon_s = circ.split()[0].split(",")
        return float(lon_s), float(lat_s)
    poly = _text(area, "polygon")
    if poly:
        pts = [tuple(map(float, q.split(","))) for q in poly.split()][:-1]
        return sum(p[1] for p in pts) / len(pts), sum(p[0] for p in pts) / len(pts)
    return math.nan, math.nan


def cap_to_alert(root: ET.Element) -> CapMessage:
    """Turn a validated CAP ``<alert>`` into an alert draft (no id; the store assigns one).

    Our own exports round-trip through the ``citycc:*`` parameters; a foreign message
    (e.g. a weather service's warning) becomes a ``cap`` alert: level from severity
    (Extreme→I … Minor/Unknown→IV), titles from the zh / en ``<info>`` blocks.
    """
    infos = root.findall(_q("info"))
    by_lang = {(_text(i, "language") or "en-US").lower(): i for i in infos}
    zh = next((i for lang, i in by_lang.items() if lang.startswith("zh")), None)
    en = next((i for lang, i in by_lang.items() if lang.startswith("en")), None)
    first = zh if zh is not None else (en if en is not None else (infos[0] if infos else None))
    ident = _text(root, "identifier") or ""
    sender = _text(root, "sender") or ""
    sent = parse_cap_time(_text(root, "sent") or "")
    refs = tuple(r.split(",")[1] for r in (_text(root, "references") or "").split()
                 if r.count(",") >= 2)
    msg_type = _text(root, "msgType") or "Alert"
    if first is None:
        draft = Alert.new("", "cap", "city", f"cap:{sender}", 4, ident, ident, (), math.nan,
                          math.nan, "", sent, cap_identifier=ident)
        return CapMessage(msg_type, ident, sender, refs, draft)
    prm = _params(first)
    get = prm.get
    severity = _text(first, "severity") or "Unknown"
    level = int(get(PARAM + "level") or LEVEL_OF_SEVERITY.get(severity, 4))
    if not 1 <= level <= 4:
        raise CapError(f"{PARAM}level must be 1..4, got {level}")
    lon, lat = _centre(first)
    if get(PARAM + "lon") and get(PARAM + "lat"):
        lon, lat = float(get(PARAM + "lon") or "nan"), float(get(PARAM + "lat") or "nan")
    onset = _text(first, "onset")
    first_ts = parse_cap_time(onset) if onset else sent
    last = get(PARAM + "last_ts")
    title_zh = (_text(zh, "headline") or _text(zh, "event") or "") if zh is not None else ""
    title_en = (_text(en, "headline") or _text(en, "event") or "") if en is not None else ""
    sensors = tuple(s for s in (get(PARAM + "sensor_ids") or "").split(",") if s)
    districts = tuple(s for s in (get(PARAM + "districts") or "").split(",") if s)
    area = first.find(_q("area"))
    geocodes = [] if area is None else [
        _text(g, "value") or "" for g in area.findall(_q("geocode"))]
    district = get(PARAM + "district") or (geocodes[0] if geocodes else "")
    cleared = msg_type == "Cancel" or get(PARAM + "state") == CLEARED
    draft = Alert.new(
        "", get(PARAM + "type") or "cap", get(PARAM + "kind") or "city",
        get(PARAM + "source") or f"cap:{sender}", level, title_zh or title_en,
        title_en or title_zh, sensors, lon, lat, district, first_ts,
        districts=districts or ((district,) if district else ()),
        area=get(PARAM + "area") or "", cap_identifier=ident,
        detail_zh=(_text(zh, "description") or "") if zh is not None else "",
        detail_en=(_text(en, "description") or "") if en is not None else "",
        state=CLEARED if cleared else ACTIVE,
        extra={"cap_sender": sender, "cap_sent": sent,
               **({"alert_id": get(PARAM + "alert_id")} if get(PARAM + "alert_id") else {})},
    )
    if last:
        draft = draft.replace(last_ts=parse_cap_time(last))
    return CapMessage(msg_type, ident, sender, refs, draft)
