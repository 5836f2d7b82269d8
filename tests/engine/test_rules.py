"""rules.py: logic parser, definition checks, rule names, operators, keys and messages."""

from __future__ import annotations

from typing import Any

import pytest

from voucherd.engine import counter_keys_needed, evaluate, validate_rule_definition
from voucherd.engine.model import Customer, Discount, Order, RuleSet
from voucherd.engine.rules import LogicError, MissingCounterError, evaluate_logic, parse_logic

from .builders import PROD_A, PROD_B, PROD_C, discount_voucher, item, order, snapshot


def rule(name: str, conditions: dict[str, list[Any]], **extra: Any) -> dict[str, Any]:
    return {"name": name, "conditions": conditions, "rules": {}, **extra}


def outcome_with(
    rules: dict[str, Any],
    customer: Customer | None = None,
    error_message: str | None = None,
    **kwargs: Any,
) -> Any:
    rule_set = RuleSet(id="val_1", rules=rules, error_message=error_message)
    voucher = discount_voucher(
        Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ORDER"), rule_sets=(rule_set,)
    )
    return evaluate(snapshot(voucher, customer=customer, **kwargs)).redeemables[0]


# --- logic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("1 and 2", {"1": True, "2": False}, False),
        ("1 or 2", {"1": False, "2": True}, True),
        ("1 OR 2 AND 3", {"1": True, "2": False, "3": False}, True),
        ("(1 or 2) and 3", {"1": True, "2": False, "3": False}, False),
        ("((1))", {"1": True}, True),
        ("", {"1": True, "2": False}, False),
    ],
)
def test_logic_follows_and_over_or_precedence(
    text: str, values: dict[str, bool], expected: bool
) -> None:
    assert evaluate_logic(parse_logic(text), values) is expected


@pytest.mark.parametrize(
    "text",
    ["1 and", "(1 or 2", "1 2", "1 xor 2", "and 1", "1)", "a", "(" * 500 + "1" + ")" * 500],
)
def test_malformed_logic_is_rejected(text: str) -> None:
    with pytest.raises(LogicError):
        parse_logic(text)


# --- definition checks ----------------------------------------------------------------------


def test_valid_definition_has_no_problems() -> None:
    rules = {
        "1": rule("customer.metadata", {"$is": ["gold"]}, property="tier"),
        "2": rule("order.amount", {"$more_than_or_equal": [5000]}),
        "3": {
            "name": "order.items.any",
            "conditions": {"$is": [{"id": "prod_1", "object": "product"}]},
            "rules": {"1": rule("order.items.quantity", {"$more_than": [0]}), "logic": "1"},
        },
        "logic": "(1 and 2) or 3",
    }
    assert validate_rule_definition(rules) == []


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"1": rule("order.amount", {"$bigger": [1]}), "logic": "1"}, "unknown operator '$bigger'"),
        (
            {"1": rule("customer.metadata", {"$is": ["x"]}), "logic": "1"},
            "Rule 'customer.metadata' must have a 'property'",
        ),
        (
            {"1": rule("order.amount", {"$is": [1]}), "logic": "1 and 2"},
            "Logic '1 and 2' refers to rule 2, which does not exist",
        ),
        (
            {"1": rule("order.amount", {"$is": [1]}), "logic": "1 and ("},
            "Logic '1 and (' is not valid: expression ends too early",
        ),
        ({"1": rule("order.amount", {"$is": 1}), "logic": "1"}, "must be an array"),
        (
            {"x": rule("order.amount", {"$is": [1]}), "logic": ""},
            "Rules have an unexpected key 'x'",
        ),
        ({"1": {"conditions": {}}, "logic": "1"}, "must have a 'name'"),
        (
            {
                "1": {
                    "name": "order.items.any",
                    "conditions": {},
                    "rules": {"1": rule("order.items.metadata", {"$is": ["x"]}), "logic": "1"},
                },
                "logic": "1",
            },
            "Rule 'order.items.metadata' must have a 'property'",
        ),
        ([], "must be an object"),
        (
            {"1": rule("order.amount", {"$is": [1]}), "logic": "(" * 100 + "1" + ")" * 100},
            "nested too deeply",
        ),
    ],
)
def test_malformed_definitions_say_where(rules: Any, problem: str) -> None:
    problems = validate_rule_definition(rules)
    assert any(problem in p for p in problems), problems


def test_definition_checks_merged_from_the_catalog() -> None:
    """Scope, required ``conditions``, error shape and logic wording (Voucherify's)."""
    assert validate_rule_definition({"1": rule("weather.sunny", {"$is": [1]}), "logic": "1"}) == [
        "Rule 1 has an unknown name 'weather.sunny'"
    ]
    assert validate_rule_definition({"1": {"name": "order.amount"}, "logic": "1"}) == [
        "Rule 'order.amount' (1) must have 'conditions' as an object"
    ]
    assert validate_rule_definition(
        {"1": rule("order.amount", {"$is": [1]}, error="no"), "logic": "1"}
    ) == ["Rule 'order.amount' (1) error must be an object with a 'message'"]
    assert validate_rule_definition(
        {"1": rule("order.amount", {"$is": [1]}), "logic": "1 xor 1"}
    ) == ["Logic '1 xor 1' is not valid: unexpected 'xor'"]
    assert validate_rule_definition({"1": rule("order.amount", {"$is": [1]}), "logic": "(1"}) == [
        "Logic '(1' is not valid: missing ')'"
    ]


def test_rule_keys_are_ascii_numbers() -> None:
    """Hypothesis found it: "²".isdigit() holds but int("²") raises."""
    assert validate_rule_definition({"\u00b2": rule("order.amount", {"$is": [1]})}) == [
        "Rules have an unexpected key '\u00b2'"
    ]


def test_operators_known_but_not_evaluated_are_accepted_in_definitions() -> None:
    rules = {"1": rule("customer.birthdate", {"$is_days_ago": [3]}), "logic": "1"}
    assert validate_rule_definition(rules) == []


def test_accepted_logic_always_parses_for_evaluation() -> None:
    for logic in ("1", "1 AND 2", "(1 or 2) and 1", "((1)) Or (2)"):
        rules = {"1": rule("order.amount", {"$is": [1]}), "2": rule("order.amount", {"$is": [2]})}
        assert validate_rule_definition({**rules, "logic": logic}) == []
        assert parse_logic(logic) is not None


# --- rule names and operators ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "passes"),
    [
        ({"1": rule("order.amount", {"$more_than_or_equal": [12000]})}, True),
        ({"1": rule("order.amount", {"$more_than": [12000]})}, False),
        ({"1": rule("order.amount", {"$greater_than_or_equal": [12000]})}, True),
        ({"1": rule("order.amount", {"$less_than": [12001]})}, True),
        ({"1": rule("order.amount", {"$less_than_or_equal": [11999]})}, False),
        ({"1": rule("order.total_amount", {"$is": [11000]})}, True),
        ({"1": rule("order.initial_amount", {"$is": [12000]})}, True),
        ({"1": rule("order.items.count", {"$is": [3]})}, True),
        ({"1": rule("order.metadata", {"$is": ["web"]}, property="channel")}, True),
        ({"1": rule("order.metadata", {"$in": ["pos", "app"]}, property="channel")}, False),
        ({"1": rule("order.metadata", {"$not_in": ["pos"]}, property="channel")}, True),
        ({"1": rule("order.metadata", {"$starts_with": ["we"]}, property="channel")}, True),
        ({"1": rule("order.metadata", {"$ends_with": ["eb"]}, property="channel")}, True),
        ({"1": rule("order.metadata", {"$contains": ["e"]}, property="channel")}, True),
        ({"1": rule("order.metadata", {"$is_not": ["web"]}, property="channel")}, False),
        ({"1": rule("order.metadata", {"$count": [2]}, property="tags")}, True),
        ({"1": rule("order.metadata", {"$count_more": [2]}, property="tags")}, False),
        ({"1": rule("order.metadata", {"$count_less": [3]}, property="tags")}, True),
        ({"1": rule("order.metadata", {"$contains": ["sale"]}, property="tags")}, True),
        (
            {"1": rule("order.metadata", {"$after": ["2026-01-01T00:00:00Z"]}, property="placed")},
            True,
        ),
        ({"1": rule("order.metadata", {"$before": ["2026-01-01"]}, property="placed")}, False),
        (
            {
                "1": rule(
                    "order.metadata",
                    {"$timeframe_absolute": ["2026-11-01T00:00:00Z;2026-12-01T00:00:00Z"]},
                    property="placed",
                )
            },
            True,
        ),
        ({"1": rule("order.metadata", {"$dow": [3]}, property="placed")}, True),
        ({"1": rule("order.metadata", {"$dow": [0, 6]}, property="placed")}, False),
        ({"1": rule("order.items.price_any", {"$more_than_or_equal": [4000]})}, True),
        ({"1": rule("order.items.price_each", {"$more_than_or_equal": [3000]})}, False),
        ({"1": rule("redemption.metadata", {"$is": ["store-12"]}, property="pos")}, True),
        ({"1": rule("redemption.metadata", {"$is": ["store-13"]}, property="pos")}, False),
    ],
)
def test_rule_names_and_operators(rules: dict[str, Any], passes: bool) -> None:
    cart = order(
        metadata={"channel": "web", "tags": ["sale", "vip"], "placed": "2026-11-18T10:00:00Z"}
    )
    result = outcome_with(rules, order_=cart, metadata={"pos": "store-12"})
    assert (result.status == "APPLICABLE") is passes


