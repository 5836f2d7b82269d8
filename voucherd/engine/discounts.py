"""Discount effects: what each discount type/effect, gift card and pay-with-points does (BEHAVIOR.md §7.2, §7.3, §8, §9).

Each function turns a definition plus the running order into an
:class:`~voucherd.engine.order.Effect` (whole minor units) and the wire ``result``.
Rounding (§7.5 decision): exact fractions until the end; the redeemable's total
discount is rounded half up once, then split over lines by largest remainder
(:func:`voucherd.engine.money.distribute`). Nothing ever takes a line or the
order below zero: every share is capped at the line's remaining value and the
sum at the order's current total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from voucherd.engine import formula
from voucherd.engine.model import (
    SHIPPING_PRODUCT_ID,
    CatalogueProduct,
    Discount,
    Gift,
    LoyaltyCard,
    OrderItem,
    Reward,
    UnitSpec,
)
from voucherd.engine.money import (
    clamp,
    clamp_exact,
    distribute,
    exact,
    major_to_minor,
    minor_to_major,
    percent_of,
    round_half_up,
)
from voucherd.engine.order import Effect, LineState, OrderState
from voucherd.engine.reasons import (
    GIFT_AMOUNT_EXCEEDED,
    LOYALTY_CARD_POINTS_EXCEEDED,
    MISSING_AMOUNT,
    MISSING_ORDER_ITEMS,
    MISSING_ORDER_ITEMS_AMOUNT,
    MISSING_REWARD,
    NOT_FOUND,
    Reason,
    reason,
)
from voucherd.engine.targets import LineTarget, Selection

ORDER_EFFECTS = frozenset({"APPLY_TO_ORDER"})
ITEM_EFFECTS = frozenset(
    {
        "APPLY_TO_ITEMS",
        "APPLY_TO_ITEMS_PROPORTIONALLY",
        "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY",
        "APPLY_TO_ITEMS_BY_QUANTITY",
    }
)
UNIT_EFFECTS = frozenset({"ADD_MISSING_ITEMS", "ADD_NEW_ITEMS", "ADD_MANY_ITEMS"})


@dataclass(frozen=True)
class Inputs:
    """Per-redeemable context: calculation mode, metadata for formulas, the catalogue."""

    calculation_mode: str = "DISCOUNTED_AMOUNT"
    customer_metadata: Mapping[str, Any] = field(default_factory=dict)
    order_metadata: Mapping[str, Any] = field(default_factory=dict)
    redemption_metadata: Mapping[str, Any] = field(default_factory=dict)
    products: Mapping[str, CatalogueProduct] = field(default_factory=dict)


@dataclass
class Computed:
    """An effect, the wire ``result`` and, when it cannot apply, the reason."""

    effect: Effect
    result: dict[str, Any]
    reason: Reason | None = None
    consumed_credits: int = 0
    consumed_points: int = 0


def default_effect(discount: Discount, selection: Selection) -> str:
    """The effect when the definition omits it (§7.2; UNIT default is a decision)."""
    if discount.effect:
        return discount.effect
    if discount.type == "UNIT":
        return "ADD_MANY_ITEMS" if discount.units else "ADD_MISSING_ITEMS"
    return "APPLY_TO_ITEMS" if selection.has_product_scope else "APPLY_TO_ORDER"


def _operands(state: OrderState, line: LineState | None) -> dict[str, Fraction]:
    operands = {
        "ORDER_AMOUNT": minor_to_major(state.amount),
        "ORDER_TOTAL_AMOUNT": minor_to_major(state.total_amount),
    }
    if line is not None:
        operands["ORDER_ITEM_PRICE"] = minor_to_major(line.unit_price)
        operands["ORDER_ITEM_QUANTITY"] = Fraction(line.quantity)
        operands["ORDER_ITEM_AMOUNT"] = minor_to_major(line.amount)
    return operands


class _Values:
    """Reads a definition value, trying its formula first (static value is the fallback)."""

    def __init__(self, state: OrderState, inputs: Inputs) -> None:
        self.state = state
        self.inputs = inputs
        self.is_dynamic = False

    def get(
        self,
        static: int | float | None,
        formula_text: str | None,
        line: LineState | None = None,
        money: bool = False,
    ) -> Fraction | None:
        """The exact value; formulas in major units are converted when ``money``."""
        if formula_text:
            self.is_dynamic = True
            context = formula.FormulaContext(
                operands=_operands(self.state, line),
                customer_metadata=self.inputs.customer_metadata,
                order_metadata=self.inputs.order_metadata,
                redemption_metadata=self.inputs.redemption_metadata,
            )
            try:
                value = formula.evaluate(formula_text, context)
            except formula.FormulaError:
                value = None
            if value is not None:
                return major_to_minor(value) if money else value
        return None if static is None else exact(static)


def _result(discount: Discount, effect: str, is_dynamic: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"type": discount.type, "effect": effect}
    for name in (
        "amount_off",
        "amount_off_formula",
        "percent_off",
        "percent_off_formula",
        "fixed_amount",
        "fixed_amount_formula",
        "amount_limit",
        "aggregated_amount_limit",
        "unit_off",
        "unit_off_formula",
        "unit_type",
    ):
        value = getattr(discount, name)
        if value is not None:
            result[name] = value
    if discount.units:
        result["units"] = [
            {"unit_off": u.unit_off, "unit_type": u.unit_type, "effect": u.effect}
            for u in discount.units
        ]
    result["is_dynamic"] = is_dynamic
    return result


def compute_discount(
    discount: Discount, state: OrderState, selection: Selection, inputs: Inputs
) -> Computed:
    """The effect of a discount definition on the current order (§7.3).

    Order-level: AMOUNT → ``min(amount_off, total)``; PERCENT → ``percent × base``
    (base = current total, or the request-start total in INITIAL_AMOUNT mode) capped
    by ``amount_limit``; FIXED → ``max(0, total − fixed_amount)``. Item-level effects
    are computed per applicable line; UNIT effects add units (§7.3). An unknown
    type/effect combination yields an empty effect.
    """
    effect_name = default_effect(discount, selection)
    values = _Values(state, inputs)
    if discount.type == "UNIT":
        effect, problem = _unit_effect(discount, effect_name, state, values, inputs)
        return Computed(effect, _result(discount, effect_name, values.is_dynamic), problem)
    if effect_name in ORDER_EFFECTS:
        effect = Effect(order_discount=_order_discount(discount, state, values, inputs))
    elif effect_name in ITEM_EFFECTS:
        problem = _items_problem(state, selection)
        if problem is not None:
            return Computed(Effect(), _result(discount, effect_name, values.is_dynamic), problem)
        effect = _items_effect(discount, effect_name, state, selection, values, inputs)
    else:
        effect = Effect()
    return Computed(effect, _result(discount, effect_name, values.is_dynamic))


def _items_problem(state: OrderState, selection: Selection) -> Reason | None:
    """Item effects need items: none at all → ``missing_order_items``; applicable lines
    that all lack a price/amount → ``missing_order_items_amount`` (§3.3). Items that
    simply do not match give a zero effect instead."""
    if not state.lines:
        return reason(
            MISSING_ORDER_ITEMS,
            "order items are missing",
            check="order.items",
            expected="at least one item",
            actual=0,
        )
    if selection.lines and all(state.lines[t.index].amount == 0 for t in selection.lines):
        return reason(
            MISSING_ORDER_ITEMS_AMOUNT,
            "order items amount is missing",
            check="order.items.amount",
            expected="priced applicable items",
            actual=0,
        )
    return None


def _order_discount(discount: Discount, state: OrderState, values: _Values, inputs: Inputs) -> int:
    total = state.total_amount
    if discount.type == "AMOUNT":
        amount = values.get(discount.amount_off, discount.amount_off_formula, money=True)
        return clamp(round_half_up(amount or Fraction(0)), 0, total)
    if discount.type == "PERCENT":
        percent = values.get(discount.percent_off, discount.percent_off_formula)
        base = state.initial_base if inputs.calculation_mode == "INITIAL_AMOUNT" else total
        value = percent_of(base, percent or Fraction(0))
        if discount.amount_limit is not None:
            value = min(value, exact(discount.amount_limit))
        return clamp(round_half_up(value), 0, total)
    if discount.type == "FIXED":
        fixed = values.get(discount.fixed_amount, discount.fixed_amount_formula, money=True)
        if fixed is None:
            return 0
        return clamp(total - round_half_up(fixed), 0, total)
    return 0


def _line_base(line: LineState, target: LineTarget, inputs: Inputs) -> Fraction:
    """The percent base of a line: what is left of it (DISCOUNTED_AMOUNT) or its value
    before this request's discounts (INITIAL_AMOUNT), limited to the target's units.
    The share is still capped by what is left of the line afterwards."""
    base = line.initial_base if inputs.calculation_mode == "INITIAL_AMOUNT" else line.remaining
    if target.units < line.quantity:
        return Fraction(min(base, target.units * line.unit_price))
    return Fraction(base)


def spread_with_caps(
    total: Fraction, weights: list[Fraction], caps: list[Fraction]
) -> list[Fraction]:
    """Split ``total`` in proportion to ``weights`` without any share exceeding its cap.

    Water-filling: a share that would exceed its cap is fixed at the cap and the rest
    is re-spread over the other lines by weight, until nothing overflows. Exact; with
    ``total <= sum(caps)`` the shares sum to ``total``. Example: 900 over weights
    ``[2, 1]`` with caps ``[1000, 100]`` → ``[800, 100]`` (not ``[600, 100]``).
    """
    shares = [Fraction(0)] * len(weights)
    open_lines = [i for i, w in enumerate(weights) if w > 0 and caps[i] > 0]
    left = total
    while open_lines and left > 0:
        weight_sum = sum((weights[i] for i in open_lines), Fraction(0))
        overflow = [i for i in open_lines if left * weights[i] / weight_sum > caps[i]]
        if not overflow:
            for i in open_lines:
                shares[i] = left * weights[i] / weight_sum
            break
        for i in overflow:
            shares[i] = caps[i]
            left -= caps[i]
        open_lines = [i for i in open_lines if i not in overflow]
    return shares


def _items_effect(
    discount: Discount,
    effect_name: str,
    state: OrderState,
    selection: Selection,
    values: _Values,
    inputs: Inputs,
) -> Effect:
    targets = selection.lines
    lines = [state.lines[t.index] for t in targets]
    # caps: a share can never exceed what is left of its line.
    caps = [
        Fraction(min(line.remaining, t.units * line.unit_price))
        if t.units < line.quantity
        else Fraction(line.remaining)
        for line, t in zip(lines, targets, strict=True)
    ]
    shares: list[Fraction]
    if effect_name in {
        "APPLY_TO_ITEMS_PROPORTIONALLY",
        "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY",
    }:
        amount = values.get(discount.amount_off, discount.amount_off_formula, money=True)
        total = clamp_exact(
            Fraction(round_half_up(amount or Fraction(0))), 0, sum(caps, Fraction(0))
        )
        weights = (
            caps
            if effect_name == "APPLY_TO_ITEMS_PROPORTIONALLY"
            else [Fraction(t.units) for t in targets]
        )
        shares = spread_with_caps(total, list(weights), caps)
    else:
        shares = []
        for line, target, cap in zip(lines, targets, caps, strict=True):
            share = _line_share(discount, effect_name, line, target, values, inputs)
            entry = target.target
            if entry is not None and entry.amount_limit is not None:
                share = min(share, exact(entry.amount_limit))
            shares.append(clamp_exact(share, 0, cap))
    shares = _apply_aggregated_limits(discount, targets, shares)
    rounded_total = min(round_half_up(sum(shares, Fraction(0))), state.total_amount)
    whole = distribute(rounded_total, shares)
    effect = Effect()
    for target, line_discount in zip(targets, whole, strict=True):
        if line_discount > 0:
            effect.line_discounts[target.index] = line_discount
            effect.line_discount_quantities[target.index] = target.units
    return effect


def _line_share(
    discount: Discount,
    effect_name: str,
    line: LineState,
    target: LineTarget,
    values: _Values,
    inputs: Inputs,
) -> Fraction:
    if discount.type == "AMOUNT":
        amount = values.get(discount.amount_off, discount.amount_off_formula, line, money=True)
        amount = amount or Fraction(0)
        if effect_name == "APPLY_TO_ITEMS_BY_QUANTITY":
            return amount * target.units
        return amount
    if discount.type == "PERCENT":
        percent = values.get(discount.percent_off, discount.percent_off_formula, line)
        share = percent_of(_line_base(line, target, inputs), percent or Fraction(0))
        if discount.amount_limit is not None:
            share = min(share, exact(discount.amount_limit))
        return share
    if discount.type == "FIXED":
        entry = target.target
        new_price = None
        if entry is not None and (entry.price is not None or entry.price_formula):
            new_price = values.get(entry.price, entry.price_formula, line, money=True)
        if new_price is None:
            new_price = values.get(
                discount.fixed_amount, discount.fixed_amount_formula, line, money=True
            )
        if new_price is None:
            return Fraction(0)
        return max(Fraction(0), line.unit_price - new_price) * target.units
    return Fraction(0)


def _apply_aggregated_limits(
    discount: Discount, targets: tuple[LineTarget, ...], shares: list[Fraction]
) -> list[Fraction]:
    """Cap per-entry and per-discount ``aggregated_amount_limit``, filling lines in order."""
    budgets: dict[int, Fraction] = {}
    capped = []
    overall = (
        None
        if discount.aggregated_amount_limit is None
        else exact(discount.aggregated_amount_limit)
    )
    for target, share in zip(targets, shares, strict=True):
        entry = target.target
        if entry is not None and entry.aggregated_amount_limit is not None:
            key = id(entry)
            budget = budgets.setdefault(key, exact(entry.aggregated_amount_limit))
            share = min(share, budget)
            budgets[key] = budget - share
        if overall is not None:
            share = min(share, overall)
            overall -= share
        capped.append(share)
    return capped


def _unit_specs(discount: Discount, effect_name: str) -> tuple[UnitSpec, ...]:
    if effect_name == "ADD_MANY_ITEMS" or discount.units:
        return discount.units
    return (
        UnitSpec(
            unit_off=discount.unit_off or 0,
            unit_type=discount.unit_type or "",
            effect=effect_name,
            unit_off_formula=discount.unit_off_formula,
            sku_id=discount.sku_id,
        ),
    )


def _unit_effect(
    discount: Discount, effect_name: str, state: OrderState, values: _Values, inputs: Inputs
) -> tuple[Effect, Reason | None]:
    """UNIT: make ``unit_off`` units of ``unit_type`` free, adding missing/new units (§7.3).

    ADD_MISSING_ITEMS adds only the units the cart lacks; ADD_NEW_ITEMS always adds
    ``unit_off`` units. Either way ``unit_off`` units are discounted at their price.
    """
    effect = Effect()
    quantities = {i: line.quantity for i, line in enumerate(state.lines)}
    prices = {i: line.unit_price for i, line in enumerate(state.lines)}
    remaining = {i: line.remaining for i, line in enumerate(state.lines)}
    for spec in _unit_specs(discount, effect_name):
        units_value = values.get(spec.unit_off, spec.unit_off_formula)
        units = max(0, round_half_up(units_value or Fraction(0)))
        index = _find_unit_line(state, effect, spec)
        if index is None:
            catalogue = inputs.products.get(spec.sku_id or spec.unit_type)
            if catalogue is None and spec.unit_type != SHIPPING_PRODUCT_ID:
                kind = "sku" if spec.sku_id else "product"
                missing = spec.sku_id or spec.unit_type
                return Effect(), reason(
                    NOT_FOUND,
                    "Resource not found",
                    error_details=f"Cannot find {kind} with id {missing}",
                    check="unit_type",
                    expected="product in the order or the catalogue",
                    actual=missing,
                )
            price = catalogue.price if catalogue is not None else 0
            index = len(state.lines) + len(effect.new_lines)
            effect.new_lines.append(
                OrderItem(
                    quantity=0,
                    price=price,
                    product_id=(
                        catalogue.product_id if catalogue and spec.sku_id else spec.unit_type
                    ),
                    sku_id=spec.sku_id,
                    source_id=catalogue.source_id if catalogue else None,
                    related_object="sku" if spec.sku_id else "product",
                )
            )
            quantities[index] = 0
            prices[index] = price or 0
            remaining[index] = 0
        have = quantities[index]
        added = max(0, units - have) if spec.effect == "ADD_MISSING_ITEMS" else units
        if added:
            effect.added_units[index] = effect.added_units.get(index, 0) + added
            quantities[index] += added
            remaining[index] += added * prices[index]
        free = min(units * prices[index], remaining[index])
        if free > 0:
            effect.line_discounts[index] = effect.line_discounts.get(index, 0) + free
            effect.line_discount_quantities[index] = (
                effect.line_discount_quantities.get(index, 0) + units
            )
            remaining[index] -= free
    # Never below zero overall: added value plus what is left of the order bounds it.
    added_value = sum(units * prices[i] for i, units in effect.added_units.items())
    ceiling = state.total_amount + added_value
    if effect.items_discount > ceiling:
        ordered = sorted(effect.line_discounts)
        trimmed = distribute(ceiling, [Fraction(effect.line_discounts[i]) for i in ordered])
        effect.line_discounts = {i: v for i, v in zip(ordered, trimmed, strict=True) if v > 0}
    return effect, None


def _find_unit_line(state: OrderState, effect: Effect, spec: UnitSpec) -> int | None:
    candidates = [line.item for line in state.lines] + list(effect.new_lines)
    for index, item in enumerate(candidates):
        if spec.sku_id is not None:
            if item.sku_id == spec.sku_id:
                return index
        elif item.product_id == spec.unit_type and item.sku_id is None:
            return index
    if spec.sku_id is None:
        for index, item in enumerate(candidates):
            if item.product_id == spec.unit_type:
                return index
    return None


def gift_effect(
    gift: Gift,
    requested: int | None,
    state: OrderState,
    selection: Selection,
) -> Computed:
    """Gift credits as an order-level discount at this position (§8).

    Requested credits above the available balance (balance minus other sessions'
    reservations) → ``gift_amount_exceeded``. Omitted → ``min(available, total)``
    (decision). Credits above the current total are clamped to it (decision).
    ``APPLY_TO_ITEMS`` cards only cover what is left of applicable lines.
    """
    available = max(0, gift.balance - gift.reserved_credits)
    if not state.amount_given and state.amount == 0:
        return Computed(
            Effect(),
            {},
            reason(
                MISSING_AMOUNT,
                "order amount is missing",
                check="order.amount",
                expected="an order amount",
                actual=None,
            ),
        )
    if requested is not None and requested > available:
        return Computed(
            Effect(),
            {},
            reason(
                GIFT_AMOUNT_EXCEEDED,
                "gift amount exceeded",
                check="gift.balance",
                expected=f"credits <= {available}",
                actual=requested,
                balance=gift.balance,
                reserved_credits=gift.reserved_credits,
            ),
        )
    ceiling = state.total_amount
    if gift.effect == "APPLY_TO_ITEMS":
        covered = sum(state.lines[t.index].remaining for t in selection.lines)
        if covered == 0:
            return Computed(
                Effect(),
                {},
                reason(
                    MISSING_ORDER_ITEMS_AMOUNT,
                    "order items amount is missing",
                    check="gift.effect",
                    expected="priced applicable items",
                    actual=0,
                ),
            )
        ceiling = min(ceiling, covered)
    credits = clamp(available if requested is None else requested, 0, ceiling)
    result = {"gift": {"credits": credits, "balance": gift.balance - credits}}
    return Computed(Effect(order_discount=credits), result, consumed_credits=credits)


def points_effect(
    card: LoyaltyCard,
    reward: Reward,
    points: int,
    state: OrderState,
) -> Computed:
    """Pay with points (COIN reward, §9): value = points × exchange_ratio ÷ points_ratio × 100.

    Example D: 300 points at 20/100 → 6000 minor units. Points above the available
    balance → ``loyalty_card_points_exceeded``. The value is rounded half up and
    clamped to the current total; only the points needed to cover the clamped value
    are consumed (decision): 300 points (6000) on a total of 3000 consume 150.
    """
    available = max(0, card.balance - card.reserved_points)
    if points > available:
        return Computed(
            Effect(),
            {},
            reason(
                LOYALTY_CARD_POINTS_EXCEEDED,
                "loyalty card points exceeded",
                check="loyalty_card.balance",
                expected=f"points <= {available}",
                actual=points,
            ),
        )
    if reward.type != "COIN":
        return Computed(
            Effect(),
            {},
            reason(
                MISSING_REWARD,
                "reward cannot pay for an order",
                check="reward.type",
                expected="COIN",
                actual=reward.type,
            ),
        )
    if not state.amount_given and state.amount == 0:
        return Computed(
            Effect(),
            {},
            reason(
                MISSING_AMOUNT,
                "order amount is missing",
                check="order.amount",
                expected="an order amount",
                actual=None,
            ),
        )
    rate = exact(reward.exchange_ratio) / exact(reward.points_ratio) * 100
    value = rate * points
    discount = clamp(round_half_up(value), 0, state.total_amount)
    consumed = points
    if rate > 0 and value > discount:
        needed = Fraction(discount) / rate
        consumed = min(points, -(-needed.numerator // needed.denominator))
    result = {"loyalty_card": {"points": consumed}}
    return Computed(Effect(order_discount=discount), result, consumed_points=consumed)
