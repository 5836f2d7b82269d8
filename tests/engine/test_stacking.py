"""stacking.py + evaluate.py: sorting, grouping, ALL vs PARTIAL, exclusivity, limits, no_effect."""

from __future__ import annotations

from voucherd.engine import check_request, evaluate
from voucherd.engine.model import Discount, RedeemableInput, StackingRules
from voucherd.engine.render import stacking_to_dict

from .builders import a_and_b_rules, category, discount_voucher, snapshot

OFF_100 = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ORDER")


def code(
    name: str, *cats: str, hierarchy: int = 0, discount: Discount = OFF_100
) -> RedeemableInput:
    return discount_voucher(
        discount, code=name, categories=tuple(category(c, hierarchy) for c in cats)
    )


def ids(outcome: object) -> list[str]:
    return [r.id for r in outcome.redeemables]  # type: ignore[attr-defined]


def test_requested_order_keeps_request_order() -> None:
    outcome = evaluate(snapshot(code("B", "cat_b", hierarchy=2), code("A", "cat_a", hierarchy=1)))
    assert ids(outcome) == ["B", "A"]


def test_category_hierarchy_sorts_by_lowest_hierarchy_uncategorised_last() -> None:
    rules = StackingRules(redeemables_sorting_rule="CATEGORY_HIERARCHY")
    outcome = evaluate(
        snapshot(
            code("NONE"),
            code("LATE", "cat_late", hierarchy=5),
            code("EARLY", "cat_early", hierarchy=1),
            stacking=rules,
        )
    )
    assert ids(outcome) == ["EARLY", "LATE", "NONE"]
    assert [r.request_index for r in outcome.redeemables] == [2, 1, 0]


def test_joint_always_last_puts_exclusive_first_and_joint_last() -> None:
    rules = StackingRules(
        exclusive_categories=("cat_x",),
        joint_categories=("cat_j",),
        applicable_redeemables_per_category_limit=5,
    )
    outcome = evaluate(
        snapshot(code("JOINT", "cat_j"), code("COMMON"), code("EXCL", "cat_x"), stacking=rules)
    )
    assert ids(outcome) == ["EXCL", "COMMON", "JOINT"]
    assert [r.status for r in outcome.redeemables] == ["APPLICABLE", "SKIPPED", "APPLICABLE"]
    assert outcome.redeemables[1].reason is not None
    assert outcome.redeemables[1].reason.key == "exclusion_rules_not_met"


def test_other_grouping_rule_keeps_request_order() -> None:
    rules = StackingRules(
        exclusive_categories=("cat_x",), grouped_redeemables_sorting_rule="REQUESTED_ORDER"
    )
    outcome = evaluate(snapshot(code("COMMON"), code("EXCL", "cat_x"), stacking=rules))
    assert ids(outcome) == ["COMMON", "EXCL"]
    assert outcome.redeemables[1].reason is not None
    assert outcome.redeemables[1].reason.key == "exclusion_rules_not_met"


def test_all_mode_skips_everything_after_an_inapplicable() -> None:
    outcome = evaluate(
        snapshot(code("OK1"), discount_voucher(code="BAD", active=False), code("OK2"))
    )
    assert [r.status for r in outcome.redeemables] == ["APPLICABLE", "INAPPLICABLE", "SKIPPED"]
    assert outcome.redeemables[2].reason is not None
    assert outcome.redeemables[2].reason.key == "preceding_validation_failed"
    assert outcome.valid is False


def test_partial_mode_applies_the_valid_ones() -> None:
    rules = StackingRules(redeemables_application_mode="PARTIAL")
    outcome = evaluate(
        snapshot(
            code("OK1"), discount_voucher(code="BAD", active=False), code("OK2"), stacking=rules
        )
    )
    assert [r.status for r in outcome.redeemables] == ["APPLICABLE", "INAPPLICABLE", "APPLICABLE"]
    assert outcome.valid is True
    assert outcome.order.discount_amount == 200


