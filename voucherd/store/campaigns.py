"""Campaigns: voucher templates, code generation, promotion tier containers (BEHAVIOR.md §1.4, §12).

A campaign stores its voucher template in ``data["template"]`` (type, discount,
gift, loyalty points, redemption limit, ``code_config``). Its vouchers copy the
template and the campaign's dates and windows when generated; a campaign update
propagates to the vouchers nobody holds or has redeemed yet.

Names are unique per project among live campaigns. On PostgreSQL a transaction
advisory lock on (project, name) serialises concurrent creations of one name;
SQLite's write transactions are serial already.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    bindparam,
    cast,
    false,
    func,
    select,
    text,
    update,
)

from voucherd.store import catalog, ids, promotion_tiers, vouchers
from voucherd.store.codes import CodeConfig
from voucherd.store.errors import BusinessRuleViolation, Duplicate, NotFound
from voucherd.store.listing import ListQuery, date_range_clause, filter_clause, ordering, page
from voucherd.store.schema import async_actions, campaigns, validation_rule_assignments
from voucherd.store.schema import vouchers as voucher_table
from voucherd.store.wire import iso

VOUCHER_TYPE_BY_CAMPAIGN = {
    "DISCOUNT_COUPONS": vouchers.DISCOUNT_VOUCHER,
    "REFERRAL_PROGRAM": vouchers.DISCOUNT_VOUCHER,
    "GIFT_VOUCHERS": vouchers.GIFT_VOUCHER,
    "LOYALTY_PROGRAM": vouchers.LOYALTY_CARD,
}
CAMPAIGN_BY_VOUCHER_TYPE = {
    vouchers.DISCOUNT_VOUCHER: "DISCOUNT_COUPONS",
    vouchers.GIFT_VOUCHER: "GIFT_VOUCHERS",
    vouchers.LOYALTY_CARD: "LOYALTY_PROGRAM",
}
LIVE = campaigns.c.deleted_at.is_(None)
# Rows per UPDATE round trip when an update propagates to vouchers.
PROPAGATE_BATCH = 2_000


def _invalid_campaign(details: str) -> BusinessRuleViolation:
    return BusinessRuleViolation("invalid_campaign", "Invalid campaign", details)


# --- reading ------------------------------------------------------------------------


def find_campaign(
    conn: Connection, project_id: str, id_or_name: str, *, for_update: bool = False
) -> Row[Any] | None:
    """The live campaign with this id (or, failing that, this name), or None."""
    for column in (campaigns.c.id, campaigns.c.name):
        query = select(campaigns).where(
            campaigns.c.project_id == project_id, LIVE, column == id_or_name
        )
        if for_update:
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is not None:
            return row
    return None


def get_campaign(
    conn: Connection, project_id: str, id_or_name: str, *, for_update: bool = False
) -> Row[Any]:
    """Like :func:`find_campaign`; raises ``NotFound("campaign", id_or_name)``."""
    row = find_campaign(conn, project_id, id_or_name, for_update=for_update)
    if row is None:
        raise NotFound("campaign", id_or_name)
    return row


def _voucher_counts(conn: Connection, project_id: str, campaign_ids: list[str]) -> dict[str, int]:
    if not campaign_ids:
        return {}
    rows = conn.execute(
        select(voucher_table.c.campaign_id, func.count())
        .where(
            voucher_table.c.project_id == project_id,
            voucher_table.c.campaign_id.in_(campaign_ids),
            voucher_table.c.deleted_at.is_(None),
        )
        .group_by(voucher_table.c.campaign_id)
    )
    return {campaign_id: int(count) for campaign_id, count in rows}


def _template_json(row: Row[Any]) -> dict[str, Any] | None:
    template: dict[str, Any] = row.data.get("template") or {}
    if row.campaign_type == promotion_tiers.PROMOTION:
        return None
    kind = template.get("type") or vouchers.DISCOUNT_VOUCHER
    out: dict[str, Any] = {
        "type": kind,
        "discount": template.get("discount") if kind == vouchers.DISCOUNT_VOUCHER else None,
        "gift": None,
        "loyalty_card": None,
        "redemption": {"quantity": template.get("quantity")},
        "code_config": CodeConfig.from_dict(template.get("code_config")).as_dict(),
        "is_referral_code": row.campaign_type == "REFERRAL_PROGRAM",
        "start_date": iso(row.start_date),
        "expiration_date": iso(row.expiration_date),
    }
    if kind == vouchers.GIFT_VOUCHER:
        out["gift"] = {
            "amount": int(template.get("gift_amount") or 0),
            "effect": template.get("gift_effect") or "APPLY_TO_ORDER",
        }
    if kind == vouchers.LOYALTY_CARD:
        card = {"points": int(template.get("loyalty_points") or 0)}
        if template.get("loyalty_expiration_rules") is not None:
            card["expiration_rules"] = template["loyalty_expiration_rules"]
        out["loyalty_card"] = card
    for field in catalog.VALIDITY_FIELDS:
        out[field] = row.data.get(field)
    return out


def render_campaign(
    row: Row[Any],
    *,
    vouchers_count: int,
    categories_by_id: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The wire ``campaign`` object (CampaignBase: no tiers, no assignments)."""
    data: dict[str, Any] = row.data
    category = (categories_by_id or {}).get(row.category_id) if row.category_id else None
    return {
        "id": row.id,
        "name": row.name,
        "description": data.get("description"),
        "campaign_type": row.campaign_type,
        "type": row.type,
        "voucher": _template_json(row),
        "auto_join": bool(data.get("auto_join", False)),
        "join_once": bool(data.get("join_once", False)),
        "use_voucher_metadata_schema": bool(data.get("use_voucher_metadata_schema", False)),
        "validity_timeframe": data.get("validity_timeframe"),
        "validity_day_of_week": data.get("validity_day_of_week"),
        "validity_hours": data.get("validity_hours"),
        "activity_duration_after_publishing": data.get("activity_duration_after_publishing"),
        "vouchers_count": vouchers_count,
        "start_date": iso(row.start_date),
        "expiration_date": iso(row.expiration_date),
        "active": bool(row.active),
        "metadata": data.get("metadata") or {},
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "category": data.get("category"),
        "creation_status": "DONE",
        "vouchers_generation_status": "DONE",
        "readonly": False,
        "protected": False,
        "category_id": row.category_id,
        "categories": [category] if category else [],
        "referral_program": data.get("referral_program"),
        "object": "campaign",
    }


