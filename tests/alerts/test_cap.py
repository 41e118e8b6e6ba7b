"""CAP 1.2: export validates, export → import round-trips, hostile input is refused."""

from __future__ import annotations

import re

import pytest

from alerts.cap import alert_to_cap, cap_time, feed_to_cap, identifier_for, parse_cap_time
from alerts.cap_parse import CapError, cap_to_alert, parse_cap, safe_fromstring, validate_cap
from alerts.config import load_rules
from alerts.model import CLEARED, Alert
from tests.alerts.conftest import T0

RULES = load_rules()
RING = [(26.08, 119.30), (26.09, 119.30), (26.09, 119.31), (26.08, 119.31)]


def _alert(**kw: object) -> Alert:
    a = Alert.new("ALT-00000007", "water_pressure", "city", "district:350102", 3,
                  "供水压力低于0.14 MPa · 鼓楼区3处", "Water pressure below 0.14 MPa · 3 sites",
                  ("P1", "P2", "P3"), 119.305, 26.085, "350102", T0,
                  districts=("350102",), area="district:350102",
                  cap_identifier=identifier_for("35010000000000", T0))
    return a.replace(last_ts=T0 + 120_000, **kw)


def test_identifier_and_time_follow_the_china_profile():
    ident = identifier_for("35010000000000", T0, 13)
    assert re.fullmatch(r"\d{14}_\d{14}_\d", ident) and len(ident) == 31
    assert ident.endswith("083001_3")  # attempt 13 → next second, N = 3
    s = cap_time(T0)
    assert s == "2026-06-01T08:30:00+08:00" and "Z" not in s
    assert parse_cap_time(s) == T0


def test_export_validates_and_has_bilingual_info_and_closed_polygon():
    xml = alert_to_cap(_alert(), RULES, T0 + 60_000, outline=lambda a: RING,
                       area_names=("鼓楼区", "Gulou District"))
    root = parse_cap(xml)
    assert validate_cap(root) == []
    text = xml.decode()
    assert "<sent>2026-06-01T08:31:00+08:00</sent>" in text
    assert "<language>zh-CN</language>" in text and "<language>en-US</language>" in text
    assert "<severity>Moderate</severity>" in text and "<category>Infra</category>" in text
    poly = re.search(r"<polygon>([^<]+)</polygon>", text).group(1).split()  # type: ignore[union-attr]
    assert poly[0] == poly[-1] and len(poly) == 5 and poly[0] == "26.08,119.3"


def test_round_trip_gives_the_same_alert_fields():
    a = _alert()
    back = cap_to_alert(parse_cap(alert_to_cap(a, RULES, T0, outline=lambda x: RING))).draft
    for f in ("type", "kind", "source", "level", "title_zh", "title_en", "sensor_ids",
              "district", "districts", "first_ts", "last_ts", "state", "area", "cap_identifier"):
        assert getattr(back, f) == getattr(a, f), f
    assert back.lon == pytest.approx(a.lon) and back.lat == pytest.approx(a.lat)
    assert back.extra["alert_id"] == a.id


def test_cleared_alert_exports_as_cancel_with_references():
    a = _alert(state=CLEARED)
    msg = cap_to_alert(parse_cap(alert_to_cap(a, RULES, T0)))
    assert msg.msg_type == "Cancel" and msg.references == (a.cap_identifier,)
    assert msg.draft.state == CLEARED


def test_feed_wraps_valid_alerts():
    xml = feed_to_cap([_alert(), _alert(level=1)], RULES, T0)
    root = safe_fromstring(xml)
    assert len(root) == 2 and all(validate_cap(child) == [] for child in root)


def test_foreign_weather_warning_becomes_an_alert():
    xml = """<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
      <identifier>35000041600000_20260601083000_0</identifier><sender>qx.fj.example.cn</sender>
      <sent>2026-06-01T08:30:00+08:00</sent><status>Actual</status><msgType>Alert</msgType>
      <scope>Public</scope>
      <info><language>zh-CN</language><category>Met</category><event>暴雨橙色预警</event>
        <urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>
        <area><areaDesc>鼓楼区</areaDesc><circle>26.08,119.30 5</circle>
          <geocode><valueName>GB/T 2260</valueName><value>350102</value></geocode></area></info>
      <info><language>en-US</language><category>Met</category><event>Rainstorm orange</event>
        <urgency>Expected</urgency><severity>Severe</severity><certainty>Likely</certainty>
        <area><areaDesc>Gulou</areaDesc></area></info></alert>"""
    d = cap_to_alert(parse_cap(xml)).draft
    assert (d.type, d.level) == ("cap", 2)
    assert (d.title_zh, d.title_en) == ("暴雨橙色预警", "Rainstorm orange")
    assert d.district == "350102" and d.lat == 26.08 and d.source == "cap:qx.fj.example.cn"


