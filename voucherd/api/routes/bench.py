"""The benchmark's ceiling route, served only with ``VOUCHERD_BENCH_ENDPOINTS=true``.

``POST /_bench/echo`` goes through everything a real route does (middleware, body
limits, JSON parsing, the thread pool, orjson rendering) and nothing else: no
authentication, no database. ``make bench`` reports every figure as a ratio to it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from voucherd.api.body import raw_body
from voucherd.api.responses import json_response

router = APIRouter(tags=["bench"], include_in_schema=False)


@router.post("/_bench/echo")
def echo(body: Annotated[dict[str, Any], Depends(raw_body)]) -> Response:
    """Return the JSON body as received."""
    return json_response(body)
