"""Where the checkout endpoints run their store calls: on the event loop or a thread.

Redeem, validate, rollback and authentication run on the event loop itself when
the database is on this machine (``Settings.store_on_loop``, "auto"), and on the
thread pool otherwise, as FastAPI runs a ``def`` route. Measured with ``make bench``
(32 clients, 2 workers, 2 cores):

- SQLite: a redeem held SQLite's writer gate about twice as long under load as
  alone, waiting to get the GIL back from its own process's other threads after
  each statement, and a thread-pool hop per dependency and per route added CPU.
- PostgreSQL on loopback: a round trip takes tens of microseconds, less than
  handing the GIL between the loop and a worker thread and back; on the loop,
  redeem (a) ran 30–50 % more requests per second (interleaved runs) with a lower
  p99. A remote server's round trips are long enough that overlapping several
  requests on threads wins, so "auto" keeps the thread pool there.

On the loop a process runs one store call at a time, and serves nothing else
meanwhile (as it would not with the GIL taken either): a call waiting for a row
lock another process holds waits with the loop. On PostgreSQL the calls queue and
run one per turn of the loop (``_Turns``), so that the loop polls its sockets
between two of them. On SQLite the writer gate
(store.db.WriterGate) is taken without blocking the loop:

- the process's calls queue on the loop, and one drain task per database is after
  the gate for them, so one waiter per process at a time;
- it takes the gate at once when it is free (no thread involved), and otherwise
  waits for it on a worker thread, off the loop;
- holding it, it runs the calls queued by then (up to ``MAX_TOGETHER``) in one
  write transaction, releases the gate and lets their tasks send the responses.

Writing them together: SQLite's writer gate is the bottleneck of redeem under
load (the gate is busy 91 % of the time at 32 clients, taking turns between the
workers), and a redeem's COMMIT alone took ~90 µs of its ~530 µs in the gate
(21 WAL frames, two writes each). Queued calls share the BEGIN/COMMIT and the
frames of the pages they all touch. In-process, 16 redeems in one transaction
cost 0.42 ms each, against 0.61–0.63 ms alone. Under ``make bench`` (a) at 32
clients, interleaved runs: 984 req/s one call per turn, 1,281 with up to 4, 1,694
with 8, 1,762 with 16 (p99 58 → 37 ms).

A call that raises makes the batch roll back. The calls before it run together
again, it runs alone in its own transaction, and the calls after it form the next
batch, so each answers exactly as it would have alone.

SQLite's busy timeout would block the loop only if something outside voucherd
held the database's write lock (an ``sqlite3`` shell writing by hand): voucherd's
own writers all take the gate first.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import threading
import weakref
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import anyio.lowlevel
import anyio.to_thread

from voucherd.store.db import Database, WriterGate

T = TypeVar("T")

# Databases whose placement was set by configure() (an app's own database).
_placements: weakref.WeakKeyDictionary[Database, bool] = weakref.WeakKeyDictionary()

Placement = Literal["auto", "always", "never"]


def configure(db: Database, placement: Placement) -> None:
    """Set where ``db``'s checkout store calls run (``Settings.store_on_loop``)."""
    _placements[db] = db.is_local if placement == "auto" else placement == "always"


def on_loop(db: Database) -> bool:
    """Whether ``db``'s store calls run on the event loop rather than a thread."""
    placed = _placements.get(db)
    return db.is_local if placed is None else placed


async def read(db: Database, call: Callable[[], T]) -> T:
    """Run a store call that only reads."""
    if not on_loop(db):
        return await anyio.to_thread.run_sync(call)
    if db.writer_gate is not None:  # SQLite: a read takes a fraction of a millisecond
        return call()
    return await _in_turn(db, call)


async def write(db: Database, call: Callable[[], T]) -> T:
    """Run a store call that opens ``db.write()`` (at most once, or one after another)."""
    if not on_loop(db):
        return await anyio.to_thread.run_sync(call)
    gate = db.writer_gate
    if gate is None:
        return await _in_turn(db, call)
    return await _writer(db, gate).submit(call)