def test_metadata_rules_on_items_use_the_property() -> None:
    lines = (item(PROD_A, 3000, metadata={"size": "M"}), item(PROD_B, 2000, metadata={"size": "L"}))
    any_m = {"1": rule("order.items.metadata_any", {"$is": ["M"]}, property="size")}
    each_m = {"1": rule("order.items.metadata_each", {"$is": ["M"]}, property="size")}
    assert outcome_with(any_m, order_=order(lines)).status == "APPLICABLE"
    assert outcome_with(each_m, order_=order(lines)).status == "INAPPLICABLE"


def items_rule(name: str, product: str, nested: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "1": {
            "name": name,
            "conditions": {"$is": [{"id": product, "object": "product"}]},
            "rules": nested or {},
        },
        "logic": "1",
    }


@pytest.mark.parametrize(
    ("rules", "passes"),
    [
        (items_rule("order.items.any", PROD_A), True),
        (items_rule("order.items.any", "prod_missing"), False),
        (items_rule("order.items.none", PROD_A), False),
        (items_rule("order.items.none", "prod_missing"), True),
        (items_rule("order.items.every", PROD_A), True),
        (
            items_rule(
                "order.items.any",
                PROD_A,
                {"1": rule("order.items.quantity", {"$more_than_or_equal": [2]}), "logic": "1"},
            ),
            True,
        ),
        (
            items_rule(
                "order.items.any",
                PROD_B,
                {"1": rule("order.items.quantity", {"$more_than_or_equal": [2]}), "logic": "1"},
            ),
            False,
        ),
        (
            items_rule(
                "order.items.any",
                PROD_A,
                {"1": rule("order.items.price", {"$is": [3000]}), "logic": "1"},
            ),
            True,
        ),
        (
            items_rule(
                "order.items.any",
                PROD_A,
                {"1": rule("order.items.aggregated_amount", {"$is": [6000]}), "logic": "1"},
            ),
            True,
        ),
        (
            items_rule(
                "order.items.any",
                PROD_A,
                {"1": rule("order.items.aggregated_quantity", {"$less_than": [2]}), "logic": "1"},
            ),
            False,
        ),
        (items_rule("product.id", PROD_C), True),
        (
            items_rule(
                "product.id",
                PROD_C,
                {"1": rule("product.price", {"$more_than": [5000]}), "logic": "1"},
            ),
            False,
        ),
        ({"1": rule("product.quantity", {"$is": [2]}), "logic": "1"}, True),
        ({"1": rule("product.price", {"$is": [9999]}), "logic": "1"}, False),
        ({"1": rule("sku.id", {"$is": ["sku_x"]}), "logic": "1"}, False),
    ],
)
def test_item_scope_rules(rules: dict[str, Any], passes: bool) -> None:
    assert (outcome_with(rules).status == "APPLICABLE") is passes


def test_sku_rules_match_sku_lines() -> None:
    lines = (item(PROD_A, 3000, sku_id="sku_red", quantity=3),)
    rules = {
        "1": {
            "name": "sku.id",
            "conditions": {"$is": ["sku_red"]},
            "rules": {"1": rule("sku.quantity", {"$more_than": [2]}), "logic": "1"},
        },
        "logic": "1",
    }
    assert outcome_with(rules, order_=order(lines)).status == "APPLICABLE"


