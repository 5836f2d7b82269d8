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

from voucherd.store import ids, validation_rules
from voucherd.store.errors import Duplicate, InvalidPayload, NotFound
from voucherd.store.listing import ListQuery, ordering, page
from voucherd.store.schema import campaigns, reward_assignments, rewards
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


def create_reward(
    conn: Connection,
    project_id: str,
    *,
    reward_type: str,
    fields: Mapping[str, Any],
    now: dt.datetime,
) -> dict[str, Any]:
    """Create a reward of ``reward_type`` from parsed ``fields`` (name, parameters, ...).

    The API layer has already checked that ``parameters`` fit the type; the ids in
    ``parameters.campaign`` and ``parameters.product`` are stored as given.
    """
    reward_id = ids.new_id("rew")
    data = {
        key: fields[key]
        for key in ("name", "parameters", "metadata", "stock", "attributes")
        if key in fields
    }
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

    Raises NotFound for an unknown reward, campaign or validation rule; Duplicate
    (naming the existing ``rewa_``) when the reward is already in that campaign.
    The given validation rules are assigned to the new reward assignment.
    """
    reward = get_reward(conn, project_id, reward_id)
    if points is None and reward["type"] != "COIN":
        # Pay-with-points (COIN) rewards are priced at redemption; others need a price.
        raise InvalidPayload("Property .parameters.loyalty should have required property 'points'")
    campaign = conn.execute(
        select(campaigns.c.id).where(
            campaigns.c.project_id == project_id,
            campaigns.c.id == campaign_id,
            campaigns.c.deleted_at.is_(None),
        )
    ).first()
    if campaign is None:
        raise NotFound("campaign", campaign_id)
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
