"""The one place where errors become HTTP: Voucherify's envelope for every 4xx and 5xx.

Envelope (BEHAVIOR.md §3.1): ``code`` (= HTTP status), ``key``, ``message``,
``details``, ``request_id`` and, where an object is involved, ``resource_id`` and
``resource_type``. Routes never build error JSON; they raise store errors.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from voucherd.api.responses import json_response
from voucherd.store.errors import VoucherdError

log = logging.getLogger("voucherd.api")

# Keys whose status is not 400. Everything else a store raises is a 400 business error.
STATUS_BY_KEY: dict[str, int] = {
    "unauthorized": 401,
    "missing_required_feature": 402,
    "forbidden": 403,
    "missing_required_permission": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "not_acceptable": 406,
    "duplicate_found": 409,
    "stacking_rules_exist": 409,
    "idempotency_key_reused": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "too_many_requests": 429,
    "internal_server_error": 500,
}


def status_for(key: str) -> int:
    """HTTP status for an error key (400 unless listed in STATUS_BY_KEY)."""
    return STATUS_BY_KEY.get(key, 400)


def request_id_of(request: Request) -> str:
    """The id the request-id middleware gave this request."""
    return str(request.scope.get("state", {}).get("request_id", ""))


def envelope(
    status: int,
    key: str,
    message: str,
    details: str | None,
    request_id: str,
    *,
    resource_id: str | None = None,
    resource_type: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the error body; optional members are left out when empty."""
    body: dict[str, Any] = {"code": status, "key": key, "message": message}
    if details is not None:
        body["details"] = details
    body["request_id"] = request_id
    if resource_id is not None:
        body["resource_id"] = resource_id
    if resource_type is not None:
        body["resource_type"] = resource_type
    if extra:
        body.update(extra)
    return body


def error_body(error: VoucherdError, request_id: str) -> tuple[int, dict[str, Any]]:
    """Status and envelope for a domain error."""
    status = status_for(error.key)
    return status, envelope(
        status,
        error.key,
        error.message,
        error.details,
        request_id,
        resource_id=error.resource_id,
        resource_type=error.resource_type,
        extra=error.extra,
    )


def _domain_error(request: Request, exc: Exception) -> Response:
    status, body = error_body(cast(VoucherdError, exc), request_id_of(request))
    return json_response(body, status)


def _validation_error(request: Request, exc: Exception) -> Response:
    exc = cast(RequestValidationError, exc)
    problems = [describe_problem(err) for err in exc.errors()]
    in_query = any(err.get("loc", ("",))[0] in ("query", "path") for err in exc.errors())
    key, message = (
        ("invalid_query_params", "Invalid query params")
        if in_query
        else ("invalid_payload", "Invalid payload")
    )
    body = envelope(400, key, message, "; ".join(problems), request_id_of(request))
    return json_response(body, 400)


_HTTP_KEYS = {
    404: ("not_found", "Resource not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


def _http_error(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)
    key, message = _HTTP_KEYS.get(exc.status_code, ("error", str(exc.detail)))
    if exc.status_code == 404:
        details = f"Route {request.method} {request.url.path} not found"
    elif exc.status_code == 405:
        details = f"Method {request.method} is not allowed on {request.url.path}"
    else:
        details = str(exc.detail)
    body = envelope(exc.status_code, key, message, details, request_id_of(request))
    response = json_response(body, exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def internal_error_body(request_id: str) -> dict[str, Any]:
    """The envelope of a last-resort 500 (no internals: they go to the log only)."""
    return envelope(
        500,
        "internal_server_error",
        "Internal server error",
        "An unexpected error occurred; quote the request_id when reporting it.",
        request_id,
    )


def log_unexpected(exc: BaseException, request_id: str, method: str, path: str) -> None:
    """Log an unhandled error with its traceback (never headers or bodies: they hold keys)."""
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": request_id, "method": method, "path": path},
    )


def _unexpected_error(request: Request, exc: Exception) -> Response:
    # Normally RequestContextMiddleware answers unhandled errors first (see there); this
    # handler remains for errors raised outside it.
    request_id = request_id_of(request)
    log_unexpected(exc, request_id, request.method, request.url.path)
    return json_response(internal_error_body(request_id), 500)


def describe_problem(err: Any) -> str:
    """One pydantic error in Voucherify's JSON-path style.

    ``("body", "redeemables", 1, "id")`` missing → "Property .redeemables[1] should
    have required property 'id'".
    """
    loc = [part for part in err.get("loc", ()) if part not in ("body", "query", "path", "header")]
    err_type = err.get("type", "")
    ctx = err.get("ctx") or {}
    if err_type == "missing" and loc:
        if len(loc) == 1:
            # Voucherify's wording for a missing top-level property (§10.3 examples).
            return f"Payload should have required property '{loc[0]}'"
        return f"Property {json_path(loc[:-1])} should have required property '{loc[-1]}'"
    if err_type == "less_than_equal" and "le" in ctx:
        return f"Property {json_path(loc)} must be <= {ctx['le']}"
    if err_type == "greater_than_equal" and "ge" in ctx:
        return f"Property {json_path(loc)} must be >= {ctx['ge']}"
    # Array lengths (redeemables 1–30, order items ≤ 500) in the same ajv wording.
    if err_type == "too_long" and "max_length" in ctx:
        return f"Property {json_path(loc)} should NOT have more than {ctx['max_length']} items"
    if err_type == "too_short" and "min_length" in ctx:
        return f"Property {json_path(loc)} should NOT have fewer than {ctx['min_length']} items"
    if err_type == "literal_error" and "expected" in ctx:
        return f"Property {json_path(loc)} must be one of {ctx['expected']}"
    return f"Property {json_path(loc)} {err.get('msg', 'is invalid').lower()}"


def json_path(loc: list[Any] | tuple[Any, ...]) -> str:
    """``["redeemables", 1, "id"]`` → ``.redeemables[1].id`` (just ``.`` for the root)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}"
    return out or "."


def install(app: FastAPI) -> None:
    """Register every exception handler on ``app``."""
    app.add_exception_handler(VoucherdError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
