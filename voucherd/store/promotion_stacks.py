"""Promotion stacks: named, ordered groups of one PROMOTION campaign's tiers (BEHAVIOR.md §1.1).

A stack is ``{id: stack_…, name, tiers: {ids: [...], hierarchy_mode: "MANUAL"},
campaign_id, category_id, categories, created_at, updated_at, object:
"promotion_stack"}``; everything but the campaign lives in ``data``. Every tier id
must be a tier of the stack's campaign. Deleting a tier takes it out of the stacks
that list it (a stack left empty is deleted); deleting the campaign hides its stacks.

The redemption pipeline expands a ``promotion_stack`` redeemable to
``data["tier_ids"]``, in that order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, select, update

from voucherd.store import campaigns, catalog, ids
from voucherd.store.errors import BusinessRuleViolation, InvalidPayload, NotFound
from voucherd.store.listing import ListQuery, date_range_clause, ordering, page
from voucherd.store.schema import campaigns as campaigns_table
from voucherd.store.schema import promotion_stacks, promotion_tiers
from voucherd.store.wire import iso

RESOURCE = "promotion_stack"
s = promotion_stacks.c
ORDERS = {
    "created_at": s.created_at,
    "updated_at": s.updated_at,
    "name": s.data["name"].as_string(),
}


def _promotion(conn: Connection, project_id: str, id_or_name: str) -> Row[Any]:
    campaign = campaigns.get_campaign(conn, project_id, id_or_name)
    if campaign.campaign_type != "PROMOTION":
        raise BusinessRuleViolation(
            "invalid_campaign", "Invalid campaign", f"Campaign {campaign.name} is not a PROMOTION"
        )
    return campaign


def _tier_ids(
    conn: Connection, project_id: str, campaign_id: str, wanted: Sequence[str]
) -> list[str]:
    """The ids as sent, each checked to be a tier of the campaign (404 ``promotion_tier``)."""
    if not wanted:
        raise InvalidPayload("Property .tiers.ids must NOT have fewer than 1 items")
    if len(set(wanted)) != len(wanted):
        raise InvalidPayload("Property .tiers.ids must NOT have duplicate items")
    known = set(
        conn.execute(
            select(promotion_tiers.c.id).where(
                promotion_tiers.c.project_id == project_id,
                promotion_tiers.c.campaign_id == campaign_id,
                promotion_tiers.c.id.in_(list(wanted)),
            )
        ).scalars()
    )
    for tier_id in wanted:
        if tier_id not in known:
            raise NotFound("promotion_tier", tier_id)
    return list(wanted)


def render_stack(row: Row[Any], categories_by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The wire ``promotion_stack`` object."""
    data: dict[str, Any] = row.data
    category_id = data.get("category_id")
    category = categories_by_id.get(category_id) if category_id else None
    return {
        "id": row.id,
        "name": data.get("name"),
        "tiers": {"ids": list(data.get("tier_ids") or []), "hierarchy_mode": "MANUAL"},
        "campaign_id": row.campaign_id,
        "category_id": category_id,
        "categories": [category] if category else [],
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "object": "promotion_stack",
    }


def _json(conn: Connection, project_id: str, row: Row[Any]) -> dict[str, Any]:
    cats = catalog.load_categories(conn, project_id, [row.data.get("category_id")])
    return render_stack(row, cats)


def create_stack(
    conn: Connection, project_id: str, campaign_ref: str, body: dict[str, Any], *, now: dt.datetime
) -> dict[str, Any]:
    """A new stack in a PROMOTION campaign (400 ``invalid_campaign`` for other campaigns)."""
    campaign = _promotion(conn, project_id, campaign_ref)
    tiers = body.get("tiers") or {}
    data: dict[str, Any] = {
        "name": body["name"],
        "tier_ids": _tier_ids(conn, project_id, campaign.id, tiers.get("ids") or []),
        "category_id": None,
    }
    if body.get("category_id") is not None:
        data["category_id"], _ = catalog.resolve_category(
            conn, project_id, body["category_id"], None
        )
    stack_id = ids.new_id("stack")
    conn.execute(
        promotion_stacks.insert().values(
            id=stack_id,
            project_id=project_id,
            campaign_id=campaign.id,
            data=data,
            created_at=now,
            updated_at=None,
        )
    )
    return get_stack(conn, project_id, campaign.id, stack_id)


def _row(conn: Connection, project_id: str, campaign_id: str, stack_id: str) -> Row[Any]:
    row = conn.execute(
        select(promotion_stacks).where(
            s.project_id == project_id, s.campaign_id == campaign_id, s.id == stack_id
        )
    ).first()
    if row is None:
        raise NotFound(RESOURCE, stack_id)
    return row


def get_stack(
    conn: Connection, project_id: str, campaign_ref: str, stack_id: str
) -> dict[str, Any]:
    """One stack of the campaign; unknown campaign or stack → 404."""
    campaign = _promotion(conn, project_id, campaign_ref)
    return _json(conn, project_id, _row(conn, project_id, campaign.id, stack_id))


def update_stack(
    conn: Connection,
    project_id: str,
    campaign_ref: str,
    stack_id: str,
    body: dict[str, Any],
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """Replace the fields present: ``name``, ``tiers.ids`` (wholesale), ``category_id``."""
    campaign = _promotion(conn, project_id, campaign_ref)
    row = _row(conn, project_id, campaign.id, stack_id)
    data = dict(row.data)
    if body.get("name") is not None:
        data["name"] = body["name"]
    tiers = body.get("tiers") or {}
    if tiers.get("ids") is not None:
        data["tier_ids"] = _tier_ids(conn, project_id, campaign.id, tiers["ids"])
    if body.get("category_id") is not None:
        data["category_id"], _ = catalog.resolve_category(
            conn, project_id, body["category_id"], None
        )
    conn.execute(update(promotion_stacks).where(s.id == row.id).values(data=data, updated_at=now))
    return get_stack(conn, project_id, campaign.id, row.id)


def delete_stack(conn: Connection, project_id: str, campaign_ref: str, stack_id: str) -> None:
    """Delete a stack for good."""
    campaign = _promotion(conn, project_id, campaign_ref)
    row = _row(conn, project_id, campaign.id, stack_id)
    conn.execute(delete(promotion_stacks).where(s.id == row.id))


def list_stacks(
    conn: Connection, project_id: str, query: ListQuery, *, campaign_ref: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Stacks of live campaigns (of one campaign with ``campaign_ref``), oldest first by default."""
    live = select(campaigns_table.c.id).where(
        campaigns_table.c.project_id == project_id, campaigns_table.c.deleted_at.is_(None)
    )
    base = select(promotion_stacks).where(
        s.project_id == project_id,
        s.campaign_id.in_(live),
        date_range_clause(query, s.created_at, s.updated_at),
    )
    if campaign_ref is not None:
        base = base.where(s.campaign_id == _promotion(conn, project_id, campaign_ref).id)
    rows, total = page(conn, base, query, ordering(query, ORDERS, "created_at", s.id))
    cats = catalog.load_categories(conn, project_id, [row.data.get("category_id") for row in rows])
    return [render_stack(row, cats) for row in rows], total
