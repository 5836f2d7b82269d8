"""Categories: named priorities that stacking rules refer to (BEHAVIOR.md §10.3).

A category is ``{id: cat_…, name, hierarchy, object: "category", created_at,
updated_at}``; a lower ``hierarchy`` is applied earlier. Stacking rules list
category ids, so deleting a referenced category is refused unless the caller asks
for the references to be removed as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select, update

from voucherd.store import ids, stacking_rules
from voucherd.store.direct import hot
from voucherd.store.errors import BusinessRuleViolation, NotFound
from voucherd.store.listing import in_project_by_ids
from voucherd.store.schema import categories
from voucherd.store.wire import iso

RESOURCE = "category"


def render_category(row: Row[Any]) -> dict[str, Any]:
    """The wire ``category`` (also as embedded in vouchers, campaigns, tiers and stacks)."""
    return {
        "id": row.id,
        "name": row.name,
        "hierarchy": row.hierarchy,
        "object": "category",
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def _select(project_id: str) -> Any:
    return select(categories).where(categories.c.project_id == project_id)


# Built once (rendering a voucher or tier after each redemption loads its category):
# constructing the statement per call cost more CPU than executing it.
_BY_IDS = hot(
    select(categories).where(
        in_project_by_ids(categories),
        categories.c.id.in_(bindparam("ids", expanding=True)),
    )
)


def create_category(
    conn: Connection, project_id: str, *, name: str, hierarchy: int, now: dt.datetime
) -> dict[str, Any]:
    """Create a category and return its wire representation."""
    category_id = ids.new_id("cat")
    conn.execute(
        insert(categories).values(
            id=category_id, project_id=project_id, name=name, hierarchy=hierarchy, created_at=now
        )
    )
    return get_category(conn, project_id, category_id)


def find_category(conn: Connection, project_id: str, category_id: str) -> dict[str, Any] | None:
    """A category by id, or None."""
    row = conn.execute(_select(project_id).where(categories.c.id == category_id)).first()
    return None if row is None else render_category(row)


def get_category(conn: Connection, project_id: str, category_id: str) -> dict[str, Any]:
    """A category by id; raises NotFound."""
    found = find_category(conn, project_id, category_id)
    if found is None:
        raise NotFound(RESOURCE, category_id)
    return found


def list_categories(conn: Connection, project_id: str) -> list[dict[str, Any]]:
    """Every category of the project, newest first (the endpoint takes no paging)."""
    rows = conn.execute(
        _select(project_id).order_by(categories.c.created_at.desc(), categories.c.id.desc())
    )
    return [render_category(row) for row in rows]


def categories_by_ids(
    conn: Connection, project_id: str, category_ids: Iterable[str | None]
) -> dict[str, dict[str, Any]]:
    """The project's categories among ``category_ids``, keyed by id (one query).

    Unknown ids are absent and ``None`` entries are skipped, so callers can pass the
    ``category_id`` column of a page of rows as it is.
    """
    wanted = sorted({cid for cid in category_ids if cid})
    if not wanted:
        return {}
    rows = conn.execute(_BY_IDS, {"project_id": project_id, "ids": wanted})
    return {row.id: render_category(row) for row in rows}


def update_category(
    conn: Connection,
    project_id: str,
    category_id: str,
    *,
    name: str,
    hierarchy: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """Replace a category's name and hierarchy; raises NotFound."""
    result = conn.execute(
        update(categories)
        .where(categories.c.project_id == project_id, categories.c.id == category_id)
        .values(name=name, hierarchy=hierarchy, updated_at=now)
    )
    if result.rowcount == 0:
        raise NotFound(RESOURCE, category_id)
    return get_category(conn, project_id, category_id)


def delete_category(
    conn: Connection,
    project_id: str,
    category_id: str,
    *,
    remove_from_stacking_rules: bool,
    now: dt.datetime,
) -> None:
    """Delete a category.

    When the project's stacking rules mention it, the delete is refused with 400
    ``resource_in_use`` unless ``remove_from_stacking_rules`` is set, in which case
    every mention is removed from the rules in the same transaction.
    """
    get_category(conn, project_id, category_id)
    fields = stacking_rules.fields_referencing(conn, project_id, category_id)
    if fields and not remove_from_stacking_rules:
        raise BusinessRuleViolation(
            "resource_in_use",
            "Resource in use",
            f"Category {category_id} is used by stacking rules ({', '.join(fields)}); "
            "pass remove_from_stacking_rules=true to remove it from them",
            resource_id=category_id,
            resource_type=RESOURCE,
        )
    if fields:
        stacking_rules.remove_category(conn, project_id, category_id, now=now)
    conn.execute(
        delete(categories).where(
            categories.c.project_id == project_id, categories.c.id == category_id
        )
    )
