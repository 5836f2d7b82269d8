"""Pooled PostgreSQL connections the server closed are replaced on checkout.

The pool does not ping on checkout (docs/decisions.md, Storage): a connection
whose backend went away while it sat in the pool (a restart, an administrator's
``pg_terminate_backend``, ``idle_session_timeout``) is noticed from its socket
and replaced before a request uses it, so no request fails for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.conftest import DatabaseFactory
from voucherd.store.db import Database

pytestmark = pytest.mark.postgres

POOLED = 4


@pytest.fixture
def pg(databases: DatabaseFactory) -> Iterator[Database]:
    db = databases.migrated("postgresql")
    yield db
    db.dispose()


def _fill_pool(db: Database) -> set[int]:
    """Check out POOLED connections at once, so the pool holds that many; their pids."""
    barrier = threading.Barrier(POOLED)
    pids: set[int] = set()

    def hold() -> None:
        with db.single() as conn:
            pids.add(int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one()))
            barrier.wait(timeout=30)

    threads = [threading.Thread(target=hold) for _ in range(POOLED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return pids


def _terminate(db: Database, pids: set[int]) -> None:
    """End the backends behind ``pids`` and wait until the server has let them go."""
    with Database(db.url, pool=False).single() as admin:
        admin.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(:p) AS pid"), {"p": list(pids)}
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            left = admin.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"), {"p": list(pids)}
            ).scalar_one()
            if left == 0:
                return
            time.sleep(0.05)
    pytest.fail("terminated backends did not exit")


def test_connections_terminated_while_pooled_are_replaced(pg: Database) -> None:
    first = _fill_pool(pg)
    assert len(first) == POOLED
    _terminate(pg, first)
    # Every pooled connection is dead: each checkout must notice and reconnect.
    for _ in range(POOLED + 1):
        with pg.single() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() not in first
        with pg.write() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        with pg.read() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_a_live_pooled_connection_is_reused(pg: Database) -> None:
    with pg.single() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with pg.write() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
