"""Hypothesis strategies for engine snapshots (deadline-free profile)."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

from voucherd.engine.model import (
    Category,
    Discount,
    Order,
    OrderItem,
    PromotionTier,
    RedeemableInput,
    RuleSet,
    StackingRules,
    Target,
    Voucher,
)

settings.register_profile("engine", deadline=None, max_examples=150)
settings.load_profile("engine")

PRODUCTS = ("prod_1", "prod_2", "prod_3", "prod_4")
CATEGORIES = ("cat_1", "cat_2", "cat_3")
ITEM_EFFECTS = (
    "APPLY_TO_ITEMS",
    "APPLY_TO_ITEMS_PROPORTIONALLY",
    "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY",
    "APPLY_TO_ITEMS_BY_QUANTITY",
)

prices = st.integers(min_value=0, max_value=20_000)
quantities = st.integers(min_value=1, max_value=6)


@st.composite
def order_items(draw: st.DrawFn, products: tuple[str, ...] = PRODUCTS) -> OrderItem:
    """An order line of one of ``products``."""
    return OrderItem(
        product_id=draw(st.sampled_from(products)),
        price=draw(prices),
        quantity=draw(quantities),
    )


def orders(products: tuple[str, ...] = PRODUCTS) -> st.SearchStrategy[Order]:
    """Orders of 1–6 lines, amount from the items."""
    return st.builds(
        Order, items=st.lists(order_items(products), min_size=1, max_size=6).map(tuple)
    )


percent = st.one_of(st.integers(0, 100), st.sampled_from([12.5, 33.3, 0.5, 99.9]))
limits = st.none() | st.integers(0, 10_000)


@st.composite
def item_discounts(draw: st.DrawFn) -> Discount:
    """A discount with an item-level effect (AMOUNT, PERCENT or FIXED)."""
    kind = draw(st.sampled_from(["AMOUNT", "PERCENT", "FIXED"]))
    if kind == "AMOUNT":
        return Discount(
            type="AMOUNT",
            effect=draw(st.sampled_from(ITEM_EFFECTS)),
            amount_off=draw(st.integers(0, 30_000)),
            aggregated_amount_limit=draw(limits),
        )
    if kind == "PERCENT":
        return Discount(
            type="PERCENT",
            effect="APPLY_TO_ITEMS",
            percent_off=draw(percent),
            amount_limit=draw(limits),
            aggregated_amount_limit=draw(limits),
        )
    return Discount(
        type="FIXED", effect="APPLY_TO_ITEMS", fixed_amount=draw(st.integers(0, 20_000))
    )


@st.composite
def order_discounts(draw: st.DrawFn) -> Discount:
    """A discount with the APPLY_TO_ORDER effect."""
    kind = draw(st.sampled_from(["AMOUNT", "PERCENT", "FIXED"]))
    if kind == "AMOUNT":
        return Discount(
            type="AMOUNT", effect="APPLY_TO_ORDER", amount_off=draw(st.integers(0, 50_000))
        )
    if kind == "PERCENT":
        return Discount(
            type="PERCENT",
            effect="APPLY_TO_ORDER",
            percent_off=draw(percent),
            amount_limit=draw(limits),
        )
    return Discount(
        type="FIXED", effect="APPLY_TO_ORDER", fixed_amount=draw(st.integers(0, 50_000))
    )


discounts = item_discounts() | order_discounts()


@st.composite
def target_rule_sets(draw: st.DrawFn, products: tuple[str, ...] = PRODUCTS) -> tuple[RuleSet, ...]:
    """Zero or one rule set with applicable_to entries over ``products``."""
    if not draw(st.booleans()):
        return ()
    chosen = draw(st.lists(st.sampled_from(products), min_size=1, max_size=3, unique=True))
    effect = draw(
        st.sampled_from(["APPLY_TO_EVERY", "APPLY_TO_CHEAPEST", "APPLY_FROM_MOST_EXPENSIVE"])
    )
    targets = tuple(
        Target(
            object="product",
            id=product,
            effect=effect,
            quantity_limit=draw(st.none() | st.integers(1, 4)),
            amount_limit=draw(st.none() | st.integers(0, 5000)),
        )
        for product in chosen
    )
    return (RuleSet(id="val_gen", applicable_to=targets),)


@st.composite
def redeemables(
    draw: st.DrawFn, discount_strategy: st.SearchStrategy[Discount] = discounts
) -> RedeemableInput:
    """A valid voucher or tier with a random discount, categories and targets."""
    index = draw(st.integers(0, 10**6))
    discount = draw(discount_strategy)
    categories = tuple(
        Category(id=c, hierarchy=h)
        for c, h in draw(
            st.lists(
                st.tuples(st.sampled_from(CATEGORIES), st.integers(0, 3)),
                max_size=2,
                unique_by=lambda x: x[0],
            )
        )
    )
    rule_sets = draw(target_rule_sets())
    if draw(st.booleans()):
        definition: Voucher | PromotionTier = Voucher(
            id=f"v_{index}", code=f"C{index}", discount=discount, categories=categories
        )
        return RedeemableInput(
            object="voucher", id=f"C{index}", definition=definition, rule_sets=rule_sets
        )
    tier = PromotionTier(id=f"promo_{index}", discount=discount, categories=categories)
    return RedeemableInput(
        object="promotion_tier", id=tier.id, definition=tier, rule_sets=rule_sets
    )


stacking_rules = st.builds(
    StackingRules,
    applicable_redeemables_limit=st.integers(1, 5),
    applicable_redeemables_per_category_limit=st.integers(1, 3),
    applicable_exclusive_redeemables_limit=st.integers(1, 2),
    exclusive_categories=st.sampled_from([(), ("cat_1",), ("cat_1", "cat_2")]),
    joint_categories=st.sampled_from([(), ("cat_3",)]),
    redeemables_application_mode=st.sampled_from(["ALL", "PARTIAL"]),
    redeemables_sorting_rule=st.sampled_from(["REQUESTED_ORDER", "CATEGORY_HIERARCHY"]),
    discount_calculation_mode=st.sampled_from(["DISCOUNTED_AMOUNT", "INITIAL_AMOUNT"]),
    redeemables_products_application_mode=st.sampled_from(["STACK", "ONCE"]),
    redeemables_no_effect_rule=st.sampled_from(["REDEEM_ANYWAY", "SKIP"]),
)
