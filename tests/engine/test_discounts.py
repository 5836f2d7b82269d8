"""discounts.py: every type and effect, targets, gift cards and pay-with-points."""

from __future__ import annotations

import pytest

from voucherd.engine import evaluate
from voucherd.engine.model import (
    SHIPPING_PRODUCT_ID,
    CatalogueProduct,
    Customer,
    Discount,
    Order,
    Reward,
    RuleSet,
    Target,
    UnitSpec,
)
from voucherd.engine.render import result_to_dict, targets_to_list

from .builders import (
    PROD_A,
    PROD_B,
    PROD_C,
    a_and_b_rules,
    discount_voucher,
    gift_card,
    item,
    loyalty_card,
    order,
    snapshot,
)


def line_discounts(
    discount: Discount, rule_sets: tuple[RuleSet, ...] = (), **kwargs: object
) -> list[int]:
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=rule_sets), **kwargs))  # type: ignore[arg-type]
    return [line.discount_amount for line in outcome.order.items]


# --- order-level --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("discount", "expected"),
    [
        (Discount(type="AMOUNT", amount_off=1500), 1500),
        (Discount(type="AMOUNT", amount_off=99999, effect="APPLY_TO_ORDER"), 12000),
        (Discount(type="PERCENT", percent_off=10), 1200),
        (Discount(type="PERCENT", percent_off=50, amount_limit=2000), 2000),
        (Discount(type="PERCENT", percent_off=150), 12000),
        (Discount(type="FIXED", fixed_amount=9000, effect="APPLY_TO_ORDER"), 3000),
        (Discount(type="FIXED", fixed_amount=15000, effect="APPLY_TO_ORDER"), 0),
        (Discount(type="AMOUNT", amount_off=1000.4), 1000),
    ],
)
def test_order_level_discounts(discount: Discount, expected: int) -> None:
    outcome = evaluate(snapshot(discount_voucher(discount)))
    assert outcome.order.discount_amount == expected
    assert outcome.order.total_amount == 12000 - expected


def test_default_effect_is_items_when_rules_name_products() -> None:
    discount = Discount(type="AMOUNT", amount_off=100)
    assert line_discounts(discount, a_and_b_rules()) == [100, 100, 0]
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=a_and_b_rules())))
    assert outcome.redeemables[0].result["discount"]["effect"] == "APPLY_TO_ITEMS"


# --- item-level --------------------------------------------------------------------------------------


def test_amount_off_items_never_exceeds_the_line() -> None:
    assert line_discounts(Discount(type="AMOUNT", amount_off=5000, effect="APPLY_TO_ITEMS")) == [
        5000,
        2000,
        4000,
    ]


def test_by_quantity_respects_quantity_limit() -> None:
    discount = Discount(type="AMOUNT", amount_off=500, effect="APPLY_TO_ITEMS_BY_QUANTITY")
    rules = a_and_b_rules(quantity_limit=1)
    assert line_discounts(discount, rules) == [500, 500, 0]


def test_aggregated_quantity_limit_spreads_units_in_application_order() -> None:
    discount = Discount(type="AMOUNT", amount_off=500, effect="APPLY_TO_ITEMS_BY_QUANTITY")
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(object="products_collection", id="pc_all", aggregated_quantity_limit=2),
            ),
        ),
    )
    collections = {"pc_all": frozenset({PROD_A, PROD_B, PROD_C})}
    assert line_discounts(discount, rules, collections=collections) == [1000, 0, 0]


def test_percent_items_cap_each_line_by_target_amount_limit() -> None:
    discount = Discount(type="PERCENT", percent_off=50, effect="APPLY_TO_ITEMS")
    assert line_discounts(discount, a_and_b_rules(amount_limit=800)) == [800, 800, 0]


def test_aggregated_amount_limit_fills_lines_in_application_order() -> None:
    discount = Discount(
        type="PERCENT", percent_off=50, effect="APPLY_TO_ITEMS", aggregated_amount_limit=3500
    )
    assert line_discounts(discount) == [3000, 500, 0]


