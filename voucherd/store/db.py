"""Database engines, connection set-up and transactions for SQLite and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every write
transaction starts with ``BEGIN IMMEDIATE`` so that two writers queue on the
database lock up front instead of deadlocking when a reader upgrades to a writer
(the failure ``BEGIN DEFERRED`` gives under concurrent redeems). PostgreSQL runs
at READ COMMITTED; counters move by guarded updates and multi-row decisions lock
rows explicitly (see the store modules).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from voucherd.store import types


class Database:
    """One process's handle on the store: an engine plus transaction helpers."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        sqlite_busy_timeout_ms: int = 30_000,
        pool: bool = True,
    ) -> None:
        self.url = url
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {
            "json_serializer": types.dumps,
            "json_deserializer": types.loads,
        }
        if not pool:
            kwargs["poolclass"] = NullPool
        elif self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2)
        if self.dialect == "sqlite":
            # The pool shares connections across the server's worker threads.
            kwargs["connect_args"] = {"check_same_thread": False}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, sqlite_busy_timeout_ms)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite store."""
        return self.dialect == "sqlite"

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction, committed on success and rolled back on error."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(voucherd_write=True)
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both databases)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so we can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against application crashes in WAL mode; only an OS
        # crash or power loss may lose the last transactions.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("voucherd_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def serialise(conn: Connection, *name: str) -> None:
    """Hold a lock called ``name`` until the transaction ends (PostgreSQL advisory lock).

    For decisions that have no row to lock yet — a new order's ``source_id``, an
    ``Idempotency-Key`` — so that two transactions about the same name run one after
    the other and the second sees what the first committed. SQLite needs nothing:
    its write transactions already run one at a time (``BEGIN IMMEDIATE``).
    """
    if conn.dialect.name != "postgresql":
        return
    digest = hashlib.sha256("\x1f".join(name).encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
