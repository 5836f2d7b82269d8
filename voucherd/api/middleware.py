"""ASGI middleware: request ids, the body-size gate and the access log.

Pure ASGI rather than ``BaseHTTPMiddleware``: it adds no task per request, which
matters on the redemption hot path.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voucherd.store.ids import new_request_id

access_log = logging.getLogger("voucherd.access")

REQUEST_ID_HEADER = b"x-request-id"


class RequestContextMiddleware:
    """Gives each request an id, answers oversized bodies with 413, logs the outcome."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        length = _content_length(scope)
        if length is not None and length > self.max_body_bytes:
            await _reject_too_large(send_with_id, request_id, self.max_body_bytes)
        else:
            await self.app(scope, receive, send_with_id)
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status_holder["status"],
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "project_id": scope["state"].get("project_id"),
            },
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject_too_large(send: Send, request_id: str, limit: int) -> None:
    body = orjson.dumps(
        {
            "code": 413,
            "key": "payload_too_large",
            "message": "Payload too large",
            "details": f"Request body exceeds {limit} bytes",
            "request_id": request_id,
        }
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
