"""Request bodies of /v1/categories (OpenAPI schema names)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from voucherd.api.body import INT32_MAX


class CategoriesCreateRequestBody(BaseModel):
    """``name`` and ``hierarchy`` are both required (BEHAVIOR.md §10.3)."""

    name: str
    hierarchy: int = Field(ge=0, le=INT32_MAX)  # a 32-bit column


class CategoriesUpdateRequestBody(CategoriesCreateRequestBody):
    """PUT replaces both fields, so both are required as on create."""
