"""Stacking rules: one document per project, or the defaults (BEHAVIOR.md §10.1).

A project without its own rules uses :data:`DEFAULTS`, rendered without ``id``.
Creating rules stores every field (defaults filled in); updates merge the given
fields and replace arrays wholesale; deleting falls back to the defaults. Every
write is checked as a whole by :func:`check_rules`, because several limits are
bounded by others (``applicable_redeemables_limit <= redeemables_limit`` ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from voucherd.store import ids
from voucherd.store.direct import hot
from voucherd.store.errors import InvalidPayload, NotFound, VoucherdError
from voucherd.store.schema import categories, stacking_rules
from voucherd.store.wire import iso

RESOURCE = "stacking_rules"

# §10.1 "Default (observed)"; every key is always present in what the store returns.
DEFAULTS: dict[str, Any] = {
    "redeemables_limit": 30,
    "applicable_redeemables_limit": 5,
    "applicable_redeemables_per_category_limit": 1,
    "applicable_redeemables_category_limits": {},
    "applicable_exclusive_redeemables_limit": 1,
    "applicable_exclusive_redeemables_per_category_limit": 1,
    "exclusive_categories": [],
    "joint_categories": [],
    "redeemables_application_mode": "ALL",
    "redeemables_sorting_rule": "REQUESTED_ORDER",
    "grouped_redeemables_sorting_rule": "JOINT_ALWAYS_LAST",
    "discount_calculation_mode": "DISCOUNTED_AMOUNT",
    "initial_amount_mode_categories": [],
    "discounted_amount_mode_categories": [],
    "redeemables_products_application_mode": "STACK",
    "redeemables_no_effect_rule": "REDEEM_ANYWAY",
    "no_effect_skip_categories": [],
    "no_effect_redeem_anyway_categories": [],
    "redeemables_rollback_order_mode": "WITH_ORDER",
}

# Fields holding lists of category ids.
CATEGORY_LISTS = (
    "exclusive_categories",
    "joint_categories",
    "initial_amount_mode_categories",
    "discounted_amount_mode_categories",
    "no_effect_skip_categories",
    "no_effect_redeem_anyway_categories",
)
CATEGORY_LIMITS = "applicable_redeemables_category_limits"

# Pairs of lists whose meanings contradict each other, so a category may be in one only.
DISJOINT_LISTS = (
    ("no_effect_skip_categories", "no_effect_redeem_anyway_categories"),
    ("exclusive_categories", "joint_categories"),
    ("initial_amount_mode_categories", "discounted_amount_mode_categories"),
)


class StackingRulesExist(VoucherdError):
    """POST of stacking rules for a project that already has them (409)."""

    key = "stacking_rules_exist"
    message = "Stacking rules already exist"


def _render(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        **_complete(row.data),
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


# Defaults that are containers: each result gets its own (they are empty, so a shallow
# copy is enough).
_CONTAINERS = tuple(key for key, default in DEFAULTS.items() if isinstance(default, list | dict))


def _complete(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` over the defaults, restricted to the known fields.

    Nothing returned is shared with :data:`DEFAULTS`. ``data``'s own values are not
    copied: callers pass a row decoded for them or a request body (deep-copying on
    every validation and redemption cost more than reading the row).
    """
    out = DEFAULTS.copy()
    for key in DEFAULTS.keys() & data.keys():
        out[key] = data[key]
    for key in _CONTAINERS:
        if out[key] is DEFAULTS[key]:
            out[key] = out[key].copy()
    return out


# Built once: every validation and redemption reads the rules, and constructing the
# statement per call cost more CPU than executing it.
_BY_PROJECT = hot(
    select(stacking_rules).where(stacking_rules.c.project_id == bindparam("project_id"))
)


def _row(conn: Connection, project_id: str) -> Any:
    return conn.execute(_BY_PROJECT, {"project_id": project_id}).first()


def check_rules(conn: Connection, project_id: str, rules: Mapping[str, Any]) -> None:
    """Raise ``InvalidPayload`` unless the complete ``rules`` are consistent.

    Single-field ranges and enums are checked when the body is parsed; this checks
    the relations: ``applicable_redeemables_limit <= redeemables_limit``; the
    per-category limit and every value of ``applicable_redeemables_category_limits``
    ``<= applicable_redeemables_limit``; the exclusive per-category limit ``<=`` the
    exclusive limit; the contradicting category lists of :data:`DISJOINT_LISTS` do
    not overlap; and every category id mentioned exists in the project.
    """
    problems: list[str] = []
    applicable = rules["applicable_redeemables_limit"]
    if applicable > rules["redeemables_limit"]:
        problems.append(
            "Property .applicable_redeemables_limit must be <= redeemables_limit "
            f"({rules['redeemables_limit']})"
        )
    if rules["applicable_redeemables_per_category_limit"] > applicable:
        problems.append(
            "Property .applicable_redeemables_per_category_limit must be <= "
            f"applicable_redeemables_limit ({applicable})"
        )
    for category_id, limit in rules[CATEGORY_LIMITS].items():
        if limit > applicable:
            problems.append(
                f"Property .{CATEGORY_LIMITS}.{category_id} must be <= "
                f"applicable_redeemables_limit ({applicable})"
            )
    exclusive = rules["applicable_exclusive_redeemables_limit"]
    if rules["applicable_exclusive_redeemables_per_category_limit"] > exclusive:
        problems.append(
            "Property .applicable_exclusive_redeemables_per_category_limit must be <= "
            f"applicable_exclusive_redeemables_limit ({exclusive})"
        )
    for first, second in DISJOINT_LISTS:
        common = sorted(set(rules[first]) & set(rules[second]))
        if common:
            problems.append(
                f"Properties .{first} and .{second} must not share categories: {', '.join(common)}"
            )
    mentioned = {cid for name in CATEGORY_LISTS for cid in rules[name]} | set(
        rules[CATEGORY_LIMITS]
    )
    known = _existing_categories(conn, project_id, mentioned)
    for name in (*CATEGORY_LISTS, CATEGORY_LIMITS):
        for category_id in rules[name]:
            if category_id not in known:
                problems.append(f"Property .{name} references unknown category {category_id}")
    if problems:
        raise InvalidPayload("; ".join(problems))


