"""Loading what one validate/redeem decision needs into an engine :class:`Snapshot`.

BEHAVIOR.md §6.2 steps 1–4: stacking rules, request checks, the customer, the
order (priced against the catalogue, nothing written), each redeemable with its
campaign, categories, assigned rule sets, reward and the reservations other
sessions hold on it, the catalogue products unit effects may add, and the rule
counters the engine asks for. No database row reaches the engine: everything is
copied into its frozen dataclasses.

Redeem calls :func:`load` with ``lock=True``: on PostgreSQL the order (its row, or
the name of a new ``source_id``), then the voucher rows, then the tier rows are
locked (``SELECT … FOR UPDATE``, each kind in id order, always in that sequence so
two requests never wait on each other crosswise) before anything is read from
them, which serialises redemptions of one voucher, gift card, loyalty card or order
as BEHAVIOR.md §12 decides. SQLite needs no row locks: its write transactions start
with BEGIN IMMEDIATE and run one at a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, union

from voucherd.engine import check_request, counter_keys_needed
from voucherd.engine import model as em
from voucherd.engine.wire import (
    discount_from_wire,
    order_from_wire,
    rule_set_from_wire,
    stacking_rules_from_wire,
    validity_from_wire,
)
from voucherd.store import (
    catalog,
    customers,
    orders,
    products,
    sessions,
    stacking_rules,
    validation_rules,
)
from voucherd.store import vouchers as voucher_store
from voucherd.store.db import serialise
from voucherd.store.direct import hot
from voucherd.store.errors import BusinessRuleViolation, InvalidPayload, NotFound
from voucherd.store.listing import in_project_by_ids
from voucherd.store.schema import (
    campaigns,
    promotion_stacks,
    promotion_tiers,
    redemptions,
    reward_assignments,
    rewards,
    vouchers,
)
from voucherd.store.schema import orders as orders_table
from voucherd.store.wire import iso

GIFT_VOUCHER = "GIFT_VOUCHER"
LOYALTY_CARD = "LOYALTY_CARD"


# Every validate/redeem runs these; they are built once (constructing a statement
# per call cost several times what executing it does). ``[locked]`` variants take
# the row locks a redeem needs on PostgreSQL, in id order: concurrent requests
# over the same cards queue, never deadlock.
def _live_voucher_ids(column: Any) -> Any:
    return select(vouchers.c.id).where(
        vouchers.c.project_id == bindparam("project_id"),
        vouchers.c.deleted_at.is_(None),
        column.in_(bindparam("codes", expanding=True)),
    )


# Requested by code or by id: a UNION of two index lookups. ``code IN … OR id IN …``
# made SQLite scan every live voucher of the project (its query plan), which a
# campaign of 100,000 codes turns into the slowest step of a redemption.
_VOUCHERS = hot(
    select(vouchers)
    .where(
        vouchers.c.id.in_(
            union(_live_voucher_ids(vouchers.c.code), _live_voucher_ids(vouchers.c.id))
        )
    )
    .order_by(vouchers.c.id)
)
_VOUCHERS_LOCKED = hot(_VOUCHERS.with_for_update())
# Tiers after vouchers, each in id order: one global lock order, so the
# per-customer counters of a tier are read by one redeem at a time.
_TIERS = hot(
    select(promotion_tiers)
    .where(
        in_project_by_ids(promotion_tiers),
        promotion_tiers.c.id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(promotion_tiers.c.id)
)
_TIERS_LOCKED = hot(_TIERS.with_for_update())
_CAMPAIGNS = hot(
    select(campaigns).where(
        in_project_by_ids(campaigns),
        campaigns.c.id.in_(bindparam("ids", expanding=True)),
        campaigns.c.deleted_at.is_(None),
    )
)
_STACK = hot(
    select(promotion_stacks).where(
        promotion_stacks.c.project_id == bindparam("project_id"),
        promotion_stacks.c.id == bindparam("stack_id"),
    )
)
_REWARD = hot(
    select(rewards).where(
        rewards.c.project_id == bindparam("project_id"), rewards.c.id == bindparam("reward_id")
    )
)
_REWARD_ASSIGNED = hot(
    select(reward_assignments.c.id).where(
        reward_assignments.c.project_id == bindparam("project_id"),
        reward_assignments.c.reward_id == bindparam("reward_id"),
        reward_assignments.c.campaign_id == bindparam("campaign_id"),
    )
)
_ORDER_ROWS_LOCKED = hot(
    select(orders_table)
    .where(
        orders_table.c.project_id == bindparam("project_id"),
        or_(
            orders_table.c.id == bindparam("order_id"),
            orders_table.c.source_id == bindparam("source_id"),
        ),
    )
    .order_by(orders_table.c.id)
    .with_for_update()
)


@dataclass
class Resolved:
    """The stored objects behind one requested redeemable (None when not found)."""

    request_index: int
    object: str
    id: str
    voucher: Row[Any] | None = None
    tier: Row[Any] | None = None
    campaign: Row[Any] | None = None
    categories: list[dict[str, Any]] = field(default_factory=list)

    @property
    def object_id(self) -> str | None:
        """The ``v_``/``promo_`` id of what was found."""
        if self.voucher is not None:
            return str(self.voucher.id)
        if self.tier is not None:
            return str(self.tier.id)
        return None


@dataclass
class Loaded:
    """A snapshot plus the rows and payloads the store needs to persist the outcome."""

    snapshot: em.Snapshot
    resolved: list[Resolved]
    # The redeemables as evaluated (a promotion stack replaced by its tiers).
    entries: list[Mapping[str, Any]]
    stacking: dict[str, Any]
    customer: dict[str, Any] | None
    order: dict[str, Any]
    existing_order: dict[str, Any] | None


def tracking_id_for(source_id: str | None) -> str | None:
    """A stable opaque tracking id for a customer source_id (BEHAVIOR.md §15)."""
    if not source_id:
        return None
    return "track_" + hashlib.sha256(source_id.encode()).hexdigest()[:24]


def _request_check(
    pairs: list[tuple[str, str]],
    stacking: em.StackingRules,
    resolved_ids: list[str | None] | None = None,
) -> None:
    problem = check_request(pairs, stacking, resolved_ids)
    if problem is None:
        return
    details = problem.error_details or problem.message
    if problem.key == "invalid_payload":
        raise InvalidPayload(details)
    raise BusinessRuleViolation(problem.key, problem.message, details)


def _row_validity(row: Row[Any]) -> em.Validity:
    """Dates (columns) and recurring windows (``data``) of a voucher, tier or campaign."""
    data = dict(row.data)
    data["start_date"] = iso(row.start_date)
    data["expiration_date"] = iso(row.expiration_date)
    return validity_from_wire(data)


def _engine_campaign(row: Row[Any] | None) -> em.Campaign | None:
    if row is None:
        return None
    return em.Campaign(
        id=row.id,
        name=row.name,
        campaign_type=row.campaign_type,
        active=bool(row.active),
        validity=_row_validity(row),
    )


def _engine_categories(cats: Sequence[Mapping[str, Any]]) -> tuple[em.Category, ...]:
    return tuple(
        em.Category(id=c["id"], hierarchy=int(c.get("hierarchy") or 0), name=c.get("name") or "")
        for c in cats
    )


def _resolve(
    conn: Connection,
    project_id: str,
    entries: Sequence[Mapping[str, Any]],
    *,
    lock: bool,
) -> list[Resolved]:
    """Find each requested voucher/tier (and its campaign); lock vouchers when asked."""
    resolved = [
        Resolved(request_index=i, object=str(e["object"]), id=str(e["id"]))
        for i, e in enumerate(entries)
    ]
    codes = [r.id for r in resolved if r.object == "voucher"]
    if codes:
        # One query finds the vouchers by code or id (and locks them when asked).
        query = _VOUCHERS_LOCKED if lock else _VOUCHERS
        found = list(conn.execute(query, {"project_id": project_id, "codes": codes}))
        by_code = {row.code: row for row in found}
        by_id = {row.id: row for row in found}
        for r in resolved:
            if r.object == "voucher":
                r.voucher = by_code.get(r.id) or by_id.get(r.id)
    tier_ids = [r.id for r in resolved if r.object == "promotion_tier"]
    if tier_ids:
        tier_query = _TIERS_LOCKED if lock else _TIERS
        tiers = {
            row.id: row
            for row in conn.execute(tier_query, {"project_id": project_id, "ids": tier_ids})
        }
        for r in resolved:
            if r.object == "promotion_tier":
                r.tier = tiers.get(r.id)
    campaign_ids = {
        row.campaign_id
        for row in (r.voucher or r.tier for r in resolved)
        if row is not None and row.campaign_id
    }
    camps: dict[str, Row[Any]] = {}
    if campaign_ids:
        camps = {
            row.id: row
            for row in conn.execute(
                _CAMPAIGNS, {"project_id": project_id, "ids": sorted(campaign_ids)}
            )
        }
    for r in resolved:
        row = r.voucher or r.tier
        if row is None:
            continue
        if row.campaign_id:
            r.campaign = camps.get(row.campaign_id)
            if r.campaign is None:
                # The campaign was deleted: its vouchers and tiers are gone too (§15.1).
                r.voucher = r.tier = None
    category_ids = []
    for r in resolved:
        row = r.voucher or r.tier
        if row is None:
            continue
        category_id = row.category_id or (r.campaign.category_id if r.campaign else None)
        if category_id:
            category_ids.append(category_id)
    cats = catalog.load_categories(conn, project_id, category_ids) if category_ids else {}
    for r in resolved:
        row = r.voucher or r.tier
        if row is None:
            continue
        category_id = row.category_id or (r.campaign.category_id if r.campaign else None)
        if category_id and category_id in cats:
            r.categories = [cats[category_id]]
    return resolved


def _reward(
    conn: Connection, project_id: str, reward_id: str | None, campaign_id: str | None
) -> em.Reward | None:
    if not reward_id:
        return None
    row = conn.execute(_REWARD, {"project_id": project_id, "reward_id": reward_id}).first()
    if row is None:
        return None
    assigned = False
    if campaign_id:
        params = {"project_id": project_id, "reward_id": reward_id, "campaign_id": campaign_id}
        assigned = conn.execute(_REWARD_ASSIGNED, params).first() is not None
    coin = ((row.data or {}).get("parameters") or {}).get("coin") or {}
    return em.Reward(
        id=row.id,
        type=row.type,
        exchange_ratio=coin.get("exchange_ratio") or 1,
        points_ratio=coin.get("points_ratio") or 1,
        assigned=assigned,
    )


def _definition(
    conn: Connection,
    project_id: str,
    r: Resolved,
    entry: Mapping[str, Any],
    reserved: Mapping[str, sessions.Reserved],
) -> em.Voucher | em.PromotionTier | None:
    campaign = _engine_campaign(r.campaign)
    categories = _engine_categories(r.categories)
    if r.voucher is not None:
        row = r.voucher
        data = row.data or {}
        held = reserved.get(row.id, sessions.Reserved())
        gift = None
        loyalty = None
        if row.type == GIFT_VOUCHER:
            gift = em.Gift(
                amount=int(row.gift_amount or 0),
                balance=voucher_store.gift_balance(row),
                effect=data.get("gift_effect") or "APPLY_TO_ORDER",
                reserved_credits=held.credits,
            )
        if row.type == LOYALTY_CARD:
            loyalty = em.LoyaltyCard(
                balance=voucher_store.loyalty_balance(row), reserved_points=held.points
            )
        reward_entry = entry.get("reward") or {}
        discount = data.get("discount") if row.type == "DISCOUNT_VOUCHER" else None
        return em.Voucher(
            id=row.id,
            code=row.code,
            type=row.type,
            active=bool(row.active),
            validity=_row_validity(row),
            quantity=row.quantity,
            redeemed_quantity=int(row.redeemed_quantity),
            reserved_quantity=held.quantity,
            discount=discount_from_wire(discount) if discount else None,
            gift=gift,
            loyalty_card=loyalty,
            holder_id=row.holder_id,
            categories=categories,
            campaign=campaign,
            reward=_reward(conn, project_id, reward_entry.get("id"), row.campaign_id),
            metadata=dict(data.get("metadata") or {}),
        )
    if r.tier is not None:
        row = r.tier
        data = row.data or {}
        discount = (data.get("action") or {}).get("discount")
        return em.PromotionTier(
            id=row.id,
            name=data.get("name") or "",
            active=bool(row.active),
            validity=_row_validity(row),
            discount=discount_from_wire(discount) if discount else None,
            hierarchy=int(row.hierarchy),
            categories=categories,
            campaign=campaign,
            metadata=dict(data.get("metadata") or {}),
        )
    return None


def _rule_sets(
    conn: Connection, project_id: str, resolved: Sequence[Resolved]
) -> dict[int, tuple[em.RuleSet, ...]]:
    targets: list[tuple[int, str, str]] = []
    for r in resolved:
        if r.voucher is not None:
            targets.append((r.request_index, "voucher", r.voucher.id))
        if r.tier is not None:
            targets.append((r.request_index, "promotion_tier", r.tier.id))
        if r.campaign is not None:
            targets.append((r.request_index, "campaign", r.campaign.id))
    if not targets:
        return {}
    assigned = validation_rules.rules_for_objects(conn, project_id, {t[2] for t in targets})
    result: dict[int, list[em.RuleSet]] = {}
    for index, kind, object_id in targets:
        for rule in assigned.get(object_id, []):
            result.setdefault(index, []).append(rule_set_from_wire(rule, kind, object_id))
    return {k: tuple(v) for k, v in result.items()}


def _catalogue(
    conn: Connection, project_id: str, definitions: Sequence[em.Voucher | em.PromotionTier | None]
) -> dict[str, em.CatalogueProduct]:
    """Products and SKUs that UNIT effects may add to the order."""
    wanted: set[str] = set()
    for definition in definitions:
        discount = definition.discount if definition is not None else None
        if discount is None or discount.type != "UNIT":
            continue
        for unit in discount.units or ():
            wanted.add(unit.unit_type)
            if unit.sku_id:
                wanted.add(unit.sku_id)
        if discount.unit_type:
            wanted.add(discount.unit_type)
        if discount.sku_id:
            wanted.add(discount.sku_id)
    result: dict[str, em.CatalogueProduct] = {}
    for ident in sorted(wanted):
        product = products.find_product(conn, project_id, ident)
        if product is not None:
            result[ident] = em.CatalogueProduct(
                id=product["id"],
                price=product.get("price"),
                name=product.get("name"),
                source_id=product.get("source_id"),
            )
            continue
        sku = products.find_sku(conn, project_id, ident)
        if sku is not None:
            result[ident] = em.CatalogueProduct(
                id=sku["id"],
                price=sku.get("price"),
                name=(sku.get("data") or {}).get("sku"),
                source_id=sku.get("source_id"),
                product_id=sku.get("product_id"),
            )
    return result


def _period_start(now: dt.datetime, tz: dt.tzinfo, period: str | None) -> dt.datetime | None:
    """Start of the calendar day/week (Monday)/month containing ``now`` in project time."""
    if period is None:
        return None
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "weekly":
        start -= dt.timedelta(days=start.weekday())
    elif period == "monthly":
        start = start.replace(day=1)
    return start.astimezone(dt.UTC)


_COUNTER_COLUMNS = {
    "voucher": redemptions.c.voucher_id,
    "promotion_tier": redemptions.c.promotion_tier_id,
    "campaign": redemptions.c.campaign_id,
}


def _count(
    conn: Connection,
    project_id: str,
    key: str,
    customer_id: str | None,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> int:
    """Successful, not rolled-back redemptions a counter key describes (engine docs)."""
    name, kind, object_id = key.split(":", 2)
    parts = name.split(".")
    period = parts[-1] if parts[-1] in ("daily", "weekly", "monthly") else None
    per_customer = "per_customer" in parts
    column = _COUNTER_COLUMNS.get(kind)
    if column is None:
        return 0
    clauses = [
        redemptions.c.project_id == project_id,
        redemptions.c.object == "redemption",
        redemptions.c.status == "SUCCEEDED",
        column == object_id,
    ]
    if per_customer:
        if customer_id is None:
            return 0
        clauses.append(redemptions.c.customer_id == customer_id)
    start = _period_start(now, tz, period)
    if start is not None:
        clauses.append(redemptions.c.date >= start)
    return int(conn.execute(select(func.count()).where(and_(*clauses))).scalar_one())


def load(
    conn: Connection,
    project_id: str,
    body: Mapping[str, Any],
    *,
    now: dt.datetime,
    timezone: str,
    persist_customer: bool,
    lock: bool,
    order_items: list[dict[str, Any]] | None = None,
    stacking_wire: dict[str, Any] | None = None,
) -> Loaded:
    """Build the snapshot for a validate (``persist_customer=False``) or redeem request.

    Raises 400s for malformed requests (too many or duplicated redeemables, a stack
    mixed with others) and NotFound for a customer ``id`` or order ``id`` that does not
    exist. Unknown redeemables are not errors here: they become INAPPLICABLE
    ``not_found`` in the outcome. ``order_items`` are the order's items already
    priced against the catalogue (:func:`orders.resolve_items`), when the caller did
    that before its write transaction; ``stacking_wire`` likewise the project's
    effective stacking rules.
    """
    if stacking_wire is None:
        stacking_wire = stacking_rules.effective_stacking_rules(conn, project_id)
    stacking = stacking_rules_from_wire(stacking_wire)
    entries: list[Mapping[str, Any]] = list(body["redeemables"])
    _request_check([(str(e["object"]), str(e["id"])) for e in entries], stacking)
    if entries[0]["object"] == "promotion_stack":
        # A stack stands alone (checked above) and is redeemed as its tiers, in its order
        # (§6.1); results report the tiers, since the SDK knows no stack result object.
        entries = _stack_tiers(conn, project_id, str(entries[0]["id"]))
    tz = ZoneInfo(timezone)

    # The request's customer, else the order's own: an order that names its customer
    # is that customer's purchase (rules and counters see them; the order keeps them).
    # Upserted here, before any row lock is taken, so a redeem always locks the
    # customer row before vouchers (never after: that order would deadlock).
    customer_payload = body.get("customer") or (body.get("order") or {}).get("customer")
    customer: dict[str, Any] | None = None
    if customer_payload:
        if persist_customer:
            customer = customers.upsert_customer(conn, project_id, customer_payload, now)
        else:
            customer = _transient_customer(conn, project_id, customer_payload)

    order_payload = dict(body.get("order") or {})
    if lock and conn.dialect.name == "postgresql":
        stored_order = _lock_order(conn, project_id, order_payload)
    else:
        stored_order = orders.existing_order(conn, project_id, order_payload)
    resolved_order = orders.resolve_order(
        conn, project_id, order_payload, stored=stored_order, items=order_items
    )
    existing = resolved_order.pop("existing", None)
    prior = int(resolved_order.get("discount_amount") or 0) if existing is not None else 0
    order_wire = dict(resolved_order)
    if existing is not None:
        order_wire["id"] = existing["id"]
        order_wire["source_id"] = existing["source_id"]
    elif order_payload.get("source_id"):
        order_wire["source_id"] = order_payload["source_id"]

    resolved = _resolve(conn, project_id, entries, lock=lock)
    _request_check(
        [(str(e["object"]), str(e["id"])) for e in entries],
        stacking,
        [r.object_id for r in resolved],
    )
    session = body.get("session") or {}
    own_key = session.get("key") if session.get("type", "LOCK") == "LOCK" else None
    reserved = sessions.reserved_by_others(
        conn, project_id, [r.object_id for r in resolved if r.object_id], own_key, now
    )
    rule_sets = _rule_sets(conn, project_id, resolved)
    definitions = [
        _definition(conn, project_id, r, entries[r.request_index], reserved) for r in resolved
    ]
    inputs = []
    for r, definition in zip(resolved, definitions, strict=True):
        entry = entries[r.request_index]
        gift = entry.get("gift") or {}
        reward = entry.get("reward") or {}
        inputs.append(
            em.RedeemableInput(
                object="promotion_tier" if r.object == "promotion_tier" else "voucher",
                id=r.id,
                definition=definition,
                rule_sets=rule_sets.get(r.request_index, ()),
                gift_credits=gift.get("credits"),
                reward_id=reward.get("id"),
                reward_points=reward.get("points"),
            )
        )
    engine_customer = None
    if customer is not None:
        engine_customer = em.Customer(
            id=customer.get("id"),
            source_id=customer.get("source_id"),
            metadata=dict(_customer_metadata(customer)),
        )
    snapshot = em.Snapshot(
        redeemables=tuple(inputs),
        order=order_from_wire(order_wire, prior),
        now=now,
        customer=engine_customer,
        stacking=stacking,
        tz=tz,
        metadata=dict(body.get("metadata") or {}),
        products=_catalogue(conn, project_id, definitions),
    )
    needed = counter_keys_needed(snapshot)
    if needed:
        customer_id = customer.get("id") if customer else None
        counters = {key: _count(conn, project_id, key, customer_id, now, tz) for key in needed}
        snapshot = dataclasses.replace(snapshot, counters=counters)
    return Loaded(
        snapshot=snapshot,
        resolved=resolved,
        entries=entries,
        stacking=stacking_wire,
        customer=customer,
        order=order_wire,
        existing_order=existing,
    )


def _stack_tiers(conn: Connection, project_id: str, stack_id: str) -> list[Mapping[str, Any]]:
    """A promotion stack's tiers as ``promotion_tier`` entries; NotFound for an unknown stack."""
    row = conn.execute(_STACK, {"project_id": project_id, "stack_id": stack_id}).first()
    if row is None:
        raise NotFound("promotion_stack", stack_id)
    return [
        {"object": "promotion_tier", "id": tier_id} for tier_id in row.data.get("tier_ids") or []
    ]


