"""Request bodies of the customers endpoints (OpenAPI schema names)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel


class CustomersCreateRequestBodyAddress(BaseModel):
    """A customer's postal address; every part optional."""

    city: str | None = None
    state: str | None = None
    line_1: str | None = None
    line_2: str | None = None
    country: str | None = None
    postal_code: str | None = None


class CustomersUpdateRequestBody(BaseModel):
    """``PUT /v1/customers/{customerId}``: the fields to change (source_id is immutable)."""

    name: str | None = None
    description: str | None = None
    email: str | None = None
    phone: str | None = None
    birthday: dt.date | None = None
    birthdate: dt.date | None = None
    address: CustomersCreateRequestBodyAddress | None = None
    metadata: dict[str, Any] | None = None


class CustomersCreateRequestBody(CustomersUpdateRequestBody):
    """``POST /v1/customers``: create, or upsert by ``id`` / ``source_id``."""

    id: str | None = None
    source_id: str | None = None


class Customer(CustomersCreateRequestBody):
    """A customer named inside another payload (orders, redemptions): upserted."""


def customer_payload(body: BaseModel) -> dict[str, Any]:
    """The store's plain-dict payload: provided fields only, metadata kept verbatim."""
    payload = body.model_dump(exclude_none=True)
    metadata = getattr(body, "metadata", None)
    if metadata is not None:
        payload["metadata"] = metadata
    return payload
