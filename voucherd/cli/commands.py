"""The ``voucherd`` commands: serve, migrate, projects create, keys rotate."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from sqlalchemy.exc import IntegrityError

from voucherd import logs
from voucherd.settings import Settings
from voucherd.store import migrations, projects
from voucherd.store.db import Database


def open_database(settings: Settings) -> Database:
    """A small, non-pooled handle for one-off commands."""
    if settings.is_sqlite:
        _ensure_sqlite_dir(settings.database_url)
    return Database(
        settings.database_url, pool=False, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)


def migrate(settings: Settings, revision: str = "head", downgrade: bool = False) -> None:
    """Apply (or revert) migrations on the configured database."""
    db = open_database(settings)
    try:
        if downgrade:
            migrations.downgrade(db, revision)
        else:
            migrations.upgrade(db, revision)
    finally:
        db.dispose()


def bootstrap(settings: Settings, out: TextIO = sys.stdout) -> projects.ProjectKeys | None:
    """Create the default project on an empty database and print its keys, once."""
    db = open_database(settings)
    try:
        with db.write() as conn:
            if projects.count_projects(conn) > 0:
                return None
            keys = projects.create_project(
                conn,
                settings.bootstrap_project_name,
                app_id=settings.bootstrap_app_id,
                app_token=settings.bootstrap_app_token,
                client_app_id=settings.bootstrap_client_app_id,
                client_token=settings.bootstrap_client_token,
            )
    except IntegrityError:
        # Another server process bootstrapped the same database first.
        return None
    finally:
        db.dispose()
    print(
        "\n".join(
            [
                f"Created project '{keys.name}' ({keys.id}). These keys are shown only once:",
                f"  X-App-Id:                 {keys.app_id}",
                f"  X-App-Token:              {keys.app_token}",
                f"  X-Client-Application-Id:  {keys.client_app_id}",
                f"  X-Client-Token:           {keys.client_token}",
            ]
        ),
        file=out,
        flush=True,
    )
    return keys


def serve(settings: Settings, *, run_migrations: bool = True) -> None:
    """Migrate, bootstrap, then serve with ``settings.workers`` processes."""
    import uvicorn

    logs.configure(settings.log_level)
    if run_migrations:
        migrate(settings)
    bootstrap(settings)
    # Worker processes rebuild Settings from the environment: make it say what we were told.
    os.environ["VOUCHERD_DATABASE_URL"] = settings.database_url
    factory = "voucherd.api.app:create_app_from_env"
    options: dict[str, Any] = {}
    table: str | None = None
    if settings.workers > 1:
        # Workers spread keep-alive connections evenly (see voucherd.cli.balance).
        from voucherd.cli import balance

        table = balance.create_table()
        os.environ[balance.ENVIRONMENT] = table
        factory = "voucherd.cli.balance:create_app"
        options["http"] = balance.BalancedHttpToolsProtocol
    try:
        uvicorn.run(
            factory,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
            **options,
        )
    finally:
        if table is not None:
            os.unlink(table)


def create_project(settings: Settings, name: str, as_json: bool, out: TextIO = sys.stdout) -> None:
    """Create a project and print its keys (exactly one JSON object with ``--json``)."""
    db = open_database(settings)
    try:
        with db.write() as conn:
            keys = projects.create_project(conn, name)
    finally:
        db.dispose()
    if as_json:
        print(json.dumps(keys.as_dict()), file=out)
    else:
        for label, value in keys.as_dict().items():
            print(f"{label}: {value}", file=out)


def rotate_keys(
    settings: Settings, project: str, client: bool, as_json: bool, out: TextIO = sys.stdout
) -> None:
    """Replace a project's server (or client) key pair; the old token stops working."""
    db = open_database(settings)
    try:
        with db.write() as conn:
            found = projects.get_project(conn, project)
            kind = projects.CLIENT if client else projects.SERVER
            app_id, token = projects.rotate_keys(conn, found.id, kind)
    finally:
        db.dispose()
    if client:
        result = {"id": found.id, "client_app_id": app_id, "client_token": token}
    else:
        result = {"id": found.id, "app_id": app_id, "app_token": token}
    if as_json:
        print(json.dumps(result), file=out)
    else:
        for label, value in result.items():
            print(f"{label}: {value}", file=out)