def campaign_json(conn: Connection, project_id: str, row: Row[Any]) -> dict[str, Any]:
    """One campaign with its category, rule assignments and, for PROMOTION, its tiers."""
    counts = _voucher_counts(conn, project_id, [row.id])
    cats = catalog.load_categories(conn, project_id, [row.category_id])
    out = render_campaign(row, vouchers_count=counts.get(row.id, 0), categories_by_id=cats)
    out["validation_rules_assignments"] = catalog.assignments_list(conn, project_id, [row.id])
    if row.campaign_type == promotion_tiers.PROMOTION:
        query = ListQuery(limit=100)
        tiers, total = promotion_tiers.list_tiers(conn, project_id, query, campaign_id=row.id)
        out["promotion"] = {
            "object": "list",
            "data_ref": "tiers",
            "tiers": tiers,
            "total": total,
            "has_more": total > len(tiers),
        }
    return out


# --- creating -----------------------------------------------------------------------


def _lock_name(conn: Connection, project_id: str, name: str) -> None:
    """Serialise creations of one campaign name on PostgreSQL (check-then-insert race)."""
    if conn.dialect.name == "postgresql":
        key = zlib.crc32(f"campaign:{project_id}:{name}".encode())
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _template(body: dict[str, Any], campaign_type: str) -> dict[str, Any]:
    voucher = body.get("voucher") or {}
    kind = voucher.get("type") or VOUCHER_TYPE_BY_CAMPAIGN.get(campaign_type)
    expected = VOUCHER_TYPE_BY_CAMPAIGN.get(campaign_type)
    if expected is not None and kind != expected:
        raise _invalid_campaign(f"A {campaign_type} campaign needs voucher.type {expected}")
    template: dict[str, Any] = {"type": kind or vouchers.DISCOUNT_VOUCHER}
    if voucher.get("discount") is not None:
        template["discount"] = voucher["discount"]
    gift = voucher.get("gift") or {}
    if gift.get("amount") is not None:
        template["gift_amount"] = round(gift["amount"])
    if gift.get("effect") is not None:
        template["gift_effect"] = gift["effect"]
    card = voucher.get("loyalty_card") or {}
    if card.get("points") is not None:
        template["loyalty_points"] = int(card["points"])
    if card.get("expiration_rules") is not None:
        template["loyalty_expiration_rules"] = card["expiration_rules"]
    redemption = voucher.get("redemption") or {}
    if "quantity" in redemption:
        template["quantity"] = redemption["quantity"]
    # Validate now so a bad config fails the create, not a later generation.
    template["code_config"] = CodeConfig.from_dict(voucher.get("code_config")).as_dict()
    return template


