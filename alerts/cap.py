"""CAP 1.2 out: each alert as an OASIS CAP 1.2 ``<alert>`` in the China profile.

Follows DOMAIN.md §7.1: namespace ``urn:oasis:names:tc:emergency:cap:1.2``; ``sent``
as ``YYYY-MM-DDThh:mm:ss±hh:mm`` (never "Z"); one ``<info>`` per language (zh-CN, en-US);
``<area>`` with a closed ``"lat,lon"`` polygon (district or grid-cell outline) or a circle.
The identifier follows GB/T 35965.1—2018: ``<14-digit sender code>_<YYYYMMDDhhmmss
Beijing time>_<N>`` with N 0–9 (31 characters).

Mapping: level I/II/III/IV → severity Extreme/Severe/Moderate/Minor; an active alert is
urgency ``Immediate`` (``Past`` once cleared, sent as msgType ``Cancel`` referencing the
original); certainty ``Observed`` for measured conditions. Early warnings set their own in the
rule (``cap_urgency`` / ``cap_certainty``: ``Expected`` / ``Likely`` for forecasts and the
particulate build-up).
Fields a CAP reader needs to rebuild the alert travel as ``<parameter>`` entries
(``citycc:*``), so export → import gives the same alert.

>>> identifier_for("35010000000000", 1_780_273_800_000, 0)
'35010000000000_20260601083000_0'
>>> cap_time(1_780_273_800_000)
'2026-06-01T08:30:00+08:00'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree as ET

from alerts.config import AlertRules
from alerts.model import ACTIVE, Alert

NS = "urn:oasis:names:tc:emergency:cap:1.2"
SEVERITY_OF_LEVEL = {1: "Extreme", 2: "Severe", 3: "Moderate", 4: "Minor"}
LEVEL_OF_SEVERITY = {v: k for k, v in SEVERITY_OF_LEVEL.items()}
PARAM = "citycc:"

#: area outline for an alert: closed ring of (lat, lon), or None (then a circle is used)
AreaOutline = Callable[[Alert], Sequence[tuple[float, float]] | None]


def _tz(offset_min: int) -> timezone:
    return timezone(timedelta(minutes=offset_min))


def cap_time(ts_ms: int, offset_min: int = 480) -> str:
    """Epoch ms as a CAP dateTime with an explicit ±hh:mm offset (Beijing by default)."""
    return datetime.fromtimestamp(ts_ms / 1000, _tz(offset_min)).isoformat(timespec="seconds")


def parse_cap_time(text: str) -> int:
    """CAP dateTime → epoch ms (``ValueError`` unless it has a ±hh:mm offset)."""
    t = datetime.fromisoformat(text.strip())
    if t.tzinfo is None:
        raise ValueError(f"CAP time {text!r} has no UTC offset")
    return int(round(t.astimezone(UTC).timestamp() * 1000))


def identifier_for(sender_code: str, ts_ms: int, attempt: int = 0, offset_min: int = 480) -> str:
    """GB/T 35965.1 identifier; attempt 0–9 is N, later attempts move to the next second."""
    t = datetime.fromtimestamp(ts_ms // 1000 + attempt // 10, _tz(offset_min))
    return f"{sender_code}_{t.strftime('%Y%m%d%H%M%S')}_{attempt % 10}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    e = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        e.text = text
    return e


def _fmt(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")


def polygon_text(ring: Sequence[tuple[float, float]]) -> str:
    """``"lat,lon lat,lon …"`` closed (first point repeated), as CAP requires."""
    pts = list(ring)
    if pts and pts[0] != pts[-1]:
        pts.append(pts[0])
    return " ".join(f"{_fmt(lat)},{_fmt(lon)}" for lat, lon in pts)


def alert_element(alert: Alert, rules: AlertRules, sent_ms: int,
                  outline: AreaOutline | None = None, area_names: tuple[str, str] = ("", "")
                  ) -> ET.Element:
    """The ``<alert>`` element of one alert (see the module docstring for the mapping)."""
    cap = rules.cap
    off = cap.utc_offset_min
    root = ET.Element(f"{{{NS}}}alert")
    ident = alert.cap_identifier or identifier_for(cap.sender_code, alert.first_ts, 0, off)
    _sub(root, "identifier", ident)
    _sub(root, "sender", cap.sender)
    _sub(root, "sent", cap_time(sent_ms, off))
    _sub(root, "status", "Actual")
    active = alert.state == ACTIVE
    _sub(root, "msgType", "Alert" if active else "Cancel")
    _sub(root, "scope", cap.scope)
    if not active:
        _sub(root, "references", f"{cap.sender},{ident},{cap_time(alert.first_ts, off)}")
    rule = rules.rules.get(alert.type)
    category = rule.cap_category if rule else "Other"
    params = rule.params if rule else {}
    certainty = str(params.get("cap_certainty", "Observed"))
    urgency = str(params.get("cap_urgency", "Immediate")) if active else "Past"
    ring = outline(alert) if outline is not None else None
    for lang, title, detail, area_name in (
        ("zh-CN", alert.title_zh, alert.detail_zh, area_names[0]),
        ("en-US", alert.title_en, alert.detail_en, area_names[1]),
    ):
        info = _sub(root, "info")
        _sub(info, "language", lang)
        _sub(info, "category", category)
        _sub(info, "event", title or alert.type)
        _sub(info, "urgency", urgency)
        _sub(info, "severity", SEVERITY_OF_LEVEL[alert.level])
        _sub(info, "certainty", certainty)
        _sub(info, "onset", cap_time(alert.first_ts, off))
        _sub(info, "senderName", "城市运行指挥中心" if lang == "zh-CN"
             else "City Operations Command Center")
        _sub(info, "headline", title)
        if detail:
            _sub(info, "description", detail)
        if cap.web:
            _sub(info, "web", cap.web)
        params = {
            "alert_id": alert.id, "type": alert.type, "kind": alert.kind, "level": str(alert.level),
            "source": alert.source, "sensor_ids": ",".join(alert.sensor_ids),
            "district": alert.district, "districts": ",".join(alert.districts),
            "last_ts": cap_time(alert.last_ts, off), "state": alert.state, "area": alert.area,
            "lon": _fmt(alert.lon), "lat": _fmt(alert.lat),
        }
        for k, v in params.items():
            p = _sub(info, "parameter")
            _sub(p, "valueName", PARAM + k)
            _sub(p, "value", v)
        area = _sub(info, "area")
        _sub(area, "areaDesc", area_name or alert.district or alert.source)
        if ring is not None and len(ring) >= 3:
            _sub(area, "polygon", polygon_text(ring))
        else:
            _sub(area, "circle", f"{_fmt(alert.lat)},{_fmt(alert.lon)} 0.5")
        for d in alert.districts or ((alert.district,) if alert.district else ()):
            g = _sub(area, "geocode")
            _sub(g, "valueName", "GB/T 2260")
            _sub(g, "value", d)
    return root


def to_xml(elem: ET.Element) -> bytes:
    ET.register_namespace("", NS)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(elem, encoding="utf-8")


def alert_to_cap(alert: Alert, rules: AlertRules, sent_ms: int,
                 outline: AreaOutline | None = None, area_names: tuple[str, str] = ("", "")
                 ) -> bytes:
    """One alert as a CAP 1.2 document (UTF-8 bytes)."""
    return to_xml(alert_element(alert, rules, sent_ms, outline, area_names))


def feed_to_cap(alerts: Sequence[Alert], rules: AlertRules, sent_ms: int,
                outline: AreaOutline | None = None,
                names: Callable[[Alert], tuple[str, str]] | None = None) -> bytes:
    """A feed of CAP alerts: ``<alerts>`` wrapping one CAP ``<alert>`` per alert.

    CAP 1.2 defines no feed element; this wrapper (same namespace) is what the
    ``/api/v1/alerts.cap`` endpoint serves; each child validates on its own.
    """
    root = ET.Element(f"{{{NS}}}alerts")
    for a in alerts:
        root.append(alert_element(a, rules, sent_ms, outline,
                                  names(a) if names is not None else ("", "")))
    return to_xml(root)
