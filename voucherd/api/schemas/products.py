"""Request bodies of the products and SKUs endpoints (OpenAPI schema names).

``price`` is an integer amount in minor units; a whole-number float such as
``1000.0`` is accepted as ``1000``, a fractional one is 400 (the SDK's response
models require integers).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ProductsUpdateRequestBody(BaseModel):
    """``PUT /v1/products/{productId}``."""

    name: str | None = None
    price: int | None = None
    attributes: list[str] | None = None
    metadata: dict[str, Any] | None = None
    image_url: str | None = None


class ProductsCreateRequestBody(ProductsUpdateRequestBody):
    """``POST /v1/products``: create, or upsert by ``id`` / ``source_id``."""

    id: str | None = None
    source_id: str | None = None


class ProductsSkusUpdateRequestBody(BaseModel):
    """``PUT /v1/products/{productId}/skus/{skuId}``."""

    sku: str | None = None
    price: int | None = None
    currency: str | None = None
    attributes: dict[str, Any] | None = None
    image_url: str | None = None
    metadata: dict[str, Any] | None = None


class ProductsSkusCreateRequestBody(ProductsSkusUpdateRequestBody):
    """``POST /v1/products/{productId}/skus``: create, or upsert by ``id`` / ``source_id``."""

    id: str | None = None
    source_id: str | None = None
