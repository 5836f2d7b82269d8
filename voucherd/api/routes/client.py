"""Client-side twins of validate and redeem (``ClientSideApi``), for browsers and apps.

Authenticated with the client key pair and an allowed ``origin`` (``voucherd.api.deps``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, ClientProject, Clock
from voucherd.api.responses import json_response
from voucherd.api.schemas.redemptions import (
    RedemptionsRedeemRequestBody,
    ValidationsValidateRequestBody,
)
from voucherd.api.stackable import body_dict, caller_for, idempotency_for, respond
from voucherd.store import stackable
from voucherd.store.errors import Forbidden
from voucherd.store.stackable import IdempotentRequest

router = APIRouter(tags=["client"])

ValidateBody = Annotated[
    ValidationsValidateRequestBody, Depends(json_body(ValidationsValidateRequestBody))
]
RedeemBody = Annotated[
    RedemptionsRedeemRequestBody, Depends(json_body(RedemptionsRedeemRequestBody))
]
RedeemKey = Annotated[
    IdempotentRequest | None, Depends(idempotency_for("POST /client/v1/redemptions"))
]


@router.post("/client/v1/validations")
def validate_stacked_discounts_client_side(
    request: Request, body: ValidateBody, project: ClientProject, db: DB, clock: Clock
) -> Response:
    """Validate redeemables with client keys (same answer as ``POST /v1/validations``)."""
    answer = stackable.validate(db, caller_for(request, project), body_dict(body), clock())
    return json_response(answer)


@router.post("/client/v1/redemptions")
def redeem_stacked_discounts_client_side(
    request: Request,
    body: RedeemBody,
    idempotent: RedeemKey,
    project: ClientProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Redeem with client keys when the project allows client-side redemption."""
    if not project.settings.get("client_redemption_enabled", True):
        raise Forbidden("Client-side redemption is disabled for this project")
    answer = stackable.redeem(
        db, caller_for(request, project), body_dict(body), clock(), idempotent=idempotent
    )
    return respond(answer)