def _existing_categories(conn: Connection, project_id: str, category_ids: set[str]) -> set[str]:
    if not category_ids:
        return set()
    rows = conn.execute(
        select(categories.c.id).where(
            categories.c.project_id == project_id, categories.c.id.in_(sorted(category_ids))
        )
    )
    return {row.id for row in rows}


def effective_stacking_rules(conn: Connection, project_id: str) -> dict[str, Any]:
    """The rules the pipeline applies: the project's own, or the defaults.

    Every field of :data:`DEFAULTS` is present (including
    ``redeemables_rollback_order_mode`` and ``grouped_redeemables_sorting_rule``);
    ``id``, ``created_at`` and ``updated_at`` only when the project has its own rules.
    """
    row = _row(conn, project_id)
    return _complete({}) if row is None else _render(row)


def list_stacking_rules(conn: Connection, project_id: str) -> list[dict[str, Any]]:
    """Always exactly one item: :func:`effective_stacking_rules`."""
    return [effective_stacking_rules(conn, project_id)]


def get_stacking_rules(conn: Connection, project_id: str, rules_id: str) -> dict[str, Any]:
    """The project's rules by ``stk_`` id; raises NotFound (also for the defaults)."""
    row = _row(conn, project_id)
    if row is None or row.id != rules_id:
        raise NotFound(RESOURCE, rules_id)
    return _render(row)


def create_stacking_rules(
    conn: Connection, project_id: str, changes: Mapping[str, Any], *, now: dt.datetime
) -> dict[str, Any]:
    """Create the project's rules: ``changes`` over the defaults.

    Raises ``StackingRulesExist`` (409) when the project has rules already.
    """
    existing = _row(conn, project_id)
    if existing is not None:
        raise StackingRulesExist(
            f"Stacking rules {existing.id} already exist for this project",
            resource_id=existing.id,
            resource_type=RESOURCE,
        )
    rules = _complete(changes)
    check_rules(conn, project_id, rules)
    rules_id = ids.new_id("stk")
    try:
        # Two concurrent creates both pass the check above on PostgreSQL; the unique
        # project_id constraint lets only one insert through (the transaction is
        # abandoned with the error, so no savepoint is needed).
        conn.execute(
            insert(stacking_rules).values(
                id=rules_id, project_id=project_id, data=rules, created_at=now
            )
        )
    except IntegrityError as exc:
        raise StackingRulesExist(
            "Stacking rules already exist for this project", resource_type=RESOURCE
        ) from exc
    return get_stacking_rules(conn, project_id, rules_id)


def update_stacking_rules(
    conn: Connection,
    project_id: str,
    rules_id: str,
    changes: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> dict[str, Any]:
    """Merge ``changes`` into the rules (arrays and objects replaced wholesale)."""
    current = get_stacking_rules(conn, project_id, rules_id)
    rules = _complete({**current, **changes})
    check_rules(conn, project_id, rules)
    _write(conn, project_id, rules_id, rules, now)
    return get_stacking_rules(conn, project_id, rules_id)


def _write(
    conn: Connection, project_id: str, rules_id: str, rules: dict[str, Any], now: dt.datetime
) -> None:
    conn.execute(
        update(stacking_rules)
        .where(stacking_rules.c.project_id == project_id, stacking_rules.c.id == rules_id)
        .values(data=rules, updated_at=now)
    )


def delete_stacking_rules(conn: Connection, project_id: str, rules_id: str) -> None:
    """Delete the project's rules; the defaults apply again. Raises NotFound."""
    result = conn.execute(
        delete(stacking_rules).where(
            stacking_rules.c.project_id == project_id, stacking_rules.c.id == rules_id
        )
    )
    if result.rowcount == 0:
        raise NotFound(RESOURCE, rules_id)


def fields_referencing(conn: Connection, project_id: str, category_id: str) -> list[str]:
    """Names of the rule fields that mention ``category_id`` (empty for the defaults)."""
    row = _row(conn, project_id)
    if row is None:
        return []
    rules = _complete(row.data)
    return [name for name in (*CATEGORY_LISTS, CATEGORY_LIMITS) if category_id in rules[name]]


def remove_category(
    conn: Connection, project_id: str, category_id: str, *, now: dt.datetime
) -> None:
    """Remove every mention of ``category_id`` from the project's rules."""
    row = _row(conn, project_id)
    if row is None:
        return
    rules = _complete(row.data)
    for name in CATEGORY_LISTS:
        rules[name] = [cid for cid in rules[name] if cid != category_id]
    rules[CATEGORY_LIMITS].pop(category_id, None)
    _write(conn, project_id, row.id, rules, now)
