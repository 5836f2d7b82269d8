"""One Alembic chain that upgrades, downgrades and upgrades again on both databases, with no drift."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from tests.conftest import DatabaseFactory
from voucherd.store import migrations
from voucherd.store.db import Database
from voucherd.store.schema import metadata


def test_there_is_exactly_one_head() -> None:
    script = ScriptDirectory.from_config(migrations.alembic_config())
    assert len(script.get_heads()) == 1


def test_upgrade_downgrade_upgrade(backend: str, databases: DatabaseFactory) -> None:
    db = Database(databases.url(backend))
    try:
        migrations.upgrade(db)
        tables = set(inspect(db.engine).get_table_names())
        assert set(metadata.tables) <= tables
        migrations.downgrade(db, "base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(db)
        assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


def test_models_and_migrations_do_not_drift(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []
