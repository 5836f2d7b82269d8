"""Snapshot in, outcome out: the engine's frozen data model (BEHAVIOR.md §6–§13).

The store builds a :class:`Snapshot` from database rows (no row object ever
reaches the math) and :func:`voucherd.engine.evaluate.evaluate` returns an
:class:`Outcome`. Everything here is immutable; money is ``int`` minor units,
discount definition values may be ``int``/``float`` as on the wire (§1.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import Any, Literal

from voucherd.engine.reasons import Reason

Json = Any
EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    # A read-only shared empty mapping; dataclasses need a factory for mapping defaults.
    return EMPTY


RedeemableObject = Literal["voucher", "promotion_tier"]
Status = Literal["APPLICABLE", "INAPPLICABLE", "SKIPPED"]

SHIPPING_PRODUCT_ID = "prod_5h1pp1ng"


# --- discount definitions (§7.2) -------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    """One ``units[]`` element of a multiple UNIT discount (or a single UNIT discount)."""

    unit_off: int | float
    unit_type: str
    effect: str = "ADD_MISSING_ITEMS"
    unit_off_formula: str | None = None
    sku_id: str | None = None


@dataclass(frozen=True)
class Discount:
    """A discount definition as stored: ``type`` AMOUNT/PERCENT/FIXED/UNIT and its values.

    ``effect`` None means "default" (§7.2): UNIT → ADD_MISSING_ITEMS, others →
    APPLY_TO_ITEMS when the rules name included/excluded products, else APPLY_TO_ORDER.
    """

    type: str
    effect: str | None = None
    amount_off: int | float | None = None
    amount_off_formula: str | None = None
    percent_off: int | float | None = None
    percent_off_formula: str | None = None
    fixed_amount: int | float | None = None
    fixed_amount_formula: str | None = None
    amount_limit: int | float | None = None
    aggregated_amount_limit: int | float | None = None
    unit_off: int | float | None = None
    unit_off_formula: str | None = None
    unit_type: str | None = None
    sku_id: str | None = None
    units: tuple[UnitSpec, ...] = ()


# --- validity (§12) ----------------------------------------------------------------


@dataclass(frozen=True)
class DailyHours:
    """A ``validity_hours.daily[]`` period: ``"HH:mm"`` times and 0–6 days (0 = Sunday)."""

    start_time: str
    expiration_time: str
    days_of_week: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class Validity:
    """Dates and recurring windows shared by vouchers, tiers and campaigns (§12).

    ``timeframe_interval``/``timeframe_duration`` are ISO-8601 durations
    (``P2D``, ``PT1H``); they need ``start_date``.
    """

    start_date: datetime | None = None
    expiration_date: datetime | None = None
    timeframe_interval: str | None = None
    timeframe_duration: str | None = None
    day_of_week: tuple[int, ...] | None = None
    daily_hours: tuple[DailyHours, ...] = ()


@dataclass(frozen=True)
class Category:
    """A category (§10.3): lower ``hierarchy`` sorts earlier."""

    id: str
    hierarchy: int = 0
    name: str = ""


@dataclass(frozen=True)
class Campaign:
    """The campaign a voucher or tier belongs to (only what the checks need)."""

    id: str
    name: str = ""
    campaign_type: str = "DISCOUNT_COUPONS"
    active: bool = True
    validity: Validity = field(default_factory=Validity)


# --- applicable_to / validation rules (§11) -----------------------------------------


@dataclass(frozen=True)
class Target:
    """One ``applicable_to.included/excluded`` entry (§7.2, §11.1).

    ``object`` is ``product``, ``sku`` or ``products_collection``; the limits are
    optional; ``price`` (minor units) / ``price_formula`` are the new unit price for
    FIXED item discounts. ``target`` ``UNIT`` makes cheapest/most-expensive pick one
    unit instead of a whole line; ``skip_initially``/``repeat`` pick units in
    application order ("every 3rd unit after the first 2").
    """

    object: str
    id: str
    source_id: str | None = None
    effect: str = "APPLY_TO_EVERY"
    quantity_limit: int | None = None
    aggregated_quantity_limit: int | None = None
    amount_limit: int | float | None = None
    aggregated_amount_limit: int | float | None = None
    price: int | float | None = None
    price_formula: str | None = None
    target: str = "ITEM"
    repeat: int | None = None
    skip_initially: int | None = None


@dataclass(frozen=True)
class RuleSet:
    """A validation rule object assigned to the redeemable, its campaign or its tier.

    ``rules`` is the wire ``rules`` object as plain dicts (numbered rules + ``logic``);
    ``related_object_type``/``related_object_id`` name the assignment target, used for
    per-customer counters (§11.3); None means "the redeemable itself".
    """

    id: str
    rules: Mapping[str, Json] = field(default_factory=_empty)
    error_message: str | None = None
    applicable_to: tuple[Target, ...] = ()
    inapplicable_to: tuple[Target, ...] = ()
    related_object_type: str | None = None
    related_object_id: str | None = None


# --- card definitions (§8, §9) -------------------------------------------------------


@dataclass(frozen=True)
class Gift:
    """Gift card state: ``balance`` and credits ``reserved`` by other live sessions (§13)."""

    amount: int
    balance: int
    effect: str = "APPLY_TO_ORDER"
    reserved_credits: int = 0


@dataclass(frozen=True)
class LoyaltyCard:
    """Loyalty card state: spendable ``balance`` and points ``reserved`` by other sessions."""

    balance: int
    reserved_points: int = 0


@dataclass(frozen=True)
class Reward:
    """A reward the request names (§9). COIN rewards pay with points.

    ``assigned`` is whether the reward is assigned to the card's campaign.
    """

    id: str
    type: str = "COIN"
    exchange_ratio: int | float = 1
    points_ratio: int | float = 1
    assigned: bool = True


@dataclass(frozen=True)
class Voucher:
    """A voucher definition (discount code, gift card or loyalty card), resolved by the store.

    ``quantity`` None = unlimited; ``reserved_quantity`` = units locked by *other*
    sessions (the request's own session is not counted, §13).
    """

    id: str
    code: str
    type: str = "DISCOUNT_VOUCHER"
    active: bool = True
    validity: Validity = field(default_factory=Validity)
    quantity: int | None = None
    redeemed_quantity: int = 0
    reserved_quantity: int = 0
    discount: Discount | None = None
    gift: Gift | None = None
    loyalty_card: LoyaltyCard | None = None
    holder_id: str | None = None
    categories: tuple[Category, ...] = ()
    campaign: Campaign | None = None
    reward: Reward | None = None
    metadata: Mapping[str, Json] = field(default_factory=_empty)


@dataclass(frozen=True)
class PromotionTier:
    """A promotion tier definition with its campaign (§12)."""

    id: str
    name: str = ""
    active: bool = True
    validity: Validity = field(default_factory=Validity)
    discount: Discount | None = None
    hierarchy: int = 1
    categories: tuple[Category, ...] = ()
    campaign: Campaign | None = None
    metadata: Mapping[str, Json] = field(default_factory=_empty)


@dataclass(frozen=True)
class RedeemableInput:
    """One requested redeemable plus what the store resolved for it.

    ``object``/``id`` are as sent (code or ``v_`` id). ``gift_credits`` and
    ``reward_id``/``reward_points`` come from the request. ``definition`` is None when
    the code/id does not exist (→ INAPPLICABLE ``not_found``).
    """

    object: RedeemableObject
    id: str
    definition: Voucher | PromotionTier | None = None
    rule_sets: tuple[RuleSet, ...] = ()
    gift_credits: int | None = None
    reward_id: str | None = None
    reward_points: int | None = None


# --- order and customer (§7.1, §15) --------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    """An order line as the request (or stored order) gives it (§7.1).

    ``amount`` None → ``price × quantity``. ``discount_amount`` is a discount already
    on a persisted line (Example F). ``product_metadata``/``sku_metadata`` feed rules.
    """

    quantity: int = 1
    price: int | None = None
    amount: int | None = None
    product_id: str | None = None
    sku_id: str | None = None
    source_id: str | None = None
    related_object: str | None = None
    product_source_id: str | None = None
    sku_source_id: str | None = None
    id: str | None = None
    metadata: Mapping[str, Json] = field(default_factory=_empty)
    product_metadata: Mapping[str, Json] = field(default_factory=_empty)
    sku_metadata: Mapping[str, Json] = field(default_factory=_empty)
    discount_amount: int = 0


@dataclass(frozen=True)
class Order:
    """The order to discount. ``amount`` None → sum of item amounts (§7.1).

    ``discount_amount`` is the order-level discount already on a persisted order.
    """

    amount: int | None = None
    items: tuple[OrderItem, ...] = ()
    metadata: Mapping[str, Json] = field(default_factory=_empty)
    discount_amount: int = 0
    id: str | None = None
    source_id: str | None = None


@dataclass(frozen=True)
class Customer:
    """The request's customer: ids, metadata and the segment ids it belongs to."""

    id: str | None = None
    source_id: str | None = None
    metadata: Mapping[str, Json] = field(default_factory=_empty)
    segment_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogueProduct:
    """A stored product or SKU the engine may add to the order (UNIT effects, §7.3)."""

    id: str
    price: int | None = None
    name: str | None = None
    source_id: str | None = None
    product_id: str | None = None


# --- stacking rules (§10.1) -----------------------------------------------------------


@dataclass(frozen=True)
class StackingRules:
    """Project stacking rules; ``StackingRules()`` are the §10.1 defaults."""

    redeemables_limit: int = 30
    applicable_redeemables_limit: int = 5
    applicable_redeemables_per_category_limit: int = 1
    applicable_redeemables_category_limits: Mapping[str, int] = field(default_factory=_empty)
    applicable_exclusive_redeemables_limit: int = 1
    applicable_exclusive_redeemables_per_category_limit: int = 1
    exclusive_categories: tuple[str, ...] = ()
    joint_categories: tuple[str, ...] = ()
    redeemables_application_mode: str = "ALL"
    redeemables_sorting_rule: str = "REQUESTED_ORDER"
    grouped_redeemables_sorting_rule: str = "JOINT_ALWAYS_LAST"
    discount_calculation_mode: str = "DISCOUNTED_AMOUNT"
    initial_amount_mode_categories: tuple[str, ...] = ()
    discounted_amount_mode_categories: tuple[str, ...] = ()
    redeemables_products_application_mode: str = "STACK"
    redeemables_no_effect_rule: str = "REDEEM_ANYWAY"
    no_effect_skip_categories: tuple[str, ...] = ()
    no_effect_redeem_anyway_categories: tuple[str, ...] = ()
    redeemables_rollback_order_mode: str = "WITH_ORDER"


@dataclass(frozen=True)
class Snapshot:
    """Everything one validate/redeem decision needs; built by the store.

    ``now`` must be tz-aware; day-of-week and hour windows are checked in ``tz``.
    ``metadata`` is the request's redemption metadata. ``counters`` answers the rule
    counters listed by :func:`voucherd.engine.rules.counter_keys_needed`.
    ``products`` maps product/SKU id → catalogue entry; ``collections`` maps
    ``pc_`` id → the product and SKU ids in it.
    """

    redeemables: tuple[RedeemableInput, ...]
    order: Order
    now: datetime
    customer: Customer | None = None
    stacking: StackingRules = field(default_factory=StackingRules)
    tz: tzinfo = UTC
    metadata: Mapping[str, Json] = field(default_factory=_empty)
    counters: Mapping[str, int] = field(default_factory=_empty)
    products: Mapping[str, CatalogueProduct] = field(default_factory=_empty)
    collections: Mapping[str, frozenset[str]] = field(default_factory=_empty)

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Snapshot.now must be timezone-aware")


# --- outcome (§6.3, §7.4) ---------------------------------------------------------------


@dataclass(frozen=True)
class ItemSnapshot:
    """An order line after a step, with every §7.4 item field (minor units).

    ``applied_*`` fields are this step's change (per redeemable) or the whole
    request's (final order). ``subtotal_amount`` = ``amount − discount_amount``.
    """

    index: int
    quantity: int
    price: int | None
    amount: int
    initial_quantity: int
    initial_amount: int
    discount_amount: int
    applied_discount_amount: int
    discount_quantity: int
    applied_discount_quantity: int
    applied_quantity: int
    applied_quantity_amount: int
    subtotal_amount: int
    product_id: str | None = None
    sku_id: str | None = None
    source_id: str | None = None
    related_object: str | None = None
    id: str | None = None
    metadata: Mapping[str, Json] = field(default_factory=_empty)


@dataclass(frozen=True)
class OrderSnapshot:
    """Order totals after a step (or the final state), with every §7.4 order field."""

    amount: int
    initial_amount: int
    discount_amount: int
    items_discount_amount: int
    total_discount_amount: int
    total_amount: int
    applied_discount_amount: int
    items_applied_discount_amount: int
    total_applied_discount_amount: int
    items: tuple[ItemSnapshot, ...]
    id: str | None = None
    source_id: str | None = None
    metadata: Mapping[str, Json] = field(default_factory=_empty)


@dataclass(frozen=True)
class Consumption:
    """What the store must consume for an APPLICABLE redeemable."""

    quantity: int = 1
    credits: int = 0
    points: int = 0


@dataclass(frozen=True)
class AppliedTarget:
    """One ``applicable_to``/``inapplicable_to`` result entry (§6.3; ``effect`` required)."""

    object: str
    id: str
    effect: str = "APPLY_TO_EVERY"
    source_id: str | None = None
    quantity_limit: int | None = None
    aggregated_quantity_limit: int | None = None
    amount_limit: int | None = None
    aggregated_amount_limit: int | None = None
    price: int | None = None


@dataclass(frozen=True)
class RedeemableOutcome:
    """The decision for one redeemable, in processing order.

    ``request_index`` is its position in the request. For APPLICABLE: ``result`` is
    the wire ``result`` (``discount``/``gift``/``loyalty_card``), ``order`` the order
    after this step, ``consumption`` what to consume. For INAPPLICABLE/SKIPPED:
    ``reason``.
    """

    request_index: int
    object: RedeemableObject
    id: str
    status: Status
    reason: Reason | None = None
    result: Mapping[str, Json] = field(default_factory=_empty)
    order: OrderSnapshot | None = None
    applicable_to: tuple[AppliedTarget, ...] = ()
    inapplicable_to: tuple[AppliedTarget, ...] = ()
    consumption: Consumption | None = None
    categories: tuple[Category, ...] = ()
    resolved_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The engine's answer: per-redeemable decisions, final order, ``valid`` flag (§6.3)."""

    valid: bool
    redeemables: tuple[RedeemableOutcome, ...]
    order: OrderSnapshot
    stacking: StackingRules

    @property
    def applicable(self) -> tuple[RedeemableOutcome, ...]:
        """The APPLICABLE redeemables, in processing order."""
        return tuple(r for r in self.redeemables if r.status == "APPLICABLE")

    @property
    def inapplicable(self) -> tuple[RedeemableOutcome, ...]:
        """The INAPPLICABLE redeemables, in processing order."""
        return tuple(r for r in self.redeemables if r.status == "INAPPLICABLE")

    @property
    def skipped(self) -> tuple[RedeemableOutcome, ...]:
        """The SKIPPED redeemables, in processing order."""
        return tuple(r for r in self.redeemables if r.status == "SKIPPED")