def _fail(futures: list[asyncio.Future[Any]], error: BaseException) -> None:
    """Answer the calls that will not run now (the loop is closing) with ``error``."""
    for future in futures:
        if not future.done():
            future.set_exception(error)


# PostgreSQL on the loop: one store call per turn of the event loop.
#
# A call blocks the loop for its round trips (7-20 ms for a redeem on a slow machine).
# Run inline, the calls of every request that is ready ran back to back in one turn
# of the loop, and the loop polls its sockets, taking in new connections and
# reading new requests, only between turns. With 32 keep-alive connections opened
# at once on 2 workers (``make bench``, PostgreSQL, (b) at 32 clients), the listening
# socket held 21-26 connections waiting to be accepted, drained at about 10 a
# second; the last were accepted 1.9 s after the first and their first requests
# made p99 1.9-2.1 s against a p50 of 0.3 s. So the calls queue, first come, first
# served, and one drain task per loop runs them one at a time, letting the loop poll
# between two of them.
class _Turns:
    """One event loop's queue of store calls for one database that has no writer gate."""

    def __init__(self) -> None:
        self.pending: collections.deque[
            tuple[Callable[[], Any], contextvars.Context, asyncio.Future[Any]]
        ] = collections.deque()
        self.drain: asyncio.Task[None] | None = None

    async def submit(self, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # The call runs in its request's context, as it would inline.
        self.pending.append((call, contextvars.copy_context(), future))
        if self.drain is None:
            self.drain = loop.create_task(self._drain(), context=contextvars.Context())
        return await future

    async def _drain(self) -> None:
        future: asyncio.Future[Any] | None = None
        try:
            while self.pending:
                call, context, future = self.pending.popleft()
                if future.cancelled():  # the client went away while it waited
                    continue
                try:
                    result = context.run(call)
                except Exception as error:
                    future.set_exception(error)
                else:
                    future.set_result(result)
                await asyncio.sleep(0)  # the next turn of the loop polls first
        except BaseException as error:  # the loop is closing: nothing will run them now
            running = [future] if future is not None else []
            _fail([*running, *(entry[2] for entry in self.pending)], error)
            self.pending.clear()
            raise
        finally:
            self.drain = None


Q = TypeVar("Q")

# Per event loop, per database: one queue of store calls (a _Turns or a _Writer).
_Registry = weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, weakref.WeakKeyDictionary[Database, Q]
]


def _of_loop(registry: _Registry[Q], db: Database, make: Callable[[], Q]) -> Q:
    """The running event loop's queue for ``db`` in ``registry``, made on first use."""
    loop = asyncio.get_running_loop()
    per_loop = registry.get(loop)
    if per_loop is None:
        per_loop = registry[loop] = weakref.WeakKeyDictionary()
    queue = per_loop.get(db)
    if queue is None:
        queue = per_loop[db] = make()
    return queue


_turns: _Registry[_Turns] = weakref.WeakKeyDictionary()


async def _in_turn(db: Database, call: Callable[[], T]) -> T:
    """Run ``call`` in its turn among the running loop's store calls on ``db``."""
    return await _of_loop(_turns, db, _Turns).submit(call)


# Calls one turn at the writer gate runs in one write transaction, at most.
MAX_TOGETHER = 16


