"""Customers: create/upsert, read, update, delete and list (the SDK's CustomersApi)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.customers import (
    CustomersCreateRequestBody,
    CustomersUpdateRequestBody,
    customer_payload,
)
from voucherd.store import customers

router = APIRouter(tags=["customers"])


@router.post("/v1/customers")
def create_customer(
    body: Annotated[CustomersCreateRequestBody, Depends(json_body(CustomersCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a customer, or update the one with the given id or source_id."""
    with db.write() as conn:
        record = customers.upsert_customer(conn, project.id, customer_payload(body), clock())
        return json_response(customers.render_customer(conn, project.id, record))


@router.get("/v1/customers")
def list_customers(request: Request, project: ServerProject, db: DB) -> Response:
    """List customers, newest first."""
    query = list_query(request, max_page=99)
    with db.read() as conn:
        records, total, has_more = customers.list_customers(conn, project.id, query)
        items: list[object] = [customers.render_customer(conn, project.id, r) for r in records]
    return json_response(list_envelope("customers", items, total, has_more=has_more))


@router.get("/v1/customers/{customer_id}")
def get_customer(customer_id: str, project: ServerProject, db: DB) -> Response:
    """Get a customer by cust_ id or source_id, with its summary."""
    with db.read() as conn:
        record = customers.get_customer(conn, project.id, customer_id)
        return json_response(customers.render_customer(conn, project.id, record))


@router.put("/v1/customers/{customer_id}")
def update_customer(
    customer_id: str,
    body: Annotated[CustomersUpdateRequestBody, Depends(json_body(CustomersUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Change the given fields of a customer (source_id cannot change)."""
    with db.write() as conn:
        record = customers.get_customer(conn, project.id, customer_id)
        record = customers.update_customer(
            conn, project.id, record, customer_payload(body), clock()
        )
        return json_response(customers.render_customer(conn, project.id, record))


@router.delete("/v1/customers/{customer_id}")
def delete_customer(customer_id: str, project: ServerProject, db: DB) -> Response:
    """Delete a customer permanently."""
    with db.write() as conn:
        customers.delete_customer(conn, project.id, customer_id)
    return no_content()
