"""The (f) dataset: bulk-inserted redemptions that the store lists like its own (both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from bench import redemptions_list
from tests.conftest import DatabaseFactory
from voucherd.store import redemptions as redemption_store
from voucherd.store.listing import ListQuery
from voucherd.store.schema import redemptions

TOTAL = 4_000  # every 2nd record is the heavy customer's (4,000 // HEAVY_RECORDS == 2)


def test_the_dataset_lists_the_heavy_customers_history_newest_first(
    backend: str, databases: DatabaseFactory
) -> None:
    db, project_id, keys = redemptions_list.build(databases.url(backend), TOTAL)
    try:
        app_id, _, token = keys.partition(":")
        assert app_id
        assert token
        heavy = f"customer-{redemptions_list.CUSTOMERS}"
        with db.read() as conn:
            stored = conn.execute(select(func.count()).select_from(redemptions)).scalar_one()
            first, total = redemption_store.list_redemptions(
                conn, project_id, ListQuery(limit=10, page=1, params={"customer": (heavy,)})
            )
            last, _ = redemption_store.list_redemptions(
                conn, project_id, ListQuery(limit=10, page=100, params={"customer": (heavy,)})
            )
        assert stored == TOTAL
        assert total == TOTAL // 2
        first, last = list(first), list(last)
        assert len(first) == len(last) == 10
        # The JSON documents came through the bulk path intact, and paging goes back in time.
        assert all(
            item["customer_id"] == f"cust_bench{redemptions_list.CUSTOMERS:08d}" for item in first
        )
        dates = [item["date"] for item in first]
        assert dates == sorted(dates, reverse=True)
        assert last[0]["date"] <= first[-1]["date"]
        assert {item["object"] for item in first} == {"redemption"}
    finally:
        db.dispose()
