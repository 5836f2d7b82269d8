"""Rewards and their assignments to loyalty campaigns (BEHAVIOR.md §9).

A reward (``rew_``) is ``CAMPAIGN`` (credits, points or a code from another
campaign), ``COIN`` (pay with points: ``points × exchange_ratio ÷ points_ratio``
currency units) or ``MATERIAL`` (a product). A reward assignment (``rewa_``) makes a
reward available in one loyalty campaign at a price in points.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from voucherd.store import campaigns as campaign_store
from voucherd.store import ids, products, validation_rules
from voucherd.store.errors import Duplicate, InvalidPayload, NotFound
from voucherd.store.listing import ListQuery, ordering, page
from voucherd.store.schema import reward_assignments, rewards
from voucherd.store.schema import validation_rule_assignments as rule_assignments
from voucherd.store.wire import iso

RESOURCE = "reward"
# The parameters object each reward type carries.
PARAMETER_OF_TYPE = {"CAMPAIGN": "campaign", "COIN": "coin", "MATERIAL": "product"}
ASSIGNMENT = "reward_assignment"


def _render(row: Row[Any]) -> dict[str, Any]:
    data = row.data
    return {
        "id": row.id,
        "name": data.get("name"),
        "stock": data.get("stock"),
        "redeemed": data.get("redeemed"),
        "attributes": data.get("attributes", {}),
        "metadata": data.get("metadata", {}),
        "type": row.type,
        "parameters": data.get("parameters", {}),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "object": "reward",
    }


# Campaign types a CAMPAIGN reward may hand out (the response enum of parameters.campaign.type).
REWARDABLE_CAMPAIGN_TYPES = ("DISCOUNT_COUPONS", "GIFT_VOUCHERS", "LOYALTY_PROGRAM")


def _resolve_parameters(
    conn: Connection, project_id: str, reward_type: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    """``parameters`` with the referenced campaign or product looked up and stored by id.

    CAMPAIGN: the campaign (id or name) must exist and be of a rewardable type,
    whose ``type`` is added; MATERIAL: the product (id or source_id) and, when
    given, its SKU must exist. Raises NotFound or InvalidPayload.
    """
    if reward_type == "CAMPAIGN":
        given = parameters["campaign"]
        campaign = campaign_store.get_campaign(conn, project_id, given["id"])
        if campaign.campaign_type not in REWARDABLE_CAMPAIGN_TYPES:
            raise InvalidPayload(
                "Property .parameters.campaign.id must name a "
                f"{', '.join(REWARDABLE_CAMPAIGN_TYPES)} campaign"
            )
        return {"campaign": {**given, "id": campaign.id, "type": campaign.campaign_type}}
    if reward_type == "MATERIAL":
        given = parameters["product"]
        product = products.get_product(conn, project_id, given["id"])
        resolved = {**given, "id": product["id"]}
        if given.get("sku_id") is not None:
            resolved["sku_id"] = products.get_product_sku(
                conn, project_id, product, given["sku_id"]
            )["id"]
        return {"product": resolved}
    return dict(parameters)


def create_reward(
    conn: Connection,
    project_id: str,
    *,
    reward_type: str,
    fields: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Create a reward of ``reward_type`` from parsed ``fields`` (name, parameters, ...).

    The API layer has already checked that ``parameters`` fit the type; the
    campaign or product they name must exist (see :func:`_resolve_parameters`).
    """
    reward_id = ids.new_id("rew")
    data = {
        key: fields[key]
        for key in ("name", "parameters", "metadata", "stock", "attributes")
        if key in fields
    }
    data["parameters"] = _resolve_parameters(conn, project_id, reward_type, data["parameters"])
    conn.execute(
        insert(rewards).values(
            id=reward_id, project_id=project_id, type=reward_type, data=data, created_at=now
        )
    )
    return get_reward(conn, project_id, reward_id)


def find_reward(conn: Connection, project_id: str, reward_id: str) -> dict[str, Any] | None:
    """A reward by id, or None."""
    row = conn.execute(
        select(rewards).where(rewards.c.project_id == project_id, rewards.c.id == reward_id)
    ).first()
    return None if row is None else _render(row)


def get_reward(conn: Connection, project_id: str, reward_id: str) -> dict[str, Any]:
    """A reward by id; raises NotFound."""
    found = find_reward(conn, project_id, reward_id)
    if found is None:
        raise NotFound(RESOURCE, reward_id)
    return found


