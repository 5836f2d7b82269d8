"""``GET /v1/campaigns/{id}/summary``: counters computed from the tables on every read.

Counted (optionally within ``start_date``..``end_date``, both inclusive, on each
record's own timestamp): redemption and rollback records of the campaign's vouchers
(``r_``/``rf_``, ``rr_``/``rrf_``; parents of stacked redemptions carry no campaign and
are not counted); vouchers created and deleted; publications (cards with a holder);
gift credits and loyalty points by ledger type, and the credits/points the cards were
created with. Validations are not stored and the order and discount totals are not
tracked per campaign, so those counters are always 0; so are pending points,
expirations, transfers and referrals, which voucherd does not model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, select, true

from voucherd.store import campaigns
from voucherd.store.catalog import parse_date
from voucherd.store.schema import redemptions, voucher_transactions, vouchers

ZERO_FIELDS = (
    "validations",
    "validations_succeeded",
    "validations_failed",
    "orders_amount",
    "orders_rolledback_amount",
    "publications_failed",
    "discounted_amount",
    "rolledback_discounted_amount",
    "amount_deleted",
    "points_deleted",
    "points_rewarded",
    "points_expired",
    "points_transferred_out",
    "points_transferred_in",
    "pending_points_added",
    "pending_points_subtracted",
    "pending_points_activated",
    "pending_points_canceled",
    "referred_customers",
)
# Ledger type → (summary field, sign that makes the figure positive).
LEDGER_FIELDS = {
    "CREDITS_ADDITION": ("amount_added", 1),
    "CREDITS_REMOVAL": ("amount_subtracted", -1),
    "CREDITS_REDEMPTION": ("amount_redeemed", -1),
    "CREDITS_REFUND": ("amount_rolledback", 1),
    "POINTS_ADDITION": ("points_added", 1),
    "POINTS_REMOVAL": ("points_subtracted", -1),
    "POINTS_REDEMPTION": ("points_redeemed", -1),
    "POINTS_REFUND": ("points_rolledback", 1),
}


def date_range(start: str | None, end: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Inclusive bounds from the query: a date-only ``end_date`` covers that whole day."""
    start_at = parse_date(start, "start_date")
    end_at = parse_date(end, "end_date")
    if end is not None and end_at is not None and len(end.strip()) == 10:
        end_at += dt.timedelta(days=1, microseconds=-1)
    return start_at, end_at


def _within(column: Any, start: dt.datetime | None, end: dt.datetime | None) -> ColumnElement[bool]:
    parts = []
    if start is not None:
        parts.append(column >= start)
    if end is not None:
        parts.append(column <= end)
    return and_(true(), *parts)


def _sum_if(condition: ColumnElement[bool], value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def campaign_summary(
    conn: Connection,
    project_id: str,
    id_or_name: str,
    *,
    start_date: dt.datetime | None = None,
    end_date: dt.datetime | None = None,
) -> dict[str, Any]:
    """The ``campaign_summary`` object of a campaign (404 ``campaign`` when unknown)."""
    row = campaigns.get_campaign(conn, project_id, id_or_name)
    out: dict[str, Any] = {"object": "campaign_summary"}
    r = redemptions.c
    counted = conn.execute(
        select(
            _sum_if(r.object == "redemption"),
            _sum_if((r.object == "redemption") & (r.result == "SUCCESS")),
            _sum_if((r.object == "redemption") & (r.result == "FAILURE")),
            _sum_if(r.object == "redemption_rollback"),
            _sum_if((r.object == "redemption_rollback") & (r.result == "SUCCESS")),
            _sum_if((r.object == "redemption_rollback") & (r.result == "FAILURE")),
        ).where(
            r.project_id == project_id,
            r.campaign_id == row.id,
            _within(r.date, start_date, end_date),
        )
    ).one()
    for name, value in zip(
        (
            "redemptions",
            "redemptions_succeeded",
            "redemptions_failed",
            "rollbacks",
            "rollbacks_succeeded",
            "rollbacks_failed",
        ),
        counted,
        strict=True,
    ):
        out[name] = int(value)
    v = vouchers.c
    cards = conn.execute(
        select(
            _sum_if(_within(v.created_at, start_date, end_date)),
            _sum_if(v.deleted_at.is_not(None) & _within(v.deleted_at, start_date, end_date)),
            _sum_if(v.holder_id.is_not(None) & _within(v.created_at, start_date, end_date)),
        ).where(v.project_id == project_id, v.campaign_id == row.id)
    ).one()
    out["vouchers_created"], out["vouchers_deleted"], out["publications"] = (
        int(value) for value in cards
    )
    out["publications_succeeded"] = out["publications"]
    t = voucher_transactions.c
    moved = dict.fromkeys((field for field, _ in LEDGER_FIELDS.values()), 0)
    for kind, total in conn.execute(
        select(t.type, func.sum(t.amount))
        .join(vouchers, vouchers.c.id == t.voucher_id)
        .where(
            t.project_id == project_id,
            v.campaign_id == row.id,
            _within(t.created_at, start_date, end_date),
        )
        .group_by(t.type)
    ):
        if kind in LEDGER_FIELDS:
            field, sign = LEDGER_FIELDS[kind]
            moved[field] = sign * int(total or 0)
    out.update(moved)
    # What cards started with: their lifetime totals less every manual addition ever.
    created = conn.execute(
        select(
            func.coalesce(func.sum(v.gift_amount), 0), func.coalesce(func.sum(v.loyalty_points), 0)
        ).where(
            v.project_id == project_id,
            v.campaign_id == row.id,
            _within(v.created_at, start_date, end_date),
        )
    ).one()
    added_ever = dict(
        conn.execute(
            select(t.type, func.coalesce(func.sum(t.amount), 0))
            .join(vouchers, vouchers.c.id == t.voucher_id)
            .where(
                t.project_id == project_id,
                v.campaign_id == row.id,
                t.type.in_(("CREDITS_ADDITION", "POINTS_ADDITION")),
                _within(v.created_at, start_date, end_date),
            )
            .group_by(t.type)
        ).all()
    )
    out["created_vouchers_amount"] = int(created[0]) - int(added_ever.get("CREDITS_ADDITION", 0))
    out["created_vouchers_points"] = int(created[1]) - int(added_ever.get("POINTS_ADDITION", 0))
    for name in ZERO_FIELDS:
        out[name] = 0
    out["campaign"] = campaigns.campaign_json(conn, project_id, row)
    return out