def test_target_aggregated_amount_limit_is_per_entry() -> None:
    discount = Discount(type="AMOUNT", amount_off=2000, effect="APPLY_TO_ITEMS")
    # Each entry has its own budget of 2500.
    assert line_discounts(discount, a_and_b_rules(aggregated_amount_limit=2500)) == [2000, 2000, 0]
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(object="products_collection", id="pc_ab", aggregated_amount_limit=2500),
            ),
        ),
    )
    collections = {"pc_ab": frozenset({PROD_A, PROD_B})}
    assert line_discounts(discount, rules, collections=collections) == [2000, 500, 0]


def test_apply_to_cheapest_picks_one_line() -> None:
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(object="products_collection", id="pc_all", effect="APPLY_TO_CHEAPEST"),
            ),
        ),
    )
    collections = {"pc_all": frozenset({PROD_A, PROD_B, PROD_C})}
    discount = Discount(type="PERCENT", percent_off=50, effect="APPLY_TO_ITEMS")
    assert line_discounts(discount, rules, collections=collections) == [0, 1000, 0]


def test_apply_to_most_expensive_picks_one_line() -> None:
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(object="product", id=PROD_A, effect="APPLY_TO_MOST_EXPENSIVE"),
                Target(object="product", id=PROD_C, effect="APPLY_TO_MOST_EXPENSIVE"),
            ),
        ),
    )
    discount = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ITEMS")
    assert line_discounts(discount, rules) == [100, 0, 100]


def test_apply_from_cheapest_orders_lines_for_aggregated_limits() -> None:
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(
                    object="products_collection",
                    id="pc_all",
                    effect="APPLY_FROM_CHEAPEST",
                    aggregated_amount_limit=2500,
                ),
            ),
        ),
    )
    collections = {"pc_all": frozenset({PROD_A, PROD_B, PROD_C})}
    discount = Discount(type="AMOUNT", amount_off=2000, effect="APPLY_TO_ITEMS")
    # Cheapest first: B (2000) takes 2000, then A (3000 unit) takes the remaining 500.
    assert line_discounts(discount, rules, collections=collections) == [500, 2000, 0]


def test_fixed_items_use_the_target_price_override() -> None:
    discount = Discount(type="FIXED", fixed_amount=0, effect="APPLY_TO_ITEMS")
    rules = (RuleSet(id="val_1", applicable_to=(Target(object="product", id=PROD_A, price=2000),)),)
    assert line_discounts(discount, rules) == [2000, 0, 0]


def test_sku_and_source_id_targets_match_lines() -> None:
    lines = (
        item(PROD_A, 1000, sku_id="sku_red"),
        item(None, 1000, source_id="tee", related_object="product"),  # type: ignore[arg-type]
    )
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(object="sku", id="sku_red"),
                Target(object="product", id="prod_tee", source_id="tee"),
            ),
        ),
    )
    discount = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ITEMS")
    assert line_discounts(discount, rules, order_=order(lines)) == [100, 100]


def test_item_discounts_never_push_the_order_below_zero() -> None:
    first = discount_voucher(
        Discount(type="AMOUNT", amount_off=11500, effect="APPLY_TO_ORDER"), code="F"
    )
    second = discount_voucher(
        Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ITEMS"), code="S"
    )
    outcome = evaluate(snapshot(first, second))
    assert outcome.order.total_amount == 0
    assert outcome.order.items_discount_amount == 500


def test_applicable_to_is_rendered_with_effects() -> None:
    outcome = evaluate(snapshot(discount_voucher(rule_sets=a_and_b_rules(quantity_limit=1))))
    rendered = targets_to_list(outcome.redeemables[0].applicable_to)
    assert rendered == {
        "object": "list",
        "data_ref": "data",
        "data": [
            {"object": "product", "id": PROD_A, "effect": "APPLY_TO_EVERY", "quantity_limit": 1},
            {"object": "product", "id": PROD_B, "effect": "APPLY_TO_EVERY", "quantity_limit": 1},
        ],
        "total": 2,
    }
    excluded = targets_to_list(outcome.redeemables[0].inapplicable_to)
    assert excluded["data"] == [{"object": "product", "id": PROD_C, "effect": "APPLY_TO_EVERY"}]


