"""Snapshot builders with sane defaults for engine tests.

The common cart of BEHAVIOR.md §7.6: A (3000 × 2), B (2000 × 1), C (4000 × 1).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from voucherd.engine.model import (
    Campaign,
    Category,
    Customer,
    Discount,
    Gift,
    LoyaltyCard,
    Order,
    OrderItem,
    PromotionTier,
    RedeemableInput,
    Reward,
    RuleSet,
    Snapshot,
    StackingRules,
    Target,
    Validity,
    Voucher,
)

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday

PROD_A, PROD_B, PROD_C = "prod_a", "prod_b", "prod_c"


def item(product_id: str, price: int, quantity: int = 1, **kwargs: Any) -> OrderItem:
    """An order line for ``product_id``."""
    return OrderItem(product_id=product_id, price=price, quantity=quantity, **kwargs)


def cart() -> tuple[OrderItem, ...]:
    """The §7.6 common cart: A 3000×2, B 2000×1, C 4000×1 (amount 12000)."""
    return (item(PROD_A, 3000, 2), item(PROD_B, 2000), item(PROD_C, 4000))


def order(items: tuple[OrderItem, ...] | None = None, **kwargs: Any) -> Order:
    """An order, defaulting to the common cart."""
    return Order(items=cart() if items is None else items, **kwargs)


def a_and_b_rules(**target_kwargs: Any) -> tuple[RuleSet, ...]:
    """§7.6 item rules: A and B applicable, C excluded."""
    return (
        RuleSet(
            id="val_ab",
            applicable_to=(
                Target(object="product", id=PROD_A, **target_kwargs),
                Target(object="product", id=PROD_B, **target_kwargs),
            ),
            inapplicable_to=(Target(object="product", id=PROD_C),),
        ),
    )


def discount_voucher(
    discount: Discount | None = None,
    code: str = "CODE",
    rule_sets: tuple[RuleSet, ...] = (),
    **kwargs: Any,
) -> RedeemableInput:
    """A resolved discount code."""
    definition = Voucher(
        id=f"v_{code.lower()}",
        code=code,
        discount=discount or Discount(type="PERCENT", percent_off=10),
        **kwargs,
    )
    return RedeemableInput(object="voucher", id=code, definition=definition, rule_sets=rule_sets)


def tier(
    discount: Discount | None = None,
    tier_id: str = "promo_1",
    rule_sets: tuple[RuleSet, ...] = (),
    **kwargs: Any,
) -> RedeemableInput:
    """A resolved promotion tier."""
    definition = PromotionTier(
        id=tier_id, discount=discount or Discount(type="AMOUNT", amount_off=1500), **kwargs
    )
    return RedeemableInput(
        object="promotion_tier", id=tier_id, definition=definition, rule_sets=rule_sets
    )


def gift_card(
    balance: int = 8000, credits: int | None = None, code: str = "GIFT", **kwargs: Any
) -> RedeemableInput:
    """A resolved gift card with ``balance``; ``credits`` as requested."""
    gift_kwargs = {k: kwargs.pop(k) for k in ("effect", "reserved_credits") if k in kwargs}
    definition = Voucher(
        id=f"v_{code.lower()}",
        code=code,
        type="GIFT_VOUCHER",
        gift=Gift(amount=balance, balance=balance, **gift_kwargs),
        **kwargs,
    )
    return RedeemableInput(object="voucher", id=code, definition=definition, gift_credits=credits)


def loyalty_card(
    balance: int = 1000,
    points: int | None = 300,
    reward_id: str | None = "rew_1",
    holder_id: str | None = "cust_1",
    reward: Reward | None = None,
    reserved_points: int = 0,
) -> RedeemableInput:
    """A resolved loyalty card held by ``holder_id`` with a COIN reward 20/100."""
    definition = Voucher(
        id="v_lc",
        code="LC",
        type="LOYALTY_CARD",
        loyalty_card=LoyaltyCard(balance=balance, reserved_points=reserved_points),
        holder_id=holder_id,
        reward=reward or Reward(id="rew_1", exchange_ratio=20, points_ratio=100),
        campaign=Campaign(id="camp_loyal", campaign_type="LOYALTY_PROGRAM"),
    )
    return RedeemableInput(
        object="voucher", id="LC", definition=definition, reward_id=reward_id, reward_points=points
    )


def snapshot(
    *redeemables: RedeemableInput,
    order_: Order | None = None,
    stacking: StackingRules | None = None,
    customer: Customer | None = None,
    **kwargs: Any,
) -> Snapshot:
    """A snapshot at :data:`NOW` over the common cart with default stacking rules."""
    return Snapshot(
        redeemables=redeemables,
        order=order_ if order_ is not None else order(),
        now=kwargs.pop("now", NOW),
        customer=customer,
        stacking=stacking or StackingRules(),
        **kwargs,
    )


def category(cat_id: str, hierarchy: int = 0) -> Category:
    """A category."""
    return Category(id=cat_id, hierarchy=hierarchy)


__all__ = ["Validity"]