def infer_campaign_type(body: dict[str, Any]) -> str:
    """``campaign_type`` as sent, else inferred (BEHAVIOR.md §1.4 decision)."""
    if body.get("campaign_type"):
        return str(body["campaign_type"])
    if body.get("promotion") is not None:
        return promotion_tiers.PROMOTION
    if body.get("referral_program") is not None:
        return "REFERRAL_PROGRAM"
    kind = (body.get("voucher") or {}).get("type") or vouchers.DISCOUNT_VOUCHER
    return CAMPAIGN_BY_VOUCHER_TYPE[kind]


def create_campaign(
    conn: Connection, project_id: str, body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """Create a campaign, its tiers (PROMOTION) and ``vouchers_count`` generated vouchers.

    A live campaign with the same name is 409 ``duplicate_found`` (``campaign``,
    the name). A voucher type that contradicts ``campaign_type`` is 400
    ``invalid_campaign``.
    """
    name = body["name"]
    _lock_name(conn, project_id, name)
    if find_campaign(conn, project_id, name) is not None:
        raise Duplicate("campaign", name)
    campaign_type = infer_campaign_type(body)
    data: dict[str, Any] = {"metadata": body.get("metadata") or {}}
    if campaign_type != promotion_tiers.PROMOTION:
        data["template"] = _template(body, campaign_type)
    for field in (
        *catalog.VALIDITY_FIELDS,
        "description",
        "auto_join",
        "join_once",
        "use_voucher_metadata_schema",
        "activity_duration_after_publishing",
        "referral_program",
    ):
        if body.get(field) is not None:
            data[field] = body[field]
    category_id, data["category"] = catalog.resolve_category(
        conn, project_id, body.get("category_id"), body.get("category")
    )
    campaign_id = ids.new_id("camp")
    conn.execute(
        campaigns.insert().values(
            id=campaign_id,
            project_id=project_id,
            name=name,
            campaign_type=campaign_type,
            type=body.get("type") or "AUTO_UPDATE",
            active=True,
            category_id=category_id,
            start_date=catalog.parse_date(body.get("start_date"), "start_date"),
            expiration_date=catalog.parse_date(body.get("expiration_date"), "expiration_date"),
            data=data,
            created_at=now,
            updated_at=None,
        )
    )
    catalog.assign_rules(
        conn, project_id, body.get("validation_rules"), "campaign", campaign_id, now
    )
    row = get_campaign(conn, project_id, campaign_id)
    if campaign_type == promotion_tiers.PROMOTION:
        for tier in (body.get("promotion") or {}).get("tiers") or []:
            promotion_tiers.create_tier(conn, project_id, row, tier, now=now)
    else:
        count = int(body.get("vouchers_count") or 0)
        if count < 0:
            raise _invalid_campaign("vouchers_count must not be negative")
        generate_vouchers(conn, project_id, row, count, {}, now=now)
    return row


def generate_vouchers(
    conn: Connection,
    project_id: str,
    campaign: Row[Any],
    count: int,
    overrides: dict[str, Any],
    *,
    now: dt.datetime,
) -> list[str]:
    """Insert ``count`` vouchers from the campaign template (plus ``overrides``); their ids."""
    if count == 0:
        return []
    template: dict[str, Any] = campaign.data.get("template") or {}
    config = CodeConfig.from_dict(overrides.get("code_config") or template.get("code_config"))
    spec = vouchers.voucher_spec(
        conn, project_id, overrides, base=vouchers.template_spec(template, campaign)
    )

    # Every generated row is the same but for id and code: build it once.
    template_row = vouchers.build_row(
        project_id, "", spec, now, campaign_id=campaign.id, campaign_name=campaign.name
    )

    def make_row(code: str, voucher_id: str) -> dict[str, Any]:
        return {**template_row, "id": voucher_id, "code": code}

    return vouchers.insert_generated(conn, project_id, count, config, make_row)


def _no_promotion(campaign: Row[Any]) -> None:
    if campaign.campaign_type == promotion_tiers.PROMOTION:
        raise _invalid_campaign("A PROMOTION campaign has tiers, not vouchers")


def add_vouchers(
    conn: Connection,
    project_id: str,
    id_or_name: str,
    count: int,
    body: dict[str, Any],
    *,
    now: dt.datetime,
) -> tuple[Row[Any] | None, str | None]:
    """``POST /v1/campaigns/{id}/vouchers``: one voucher → (row, None); more → (None, async id).

    A ``code`` in the body is used as-is for a single voucher.
    """
    campaign = get_campaign(conn, project_id, id_or_name)
    _no_promotion(campaign)
    if count < 1:
        raise _invalid_campaign("vouchers_count must be at least 1")
    if count == 1:
        payload = {**body, "campaign_id": campaign.id}
        return vouchers.create_voucher(conn, project_id, payload, now=now), None
    if body.get("code") is not None:
        raise _invalid_campaign("A code can only be given for a single voucher")
    created = generate_vouchers(conn, project_id, campaign, count, body, now=now)
    return None, record_async_action(
        conn, project_id, "CAMPAIGN.VOUCHERS_GENERATION", {"count": len(created)}, now=now
    )


def add_voucher_with_code(
    conn: Connection,
    project_id: str,
    id_or_name: str,
    code: str,
    body: dict[str, Any],
    *,
    now: dt.datetime,
) -> Row[Any]:
    """``POST /v1/campaigns/{id}/vouchers/{code}``: 409 ``duplicate_found`` if the code is live."""
    campaign = get_campaign(conn, project_id, id_or_name)
    _no_promotion(campaign)
    return vouchers.create_voucher(
        conn, project_id, {**body, "campaign_id": campaign.id}, now=now, code=code
    )


def record_async_action(
    conn: Connection, project_id: str, kind: str, result: dict[str, Any], *, now: dt.datetime
) -> str:
    """Record a bulk operation that already finished (we do the work synchronously)."""
    action_id = ids.new_id("aa")
    conn.execute(
        async_actions.insert().values(
            id=action_id,
            project_id=project_id,
            type=kind,
            status="DONE",
            data={"result": result},
            created_at=now,
            updated_at=now,
        )
    )
    return action_id


# --- updating -----------------------------------------------------------------------


def update_campaign(
    conn: Connection, project_id: str, id_or_name: str, body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """Partial update; template and date changes propagate to untouched vouchers.

    "Untouched" = live, no holder (not published) and never redeemed (BEHAVIOR.md §12).
    ``metadata`` replaces the stored object, then ``unset_metadata_fields`` are removed.
    """
    row = get_campaign(conn, project_id, id_or_name, for_update=True)
    data = dict(row.data)
    template = dict(data.get("template") or {})
    values: dict[str, Any] = {"updated_at": now}
    voucher_values: dict[str, Any] = {}
    voucher_data: dict[str, Any] = {}
    gift_change: tuple[int, int] | None = None
    for field in ("start_date", "expiration_date"):
        if body.get(field) is not None:
            values[field] = voucher_values[field] = catalog.parse_date(body[field], field)
    for field in catalog.VALIDITY_FIELDS:
        if body.get(field) is not None:
            data[field] = voucher_data[field] = body[field]
    for field in ("activity_duration_after_publishing", "join_once", "auto_join", "description"):
        if body.get(field) is not None:
            data[field] = body[field]
    if body.get("referral_program") is not None:
        data["referral_program"] = body["referral_program"]
    if body.get("type") is not None:
        values["type"] = body["type"]
    if body.get("metadata") is not None:
        data["metadata"] = body["metadata"]
    if body.get("unset_metadata_fields"):
        data["metadata"] = {
            k: v
            for k, v in (data.get("metadata") or {}).items()
            if k not in body["unset_metadata_fields"]
        }
    kind = template.get("type")
    if body.get("discount") is not None:
        if row.campaign_type == promotion_tiers.PROMOTION or kind != vouchers.DISCOUNT_VOUCHER:
            raise _invalid_campaign("Only discount campaigns have a discount")
        template["discount"] = voucher_data["discount"] = body["discount"]
    gift = body.get("gift")
    if gift is not None:
        if kind != vouchers.GIFT_VOUCHER:
            raise _invalid_campaign("Only gift card campaigns have a gift")
        if gift.get("amount") is not None:
            gift_change = (template.get("gift_amount") or 0, round(gift["amount"]))
            template["gift_amount"] = gift_change[1]
        if gift.get("effect") is not None:
            template["gift_effect"] = voucher_data["gift_effect"] = gift["effect"]
    if body.get("category_id") is not None or body.get("category") is not None:
        values["category_id"], data["category"] = catalog.resolve_category(
            conn, project_id, body.get("category_id"), body.get("category")
        )
        voucher_values["category_id"] = values["category_id"]
        voucher_data["category"] = data["category"]
    if template:
        data["template"] = template
    values["data"] = data
    conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == row.id)
        .values(**values)
    )
    if voucher_values or voucher_data:
        _propagate(conn, project_id, row.id, voucher_values, voucher_data, now)
    if gift_change is not None:
        # Only cards still holding the old template amount, untouched by balance changes.
        old_amount, new_amount = gift_change
        conn.execute(
            update(voucher_table)
            .where(
                *_untouched(project_id, row.id),
                voucher_table.c.gift_amount == old_amount,
                voucher_table.c.gift_subtracted_amount == 0,
            )
            .values(gift_amount=new_amount, updated_at=now)
        )
    return get_campaign(conn, project_id, row.id)


