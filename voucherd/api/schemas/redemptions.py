"""Request bodies of the stackable validate/redeem/rollback endpoints (server and client).

Names follow the OpenAPI schemas. Unknown fields are ignored (pydantic's default)
and nulls were dropped before validation (``voucherd.api.body``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voucherd.api.schemas.customers import Customer
from voucherd.api.schemas.orders import OrdersCreateRequestBody

ExpandOption = Literal["order", "redemption", "redeemable", "category"]
TtlUnit = Literal[
    "DAYS", "HOURS", "MINUTES", "SECONDS", "MILLISECONDS", "MICROSECONDS", "NANOSECONDS"
]


class Lenient(BaseModel):
    """Base: unknown fields ignored, values kept as sent."""

    model_config = ConfigDict(extra="ignore")


class RedeemableGift(Lenient):
    credits: int | None = Field(default=None, ge=0)


class RedeemableReward(Lenient):
    id: str | None = None
    points: int | None = Field(default=None, ge=0)


class StackableRedeemable(Lenient):
    """One ``redeemables[]`` entry: a voucher code/id, a tier id or a stack id."""

    object: Literal["voucher", "promotion_tier", "promotion_stack"]
    id: str = Field(min_length=1)
    gift: RedeemableGift | None = None
    reward: RedeemableReward | None = None


class Session(Lenient):
    key: str | None = Field(default=None, min_length=1)
    type: Literal["LOCK"] | None = None
    ttl: float | None = Field(default=None, gt=0)
    ttl_unit: TtlUnit | None = None


class Options(Lenient):
    expand: list[ExpandOption] | None = None


class StackableRequestBody(Lenient):
    """Shared body of validate and redeem (``redeemables`` required, 1–30 entries)."""

    redeemables: list[StackableRedeemable] = Field(min_length=1, max_length=30)
    order: OrdersCreateRequestBody | None = None
    customer: Customer | None = None
    session: Session | None = None
    tracking_id: str | None = None
    metadata: dict[str, Any] | None = None
    options: Options | None = None


class ValidationsValidateRequestBody(StackableRequestBody):
    """``POST /v1/validations`` and ``POST /client/v1/validations``."""


class RedemptionsRedeemRequestBody(StackableRequestBody):
    """``POST /v1/redemptions`` and ``POST /client/v1/redemptions``."""


class RedemptionsRollbackCreateRequestBody(Lenient):
    """``POST /v1/redemptions/{id}/rollback[s]`` body (every field optional)."""

    reason: str | None = None
    tracking_id: str | None = None
    customer: Customer | None = None
    order: OrdersCreateRequestBody | None = None
    metadata: dict[str, Any] | None = None