# --- unit ------------------------------------------------------------------------------------------------


def test_unit_default_effect_is_add_missing_items() -> None:
    outcome = evaluate(
        snapshot(discount_voucher(Discount(type="UNIT", unit_off=1, unit_type=PROD_B)))
    )
    line_b = outcome.order.items[1]
    assert (line_b.quantity, line_b.discount_amount) == (1, 2000)
    assert outcome.redeemables[0].result["discount"]["effect"] == "ADD_MISSING_ITEMS"


def test_free_shipping_discounts_the_shipping_line() -> None:
    lines = (item(PROD_A, 3000), item(SHIPPING_PRODUCT_ID, 500))
    discount = Discount(
        type="UNIT", unit_off=1, unit_type=SHIPPING_PRODUCT_ID, effect="ADD_MISSING_ITEMS"
    )
    outcome = evaluate(snapshot(discount_voucher(discount), order_=order(lines)))
    assert [line.discount_amount for line in outcome.order.items] == [0, 500]
    assert outcome.order.total_amount == 3000
    assert outcome.order.amount == 3500


def test_unit_adds_a_new_line_priced_from_the_catalogue() -> None:
    discount = Discount(type="UNIT", unit_off=1, unit_type="prod_gift", effect="ADD_NEW_ITEMS")
    products = {"prod_gift": CatalogueProduct(id="prod_gift", price=700, source_id="mug")}
    outcome = evaluate(snapshot(discount_voucher(discount), products=products))
    new = outcome.order.items[3]
    assert (new.product_id, new.source_id, new.quantity, new.initial_quantity) == (
        "prod_gift",
        "mug",
        1,
        0,
    )
    assert (new.amount, new.discount_amount, new.applied_quantity_amount) == (700, 700, 700)
    assert (outcome.order.amount, outcome.order.initial_amount, outcome.order.total_amount) == (
        12700,
        12000,
        12000,
    )


def test_unit_for_unknown_product_is_not_found() -> None:
    discount = Discount(type="UNIT", unit_off=1, unit_type="prod_ghost")
    result = evaluate(snapshot(discount_voucher(discount))).redeemables[0]
    assert result.status == "INAPPLICABLE"
    assert result.reason is not None
    assert result.reason.key == "not_found"
    assert result.reason.error_details == "Cannot find product with id prod_ghost"


def test_add_many_items_applies_each_unit_spec() -> None:
    discount = Discount(
        type="UNIT",
        effect="ADD_MANY_ITEMS",
        units=(
            UnitSpec(unit_off=1, unit_type=PROD_A, effect="ADD_NEW_ITEMS"),
            UnitSpec(unit_off=2, unit_type=PROD_C, effect="ADD_MISSING_ITEMS"),
        ),
    )
    outcome = evaluate(snapshot(discount_voucher(discount)))
    items = outcome.order.items
    assert [(i.quantity, i.discount_amount, i.discount_quantity) for i in items] == [
        (3, 3000, 1),
        (1, 0, 0),
        (2, 8000, 2),
    ]
    assert outcome.order.amount == 12000 + 3000 + 4000
    assert outcome.order.items_discount_amount == 11000
    assert outcome.order.total_amount == 8000


# --- gift cards -------------------------------------------------------------------------------------------


def test_gift_credits_default_to_min_of_balance_and_total() -> None:
    small = evaluate(snapshot(gift_card(balance=3000)))
    assert small.redeemables[0].result == {"gift": {"credits": 3000, "balance": 0}}
    large = evaluate(snapshot(gift_card(balance=50000)))
    assert large.redeemables[0].result == {"gift": {"credits": 12000, "balance": 38000}}


def test_gift_credits_above_balance_are_gift_amount_exceeded() -> None:
    result = evaluate(snapshot(gift_card(balance=3000, credits=3001))).redeemables[0]
    assert result.reason is not None
    assert result.reason.key == "gift_amount_exceeded"
    assert result.reason.details["actual"] == 3001


def test_gift_reservations_by_other_sessions_reduce_the_balance() -> None:
    result = evaluate(snapshot(gift_card(balance=3000, credits=2000, reserved_credits=1500)))
    assert result.redeemables[0].reason is not None
    assert result.redeemables[0].reason.key == "gift_amount_exceeded"


