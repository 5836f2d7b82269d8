"""Request bodies of the orders endpoints (OpenAPI schema names).

Integers follow pydantic's lax mode on purpose: the real API tolerates numeric
strings such as ``"quantity": "1"`` (BEHAVIOR.md §1.3).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from voucherd.api.schemas.customers import Customer

OrderStatus = Literal["CREATED", "PAID", "CANCELED", "FULFILLED"]

# Amounts, prices and quantities are never negative (BEHAVIOR §3.3 `invalid_amount`); the
# hardening tests found a stored order of amount -100 before these bounds existed.
Count = Annotated[int, Field(ge=0)]
Price = Annotated[int | float, Field(ge=0)]


class OrderItemProduct(BaseModel):
    """Product data carried by an item; ``override`` writes it to the catalogue."""

    id: str | None = None
    source_id: str | None = None
    override: bool | None = None
    name: str | None = None
    metadata: dict[str, Any] | None = None
    price: Price | None = None


class OrderItemSku(BaseModel):
    """SKU data carried by an item; ``override`` writes it to the catalogue."""

    id: str | None = None
    source_id: str | None = None
    override: bool | None = None
    sku: str | None = None
    price: Price | None = None
    metadata: dict[str, Any] | None = None


class OrderItem(BaseModel):
    """One order line."""

    sku_id: str | None = None
    product_id: str | None = None
    related_object: Literal["product", "sku"] | None = None
    source_id: str | None = None
    quantity: Count | None = None
    discount_quantity: Count | None = None
    initial_quantity: Count | None = None
    amount: Count | None = None
    discount_amount: Count | None = None
    initial_amount: Count | None = None
    price: Count | None = None
    product: OrderItemProduct | None = None
    sku: OrderItemSku | None = None
    metadata: dict[str, Any] | None = None


class OrdersUpdateRequestBody(BaseModel):
    """``PUT /v1/orders/{orderId}``: the fields to change (source_id cannot change)."""

    status: OrderStatus | None = None
    amount: Count | None = None
    initial_amount: Count | None = None
    discount_amount: Count | None = None
    items: list[OrderItem] | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None
    created_at: dt.datetime | None = None
    referrer_id: str | None = None
    customer: Customer | None = None
    referrer: Customer | None = None


class OrdersCreateRequestBody(OrdersUpdateRequestBody):
    """``POST /v1/orders``: create, or upsert by ``id`` / ``source_id``."""

    id: str | None = None
    source_id: str | None = None


def order_payload(body: BaseModel) -> dict[str, Any]:
    """The store's plain-dict payload: provided fields only."""
    payload: dict[str, Any] = body.model_dump(exclude_none=True)
    return payload
