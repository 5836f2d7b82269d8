"""Shared plumbing of the validate/redeem routes, server-side and client-side."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from voucherd.api.errors import error_body, request_id_of, status_for
from voucherd.api.responses import json_response
from voucherd.store import idempotency
from voucherd.store.projects import Project
from voucherd.store.stackable import Answer, Caller, IdempotentRequest

IDEMPOTENCY_HEADER = "idempotency-key"


def caller_for(request: Request, project: Project, *, channel_type: str = "API") -> Caller:
    """The store's view of who is calling, with our error conventions."""
    request_id = request_id_of(request)
    timezone = project.settings.get("timezone") or request.app.state.settings.timezone
    return Caller(
        project_id=project.id,
        request_id=request_id,
        timezone=timezone,
        channel_id=project.app_id,
        channel_type=channel_type,
        status_for=status_for,
        render_error=lambda error: error_body(error, request_id),
    )


def body_dict(model: BaseModel) -> dict[str, Any]:
    """A parsed body as plain data, absent fields left out."""
    return model.model_dump(exclude_none=True)


async def idempotent_request(request: Request, endpoint: str) -> IdempotentRequest | None:
    """The request's ``Idempotency-Key`` with the digest of its body, if it sent one."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if not key:
        return None
    # Starlette caches the body the parsing dependency already read.
    raw = await request.body()
    return IdempotentRequest(
        key=key, endpoint=endpoint, digest=idempotency.request_hash(endpoint, raw)
    )


def idempotency_for(endpoint: str) -> Callable[[Request], Awaitable[IdempotentRequest | None]]:
    """A dependency reading the ``Idempotency-Key`` of ``endpoint`` requests."""

    async def dependency(request: Request) -> IdempotentRequest | None:
        return await idempotent_request(request, endpoint)

    return dependency


def respond(answer: Answer) -> Response:
    """A redeem answer as HTTP: the stored bytes of a replay, the body, or the error."""
    if answer.raw is not None:
        return Response(answer.raw, status_code=answer.status_code, media_type="application/json")
    if answer.error is not None:
        raise answer.error
    return json_response(answer.body, answer.status_code)
