"""Validation rules and their assignments (BEHAVIOR.md §11).

A rule set (``val_``) holds a ``rules`` tree: numbered keys ``"1"``, ``"2"`` … each
holding one rule ``{name, property?, conditions: {op: [values]}, rules: {…},
error?}``, plus ``logic``, a boolean expression over the numbers. Nested ``rules``
have the same shape. :func:`check_rule_definition` checks a tree with the engine's
checker before it is stored; the engine evaluates the same trees later.

An assignment (``asgm_``) attaches a rule set to a voucher, campaign, promotion
tier, earning rule, reward assignment or distribution; :func:`rules_for_objects`
gives the pipeline every rule set attached to a list of objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from voucherd.engine.rules import validate_rule_definition
from voucherd.store import campaigns, catalog, ids, promotion_tiers, vouchers
from voucherd.store.direct import hot
from voucherd.store.errors import BusinessRuleViolation, Duplicate, NotFound
from voucherd.store.listing import ListQuery, ordering, page
from voucherd.store.schema import reward_assignments, validation_rules
from voucherd.store.schema import validation_rule_assignments as assignments
from voucherd.store.wire import iso

RESOURCE = "validation_rules"
ASSIGNMENT = "validation_rules_assignment"


def check_rule_definition(rules: Mapping[str, Any]) -> None:
    """Raise 400 ``invalid_validation_rules`` listing every problem of ``rules``, ``; ``-joined.

    The checks are the engine's (:func:`voucherd.engine.rules.validate_rule_definition`),
    so a tree stored here is one the engine evaluates rather than fails closed on.
    """
    problems = validate_rule_definition(rules)
    if problems:
        raise BusinessRuleViolation(
            "invalid_validation_rules", "Invalid validation rules", "; ".join(problems)
        )


# --- rule sets -------------------------------------------------------------------

_DOC_FIELDS = ("rules", "bundle_rules", "error", "applicable_to", "type", "context_type")


# Every validation and redemption reads the rules of its objects; these statements
# are built once, as constructing them per call cost more CPU than executing them.
_COUNTS = hot(
    select(assignments.c.rule_id, func.count())
    .where(
        assignments.c.project_id == bindparam("project_id"),
        assignments.c.rule_id.in_(bindparam("ids", expanding=True)),
    )
    .group_by(assignments.c.rule_id)
)
_RULES_FOR_OBJECTS = hot(
    select(assignments.c.related_object_id, validation_rules)
    .join(validation_rules, validation_rules.c.id == assignments.c.rule_id)
    .where(
        assignments.c.project_id == bindparam("project_id"),
        assignments.c.related_object_id.in_(bindparam("ids", expanding=True)),
    )
    .order_by(assignments.c.created_at, assignments.c.id)
)


def _assignment_counts(conn: Connection, project_id: str, rule_ids: list[str]) -> dict[str, int]:
    if not rule_ids:
        return {}
    rows = conn.execute(_COUNTS, {"project_id": project_id, "ids": rule_ids})
    return {row[0]: int(row[1]) for row in rows}


def _render(row: Row[Any], count: int) -> dict[str, Any]:
    data = row.data
    return {
        "id": row.id,
        "name": row.name,
        "rules": data.get("rules", {}),
        "bundle_rules": data.get("bundle_rules"),
        "error": data.get("error"),
        "applicable_to": data.get(
            "applicable_to", {"included": [], "excluded": [], "included_all": False}
        ),
        "type": data.get("type", "expression"),
        "context_type": data.get("context_type", "global"),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "assignments_count": count,
        "object": "validation_rules",
    }


def _render_rows(conn: Connection, project_id: str, rows: list[Row[Any]]) -> list[dict[str, Any]]:
    counts = _assignment_counts(conn, project_id, [row.id for row in rows])
    return [_render(row, counts.get(row.id, 0)) for row in rows]


def create_validation_rule(
    conn: Connection, project_id: str, fields: Mapping[str, Any], *, now: dt.datetime
) -> dict[str, Any]:
    """Create a rule set from parsed request ``fields`` (``name`` plus the document)."""
    check_rule_definition(fields.get("rules", {}))
    rule_id = ids.new_id("val")
    data = {
        "type": "expression",
        "context_type": "global",
        "rules": {},
        **{k: fields[k] for k in _DOC_FIELDS if k in fields},
    }
    conn.execute(
        insert(validation_rules).values(
            id=rule_id, project_id=project_id, name=fields["name"], data=data, created_at=now
        )
    )
    return get_validation_rule(conn, project_id, rule_id)


def find_validation_rule(conn: Connection, project_id: str, rule_id: str) -> dict[str, Any] | None:
    """A rule set by id, or None."""
    row = conn.execute(
        select(validation_rules).where(
            validation_rules.c.project_id == project_id, validation_rules.c.id == rule_id
        )
    ).first()
    return None if row is None else _render_rows(conn, project_id, [row])[0]


def get_validation_rule(conn: Connection, project_id: str, rule_id: str) -> dict[str, Any]:
    """A rule set by id; raises NotFound."""
    found = find_validation_rule(conn, project_id, rule_id)
    if found is None:
        raise NotFound(RESOURCE, rule_id)
    return found


def list_validation_rules(
    conn: Connection,
    project_id: str,
    query: ListQuery,
    *,
    start_date: dt.datetime | None = None,
    end_date: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of rule sets (newest first by default) and the total.

    ``start_date``/``end_date`` bound ``created_at`` inclusively.
    """
    base = select(validation_rules).where(validation_rules.c.project_id == project_id)
    if start_date is not None:
        base = base.where(validation_rules.c.created_at >= start_date)
    if end_date is not None:
        base = base.where(validation_rules.c.created_at <= end_date)
    order_by = ordering(
        query,
        {
            "created_at": validation_rules.c.created_at,
            "updated_at": validation_rules.c.updated_at,
            "name": validation_rules.c.name,
        },
        "-created_at",
        validation_rules.c.id,
    )
    rows, total = page(conn, base, query, order_by)
    return _render_rows(conn, project_id, rows), total


