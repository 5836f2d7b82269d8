"""Rule trees the validation-rules store refuses (BEHAVIOR.md §11.1).

The checks are the engine's (``voucherd.engine.rules.validate_rule_definition``); the
store turns them into one 400 ``invalid_validation_rules`` whose ``details`` list every
problem, ``; ``-joined. These cases pin that wording end to end.
"""

from __future__ import annotations

from typing import Any

import pytest

from voucherd.store.errors import BusinessRuleViolation
from voucherd.store.validation_rules import check_rule_definition


def validate_rule_definition(rules: Any) -> list[str]:
    """The problems the store reports for ``rules`` (none when it accepts them)."""
    refused: BusinessRuleViolation | None = None
    try:
        check_rule_definition(rules)
    except BusinessRuleViolation as error:
        refused = error
    if refused is None:
        return []
    assert (refused.key, refused.message) == (
        "invalid_validation_rules",
        "Invalid validation rules",
    )
    return (refused.details or "").split("; ")


GOLD = {
    "name": "customer.metadata",
    "property": "tier",
    "conditions": {"$is": ["gold"]},
    "rules": {},
    "error": {"message": "Gold members only"},
}
CART = {"name": "order.amount", "conditions": {"$more_than_or_equal": [5000]}, "rules": {}}
TSHIRT = {
    "name": "order.items.any",
    "conditions": {"$is": [{"id": "prod_1", "object": "product", "effect": "APPLY_TO_EVERY"}]},
    "rules": {
        "1": {"name": "order.items.quantity", "conditions": {"$more_than": [0]}, "rules": {}},
        "logic": "1",
    },
}


def test_the_reference_example_is_valid() -> None:
    rules = {"1": GOLD, "2": CART, "3": TSHIRT, "logic": "(1 and 2) or 3"}
    assert validate_rule_definition(rules) == []


@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"logic": ""},
        {"1": CART},
        {"1": CART, "2": CART, "logic": "1 AND 2"},
        {"1": CART, "2": CART, "logic": "((1) Or (2))"},
        {"1": {**CART, "conditions": {"$greater_than_or_equal": [1]}}, "logic": "1"},
    ],
)
def test_accepted_shapes(rules: dict[str, Any]) -> None:
    assert validate_rule_definition(rules) == []


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (
            {"1": {"name": "customer.metadata", "conditions": {"$is": ["x"]}}, "logic": "1"},
            "Rule 'customer.metadata' must have a 'property'",
        ),
        (
            {"1": {"name": "custom_event.metadata", "conditions": {}}, "logic": "1"},
            "Rule 'custom_event.metadata' must have a 'property'",
        ),
        ({"1": CART, "logic": "1 and 4"}, "Logic '1 and 4' refers to rule 4, which does not exist"),
        ({"logic": "1"}, "Logic '1' refers to rule 1, which does not exist"),
        ({"1": CART, "logic": "(1 and 1"}, "Logic '(1 and 1' is not valid: missing ')'"),
        ({"1": CART, "logic": "1 and"}, "Logic '1 and' is not valid: expression ends too early"),
        ({"1": CART, "logic": "1 xor 1"}, "Logic '1 xor 1' is not valid: unexpected 'xor'"),
        ({"1": CART, "logic": "1 1"}, "Logic '1 1' is not valid: unexpected '1'"),
        ({"1": CART, "logic": "1 & 1"}, "Logic '1 & 1' is not valid: unexpected '&'"),
        ({"1": CART, "logic": 1}, "Logic must be a string"),
        (
            {"1": {**CART, "conditions": {"$bigger": [1]}}, "logic": "1"},
            "Rule 'order.amount' (1) uses an unknown operator '$bigger'",
        ),
        (
            {"1": {**CART, "conditions": {"$is": 5000}}, "logic": "1"},
            "Rule 'order.amount' (1) condition $is must be an array of values",
        ),
        (
            {"1": {**CART, "conditions": [5000]}, "logic": "1"},
            "Rule 'order.amount' (1) must have 'conditions' as an object",
        ),
        ({"1": {"conditions": {}}, "logic": "1"}, "Rule 1 must have a 'name'"),
        ({"1": "order.amount", "logic": "1"}, "Rule 1 must be an object"),
        (
            {"1": {**CART, "name": "weather.sunny"}, "logic": "1"},
            "Rule 1 has an unknown name 'weather.sunny'",
        ),
        ({"one": CART}, "Rules have an unexpected key 'one'"),
        ({"0": CART}, "Rules have an unexpected key '0'"),
        (
            {"1": {**CART, "error": "nope"}, "logic": "1"},
            "Rule 'order.amount' (1) error must be an object with a 'message'",
        ),
    ],
)
def test_each_malformed_tree_is_reported_where_it_fails(
    rules: dict[str, Any], problem: str
) -> None:
    assert validate_rule_definition(rules) == [problem]


def test_nested_rules_are_checked_with_their_path() -> None:
    nested = {
        **TSHIRT,
        "rules": {
            "1": {"name": "order.items.metadata", "conditions": {"$is": ["x"]}},
            "logic": "1 or 2",
        },
    }
    assert validate_rule_definition({"1": nested, "logic": "1"}) == [
        "Rule 'order.items.metadata' must have a 'property'",
        "Logic '1 or 2' of rule 1 refers to rule 2, which does not exist",
    ]


def test_nested_rules_must_be_an_object() -> None:
    assert validate_rule_definition({"1": {**CART, "rules": []}, "logic": "1"}) == [
        "Rules of rule 1 must be an object"
    ]


def test_every_problem_is_listed_not_only_the_first() -> None:
    rules = {
        "1": {"name": "customer.metadata", "conditions": {"$is": "gold"}},
        "logic": "1 and 2",
    }
    assert validate_rule_definition(rules) == [
        "Rule 'customer.metadata' must have a 'property'",
        "Rule 'customer.metadata' (1) condition $is must be an array of values",
        "Logic '1 and 2' refers to rule 2, which does not exist",
    ]


def test_the_engine_limits_nesting_depth() -> None:
    rules: dict[str, Any] = {"1": CART, "logic": "1"}
    for _ in range(9):
        rules = {"1": {**TSHIRT, "rules": rules}, "logic": "1"}
    (problem,) = validate_rule_definition(rules)
    assert problem.endswith("are nested too deeply (max 8)")
    assert validate_rule_definition({"1": CART, "logic": "(" * 40 + "1" + ")" * 40}) == [
        f"Logic '{'(' * 40}1{')' * 40}' is not valid: logic nested too deeply"
    ]
