"""Hypothesis properties of the engine (STYLE §8): bounds, sums, isolation, limits."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from voucherd.engine import evaluate
from voucherd.engine.model import (
    Discount,
    Order,
    OrderItem,
    RedeemableInput,
    Snapshot,
    StackingRules,
)
from voucherd.engine.money import split_proportionally

from .builders import NOW
from .strategies import (
    item_discounts,
    orders,
    redeemables,
    stacking_rules,
)

UNIQUE = st.lists(redeemables(), min_size=1, max_size=6, unique_by=lambda r: r.id).map(tuple)


def run(
    items: tuple[RedeemableInput, ...], order: Order, rules: StackingRules | None = None
) -> object:
    return evaluate(
        Snapshot(redeemables=items, order=order, now=NOW, stacking=rules or StackingRules())
    )


@given(UNIQUE, orders(), stacking_rules)
def test_no_discount_exceeds_its_base(
    items: tuple[RedeemableInput, ...], order: Order, rules: StackingRules
) -> None:
    outcome = run(items, order, rules)
    final = outcome.order  # type: ignore[attr-defined]
    for line in final.items:
        assert 0 <= line.discount_amount <= line.amount
        assert line.subtotal_amount == line.amount - line.discount_amount
    assert 0 <= final.total_discount_amount <= final.amount


@given(UNIQUE, orders(), stacking_rules)
def test_totals_are_never_negative_and_add_up(
    items: tuple[RedeemableInput, ...], order: Order, rules: StackingRules
) -> None:
    outcome = run(items, order, rules)
    snapshots = [r.order for r in outcome.redeemables if r.order is not None]  # type: ignore[attr-defined]
    for snap in [*snapshots, outcome.order]:  # type: ignore[attr-defined]
        assert snap.total_amount >= 0
        assert snap.total_amount == snap.amount - snap.total_discount_amount
        assert snap.total_discount_amount == snap.discount_amount + snap.items_discount_amount


@given(UNIQUE, orders(), stacking_rules)
def test_item_discounts_sum_to_the_orders_items_discount(
    items: tuple[RedeemableInput, ...], order: Order, rules: StackingRules
) -> None:
    outcome = run(items, order, rules)
    steps = [r.order for r in outcome.redeemables if r.order is not None]  # type: ignore[attr-defined]
    for snap in [*steps, outcome.order]:  # type: ignore[attr-defined]
        assert sum(i.discount_amount for i in snap.items) == snap.items_discount_amount
        assert (
            sum(i.applied_discount_amount for i in snap.items) == snap.items_applied_discount_amount
        )
    final = outcome.order  # type: ignore[attr-defined]
    assert final.total_applied_discount_amount == sum(
        s.total_applied_discount_amount for s in steps
    )


@given(
    st.lists(redeemables(item_discounts()), min_size=1, max_size=4, unique_by=lambda r: r.id).map(
        tuple
    ),
    orders(),
    st.integers(0, 20_000),
    st.integers(1, 5),
)
def test_adding_an_unrelated_item_leaves_item_discounts_unchanged(
    items: tuple[RedeemableInput, ...], order: Order, price: int, quantity: int
) -> None:
    # Only redeemables scoped to products by applicable_to; the new line matches none.
    scoped = tuple(r for r in items if r.rule_sets)
    if not scoped:
        return
    before = run(scoped, order)
    extra = Order(
        items=(*order.items, OrderItem(product_id="prod_unrelated", price=price, quantity=quantity))
    )
    after = run(scoped, extra)
    old_lines = [line.discount_amount for line in before.order.items]  # type: ignore[attr-defined]
    new_lines = [line.discount_amount for line in after.order.items]  # type: ignore[attr-defined]
    assert new_lines[: len(old_lines)] == old_lines
    assert new_lines[-1] == 0


@given(UNIQUE, orders(), stacking_rules)
def test_stacking_limits_are_never_exceeded(
    items: tuple[RedeemableInput, ...], order: Order, rules: StackingRules
) -> None:
    outcome = run(items, order, rules)
    applied = outcome.applicable  # type: ignore[attr-defined]
    assert len(applied) <= rules.applicable_redeemables_limit
    per_category: Counter[str] = Counter()
    exclusive = 0
    for redeemable in applied:
        ids = {c.id for c in redeemable.categories}
        per_category.update(ids)
        exclusive += bool(ids & set(rules.exclusive_categories))
    assert all(n <= rules.applicable_redeemables_per_category_limit for n in per_category.values())
    assert exclusive <= rules.applicable_exclusive_redeemables_limit
    if rules.redeemables_application_mode == "ALL" and outcome.inapplicable:  # type: ignore[attr-defined]
        assert outcome.valid is False  # type: ignore[attr-defined]


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=20))
def test_proportional_shares_sum_exactly_to_the_discount(total: int, weights: list[int]) -> None:
    shares = split_proportionally(total, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    assert all(share >= 0 for share in shares)


@given(st.integers(0, 50_000), orders())
def test_proportional_discount_splits_exactly_over_lines(amount_off: int, order: Order) -> None:
    discount = Discount(
        type="AMOUNT", amount_off=amount_off, effect="APPLY_TO_ITEMS_PROPORTIONALLY"
    )
    from voucherd.engine.model import Voucher

    voucher = RedeemableInput(
        object="voucher", id="P", definition=Voucher(id="v_p", code="P", discount=discount)
    )
    outcome = run((voucher,), order)
    amount = sum(line.amount for line in outcome.order.items)  # type: ignore[attr-defined]
    assert outcome.order.items_discount_amount == min(amount_off, amount)  # type: ignore[attr-defined]


@given(st.integers(0, 50_000), orders())
def test_proportional_by_quantity_discount_splits_exactly_over_lines(
    amount_off: int, order: Order
) -> None:
    from voucherd.engine.model import Voucher

    discount = Discount(
        type="AMOUNT", amount_off=amount_off, effect="APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY"
    )
    voucher = RedeemableInput(
        object="voucher", id="P", definition=Voucher(id="v_p", code="P", discount=discount)
    )
    outcome = run((voucher,), order)
    amount = sum(line.amount for line in outcome.order.items)  # type: ignore[attr-defined]
    assert outcome.order.items_discount_amount == min(amount_off, amount)  # type: ignore[attr-defined]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
rule_names = st.sampled_from(
    [
        "order.amount",
        "order.items.any",
        "order.items.every",
        "order.items.none",
        "order.items.cheapest",
        "product.id",
        "sku.id",
        "order.items.price_any",
        "order.items.metadata_each",
        "customer.metadata",
        "customer.segment",
        "order.metadata",
        "publication.redeemable_by_linked_customer",
        "order.items.quantity",
        "bogus",
    ]
)
operators = st.sampled_from(
    [
        "$is",
        "$in",
        "$is_not",
        "$less_than",
        "$count",
        "$after",
        "$dow",
        "$timeframe_absolute",
        "$contains",
        "$x",
    ]
)
fuzzy_rule = st.fixed_dictionaries(
    {
        "name": rule_names | json_values,
        "conditions": st.dictionaries(operators, json_values, max_size=2) | json_values,
        "rules": st.dictionaries(st.sampled_from(["1", "2", "logic"]), json_values, max_size=2)
        | json_values,
        "property": json_values,
        "error": json_values,
    }
)
fuzzy_rules = st.dictionaries(
    st.sampled_from(["1", "2", "logic"]),
    fuzzy_rule | json_values | st.sampled_from(["1 and 2", "1 or (2", ""]),
    max_size=3,
)


@given(fuzzy_rules)
def test_malformed_stored_rules_never_crash_the_engine(rules: dict[str, object]) -> None:
    from voucherd.engine import validate_rule_definition
    from voucherd.engine.model import Customer, RuleSet, Voucher

    validate_rule_definition(rules)
    voucher = RedeemableInput(
        object="voucher",
        id="R",
        definition=Voucher(id="v_r", code="R", discount=Discount(type="PERCENT", percent_off=10)),
        rule_sets=(RuleSet(id="val_f", rules=rules),),
    )
    order = Order(items=(OrderItem(product_id="prod_1", price=100, quantity=1, metadata={"a": 1}),))
    outcome = evaluate(
        Snapshot(redeemables=(voucher,), order=order, now=NOW, customer=Customer(id="c"))
    )
    assert outcome.redeemables[0].status in {"APPLICABLE", "INAPPLICABLE"}
