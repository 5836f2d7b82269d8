"""Redemptions: read redemptions and rollbacks (the seeds' RedemptionsApi)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from voucherd.api.deps import DB, ServerProject
from voucherd.api.responses import json_response
from voucherd.store import redemptions

router = APIRouter(tags=["redemptions"])


@router.get("/v1/redemptions/{redemption_id}")
def get_redemption(redemption_id: str, project: ServerProject, db: DB) -> Response:
    """Return a redemption (r_, rf_) or a redemption rollback (rr_, rrf_)."""
    with db.read() as conn:
        return json_response(redemptions.get_redemption(conn, project.id, redemption_id))
