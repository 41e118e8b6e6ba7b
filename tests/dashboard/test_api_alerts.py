"""Alert REST API: roles (dispatch's auth), actions, CAP out/in, hostile CAP → 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from alerts.cap_parse import parse_cap, safe_fromstring, validate_cap
from alerts.model import Alert
from dashboard.api.alerts import alerts_runtime
from dashboard.context import AppContext
from tests.dashboard.dispatch_app import ROLES, dispatch_app, login

T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    with dispatch_app(tmp_path_factory.mktemp("alerts_api")) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def clients(app: AppContext) -> dict[str, tuple[Any, dict[str, str]]]:
    out = {}
    for role in ROLES:
        c = app.server.test_client()
        out[role] = (c, login(c, role))
    return out


def _raise(app: AppContext, source: str = "WN-0001", level: int = 3) -> Alert:
    d = app.city.districts[0].adcode
    draft = Alert.new("", "water_pressure", "city", source, level, "低压 <script>x</script>",
                      "Low pressure", ("WTR-0001-pressure",), 119.30, 26.08, d, T0,
                      districts=(d,), area=f"district:{d}")
    return alerts_runtime(app).service.raise_alert(draft)


def test_login_required(app: AppContext):
    c = app.server.test_client()
    assert c.get("/api/v1/alerts").status_code == 401
    assert c.get("/api/v1/alerts.cap").status_code == 401
    assert c.post("/api/v1/alerts/cap", data=b"<alert/>").status_code == 401


def test_leader_reads_but_cannot_act(app: AppContext, clients):
    a = _raise(app, "WN-0101")
    c, h = clients["leader"]
    assert c.get("/api/v1/alerts").status_code == 200
    assert c.get(f"/api/v1/alerts/{a.id}").status_code == 200
    assert c.post(f"/api/v1/alerts/{a.id}/acknowledge", headers=h).status_code == 403


def test_csrf_token_is_required_for_actions(app: AppContext, clients):
    a = _raise(app, "WN-0102")
    c, _ = clients["operator"]
    assert c.post(f"/api/v1/alerts/{a.id}/acknowledge").status_code == 403


@pytest.mark.parametrize("role", ["operator", "commander", "admin"])
def test_acting_roles_acknowledge(app: AppContext, clients, role):
    a = _raise(app, f"WN-02{ROLES.index(role)}")
    c, h = clients[role]
    r = c.post(f"/api/v1/alerts/{a.id}/acknowledge", headers=h)
    assert r.status_code == 200 and r.json["acknowledged"] and r.json["acked_by"] == role


def test_assign_comment_clear_and_timeline(app: AppContext, clients):
    a = _raise(app, "WN-0301")
    c, h = clients["operator"]
    assert c.post(f"/api/v1/alerts/{a.id}/assign", json={"assignee": "李工"},
                  headers=h).json["assignee"] == "李工"
    assert c.post(f"/api/v1/alerts/{a.id}/comment", json={"text": "<b>on site</b>"},
                  headers=h).status_code == 201
    assert c.post(f"/api/v1/alerts/{a.id}/clear", json={"reason": "fixed"},
                  headers=h).json["state"] == "cleared"
    got = c.get(f"/api/v1/alerts/{a.id}").json
    assert [e["action"] for e in got["timeline"]] == ["raise", "assign", "comment", "clear"]
    assert got["timeline"][2]["detail"]["text"] == "<b>on site</b>"  # stored as text
    listed = c.get("/api/v1/alerts?state=cleared").json["alerts"]
    assert a.id in {x["id"] for x in listed}


def test_bad_requests(app: AppContext, clients):
    a = _raise(app, "WN-0401")
    c, h = clients["operator"]
    assert c.get("/api/v1/alerts/ALT-none").status_code == 404
    assert c.post("/api/v1/alerts/ALT-none/acknowledge", headers=h).status_code == 404
    assert c.post(f"/api/v1/alerts/{a.id}/assign", json={"assignee": ""},
                  headers=h).status_code == 400
    assert c.post(f"/api/v1/alerts/{a.id}/comment", json=["x"], headers=h).status_code == 400
    assert c.get("/api/v1/alerts?state=bogus").status_code == 400
    assert c.get("/api/v1/alerts?limit=x").status_code == 400


def test_create_incident_from_alert_in_one_action(app: AppContext, clients):
    a = _raise(app, "WN-0501", level=2)
    c, h = clients["operator"]
    r = c.post(f"/api/v1/alerts/{a.id}/incident", json={}, headers=h)
    assert r.status_code == 201, r.json
    inc = r.json["incident_id"]
    assert r.json["alert"]["incident_id"] == inc
    got = c.get(f"/api/v1/incidents/{inc}").json
    assert got["source"] == "alert" and got["level"] == "II" and a.id in got["description"]
    again = c.post(f"/api/v1/alerts/{a.id}/incident", json={}, headers=h)
    assert again.json["incident_id"] == inc  # once only


def test_cap_export_of_one_alert_and_the_feed(app: AppContext, clients):
    a = _raise(app, "WN-0601")
    c, _ = clients["leader"]
    r = c.get(f"/api/v1/alerts/{a.id}.cap")
    assert r.status_code == 200 and r.mimetype == "application/cap+xml"
    root = parse_cap(r.data)
    assert validate_cap(root) == []
    assert b"<polygon>" in r.data and b"&lt;script&gt;" in r.data  # escaped, not markup
    feed = c.get("/api/v1/alerts.cap")
    children = list(safe_fromstring(feed.data))
    assert children and all(validate_cap(ch) == [] for ch in children)
    assert c.get("/api/v1/alerts/ALT-none.cap").status_code == 404


def test_cap_import_update_and_cancel(app: AppContext, clients):
    a = _raise(app, "WN-0701")
    viewer, _ = clients["leader"]
    xml = viewer.get(f"/api/v1/alerts/{a.id}.cap").data
    c, h = clients["operator"]
    # a foreign sender's copy of our alert: new identifier, same fields
    foreign = xml.replace(a.cap_identifier.encode(), b"35000041600000_20260601083000_1")
    r = c.post("/api/v1/alerts/cap", data=foreign, headers=h,
               content_type="application/cap+xml")
    assert r.status_code == 201, r.json
    [imp] = r.json["alerts"]
    assert imp["type"] == "water_pressure" and imp["level"] == a.level
    assert imp["sensor_ids"] == list(a.sensor_ids)
    # posting the same message twice does not duplicate it
    again = c.post("/api/v1/alerts/cap", data=foreign, headers=h)
    assert again.json["alerts"][0]["id"] == imp["id"]
    cancel = foreign.replace(b"<msgType>Alert</msgType>", b"<msgType>Cancel</msgType>"
                             b"<references>x,35000041600000_20260601083000_1,"
                             b"2026-06-01T08:30:00+08:00</references>").replace(
        b"_20260601083000_1</identifier>", b"_20260601083500_0</identifier>")
    r = c.post("/api/v1/alerts/cap", data=cancel, headers=h)
    assert r.status_code == 200 and r.json["alerts"][0]["state"] == "cleared"


@pytest.mark.parametrize("payload", [
    b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><identifier>x</identifier></alert>",
    b"not xml at all",
    b"",
])
def test_hostile_or_malformed_cap_is_a_400(clients, payload):
    c, h = clients["operator"]
    r = c.post("/api/v1/alerts/cap", data=payload, headers=h)
    assert r.status_code == 400 and r.json["problems"]


def test_oversized_cap_is_a_413(clients):
    c, h = clients["operator"]
    r = c.post("/api/v1/alerts/cap", data=b"<a>" + b"x" * 600_000 + b"</a>", headers=h)
    assert r.status_code == 413


def test_active_alerts_are_state_documents_for_the_wall(app: AppContext):
    a = _raise(app, "WN-0801")
    doc = app.state.get_json(f"alert:{a.id}")
    assert doc is not None
    for f in ("id", "level", "state", "title_zh", "title_en", "source", "sensor_ids", "lon",
              "lat", "district", "first_ts", "last_ts", "acknowledged"):
        assert f in doc
