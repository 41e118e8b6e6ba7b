"""Lifecycle transitions, escalation on a manual clock, incident link, state documents."""

from __future__ import annotations

import pytest

from alerts.lifecycle import AlertService
from alerts.model import ACTIVE, CLEARED, Alert
from alerts.store import AlertConflict, AlertNotFound
from streams.clock import ManualClock
from tests.alerts.conftest import T0

MIN = 60_000


def _draft(source: str = "WN-1", level: int = 4, kind: str = "city") -> Alert:
    return Alert.new("", "water_pressure", kind, source, level, "低压", "Low pressure", ("P1",),
                     119.3, 26.08, "350102", T0)


def test_states_active_cleared_times_acknowledged(service: AlertService, state):
    a = service.raise_alert(_draft())
    assert a.status == "active_unack" and state.get_json(f"alert:{a.id}")["level"] == 4
    a = service.acknowledge(a.id, "op1")
    assert a.status == "active_ack" and a.acked_by == "op1" and a.acked_ts == T0
    assert state.get_json(f"alert:{a.id}")["acknowledged"] is True
    a = service.auto_clear(a.id, T0 + MIN)
    assert a.status == "cleared_ack" and state.get_json(f"alert:{a.id}") is None
    b = service.raise_alert(_draft("WN-2"))
    b = service.clear(b.id, "op2", "burst repaired")
    assert b.status == "cleared_unack"
    assert b.id in {x.id for x in service.store.alerts(open_only=True)}
    b = service.acknowledge(b.id, "op2")
    assert b.id not in {x.id for x in service.store.alerts(open_only=True)}


def test_timeline_records_who_and_when(service: AlertService, clock: ManualClock):
    a = service.raise_alert(_draft())
    clock.advance(MIN)
    service.assign(a.id, "Zhang San", "op1")
    clock.advance(MIN)
    service.comment(a.id, "crew on the way <b>now</b>", "op1")
    service.acknowledge(a.id, "op2")
    service.acknowledge(a.id, "op3")  # second ack: no change, no entry
    tl = service.store.timeline(a.id)
    assert [(e.action, e.actor) for e in tl] == [
        ("raise", "system"), ("assign", "op1"), ("comment", "op1"), ("acknowledge", "op2")]
    assert tl[1].ts == T0 + MIN and tl[2].detail["text"] == "crew on the way <b>now</b>"
    assert service.get(a.id).assignee == "Zhang San"


def test_closed_alert_cannot_be_assigned(service: AlertService):
    a = service.raise_alert(_draft())
    service.clear(a.id, "op")
    service.acknowledge(a.id, "op")
    with pytest.raises(AlertConflict):
        service.assign(a.id, "someone", "op")
    service.comment(a.id, "post-mortem note", "op")  # comments stay possible


def test_bad_inputs(service: AlertService):
    a = service.raise_alert(_draft())
    with pytest.raises(ValueError):
        service.comment(a.id, "   ", "op")
    with pytest.raises(ValueError):
        service.assign(a.id, "x" * 65, "op")
    with pytest.raises(AlertNotFound):
        service.acknowledge("ALT-nope", "op")


def test_duplicate_raise_updates_the_active_alert(service: AlertService):
    a = service.raise_alert(_draft())
    b = service.raise_alert(_draft().replace(sensor_ids=("P9",), level=3))
    assert b.id == a.id and b.level == 3 and set(b.sensor_ids) == {"P1", "P9"}
    assert len(service.store.alerts()) == 1


def test_escalation_when_unacknowledged(service: AlertService, clock: ManualClock):
    a = service.raise_alert(_draft(level=4))
    clock.set(T0 + 9 * MIN)
    assert service.escalate_due() == []
    clock.set(T0 + 10 * MIN)
    [b] = service.escalate_due()
    assert b.level == 3 and b.escalations == 1
    clock.set(T0 + 15 * MIN)
    assert service.escalate_due() == []  # the next step counts from the last escalation
    clock.set(T0 + 20 * MIN)
    assert service.escalate_due()[0].level == 2
    clock.set(T0 + 40 * MIN)
    assert service.escalate_due() == []  # max_level II: never to I by time alone
    actions = [e.action for e in service.store.timeline(a.id)]
    assert actions.count("escalate") == 2


def test_acknowledged_or_sensor_alerts_do_not_escalate(service: AlertService, clock: ManualClock):
    a = service.raise_alert(_draft())
    service.acknowledge(a.id, "op")
    service.raise_alert(_draft("S1", kind="sensor"))
    clock.set(T0 + 60 * MIN)
    assert service.escalate_due() == []


def test_engine_level_never_undoes_an_escalation(service: AlertService, clock: ManualClock):
    a = service.raise_alert(_draft(level=4))
    clock.set(T0 + 10 * MIN)
    service.escalate_due()
    b = service.engine_update(a.id, T0 + 11 * MIN, level=4)
    assert b.level == 3


def test_engine_cannot_touch_operator_fields(service: AlertService):
    a = service.raise_alert(_draft())
    with pytest.raises(ValueError):
        service.engine_update(a.id, T0, acknowledged=True)


def test_create_incident_once_and_link(service: AlertService):
    calls = []

    def create(body, actor):  # type: ignore[no-untyped-def]
        calls.append((body, actor))
        return f"INC-{len(calls):06d}"

    service.incidents = create
    a = service.raise_alert(_draft(level=3))
    b, inc = service.create_incident(a.id, "commander")
    assert inc == "INC-000001" and b.incident_id == inc
    body, actor = calls[0]
    assert body["type"] == "rescue" and body["level"] == "III" and body["source"] == "alert"
    assert actor == "commander" and a.id in body["description"]
    _, again = service.create_incident(a.id, "commander")
    assert again == inc and len(calls) == 1
    assert service.store.timeline(a.id)[-1].action == "incident"


def test_create_incident_without_dispatch_is_a_conflict(service: AlertService):
    a = service.raise_alert(_draft())
    with pytest.raises(AlertConflict):
        service.create_incident(a.id, "op")


def test_state_constants():
    assert (ACTIVE, CLEARED) == ("active", "cleared")


def test_json_views_never_carry_nan():
    a = Alert.new("A", "cap", "city", "cap:x", 4, "t", "t", (), float("nan"), float("nan"), "",
                  T0)
    assert a.as_json()["lon"] is None and a.as_json()["value"] is None
    assert a.as_state_doc()["lat"] is None
