"""Request bodies of the stackable validate/redeem/rollback endpoints (server and client).

Names follow the OpenAPI schemas. Unknown fields are ignored (pydantic's default)
and nulls were dropped before validation (``voucherd.api.body``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ORDER_ITEMS = 500

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


class OrderItemProduct(Lenient):
    id: str | None = None
    source_id: str | None = None
    override: bool | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    price: float | None = None


class OrderItemSku(Lenient):
    id: str | None = None
    source_id: str | None = None
    override: bool | None = None
    sku: str | None = None
    price: float | None = None
    metadata: dict[str, Any] | None = None


class OrderItem(Lenient):
    sku_id: str | None = None
    product_id: str | None = None
    related_object: Literal["product", "sku"] | None = None
    source_id: str | None = None
    quantity: int | None = Field(default=None, ge=0)
    discount_quantity: int | None = None
    initial_quantity: int | None = None
    amount: int | None = Field(default=None, ge=0)
    discount_amount: int | None = Field(default=None, ge=0)
    initial_amount: int | None = None
    price: int | None = Field(default=None, ge=0)
    product: OrderItemProduct | None = None
    sku: OrderItemSku | None = None
    metadata: dict[str, Any] | None = None


class Address(Lenient):
    city: str | None = None
    state: str | None = None
    line_1: str | None = None
    line_2: str | None = None
    country: str | None = None
    postal_code: str | None = None


class Customer(Lenient):
    """A customer reference or upsert payload (``id`` wins over ``source_id``)."""

    id: str | None = None
    source_id: str | None = None
    name: str | None = None
    description: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: str | None = None
    birthdate: str | None = None
    address: Address | None = None
    metadata: dict[str, Any] | None = None


class Order(Lenient):
    """The order to discount: stored (by ``id``/``source_id``) or described inline."""

    id: str | None = None
    source_id: str | None = None
    status: Literal["CREATED", "PAID", "CANCELED", "FULFILLED"] | None = None
    amount: int | None = Field(default=None, ge=0)
    initial_amount: int | None = Field(default=None, ge=0)
    discount_amount: int | None = Field(default=None, ge=0)
    items: list[OrderItem] | None = Field(default=None, max_length=MAX_ORDER_ITEMS)
    metadata: dict[str, Any] | None = None
    customer: Customer | None = None
    referrer: Customer | None = None


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
    order: Order | None = None
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
    order: Order | None = None
    metadata: dict[str, Any] | None = None
