"""Decisions recorded in docs/engine.md for points BEHAVIOR.md leaves unconfirmed."""

from __future__ import annotations

from voucherd.engine import evaluate
from voucherd.engine.model import (
    SHIPPING_PRODUCT_ID,
    Customer,
    Discount,
    Order,
    RedeemableInput,
    RuleSet,
    StackingRules,
    Target,
)

from .builders import (
    PROD_A,
    category,
    discount_voucher,
    gift_card,
    item,
    loyalty_card,
    order,
    snapshot,
)


def test_exclusive_and_joint_category_counts_as_exclusive() -> None:
    rules = StackingRules(exclusive_categories=("cat_x",), joint_categories=("cat_j",))
    both = discount_voucher(code="BOTH", categories=(category("cat_x"), category("cat_j")))
    common = discount_voucher(code="COMMON")
    outcome = evaluate(snapshot(common, both, stacking=rules))
    assert [r.id for r in outcome.redeemables] == ["BOTH", "COMMON"]
    assert outcome.redeemables[1].reason is not None
    assert outcome.redeemables[1].reason.key == "exclusion_rules_not_met"


def test_no_effect_skip_category_beats_redeem_anyway_category() -> None:
    zero = Discount(type="AMOUNT", amount_off=0, effect="APPLY_TO_ORDER")
    rules = StackingRules(
        no_effect_skip_categories=("cat_s",), no_effect_redeem_anyway_categories=("cat_r",)
    )
    voucher = discount_voucher(zero, categories=(category("cat_s"), category("cat_r")))
    assert evaluate(snapshot(voucher, stacking=rules)).redeemables[0].status == "SKIPPED"


def test_free_shipping_absent_everywhere_is_added_at_price_zero() -> None:
    discount = Discount(type="UNIT", unit_off=1, unit_type=SHIPPING_PRODUCT_ID)
    outcome = evaluate(snapshot(discount_voucher(discount), order_=order((item(PROD_A, 1000),))))
    shipping = outcome.order.items[1]
    assert (shipping.product_id, shipping.quantity, shipping.amount) == (SHIPPING_PRODUCT_ID, 1, 0)
    assert outcome.redeemables[0].status == "APPLICABLE"


def test_item_scoped_gift_with_no_priced_applicable_items_is_missing_order_items_amount() -> None:
    card = gift_card(effect="APPLY_TO_ITEMS")
    card = RedeemableInput(
        object="voucher",
        id=card.id,
        definition=card.definition,
        rule_sets=(RuleSet(id="val_1", applicable_to=(Target(object="product", id="prod_none"),)),),
    )
    result = evaluate(snapshot(card)).redeemables[0]
    assert result.reason is not None
    assert result.reason.key == "missing_order_items_amount"


def test_pay_with_points_without_order_amount_is_missing_amount() -> None:
    result = evaluate(
        snapshot(loyalty_card(), order_=Order(), customer=Customer(id="cust_1"))
    ).redeemables[0]
    assert result.reason is not None
    assert result.reason.key == "missing_amount"


def test_holder_check_comes_before_points_check() -> None:
    result = evaluate(snapshot(loyalty_card(balance=0, points=300))).redeemables[0]
    assert result.reason is not None
    assert result.reason.key == "invalid_customer"


def test_gift_consumes_quantity_and_credits() -> None:
    outcome = evaluate(snapshot(gift_card(balance=1000)))
    consumption = outcome.redeemables[0].consumption
    assert consumption is not None
    assert (consumption.quantity, consumption.credits, consumption.points) == (1, 1000, 0)


def test_valid_is_false_in_all_mode_even_when_earlier_ones_applied() -> None:
    outcome = evaluate(
        snapshot(discount_voucher(code="OK"), discount_voucher(code="NO", active=False))
    )
    assert [r.status for r in outcome.redeemables] == ["APPLICABLE", "INAPPLICABLE"]
    assert outcome.valid is False
