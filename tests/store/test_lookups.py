"""Lookups by id or source_id run as one statement, id first (BEHAVIOR.md §15).

Also the rollback's order write: clearing discounts and recording the map entry in
one UPDATE stores what the two separate writes stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from tests.support.statements import statements
from voucherd.store import orders, products
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

NOW = dt.datetime(2024, 8, 29, 16, 6, 10, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)


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


def test_skus_are_found_together_as_one_by_one(db: Database, project: ProjectKeys) -> None:
    pid = project.id
    with db.write() as conn:
        product = products.create_product(conn, pid, {"source_id": "mug", "price": 900}, NOW)
        small = products.create_sku(conn, pid, product, {"source_id": "mug-s", "price": 800}, NOW)
        shadow = products.create_sku(conn, pid, product, {"source_id": small["id"]}, NOW)
        gone = products.create_sku(conn, pid, product, {"source_id": "mug-gone"}, NOW)
        products.delete_sku(conn, pid, gone, NOW)
    idents = [small["id"], "mug-s", shadow["id"], "mug-gone", "nowhere"]
    with db.read() as conn, statements(db) as seen:
        together = products.find_skus(conn, pid, idents)
    assert len(seen) == 1
    with db.read() as conn:
        one_by_one = {i: products.find_sku(conn, pid, i) for i in idents}
        # Another project's identifiers find nothing here.
        assert products.find_skus(conn, "proj_other", idents) == {}
    assert together == {i: row for i, row in one_by_one.items() if row is not None}
    # The id wins over another SKU's source_id, as find_sku has it.
    assert {i: row["id"] for i, row in together.items()} == {
        small["id"]: small["id"],
        "mug-s": small["id"],
        shadow["id"]: shadow["id"],
    }
    items: list[dict[str, Any]] = [
        {"source_id": "mug-s", "related_object": "sku", "quantity": 2},
        {"sku_id": "nowhere", "source_id": shadow["id"], "related_object": "sku", "quantity": 1},
        {"source_id": "mug", "related_object": "product", "quantity": 1},
        {"source_id": "mug-gone", "related_object": "sku", "quantity": 1, "price": 50},
    ]
    with db.read() as conn, statements(db) as seen:
        batched = orders.resolve_items(conn, pid, items)
    # One statement for every SKU, then the products the SKU items and the product item name.
    assert sum("FROM skus" in sql for sql in seen) == 1
    with db.read() as conn:
        assert batched == [orders.resolve_item(conn, pid, item) for item in items]
    assert [(i.get("sku_id"), i.get("product_id"), i["price"]) for i in batched] == [
        (small["id"], product["id"], 800),
        (shadow["id"], product["id"], 900),
        (None, product["id"], 900),
        (None, None, 50),
    ]


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


def _discounted_order(conn: Connection, project_id: str, source_id: str) -> orders.Order:
    order = orders.upsert_order(
        conn,
        project_id,
        {
            "source_id": source_id,
            "status": "PAID",
            "discount_amount": 100,
            "items": [{"source_id": "a", "quantity": 2, "price": 500, "discount_amount": 200}],
        },
        NOW,
    )
    entry = {"date": "2024-08-29T16:06:10.000Z", "related_object_type": "voucher"}
    return orders.record_order_redemption(conn, project_id, order["id"], "r_1", entry, NOW)


def test_reset_with_the_map_entry_is_one_write_of_the_same_order(
    db: Database, project: ProjectKeys
) -> None:
    pid = project.id
    entry = {"rollback_id": "rr_1", "rollback_date": "2024-08-29T16:11:10.000Z"}
    with db.write() as conn:
        apart = _discounted_order(conn, pid, "apart")
        together = _discounted_order(conn, pid, "together")
        orders.reset_order_discounts(conn, pid, apart["id"], LATER, status="CANCELED")
        apart_done = orders.record_order_redemption(conn, pid, apart["id"], "r_1", entry, LATER)
        with statements(db) as seen:
            together_done = orders.reset_order_discounts(
                conn,
                pid,
                together["id"],
                LATER,
                status="CANCELED",
                order=together,
                redemption=("r_1", entry),
            )
    assert len(seen) == 1
    with db.read() as conn:
        stored = [orders.get_order(conn, pid, o["id"]) for o in (apart, together)]

    def comparable(order: orders.Order) -> dict[str, Any]:
        wire = orders.render_order(order)
        items = [{k: v for k, v in i.items() if k != "id"} for i in wire["items"]]
        return {**wire, "id": None, "source_id": None, "items": items}

    assert comparable(together_done) == comparable(apart_done)
    assert comparable(stored[1]) == comparable(stored[0]) == comparable(apart_done)
    assert stored[1]["data"]["redemptions"]["r_1"]["rollback_id"] == "rr_1"
    assert (stored[1]["status"], stored[1]["total_amount"]) == ("CANCELED", 1000)
