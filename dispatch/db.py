"""A small DB-API adapter: the same SQL on embedded SQLite and on PostgreSQL.

SQL is written once with ``?`` placeholders and portable types; the adapter turns
``?`` into ``%s`` for psycopg and wraps every unit of work in one transaction
that is committed before the caller answers anyone (durability of acknowledged
actions). SQLite runs in WAL mode with ``synchronous=FULL`` and takes the write
lock at ``BEGIN IMMEDIATE`` so concurrent writers queue instead of failing late.

URLs: ``sqlite:///abs/path.sqlite3`` (``sqlite://`` + path; ``sqlite://:memory:``) and
``postgresql://user@host:port/db[?options=-csearch_path%3Dschema]``.

>>> db = Database("sqlite://:memory:")
>>> with db.transaction() as tx:
...     _ = tx.execute("CREATE TABLE t (x BIGINT)")
...     _ = tx.execute("INSERT INTO t VALUES (?)", (1,))
>>> db.query("SELECT x FROM t")
[(1,)]
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class StoreError(Exception):
    """The database failed (connection lost, disk full, constraint broken)."""


class Transaction:
    """Executes statements inside one open transaction."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cur = cursor
        self._dialect = dialect

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cur.execute(sql, tuple(params))
        return self._cur

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.execute(sql, params).fetchall()]


class Database:
    """One connection per thread; :meth:`transaction` is the only way to write."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
        else:
            self.dialect = "sqlite"
            self._path = url.removeprefix("sqlite://")
        self._local = threading.local()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._shared_memory: sqlite3.Connection | None = None

    # ------------------------------------------------------------ connections
    def _connect(self) -> Any:
        conn: Any
        if self.dialect == "postgresql":
            try:
                import psycopg

                conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
            except Exception as e:  # boundary: any driver error becomes StoreError
                raise StoreError(f"cannot connect to PostgreSQL: {e}") from e
            return conn
        if self._path == ":memory:":
            # one shared connection so every thread sees the same in-memory database
            if self._shared_memory is None:
                self._shared_memory = sqlite3.connect(":memory:", check_same_thread=False,
                                                      isolation_level=None)
            return self._shared_memory
        conn = sqlite3.connect(self._path, timeout=30.0, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """Begin, yield, commit (or roll back on any exception and re-raise).

        ``write=False`` starts a deferred SQLite transaction (readers never wait for
        the write lock in WAL mode).
        """
        conn = self._conn()
        if self.dialect == "postgresql":
            with self._pg_errors(), conn.transaction(), conn.cursor() as cur:
                yield Transaction(cur, self.dialect)
            return
        lock = self._lock if conn is self._shared_memory else None
        if lock:
            lock.acquire()
        try:
            cur = conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as e:
                raise StoreError(str(e)) from e
            try:
                yield Transaction(cur, self.dialect)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                raise StoreError(str(e)) from e
        finally:
            if lock:
                lock.release()

    @contextmanager
    def _pg_errors(self) -> Iterator[None]:
        import psycopg

        try:
            yield
        except psycopg.Error as e:
            raise StoreError(str(e)) from e

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A read in its own short transaction."""
        with self.transaction(write=False) as tx:
            return tx.all(sql, params)

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for c in conns:
            c.close()
        self._local = threading.local()
        self._shared_memory = None
