"""Request bodies of the legacy loyalty endpoints (OpenAPI schema names)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from voucherd.api.schemas.campaigns import CampaignsCreateRequestBody, CampaignsUpdateRequestBody
from voucherd.api.schemas.customers import Customer


class LoyaltiesCreateCampaignRequestBody(CampaignsCreateRequestBody):
    """``POST /v1/loyalties``: a campaign body whose type can only be LOYALTY_PROGRAM."""

    campaign_type: Literal["LOYALTY_PROGRAM"] | None = None
    promotion: None = None


class LoyaltiesUpdateCampaignRequestBody(CampaignsUpdateRequestBody):
    """``PUT /v1/loyalties/{campaignId}``."""


class LoyaltiesMembersCreateRequestBody(BaseModel):
    """``POST /v1/loyalties/{campaignId}/members``: publish a card to ``customer``."""

    customer: Customer
    voucher: str | None = None
    source_id: str | None = None
    metadata: dict[str, Any] | None = None
    channel: str | None = None


class LoyaltiesMembersBalanceUpdateRequestBody(BaseModel):
    """``POST /v1/loyalties/[{campaignId}/]members/{memberId}/balance``: points, ±."""

    points: int
    expiration_type: Literal["PROGRAM_RULES", "CUSTOM_DATE", "NON_EXPIRING"] | None = None
    expiration_date: str | None = None
    reason: str | None = None
    source_id: str | None = None
