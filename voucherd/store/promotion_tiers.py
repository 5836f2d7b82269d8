"""Promotion tiers: code-less cart promotions inside a PROMOTION campaign (BEHAVIOR.md §12).

A tier's ``hierarchy`` orders it within its campaign (a new tier gets the next
integer). ``redeemed_quantity`` is a real column the redemption pipeline moves;
the rest of the wire object lives in ``data``.

For the redemption pipeline: :func:`get_promotion_tier` / :func:`find_promotion_tier`
(rows) and :func:`tier_json` / :func:`render_tier` (wire dicts).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, update

from voucherd.store import catalog, ids
from voucherd.store.direct import hot
from voucherd.store.errors import BusinessRuleViolation, NotFound
from voucherd.store.listing import ListQuery, in_project_by_ids, ordering, page
from voucherd.store.schema import campaigns, promotion_stacks, promotion_tiers
from voucherd.store.wire import iso

PROMOTION = "PROMOTION"

# Built once (rendering a tier after each redemption loads its campaign):
# constructing the statement per call cost more CPU than executing it.
_CAMPAIGNS_BY_IDS = hot(
    select(campaigns).where(
        in_project_by_ids(campaigns),
        campaigns.c.id.in_(bindparam("ids", expanding=True)),
    )
)


def find_promotion_tier(
    conn: Connection, project_id: str, tier_id: str, *, for_update: bool = False
) -> Row[Any] | None:
    """The tier row, or None (tiers of deleted campaigns are deleted with them)."""
    query = select(promotion_tiers).where(
        promotion_tiers.c.project_id == project_id, promotion_tiers.c.id == tier_id
    )
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).first()


def get_promotion_tier(
    conn: Connection, project_id: str, tier_id: str, *, for_update: bool = False
) -> Row[Any]:
    """Like :func:`find_promotion_tier`; raises ``NotFound("promotion_tier", tier_id)``."""
    row = find_promotion_tier(conn, project_id, tier_id, for_update=for_update)
    if row is None:
        raise NotFound("promotion_tier", tier_id)
    return row


def render_tier(
    row: Row[Any],
    campaign: Row[Any],
    categories_by_id: dict[str, dict[str, Any]] | None = None,
    assignments: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The wire ``promotion_tier`` object; ``campaign`` is its campaign's row."""
    data: dict[str, Any] = row.data
    category = (categories_by_id or {}).get(row.category_id) if row.category_id else None
    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "name": data.get("name"),
        "banner": data.get("banner"),
        "action": data.get("action") or {"discount": None},
        "metadata": data.get("metadata") or {},
        "hierarchy": row.hierarchy,
        "promotion_id": row.campaign_id,
        "campaign": {
            "id": campaign.id,
            "start_date": iso(campaign.start_date),
            "expiration_date": iso(campaign.expiration_date),
            "validity_timeframe": campaign.data.get("validity_timeframe"),
            "validity_day_of_week": campaign.data.get("validity_day_of_week"),
            "validity_hours": campaign.data.get("validity_hours"),
            "active": bool(campaign.active),
            "category_id": campaign.category_id,
            "object": "campaign",
        },
        "campaign_id": row.campaign_id,
        "active": bool(row.active),
        "start_date": iso(row.start_date),
        "expiration_date": iso(row.expiration_date),
        "validity_timeframe": data.get("validity_timeframe"),
        "validity_day_of_week": data.get("validity_day_of_week"),
        "validity_hours": data.get("validity_hours"),
        "summary": {
            "redemptions": {"total_redeemed": int(row.redeemed_quantity)},
            "orders": {
                "total_amount": int(data.get("orders_total_amount") or 0),
                "total_discount_amount": int(data.get("orders_total_discount_amount") or 0),
            },
        },
        "object": "promotion_tier",
        "validation_rule_assignments": assignments,
        "category": data.get("category"),
        "category_id": row.category_id,
        "categories": [category] if category else [],
    }


def _campaigns_by_id(conn: Connection, project_id: str, ids_: set[str]) -> dict[str, Row[Any]]:
    if not ids_:
        return {}
    rows = conn.execute(_CAMPAIGNS_BY_IDS, {"project_id": project_id, "ids": list(ids_)})
    return {row.id: row for row in rows}


