"""Request bodies: lenient where the SDKs need it, strict where the schema says so.

BEHAVIOR.md §2.3: an empty or missing body reads as ``{}``; explicit ``null``
means "not provided"; unknown fields are ignored at any depth; a body that is not
valid JSON (or not an object) is a 400 ``invalid_payload``; bodies larger than the
configured limit are 413 and nesting deeper than the configured depth is 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from pydantic import BaseModel, TypeAdapter, ValidationError

from voucherd.api.errors import describe_problem
from voucherd.store.errors import InvalidPayload, VoucherdError

M = TypeVar("M", bound=BaseModel)


class PayloadTooLarge(VoucherdError):
    """The body exceeds ``VOUCHERD_MAX_BODY_BYTES``."""

    key = "payload_too_large"
    message = "Payload too large"


def drop_nulls(value: Any) -> Any:
    """Remove ``null`` members recursively, except inside free-form ``metadata`` objects."""
    if isinstance(value, dict):
        return {
            k: (v if k == "metadata" else drop_nulls(v)) for k, v in value.items() if v is not None
        }
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, stopping as soon as it passes ``limit``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def parse_json_object(raw: bytes, *, max_bytes: int, max_depth: int) -> dict[str, Any]:
    """Decode a request body into a dict following the rules in the module docstring."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"Request body exceeds {max_bytes} bytes")
    if not raw.strip():
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidPayload("Request body must be a JSON object")
    if _depth(data, max_depth) > max_depth:
        raise InvalidPayload(f"Request body is nested deeper than {max_depth} levels")
    return data


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` against ``model``; schema violations become ``invalid_payload``."""
    try:
        return model.model_validate(drop_nulls(data))
    except ValidationError as exc:
        problems = [describe_problem(err) for err in exc.errors()]
        raise InvalidPayload("; ".join(problems)) from exc


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused with 413 as soon as it passes ``max_bytes``.

    The middleware already refuses a too-large ``Content-Length`` before reading; this
    catches chunked bodies (no length) without buffering more than the limit + one chunk.
    The content type is not consulted: a non-empty body is JSON whatever it is labelled
    (``curl -d`` sends form-urlencoded), and §2.3 item 9 reads an empty one as ``{}``.
    """
    cached: bytes | None = getattr(request.state, "raw_body", None)
    if cached is not None:
        # The stream can be read once; later readers (the Idempotency-Key digest) reuse it.
        return cached
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"Request body exceeds {max_bytes} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request.state.raw_body = body
    return body


async def read_object(request: Request) -> dict[str, Any]:
    """The request body as a dict (limits from the app's settings)."""
    settings = request.app.state.settings
    raw = await read_limited(request, settings.max_body_bytes)
    return parse_json_object(
        raw, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth
    )


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency that parses the body into ``model`` (use with ``Depends``)."""

    async def dependency(request: Request) -> M:
        return validate(model, await read_object(request))

    dependency.__name__ = f"json_body_{model.__name__}"
    return dependency


async def read_array(request: Request) -> list[Any]:
    """The request body as a JSON array (bulk imports); same limits, nulls dropped.

    An empty body is an empty list; anything but an array is 400 ``invalid_payload``.
    """
    settings = request.app.state.settings
    raw = await read_limited(request, settings.max_body_bytes)
    if not raw.strip():
        return []
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise InvalidPayload("Request body must be a JSON array")
    if _depth(items, settings.max_json_depth) > settings.max_json_depth:
        raise InvalidPayload(f"Request body is nested deeper than {settings.max_json_depth} levels")
    result: list[Any] = drop_nulls(items)
    return result


def validate_items(model: type[M], items: list[Any]) -> list[M]:
    """Validate every element of an array body; problems name the index (``.[2].code``)."""
    try:
        return TypeAdapter(list[model]).validate_python(items)  # type: ignore[valid-type]
    except ValidationError as exc:
        problems = [describe_problem(err) for err in exc.errors()]
        raise InvalidPayload("; ".join(problems)) from exc


async def raw_body(request: Request) -> dict[str, Any]:
    """A dependency giving the body as a plain dict, nulls dropped."""
    result: dict[str, Any] = drop_nulls(await read_object(request))
    return result