def test_gift_credits_above_total_are_clamped() -> None:
    outcome = evaluate(snapshot(gift_card(balance=20000, credits=15000)))
    assert outcome.redeemables[0].result == {"gift": {"credits": 12000, "balance": 8000}}
    assert outcome.redeemables[0].consumption is not None
    assert outcome.redeemables[0].consumption.credits == 12000


def test_gift_without_order_amount_is_missing_amount() -> None:
    result = evaluate(snapshot(gift_card(), order_=Order())).redeemables[0]
    assert result.reason is not None
    assert result.reason.key == "missing_amount"


def test_item_scoped_gift_covers_applicable_lines_only() -> None:
    card = gift_card(balance=50000, effect="APPLY_TO_ITEMS")
    card = card.__class__(
        object=card.object,
        id=card.id,
        definition=card.definition,
        rule_sets=a_and_b_rules(),
    )
    outcome = evaluate(snapshot(card))
    assert outcome.redeemables[0].result == {"gift": {"credits": 8000, "balance": 42000}}


# --- loyalty ---------------------------------------------------------------------------------------------------


HOLDER = Customer(id="cust_1")


@pytest.mark.parametrize(
    ("card", "customer", "key", "message"),
    [
        (loyalty_card(reward_id=None), HOLDER, "missing_reward", "missing reward"),
        (loyalty_card(), None, "invalid_customer", "Customer must be a holder of a loyalty card."),
        (
            loyalty_card(),
            Customer(id="cust_2"),
            "invalid_customer",
            "Customer must be a holder of a loyalty card.",
        ),
        (
            loyalty_card(reward_id="rew_other"),
            HOLDER,
            "missing_reward",
            "reward not found for this loyalty card",
        ),
        (
            loyalty_card(reward=Reward(id="rew_1", assigned=False)),
            HOLDER,
            "missing_reward",
            "reward not found for this loyalty card",
        ),
        (
            loyalty_card(balance=200, points=300),
            HOLDER,
            "loyalty_card_points_exceeded",
            "loyalty card points exceeded",
        ),
        (
            loyalty_card(balance=400, points=300, reserved_points=200),
            HOLDER,
            "loyalty_card_points_exceeded",
            "loyalty card points exceeded",
        ),
        (
            loyalty_card(reward=Reward(id="rew_1", type="MATERIAL")),
            HOLDER,
            "missing_reward",
            "reward cannot pay for an order",
        ),
        (loyalty_card(points=None), HOLDER, "missing_reward", "reward points are missing"),
    ],
)
def test_loyalty_failures(card: object, customer: Customer | None, key: str, message: str) -> None:
    result = evaluate(snapshot(card, customer=customer)).redeemables[0]  # type: ignore[arg-type]
    assert result.status == "INAPPLICABLE"
    assert result.reason is not None
    assert (result.reason.key, result.reason.message) == (key, message)


def test_points_above_total_consume_only_what_is_needed() -> None:
    outcome = evaluate(
        snapshot(loyalty_card(points=300), order_=Order(amount=3000), customer=HOLDER)
    )
    assert outcome.order.total_amount == 0
    assert outcome.redeemables[0].result == {"loyalty_card": {"points": 150}}