def tier_json(
    conn: Connection, project_id: str, row: Row[Any], campaign: Row[Any] | None = None
) -> dict[str, Any]:
    """Render one tier with its campaign (read unless given), category and rule assignments."""
    if campaign is None:
        campaign = _campaigns_by_id(conn, project_id, {row.campaign_id})[row.campaign_id]
    cats = catalog.load_categories(conn, project_id, [row.category_id])
    assignments = catalog.assignments_list(conn, project_id, [row.id])
    return render_tier(row, campaign, cats, assignments)


def _apply_fields(
    conn: Connection, project_id: str, body: dict[str, Any], data: dict[str, Any]
) -> dict[str, Any]:
    """Copy a body's tier fields into ``data``; returns the column values to set."""
    values: dict[str, Any] = {}
    for field in ("name", "banner", "action", "metadata", *catalog.VALIDITY_FIELDS):
        if body.get(field) is not None:
            data[field] = body[field]
    for field in ("start_date", "expiration_date"):
        if body.get(field) is not None:
            values[field] = catalog.parse_date(body[field], field)
    if body.get("active") is not None:
        values["active"] = bool(body["active"])
    if body.get("hierarchy") is not None:
        values["hierarchy"] = int(body["hierarchy"])
    if body.get("category_id") is not None or body.get("category") is not None:
        values["category_id"], data["category"] = catalog.resolve_category(
            conn, project_id, body.get("category_id"), body.get("category")
        )
    return values


