"""Database engines, connection set-up and transactions for SQLite and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every write
transaction starts with ``BEGIN IMMEDIATE`` so that two writers queue on the
database lock up front instead of deadlocking when a reader upgrades to a writer
(the failure ``BEGIN DEFERRED`` gives under concurrent redeems). PostgreSQL runs
at READ COMMITTED; counters move by guarded updates and multi-row decisions lock
rows explicitly (see the store modules). A pooled PostgreSQL connection is checked
for a hang-up on checkout without a round trip (:func:`_hung_up`).
"""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import hashlib
import logging
import mmap
import os
import select
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url, text
from sqlalchemy.pool import NullPool

from voucherd.store import direct, types
from voucherd.store.direct import DirectConnection

log = logging.getLogger("voucherd.store")

# Results that carry rows (psycopg's own test for ``Cursor.description``).
_ROWS = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)

# Write transactions on one SQLite file, by all its processes together, between two
# WAL checkpoints (SQLite's own default is every 1,000 pages, about 50 redemptions).
CHECKPOINT_EVERY = 128

_COUNTER = struct.Struct("=q")  # the commit count at the start of a writer-lock file

_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


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
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2)
        if self.dialect == "sqlite":
            # The pool shares connections across the server's worker threads.
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            kwargs["connect_args"] = {"cursor_factory": _Cursor}
        self.engine: Engine = create_engine(url, **kwargs)
        # Statements marked hot run straight on the driver's cursor (voucherd.store.direct).
        self.engine._connection_cls = DirectConnection
        self._writer_gate: WriterGate | None = None
        self._checkpointer: Checkpointer | None = None
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, sqlite_busy_timeout_ms)
            self._writer_gate = WriterGate.for_database(make_url(url).database)
            self._checkpointer = Checkpointer(self.engine, self._writer_gate)
        elif pool:
            _configure_postgresql(self.engine)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded SQLite store."""
        return self.dialect == "sqlite"

    @property
    def is_local(self) -> bool:
        """Whether the database lives on this machine: SQLite, or a PostgreSQL server
        reached over loopback or a Unix socket (no host, or a host that is a path)."""
        if self.is_sqlite:
            return True
        url = make_url(self.url)
        query_hosts = url.query.get("host") or ()
        hosts = (
            [url.host]
            if url.host
            else [query_hosts]
            if isinstance(query_hosts, str)
            else list(query_hosts)
        )
        return all(host.startswith("/") or host in _LOOPBACK_HOSTS for host in hosts)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction, committed on success and rolled back on error.

        On SQLite the writer gate is taken before a pooled connection is checked out
        and released after COMMIT/ROLLBACK and check-in, so writers queue on the gate
        (woken the moment it frees) instead of polling ``BEGIN IMMEDIATE`` through
        SQLite's busy handler, which sleeps up to 100 ms between attempts and made
        the hand-off unfair (p99 of seconds under load). A thread waiting at the gate
        holds no connection, so the gate cannot starve the pool; readers never take it.
        """
        joined = _JOINED.get()
        if joined is not None and joined.db is self:
            with joined.join() as conn:
                yield conn
            return
        with self._write_transaction(calls=1) as conn:
            yield conn

    @contextlib.contextmanager
    def write_together(self, calls: int) -> Iterator[Joined]:
        """One write transaction that every :meth:`write` and :meth:`read` in the block joins.

        For a caller that holds the writer gate and runs ``calls`` requests' store calls
        one after another (``voucherd.api.inline`` on SQLite): their statements commit
        together, so the BEGIN/COMMIT and the WAL frames of the pages they share (the
        newest leaf of each time-ordered index, the order and redemption tables' last
        pages) are paid once instead of once per request. Each call still sees the
        writes of the calls before it, as if those had committed first.

        A call's own ``db.write()`` rolled back on an exception; joined, only the whole
        transaction can be. So an exception that leaves a joined block marks the batch
        ``failed``, and the caller must then leave this block by raising (which rolls
        everything back) and run the calls again, the failing one in a transaction of
        its own.
        """
        with self._write_transaction(calls) as conn:
            joined = Joined(self, conn)
            token = _JOINED.set(joined)
            try:
                yield joined
            finally:
                _JOINED.reset(token)

    @contextlib.contextmanager
    def _write_transaction(self, calls: int) -> Iterator[Connection]:
        """The gate (unless the caller holds it), a connection, BEGIN … COMMIT."""
        gate: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        if self._writer_gate is not None and not _GATE_HELD.get():
            gate = self._writer_gate
        with gate, self.engine.connect() as conn:
            conn = conn.execution_options(voucherd_write=True)
            with conn.begin():
                yield conn
            if self._checkpointer is not None:
                # Still under the gate (ours, or the caller's): the count it keeps in
                # the gate's file needs no lock of its own.
                self._checkpointer.committed(calls)

    @property
    def writer_gate(self) -> WriterGate | None:
        """SQLite's writer gate (None on PostgreSQL)."""
        return self._writer_gate

    @contextlib.contextmanager
    def gate_held(self) -> Iterator[None]:
        """Inside the block, :meth:`write` trusts that the caller holds the writer gate.

        For callers that took the gate themselves (``voucherd.api.inline`` takes it
        without blocking the event loop). The mark is a context variable, so it covers
        only the code the caller runs in this context.
        """
        token = _GATE_HELD.set(True)
        try:
            yield
        finally:
            _GATE_HELD.reset(token)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot on both databases).

        Inside :meth:`write_together` it is the joined write transaction, which sees
        what the calls before wrote.
        """
        joined = _JOINED.get()
        if joined is not None and joined.db is self:
            with joined.join() as conn:
                yield conn
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def single(self) -> Iterator[Connection]:
        """A connection for one read-only statement, outside any transaction.

        No BEGIN/COMMIT around it: on PostgreSQL that is two round trips fewer (the
        request's authentication runs this way). Several statements need :meth:`read`
        to see one snapshot.
        """
        with self.engine.connect() as conn:
            if self.is_sqlite:
                # The connection already runs without implicit transactions (see
                # _configure_sqlite); the option only keeps _on_begin from opening one.
                # SQLAlchemy's AUTOCOMMIT would reset that mode when the connection
                # goes back to the pool.
                yield conn.execution_options(voucherd_single=True)
            else:
                yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


# Set by Database.gate_held: the code running in this context holds the writer gate.
_GATE_HELD: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "voucherd_gate_held", default=False
)


@dataclass
class Joined:
    """The write transaction of :meth:`Database.write_together`, shared by its calls."""

    db: Database
    connection: Connection
    failed: bool = False  # an exception left a joined block: roll back, run one by one

    @contextlib.contextmanager
    def join(self) -> Iterator[Connection]:
        try:
            yield self.connection
        except BaseException:
            self.failed = True
            raise


# Set by Database.write_together for the calls it runs.
_JOINED: contextvars.ContextVar[Joined | None] = contextvars.ContextVar(
    "voucherd_joined", default=None
)


class WriterGate:
    """A cross-process, cross-thread mutex for one SQLite file's writers, taken in turns.

    Two layers: a ``threading.Lock`` so that one process's threads queue in-process,
    then an exclusive ``flock`` on ``<database>.writer-lock`` so that the server's
    worker processes queue on the kernel, which wakes a waiter as soon as the holder
    releases. Both block without polling. ``flock`` locks belong to an open file
    description, so each process opens the files once (after fork, too) and every
    :class:`Database` on that file in the process shares the gate: a second
    descriptor in the same process would make its threads exclude each other twice.

    Turns: a process gets in line first, with a ``flock`` on ``<database>.writer-line``
    (the turnstile), takes the gate, then leaves the line. A process waiting for the
    gate stands in line meanwhile, so the holder cannot release the gate and take it
    straight back before the waiter's thread has run (flock hands a released lock to
    whoever asks first): its next attempt meets the line and waits its turn. Under
    load the gate so alternates between the processes. Without the line it did not:
    a waiter on a busy event loop reached its ``flock`` late, and the other worker
    took the gate up to 20 times in a row (89 ms, measured).

    The gate only orders writers that go through :meth:`Database.write`; anything
    else writing the file (migrations, ``sqlite3`` by hand) still meets
    ``BEGIN IMMEDIATE`` and the busy timeout, which stay as the backstop.
    """

    _registry: dict[str, WriterGate] = {}  # noqa: RUF012 -- a process-wide registry
    _registry_lock = threading.Lock()

    def __init__(self, lock_path: str | None) -> None:
        self._lock_path = lock_path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._line_fd: int | None = None
        self._fd_pid = 0
        self._owner: int | None = None
        self._counter: mmap.mmap | None = None
        self._commits = 0  # the count itself when there is no file (in-memory databases)

    @classmethod
    def for_database(cls, database: str | None) -> WriterGate:
        """The process's gate for the SQLite file ``database`` (in-process only for memory)."""
        if not database or database == ":memory:" or database.startswith("file:"):
            key, lock_path = f"memory:{id(cls)}:{database}", None
        else:
            key = lock_path = os.path.abspath(database) + ".writer-lock"
        with cls._registry_lock:
            gate = cls._registry.get(key)
            if gate is None:
                gate = cls._registry[key] = cls(lock_path)
            return gate

    def _descriptor(self) -> int | None:
        if self._lock_path is None:
            return None
        pid = os.getpid()
        if self._fd is None or self._fd_pid != pid:
            # A descriptor inherited through fork shares the parent's open file
            # description (and its flock); every process needs its own.
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            line_path = self._lock_path.removesuffix("-lock") + "-line"
            self._line_fd = os.open(line_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = pid
            self._counter = None
        return self._fd

    def count_commit(self, calls: int = 1) -> int:
        """Count ``calls`` write transactions on the file, by any process; returns the total.

        Call it holding the gate, which orders the processes' increments. The count
        lives in the first 8 bytes of the lock file, mapped into memory, so that the
        server's workers share it (flock and the file's contents are independent).
        """
        fd = self._descriptor()
        if fd is None:
            self._commits += calls
            return self._commits
        if self._counter is None:
            if os.fstat(fd).st_size < _COUNTER.size:
                os.ftruncate(fd, _COUNTER.size)
            self._counter = mmap.mmap(fd, _COUNTER.size)
        (count,) = _COUNTER.unpack_from(self._counter)
        count += calls
        _COUNTER.pack_into(self._counter, 0, count)
        return int(count)

    def __enter__(self) -> None:
        if self._owner == threading.get_ident():
            # BEGIN IMMEDIATE inside our own write transaction could only time out.
            raise RuntimeError("a write transaction is already open in this thread")
        self.enter(owner=threading.get_ident())

    def enter(self, *, owner: int | None, wait: bool = True) -> bool:
        """Take the gate for ``owner`` (a thread id, None for an event loop's task).

        With ``wait=False`` it only takes a free gate and returns whether it did,
        holding nothing when it did not. Release with ``__exit__``, from any thread.
        """
        if not wait:
            state = self.try_enter(owner)
            if state == "in line":
                self._leave_line()
                self._thread_lock.release()
            return state == "held"
        self._thread_lock.acquire()
        try:
            fd = self._descriptor()
            if fd is not None:
                fcntl.flock(self._line(), fcntl.LOCK_EX)
                self._take(fd)
        except BaseException:
            self._thread_lock.release()
            raise
        self._owner = owner
        return True

    def try_enter(self, owner: int | None) -> Literal["held", "in line", "busy"]:
        """Take the gate if that needs no waiting; else say where the caller stands.

        "held": taken for ``owner``. "in line": another process holds the gate and this
        process stands next in line, which :meth:`enter_in_line` (on a thread that
        may block) turns into holding it. "busy": another thread of this process, or
        another process, is ahead; take it with ``enter()``. Nothing is held then.
        """
        if not self._thread_lock.acquire(blocking=False):
            return "busy"
        try:
            fd = self._descriptor()
            if fd is None:
                self._owner = owner
                return "held"
            try:
                fcntl.flock(self._line(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._thread_lock.release()
                return "busy"
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return "in line"
            self._leave_line()
        except BaseException:
            self._thread_lock.release()
            raise
        self._owner = owner
        return "held"

    def enter_in_line(self, owner: int | None) -> None:
        """Wait for the gate after :meth:`try_enter` said "in line"; then it is held."""
        fd = self._descriptor()
        try:
            if fd is not None:
                self._take(fd)
        except BaseException:
            self._leave_line()
            self._thread_lock.release()
            raise
        self._owner = owner

    def leave_line(self) -> None:
        """Give up a place in line that :meth:`try_enter` gave (a wait that was abandoned)."""
        self._leave_line()
        self._thread_lock.release()

    def _line(self) -> int:
        if self._line_fd is None:
            raise RuntimeError("the turnstile belongs to a gate with a lock file")
        return self._line_fd

    def _take(self, fd: int) -> None:
        """Standing in line: wait for the gate, then let the next process line up."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            self._leave_line()

    def _leave_line(self) -> None:
        if self._line_fd is not None:
            fcntl.flock(self._line_fd, fcntl.LOCK_UN)

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._fd is not None and self._fd_pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._owner = None
            self._thread_lock.release()


class Checkpointer:
    """Runs SQLite's WAL checkpoints on a background thread, off the write path.

    SQLite checkpoints inside the COMMIT that crosses its threshold, so one write
    transaction in a hundred or two held the writer gate for 2–5 ms more (measured)
    while every other writer waited. Connections are opened with automatic
    checkpoints off (``_configure_sqlite``); every :data:`CHECKPOINT_EVERY` write
    transactions on the file (by all processes) wake a daemon thread of the process
    that made the last of them, which runs a PASSIVE
    checkpoint, which copies the WAL back into the database while writers go on.
    Then it takes the writer gate for a second one, which only copies what was
    appended meanwhile: with the whole WAL copied and no writer in between, the
    next writer starts the WAL over instead of growing the file (a checkpoint that
    never catches up let it reach hundreds of MB). SQLite itself still checkpoints
    when the last connection closes.
    """

    def __init__(self, engine: Engine, gate: WriterGate) -> None:
        self._engine = engine
        self._gate = gate
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self.runs = 0  # checkpoints completed (observable by tests)

    def committed(self, calls: int = 1) -> None:
        """Count a commit of ``calls`` requests' writes (holding the gate); wake the
        thread each time the count passes a multiple of CHECKPOINT_EVERY.

        The count is the file's, shared by every process writing it, so with two
        server workers one of them checkpoints every CHECKPOINT_EVERY commits
        instead of each every CHECKPOINT_EVERY of its own: half the gated
        checkpoints, each of which holds every writer up for its fsyncs (about
        3.6 ms on this machine, measured).
        """
        total = self._gate.count_commit(calls)
        if total // CHECKPOINT_EVERY == (total - calls) // CHECKPOINT_EVERY:
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid():
                # Threads do not survive fork: each process starts its own.
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="voucherd-wal-checkpoint", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def checkpoint(self) -> None:
        """Copy the WAL back into the database: the bulk while writers go on, the tail gated."""
        with self._engine.connect() as conn:
            conn = conn.execution_options(voucherd_single=True)
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
            with self._gate:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
        self.runs += 1

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                self.checkpoint()
            except Exception:  # a failed checkpoint is retried at the next wake-up
                log.warning("WAL checkpoint failed", exc_info=True)


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
        # Checkpoints run on the Checkpointer's thread, not inside a writer's COMMIT.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("voucherd_single"):
            return
        # Straight on the driver's connection: through exec_driver_sql the BEGIN cost
        # as much CPU as a redeem's cheapest statement (see voucherd.store.direct).
        direct.begin(conn, "BEGIN IMMEDIATE" if options.get("voucherd_write") else "BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if _hung_up(dbapi_connection):
            # The pool replaces the connection and checks out again.
            raise exc.DisconnectionError("the server closed this pooled connection")


class _Cursor(psycopg.Cursor[Any]):
    """A psycopg cursor whose ``description`` is plain tuples.

    SQLAlchemy reads ``description`` after every statement, but for a cached
    statement it only checks that there is one, and otherwise uses the name and
    type code. psycopg builds a ``Column`` object per column for it: 46 → 33 µs of
    CPU to execute a prepared ``SELECT`` of a voucher row (measured).
    """

    @property
    def description(self) -> list[Any] | None:
        result = self.pgresult
        if result is None or not (result.nfields or result.status in _ROWS):
            return None
        encoding = self.connection.info.encoding
        return [
            (_name(result.fname(i), i, encoding), result.ftype(i), None, None, None, None, None)
            for i in range(result.nfields)
        ]


def _name(raw: bytes | None, index: int, encoding: str) -> str:
    # COPY results have no column names; psycopg numbers them.
    return raw.decode(encoding) if raw is not None else f"column_{index + 1}"


def _hung_up(dbapi_connection: Any) -> bool:
    """Whether an idle psycopg connection was closed by the server (no round trip).

    Between two transactions the server has nothing to say: anything readable on
    the socket is a backend's goodbye (a FATAL from a restart, a terminated or
    timed-out session) or the end of the stream. Replaces ``pool_pre_ping``, whose
    ``SELECT``-like round trip on every checkout cost more than the check it made
    (docs/decisions.md, Storage).
    """
    if dbapi_connection.closed:
        return True
    try:
        fd = dbapi_connection.pgconn.socket
    except Exception:  # libpq has no socket for a bad connection
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


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
