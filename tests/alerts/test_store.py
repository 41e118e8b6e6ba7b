"""Store round trip on SQLite (a file) and PostgreSQL (a unique schema, dropped after)."""

from __future__ import annotations

import math
import sqlite3
import uuid
from collections.abc import Iterator

import pytest

from alerts.model import Alert
from alerts.store import AlertStore, Database, StoreError
from tests.alerts.conftest import T0


def _alert() -> Alert:
    return Alert.new("", "aqi", "city", "district:350102", 2, "空气质量重度污染 · 鼓楼区",
                     "Air quality heavily polluted · Gulou", ("A1-pm25", "A1-pm10"), 119.3,
                     26.08, "350102", T0, districts=("350102", "350103"), area="district:350102",
                     value=231.0, extra={"note": "x"})


def _round_trip(store: AlertStore) -> None:
    a = store.insert(_alert(), "system", T0, identifier=lambda al, k: f"35010000000000_X_{k}")
    got = store.get(a.id)
    assert got == a and got.districts == ("350102", "350103") and got.value == 231.0
    b = store.insert(_alert().replace(value=math.nan), "system", T0,
                     identifier=lambda al, k: f"35010000000000_X_{k}")
    assert b.cap_identifier == "35010000000000_X_1"  # the first was taken
    assert math.isnan(store.get(b.id).value)
    store.change(a.id, lambda cur: (cur.replace(acknowledged=True, acked_by="op"),
                                    "acknowledge", {}), "op", T0 + 1)
    assert store.get(a.id).acknowledged and store.get(a.id).version == 2
    assert [e.action for e in store.timeline(a.id)] == ["raise", "acknowledge"]
    assert store.find_active("district:350102", "aqi") is not None
    found = store.by_cap_identifier("35010000000000_X_0")
    assert found is not None and found.id == a.id
    assert [x.id for x in store.alerts()] == [b.id, a.id]
    with pytest.raises((StoreError, sqlite3.Error)):  # the timeline is append-only
        with store.db.transaction() as tx:
            tx.execute("DELETE FROM alert_timeline")


def test_sqlite_file_round_trip_and_reopen(tmp_path):
    url = f"sqlite://{tmp_path / 'alerts.sqlite3'}"
    store = AlertStore(Database(url))
    _round_trip(store)
    n = len(store.alerts())
    store.close()
    again = AlertStore(Database(url))
    assert len(again.alerts()) == n  # durable across processes/restarts
    again.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    base = "postgresql://postgres@127.0.0.1:5432/test"
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=2)
    except Exception as e:  # no server here: skip, do not fail
        pytest.skip(f"PostgreSQL not reachable: {e}")
    schema = f"alerts_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def test_postgresql_round_trip(pg_url):
    store = AlertStore(Database(pg_url))
    try:
        _round_trip(store)
    finally:
        store.close()
