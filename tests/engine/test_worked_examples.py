"""BEHAVIOR.md §7.6 worked examples A–F, exact values."""

from __future__ import annotations

import pytest

from voucherd.engine import evaluate
from voucherd.engine.model import Customer, Discount, Order, StackingRules
from voucherd.engine.render import order_to_dict

from .builders import (
    PROD_A,
    PROD_B,
    a_and_b_rules,
    discount_voucher,
    gift_card,
    item,
    loyalty_card,
    order,
    snapshot,
    tier,
)


def test_example_a_order_level_stack_accumulates_discounts_step_by_step() -> None:
    outcome = evaluate(
        snapshot(
            discount_voucher(Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ORDER")),
            tier(Discount(type="AMOUNT", amount_off=1500, effect="APPLY_TO_ORDER")),
            gift_card(balance=8000, credits=5000),
        )
    )
    steps = [
        (r.order.applied_discount_amount, r.order.discount_amount, r.order.total_amount)
        for r in outcome.redeemables
        if r.order is not None
    ]
    assert steps == [(1200, 1200, 10800), (1500, 2700, 9300), (5000, 7700, 4300)]
    final = outcome.order
    assert (final.amount, final.discount_amount, final.applied_discount_amount) == (
        12000,
        7700,
        7700,
    )
    assert (final.total_discount_amount, final.total_amount) == (7700, 4300)
    gift = outcome.redeemables[2]
    assert gift.result == {"gift": {"credits": 5000, "balance": 3000}}
    assert gift.consumption is not None
    assert gift.consumption.credits == 5000
    assert outcome.valid is True


@pytest.mark.parametrize(
    ("mode", "percent_discount"), [("DISCOUNTED_AMOUNT", 1050), ("INITIAL_AMOUNT", 1200)]
)
def test_example_a_swapped_percent_sees_base_of_its_calculation_mode(
    mode: str, percent_discount: int
) -> None:
    outcome = evaluate(
        snapshot(
            tier(Discount(type="AMOUNT", amount_off=1500, effect="APPLY_TO_ORDER")),
            discount_voucher(Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ORDER")),
            stacking=StackingRules(discount_calculation_mode=mode),
        )
    )
    percent = outcome.redeemables[1]
    assert percent.order is not None
    assert percent.order.applied_discount_amount == percent_discount


# (discount, A discount, B discount, items_discount_amount, total_amount)
TABLE_B = [
    (Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ITEMS"), 1000, 1000, 2000, 10000),
    (
        Discount(type="AMOUNT", amount_off=500, effect="APPLY_TO_ITEMS_BY_QUANTITY"),
        1000,
        500,
        1500,
        10500,
    ),
    (
        Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ITEMS_PROPORTIONALLY"),
        750,
        250,
        1000,
        11000,
    ),
    (
        Discount(type="AMOUNT", amount_off=900, effect="APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"),
        600,
        300,
        900,
        11100,
    ),
    (Discount(type="PERCENT", percent_off=25, effect="APPLY_TO_ITEMS"), 1500, 500, 2000, 10000),
    (
        Discount(type="PERCENT", percent_off=25, effect="APPLY_TO_ITEMS", amount_limit=1000),
        1000,
        500,
        1500,
        10500,
    ),
    (Discount(type="FIXED", fixed_amount=2500, effect="APPLY_TO_ITEMS"), 1000, 0, 1000, 11000),
]


@pytest.mark.parametrize(("discount", "a", "b", "items_discount", "total"), TABLE_B)
def test_example_b_item_effects_match_the_table(
    discount: Discount, a: int, b: int, items_discount: int, total: int
) -> None:
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=a_and_b_rules())))
    final = outcome.order
    assert [line.discount_amount for line in final.items] == [a, b, 0]
    assert final.items_discount_amount == items_discount
    assert final.discount_amount == 0
    assert final.total_amount == total


def test_example_b_fixed_order_price_is_an_order_level_discount() -> None:
    outcome = evaluate(
        snapshot(
            discount_voucher(Discount(type="FIXED", fixed_amount=9000, effect="APPLY_TO_ORDER"))
        )
    )
    assert outcome.order.discount_amount == 3000
    assert outcome.order.items_discount_amount == 0
    assert outcome.order.total_amount == 9000