def list_rewards(
    conn: Connection, project_id: str, query: ListQuery, *, assignment_id: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """One page of rewards, newest first, and the total.

    With ``assignment_id`` only the reward of that assignment is listed.
    """
    base = select(rewards).where(rewards.c.project_id == project_id)
    if assignment_id is not None:
        base = base.where(
            rewards.c.id.in_(
                select(reward_assignments.c.reward_id).where(
                    reward_assignments.c.project_id == project_id,
                    reward_assignments.c.id == assignment_id,
                )
            )
        )
    order_by = ordering(query, {"created_at": rewards.c.created_at}, "-created_at", rewards.c.id)
    rows, total = page(conn, base, query, order_by)
    return [_render(row) for row in rows], total


def update_reward(
    conn: Connection,
    project_id: str,
    reward_id: str,
    fields: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """Replace the given top-level fields of a reward; its type cannot change.

    ``parameters`` must be the object of the reward's type (``coin`` for COIN ...),
    else 400 ``invalid_payload``. Raises NotFound for an unknown reward.
    """
    row = conn.execute(
        select(rewards).where(rewards.c.project_id == project_id, rewards.c.id == reward_id)
    ).first()
    if row is None:
        raise NotFound(RESOURCE, reward_id)
    parameters = fields.get("parameters")
    if parameters is not None:
        expected = PARAMETER_OF_TYPE[row.type]
        if set(parameters) != {expected}:
            raise InvalidPayload(
                f"Property .parameters should only have '{expected}' for a {row.type} reward"
            )
    data = {**row.data, **fields}
    if parameters is not None:
        data["parameters"] = _resolve_parameters(conn, project_id, row.type, parameters)
    conn.execute(
        update(rewards)
        .where(rewards.c.project_id == project_id, rewards.c.id == reward_id)
        .values(data=data, updated_at=now)
    )
    return get_reward(conn, project_id, reward_id)


def delete_reward(conn: Connection, project_id: str, reward_id: str) -> None:
    """Delete a reward, its assignments and their validation-rule assignments."""
    get_reward(conn, project_id, reward_id)
    assignment_ids = select(reward_assignments.c.id).where(
        reward_assignments.c.project_id == project_id, reward_assignments.c.reward_id == reward_id
    )
    conn.execute(
        delete(rule_assignments).where(
            rule_assignments.c.project_id == project_id,
            rule_assignments.c.related_object_id.in_(assignment_ids),
        )
    )
    conn.execute(
        delete(reward_assignments).where(
            reward_assignments.c.project_id == project_id,
            reward_assignments.c.reward_id == reward_id,
        )
    )
    conn.execute(
        delete(rewards).where(rewards.c.project_id == project_id, rewards.c.id == reward_id)
    )


# --- assignments -----------------------------------------------------------------


def _render_assignment(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "reward_id": row.reward_id,
        "related_object_id": row.campaign_id,
        "related_object_type": "campaign",
        "parameters": row.data.get("parameters", {}),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "object": "reward_assignment",
    }


def create_reward_assignment(
    conn: Connection,
    project_id: str,
    reward_id: str,
    *,
    campaign_id: str,
    points: int | None,
    auto_redeem: bool | None,
    validation_rule_ids: Iterable[str] = (),
    now: dt.datetime,
) -> dict[str, Any]:
    """Make a reward available in a campaign for ``points``.

    The campaign (id or name) must be a live LOYALTY_PROGRAM campaign. Raises
    NotFound for an unknown reward, campaign or validation rule; InvalidPayload
    for another campaign type; Duplicate (naming the existing ``rewa_``) when the
    reward is already in that campaign.
    The given validation rules are assigned to the new reward assignment.
    """
    reward = get_reward(conn, project_id, reward_id)
    if points is None and reward["type"] != "COIN":
        # Pay-with-points (COIN) rewards are priced at redemption; others need a price.
        raise InvalidPayload("Property .parameters.loyalty should have required property 'points'")
    campaign = campaign_store.get_campaign(conn, project_id, campaign_id)
    if campaign.campaign_type != "LOYALTY_PROGRAM":
        raise InvalidPayload("Property .campaign must name a LOYALTY_PROGRAM campaign")
    campaign_id = campaign.id
    existing = conn.execute(
        select(reward_assignments.c.id).where(
            reward_assignments.c.project_id == project_id,
            reward_assignments.c.reward_id == reward_id,
            reward_assignments.c.campaign_id == campaign_id,
        )
    ).first()
    # No unique constraint backs this check, so two concurrent PostgreSQL requests
    # could both pass it; SQLite serialises writers. Tolerated: a duplicate
    # assignment is harmless to the pipeline, which reads the first one.
    if existing is not None:
        raise Duplicate(ASSIGNMENT, existing.id)
    loyalty: dict[str, Any] = {}
    if points is not None:
        loyalty["points"] = points
    if auto_redeem is not None:
        loyalty["auto_redeem"] = auto_redeem
    assignment_id = ids.new_id("rewa")
    conn.execute(
        insert(reward_assignments).values(
            id=assignment_id,
            project_id=project_id,
            reward_id=reward_id,
            campaign_id=campaign_id,
            points=points,
            data={"parameters": {"loyalty": loyalty}},
            created_at=now,
        )
    )
    for rule_id in validation_rule_ids:
        validation_rules.create_assignment(
            conn,
            project_id,
            rule_id,
            related_object_type="reward_assignment",
            related_object_id=assignment_id,
            force=False,
            now=now,
        )
    return get_reward_assignment(conn, project_id, reward_id, assignment_id)


def get_reward_assignment(
    conn: Connection, project_id: str, reward_id: str, assignment_id: str
) -> dict[str, Any]:
    """One assignment of a reward; raises NotFound (also when it is another reward's)."""
    row = conn.execute(
        select(reward_assignments).where(
            reward_assignments.c.project_id == project_id,
            reward_assignments.c.reward_id == reward_id,
            reward_assignments.c.id == assignment_id,
        )
    ).first()
    if row is None:
        raise NotFound(ASSIGNMENT, assignment_id)
    return _render_assignment(row)


def list_reward_assignments(
    conn: Connection, project_id: str, reward_id: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of a reward's assignments, newest first, and the total."""
    get_reward(conn, project_id, reward_id)
    base = select(reward_assignments).where(
        reward_assignments.c.project_id == project_id, reward_assignments.c.reward_id == reward_id
    )
    order_by = ordering(
        query,
        {"created_at": reward_assignments.c.created_at},
        "-created_at",
        reward_assignments.c.id,
    )
    rows, total = page(conn, base, query, order_by)
    return [_render_assignment(row) for row in rows], total


def find_reward_assignment_for_campaign(
    conn: Connection, project_id: str, reward_id: str, campaign_id: str
) -> dict[str, Any] | None:
    """The assignment of ``reward_id`` to ``campaign_id`` (for pay-with-points), or None."""
    row = conn.execute(
        select(reward_assignments)
        .where(
            reward_assignments.c.project_id == project_id,
            reward_assignments.c.reward_id == reward_id,
            reward_assignments.c.campaign_id == campaign_id,
        )
        .order_by(reward_assignments.c.created_at, reward_assignments.c.id)
    ).first()
    return None if row is None else _render_assignment(row)


def update_reward_assignment(
    conn: Connection,
    project_id: str,
    reward_id: str,
    assignment_id: str,
    *,
    points: int | None,
    auto_redeem: bool | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Change the price (``points``) or ``auto_redeem`` of an assignment; None keeps a value."""
    current = get_reward_assignment(conn, project_id, reward_id, assignment_id)
    loyalty = dict(current["parameters"].get("loyalty", {}))
    if points is not None:
        loyalty["points"] = points
    if auto_redeem is not None:
        loyalty["auto_redeem"] = auto_redeem
    conn.execute(
        update(reward_assignments)
        .where(
            reward_assignments.c.project_id == project_id, reward_assignments.c.id == assignment_id
        )
        .values(
            points=loyalty.get("points"),
            data={"parameters": {"loyalty": loyalty}},
            updated_at=now,
        )
    )
    return get_reward_assignment(conn, project_id, reward_id, assignment_id)


def delete_reward_assignment(
    conn: Connection, project_id: str, reward_id: str, assignment_id: str
) -> None:
    """Remove a reward from a campaign (and the validation rules assigned to that offer)."""
    get_reward_assignment(conn, project_id, reward_id, assignment_id)
    conn.execute(
        delete(rule_assignments).where(
            rule_assignments.c.project_id == project_id,
            rule_assignments.c.related_object_id == assignment_id,
        )
    )
    conn.execute(
        delete(reward_assignments).where(
            reward_assignments.c.project_id == project_id, reward_assignments.c.id == assignment_id
        )
    )