# --- keys and messages -------------------------------------------------------------------------


def test_customer_rule_failure_is_customer_rules_violated_with_generic_message() -> None:
    rules = {"1": rule("customer.metadata", {"$is": ["gold"]}, property="tier"), "logic": "1"}
    result = outcome_with(rules, customer=Customer(id="cust_1", metadata={"tier": "silver"}))
    assert result.reason.key == "customer_rules_violated"
    assert result.reason.message == "customer does not match segment rules"
    assert dict(result.reason.details) == {
        "check": "validation_rules",
        "rule_set": "val_1",
        "rule": "1",
        "name": "customer.metadata",
        "operator": "$is",
        "expected": ["gold"],
        "actual": "silver",
    }


def test_segment_rule_checks_segment_membership() -> None:
    rules = {"1": rule("customer.segment", {"$is": ["seg_vip"]}), "logic": "1"}
    inside = Customer(id="cust_1", segment_ids=("seg_vip", "seg_x"))
    outside = Customer(id="cust_2", segment_ids=("seg_x",))
    assert outcome_with(rules, customer=inside).status == "APPLICABLE"
    assert outcome_with(rules, customer=outside).reason.key == "customer_rules_violated"


def test_order_rule_failure_prefers_rule_message_over_rule_set_message() -> None:
    rules = {
        "1": rule("order.amount", {"$more_than": [50000]}, error={"message": "Spend 500 first"}),
        "logic": "1",
    }
    result = outcome_with(rules, error_message="set message")
    assert result.reason.key == "order_rules_violated"
    assert result.reason.message == "Spend 500 first"


def test_rule_set_message_is_used_when_the_rule_has_none() -> None:
    rules = {"1": rule("order.amount", {"$more_than": [50000]}), "logic": "1"}
    assert outcome_with(rules, error_message="set message").reason.message == "set message"


def test_other_rules_fail_as_redemption_rules_violated() -> None:
    rules = {"1": rule("redemption.metadata", {"$is": ["x"]}, property="pos"), "logic": "1"}
    result = outcome_with(rules)
    assert result.reason.key == "redemption_rules_violated"
    assert result.reason.message == "redemption does not match validation rules"


def test_customer_rule_without_customer_is_missing_customer() -> None:
    rules = {"1": rule("customer.metadata", {"$is": ["gold"]}, property="tier"), "logic": "1"}
    assert outcome_with(rules).reason.key == "missing_customer"


def test_or_logic_passes_when_one_branch_holds() -> None:
    rules = {
        "1": rule("customer.metadata", {"$is": ["gold"]}, property="tier"),
        "2": rule("order.amount", {"$more_than": [100]}),
        "logic": "1 or 2",
    }
    assert outcome_with(rules).status == "APPLICABLE"


def test_unsupported_rule_fails_with_a_clear_reason_instead_of_passing() -> None:
    rules = {"1": rule("custom_event.metadata", {"$is": ["x"]}, property="k"), "logic": "1"}
    result = outcome_with(rules)
    assert result.status == "INAPPLICABLE"
    assert result.reason.details["problem"] == "unsupported rule"


def test_unevaluated_operator_fails_instead_of_passing() -> None:
    rules = {"1": rule("order.amount", {"$more_than_ago": [3]}), "logic": "1"}
    result = outcome_with(rules)
    assert result.status == "INAPPLICABLE"
    assert result.reason.details["problem"] == "unsupported operator"


def test_linked_customer_rule_requires_the_holder() -> None:
    rules = {"1": rule("publication.redeemable_by_linked_customer", {}), "logic": "1"}
    rule_set = RuleSet(id="val_1", rules=rules)
    voucher = discount_voucher(rule_sets=(rule_set,), holder_id="cust_1")
    holder = evaluate(snapshot(voucher, customer=Customer(id="cust_1")))
    stranger = evaluate(snapshot(voucher, customer=Customer(id="cust_2")))
    assert holder.redeemables[0].status == "APPLICABLE"
    assert stranger.redeemables[0].reason.key == "redemption_rules_violated"


# --- counters ----------------------------------------------------------------------------------


