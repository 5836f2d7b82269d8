"""Request bodies of /v1/validation-rules (OpenAPI schema names, BEHAVIOR.md §11)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ContextType = Literal[
    "earning_rule.order.paid",
    "earning_rule.custom_event",
    "earning_rule.customer.segment.entered",
    "earning_rule.customer.tier.joined",
    "earning_rule.customer.tier.left",
    "earning_rule.customer.tier.upgraded",
    "earning_rule.customer.tier.downgraded",
    "earning_rule.customer.tier.prolonged",
    "campaign.discount_coupons",
    "campaign.discount_coupons.discount.apply_to_order",
    "campaign.discount_coupons.discount.apply_to_items",
    "campaign.discount_coupons.discount.apply_to_items_proportionally",
    "campaign.discount_coupons.discount.apply_to_items_proportionally_by_quantity",
    "campaign.discount_coupons.discount.apply_to_items_by_quantity",
    "campaign.discount_coupons.discount.fixed.apply_to_items",
    "campaign.discount_coupons.discount.percent.apply_to_items",
    "campaign.gift_vouchers",
    "campaign.gift_vouchers.gift.apply_to_order",
    "campaign.gift_vouchers.gift.apply_to_items",
    "campaign.referral_program",
    "campaign.referral_program.discount.apply_to_order",
    "campaign.referral_program.discount.apply_to_items",
    "campaign.referral_program.discount.apply_to_items_proportionally",
    "campaign.referral_program.discount.apply_to_items_proportionally_by_quantity",
    "campaign.referral_program.discount.apply_to_items_by_quantity",
    "campaign.referral_program.discount.fixed.apply_to_items",
    "campaign.referral_program.discount.percent.apply_to_items",
    "campaign.promotion",
    "campaign.promotion.discount.apply_to_order",
    "campaign.promotion.discount.apply_to_items",
    "campaign.promotion.discount.apply_to_items_proportionally",
    "campaign.promotion.discount.apply_to_items_proportionally_by_quantity",
    "campaign.promotion.discount.apply_to_items_by_quantity",
    "campaign.promotion.discount.fixed.apply_to_items",
    "campaign.promotion.discount.percent.apply_to_items",
    "campaign.loyalty_program",
    "voucher.discount_voucher",
    "voucher.discount_voucher.discount.apply_to_order",
    "voucher.discount_voucher.discount.apply_to_items",
    "voucher.discount_voucher.discount.apply_to_items_proportionally",
    "voucher.discount_voucher.discount.apply_to_items_proportionally_by_quantity",
    "voucher.discount_voucher.discount.apply_to_items_by_quantity",
    "voucher.discount_voucher.discount.fixed.apply_to_items",
    "voucher.discount_voucher.discount.percent.apply_to_items",
    "voucher.gift_voucher",
    "voucher.gift_voucher.gift.apply_to_order",
    "voucher.gift_voucher.gift.apply_to_items",
    "voucher.loyalty_card",
    "distribution.custom_event",
    "distribution.order.paid",
    "distribution.order.created",
    "distribution.order.canceled",
    "distribution.order.updated",
    "reward_assignment.pay_with_points",
    "global",
]

ApplicableToEffect = Literal[
    "APPLY_TO_EVERY",
    "APPLY_TO_CHEAPEST",
    "APPLY_FROM_CHEAPEST",
    "APPLY_TO_MOST_EXPENSIVE",
    "APPLY_FROM_MOST_EXPENSIVE",
]


class ApplicableTo(BaseModel):
    """One included/excluded item; ``effect`` defaults to APPLY_TO_EVERY (SDK-required).

    The spec lists many optional limits; the typed ones are checked, any other
    member is kept as sent.
    """

    model_config = ConfigDict(extra="allow")

    object: Literal["product", "sku", "products_collection"] | None = None
    id: str | None = None
    source_id: str | None = None
    product_id: str | None = None
    product_source_id: str | None = None
    price: float | None = None
    effect: ApplicableToEffect = "APPLY_TO_EVERY"
    quantity_limit: int | None = None
    aggregated_quantity_limit: int | None = None
    amount_limit: int | None = None
    aggregated_amount_limit: int | None = None


class ValidationRulesApplicableTo(BaseModel):
    """``applicable_to`` of a rule set."""

    included: list[ApplicableTo] = Field(default_factory=list)
    excluded: list[ApplicableTo] = Field(default_factory=list)
    included_all: bool = False


class ValidationRulesError(BaseModel):
    """The merchant-defined failure message."""

    message: str | None = None


class ValidationRulesUpdateRequestBody(BaseModel):
    """PUT: the given top-level fields replace the stored ones."""

    name: str | None = None
    rules: dict[str, Any] | None = None
    bundle_rules: dict[str, Any] | None = None
    error: ValidationRulesError | None = None
    applicable_to: ValidationRulesApplicableTo | None = None
    type: Literal["expression", "basic", "advanced", "complex"] | None = None
    context_type: ContextType | None = None

    def given(self) -> dict[str, Any]:
        """The fields the client sent, as plain JSON values."""
        # Top-level: only what was sent; nested models keep their defaults (e.g. effect).
        dumped = self.model_dump(exclude_none=True)
        return {key: value for key, value in dumped.items() if key in self.model_fields_set}


class ValidationRulesCreateRequestBody(ValidationRulesUpdateRequestBody):
    """POST: ``name`` is required; ``type`` and ``context_type`` take their defaults."""

    name: str


class ValidationRulesAssignmentsCreateRequestBody(BaseModel):
    """The object a rule set is assigned to."""

    related_object_type: Literal[
        "voucher", "campaign", "promotion_tier", "earning_rule", "reward_assignment", "distribution"
    ] = "voucher"
    related_object_id: str
