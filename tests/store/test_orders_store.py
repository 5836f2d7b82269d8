"""Pricing an order for validation reads the catalogue and writes nothing (BEHAVIOR.md §7.1, §15)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from voucherd.store import orders, products
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys
from voucherd.store.schema import customers
from voucherd.store.schema import orders as orders_table
from voucherd.store.schema import products as products_table

NOW = dt.datetime(2024, 8, 29, 16, 6, 10, tzinfo=dt.UTC)


def _counts(db: Database, project_id: str) -> tuple[int, int, int]:
    with db.read() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).where(table.c.project_id == project_id)).scalar_one()
            for table in (products_table, orders_table, customers)
        )


def test_resolve_order_prices_items_without_writing(db: Database, project: ProjectKeys) -> None:
    pid = project.id
    with db.write() as conn:
        shoe = products.create_product(
            conn, pid, {"source_id": "shoe", "name": "Shoe", "price": 2000}, NOW
        )
    before = _counts(db, pid)
    payload = {
        "source_id": "new-order",
        "customer": {"source_id": "new-customer"},
        "items": [
            {"source_id": "shoe", "related_object": "product", "quantity": 2},
            {"quantity": 1, "product": {"source_id": "hat", "price": 500, "override": True}},
            {"product_id": shoe["id"], "quantity": 1, "product": {"price": 1500, "override": True}},
        ],
    }
    with db.read() as conn:
        resolved = orders.resolve_order(conn, pid, payload)
    assert resolved["existing"] is None
    assert [item["amount"] for item in resolved["items"]] == [4000, 500, 1500]
    assert (resolved["amount"], resolved["total_amount"], resolved["status"]) == (
        6000,
        6000,
        "CREATED",
    )
    assert _counts(db, pid) == before
    with db.read() as conn:
        assert products.get_product(conn, pid, "shoe")["price"] == 2000
        assert products.find_product(conn, pid, "hat") is None
