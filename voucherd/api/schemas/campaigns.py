"""Request bodies for campaigns (names follow the OpenAPI schemas)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, RootModel

from voucherd.api.schemas.promotions import PromotionTierCreateParams
from voucherd.api.schemas.vouchers import (
    CodeConfig,
    DayOfWeek,
    Discount,
    Gift,
    RedemptionLimit,
    SimpleLoyaltyCard,
    ValidityHours,
    ValidityTimeframe,
    VoucherType,
)

CampaignType = Literal[
    "DISCOUNT_COUPONS", "REFERRAL_PROGRAM", "GIFT_VOUCHERS", "LOYALTY_PROGRAM", "PROMOTION"
]


# Codes are generated synchronously inside one write transaction, so an unbounded count
# held the write lock for as long as the generation took: the fuzzer's vouchers_count of
# millions stalled every other writer. 100,000 is what bench/campaign_codes.py measures.
MAX_VOUCHERS_PER_REQUEST = 100_000


class CampaignLoyaltyCard(BaseModel):
    """Loyalty template: every new card's points and the points' expiry rules."""

    points: int | None = Field(default=None, ge=0)
    expiration_rules: dict[str, Any] | None = None


class CampaignVoucherTemplate(BaseModel):
    """The ``voucher`` template of a campaign."""

    type: VoucherType | None = None
    discount: Discount | None = None
    code_config: CodeConfig | None = None
    redemption: RedemptionLimit | None = None
    is_referral_code: bool | None = None
    gift: Gift | None = None
    loyalty_card: CampaignLoyaltyCard | None = None


class CampaignPromotion(BaseModel):
    """``promotion``: the tiers a PROMOTION campaign starts with."""

    tiers: list[PromotionTierCreateParams] | None = None


class _CampaignCommon(BaseModel):
    start_date: str | None = None
    expiration_date: str | None = None
    validity_timeframe: ValidityTimeframe | None = None
    validity_day_of_week: list[DayOfWeek] | None = None
    validity_hours: ValidityHours | None = None
    activity_duration_after_publishing: str | None = None
    category_id: str | None = None
    category: str | None = None
    metadata: dict[str, Any] | None = None
    join_once: bool | None = None
    auto_join: bool | None = None
    description: str | None = None
    referral_program: dict[str, Any] | None = None


class CampaignsCreateRequestBody(_CampaignCommon):
    """``POST /v1/campaigns``."""

    name: str = Field(min_length=1)
    type: Literal["AUTO_UPDATE", "STATIC", "STANDALONE"] | None = None
    use_voucher_metadata_schema: bool | None = None
    vouchers_count: int | None = Field(default=None, ge=0, le=MAX_VOUCHERS_PER_REQUEST)
    validation_rules: list[str] | None = None
    campaign_type: CampaignType | None = None
    voucher: CampaignVoucherTemplate | None = None
    promotion: CampaignPromotion | None = None


class CampaignsUpdateRequestBody(_CampaignCommon):
    """``PUT /v1/campaigns/{id}``: partial update."""

    unset_metadata_fields: list[str] | None = None
    type: Literal["AUTO_UPDATE", "STATIC"] | None = None
    discount: Discount | None = None
    gift: Gift | None = None


class CampaignsVouchersCreateInBulkRequestBody(BaseModel):
    """``POST /v1/campaigns/{id}/vouchers``: overrides of the template."""

    code: str | None = Field(default=None, min_length=1)
    code_config: CodeConfig | None = None
    category: str | None = None
    metadata: dict[str, Any] | None = None
    redemption: RedemptionLimit | None = None
    additional_info: str | None = None
    start_date: str | None = None
    expiration_date: str | None = None


class CampaignsVouchersCreateRequestBody(BaseModel):
    """``POST /v1/campaigns/{id}/vouchers/{code}``: overrides of the template."""

    category: str | None = None
    metadata: dict[str, Any] | None = None
    redemption: RedemptionLimit | None = None
    additional_info: str | None = None
    start_date: str | None = None
    expiration_date: str | None = None


class CampaignsImportVoucherItem(CampaignsVouchersCreateRequestBody):
    """One voucher of ``POST /v1/campaigns/{id}/import``: a code plus template overrides."""

    code: str = Field(min_length=1)
    active: bool | None = None
    gift: Gift | None = None
    loyalty_card: SimpleLoyaltyCard | None = None


class CampaignsImportCreateRequestBody(RootModel[list[CampaignsImportVoucherItem]]):
    """``POST /v1/campaigns/{id}/import``: an array of codes with template overrides."""