def create_tier(
    conn: Connection, project_id: str, campaign: Row[Any], body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """Add a tier to a PROMOTION campaign (others: 400 ``invalid_campaign``).

    Without ``hierarchy`` the tier goes after the campaign's last one.
    """
    if campaign.campaign_type != PROMOTION:
        raise BusinessRuleViolation(
            "invalid_campaign",
            "Invalid campaign",
            f"Campaign {campaign.id} is a {campaign.campaign_type} campaign, not a PROMOTION",
        )
    data: dict[str, Any] = {"metadata": {}}
    values = _apply_fields(conn, project_id, body, data)
    if "hierarchy" not in values:
        # Lock the campaign row so concurrent additions cannot pick the same number.
        conn.execute(
            select(campaigns.c.id)
            .where(campaigns.c.project_id == project_id, campaigns.c.id == campaign.id)
            .with_for_update()
        )
        highest = conn.execute(
            select(func.max(promotion_tiers.c.hierarchy)).where(
                promotion_tiers.c.project_id == project_id,
                promotion_tiers.c.campaign_id == campaign.id,
            )
        ).scalar_one_or_none()
        values["hierarchy"] = (highest or 0) + 1
    tier_id = ids.new_id("promo")
    conn.execute(
        promotion_tiers.insert().values(
            id=tier_id,
            project_id=project_id,
            campaign_id=campaign.id,
            active=values.pop("active", True),
            data=data,
            created_at=now,
            updated_at=None,
            **values,
        )
    )
    catalog.assign_rules(
        conn, project_id, body.get("validation_rules"), "promotion_tier", tier_id, now
    )
    return get_promotion_tier(conn, project_id, tier_id)


def update_tier(
    conn: Connection, project_id: str, tier_id: str, body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """Partial update: only the fields present change (``metadata`` is replaced)."""
    row = get_promotion_tier(conn, project_id, tier_id, for_update=True)
    data = dict(row.data)
    values = _apply_fields(conn, project_id, body, data)
    conn.execute(
        update(promotion_tiers)
        .where(promotion_tiers.c.project_id == project_id, promotion_tiers.c.id == row.id)
        .values(data=data, updated_at=now, **values)
    )
    return get_promotion_tier(conn, project_id, row.id)


def set_active(
    conn: Connection, project_id: str, tier_id: str, active: bool, *, now: dt.datetime
) -> Row[Any]:
    """Enable or disable a tier."""
    row = get_promotion_tier(conn, project_id, tier_id)
    conn.execute(
        update(promotion_tiers)
        .where(promotion_tiers.c.project_id == project_id, promotion_tiers.c.id == row.id)
        .values(active=active, updated_at=now)
    )
    return get_promotion_tier(conn, project_id, row.id)


def delete_tier(conn: Connection, project_id: str, tier_id: str) -> None:
    """Delete a tier and its rule assignments for good (tiers have no bin)."""
    row = get_promotion_tier(conn, project_id, tier_id)
    conn.execute(
        promotion_tiers.delete().where(
            promotion_tiers.c.project_id == project_id, promotion_tiers.c.id == row.id
        )
    )
    catalog.delete_assignments(conn, project_id, [row.id])
    _drop_from_stacks(conn, project_id, row.campaign_id, row.id)


def _drop_from_stacks(conn: Connection, project_id: str, campaign_id: str, tier_id: str) -> None:
    """Take a deleted tier out of its campaign's promotion stacks; a stack left empty goes too."""
    stacks = promotion_stacks.c
    rows = conn.execute(
        select(promotion_stacks).where(
            stacks.project_id == project_id, stacks.campaign_id == campaign_id
        )
    ).all()
    for stack in rows:
        tier_ids = [tid for tid in stack.data.get("tier_ids") or [] if tid != tier_id]
        if len(tier_ids) == len(stack.data.get("tier_ids") or []):
            continue
        if tier_ids:
            conn.execute(
                update(promotion_stacks)
                .where(stacks.id == stack.id)
                .values(data={**stack.data, "tier_ids": tier_ids})
            )
        else:
            conn.execute(promotion_stacks.delete().where(stacks.id == stack.id))


ORDERS = {
    "created_at": promotion_tiers.c.created_at,
    "updated_at": promotion_tiers.c.updated_at,
    "hierarchy": promotion_tiers.c.hierarchy,
}


def list_tiers(
    conn: Connection,
    project_id: str,
    query: ListQuery,
    *,
    campaign_id: str | None = None,
    available_at: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of tiers of live campaigns, and the total.

    ``campaign_id`` narrows to one campaign (ordered by hierarchy); ``available_at``
    keeps tiers that are active, in an active campaign, and neither expired nor
    not yet started at that moment (``is_available=true``).
    """
    live = select(campaigns.c.id).where(
        campaigns.c.project_id == project_id, campaigns.c.deleted_at.is_(None)
    )
    base = select(promotion_tiers).where(
        promotion_tiers.c.project_id == project_id, promotion_tiers.c.campaign_id.in_(live)
    )
    if campaign_id is not None:
        base = base.where(promotion_tiers.c.campaign_id == campaign_id)
    if available_at is not None:
        active_campaigns = live.where(
            campaigns.c.active.is_(True),
            or_(campaigns.c.expiration_date.is_(None), campaigns.c.expiration_date > available_at),
            or_(campaigns.c.start_date.is_(None), campaigns.c.start_date <= available_at),
        )
        base = base.where(
            and_(
                promotion_tiers.c.active.is_(True),
                promotion_tiers.c.campaign_id.in_(active_campaigns),
                or_(
                    promotion_tiers.c.expiration_date.is_(None),
                    promotion_tiers.c.expiration_date > available_at,
                ),
                or_(
                    promotion_tiers.c.start_date.is_(None),
                    promotion_tiers.c.start_date <= available_at,
                ),
            )
        )
    default = "hierarchy" if campaign_id is not None else "created_at"
    order_by = ordering(query, ORDERS, default, promotion_tiers.c.id)
    rows, total = page(conn, base, query, order_by)
    by_id = _campaigns_by_id(conn, project_id, {row.campaign_id for row in rows})
    cats = catalog.load_categories(conn, project_id, [row.category_id for row in rows])
    return [render_tier(row, by_id[row.campaign_id], cats) for row in rows], total


def delete_campaign_tiers(conn: Connection, project_id: str, campaign_id: str) -> None:
    """Delete every tier of a campaign with their rule assignments."""
    tier_ids = list(
        conn.execute(
            select(promotion_tiers.c.id).where(
                promotion_tiers.c.project_id == project_id,
                promotion_tiers.c.campaign_id == campaign_id,
            )
        ).scalars()
    )
    catalog.delete_assignments(conn, project_id, tier_ids)
    conn.execute(
        promotion_tiers.delete().where(
            promotion_tiers.c.project_id == project_id,
            promotion_tiers.c.campaign_id == campaign_id,
        )
    )
