"""SQLite WAL checkpoints run off the write path and keep the WAL from growing without end."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from sqlalchemy import text

from voucherd.store import db as db_module
from voucherd.store.db import Database

ROW = "x" * 3000  # most of a page per write transaction


def _database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.write() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    return db


def test_connections_leave_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    db = _database(tmp_path)
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


def test_the_wal_starts_over_instead_of_growing(tmp_path: Path) -> None:
    """Many writes with checkpoints in between: the WAL file stays near one cycle's size."""
    db = _database(tmp_path)
    wal = Path(f"{tmp_path / 'wal.db'}-wal")
    rounds, per_round = 12, db_module.CHECKPOINT_EVERY
    one_cycle = 0
    for n in range(rounds * per_round):
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": ROW})
        if n % per_round == per_round - 1:
            if not one_cycle:
                one_cycle = os.path.getsize(wal) // 4096  # one round's frames, before any restart
            assert db._checkpointer is not None
            db._checkpointer.checkpoint()
    pages = os.path.getsize(wal) // 4096
    # The file keeps its high-water mark: one cycle, or two when the background thread's
    # checkpoint straddles a round. Without a restart it would hold all twelve rounds.
    assert one_cycle >= per_round
    assert pages <= 3 * one_cycle
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == rounds * per_round


def test_the_thread_checkpoints_every_checkpoint_every_writes(tmp_path: Path) -> None:
    db = _database(tmp_path)
    checkpointer = db._checkpointer
    assert checkpointer is not None
    for _ in range(db_module.CHECKPOINT_EVERY - 2):  # the CREATE TABLE was one
        with db.write() as conn:
            conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": ROW})
    assert checkpointer.runs == 0
    with db.write() as conn:
        conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": ROW})
    assert "voucherd-wal-checkpoint" in [t.name for t in threading.enumerate()]
    deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
    while checkpointer.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert checkpointer.runs == 1
    with db.read() as conn:
        count = conn.execute(text("SELECT count(*) FROM t")).scalar_one()
    assert count == db_module.CHECKPOINT_EVERY - 1


def test_the_commit_count_is_the_files_shared_by_every_process(tmp_path: Path) -> None:
    """Two gates on one lock file stand for two worker processes: one count between them."""
    lock_path = str(tmp_path / "wal.db.writer-lock")
    first, second = db_module.WriterGate(lock_path), db_module.WriterGate(lock_path)
    assert [first.count_commit() for _ in range(3)] == [1, 2, 3]
    assert second.count_commit() == 4
    assert first.count_commit() == 5
    assert db_module.WriterGate(lock_path).count_commit() == 6  # a worker started later


def test_a_checkpoint_runs_in_the_process_whose_commit_crosses_the_count(tmp_path: Path) -> None:
    db = _database(tmp_path)  # the CREATE TABLE was commit 1
    checkpointer = db._checkpointer
    assert checkpointer is not None
    other_process = db_module.WriterGate(f"{tmp_path / 'wal.db'}.writer-lock")
    for _ in range(db_module.CHECKPOINT_EVERY - 2):
        other_process.count_commit()  # another worker's commits
    with db.write() as conn:
        conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": ROW})
    deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
    while checkpointer.runs == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert checkpointer.runs == 1
