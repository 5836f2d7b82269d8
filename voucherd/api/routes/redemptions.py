"""Redemptions: redeem stackable discounts and read redemptions (the seeds' RedemptionsApi)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response
from voucherd.api.schemas.redemptions import RedemptionsRedeemRequestBody
from voucherd.api.stackable import body_dict, caller_for, idempotency_for, respond
from voucherd.store import redemptions, stackable
from voucherd.store.stackable import IdempotentRequest

router = APIRouter(tags=["redemptions"])

RedeemBody = Annotated[
    RedemptionsRedeemRequestBody, Depends(json_body(RedemptionsRedeemRequestBody))
]
RedeemKey = Annotated[IdempotentRequest | None, Depends(idempotency_for("POST /v1/redemptions"))]


@router.post("/v1/redemptions")
def redeem_stacked_discounts(
    request: Request,
    body: RedeemBody,
    idempotent: RedeemKey,
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Redeem 1–30 redeemables against one order, all or nothing (``Idempotency-Key`` aware)."""
    answer = stackable.redeem(
        db, caller_for(request, project), body_dict(body), clock(), idempotent=idempotent
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
