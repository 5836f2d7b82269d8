"""Projects and their API keys: creation, bootstrap, authentication, rotation.

Each project owns a server-side key pair (X-App-Id / X-App-Token) and a
client-side pair (X-Client-Application-Id / X-Client-Token). The management API
(``/management/v1``) accepts the server pair sent as X-Management-Id /
X-Management-Token. Tokens are stored as SHA-256 digests and compared in constant
time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from voucherd.store import ids
from voucherd.store.direct import hot
from voucherd.store.errors import NotFound
from voucherd.store.schema import api_keys, projects

SERVER = "server"
CLIENT = "client"

DEFAULT_PROJECT_SETTINGS: dict[str, Any] = {
    # BEHAVIOR.md §2.2 decision: client-side redemption on, empty allow-list = any origin.
    "client_redemption_enabled": True,
    "client_origins": [],
    "timezone": "UTC",
    "rate_limit": None,
}


@dataclass(frozen=True)
class Project:
    """An authenticated caller's project."""

    id: str
    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    app_id: str | None = None


@dataclass(frozen=True)
class ProjectKeys:
    """A freshly created project with its plain-text keys (shown once)."""

    id: str
    name: str
    app_id: str
    app_token: str
    client_app_id: str
    client_token: str

    def as_dict(self) -> dict[str, str]:
        """The five keys as the CLI prints them."""
        return {
            "id": self.id,
            "app_id": self.app_id,
            "app_token": self.app_token,
            "client_app_id": self.client_app_id,
            "client_token": self.client_token,
        }


# Every request authenticates, so this statement is built once, here: constructing
# it per call cost more CPU than executing it.
_LIVE_KEY = hot(
    select(api_keys.c.token_hash, projects.c.id, projects.c.name, projects.c.settings)
    .join(projects, projects.c.id == api_keys.c.project_id)
    .where(
        api_keys.c.app_id == bindparam("app_id"),
        api_keys.c.kind == bindparam("kind"),
        api_keys.c.revoked_at.is_(None),
    )
)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token: what the database stores."""
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_app_id() -> str:
    # A UUID-shaped public identifier, as Voucherify's application ids look.
    return str(uuid.uuid4())


def _insert_key(conn: Connection, project_id: str, kind: str, app_id: str, token: str) -> None:
    conn.execute(
        insert(api_keys).values(
            id=ids.new_id("key"),
            project_id=project_id,
            kind=kind,
            app_id=app_id,
            token_hash=hash_token(token),
            created_at=_now(),
        )
    )


def create_project(
    conn: Connection,
    name: str,
    *,
    app_id: str | None = None,
    app_token: str | None = None,
    client_app_id: str | None = None,
    client_token: str | None = None,
    settings: dict[str, Any] | None = None,
) -> ProjectKeys:
    """Create a project with a server and a client key pair; missing keys are generated."""
    project_id = ids.new_id("proj")
    conn.execute(
        insert(projects).values(
            id=project_id,
            name=name,
            settings={**DEFAULT_PROJECT_SETTINGS, **(settings or {})},
            created_at=_now(),
        )
    )
    keys = ProjectKeys(
        id=project_id,
        name=name,
        app_id=app_id or _new_app_id(),
        app_token=app_token or ids.new_token(),
        client_app_id=client_app_id or _new_app_id(),
        client_token=client_token or ids.new_token(),
    )
    _insert_key(conn, project_id, SERVER, keys.app_id, keys.app_token)
    _insert_key(conn, project_id, CLIENT, keys.client_app_id, keys.client_token)
    return keys


def count_projects(conn: Connection) -> int:
    """How many projects exist (zero on a fresh database)."""
    return int(conn.execute(select(func.count()).select_from(projects)).scalar_one())


def authenticate(conn: Connection, kind: str, app_id: str, token: str) -> Project | None:
    """The project whose live ``kind`` key matches, or None.

    The digest comparison is constant-time; an unknown app id costs the same hash.
    """
    row = conn.execute(_LIVE_KEY, {"app_id": app_id, "kind": kind}).first()
    expected = row.token_hash if row is not None else "0" * 64
    if not hmac.compare_digest(expected, hash_token(token)) or row is None:
        return None
    return Project(id=row.id, name=row.name, settings=dict(row.settings), app_id=app_id)


def find_project(conn: Connection, id_or_name: str) -> Project | None:
    """A project by id or name, or None."""
    row = conn.execute(
        select(projects.c.id, projects.c.name, projects.c.settings).where(
            (projects.c.id == id_or_name) | (projects.c.name == id_or_name)
        )
    ).first()
    if row is None:
        return None
    return Project(id=row.id, name=row.name, settings=dict(row.settings))


def get_project(conn: Connection, id_or_name: str) -> Project:
    """A project by id or name; raises NotFound."""
    project = find_project(conn, id_or_name)
    if project is None:
        raise NotFound("project", id_or_name)
    return project


def rotate_keys(conn: Connection, project_id: str, kind: str = SERVER) -> tuple[str, str]:
    """Revoke the project's live ``kind`` keys and issue a new pair; returns (app_id, token).

    The old token stops working as soon as this transaction commits.
    """
    conn.execute(
        update(api_keys)
        .where(
            api_keys.c.project_id == project_id,
            api_keys.c.kind == kind,
            api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=_now())
    )
    app_id, token = _new_app_id(), ids.new_token()
    _insert_key(conn, project_id, kind, app_id, token)
    return app_id, token


def update_settings(conn: Connection, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into a project's settings and return the result."""
    current = conn.execute(
        select(projects.c.settings).where(projects.c.id == project_id)
    ).scalar_one_or_none()
    if current is None:
        raise NotFound("project", project_id)
    merged = {**current, **changes}
    conn.execute(update(projects).where(projects.c.id == project_id).values(settings=merged))
    return merged
