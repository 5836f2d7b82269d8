"""Helpers shared by vouchers, campaigns, promotion tiers and stacks.

Categories named in bodies (BEHAVIOR.md §10.3; rendering and loading are
:mod:`voucherd.store.categories`'), validation-rule assignments made by create
bodies and the one assignment renderer (§11.3; the validation-rules store renders
with it too), validity fields (§12) and the dialect-specific "insert, skipping
duplicates" statement that code generation relies on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from voucherd.store import ids
from voucherd.store.categories import categories_by_ids, get_category
from voucherd.store.direct import hot
from voucherd.store.errors import NotFound
from voucherd.store.schema import categories, validation_rule_assignments, validation_rules
from voucherd.store.wire import iso, parse_datetime

# Fields copied as-is between request, template and wire representation.
VALIDITY_FIELDS = ("validity_timeframe", "validity_day_of_week", "validity_hours")


def parse_date(raw: Any, field: str) -> dt.datetime | None:
    """An optional ISO date or date-time from a body (400 naming ``field`` when malformed)."""
    if raw is None:
        return None
    return parse_datetime(raw, field)


def insert_ignoring_duplicates(
    conn: Connection, table: Table, index_elements: Sequence[str], where: Any
) -> Insert:
    """``INSERT ... ON CONFLICT DO NOTHING`` on a partial unique index, for either dialect.

    On PostgreSQL a conflicting row inserted by a concurrent, uncommitted
    transaction makes the statement wait for that transaction, so two generators
    can never both keep the same code.
    """
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(
            index_elements=list(index_elements), index_where=where
        )
    return sqlite.insert(table).on_conflict_do_nothing(
        index_elements=list(index_elements), index_where=where
    )


# --- categories -------------------------------------------------------------------
# Rendering and loading belong to voucherd.store.categories; this module only adds
# the body-to-category resolution that create and update bodies need.

load_categories = categories_by_ids


def resolve_category(
    conn: Connection, project_id: str, category_id: str | None, category: str | None
) -> tuple[str | None, str | None]:
    """``(category_id, category name)`` from a body's ``category_id`` / ``category``.

    A ``category_id`` must exist (404 ``category``). A ``category`` name links the
    category of that name when there is one, else stays a plain tag.
    """
    if category_id is not None:
        found = get_category(conn, project_id, category_id)
        return found["id"], found["name"]
    if category is not None:
        linked = conn.execute(
            select(categories.c.id)
            .where(categories.c.project_id == project_id, categories.c.name == category)
            .order_by(categories.c.created_at)
            .limit(1)
        ).scalar_one_or_none()
        return linked, category
    return None, None


# --- validation rule assignments ----------------------------------------------------


def assign_rules(
    conn: Connection,
    project_id: str,
    rule_ids: Sequence[str] | None,
    related_object_type: str,
    related_object_id: str,
    now: dt.datetime,
) -> None:
    """Create the assignments a create body's ``validation_rules`` asks for.

    Unknown rule ids are a 404 ``validation_rules``; a rule listed twice is assigned once.
    """
    if not rule_ids:
        return
    unique = list(dict.fromkeys(rule_ids))
    known = set(
        conn.execute(
            select(validation_rules.c.id).where(
                validation_rules.c.project_id == project_id, validation_rules.c.id.in_(unique)
            )
        ).scalars()
    )
    for rule_id in unique:
        if rule_id not in known:
            raise NotFound("validation_rules", rule_id)
    conn.execute(
        validation_rule_assignments.insert(),
        [
            {
                "id": ids.new_id("asgm"),
                "project_id": project_id,
                "rule_id": rule_id,
                "related_object_type": related_object_type,
                "related_object_id": related_object_id,
                "created_at": now,
            }
            for rule_id in unique
        ],
    )


# Rendering a voucher or tier after each redemption lists its assignments; the
# statement is built once, as constructing it per call cost more CPU than running it.
_ASSIGNMENTS_OF = hot(
    select(validation_rule_assignments)
    .where(
        validation_rule_assignments.c.project_id == bindparam("project_id"),
        validation_rule_assignments.c.related_object_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(validation_rule_assignments.c.created_at, validation_rule_assignments.c.id)
)


def render_assignment(row: Any) -> dict[str, Any]:
    """One ``validation_rules_assignment`` object."""
    return {
        "id": row.id,
        "rule_id": row.rule_id,
        "related_object_id": row.related_object_id,
        "related_object_type": row.related_object_type,
        "created_at": iso(row.created_at),
        "object": "validation_rules_assignment",
    }


def assignments_list(
    conn: Connection, project_id: str, related_ids: Sequence[str]
) -> dict[str, Any]:
    """The ``validation_rules_assignments`` list object for the given related objects."""
    rows = conn.execute(_ASSIGNMENTS_OF, {"project_id": project_id, "ids": list(related_ids)}).all()
    data = [render_assignment(row) for row in rows]
    return {"object": "list", "data_ref": "data", "data": data, "total": len(data)}


def delete_assignments(conn: Connection, project_id: str, related_ids: Sequence[str]) -> None:
    """Drop the assignments of deleted objects."""
    if not related_ids:
        return
    conn.execute(
        validation_rule_assignments.delete().where(
            validation_rule_assignments.c.project_id == project_id,
            validation_rule_assignments.c.related_object_id.in_(list(related_ids)),
        )
    )
