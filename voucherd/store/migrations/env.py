"""Alembic environment: runs on the connection handed in by voucherd.store.migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from voucherd.store.schema import metadata

config = context.config


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode recreates tables.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - we always pass a connection
    raise RuntimeError("voucherd runs migrations through voucherd.store.migrations.upgrade()")
run_migrations(connection)