def _untouched(project_id: str, campaign_id: str) -> tuple[ColumnElement[bool], ...]:
    """Live vouchers of the campaign nobody holds and nobody has redeemed."""
    return (
        voucher_table.c.project_id == project_id,
        voucher_table.c.campaign_id == campaign_id,
        voucher_table.c.deleted_at.is_(None),
        voucher_table.c.holder_id.is_(None),
        voucher_table.c.redeemed_quantity == 0,
    )


def _propagate(
    conn: Connection,
    project_id: str,
    campaign_id: str,
    values: dict[str, Any],
    data_changes: dict[str, Any],
    now: dt.datetime,
) -> None:
    """Apply campaign changes to its unpublished, unredeemed live vouchers."""
    untouched = _untouched(project_id, campaign_id)
    if not data_changes:
        conn.execute(update(voucher_table).where(*untouched).values(updated_at=now, **values))
        return
    rows = conn.execute(select(voucher_table.c.id, voucher_table.c.data).where(*untouched)).all()
    statement = (
        update(voucher_table)
        .where(voucher_table.c.id == bindparam("voucher_id"))
        .values(data=bindparam("new_data"), updated_at=now, **values)
    )
    for start in range(0, len(rows), PROPAGATE_BATCH):
        batch = rows[start : start + PROPAGATE_BATCH]
        conn.execute(
            statement,
            [{"voucher_id": r.id, "new_data": {**r.data, **data_changes}} for r in batch],
        )


