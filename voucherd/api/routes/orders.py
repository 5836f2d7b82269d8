"""Orders: create/upsert, read, update and list (the SDK's OrdersApi)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response
from voucherd.api.schemas.orders import (
    OrdersCreateRequestBody,
    OrdersUpdateRequestBody,
    order_payload,
)
from voucherd.store import orders

router = APIRouter(tags=["orders"])


@router.post("/v1/orders")
def create_order(
    body: Annotated[OrdersCreateRequestBody, Depends(json_body(OrdersCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create an order, or update the one with the given id or source_id."""
    with db.write() as conn:
        record = orders.upsert_order(conn, project.id, order_payload(body), clock())
    return json_response(orders.render_order(record))


@router.get("/v1/orders")
def list_orders(request: Request, project: ServerProject, db: DB) -> Response:
    """List orders, oldest first."""
    query = list_query(request)
    with db.read() as conn:
        records, total = orders.list_orders(conn, project.id, query)
    items: list[object] = [orders.render_order(r) for r in records]
    return json_response(list_envelope("orders", items, total))


@router.get("/v1/orders/{order_id}")
def get_order(order_id: str, project: ServerProject, db: DB) -> Response:
    """Get an order by ord_ id or source_id, with its redemptions map."""
    with db.read() as conn:
        record = orders.get_order(conn, project.id, order_id)
    return json_response(orders.render_order(record))


@router.put("/v1/orders/{order_id}")
def update_order(
    order_id: str,
    body: Annotated[OrdersUpdateRequestBody, Depends(json_body(OrdersUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Change the given fields of an order (status, items, metadata, customer...)."""
    with db.write() as conn:
        stored = orders.get_order(conn, project.id, order_id)
        payload = {**order_payload(body), "id": stored["id"]}
        record = orders.upsert_order(conn, project.id, payload, clock())
    return json_response(orders.render_order(record))
