"""Liveness and readiness: process up and database reachable (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.responses import Response

from voucherd.api.deps import DB
from voucherd.api.responses import json_response

router = APIRouter(tags=["ops"])


@router.get("/health")
def health(db: DB) -> Response:
    """Answer 200 when the database answers a trivial query, else 503."""
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure means "not ready"
        return json_response({"status": "unavailable", "database": type(exc).__name__}, 503)
    return json_response({"status": "ok", "database": db.dialect})