def _lock_order(
    conn: Connection, project_id: str, payload: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Lock the order a redeem names and return it, as :func:`orders.existing_order` does.

    PostgreSQL only (SQLite's write transactions already run one at a time). Each
    redeem reads the order's prior discounts and writes the new totals: two at once
    would each miss the other's discount (a lost update). A stored order is locked
    by its row; a ``source_id`` no one has stored yet has no row, so its name is
    locked instead (then the second creator finds the first's order).
    """
    order_id = payload.get("id")
    source_id = payload.get("source_id")
    if source_id:
        serialise(conn, "order", project_id, str(source_id))
    if not order_id and not source_id:
        return None
    params = {"project_id": project_id, "order_id": order_id, "source_id": source_id or None}
    rows = [dict(row._mapping) for row in conn.execute(_ORDER_ROWS_LOCKED, params)]
    if order_id:
        by_id = [row for row in rows if row["id"] == order_id]
        if not by_id:
            raise NotFound("order", order_id)
        return by_id[0]
    return rows[0] if rows else None


def _customer_metadata(customer: Mapping[str, Any]) -> Mapping[str, Any]:
    data = customer.get("data")
    if isinstance(data, Mapping):
        return data.get("metadata") or {}
    return customer.get("metadata") or {}


def _transient_customer(
    conn: Connection, project_id: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    """The customer a validation names, merged with the payload, without writing.

    ``id`` must exist (NotFound otherwise); an unknown ``source_id`` is a new,
    unsaved customer (validation persists nothing, BEHAVIOR.md §6.2).
    """
    stored = None
    if payload.get("id"):
        stored = customers.get_customer(conn, project_id, payload["id"])
    elif payload.get("source_id"):
        stored = customers.find_customer(conn, project_id, payload["source_id"])
    if stored is None:
        return {
            "id": None,
            "source_id": payload.get("source_id"),
            "metadata": dict(payload.get("metadata") or {}),
            "name": payload.get("name"),
            "email": payload.get("email"),
        }
    metadata = {**_customer_metadata(stored), **(payload.get("metadata") or {})}
    return {
        **stored,
        "metadata": metadata,
        "data": {**(stored.get("data") or {}), "metadata": metadata},
    }