def set_active(
    conn: Connection, project_id: str, id_or_name: str, active: bool, *, now: dt.datetime
) -> Row[Any]:
    """Enable or disable a campaign (its vouchers and tiers follow at redemption time)."""
    row = get_campaign(conn, project_id, id_or_name)
    conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == row.id)
        .values(active=active, updated_at=now)
    )
    return get_campaign(conn, project_id, row.id)


def delete_campaign(conn: Connection, project_id: str, id_or_name: str, *, now: dt.datetime) -> str:
    """Delete a campaign with its vouchers and tiers; returns the (finished) async action id.

    Campaign and vouchers are soft-deleted (name and codes free at once, history
    keeps its references); tiers and every related rule assignment are removed.
    """
    row = get_campaign(conn, project_id, id_or_name)
    voucher_ids = select(voucher_table.c.id).where(
        voucher_table.c.project_id == project_id, voucher_table.c.campaign_id == row.id
    )
    conn.execute(
        validation_rule_assignments.delete().where(
            validation_rule_assignments.c.project_id == project_id,
            validation_rule_assignments.c.related_object_id.in_(voucher_ids),
        )
    )
    conn.execute(
        update(voucher_table)
        .where(
            voucher_table.c.project_id == project_id,
            voucher_table.c.campaign_id == row.id,
            voucher_table.c.deleted_at.is_(None),
        )
        .values(deleted_at=now)
    )
    promotion_tiers.delete_campaign_tiers(conn, project_id, row.id)
    catalog.delete_assignments(conn, project_id, [row.id])
    conn.execute(
        update(campaigns)
        .where(campaigns.c.project_id == project_id, campaigns.c.id == row.id)
        .values(deleted_at=now)
    )
    return record_async_action(conn, project_id, "CAMPAIGN.DELETE", {"id": row.id}, now=now)