XXE = b"""<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>"""
LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><alert>&lol2;</alert>"""


@pytest.mark.parametrize("payload", [XXE, LAUGHS, b"<alert", b"", b"\xff\xfe<a/>",
                                     b"<!DOCTYPE alert SYSTEM 'http://x/y.dtd'><alert/>"])
def test_hostile_or_broken_xml_is_refused(payload):
    with pytest.raises(CapError):
        parse_cap(payload)


def _mutate(old: str, new: str) -> bytes:
    xml = alert_to_cap(_alert(), RULES, T0).decode()
    assert old in xml
    return xml.replace(old, new, 1).encode()


@pytest.mark.parametrize(("old", "new", "problem"), [
    ("<status>Actual</status>", "<status>Real</status>", "alert/status"),
    ("<msgType>Alert</msgType>", "", "alert/msgType: required"),
    ("<scope>Public</scope>", "<scope>Everyone</scope>", "alert/scope"),
    ("<sent>2026-06-01T08:30:00+08:00</sent>", "<sent>2026-06-01T00:30:00Z</sent>", "no 'Z'"),
    ("<severity>Moderate</severity>", "<severity>Bad</severity>", "info[0]/severity"),
    ("<category>Infra</category>", "", "info[0]/category"),
    ("<urgency>Immediate</urgency>", "<urgency>Now</urgency>", "info[0]/urgency"),
    ("<certainty>Observed</certainty>", "", "info[0]/certainty"),
    ("<event>", "<eventx>", "not well-formed"),
    ("<areaDesc>350102</areaDesc>", "", "areaDesc"),
    ("<circle>26.085,119.305 0.5</circle>", "<circle>north</circle>", "circle"),
    ("<circle>26.085,119.305 0.5</circle>",
     "<polygon>26.0,119.0 26.1,119.0 26.1,119.1</polygon>", "at least 4"),
    ("<circle>26.085,119.305 0.5</circle>",
     "<polygon>26.0,119.0 26.1,119.0 26.1,119.1 26.2,119.2</polygon>", "not closed"),
    ("<identifier>35010000000000_20260601083000_0</identifier>",
     "<identifier>has space</identifier>", "alert/identifier"),
])
def test_missing_elements_and_bad_enumerations_are_listed(old, new, problem):
    with pytest.raises(CapError) as e:
        parse_cap(_mutate(old, new))
    assert any(problem in p for p in e.value.problems), e.value.problems


def test_wrong_root_or_namespace():
    with pytest.raises(CapError, match="root element"):
        parse_cap(b"<alert><identifier>x</identifier></alert>")


@pytest.mark.parametrize("type_", ["air_rise", "forecast"])
def test_early_warnings_export_as_expected_and_likely(type_):
    a = _alert().replace(type=type_)
    text = alert_to_cap(a, RULES, T0, outline=lambda x: RING).decode()
    assert validate_cap(parse_cap(text.encode())) == []
    assert text.count("<urgency>Expected</urgency>") == 2
    assert text.count("<certainty>Likely</certainty>") == 2
    cleared = alert_to_cap(a.replace(state=CLEARED), RULES, T0, outline=lambda x: RING).decode()
    assert "<urgency>Past</urgency>" in cleared


def test_measured_conditions_export_as_immediate_and_observed():
    text = alert_to_cap(_alert(), RULES, T0, outline=lambda x: RING).decode()
    assert "<urgency>Immediate</urgency>" in text and "<certainty>Observed</certainty>" in text


@pytest.mark.parametrize("bad", [{"cap_urgency": "Soon"}, {"cap_certainty": "Sure"}])
def test_rules_refuse_cap_values_outside_the_standard(bad):
    with pytest.raises(ValueError, match="CAP 1.2"):
        load_rules(overrides={"rules": {"air_rise": bad}})
