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


def test_discounts_saved_by_the_pipeline_keep_item_ids_and_reset_clears_them(
    db: Database, project: ProjectKeys
) -> None:
    pid = project.id
    with db.write() as conn:
        order = orders.upsert_order(
            conn,
            pid,
            {"source_id": "o", "items": [{"source_id": "a", "quantity": 2, "price": 500}]},
            NOW,
        )
        item = dict(order["data"]["items"][0])
        discounted = orders.upsert_order(
            conn,
            pid,
            {
                "id": order["id"],
                "status": "PAID",
                "discount_amount": 100,
                "applied_discount_amount": 100,
                "items": [{**item, "discount_amount": 200, "applied_discount_amount": 200}],
            },
            NOW,
        )
    wire = orders.render_order(discounted)
    assert wire["items"][0]["id"] == item["id"]
    assert (wire["amount"], wire["discount_amount"], wire["items_discount_amount"]) == (
        1000,
        100,
        200,
    )
    assert (wire["total_discount_amount"], wire["total_amount"]) == (300, 700)
    assert wire["total_applied_discount_amount"] == 300
    assert wire["items"][0]["subtotal_amount"] == 800
    with db.write() as conn:
        reset = orders.reset_order_discounts(conn, pid, "o", NOW, status="CANCELED")
    wire = orders.render_order(reset)
    assert (wire["status"], wire["amount"], wire["total_amount"]) == ("CANCELED", 1000, 1000)
    assert (
        wire["discount_amount"],
        wire["items_discount_amount"],
        wire["total_discount_amount"],
    ) == (0, 0, 0)
    assert (wire["items"][0]["discount_amount"], wire["items"][0]["subtotal_amount"]) == (0, 1000)
    assert wire["items"][0]["id"] == item["id"]
    with db.read() as conn:
        assert orders.render_order(orders.get_order(conn, pid, "o")) == wire


def test_record_order_redemption_adds_and_merges_map_entries(
    db: Database, project: ProjectKeys
) -> None:
    pid = project.id
    entry = {
        "date": "2024-08-29T16:06:10.000Z",
        "related_object_type": "voucher",
        "related_object_id": "v_1",
        "related_object_parent_id": "camp_1",
    }
    with db.write() as conn:
        order = orders.upsert_order(conn, pid, {"amount": 100}, NOW)
        orders.record_order_redemption(conn, pid, order["id"], "r_1", entry, NOW)
        orders.record_order_redemption(
            conn, pid, order["id"], "r_1", {"rollback_id": "rr_1", "rollback_date": "x"}, NOW
        )
    with db.read() as conn:
        stored = orders.render_order(orders.get_order(conn, pid, order["id"]))
    assert stored["redemptions"] == {"r_1": {**entry, "rollback_id": "rr_1", "rollback_date": "x"}}
