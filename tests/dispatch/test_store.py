"""Durable store: lifecycle, one-wins assignment, append-only audit (SQLite + PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from dispatch.db import Database, StoreError
from dispatch.errors import Conflict, InvalidTransition, NotFound
from dispatch.store import DispatchStore
from streams.clock import ManualClock
from tests.dispatch.conftest import incident_fields


def test_incident_ids_are_sequential_and_creation_is_audited(store: DispatchStore) -> None:
    a = store.create_incident(incident_fields(), "op")
    b = store.create_incident(incident_fields(type="medical"), "op")
    assert (a.id, b.id) == ("INC-000001", "INC-000002")
    entry = store.audit(incident_id=a.id)[0]
    assert (entry.actor, entry.action, entry.before) == ("op", "incident.create", None)
    assert entry.after is not None and entry.after["caller_phone"] == "13812345678"


def test_full_lifecycle_timestamps_every_transition(store: DispatchStore,
                                                    clock: ManualClock) -> None:
    inc = store.create_incident(incident_fields(), "op")
    store.assign(inc.id, "E1", "cmd", eta_s=200.0)
    assert store.incident(inc.id).state == "dispatched"
    for status in ("en_route", "on_scene"):
        clock.advance(60_000)
        store.set_unit_status("E1", status, "cmd")
    assert store.incident(inc.id).state == "on_scene"
    clock.advance(60_000)
    closed, released = store.close_incident(inc.id, "closed", "cmd")
    assert closed.state == "closed" and released == ["E1"]
    clock.advance(60_000)
    store.set_unit_status("E1", "available", "system:avl")
    a = store.assignments(inc.id)[0]
    t0 = a.assigned_ms
    assert (a.en_route_ms, a.on_scene_ms, a.released_ms, a.completed_ms) == (
        t0 + 60_000, t0 + 120_000, t0 + 180_000, t0 + 240_000)
    assert a.state == "completed"
    actions = [e.action for e in store.audit(incident_id=inc.id)]
    assert actions == ["incident.create", "unit.assign", "incident.dispatched", "unit.en_route",
                       "unit.on_scene", "incident.on_scene", "incident.closed", "unit.returning"]
    u = store.unit("E1")
    assert (u.status, u.incident_id) == ("available", None)


def test_forbidden_transitions_raise(store: DispatchStore) -> None:
    with pytest.raises(InvalidTransition):
        store.set_unit_status("E1", "on_scene", "cmd")  # available → on_scene
    inc = store.create_incident(incident_fields(), "op")
    store.close_incident(inc.id, "cancelled", "cmd")
    with pytest.raises(Conflict):
        store.assign(inc.id, "E1", "cmd", 1.0)
    with pytest.raises(NotFound):
        store.assign("INC-999999", "E1", "cmd", 1.0)


def test_two_commanders_racing_for_one_unit_exactly_one_wins(store: DispatchStore) -> None:
    incs = [store.create_incident(incident_fields(), "op").id for _ in range(2)]
    n = 8
    barrier = threading.Barrier(n)
    wins: list[str] = []
    conflicts: list[str] = []

    def commander(i: int) -> None:
        barrier.wait()
        try:
            a = store.assign(incs[i % 2], "A1", f"cmd{i}", eta_s=100.0)
            wins.append(a.incident_id)
        except Conflict as e:
            conflicts.append(str(e))

    threads = [threading.Thread(target=commander, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(wins) == 1 and len(conflicts) == n - 1
    assert all("not available" in c for c in conflicts)
    assert store.unit("A1").incident_id == wins[0]
    assigns = [e for e in store.audit() if e.action == "unit.assign"]
    assert len(assigns) == 1 and len(store.assignments()) == 1


def test_audit_log_refuses_update_and_delete(store: DispatchStore) -> None:
    store.create_incident(incident_fields(), "op")
    for sql in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
        with pytest.raises((StoreError, Exception)) as info, store.db.transaction() as tx:
            tx.execute(sql)
        assert "append-only" in str(info.value)
    assert store.audit()[0].actor == "op"


def test_committed_data_survives_reopening(db_url: str, clock: ManualClock) -> None:
    s = DispatchStore(Database(db_url), clock)
    s.ensure_units([("A1", "ambulance", "EMS-01", ("ems_bls",), 119.3, 26.0)])
    inc = s.create_incident(incident_fields(), "op")
    s.assign(inc.id, "A1", "cmd", 90.0)
    s.close()
    again = DispatchStore(Database(db_url), clock)
    assert again.unit("A1").status == "dispatched"
    assert [e.action for e in again.audit(incident_id=inc.id)][-2:] == [
        "unit.assign", "incident.dispatched"]
    again.close()


def test_units_no_longer_in_the_fleet_are_retired_with_an_audit_entry(
        db_url: str, clock: ManualClock) -> None:
    s = DispatchStore(Database(db_url), clock)
    s.ensure_units([("A1", "ambulance", "EMS-01", ("ems_bls",), 119.3, 26.0),
                    ("A2", "ambulance", "EMS-01", ("ems_bls",), 119.3, 26.0),
                    ("A3", "ambulance", "EMS-02", ("ems_bls",), 119.4, 26.1)])
    inc = s.create_incident(incident_fields(), "op")
    s.assign(inc.id, "A3", "cmd", 90.0)
    # a new fleet: A1 stays, A2 is gone, A3 is gone but committed to an incident
    s.ensure_units([("A1", "ambulance", "EMS-01", ("ems_bls",), 119.3, 26.0),
                    ("B1", "fire_engine", "FS-01", ("fire",), 119.3, 26.0)])
    assert [u.unit_id for u in s.units()] == ["A1", "A3", "B1"]
    retired = [e for e in s.audit() if e.action == "unit.retired"]
    assert [e.entity_id for e in retired] == ["A2"]
    s.close()
