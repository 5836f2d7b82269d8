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
lock another process holds waits with the loop. On SQLite the writer gate
(store.db.WriterGate) is taken without blocking the loop:

- the process's tasks queue on an ``asyncio.Lock`` first, so at most one of them
  is after the gate at a time;
- that one takes the gate at once when it is free (no thread involved), and
  otherwise waits for it on a worker thread, off the loop;
- holding it, the task runs the store call synchronously and releases the gate
  when it returns.

SQLite's busy timeout would block the loop only if something outside voucherd
held the database's write lock (an ``sqlite3`` shell writing by hand): voucherd's
own writers all take the gate first.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Literal, TypeVar

import anyio.lowlevel
import anyio.to_thread

from voucherd.store.db import Database, WriterGate

T = TypeVar("T")

# One queue per event loop (a server process has one; tests start several).
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
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
    if on_loop(db):
        return call()
    return await anyio.to_thread.run_sync(call)


async def write(db: Database, call: Callable[[], T]) -> T:
    """Run a store call that opens ``db.write()`` (at most once, or one after another)."""
    if not on_loop(db):
        return await anyio.to_thread.run_sync(call)
    gate = db.writer_gate
    if gate is None:
        return call()
    async with _queue():
        await _enter(gate)
        try:
            with db.gate_held():
                return call()
        finally:
            gate.__exit__()


def _queue() -> asyncio.Lock:
    """The running event loop's queue for the gate."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = asyncio.Lock()
    return queue


async def _enter(gate: WriterGate) -> None:
    """Take the gate for this task: at once when free, else waiting on a worker thread."""
    if gate.enter(owner=None, wait=False):
        return
    taken = False

    def wait() -> None:
        nonlocal taken
        gate.enter(owner=None)
        taken = True

    try:
        # Not abandoned on cancellation: the thread finishes taking the gate, and
        # the gate is given back right here if this task was cancelled meanwhile
        # (a client that went away): nothing runs for it.
        await anyio.to_thread.run_sync(wait)
        await anyio.lowlevel.checkpoint_if_cancelled()
    except BaseException:
        if taken:
            gate.__exit__()
        raise
