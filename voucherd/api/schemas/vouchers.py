"""Request bodies for vouchers, plus the sub-objects campaigns and promotion tiers share.

Names follow the OpenAPI schemas. Everything is optional unless the spec requires
it; amounts the spec types as ``number`` accept floats.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

from voucherd.api.body import INT32_MAX

Number = int | float
MAX_CODE_LENGTH = 255
DayOfWeek = Literal[0, 1, 2, 3, 4, 5, 6]
DiscountType = Literal["AMOUNT", "UNIT", "PERCENT", "FIXED"]
DiscountEffect = Literal[
    "APPLY_TO_ORDER",
    "APPLY_TO_ITEMS",
    "APPLY_TO_ITEMS_PROPORTIONALLY",
    "APPLY_TO_ITEMS_PROPORTIONALLY_BY_QUANTITY",
    "APPLY_TO_ITEMS_BY_QUANTITY",
    "ADD_MISSING_ITEMS",
    "ADD_NEW_ITEMS",
    "ADD_MANY_ITEMS",
    "ADD_SAME_ITEMS",
]
VoucherType = Literal["DISCOUNT_VOUCHER", "GIFT_VOUCHER", "LOYALTY_CARD"]


class DiscountProduct(BaseModel):
    """A product or SKU a UNIT discount adds."""

    id: str | None = None
    source_id: str | None = None
    name: str | None = None


class DiscountUnit(BaseModel):
    """One element of a multi-unit discount's ``units``."""

    unit_off: Number | None = None
    unit_off_formula: str | None = None
    unit_type: str | None = None
    effect: Literal["ADD_MISSING_ITEMS", "ADD_NEW_ITEMS"] | None = None
    product: DiscountProduct | None = None
    sku: DiscountProduct | None = None


class Discount(BaseModel):
    """A discount definition (BEHAVIOR.md §7.2)."""

    type: DiscountType | None = None
    amount_off: Number | None = None
    amount_off_formula: str | None = None
    aggregated_amount_limit: Number | None = None
    effect: DiscountEffect | None = None
    is_dynamic: bool | None = None
    unit_off: Number | None = None
    unit_off_formula: str | None = None
    unit_type: str | None = None
    product: DiscountProduct | None = None
    sku: DiscountProduct | None = None
    units: list[DiscountUnit] | None = None
    percent_off: Number | None = None
    percent_off_formula: str | None = None
    amount_limit: Number | None = None
    fixed_amount: Number | None = None
    fixed_amount_formula: str | None = None


class Gift(BaseModel):
    """Gift card parameters."""

    amount: Number | None = Field(default=None, ge=0)
    effect: Literal["APPLY_TO_ORDER", "APPLY_TO_ITEMS"] | None = None


class SimpleLoyaltyCard(BaseModel):
    """Loyalty card parameters."""

    points: int | None = Field(default=None, ge=0)


class CodeConfig(BaseModel):
    """How generated codes look."""

    # Bounded like vouchers_count: generated codes are stored and indexed.
    length: Number | None = Field(default=None, le=MAX_CODE_LENGTH)
    charset: str | None = None
    prefix: str | None = Field(default=None, max_length=MAX_CODE_LENGTH)
    postfix: str | None = Field(default=None, max_length=MAX_CODE_LENGTH)
    pattern: str | None = Field(default=None, max_length=MAX_CODE_LENGTH)
    initial_count: int | None = None


class ValidityTimeframe(BaseModel):
    """Recurring windows: ``duration`` every ``interval`` (ISO 8601 durations)."""

    duration: str | None = None
    interval: str | None = None


class ValidityHoursDaily(BaseModel):
    """One daily "happy hours" period."""

    start_time: str | None = None
    expiration_time: str | None = None
    days_of_week: list[DayOfWeek] | None = None


class ValidityHours(BaseModel):
    """Daily validity periods."""

    daily: list[ValidityHoursDaily] | None = None


class RedemptionLimit(BaseModel):
    """``redemption.quantity``: how many times the voucher may be redeemed (None = unlimited)."""

    quantity: int | None = Field(default=None, ge=0, le=INT32_MAX)  # a 32-bit column


class _VoucherFields(BaseModel):
    campaign: str | None = None
    campaign_id: str | None = None
    category: str | None = None
    category_id: str | None = None
    start_date: str | None = None
    expiration_date: str | None = None
    validity_timeframe: ValidityTimeframe | None = None
    validity_day_of_week: list[DayOfWeek] | None = None
    validity_hours: ValidityHours | None = None
    active: bool | None = None
    additional_info: str | None = None
    metadata: dict[str, Any] | None = None
    validation_rules: list[str] | None = None
    redemption: RedemptionLimit | None = None
    type: VoucherType | None = None
    loyalty_card: SimpleLoyaltyCard | None = None
    gift: Gift | None = None
    discount: Discount | None = None


class VouchersCreateRequestBody(_VoucherFields):
    """``POST /v1/vouchers``: code given or generated."""

    code: str | None = Field(default=None, min_length=1)
    code_config: CodeConfig | None = None


class VouchersCreateWithSpecificCodeRequestBody(_VoucherFields):
    """``POST /v1/vouchers/{code}``: the code comes from the path."""


class VouchersUpdateRequestBody(BaseModel):
    """``PUT /v1/vouchers/{code}``: partial update."""

    category: str | None = None
    category_id: str | None = None
    start_date: str | None = None
    expiration_date: str | None = None
    validity_timeframe: ValidityTimeframe | None = None
    validity_day_of_week: list[DayOfWeek] | None = None
    validity_hours: ValidityHours | None = None
    active: bool | None = None
    additional_info: str | None = None
    metadata: dict[str, Any] | None = None
    type: VoucherType | None = None
    discount: Discount | None = None
    gift: Gift | None = None
    redemption: RedemptionLimit | None = None


def dump(model: BaseModel) -> dict[str, Any]:
    """A validated body as the plain dict the store takes (absent fields left out)."""
    return model.model_dump(exclude_none=True)


class VouchersBalanceUpdateRequestBody(BaseModel):
    """``POST /v1/vouchers/{code}/balance``: credits (gift card) or points (loyalty card), ±."""

    amount: int
    source_id: str | None = None
    reason: str | None = None


class VouchersImportCreateItemRequestBody(_VoucherFields):
    """One voucher of ``POST /v1/vouchers/import``: its code is required."""

    code: str = Field(min_length=1)


class VouchersImportCreateRequestBody(RootModel[list[VouchersImportCreateItemRequestBody]]):
    """``POST /v1/vouchers/import``: an array of vouchers."""
