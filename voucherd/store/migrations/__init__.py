"""Alembic migrations: one chain for SQLite and PostgreSQL (batch mode on SQLite)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from voucherd.store.db import Database

MIGRATIONS_DIR = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our scripts, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(db: Database, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(db: Database, revision: str = "base") -> None:
    """Revert migrations down to ``revision``."""
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)
