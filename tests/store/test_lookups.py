"""Lookups by id or source_id run as one statement, id first (BEHAVIOR.md §15)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, event

from voucherd.store import orders, products
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

NOW = dt.datetime(2024, 8, 29, 16, 6, 10, tzinfo=dt.UTC)


@contextlib.contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements run on ``db`` inside the block."""
    seen: list[str] = []

    def record(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_product_lookup_prefers_the_id_and_skips_deleted_rows(
    db: Database, project: ProjectKeys
) -> None:
    pid = project.id
    with db.write() as conn:
        first = products.create_product(conn, pid, {"source_id": "first", "name": "A"}, NOW)
        # Another product whose source_id is the first one's id.
        shadow = products.create_product(conn, pid, {"source_id": first["id"], "name": "B"}, NOW)
    with db.read() as conn, statements(db) as seen:
        by_id = products.find_product(conn, pid, first["id"])
        by_source_id = products.find_product(conn, pid, "first")
        missing = products.find_product(conn, pid, "nope")
    assert len(seen) == 3
    assert (by_id or {})["id"] == first["id"]
    assert (by_source_id or {})["id"] == first["id"]
    assert missing is None
    with db.write() as conn:
        products.delete_product(conn, pid, first["id"], NOW)
    with db.read() as conn:
        # The deleted product is gone, so the id now names the other one's source_id.
        assert (products.find_product(conn, pid, first["id"]) or {})["id"] == shadow["id"]
        assert products.find_product(conn, pid, "first") is None
        assert products.find_product(conn, "proj_other", shadow["id"]) is None
        assert products.find_product(conn, pid, products.SHIPPING_SOURCE_ID) is not None


def test_sku_lookup_prefers_the_id_and_skips_deleted_rows(
    db: Database, project: ProjectKeys
) -> None:
    pid = project.id
    with db.write() as conn:
        product = products.create_product(conn, pid, {"source_id": "tee"}, NOW)
        small = products.create_sku(conn, pid, product, {"source_id": "tee-s"}, NOW)
        shadow = products.create_sku(conn, pid, product, {"source_id": small["id"]}, NOW)
    with db.read() as conn, statements(db) as seen:
        by_id = products.find_sku(conn, pid, small["id"])
        by_source_id = products.find_sku(conn, pid, "tee-s")
    assert len(seen) == 2
    assert ((by_id or {})["id"], (by_source_id or {})["id"]) == (small["id"], small["id"])
    with db.write() as conn:
        products.delete_sku(conn, pid, small, NOW)
    with db.read() as conn:
        assert (products.find_sku(conn, pid, small["id"]) or {})["id"] == shadow["id"]
        assert products.find_sku(conn, pid, "tee-s") is None


def test_order_lookup_prefers_the_id(db: Database, project: ProjectKeys) -> None:
    pid = project.id
    with db.write() as conn:
        first = orders.upsert_order(conn, pid, {"source_id": "o-1", "amount": 100}, NOW)
        orders.upsert_order(conn, pid, {"source_id": first["id"], "amount": 200}, NOW)
    with db.read() as conn, statements(db) as seen:
        by_id = orders.find_order(conn, pid, first["id"])
        by_source_id = orders.find_order(conn, pid, "o-1")
        missing = orders.find_order(conn, pid, "o-2")
    assert len(seen) == 3
    assert ((by_id or {})["amount"], (by_source_id or {})["amount"], missing) == (100, 100, None)
