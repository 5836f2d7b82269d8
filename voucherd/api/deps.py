"""FastAPI dependencies: the database, the clock, and the three authentication schemes.

BEHAVIOR.md §2.2: ``/v1`` takes X-App-Id + X-App-Token; ``/client/v1`` takes
X-Client-Application-Id + X-Client-Token and an ``origin`` the project allows;
``/management/v1`` takes X-Management-Id + X-Management-Token (voucherd accepts the
project's server pair there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from voucherd.api import inline, ratelimit
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.errors import Forbidden, Unauthorized
from voucherd.store.projects import Project

# The two look-ups below are ``async`` only so that FastAPI calls them on the event
# loop: a plain ``def`` dependency is sent to the thread pool, a hop that cost more
# than the look-up on every request.


async def get_db(request: Request) -> Database:
    """The process's database handle."""
    return _database(request)


async def get_clock(request: Request) -> Callable[[], dt.datetime]:
    """The injectable clock (tests replace it to move time)."""
    clock: Callable[[], dt.datetime] = request.app.state.clock
    return clock


def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _authenticate(request: Request, kind: str, id_header: str, token_header: str) -> Project:
    app_id = request.headers.get(id_header)
    token = request.headers.get(token_header)
    if not app_id or not token:
        raise Unauthorized()
    with _database(request).single() as conn:
        project = projects.authenticate(conn, kind, app_id, token)
    if project is None:
        raise Unauthorized()
    request.state.project_id = project.id
    ratelimit.enforce(request.app.state.rate_limiter, request.state, project.id, project.settings)
    return project


async def _authenticated(request: Request, kind: str, id_header: str, token_header: str) -> Project:
    # One indexed read: on SQLite it runs on the event loop, which is cheaper than the
    # thread-pool hop a ``def`` dependency costs (voucherd.api.inline).
    return await inline.read(
        _database(request), lambda: _authenticate(request, kind, id_header, token_header)
    )


async def server_project(request: Request) -> Project:
    """The project of a valid server-side key pair, else 401."""
    return await _authenticated(request, projects.SERVER, "x-app-id", "x-app-token")


async def management_project(request: Request) -> Project:
    """The project of a valid management key pair (the server pair), else 401."""
    return await _authenticated(request, projects.SERVER, "x-management-id", "x-management-token")


async def client_project(request: Request) -> Project:
    """The project of a valid client-side key pair whose allow-list admits ``origin``."""
    project = await _authenticated(
        request, projects.CLIENT, "x-client-application-id", "x-client-token"
    )
    allowed = project.settings.get("client_origins") or []
    origin = request.headers.get("origin")
    if allowed and "*" not in allowed and origin not in allowed:
        raise Forbidden(f"Origin {origin!r} is not allowed for this project's client keys")
    return project


DB = Annotated[Database, Depends(get_db)]
Clock = Annotated[Callable[[], dt.datetime], Depends(get_clock)]
ServerProject = Annotated[Project, Depends(server_project)]
ClientProject = Annotated[Project, Depends(client_project)]
ManagementProject = Annotated[Project, Depends(management_project)]