def test_partial_mode_with_nothing_applicable_is_invalid() -> None:
    rules = StackingRules(redeemables_application_mode="PARTIAL")
    outcome = evaluate(snapshot(discount_voucher(code="BAD", active=False), stacking=rules))
    assert outcome.valid is False


def test_per_category_limit_defaults_to_one() -> None:
    outcome = evaluate(snapshot(code("A1", "cat_a"), code("A2", "cat_a"), code("B1", "cat_b")))
    assert [r.status for r in outcome.redeemables] == ["APPLICABLE", "SKIPPED", "APPLICABLE"]
    assert outcome.redeemables[1].reason is not None
    assert outcome.redeemables[1].reason.key == "applicable_redeemables_per_category_limit_exceeded"
    assert outcome.redeemables[1].reason.details["category_id"] == "cat_a"


def test_category_limit_override_beats_the_default() -> None:
    rules = StackingRules(applicable_redeemables_category_limits={"cat_a": 2})
    outcome = evaluate(
        snapshot(code("A1", "cat_a"), code("A2", "cat_a"), code("A3", "cat_a"), stacking=rules)
    )
    assert [r.status for r in outcome.redeemables] == ["APPLICABLE", "APPLICABLE", "SKIPPED"]


def test_exclusive_limit_defaults_to_one() -> None:
    rules = StackingRules(
        exclusive_categories=("cat_x", "cat_y"), applicable_redeemables_per_category_limit=5
    )
    outcome = evaluate(snapshot(code("X", "cat_x"), code("Y", "cat_y"), stacking=rules))
    assert outcome.redeemables[1].reason is not None
    assert outcome.redeemables[1].reason.key == "applicable_exclusive_redeemables_limit_exceeded"


def test_exclusive_per_category_limit() -> None:
    rules = StackingRules(
        exclusive_categories=("cat_x",),
        applicable_exclusive_redeemables_limit=3,
        applicable_redeemables_per_category_limit=5,
    )
    outcome = evaluate(snapshot(code("X1", "cat_x"), code("X2", "cat_x"), stacking=rules))
    assert outcome.redeemables[1].reason is not None
    assert (
        outcome.redeemables[1].reason.key
        == "applicable_exclusive_redeemables_per_category_limit_exceeded"
    )


def test_global_limit_counts_applicable_only() -> None:
    rules = StackingRules(applicable_redeemables_limit=1, redeemables_application_mode="PARTIAL")
    outcome = evaluate(
        snapshot(discount_voucher(code="BAD", active=False), code("A"), code("B"), stacking=rules)
    )
    assert [r.status for r in outcome.redeemables] == ["INAPPLICABLE", "APPLICABLE", "SKIPPED"]


def test_no_effect_redeem_anyway_by_default() -> None:
    zero = Discount(type="AMOUNT", amount_off=0, effect="APPLY_TO_ORDER")
    outcome = evaluate(snapshot(code("ZERO", discount=zero)))
    assert outcome.redeemables[0].status == "APPLICABLE"


def test_no_effect_skip_rule_and_category_overrides() -> None:
    zero = Discount(type="AMOUNT", amount_off=0, effect="APPLY_TO_ORDER")
    rules = StackingRules(
        redeemables_no_effect_rule="SKIP", no_effect_redeem_anyway_categories=("cat_keep",)
    )
    outcome = evaluate(
        snapshot(
            code("ZERO", discount=zero), code("KEEP", "cat_keep", discount=zero), stacking=rules
        )
    )
    assert [r.status for r in outcome.redeemables] == ["SKIPPED", "APPLICABLE"]
    assert outcome.redeemables[0].reason is not None
    assert outcome.redeemables[0].reason.key == "no_effect"
    skip_cat = StackingRules(no_effect_skip_categories=("cat_skip",))
    skipped = evaluate(snapshot(code("S", "cat_skip", discount=zero), stacking=skip_cat))
    assert skipped.redeemables[0].status == "SKIPPED"


