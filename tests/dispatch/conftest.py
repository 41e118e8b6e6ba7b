"""Store fixtures: the same tests run on embedded SQLite and on the machine's PostgreSQL.

PostgreSQL (127.0.0.1:5432, trust auth, database ``test``, user ``postgres``) gets a
fresh schema per test, dropped afterwards; the PostgreSQL variants skip, saying why,
only when no server answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.db import Database
from dispatch.store import DispatchStore
from streams.clock import ManualClock

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_admin() -> object:
    import psycopg

    try:
        return psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.skip(f"no PostgreSQL answers at {PG_URL}: {e}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'dispatch.sqlite3'}"
        return
    admin = _pg_admin()
    schema = f"citycc_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')  # type: ignore[attr-defined]
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[attr-defined]
        admin.close()  # type: ignore[attr-defined]


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock(1_700_000_000_000)


@pytest.fixture()
def store(db_url: str, clock: ManualClock) -> Iterator[DispatchStore]:
    s = DispatchStore(Database(db_url), clock)
    s.ensure_units([
        ("E1", "fire_engine", "FS-01", ("fire_suppression",), 119.30, 26.08),
        ("E2", "fire_engine", "FS-01", ("fire_suppression",), 119.30, 26.08),
        ("A1", "ambulance", "EMS-01", ("ems_bls",), 119.31, 26.07),
    ])
    yield s
    s.close()


def incident_fields(**over: object) -> dict[str, object]:
    base: dict[str, object] = dict(type="fire", priority=1, level="IV", lon=119.3, lat=26.08,
                                   district="350102", caller_name="张三",
                                   caller_phone="13812345678", description="smoke",
                                   source="phone")
    return base | over
