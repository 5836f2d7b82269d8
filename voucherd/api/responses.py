"""JSON responses rendered with orjson, always ``application/json``."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JSONResponse(Response):
    """A response whose body is orjson-encoded; the SDK requires application/json."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def json_response(content: Any, status: int = 200) -> Response:
    """Render ``content`` as JSON with ``status``."""
    return JSONResponse(content, status_code=status)


def no_content() -> Response:
    """204 with no body (DELETE)."""
    return Response(status_code=204)