def test_initial_amount_mode_per_category() -> None:
    ten = Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ORDER")
    twenty = Discount(type="PERCENT", percent_off=20, effect="APPLY_TO_ORDER")
    from voucherd.engine.model import Order

    cart = Order(amount=10000)
    discounted = evaluate(
        snapshot(code("T", discount=ten), code("W", discount=twenty), order_=cart)
    )
    assert discounted.order.discount_amount == 2800
    rules = StackingRules(initial_amount_mode_categories=("cat_i",))
    initial = evaluate(
        snapshot(
            code("T", discount=ten),
            code("W", "cat_i", discount=twenty),
            order_=cart,
            stacking=rules,
        )
    )
    assert initial.order.discount_amount == 3000
    override_back = StackingRules(
        discount_calculation_mode="INITIAL_AMOUNT", discounted_amount_mode_categories=("cat_d",)
    )
    mixed = evaluate(
        snapshot(
            code("T", discount=ten),
            code("W", "cat_d", discount=twenty),
            order_=cart,
            stacking=override_back,
        )
    )
    assert mixed.order.discount_amount == 2800


def test_products_application_mode_once_discounts_each_line_once() -> None:
    ten = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ITEMS")
    first = discount_voucher(ten, code="FIRST", rule_sets=a_and_b_rules())
    second = discount_voucher(ten, code="SECOND")
    stack = evaluate(snapshot(first, second))
    assert [line.discount_amount for line in stack.order.items] == [200, 200, 100]
    once = evaluate(
        snapshot(
            first, second, stacking=StackingRules(redeemables_products_application_mode="ONCE")
        )
    )
    assert [line.discount_amount for line in once.order.items] == [100, 100, 100]


def test_check_request_rejects_empty_duplicate_and_too_many() -> None:
    rules = StackingRules(redeemables_limit=2)
    empty = check_request([], rules)
    assert empty is not None
    assert empty.key == "invalid_payload"
    duplicate = check_request([("voucher", "A"), ("voucher", "A")], rules)
    assert duplicate is not None
    assert duplicate.key == "duplicated_redeemables"
    resolved = check_request([("voucher", "A"), ("voucher", "v_a")], rules, ["v_a", "v_a"])
    assert resolved is not None
    assert resolved.key == "duplicated_redeemables"
    too_many = check_request([("voucher", "A"), ("voucher", "B"), ("voucher", "C")], rules)
    assert too_many is not None
    assert too_many.key == "invalid_payload"
    stack = check_request([("promotion_stack", "stack_1"), ("voucher", "A")], rules)
    assert stack is not None
    assert stack.key == "invalid_redeemables"
    assert check_request([("voucher", "A"), ("promotion_tier", "A")], rules) is None


def test_stacking_rules_render_every_field_with_defaults() -> None:
    rendered = stacking_to_dict(StackingRules())
    assert rendered["applicable_redeemables_limit"] == 5
    assert rendered["redeemables_rollback_order_mode"] == "WITH_ORDER"
    assert len(rendered) == 19


def test_category_renderer_names_the_stacking_type() -> None:
    from voucherd.engine.model import Category
    from voucherd.engine.render import category_to_dict

    rules = StackingRules(exclusive_categories=("cat_x",), joint_categories=("cat_j",))
    assert category_to_dict(Category(id="cat_x", hierarchy=1, name="X"), rules) == {
        "id": "cat_x",
        "name": "X",
        "hierarchy": 1,
        "object": "category",
        "stacking_rules_type": "EXCLUSIVE",
    }
    assert category_to_dict(Category(id="cat_j"), rules)["stacking_rules_type"] == "JOINT"
    assert "stacking_rules_type" not in category_to_dict(Category(id="cat_c"), rules)