class _Writer:
    """One event loop's queue of store calls for one SQLite file's writer gate.

    A single drain task takes the gate (as ``_enter`` does), runs the calls queued
    by then, up to MAX_TOGETHER, in one write transaction
    (``Database.write_together``), releases the gate and lets the loop send their
    responses before its next turn. A call that raises is run again on its own after
    the batch is rolled back (see ``_answer``), so every call answers as it would
    have in its own transaction. A task cancelled while its call waits (the client
    went away) is left out of the next batch: nothing runs for it.
    """

    def __init__(self, db: Database, gate: WriterGate) -> None:
        self.db = db
        self.gate = gate
        self.pending: collections.deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = (
            collections.deque()
        )
        self.drain: asyncio.Task[None] | None = None

    async def submit(self, call: Callable[[], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.pending.append((call, future))
        if self.drain is None:
            # A context of its own: not the copy of whichever request came first.
            self.drain = asyncio.get_running_loop().create_task(
                self._drain(), context=contextvars.Context()
            )
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                await _enter(self.gate)
                try:
                    batch = self._take()
                    with self.db.gate_held():
                        self._run(batch)
                finally:
                    self.gate.__exit__()
                # The calls' tasks resume and send their responses before the next
                # turn; the other processes' waiters meanwhile find the gate free.
                await asyncio.sleep(0)
        except BaseException as error:  # the loop is closing: nothing will run them now
            _fail([future for _call, future in self.pending], error)
            self.pending.clear()
            raise
        finally:
            self.drain = None

    def _take(self) -> list[tuple[Callable[[], Any], asyncio.Future[Any]]]:
        batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]] = []
        while self.pending and len(batch) < MAX_TOGETHER:
            call, future = self.pending.popleft()
            if not future.cancelled():
                batch.append((call, future))
        return batch

    def _run(self, batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]]) -> None:
        try:
            self._answer(batch)
        except BaseException as error:  # not an Exception: no call may be left waiting
            for _call, future in batch:
                if not future.done():
                    future.set_exception(error)
            raise

    def _answer(self, batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]]) -> None:
        """Answer every call: together when they all run clean, else around the failure.

        When call ``i`` raises, the transaction is rolled back; the calls before it
        ran clean on the same state, so they run together again, call ``i`` runs
        alone (and answers with its exception, or its result), and the calls after
        it form the next batch.
        """
        if not batch:
            return
        if len(batch) == 1:
            self._alone(*batch[0])
            return
        failed = self._together(batch)
        if failed is None:
            return
        if failed == len(batch):  # the COMMIT itself failed: each on its own
            for call, future in batch:
                self._alone(call, future)
            return
        self._answer(batch[:failed])
        self._alone(*batch[failed])
        self._answer(batch[failed + 1 :])

    def _together(self, batch: list[tuple[Callable[[], Any], asyncio.Future[Any]]]) -> int | None:
        """Run the calls in one transaction and answer them (None); or roll it back and
        return the index of the call that failed (``len(batch)``: BEGIN or COMMIT did)."""
        results: list[Any] = []
        running = len(batch)
        try:
            with self.db.write_together(len(batch)) as joined:
                for running, (call, _future) in enumerate(batch):  # noqa: B007 -- read below
                    results.append(call())
                    if joined.failed:  # it caught an exception a joined block let out
                        raise _RollBack
                running = len(batch)
        except Exception:
            return running
        for (_call, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
        return None

    @staticmethod
    def _alone(call: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        """Run one call in its own transaction(s) and answer it."""
        try:
            result = call()
        except Exception as error:
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)


class _RollBack(Exception):
    """Leaves a batch's transaction so that it rolls back."""


_writers: _Registry[_Writer] = weakref.WeakKeyDictionary()


def _writer(db: Database, gate: WriterGate) -> _Writer:
    """The running event loop's writer for ``db``."""
    return _of_loop(_writers, db, lambda: _Writer(db, gate))


async def _enter(gate: WriterGate) -> None:
    """Take the gate for the drain task: at once when free, else waiting on a worker thread.

    When another process holds it, this process gets in line first, right here on the
    loop (``WriterGate.try_enter``), so the holder cannot take the gate straight back
    while the worker thread that will wait for it is still being scheduled.
    """
    state = gate.try_enter(None)
    if state == "held":
        return
    settled = threading.Lock()
    taken = abandoned = False

    def wait() -> None:
        nonlocal taken
        with settled:
            if abandoned:  # cancelled before this thread started: leave any place in line
                if state == "in line":
                    gate.leave_line()
                return
        if state == "in line":
            gate.enter_in_line(None)
        else:
            gate.enter(owner=None)
        with settled:
            if abandoned:  # the task stopped waiting: give the gate straight back
                gate.__exit__()
            else:
                taken = True

    try:
        await anyio.to_thread.run_sync(wait)
        await anyio.lowlevel.checkpoint_if_cancelled()
    except BaseException:
        # Cancelled (the loop is shutting down): the gate is given back here if the
        # thread took it already, else by the thread once it has it. Nothing runs.
        with settled:
            abandoned = True
            if taken:
                gate.__exit__()
        raise
