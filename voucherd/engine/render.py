"""Plain-dict renderers using the wire field names (BEHAVIOR.md §6.3, §7.4, §10.1).

The API layer can emit these directly (``OrderCalculated``, ``OrderCalculatedItem``,
``applicable_to`` lists, ``StackingRules``). Only JSON types come out: ints for
money, strings, lists, dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from voucherd.engine.model import (
    AppliedTarget,
    Category,
    ItemSnapshot,
    OrderSnapshot,
    RedeemableOutcome,
    StackingRules,
)

ORDER_AMOUNT_FIELDS = (
    "amount",
    "initial_amount",
    "discount_amount",
    "items_discount_amount",
    "total_discount_amount",
    "total_amount",
    "applied_discount_amount",
    "items_applied_discount_amount",
    "total_applied_discount_amount",
)
ITEM_FIELDS = (
    "quantity",
    "discount_quantity",
    "initial_quantity",
    "amount",
    "discount_amount",
    "applied_discount_amount",
    "applied_discount_quantity",
    "applied_quantity",
    "applied_quantity_amount",
    "initial_amount",
    "price",
    "subtotal_amount",
)


def item_to_dict(item: ItemSnapshot) -> dict[str, Any]:
    """An ``OrderCalculatedItem`` dict: identifiers present when known, every §7.4 field."""
    data: dict[str, Any] = {"object": "order_item"}
    for name in ("id", "product_id", "sku_id", "source_id", "related_object"):
        value = getattr(item, name)
        if value is not None:
            data[name] = value
    for name in ITEM_FIELDS:
        value = getattr(item, name)
        if value is not None:
            data[name] = value
    data["metadata"] = dict(item.metadata)
    return data


def order_to_dict(order: OrderSnapshot) -> dict[str, Any]:
    """An ``OrderCalculated`` dict with the §7.4 amounts and items (``id`` only when persisted)."""
    data: dict[str, Any] = {"object": "order"}
    if order.id is not None:
        data["id"] = order.id
    if order.source_id is not None:
        data["source_id"] = order.source_id
    for name in ORDER_AMOUNT_FIELDS:
        data[name] = getattr(order, name)
    data["items"] = [item_to_dict(item) for item in order.items]
    data["metadata"] = dict(order.metadata)
    return data


def target_to_dict(target: AppliedTarget) -> dict[str, Any]:
    """One ``applicable_to``/``inapplicable_to`` item; ``effect`` is always present."""
    data: dict[str, Any] = {"object": target.object, "id": target.id, "effect": target.effect}
    for name in (
        "source_id",
        "quantity_limit",
        "aggregated_quantity_limit",
        "amount_limit",
        "aggregated_amount_limit",
        "price",
    ):
        value = getattr(target, name)
        if value is not None:
            data[name] = value
    return data


def targets_to_list(targets: Iterable[AppliedTarget]) -> dict[str, Any]:
    """``{object: "list", data_ref: "data", data: [...], total}``."""
    data = [target_to_dict(t) for t in targets]
    return {"object": "list", "data_ref": "data", "data": data, "total": len(data)}


def result_to_dict(outcome: RedeemableOutcome) -> dict[str, Any]:
    """The redeemable's ``result``: the applied effect, or ``{"details": {key, message}}``.

    For INAPPLICABLE the API layer adds the ``error`` envelope from ``outcome.reason``.
    """
    if outcome.status == "APPLICABLE":
        return dict(outcome.result)
    if outcome.reason is None:
        return {}
    return {"details": {"key": outcome.reason.key, "message": outcome.reason.message}}


def stacking_to_dict(rules: StackingRules) -> dict[str, Any]:
    """Every §10.1 stacking-rules field (defaults included), as the validation response needs."""
    return {
        "redeemables_limit": rules.redeemables_limit,
        "applicable_redeemables_limit": rules.applicable_redeemables_limit,
        "applicable_redeemables_per_category_limit": rules.applicable_redeemables_per_category_limit,
        "applicable_redeemables_category_limits": dict(
            rules.applicable_redeemables_category_limits
        ),
        "applicable_exclusive_redeemables_limit": rules.applicable_exclusive_redeemables_limit,
        "applicable_exclusive_redeemables_per_category_limit": (
            rules.applicable_exclusive_redeemables_per_category_limit
        ),
        "exclusive_categories": list(rules.exclusive_categories),
        "joint_categories": list(rules.joint_categories),
        "redeemables_application_mode": rules.redeemables_application_mode,
        "redeemables_sorting_rule": rules.redeemables_sorting_rule,
        "grouped_redeemables_sorting_rule": rules.grouped_redeemables_sorting_rule,
        "discount_calculation_mode": rules.discount_calculation_mode,
        "initial_amount_mode_categories": list(rules.initial_amount_mode_categories),
        "discounted_amount_mode_categories": list(rules.discounted_amount_mode_categories),
        "redeemables_products_application_mode": rules.redeemables_products_application_mode,
        "redeemables_no_effect_rule": rules.redeemables_no_effect_rule,
        "no_effect_skip_categories": list(rules.no_effect_skip_categories),
        "no_effect_redeem_anyway_categories": list(rules.no_effect_redeem_anyway_categories),
        "redeemables_rollback_order_mode": rules.redeemables_rollback_order_mode,
    }


def category_to_dict(category: Category, rules: StackingRules) -> dict[str, Any]:
    """A result ``categories[]`` item; ``stacking_rules_type`` when the rules list it (§10.3)."""
    data: dict[str, Any] = {
        "id": category.id,
        "name": category.name,
        "hierarchy": category.hierarchy,
        "object": "category",
    }
    if category.id in rules.exclusive_categories:
        data["stacking_rules_type"] = "EXCLUSIVE"
    elif category.id in rules.joint_categories:
        data["stacking_rules_type"] = "JOINT"
    return data
