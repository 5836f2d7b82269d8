"""The customer summary counts stored redemptions, cards and orders (BEHAVIOR.md §15).

No store function writes redemptions yet (the redemption pipeline will), so these
rows are inserted directly; the shapes follow ``voucherd.store.schema``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert

from voucherd.store import customers
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys
from voucherd.store.schema import redemptions, vouchers

NOW = dt.datetime(2024, 8, 29, 16, 6, 10, 138000, tzinfo=dt.UTC)


def _voucher(project_id: str, voucher_id: str, holder: str, **counters: Any) -> dict[str, Any]:
    return {
        "id": voucher_id,
        "project_id": project_id,
        "code": voucher_id.upper(),
        "active": True,
        "holder_id": holder,
        "data": {},
        "created_at": NOW,
        **counters,
    }


def _redemption(
    project_id: str,
    redemption_id: str,
    customer_id: str,
    *,
    obj: str = "redemption",
    result: str = "SUCCESS",
    status: str = "SUCCEEDED",
    related: str = "voucher",
    voucher_id: str | None = None,
    amount: int | None = None,
) -> dict[str, Any]:
    return {
        "id": redemption_id,
        "project_id": project_id,
        "object": obj,
        "date": NOW,
        "result": result,
        "status": status,
        "related_object_type": related,
        "related_object_id": voucher_id or redemption_id,
        "voucher_id": voucher_id,
        "customer_id": customer_id,
        "amount": amount,
        "data": {},
    }


def test_summary_counts_redemptions_rollbacks_and_card_balances(
    db: Database, project: ProjectKeys
) -> None:
    pid = project.id
    with db.write() as conn:
        me = customers.upsert_customer(conn, pid, {"source_id": "me"}, NOW)["id"]
        other = customers.upsert_customer(conn, pid, {"source_id": "other"}, NOW)["id"]
        gift, points = f"v_g{pid[-6:]}", f"v_l{pid[-6:]}"
        for voucher in (
            _voucher(pid, gift, me, type="GIFT_VOUCHER", gift_amount=10000, redeemed_amount=2000),
            _voucher(pid, points, me, type="LOYALTY_CARD", loyalty_points=500, redeemed_points=100),
        ):
            conn.execute(insert(vouchers).values(**voucher))
        rows = [
            _redemption(pid, f"r_1{pid}", me, voucher_id=gift, amount=3000),
            # A successful parent of a stacked redemption: its children are what count.
            _redemption(pid, f"r_p{pid}", me, related="redemption"),
            _redemption(pid, f"r_2{pid}", me, status="ROLLED_BACK", voucher_id=gift, amount=1000),
            _redemption(
                pid, f"rr_1{pid}", me, obj="redemption_rollback", voucher_id=gift, amount=-1000
            ),
            _redemption(pid, f"rf_1{pid}", me, result="FAILURE", status="FAILED", voucher_id=gift),
            _redemption(
                pid, f"rf_2{pid}", me, result="FAILURE", status="FAILED", related="redemption"
            ),
            _redemption(
                pid,
                f"rrf_1{pid}",
                me,
                obj="redemption_rollback",
                result="FAILURE",
                status="FAILED",
                voucher_id=gift,
            ),
            _redemption(pid, f"r_3{pid}", me, voucher_id=points, amount=100),
            _redemption(pid, f"r_9{pid}", other, voucher_id=gift, amount=50),
        ]
        conn.execute(insert(redemptions), rows)
    with db.read() as conn:
        summary = customers.customer_summary(conn, pid, me)
    assert summary["redemptions"] == {
        "total_redeemed": 5,
        "total_failed": 2,
        "total_succeeded": 3,
        "total_rolled_back": 1,
        "total_rollback_failed": 1,
        "total_rollback_succeeded": 1,
        "gift": {"redeemed_amount": 3000, "amount_to_go": 8000},
        "loyalty_card": {"redeemed_points": 100, "points_to_go": 400},
    }
