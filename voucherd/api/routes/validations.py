"""Validations: the dry run of the redemption pipeline (``ValidationsApi``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api import inline
from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.responses import json_response
from voucherd.api.schemas.redemptions import ValidationsValidateRequestBody
from voucherd.api.stackable import body_dict, caller_for
from voucherd.store import stackable

router = APIRouter(tags=["validations"])

ValidateBody = Annotated[
    ValidationsValidateRequestBody, Depends(json_body(ValidationsValidateRequestBody))
]


@router.post("/v1/validations")
async def validate_stacked_discounts(
    request: Request, body: ValidateBody, project: ServerProject, db: DB, clock: Clock
) -> Response:
    """Check 1–30 redeemables against an order without redeeming; may open a LOCK session."""
    caller, data, now = caller_for(request, project), body_dict(body), clock()

    def call() -> dict[str, Any]:
        return stackable.validate(db, caller, data, now)

    if stackable.validation_locks(data):
        answer = await inline.write(db, call)
    else:
        answer = await inline.read(db, call)
    return json_response(answer)