def test_result_renderer_for_skipped_and_applicable() -> None:
    outcome = evaluate(
        snapshot(discount_voucher(Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ORDER")))
    )
    assert result_to_dict(outcome.redeemables[0]) == {
        "discount": {
            "type": "AMOUNT",
            "effect": "APPLY_TO_ORDER",
            "amount_off": 100,
            "is_dynamic": False,
        }
    }


def test_spread_with_caps_respreads_overflow() -> None:
    from fractions import Fraction

    from voucherd.engine.discounts import spread_with_caps

    shares = spread_with_caps(
        Fraction(900), [Fraction(2), Fraction(1)], [Fraction(1000), Fraction(100)]
    )
    assert shares == [Fraction(800), Fraction(100)]


def test_proportional_by_quantity_respreads_what_a_cheap_line_cannot_take() -> None:
    lines = (item(PROD_A, 100, 3), item(PROD_B, 5000, 1))
    discount = Discount(
        type="AMOUNT", amount_off=1000, effect="APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"
    )
    # By quantity A would get 750 but holds only 300; the other 450 go to B.
    assert line_discounts(discount, order_=order(lines)) == [300, 700]


def test_initial_amount_mode_for_item_percent_uses_the_undiscounted_line() -> None:
    from voucherd.engine.model import StackingRules

    first = discount_voucher(
        Discount(type="AMOUNT", amount_off=1000, effect="APPLY_TO_ITEMS"), code="F"
    )
    second = discount_voucher(
        Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ITEMS"), code="S"
    )
    lines = (item(PROD_A, 5000),)
    discounted = evaluate(snapshot(first, second, order_=order(lines)))
    assert discounted.order.items_discount_amount == 1400
    initial = evaluate(
        snapshot(
            first,
            second,
            order_=order(lines),
            stacking=StackingRules(discount_calculation_mode="INITIAL_AMOUNT"),
        )
    )
    assert initial.order.items_discount_amount == 1500


def test_item_discount_without_items_is_missing_order_items() -> None:
    discount = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ITEMS")
    result = evaluate(snapshot(discount_voucher(discount), order_=Order(amount=5000))).redeemables[
        0
    ]
    assert result.reason is not None
    assert result.reason.key == "missing_order_items"


def test_item_discount_on_unpriced_items_is_missing_order_items_amount() -> None:
    discount = Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ITEMS")
    lines = (item(PROD_A, None, 2),)  # type: ignore[arg-type]
    result = evaluate(snapshot(discount_voucher(discount), order_=order(lines))).redeemables[0]
    assert result.reason is not None
    assert result.reason.key == "missing_order_items_amount"


def test_item_discount_matching_no_line_has_no_effect() -> None:
    discount = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ITEMS")
    rules = (RuleSet(id="val_1", applicable_to=(Target(object="product", id="prod_other"),)),)
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=rules)))
    assert outcome.redeemables[0].status == "APPLICABLE"
    assert outcome.order.total_discount_amount == 0


def test_discount_quantity_never_exceeds_line_quantity_when_stacked() -> None:
    ten = Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ITEMS")
    outcome = evaluate(
        snapshot(discount_voucher(ten, code="ONE"), discount_voucher(ten, code="TWO"))
    )
    assert [line.discount_quantity for line in outcome.order.items] == [2, 1, 1]
    assert [line.discount_amount for line in outcome.order.items] == [1140, 380, 760]


def test_target_unit_on_cheapest_discounts_one_unit() -> None:
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(
                Target(object="product", id=PROD_A, effect="APPLY_TO_CHEAPEST", target="UNIT"),
            ),
        ),
    )
    discount = Discount(type="PERCENT", percent_off=100, effect="APPLY_TO_ITEMS")
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=rules)))
    assert [line.discount_amount for line in outcome.order.items] == [3000, 0, 0]
    assert outcome.order.items[0].discount_quantity == 1


def test_repeat_picks_every_third_unit_buy_two_get_one() -> None:
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(Target(object="product", id=PROD_A, repeat=3),),
        ),
    )
    lines = (item(PROD_A, 1000, 7),)
    discount = Discount(type="PERCENT", percent_off=100, effect="APPLY_TO_ITEMS")
    outcome = evaluate(snapshot(discount_voucher(discount, rule_sets=rules), order_=order(lines)))
    assert outcome.order.items[0].discount_amount == 2000
    assert outcome.order.items[0].discount_quantity == 2


def test_skip_initially_skips_the_first_units_across_lines() -> None:
    rules = (
        RuleSet(
            id="val_1",
            applicable_to=(Target(object="products_collection", id="pc_ab", skip_initially=2),),
        ),
    )
    collections = {"pc_ab": frozenset({PROD_A, PROD_B})}
    discount = Discount(type="AMOUNT", amount_off=100, effect="APPLY_TO_ITEMS_BY_QUANTITY")
    # A's two units are skipped; B's single unit gets 100.
    assert line_discounts(discount, rules, collections=collections) == [0, 100, 0]