def update_validation_rule(
    conn: Connection,
    project_id: str,
    rule_id: str,
    fields: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """Replace the given top-level fields of a rule set; raises NotFound."""
    row = conn.execute(
        select(validation_rules).where(
            validation_rules.c.project_id == project_id, validation_rules.c.id == rule_id
        )
    ).first()
    if row is None:
        raise NotFound(RESOURCE, rule_id)
    if "rules" in fields:
        check_rule_definition(fields["rules"])
    data = {**row.data, **{k: fields[k] for k in _DOC_FIELDS if k in fields}}
    conn.execute(
        update(validation_rules)
        .where(validation_rules.c.project_id == project_id, validation_rules.c.id == rule_id)
        .values(name=fields.get("name", row.name), data=data, updated_at=now)
    )
    return get_validation_rule(conn, project_id, rule_id)


def delete_validation_rule(conn: Connection, project_id: str, rule_id: str) -> None:
    """Delete a rule set and its assignments; raises NotFound."""
    conn.execute(
        delete(assignments).where(
            assignments.c.project_id == project_id, assignments.c.rule_id == rule_id
        )
    )
    result = conn.execute(
        delete(validation_rules).where(
            validation_rules.c.project_id == project_id, validation_rules.c.id == rule_id
        )
    )
    if result.rowcount == 0:
        raise NotFound(RESOURCE, rule_id)


# --- assignments -----------------------------------------------------------------


def resolve_related_object(
    conn: Connection, project_id: str, related_object_type: str, related_object_id: str
) -> str:
    """The id to store for an assignment's related object; raises NotFound naming the type.

    Vouchers may be given by code and campaigns by name (both stored by id);
    promotion tiers and reward assignments must exist. Earning rules and
    distributions are outside voucherd, so only an earning rule's ``ern_`` prefix
    is checked and any distribution id is taken.
    """
    if related_object_type == "voucher":
        return str(vouchers.get_voucher(conn, project_id, related_object_id).id)
    if related_object_type == "campaign":
        return str(campaigns.get_campaign(conn, project_id, related_object_id).id)
    if related_object_type == "promotion_tier":
        return str(promotion_tiers.get_promotion_tier(conn, project_id, related_object_id).id)
    if related_object_type == "reward_assignment":
        found = conn.execute(
            select(reward_assignments.c.id).where(
                reward_assignments.c.project_id == project_id,
                reward_assignments.c.id == related_object_id,
            )
        ).first()
        if found is None:
            raise NotFound(related_object_type, related_object_id)
        return related_object_id
    if related_object_type == "earning_rule" and not related_object_id.startswith("ern_"):
        raise NotFound(related_object_type, related_object_id)
    return related_object_id


def _existing_assignment(
    conn: Connection, project_id: str, rule_id: str, related_object_id: str
) -> Row[Any] | None:
    return conn.execute(
        select(assignments).where(
            assignments.c.project_id == project_id,
            assignments.c.rule_id == rule_id,
            assignments.c.related_object_id == related_object_id,
        )
    ).first()


def create_assignment(
    conn: Connection,
    project_id: str,
    rule_id: str,
    *,
    related_object_type: str,
    related_object_id: str,
    force: bool,
    now: dt.datetime,
) -> dict[str, Any]:
    """Assign a rule set to an object.

    The rule set must exist (404 ``validation_rules``), and so must the related
    object (see :func:`resolve_related_object`).
    An existing assignment of the same rule to the same object is a 409
    ``duplicate_found`` naming it, unless ``force`` replaces it with a new one.
    """
    get_validation_rule(conn, project_id, rule_id)
    related_object_id = resolve_related_object(
        conn, project_id, related_object_type, related_object_id
    )
    existing = _existing_assignment(conn, project_id, rule_id, related_object_id)
    if existing is not None:
        if not force:
            raise Duplicate(ASSIGNMENT, existing.id)
        conn.execute(delete(assignments).where(assignments.c.id == existing.id))
    assignment_id = ids.new_id("asgm")
    try:
        # A savepoint so that, when a concurrent request inserted the same pair
        # first (PostgreSQL, READ COMMITTED), we can still read its id for the 409.
        with conn.begin_nested():
            conn.execute(
                insert(assignments).values(
                    id=assignment_id,
                    project_id=project_id,
                    rule_id=rule_id,
                    related_object_type=related_object_type,
                    related_object_id=related_object_id,
                    created_at=now,
                )
            )
    except IntegrityError as exc:
        winner = _existing_assignment(conn, project_id, rule_id, related_object_id)
        raise Duplicate(ASSIGNMENT, winner.id if winner is not None else "") from exc
    row = conn.execute(select(assignments).where(assignments.c.id == assignment_id)).one()
    return catalog.render_assignment(row)


def list_assignments(
    conn: Connection,
    project_id: str,
    query: ListQuery,
    *,
    rule_id: str | None = None,
    related_object_id: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """One page of assignments, newest first by default, optionally of one rule or object.

    An unknown rule simply has no assignments (an empty list, not a 404).
    """
    base = select(assignments).where(assignments.c.project_id == project_id)
    if rule_id is not None:
        base = base.where(assignments.c.rule_id == rule_id)
    if related_object_id is not None:
        base = base.where(assignments.c.related_object_id == related_object_id)
    order_by = ordering(
        query, {"created_at": assignments.c.created_at}, "-created_at", assignments.c.id
    )
    rows, total = page(conn, base, query, order_by)
    return [catalog.render_assignment(row) for row in rows], total


def delete_assignment(conn: Connection, project_id: str, rule_id: str, assignment_id: str) -> None:
    """Remove one assignment of a rule set; raises NotFound."""
    result = conn.execute(
        delete(assignments).where(
            assignments.c.project_id == project_id,
            assignments.c.rule_id == rule_id,
            assignments.c.id == assignment_id,
        )
    )
    if result.rowcount == 0:
        raise NotFound(ASSIGNMENT, assignment_id)


def rules_for_objects(
    conn: Connection, project_id: str, related_object_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every rule set assigned to each of ``related_object_ids`` (for the pipeline).

    Keys are the given ids (objects without rules map to ``[]``); each list holds
    full rule-set dicts (as :func:`get_validation_rule` returns them) in
    assignment order, oldest first.
    """
    wanted = sorted(set(related_object_ids))
    result: dict[str, list[dict[str, Any]]] = {object_id: [] for object_id in wanted}
    if not wanted:
        return result
    rows = list(conn.execute(_RULES_FOR_OBJECTS, {"project_id": project_id, "ids": wanted}))
    counts = _assignment_counts(conn, project_id, sorted({row.id for row in rows}))
    for row in rows:
        result[row.related_object_id].append(_render(row, counts.get(row.id, 0)))
    return result