def test_example_b_proportional_row_reports_item_and_order_fields() -> None:
    discount = Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ITEMS_PROPORTIONALLY")
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=a_and_b_rules())))
    step = outcome.redeemables[0].order
    assert step is not None
    line_a = step.items[0]
    assert (line_a.amount, line_a.discount_amount, line_a.applied_discount_amount) == (
        6000,
        750,
        750,
    )
    assert line_a.subtotal_amount == 5250
    assert step.items_applied_discount_amount == 1000
    assert step.total_applied_discount_amount == 1000


@pytest.mark.parametrize(
    ("effect", "quantity", "amount", "order_amount", "total"),
    [("ADD_MISSING_ITEMS", 2, 4000, 14000, 10000), ("ADD_NEW_ITEMS", 3, 6000, 16000, 12000)],
)
def test_example_c_unit_effect_adds_units_and_frees_them(
    effect: str, quantity: int, amount: int, order_amount: int, total: int
) -> None:
    discount = Discount(type="UNIT", unit_off=2, unit_type=PROD_B, effect=effect)
    outcome = evaluate(snapshot(discount_voucher(discount)))
    line_b = outcome.order.items[1]
    assert (line_b.quantity, line_b.initial_quantity) == (quantity, 1)
    assert (line_b.amount, line_b.initial_amount) == (amount, 2000)
    assert (line_b.discount_quantity, line_b.discount_amount) == (2, 4000)
    assert (line_b.applied_quantity, line_b.applied_quantity_amount) == (
        quantity - 1,
        (quantity - 1) * 2000,
    )
    final = outcome.order
    assert (final.amount, final.initial_amount) == (order_amount, 12000)
    assert (final.items_discount_amount, final.total_amount) == (4000, total)


def test_example_d_pay_with_points_converts_points_at_the_coin_ratio() -> None:
    outcome = evaluate(
        snapshot(
            loyalty_card(balance=1000, points=300),
            order_=Order(amount=9300),
            customer=Customer(id="cust_1"),
        )
    )
    card = outcome.redeemables[0]
    assert card.status == "APPLICABLE"
    assert outcome.order.discount_amount == 6000
    assert outcome.order.total_amount == 3300
    assert card.result == {"loyalty_card": {"points": 300}}
    assert card.consumption is not None
    assert card.consumption.points == 300


def test_example_e_limit_skips_redeemables_beyond_five() -> None:
    vouchers = [
        discount_voucher(
            Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ORDER"), code=f"C{i}"
        )
        for i in range(7)
    ]
    outcome = evaluate(snapshot(*vouchers))
    statuses = [r.status for r in outcome.redeemables]
    assert statuses == ["APPLICABLE"] * 5 + ["SKIPPED"] * 2
    assert [r.reason.key for r in outcome.skipped if r.reason] == [
        "applicable_redeemables_limit_exceeded"
    ] * 2
    assert outcome.valid is True
    assert outcome.order.discount_amount == 500


def test_example_f_existing_order_discount_limits_the_new_one() -> None:
    existing = Order(amount=8000, discount_amount=7500, id="ord_1")
    outcome = evaluate(
        snapshot(
            discount_voucher(Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ORDER")),
            order_=existing,
        )
    )
    step = outcome.redeemables[0].order
    assert step is not None
    assert (step.applied_discount_amount, step.discount_amount, step.total_amount) == (500, 8000, 0)
    assert order_to_dict(outcome.order)["id"] == "ord_1"


def test_order_renderer_uses_wire_field_names() -> None:
    outcome = evaluate(snapshot(discount_voucher(), order_=order((item(PROD_A, 1000),))))
    rendered = order_to_dict(outcome.order)
    assert rendered == {
        "object": "order",
        "amount": 1000,
        "initial_amount": 1000,
        "discount_amount": 100,
        "items_discount_amount": 0,
        "total_discount_amount": 100,
        "total_amount": 900,
        "applied_discount_amount": 100,
        "items_applied_discount_amount": 0,
        "total_applied_discount_amount": 100,
        "items": [
            {
                "object": "order_item",
                "product_id": PROD_A,
                "quantity": 1,
                "discount_quantity": 0,
                "initial_quantity": 1,
                "amount": 1000,
                "discount_amount": 0,
                "applied_discount_amount": 0,
                "applied_discount_quantity": 0,
                "applied_quantity": 0,
                "applied_quantity_amount": 0,
                "initial_amount": 1000,
                "price": 1000,
                "subtotal_amount": 1000,
                "metadata": {},
            }
        ],
        "metadata": {},
    }
