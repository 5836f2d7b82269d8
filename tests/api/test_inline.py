"""SQLite store calls on the event loop take the writer gate without blocking the loop.

voucherd.api.inline runs redeem, validate and rollback on the event loop when the
store is SQLite. These tests hold the gate from another thread, as a writer of
another process or a thread-pool route would, and check that a write waits for it
while the loop goes on serving, that a cancelled wait leaves the gate free, and
that ``gate_held`` lets the store's own ``db.write()`` run under a gate the caller
already took.
"""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest
from sqlalchemy import text

from voucherd.api import inline
from voucherd.store.db import Database, WriterGate


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'inline.db'}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    return db


def _rows(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(text("SELECT body FROM t ORDER BY id")).scalars())


def _gate(db: Database) -> WriterGate:
    gate = db.writer_gate
    assert gate is not None
    return gate


class Holder:
    """Holds the gate on its own thread until released."""

    def __init__(self, gate: WriterGate) -> None:
        self.taken = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(gate,))

    def _hold(self, gate: WriterGate) -> None:
        with gate:
            self.taken.set()
            self.release.wait()

    def __enter__(self) -> Holder:
        self.thread.start()
        assert self.taken.wait(10)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.thread.join(10)


def test_a_free_gate_is_taken_without_waiting_and_a_busy_one_is_reported(
    tmp_path: Path,
) -> None:
    gate = _gate(_database(tmp_path))
    with Holder(gate):
        assert gate.enter(owner=None, wait=False) is False
    assert gate.enter(owner=None, wait=False) is True
    gate.__exit__()


def test_a_write_waits_for_the_gate_while_the_loop_goes_on(tmp_path: Path) -> None:
    db = _database(tmp_path)

    def insert() -> str:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES ('inline')"))
        return "done"

    async def main() -> None:
        with Holder(_gate(db)) as holder:
            async with anyio.create_task_group() as tg:
                results: list[str] = []

                async def write() -> None:
                    results.append(await inline.write(db, insert))

                tg.start_soon(write)
                # The loop keeps running other work while the write waits for the gate.
                for _ in range(20):
                    await anyio.sleep(0)
                assert results == []
                assert _rows(db) == []
                holder.release.set()
        assert results == ["done"]

    anyio.run(main)
    assert _rows(db) == ["inline"]
    # Released after the call: another writer gets it at once.
    assert _gate(db).enter(owner=None, wait=False)
    _gate(db).__exit__()


def test_a_cancelled_wait_runs_nothing_and_leaves_the_gate_free(tmp_path: Path) -> None:
    db = _database(tmp_path)
    called: list[bool] = []

    def insert() -> None:
        called.append(True)

    async def main() -> None:
        with Holder(_gate(db)) as holder:
            async with anyio.create_task_group() as tg:
                tg.start_soon(inline.write, db, insert)
                for _ in range(20):
                    await anyio.sleep(0)
                tg.cancel_scope.cancel()
                # The waiting thread finishes taking the gate once it is free; the
                # cancelled task must then give it back.
                holder.release.set()

    anyio.run(main)
    assert called == []
    assert _gate(db).enter(owner=None, wait=False)
    _gate(db).__exit__()


def test_gate_held_lets_the_stores_write_run_under_the_callers_gate(tmp_path: Path) -> None:
    db = _database(tmp_path)
    gate = _gate(db)
    assert gate.enter(owner=None, wait=False)
    try:
        with db.gate_held(), db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES ('held')"))
    finally:
        gate.__exit__()
    assert _rows(db) == ["held"]


def test_postgresql_store_calls_stay_off_the_loop(db: Database) -> None:
    """On PostgreSQL every call runs on a worker thread (each statement waits for the network)."""
    if db.is_sqlite:
        pytest.skip("the PostgreSQL side of inline.on_loop")
    loop_thread: list[int] = []
    call_thread: list[int] = []

    def call() -> int:
        call_thread.append(threading.get_ident())
        return 1

    async def main() -> None:
        loop_thread.append(threading.get_ident())
        assert await inline.read(db, call) == 1
        assert await inline.write(db, call) == 1

    anyio.run(main)
    assert inline.on_loop(db) is False
    assert len(call_thread) == 2
    assert loop_thread[0] not in call_thread
