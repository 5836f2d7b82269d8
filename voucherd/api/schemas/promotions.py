"""Request bodies for promotion tiers (names follow the OpenAPI schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from voucherd.api.body import INT32_MAX
from voucherd.api.schemas.vouchers import DayOfWeek, Discount, ValidityHours, ValidityTimeframe


class TierAction(BaseModel):
    """What a tier does: its discount."""

    discount: Discount | None = None


class PromotionTierCreateParams(BaseModel):
    """A tier as created inline (``promotion.tiers[]``) or through the tiers endpoint."""

    name: str | None = None
    banner: str | None = None
    action: TierAction | None = None
    metadata: dict[str, Any] | None = None
    validation_rules: list[str] | None = None
    active: bool | None = None
    hierarchy: int | None = Field(default=None, le=INT32_MAX)  # a 32-bit column
    start_date: str | None = None
    expiration_date: str | None = None
    validity_timeframe: ValidityTimeframe | None = None
    validity_day_of_week: list[DayOfWeek] | None = None
    validity_hours: ValidityHours | None = None
    category: str | None = None
    category_id: str | None = None


class PromotionsTiersCreateRequestBody(PromotionTierCreateParams):
    """``POST /v1/promotions/{campaignId}/tiers``."""


class PromotionsTiersUpdateRequestBody(BaseModel):
    """``PUT /v1/promotions/tiers/{id}``: partial update."""

    name: str | None = None
    banner: str | None = None
    action: TierAction | None = None
    metadata: dict[str, Any] | None = None
    hierarchy: int | None = Field(default=None, le=INT32_MAX)  # a 32-bit column
    active: bool | None = None
    start_date: str | None = None
    expiration_date: str | None = None
    validity_timeframe: ValidityTimeframe | None = None
    validity_day_of_week: list[DayOfWeek] | None = None
    validity_hours: ValidityHours | None = None
    category: str | None = None
    category_id: str | None = None


class PromotionStackTiers(BaseModel):
    """``tiers`` of a promotion stack: tier ids in the order they apply."""

    ids: list[str] | None = None
    hierarchy_mode: Literal["MANUAL"] | None = None


class PromotionsStacksCreateRequestBody(BaseModel):
    """``POST /v1/promotions/{campaignId}/stacks``."""

    name: str = Field(min_length=1)
    tiers: PromotionStackTiers
    category_id: str | None = None


class PromotionsStacksUpdateRequestBody(BaseModel):
    """``PUT /v1/promotions/{campaignId}/stacks/{stackId}``: the fields present replace."""

    name: str | None = Field(default=None, min_length=1)
    tiers: PromotionStackTiers | None = None
    category_id: str | None = None
