"""Hot statements on the driver's cursor answer exactly what SQLAlchemy's path answers.

Each case runs a statement marked with ``direct.hot`` twice, once directly and once
with the direct path switched off, on both databases, and compares what came back:
values and their Python types (tz-aware datetimes, JSON documents, booleans), IN
lists of every length, several parameter sets, RETURNING, row counts and errors.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, NoResultFound

from tests.support.statements import statements
from voucherd.store import direct
from voucherd.store.db import Database
from voucherd.store.direct import hot
from voucherd.store.projects import ProjectKeys
from voucherd.store.schema import customers

NOW = dt.datetime(2024, 8, 29, 16, 6, 10, 123456, tzinfo=dt.UTC)

_INSERT = hot(insert(customers))
_BY_PROJECT = hot(
    select(customers)
    .where(customers.c.project_id == bindparam("project_id"))
    .order_by(customers.c.id)
)
_BY_IDS = hot(
    select(customers.c.id, customers.c.data)
    .where(customers.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(customers.c.id)
)
_RENAME = hot(
    update(customers)
    .where(customers.c.id == bindparam("b_id"))
    .values(name=bindparam("b_name"), updated_at=bindparam("b_now"))
    .returning(customers.c.id, customers.c.name, customers.c.updated_at)
)


BothPaths = Callable[[Callable[[], Any]], tuple[Any, Any]]


@pytest.fixture
def both_paths() -> Iterator[BothPaths]:
    """Run a function with the direct path on, then off; returns both answers."""

    def run(fn: Callable[[], Any]) -> tuple[Any, Any]:
        direct.enabled = True
        fast = fn()
        direct.enabled = False
        try:
            slow = fn()
        finally:
            direct.enabled = True
        return fast, slow

    yield run
    direct.enabled = True


def _customer(project_id: str, n: int) -> dict[str, Any]:
    return {
        "id": f"cust_{uuid.uuid4().hex}",
        "project_id": project_id,
        "source_id": f"direct-{n}",
        "name": None if n % 2 else f"Name {n}",
        "email": None,
        "data": {"metadata": {"n": n, "vip": n % 2 == 0, "tags": ["a", "b"]}, "note": "żółw"},
        "created_at": NOW + dt.timedelta(seconds=n),
        "updated_at": NOW,
    }


def _insert(db: Database, project_id: str, count: int) -> list[dict[str, Any]]:
    rows = [_customer(project_id, n) for n in range(count)]
    with db.write() as conn:
        conn.execute(_INSERT, rows)
    return rows


def _plain(rows: list[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in rows]


def test_rows_carry_the_same_values_and_types(
    db: Database, project: ProjectKeys, both_paths: BothPaths
) -> None:
    inserted = _insert(db, project.id, 3)

    def read() -> list[Any]:
        with db.read() as conn:
            return conn.execute(_BY_PROJECT, {"project_id": project.id}).all()

    fast, slow = both_paths(read)
    assert _plain(fast) == _plain(slow)
    assert sorted(r["id"] for r in inserted) == [row.id for row in fast]
    first = fast[0]
    assert first.created_at.tzinfo is not None
    assert first.updated_at == NOW
    assert isinstance(first.data, dict)
    assert first.data["note"] == "żółw"
    assert first[0] == first.id
    assert tuple(first) == tuple(slow[0])


def test_in_lists_of_every_length(
    db: Database, project: ProjectKeys, both_paths: BothPaths
) -> None:
    inserted = sorted(_insert(db, project.id, 4), key=lambda r: r["id"])
    ids = [r["id"] for r in inserted]
    for wanted in ([], ids[:1], ids[1:4], [*ids, "cust_missing"]):

        def read(wanted: list[str] = wanted) -> list[dict[str, Any]]:
            with db.read() as conn:
                return _plain(conn.execute(_BY_IDS, {"ids": wanted}).all())

        fast, slow = both_paths(read)
        assert fast == slow
        assert [row["id"] for row in fast] == [i for i in ids if i in wanted]


def test_returning_and_row_counts(db: Database, project: ProjectKeys) -> None:
    (row,) = _insert(db, project.id, 1)
    later = NOW + dt.timedelta(hours=1)
    with db.write() as conn:
        result = conn.execute(_RENAME, {"b_id": row["id"], "b_name": "Renamed", "b_now": later})
        assert result.rowcount == 1
        returned = result.one()
        missing = conn.execute(_RENAME, {"b_id": "cust_missing", "b_name": "x", "b_now": later})
        assert missing.rowcount == 0
        with pytest.raises(NoResultFound):
            missing.one()
    assert (returned.id, returned.name, returned.updated_at) == (row["id"], "Renamed", later)
    with db.read() as conn:
        stored = conn.execute(_BY_IDS, {"ids": [row["id"]]}).one()
    assert stored.data == row["data"]


def test_driver_errors_are_sqlalchemys_and_change_nothing(
    db: Database, project: ProjectKeys
) -> None:
    (row,) = _insert(db, project.id, 1)
    again = {**_customer(project.id, 7), "id": row["id"]}

    def insert_twice() -> None:
        with db.write() as conn:
            conn.execute(_INSERT, _customer(project.id, 8))
            conn.execute(_INSERT, again)

    with pytest.raises(IntegrityError):
        insert_twice()
    with db.read() as conn:
        left = conn.execute(_BY_PROJECT, {"project_id": project.id}).all()
    assert [r.id for r in left] == [row["id"]]


def test_listeners_see_every_statement(db: Database, project: ProjectKeys) -> None:
    """An engine someone listens to runs hot statements through SQLAlchemy, so none is missed."""
    _insert(db, project.id, 2)
    with db.read() as conn, statements(db) as seen:
        rows = conn.execute(_BY_PROJECT, {"project_id": project.id}).all()
    assert len(rows) == 2
    assert any("FROM customers" in sql for sql in seen)


def test_the_direct_path_skips_sqlalchemys_execution(db: Database, project: ProjectKeys) -> None:
    """Traced statements come from the direct path (the trace hook sees only those)."""
    _insert(db, project.id, 1)
    traced: list[str] = []
    direct.trace = lambda sql, _took: traced.append(sql)
    try:
        with db.read() as conn:
            conn.execute(_BY_PROJECT, {"project_id": project.id}).one()
            # Not marked hot: SQLAlchemy's path, so not traced.
            conn.execute(select(customers.c.id).where(customers.c.id == "x")).all()
    finally:
        direct.trace = None
    selects = [sql for sql in traced if sql.startswith("SELECT")]
    assert len(selects) == 1
    assert "FROM customers" in selects[0]


def test_outside_a_transaction_sqlalchemy_begins_one(db: Database, project: ProjectKeys) -> None:
    _insert(db, project.id, 1)
    with db.engine.connect() as conn:
        assert isinstance(conn, Connection)
        assert not conn.in_transaction()
        rows = conn.execute(_BY_PROJECT, {"project_id": project.id}).all()
        assert conn.in_transaction()
    assert len(rows) == 1
