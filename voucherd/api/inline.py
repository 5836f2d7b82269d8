"""Where the checkout endpoints run their store calls: the event loop (SQLite) or a thread.

On PostgreSQL every statement waits for the network, so the store runs on the
thread pool, as FastAPI runs a ``def`` route. On SQLite a statement takes micro-
seconds and the cost is elsewhere (measured with ``make bench``, 32 clients):
a redeem held SQLite's writer gate about twice as long under load as alone,
waiting to get the GIL back from its own process's other threads after each
statement, while a thread-pool hop per dependency and per route added CPU. So on
SQLite redeem, validate and rollback run on the event loop itself, with no thread
for the GIL to switch to, and take the writer gate (store.db.WriterGate) without
blocking the loop:

- the process's tasks queue on an ``asyncio.Lock`` first, so at most one of them
  is after the gate at a time;
- that one takes the gate at once when it is free (no thread involved), and
  otherwise waits for it on a worker thread, off the loop;
- holding it, the task runs the store call synchronously and releases the gate
  when it returns: the loop serves nothing else meanwhile, the same as a thread
  holding the GIL would have.

Reads (validate, the order's catalogue look-ups) run on the loop without the gate.
A store call blocks the loop only for its own CPU time; SQLite's busy timeout
would block it longer only if something outside voucherd held the database's
write lock (an ``sqlite3`` shell writing by hand): voucherd's own writers all
take the gate first.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TypeVar

import anyio.lowlevel
import anyio.to_thread

from voucherd.store.db import Database, WriterGate

T = TypeVar("T")

# One queue per event loop (a server process has one; tests start several).
_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def on_loop(db: Database) -> bool:
    """Whether ``db``'s store calls run on the event loop (SQLite) rather than a thread."""
    return db.is_sqlite


async def read(db: Database, call: Callable[[], T]) -> T:
    """Run a store call that only reads."""
    if on_loop(db):
        return call()
    return await anyio.to_thread.run_sync(call)


async def write(db: Database, call: Callable[[], T]) -> T:
    """Run a store call that opens ``db.write()`` (at most once, or one after another)."""
    gate = db.writer_gate
    if gate is None or not on_loop(db):
        return await anyio.to_thread.run_sync(call)
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
