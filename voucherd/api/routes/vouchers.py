"""Vouchers: create, read, update, enable/disable, delete and list (the SDK's VouchersApi)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_array_body, json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.vouchers import (
    VouchersBalanceUpdateRequestBody,
    VouchersCreateRequestBody,
    VouchersCreateWithSpecificCodeRequestBody,
    VouchersImportCreateRequestBody,
    VouchersUpdateRequestBody,
    dump,
)
from voucherd.store import balances, imports, redemptions, transactions, vouchers

router = APIRouter(tags=["vouchers"])


@router.post("/v1/vouchers")
def generate_random_code(
    body: Annotated[VouchersCreateRequestBody, Depends(json_body(VouchersCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a voucher with the given ``code`` or a generated one."""
    with db.write() as conn:
        row = vouchers.create_voucher(conn, project.id, dump(body), now=clock())
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.get("/v1/vouchers")
def list_vouchers(request: Request, project: ServerProject, db: DB) -> Response:
    """List vouchers, newest first."""
    query = list_query(request, max_page=99)
    with db.read() as conn:
        items, total = vouchers.list_vouchers(conn, project.id, query)
    return json_response(list_envelope("vouchers", list(items), total))


@router.post("/v1/vouchers/import")
def import_vouchers(
    items: Annotated[list[Any], Depends(json_array_body(VouchersImportCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create the vouchers of the array at once; 202 with the (finished) async action id.

    Declared before ``/v1/vouchers/{code}`` so that ``import`` is not taken for a code.
    """
    bodies = [dump(item) for item in items]
    with db.write() as conn:
        action_id = imports.import_vouchers(conn, project.id, bodies, now=clock())
    return json_response({"async_action_id": action_id}, 202)


@router.post("/v1/vouchers/{code}")
def create_voucher(
    code: str,
    body: Annotated[
        VouchersCreateWithSpecificCodeRequestBody,
        Depends(json_body(VouchersCreateWithSpecificCodeRequestBody)),
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a voucher with exactly the code in the path."""
    with db.write() as conn:
        row = vouchers.create_voucher(conn, project.id, dump(body), now=clock(), code=code)
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.get("/v1/vouchers/{code}")
def get_voucher(code: str, project: ServerProject, db: DB) -> Response:
    """Get a voucher by code or id, with its validation rule assignments."""
    with db.read() as conn:
        row = vouchers.get_voucher(conn, project.id, code)
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.put("/v1/vouchers/{code}")
def update_voucher(
    code: str,
    body: Annotated[VouchersUpdateRequestBody, Depends(json_body(VouchersUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update the fields present in the body."""
    with db.write() as conn:
        row = vouchers.update_voucher(conn, project.id, code, dump(body), now=clock())
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.delete("/v1/vouchers/{code}")
def delete_voucher(
    code: str, project: ServerProject, db: DB, clock: Clock, force: bool = False
) -> Response:
    """Delete a voucher (``force`` accepted; both behave as a permanent delete)."""
    with db.write() as conn:
        vouchers.delete_voucher(conn, project.id, code, now=clock())
    return no_content()


@router.post("/v1/vouchers/{code}/enable")
def enable_voucher(code: str, project: ServerProject, db: DB, clock: Clock) -> Response:
    """Set ``active`` to true."""
    with db.write() as conn:
        row = vouchers.set_active(conn, project.id, code, True, now=clock())
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.post("/v1/vouchers/{code}/disable")
def disable_voucher(code: str, project: ServerProject, db: DB, clock: Clock) -> Response:
    """Set ``active`` to false."""
    with db.write() as conn:
        row = vouchers.set_active(conn, project.id, code, False, now=clock())
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.get("/v1/vouchers/{code}/redemption")
def get_voucher_redemptions(
    code: str, request: Request, project: ServerProject, db: DB
) -> Response:
    """The voucher's redemption counters and its redemption entries, newest first."""
    limit, offset = None, 0
    if "limit" in request.query_params:
        query = list_query(request)
        limit, offset = query.limit, query.offset
    with db.read() as conn:
        body = redemptions.voucher_history(conn, project.id, code, limit=limit, offset=offset)
    return json_response(body)


@router.post("/v1/vouchers/{code}/balance")
def update_voucher_balance(
    code: str,
    body: Annotated[
        VouchersBalanceUpdateRequestBody, Depends(json_body(VouchersBalanceUpdateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Add or remove gift-card credits or loyalty points; answers with the ``balance`` object."""
    change = balances.BalanceChange(
        amount=body.amount, reason=body.reason, source_id=body.source_id
    )
    with db.write() as conn:
        result = balances.update_balance(conn, project.id, code, change, now=clock())
    return json_response(result.as_wire())


@router.get("/v1/vouchers/{code}/transactions")
def list_voucher_transactions(
    code: str, request: Request, project: ServerProject, db: DB
) -> Response:
    """The card's ledger, newest first, cursor-paged by ``starting_after_id``."""
    query = list_query(request)
    with db.read() as conn:
        items, has_more = transactions.list_transactions(
            conn,
            project.id,
            code,
            limit=query.limit,
            order=query.order,
            starting_after_id=query.param("starting_after_id"),
        )
    return json_response(
        {
            "object": "list",
            "data_ref": "data",
            "data": items,
            "has_more": has_more,
            "more_starting_after": items[-1]["id"] if has_more else None,
        }
    )


@router.delete("/v1/vouchers/{code}/sessions/{session_key}")
def release_validation_session(
    code: str, session_key: str, project: ServerProject, db: DB, clock: Clock
) -> Response:
    """Release a LOCK session's reservation on the voucher (204)."""
    with db.write() as conn:
        vouchers.release_session(conn, project.id, code, session_key, now=clock())
    return no_content()
