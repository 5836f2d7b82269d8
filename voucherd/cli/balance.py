"""Keep-alive connections spread evenly over ``voucherd serve``'s worker processes.

The workers share one listening socket, and the worker whose event loop wakes first
accepts every connection that is waiting (libuv accepts until the queue is empty).
32 keep-alive connections opened at once split 32/0, 30/2, 25/7 or 16/16 between
two workers (``ss -tnp`` during ``make bench``) and keep that split for their
lifetime. On SQLite the workers take turns at the one writer gate, so each
completes about as many redeems per second as the other, and the requests of the
worker with more connections queue longer: p99 follows the bigger share, and the
busier worker's single core runs out first.

So every worker publishes its number of open connections in a small table shared
by the workers of one server (a file of slots, one per worker process, mapped into
memory). A worker that holds at least two connections more than the least loaded
live worker answers the next request on one of them with ``Connection: close``,
one connection at a time so that it never overshoots. The client completes that
exchange as usual and opens a new connection, which whichever worker accepts
first takes; this repeats until the counts are within one of each other. An HTTP
client sees a response with ``Connection: close`` and a new connection, nothing
else (wrk, urllib3 and httpx reconnect without counting an error).

The table is a heuristic, not a lock: a slot is written only by its worker, read
by the others without locking, and a slot whose process is gone is ignored (and
taken over by the next worker that starts), so a crashed worker never stalls the
others. Only claiming a slot locks the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import glob
import mmap
import os
import struct
import tempfile
import time
from typing import Any

from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from voucherd.api.app import create_app_from_env

ENVIRONMENT = "VOUCHERD_CONNECTION_TABLE"  # the table's path, set by ``voucherd serve``
SLOT = struct.Struct("=qq")  # a worker's pid and its open connections
SLOTS = 64  # worker processes one table can hold (restarted workers reuse dead slots)
REFRESH_SECONDS = 0.005  # how stale the other workers' counts may be when deciding
IMBALANCE = 2  # shed a connection when this many more are open here than there


PREFIX = "voucherd-connections-"  # then the pid of the server that made it, "-", a random part


def create_table(directory: str | None = None) -> str:
    """A fresh, empty table file (in the temp directory by default); returns its path.

    ``voucherd serve`` removes its table when it stops, but a server killed outright
    (SIGKILL, the OOM killer) cannot: so first the tables of servers that are gone
    are removed here. The file's name carries its server's pid for that.
    """
    sweep_tables(directory)
    fd, path = tempfile.mkstemp(prefix=f"{PREFIX}{os.getpid()}-", dir=directory)
    try:
        os.ftruncate(fd, SLOT.size * SLOTS)
    finally:
        os.close(fd)
    return path


def sweep_tables(directory: str | None = None) -> list[str]:
    """Remove the tables whose server process is gone; returns their paths.

    Only names this module makes are touched, and a table whose server still runs is
    kept. Workers that outlived their server hold the file open, so removing its name
    does not disturb them.
    """
    removed = []
    for path in glob.glob(os.path.join(directory or tempfile.gettempdir(), f"{PREFIX}*-*")):
        pid = os.path.basename(path)[len(PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            os.unlink(path)
        except OSError:  # removed meanwhile, or not ours to remove
            continue
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


class ConnectionTable:
    """One worker's view of the shared table: its own slot to write, the others to read."""

    def __init__(self, path: str, pid: int | None = None) -> None:
        self.pid = pid if pid is not None else os.getpid()
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SLOT.size * SLOTS)
        self.slot = self._claim()

    def _claim(self) -> int:
        """Take the first slot that is free or whose worker is gone (under the file's lock)."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            for index in range(SLOTS):
                pid, _count = SLOT.unpack_from(self._map, index * SLOT.size)
                if pid in (0, self.pid) or not _alive(pid):
                    SLOT.pack_into(self._map, index * SLOT.size, self.pid, 0)
                    return index
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        raise RuntimeError(f"the connection table has no free slot among {SLOTS}")

    def publish(self, count: int) -> None:
        """Write this worker's number of open connections."""
        SLOT.pack_into(self._map, self.slot * SLOT.size, self.pid, count)

    def others(self) -> list[int]:
        """The open connections of every other live worker."""
        counts = []
        for index in range(SLOTS):
            if index == self.slot:
                continue
            pid, count = SLOT.unpack_from(self._map, index * SLOT.size)
            if pid and _alive(pid):
                counts.append(count)
        return counts

    def close(self) -> None:
        """Give the slot back (a worker that shuts down cleanly)."""
        SLOT.pack_into(self._map, self.slot * SLOT.size, 0, 0)
        self._map.close()
        os.close(self._fd)


class Balance:
    """When this worker should close one of its connections so another worker takes it."""

    def __init__(self, table: ConnectionTable | None) -> None:
        self.table = table
        self.open = 0  # connections open in this worker
        self.shedding = 0  # of those, told to close after their current response
        self._least: int | None = None  # the least loaded other worker's count
        self._checked = -REFRESH_SECONDS

    def opened(self) -> None:
        self.open += 1
        self._publish()

    def closed(self, *, shed: bool) -> None:
        self.open -= 1
        if shed:
            self.shedding -= 1
        self._publish()

    def shed(self) -> bool:
        """Whether the request just read should be the last one on its connection.

        True at most once at a time per worker, and only while this worker holds
        ``IMBALANCE`` or more connections than the least loaded other one.
        """
        if self.table is None or self.shedding:
            return False
        now = time.monotonic()
        if now - self._checked >= REFRESH_SECONDS:
            self._refresh(now)
        if self._least is None or self.open - self._least < IMBALANCE:
            return False
        self.shedding += 1
        return True

    def _publish(self) -> None:
        if self.table is not None:
            self.table.publish(self.open)
            self._refresh(time.monotonic())

    def _refresh(self, now: float) -> None:
        others = self.table.others() if self.table is not None else []
        self._least = min(others) if others else None
        self._checked = now


_balance: Balance | None = None
_balance_pid = 0


def balance() -> Balance:
    """This process's balance, on the table ``voucherd serve`` named.

    Without a table, or when its file is gone, the worker serves as usual and never sheds.
    """
    global _balance, _balance_pid  # one per worker process
    if _balance is None or _balance_pid != os.getpid():
        path = os.environ.get(ENVIRONMENT)
        table = None
        if path:
            with contextlib.suppress(FileNotFoundError):
                table = ConnectionTable(path)
        _balance = Balance(table)
        _balance_pid = os.getpid()
    return _balance


def create_app() -> FastAPI:
    """The worker's app factory: takes the worker's slot in the table, then builds the app.

    A worker that has no connection yet is in the table from the start, so the one
    that accepted every connection of a burst sees a worker with none and sheds.
    """
    balance()
    return create_app_from_env()


class BalancedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, counting its connections and shedding the excess."""

    _shed = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # Looked up once per connection: balance() checks the pid (a system call).
        self._balance = balance()
        self._balance.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        self._balance.closed(shed=self._shed)
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        cycle: Any = self.cycle
        if cycle is not None and not self._shed and self._balance.shed():
            # The response carries "Connection: close" and the transport closes after it.
            self._shed = True
            cycle.keep_alive = False
