"""Helpers shared by vouchers, campaigns and promotion tiers.

Categories (BEHAVIOR.md §10.3), validation-rule assignments made by create bodies
(§11.3), validity fields (§12) and the dialect-specific "insert, skipping
duplicates" statement that code generation relies on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from voucherd.store import ids
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


def render_category(row: Any) -> dict[str, Any]:
    """A category as embedded in vouchers, campaigns and tiers."""
    return {
        "id": row.id,
        "name": row.name,
        "hierarchy": row.hierarchy,
        "object": "category",
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def resolve_category(
    conn: Connection, project_id: str, category_id: str | None, category: str | None
) -> tuple[str | None, str | None]:
    """``(category_id, category name)`` from a body's ``category_id`` / ``category``.

    A ``category_id`` must exist (404 ``category``). A ``category`` name links the
    category of that name when there is one, else stays a plain tag.
    """
    if category_id is not None:
        row = conn.execute(
            select(categories.c.id, categories.c.name).where(
                categories.c.project_id == project_id, categories.c.id == category_id
            )
        ).first()
        if row is None:
            raise NotFound("category", category_id)
        return row.id, row.name
    if category is not None:
        found = conn.execute(
            select(categories.c.id)
            .where(categories.c.project_id == project_id, categories.c.name == category)
            .order_by(categories.c.created_at)
            .limit(1)
        ).scalar_one_or_none()
        return found, category
    return None, None


def load_categories(
    conn: Connection, project_id: str, category_ids: Iterable[str | None]
) -> dict[str, dict[str, Any]]:
    """Wire categories by id for every non-null id given (one query)."""
    wanted = {cid for cid in category_ids if cid}
    if not wanted:
        return {}
    rows = conn.execute(
        select(categories).where(categories.c.project_id == project_id, categories.c.id.in_(wanted))
    )
    return {row.id: render_category(row) for row in rows}


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
    rows = conn.execute(
        select(validation_rule_assignments)
        .where(
            validation_rule_assignments.c.project_id == project_id,
            validation_rule_assignments.c.related_object_id.in_(list(related_ids)),
        )
        .order_by(validation_rule_assignments.c.created_at, validation_rule_assignments.c.id)
    ).all()
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
