"""Products and SKUs: the catalogue (the SDK's ProductsApi)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.products import (
    ProductsCreateRequestBody,
    ProductsSkusCreateRequestBody,
    ProductsSkusUpdateRequestBody,
    ProductsUpdateRequestBody,
)
from voucherd.store import products
from voucherd.store.errors import InvalidPayload, InvalidQueryParams
from voucherd.store.listing import ListQuery
from voucherd.store.wire import parse_datetime

router = APIRouter(tags=["products"])


def _payload(body: BaseModel) -> dict[str, object]:
    return body.model_dump(exclude_none=True)


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "None":
        return False
    if raw.lower() not in ("true", "false"):
        raise InvalidQueryParams(f"Query param {name} must be true or false")
    return raw.lower() == "true"


def _range(request: Request) -> tuple[ListQuery, dt.datetime | None, dt.datetime | None]:
    query = list_query(request)
    bounds: list[dt.datetime | None] = []
    for name in ("start_date", "end_date"):
        raw = query.param(name)
        try:
            bounds.append(None if raw is None else parse_datetime(raw, name))
        except InvalidPayload as exc:
            raise InvalidQueryParams(f"Query param {name} must be an ISO 8601 date-time") from exc
    return query, bounds[0], bounds[1]


@router.post("/v1/products")
def create_product(
    body: Annotated[ProductsCreateRequestBody, Depends(json_body(ProductsCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a product, or update the one with the given id or source_id."""
    with db.write() as conn:
        record = products.upsert_product(conn, project.id, _payload(body), clock())
        return json_response(products.render_product(conn, project.id, record))


@router.get("/v1/products")
def list_products(request: Request, project: ServerProject, db: DB) -> Response:
    """List products, oldest first."""
    query, start, end = _range(request)
    with db.read() as conn:
        records, total = products.list_products(
            conn, project.id, query, start_date=start, end_date=end
        )
        items: list[object] = [products.render_product(conn, project.id, r) for r in records]
    return json_response(list_envelope("products", items, total))


@router.get("/v1/products/{product_id}")
def get_product(product_id: str, project: ServerProject, db: DB) -> Response:
    """Get a product by prod_ id or source_id, with its SKUs."""
    with db.read() as conn:
        record = products.get_product(conn, project.id, product_id)
        return json_response(products.render_product(conn, project.id, record))


@router.put("/v1/products/{product_id}")
def update_product(
    product_id: str,
    body: Annotated[ProductsUpdateRequestBody, Depends(json_body(ProductsUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Change the given fields of a product."""
    with db.write() as conn:
        record = products.get_product(conn, project.id, product_id)
        record = products.update_product(conn, project.id, record, _payload(body), clock())
        return json_response(products.render_product(conn, project.id, record))


@router.delete("/v1/products/{product_id}")
def delete_product(
    product_id: str, request: Request, project: ServerProject, db: DB, clock: Clock
) -> Response:
    """Delete a product and its SKUs (``force=true``: permanently)."""
    force = _flag(request, "force")
    with db.write() as conn:
        products.delete_product(conn, project.id, product_id, clock(), force=force)
    return no_content()


@router.post("/v1/products/{product_id}/skus")
def create_sku(
    product_id: str,
    body: Annotated[
        ProductsSkusCreateRequestBody, Depends(json_body(ProductsSkusCreateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create an SKU of a product, or update the one with the given id or source_id."""
    with db.write() as conn:
        product = products.get_product(conn, project.id, product_id)
        record = products.upsert_sku(conn, project.id, product, _payload(body), clock())
        return json_response(products.render_sku(record))


@router.get("/v1/products/{product_id}/skus")
def list_skus(product_id: str, request: Request, project: ServerProject, db: DB) -> Response:
    """List a product's SKUs, oldest first."""
    query, start, end = _range(request)
    with db.read() as conn:
        product = products.get_product(conn, project.id, product_id)
        records, total = products.list_skus(
            conn, project.id, product, query, start_date=start, end_date=end
        )
    items: list[object] = [products.render_sku(r) for r in records]
    return json_response(list_envelope("skus", items, total))


@router.put("/v1/products/{product_id}/skus/{sku_id}")
def update_sku(
    product_id: str,
    sku_id: str,
    body: Annotated[
        ProductsSkusUpdateRequestBody, Depends(json_body(ProductsSkusUpdateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Change the given fields of an SKU."""
    with db.write() as conn:
        product = products.get_product(conn, project.id, product_id)
        record = products.get_product_sku(conn, project.id, product, sku_id)
        record = products.update_sku(conn, project.id, record, _payload(body), clock())
    return json_response(products.render_sku(record))


@router.delete("/v1/products/{product_id}/skus/{sku_id}")
def delete_sku(
    product_id: str, sku_id: str, request: Request, project: ServerProject, db: DB, clock: Clock
) -> Response:
    """Delete an SKU (``force=true``: permanently)."""
    force = _flag(request, "force")
    with db.write() as conn:
        product = products.get_product(conn, project.id, product_id)
        record = products.get_product_sku(conn, project.id, product, sku_id)
        products.delete_sku(conn, project.id, record, clock(), force=force)
    return no_content()


@router.get("/v1/skus/{sku_id}")
def get_sku(sku_id: str, project: ServerProject, db: DB) -> Response:
    """Get an SKU by sku_ id or source_id."""
    with db.read() as conn:
        record = products.get_sku(conn, project.id, sku_id)
    return json_response(products.render_sku(record))
