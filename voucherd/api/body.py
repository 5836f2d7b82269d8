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
from pydantic import BaseModel, ValidationError

from voucherd.api.errors import describe_problem
from voucherd.store.errors import InvalidPayload, VoucherdError

M = TypeVar("M", bound=BaseModel)

# ``json_body`` marks its dependency with the model, so voucherd.api.openapi can document it.
BODY_MODEL_ATTRIBUTE = "voucherd_body_model"


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


# Integers beyond JavaScript's safe range are refused: Voucherify's SDKs and API cannot
# carry them exactly, and larger ones overflowed our BIGINT columns on PostgreSQL (500s
# the fuzzer found). INT32 bounds fields stored in 32-bit columns (schemas use it).
MAX_SAFE_INTEGER = 2**53 - 1
INT32_MAX = 2**31 - 1


def _check_values(value: Any, limit: int) -> None:
    """Refuse what no store can keep: nesting past ``limit``, NUL characters, huge integers.

    PostgreSQL's text and jsonb reject ``\u0000`` (SQLite would keep it), so a NUL in any
    key or string is a 400 on both backends rather than a 500 on one.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if level > limit:
            raise InvalidPayload(f"Request body is nested deeper than {limit} levels")
        if isinstance(node, dict):
            for key, item in node.items():
                if "\x00" in key:
                    raise InvalidPayload("Request body contains a NUL character (\\u0000)")
                stack.append((item, level + 1))
        elif isinstance(node, list):
            stack.extend((item, level + 1) for item in node)
        elif isinstance(node, str):
            if "\x00" in node:
                raise InvalidPayload("Request body contains a NUL character (\\u0000)")
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) > MAX_SAFE_INTEGER:
            raise InvalidPayload(f"Request body has an integer beyond ±{MAX_SAFE_INTEGER}")


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
    _check_values(data, max_depth)
    return data


def validate(model: type[M], data: dict[str, Any]) -> M:
    """Validate ``data`` against ``model``; schema violations become ``invalid_payload``."""
    try:
        return model.model_validate(drop_nulls(data))
    except ValidationError as exc:
        problems = [describe_problem(err) for err in exc.errors()]
        raise InvalidPayload("; ".join(problems)) from exc


async def read_object(request: Request) -> dict[str, Any]:
    """The request body as a dict (limits from the app's settings)."""
    settings = request.app.state.settings
    # Content types are not consulted: a non-empty body is JSON whatever it is labelled
    # (``curl -d`` sends form-urlencoded), and §2.3 item 9 reads an empty one as ``{}``.
    # Chunked bodies cannot grow past the limit here: the middleware's receive stops them.
    raw = await request.body()
    return parse_json_object(
        raw, max_bytes=settings.max_body_bytes, max_depth=settings.max_json_depth
    )


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency that parses the body into ``model`` (use with ``Depends``)."""

    async def dependency(request: Request) -> M:
        return validate(model, await read_object(request))

    dependency.__name__ = f"json_body_{model.__name__}"
    setattr(dependency, BODY_MODEL_ATTRIBUTE, model)
    return dependency


async def read_array(request: Request) -> list[Any]:
    """The request body as a JSON array (bulk imports); same limits, nulls dropped.

    An empty body is an empty list; anything but an array is 400 ``invalid_payload``.
    """
    settings = request.app.state.settings
    # Same path as read_object: the middleware bounds the body, then the same checks.
    raw = await request.body()
    if len(raw) > settings.max_body_bytes:
        raise PayloadTooLarge(f"Request body exceeds {settings.max_body_bytes} bytes")
    if not raw.strip():
        return []
    try:
        items = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidPayload(f"Request body is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise InvalidPayload("Request body must be a JSON array")
    _check_values(items, settings.max_json_depth)
    result: list[Any] = drop_nulls(items)
    return result


def json_array_body(model: type[BaseModel]) -> Callable[[Request], Awaitable[list[Any]]]:
    """A dependency parsing an array body with ``model``, a ``RootModel[list[Item]]``.

    Returns the validated items; problems name the index (``Property [2] should have
    required property 'code'``). The model documents the body in OpenAPI.
    """

    async def dependency(request: Request) -> list[Any]:
        items = await read_array(request)
        try:
            parsed = model.model_validate(items)
        except ValidationError as exc:
            problems = [describe_problem(err) for err in exc.errors()]
            raise InvalidPayload("; ".join(problems)) from exc
        root: list[Any] = getattr(parsed, "root")  # noqa: B009 - RootModel's field
        return root

    dependency.__name__ = f"json_array_body_{model.__name__}"
    setattr(dependency, BODY_MODEL_ATTRIBUTE, model)
    return dependency


async def raw_body(request: Request) -> dict[str, Any]:
    """A dependency giving the body as a plain dict, nulls dropped."""
    result: dict[str, Any] = drop_nulls(await read_object(request))
    return result