# --- listing ------------------------------------------------------------------------

FIELDS: dict[str, ColumnElement[Any]] = {
    "id": campaigns.c.id,
    "campaigns_id": campaigns.c.id,
    "name": campaigns.c.name,
    "campaigns": campaigns.c.name,
    "campaign_type": campaigns.c.campaign_type,
    "type": campaigns.c.type,
    "active": campaigns.c.active,
    "category_id": campaigns.c.category_id,
    "category_ids": campaigns.c.category_id,
    "start_date": campaigns.c.start_date,
    "expiration_date": campaigns.c.expiration_date,
    "created_at": campaigns.c.created_at,
    "created_date": campaigns.c.created_at,
    "updated_at": campaigns.c.updated_at,
}
ORDERS: dict[str, ColumnElement[Any]] = {
    "created_at": campaigns.c.created_at,
    "updated_at": campaigns.c.updated_at,
}


def _extra_field(name: str) -> ColumnElement[Any] | None:
    """Filter fields that live in ``data``: ``metadata.x``, ``voucher_type``, ``categories``."""
    if name == "voucher_type":
        return cast(campaigns.c.data["template"]["type"].as_string(), String)
    if name == "categories":
        return cast(campaigns.c.data["category"].as_string(), String)
    return vouchers.metadata_field(campaigns.c.data, name)


def list_campaigns(
    conn: Connection, project_id: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of live campaigns (newest first by default) and the total.

    Shortcuts: ``campaign_type``, ``is_referral_code`` (true = REFERRAL_PROGRAM),
    ``campaign_status`` (every campaign is ``DONE``).
    """
    base = select(campaigns).where(
        campaigns.c.project_id == project_id,
        LIVE,
        date_range_clause(query, campaigns.c.created_at, campaigns.c.updated_at),
    )
    campaign_type = query.param("campaign_type")
    if campaign_type is not None:
        base = base.where(campaigns.c.campaign_type == campaign_type)
    status = query.param("campaign_status")
    if status is not None and status != "DONE":
        # Generation is synchronous, so every campaign is DONE.
        base = base.where(false())
    referral = query.param("is_referral_code")
    if referral is not None:
        is_referral = campaigns.c.campaign_type == "REFERRAL_PROGRAM"
        base = base.where(is_referral if referral.lower() == "true" else ~is_referral)
    clause = filter_clause(query, FIELDS, _extra_field)
    if clause is not None:
        base = base.where(clause)
    order_by = ordering(query, ORDERS, "-created_at", campaigns.c.id)
    rows, total = page(conn, base, query, order_by)
    counts = _voucher_counts(conn, project_id, [row.id for row in rows])
    cats = catalog.load_categories(conn, project_id, [row.category_id for row in rows])
    items = [
        render_campaign(row, vouchers_count=counts.get(row.id, 0), categories_by_id=cats)
        for row in rows
    ]
    return items, total
