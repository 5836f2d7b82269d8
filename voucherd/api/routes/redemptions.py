"""Redemptions: redeem stackable discounts and read redemptions (the seeds' RedemptionsApi)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api import inline
from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response
from voucherd.api.schemas.redemptions import (
    RedemptionsRedeemRequestBody,
    RedemptionsRollbackCreateRequestBody,
)
from voucherd.api.stackable import body_dict, caller_for, idempotency_for, respond
from voucherd.store import idempotency, redemptions, rollbacks, stackable
from voucherd.store.db import Database
from voucherd.store.projects import Project
from voucherd.store.stackable import IdempotentRequest

router = APIRouter(tags=["redemptions"])

RedeemBody = Annotated[
    RedemptionsRedeemRequestBody, Depends(json_body(RedemptionsRedeemRequestBody))
]
RedeemKey = Annotated[IdempotentRequest | None, Depends(idempotency_for("POST /v1/redemptions"))]
RollbackBody = Annotated[
    RedemptionsRollbackCreateRequestBody,
    Depends(json_body(RedemptionsRollbackCreateRequestBody)),
]
RollbackKey = Annotated[
    IdempotentRequest | None, Depends(idempotency_for("POST /v1/redemptions/{id}/rollback"))
]
RollbacksKey = Annotated[
    IdempotentRequest | None, Depends(idempotency_for("POST /v1/redemptions/{id}/rollbacks"))
]


def rollback_request(
    body: RedemptionsRollbackCreateRequestBody, reason: str | None, tracking_id: str | None
) -> rollbacks.RollbackRequest:
    """Query parameters win over the body's ``reason`` and ``tracking_id``."""
    data = body_dict(body)
    return rollbacks.RollbackRequest(
        reason=reason or data.get("reason"),
        tracking_id=tracking_id or data.get("tracking_id"),
        customer=data.get("customer"),
        order=data.get("order"),
        metadata=data.get("metadata") or {},
    )


@router.post("/v1/redemptions")
async def redeem_stacked_discounts(
    request: Request,
    body: RedeemBody,
    idempotent: RedeemKey,
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Redeem 1–30 redeemables against one order, all or nothing (``Idempotency-Key`` aware)."""
    caller, data, now = caller_for(request, project), body_dict(body), clock()
    # Before the writer gate: a read on SQLite, nothing on PostgreSQL (see price_order).
    priced = stackable.price_order(db, caller.project_id, data)
    answer = await inline.write(
        db,
        lambda: stackable.redeem(db, caller, data, now, idempotent=idempotent, priced=priced),
    )
    return respond(answer)


@router.get("/v1/redemptions")
def list_redemptions(request: Request, project: ServerProject, db: DB) -> Response:
    """List redemptions and rollbacks (successful and failed), newest first."""
    query = list_query(request, max_page=99)
    with db.read() as conn:
        items, total = redemptions.list_redemptions(conn, project.id, query)
    return json_response(list_envelope("redemptions", list(items), total))


@router.get("/v1/redemptions/{redemption_id}")
def get_redemption(redemption_id: str, project: ServerProject, db: DB) -> Response:
    """Return a redemption (r_, rf_) or a redemption rollback (rr_, rrf_)."""
    with db.read() as conn:
        return json_response(redemptions.get_redemption(conn, project.id, redemption_id))


@router.post("/v1/redemptions/{redemption_id}/rollback")
async def rollback_redemption(
    redemption_id: str,
    request: Request,
    body: RollbackBody,
    idempotent: RollbackKey,
    project: ServerProject,
    db: DB,
    clock: Clock,
    reason: str | None = None,
    tracking_id: str | None = None,
) -> Response:
    """Roll back one redemption that is neither a parent nor a child (``Idempotency-Key`` aware)."""
    return await _rollback(
        request,
        project,
        db,
        clock,
        redemption_id,
        body,
        idempotent,
        reason,
        tracking_id,
        stacked=False,
    )


@router.post("/v1/redemptions/{redemption_id}/rollbacks")
async def rollback_stacked_redemptions(
    redemption_id: str,
    request: Request,
    body: RollbackBody,
    idempotent: RollbacksKey,
    project: ServerProject,
    db: DB,
    clock: Clock,
    reason: str | None = None,
    tracking_id: str | None = None,
) -> Response:
    """Roll back a stacked redemption (every child) or a single one (``Idempotency-Key`` aware)."""
    return await _rollback(
        request,
        project,
        db,
        clock,
        redemption_id,
        body,
        idempotent,
        reason,
        tracking_id,
        stacked=True,
    )


async def _rollback(
    request: Request,
    project: Project,
    db: Database,
    clock: Callable[[], dt.datetime],
    redemption_id: str,
    body: RedemptionsRollbackCreateRequestBody,
    idempotent: IdempotentRequest | None,
    reason: str | None,
    tracking_id: str | None,
    *,
    stacked: bool,
) -> Response:
    """What both rollback endpoints do; ``stacked`` is the ``/rollbacks`` one."""
    caller, wanted, now = (
        caller_for(request, project),
        rollback_request(body, reason, tracking_id),
        clock(),
    )
    key = _scoped(idempotent, redemption_id, reason, tracking_id)
    answer = await inline.write(
        db,
        lambda: rollbacks.rollback(
            db, caller, redemption_id, wanted, now, stacked=stacked, idempotent=key
        ),
    )
    return respond(answer)


def _scoped(
    idempotent: IdempotentRequest | None, redemption_id: str, *query: str | None
) -> IdempotentRequest | None:
    """The key bound to the path and query too: another id or reason is another request."""
    if idempotent is None:
        return None
    return IdempotentRequest(
        key=idempotent.key,
        endpoint=idempotent.endpoint,
        digest=idempotency.request_hash(
            f"{idempotent.endpoint} {redemption_id} {query!r} {idempotent.digest}", b""
        ),
    )