def counter_snapshot(counters: dict[str, int] | None = None) -> Any:
    rules = {
        "1": rule("redemption.count.per_customer", {"$less_than_or_equal": [2]}),
        "2": rule("campaign.redemptions.count", {"$less_than_or_equal": [100]}),
        "logic": "1 and 2",
    }
    rule_set = RuleSet(
        id="val_1", rules=rules, related_object_type="campaign", related_object_id="camp_1"
    )
    from voucherd.engine.model import Campaign

    voucher = discount_voucher(rule_sets=(rule_set,), campaign=Campaign(id="camp_1"))
    return snapshot(voucher, customer=Customer(id="cust_1"), counters=counters or {})


def test_counter_keys_needed_lists_what_the_store_must_count() -> None:
    assert counter_keys_needed(counter_snapshot()) == frozenset(
        {
            "redemption.count.per_customer:campaign:camp_1",
            "campaign.redemptions.count:campaign:camp_1",
        }
    )


@pytest.mark.parametrize(
    ("previous", "status"), [(0, "APPLICABLE"), (1, "APPLICABLE"), (2, "INAPPLICABLE")]
)
def test_per_customer_count_includes_this_redemption(previous: int, status: str) -> None:
    counters = {
        "redemption.count.per_customer:campaign:camp_1": previous,
        "campaign.redemptions.count:campaign:camp_1": 5,
    }
    assert evaluate(counter_snapshot(counters)).redeemables[0].status == status


def test_missing_counter_is_a_programmer_error() -> None:
    with pytest.raises(MissingCounterError):
        evaluate(counter_snapshot())


def test_rules_see_the_order_after_previous_discounts() -> None:
    first = discount_voucher(
        Discount(type="AMOUNT", amount_off=5000, effect="APPLY_TO_ORDER"), code="FIRST"
    )
    rules = {"1": rule("order.amount", {"$more_than_or_equal": [10000]}), "logic": "1"}
    second = discount_voucher(code="SECOND", rule_sets=(RuleSet(id="val_1", rules=rules),))
    outcome = evaluate(snapshot(first, second, order_=Order(amount=12000)))
    assert outcome.redeemables[1].reason.key == "order_rules_violated"
    assert outcome.redeemables[1].reason.details["actual"] == 7000


def test_every_without_product_list_needs_every_line_to_pass() -> None:
    rules = {
        "1": {
            "name": "order.items.every",
            "conditions": {},
            "rules": {
                "1": rule("order.items.price", {"$more_than_or_equal": [2000]}),
                "logic": "1",
            },
        },
        "logic": "1",
    }
    assert outcome_with(rules).status == "APPLICABLE"
    strict = {
        "1": {
            "name": "order.items.every",
            "conditions": {},
            "rules": {
                "1": rule("order.items.price", {"$more_than_or_equal": [3000]}),
                "logic": "1",
            },
        },
        "logic": "1",
    }
    assert outcome_with(strict).reason.key == "order_rules_violated"


def test_every_with_product_list_needs_each_product() -> None:
    rules = {
        "1": {
            "name": "order.items.every",
            "conditions": {
                "$is": [{"id": PROD_A, "object": "product"}, {"id": "prod_x", "object": "product"}]
            },
            "rules": {},
        },
        "logic": "1",
    }
    assert outcome_with(rules).reason.key == "order_rules_violated"


def test_total_amount_rule_sees_units_added_by_this_redeemable() -> None:
    from voucherd.engine.model import CatalogueProduct

    rules = {"1": rule("order.total_amount", {"$is": [12000]}), "logic": "1"}
    discount = Discount(type="UNIT", unit_off=1, unit_type="prod_new", effect="ADD_NEW_ITEMS")
    voucher = discount_voucher(discount, rule_sets=(RuleSet(id="val_1", rules=rules),))
    products = {"prod_new": CatalogueProduct(id="prod_new", price=900)}
    # amount 12000 + 900 added − 900 free = 12000 after this redeemable.
    assert evaluate(snapshot(voucher, products=products)).redeemables[0].status == "APPLICABLE"


def test_deeply_nested_rule_definitions_are_rejected_not_crashing() -> None:
    rules: dict[str, Any] = {"1": rule("order.amount", {"$is": [1]}), "logic": "1"}
    for _ in range(20):
        rules = {"1": {"name": "order.items.any", "conditions": {}, "rules": rules}, "logic": "1"}
    assert any("nested too deeply" in p for p in validate_rule_definition(rules))
