"""Where checkout store calls run, and how they take SQLite's writer gate on the loop.

voucherd.api.inline runs redeem, validate and rollback on the event loop when the
database is on this machine (SQLite, or PostgreSQL over loopback). These tests check
that placement, and hold SQLite's gate from another thread, as a writer of another
process or a thread-pool route would, to check that a write waits for it while the
loop goes on serving, that a cancelled wait leaves the gate free, and that
``gate_held`` lets the store's own ``db.write()`` run under a gate the caller
already took.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from voucherd.api import inline
from voucherd.store.db import Database, WriterGate
from voucherd.store.projects import ProjectKeys


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
    # The loop closed with the drain still waiting: its thread gives the gate back
    # once it has it.
    deadline = time.monotonic() + 10  # a bound on waiting, not a timing assertion
    while not _gate(db).enter(owner=None, wait=False):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    _gate(db).__exit__()


def _commits(db: Database) -> list[int]:
    """Counts the engine's COMMITs from now on (one list entry each)."""
    seen: list[int] = []
    event.listen(db.engine, "commit", lambda _conn: seen.append(1))
    return seen


def _run_queued(db: Database, calls: list[Callable[[], object]]) -> list[object]:
    """Queue every call while another writer holds the gate, then let it go.

    Returns each call's result, or the exception it raised, in order.
    """
    outcomes: list[object] = [None] * len(calls)

    async def main() -> None:
        with Holder(_gate(db)) as holder:
            async with anyio.create_task_group() as tg:

                async def write(index: int) -> None:
                    try:
                        outcomes[index] = await inline.write(db, calls[index])
                    except Exception as error:  # the call's own exception, handed back
                        outcomes[index] = error

                for index in range(len(calls)):
                    tg.start_soon(write, index)
                for _ in range(20):
                    await anyio.sleep(0)
                holder.release.set()

    anyio.run(main)
    return outcomes


def _insert(db: Database, body: str) -> Callable[[], str]:
    def call() -> str:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": body})
        return body

    return call


def test_calls_queued_behind_the_gate_commit_together(tmp_path: Path) -> None:
    db = _database(tmp_path)
    commits = _commits(db)
    outcomes = _run_queued(db, [_insert(db, f"row-{n}") for n in range(5)])
    assert len(commits) == 1
    assert outcomes == [f"row-{n}" for n in range(5)]
    assert _rows(db) == [f"row-{n}" for n in range(5)]


def test_one_turn_runs_at_most_max_together_calls(tmp_path: Path) -> None:
    db = _database(tmp_path)
    commits = _commits(db)
    count = inline.MAX_TOGETHER + 2
    outcomes = _run_queued(db, [_insert(db, f"row-{n}") for n in range(count)])
    assert outcomes == [f"row-{n}" for n in range(count)]
    assert len(commits) == 2


def test_a_call_sees_what_the_calls_before_it_in_its_turn_wrote(tmp_path: Path) -> None:
    db = _database(tmp_path)

    def count() -> int:
        with db.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())

    outcomes = _run_queued(db, [_insert(db, "a"), count, _insert(db, "b"), count])
    assert outcomes == ["a", 1, "b", 2]


def test_a_failing_call_is_answered_alone_and_the_calls_around_it_together(
    tmp_path: Path,
) -> None:
    db = _database(tmp_path)

    def fail() -> None:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES ('failed')"))
            raise LookupError("not found")

    commits = _commits(db)
    calls = [_insert(db, "a"), _insert(db, "b"), fail, _insert(db, "c"), _insert(db, "d")]
    outcomes = _run_queued(db, calls)
    # a and b again together, the failed call alone (rolled back), then c and d.
    assert len(commits) == 2
    assert outcomes[:2] == ["a", "b"]
    assert isinstance(outcomes[2], LookupError)
    assert outcomes[3:] == ["c", "d"]
    assert _rows(db) == ["a", "b", "c", "d"]  # the failed call's insert rolled back, no doubles


def test_a_batch_whose_commit_fails_answers_each_call_alone(tmp_path: Path) -> None:
    """A deferred foreign key fails at COMMIT: only the call that broke it fails."""
    db = _database(tmp_path)
    with db.write() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(
            text(
                "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id)"
                " DEFERRABLE INITIALLY DEFERRED)"
            )
        )

    def orphan() -> str:
        with db.write() as conn:
            conn.execute(text("INSERT INTO child (parent_id) VALUES (42)"))
        return "orphan"

    outcomes = _run_queued(db, [_insert(db, "a"), orphan, _insert(db, "b")])
    assert outcomes[0] == "a"
    assert isinstance(outcomes[1], IntegrityError)
    assert outcomes[2] == "b"
    assert _rows(db) == ["a", "b"]
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM child")).scalar_one() == 0


