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

from voucherd.api.body import PayloadTooLarge
from voucherd.api.errors import envelope, internal_error_body, log_unexpected, status_for
from voucherd.api.ratelimit import STATE_KEY as RATE_LIMIT_STATE
from voucherd.store.ids import new_request_id

access_log = logging.getLogger("voucherd.access")

REQUEST_ID_HEADER = b"x-request-id"


class RequestContextMiddleware:
    """Request ids, body-size and URL gates, the last-resort 500, rate-limit headers, the log."""

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
        status_holder: dict[str, Any] = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                # Set by voucherd.api.ratelimit once the project is known.
                for name, value in scope["state"].get(RATE_LIMIT_STATE, {}).items():
                    headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        received = 0
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            # A chunked body has no Content-Length to check up front: count what arrives
            # and stop at the limit instead of buffering it all (the domain error handler
            # answers 413 in the envelope).
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"Request body exceeds {limit} bytes")
            return message

        length = _content_length(scope)
        nul = _nul_problem(scope)
        if length is not None and length > self.max_body_bytes:
            await _reject_too_large(send_with_id, request_id, self.max_body_bytes)
        elif nul is not None:
            key, message, details = nul
            status = status_for(key)
            body = envelope(status, key, message, details, request_id)
            await _send_json(send_with_id, status, body)
        else:
            try:
                await self.app(scope, limited_receive, send_with_id)
            except Exception as exc:
                # Answer unhandled errors here rather than in Starlette's outermost
                # ServerErrorMiddleware: that one re-raises after responding, and uvicorn
                # then drops the keep-alive connection, so the client's *next* request on
                # it fails with a reset (found by tests/hardening/test_secrets.py).
                if status_holder["started"]:
                    raise
                log_unexpected(exc, request_id, scope.get("method", ""), scope.get("path", ""))
                await _send_json(send_with_id, 500, internal_error_body(request_id))
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


def _nul_problem(scope: Scope) -> tuple[str, str, str] | None:
    """A NUL in the path or query, as (key, message, details), else None.

    PostgreSQL cannot compare text with NUL (a DataError, so a 500 the fuzzer found), and
    no id, code or filter value can contain one: refuse it before any handler runs.
    """
    if "\x00" in scope.get("path", ""):
        return "not_found", "Resource not found", "Paths cannot contain NUL characters"
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return (
            "invalid_query_params",
            "Invalid query params",
            "Query parameters cannot contain NUL characters",
        )
    return None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject_too_large(send: Send, request_id: str, limit: int) -> None:
    body = {
        "code": 413,
        "key": "payload_too_large",
        "message": "Payload too large",
        "details": f"Request body exceeds {limit} bytes",
        "request_id": request_id,
    }
    # The unread body is still on the socket: close the connection after answering.
    await _send_json(send, 413, body, close=True)


async def _send_json(
    send: Send,
    status: int,
    content: dict[str, Any],
    *,
    close: bool = False,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = orjson.dumps(content)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(headers or []),
    ]
    if close:
        raw_headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})