def test_a_call_that_catches_its_own_failed_write_still_loses_that_write(tmp_path: Path) -> None:
    """Alone, the caught block's transaction rolls back; joined, the batch must too."""
    db = _database(tmp_path)

    def recover() -> str:
        try:
            with db.write() as conn:
                conn.execute(text("INSERT INTO t (body) VALUES ('undone')"))
                raise LookupError("retry without it")
        except LookupError:
            pass
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES ('recovered')"))
        return "ok"

    outcomes = _run_queued(db, [_insert(db, "before"), recover, _insert(db, "after")])
    assert outcomes == ["before", "ok", "after"]
    assert _rows(db) == ["before", "recovered", "after"]


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


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("sqlite:///var/voucherd.db", True),
        ("postgresql+psycopg://u@127.0.0.1:5432/d", True),
        ("postgresql+psycopg://u@localhost/d", True),
        ("postgresql+psycopg://u@[::1]:5432/d", True),
        ("postgresql+psycopg:///d", True),  # the default Unix socket
        ("postgresql+psycopg://u@/d?host=/var/run/postgresql", True),
        ("postgresql+psycopg://u@db.internal:5432/d", False),
        ("postgresql+psycopg://u@10.0.0.7/d", False),
        ("postgresql+psycopg://u@/d?host=/tmp&host=db.internal", False),
    ],
)
def test_a_database_is_local_on_this_machine_only(url: str, local: bool) -> None:
    db = Database(url, pool=False)
    try:
        assert db.is_local is local
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("placement", "sqlite", "local_pg", "remote_pg"),
    [
        ("auto", True, True, False),
        ("always", True, True, True),
        ("never", False, False, False),
    ],
)
def test_store_on_loop_places_the_calls(
    tmp_path: Path, placement: inline.Placement, sqlite: bool, local_pg: bool, remote_pg: bool
) -> None:
    dbs = [
        Database(f"sqlite:///{tmp_path / 'placed.db'}"),
        Database("postgresql+psycopg://u@127.0.0.1/d", pool=False),
        Database("postgresql+psycopg://u@db.internal/d", pool=False),
    ]
    try:
        for db in dbs:
            inline.configure(db, placement)
        assert [inline.on_loop(db) for db in dbs] == [sqlite, local_pg, remote_pg]
    finally:
        for db in dbs:
            db.dispose()


def _threads_of(db: Database, call: Callable[[], int]) -> tuple[int, list[int]]:
    """The loop's thread, and the threads read() and write() ran ``call`` on."""
    loop_thread: list[int] = []
    call_thread: list[int] = []

    def traced() -> int:
        call_thread.append(threading.get_ident())
        return call()

    async def main() -> None:
        loop_thread.append(threading.get_ident())
        assert await inline.read(db, traced) == 1
        assert await inline.write(db, traced) == 1

    anyio.run(main)
    return loop_thread[0], call_thread


def test_calls_run_on_the_loop_or_a_worker_thread_as_placed(tmp_path: Path) -> None:
    db = _database(tmp_path)

    def insert() -> int:
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES ('placed')"))
        return 1

    inline.configure(db, "auto")
    loop, threads = _threads_of(db, insert)
    assert threads == [loop, loop]
    inline.configure(db, "never")
    loop, threads = _threads_of(db, insert)
    assert len(threads) == 2
    assert loop not in threads
    # Off the loop, db.write() took the writer gate itself, and gave it back.
    assert _rows(db) == ["placed"] * 4
    assert _gate(db).enter(owner=None, wait=False)
    _gate(db).__exit__()


def test_a_local_postgresql_write_waits_for_a_row_lock_on_the_loop(
    db: Database, project: ProjectKeys
) -> None:
    """On the loop, a call that waits for another transaction's row lock gets it once freed."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL row locks")
    assert db.is_local
    assert inline.on_loop(db)
    by_id = {"id": project.id}
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.write() as conn:
            conn.execute(text("SELECT id FROM projects WHERE id = :id FOR UPDATE"), by_id)
            conn.execute(text("UPDATE projects SET name = name || '-held' WHERE id = :id"), by_id)
            locked.set()
            release.wait(10)

    def read_locked() -> int:
        with db.write() as conn:
            name = conn.execute(
                text("SELECT name FROM projects WHERE id = :id FOR UPDATE"), by_id
            ).scalar_one()
        return 1 if name == f"{project.name}-held" else 0

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    threading.Timer(0.3, release.set).start()
    loop, threads = _threads_of(db, read_locked)
    holder.join(10)
    # Both calls ran on the loop, after the holder committed (they saw its update).
    assert threads == [loop, loop]


# PostgreSQL on the loop: calls queue and run one per turn of the loop. The calls
# below touch no database; a local PostgreSQL URL (never connected) places them.


def _local_postgresql() -> Database:
    db = Database("postgresql+psycopg://u@127.0.0.1/d", pool=False)
    inline.configure(db, "auto")
    assert inline.on_loop(db)
    assert db.writer_gate is None
    return db


@pytest.mark.parametrize("uvloop", [False, True], ids=["asyncio", "uvloop"])
def test_postgresql_calls_take_turns_and_the_loop_polls_between_them(uvloop: bool) -> None:
    """A socket that becomes readable during one call is read before the next call runs
    (inline, the ready requests' calls ran back to back and new connections waited)."""
    db = _local_postgresql()
    events: list[str] = []
    ours, theirs = socket.socketpair()
    ours.setblocking(False)

    def call(index: int) -> int:
        if index == 0:
            theirs.send(b"x")  # a new request arrives while the first call runs
        time.sleep(0.005)  # round trips: the loop is blocked meanwhile
        events.append(f"call {index}")
        return index * 10

    async def main() -> list[int]:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            ours.recv(16)
            events.append("read")

        loop.add_reader(ours, readable)
        try:
            calls = [
                inline.write(db, functools.partial(call, i))
                if i % 2
                else inline.read(db, functools.partial(call, i))
                for i in range(4)
            ]
            return list(await asyncio.gather(*calls))
        finally:
            loop.remove_reader(ours)

    try:
        results = anyio.run(main, backend_options={"use_uvloop": uvloop})
    finally:
        ours.close()
        theirs.close()
        db.dispose()
    assert results == [0, 10, 20, 30]
    # First come, first served, and the socket was read right after the call that made
    # it readable (uvloop, as voucherd serves) or the one after it (asyncio's loop
    # runs the I/O callbacks of a turn after the callbacks already due), not after the
    # whole queue.
    read_after = ["call 0"] if uvloop else ["call 0", "call 1"]
    calls = [event for event in events if event != "read"]
    assert calls == ["call 0", "call 1", "call 2", "call 3"]
    assert events[: events.index("read")] == read_after


def test_a_postgresql_call_that_raises_answers_its_caller_and_the_queue_goes_on() -> None:
    db = _local_postgresql()

    def fail() -> int:
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    async def main() -> tuple[object, ...]:
        return tuple(
            await asyncio.gather(
                inline.write(db, lambda: 1),
                inline.write(db, fail),
                inline.read(db, lambda: 3),
                return_exceptions=True,
            )
        )

    try:
        first, failed, third = anyio.run(main)
    finally:
        db.dispose()
    assert first == 1
    assert isinstance(failed, IntegrityError)
    assert third == 3


def test_a_postgresql_call_whose_request_went_away_does_not_run() -> None:
    db = _local_postgresql()
    ran: list[str] = []

    async def main() -> None:
        first = asyncio.ensure_future(inline.write(db, lambda: ran.append("first")))
        gone = asyncio.ensure_future(inline.write(db, lambda: ran.append("gone")))
        last = asyncio.ensure_future(inline.write(db, lambda: ran.append("last")))
        await asyncio.sleep(0)  # all three queued; the drain task has not run yet
        gone.cancel()
        await asyncio.gather(first, last)
        with pytest.raises(asyncio.CancelledError):
            await gone

    try:
        anyio.run(main)
    finally:
        db.dispose()
    assert ran == ["first", "last"]


def test_a_postgresql_call_runs_in_its_requests_context() -> None:
    db = _local_postgresql()
    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")

    async def request(name: str) -> str:
        request_id.set(name)
        return await inline.read(db, request_id.get)

    async def main() -> list[str]:
        return list(await asyncio.gather(request("r1"), request("r2")))

    try:
        assert anyio.run(main) == ["r1", "r2"]
    finally:
        db.dispose()
