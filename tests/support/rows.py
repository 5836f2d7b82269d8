"""Row counts per table for one project: the "nothing was written" half of a failure test."""

from __future__ import annotations

import sqlalchemy as sa

from voucherd.store import schema
from voucherd.store.db import Database


def count_rows(db: Database, project_id: str) -> dict[str, int]:
    """``{table: rows}`` for every table with a ``project_id`` column, for ``project_id``."""
    counts: dict[str, int] = {}
    with db.read() as conn:
        for table in schema.metadata.sorted_tables:
            if "project_id" in table.c:
                query = sa.select(sa.func.count()).where(table.c.project_id == project_id)
                counts[table.name] = int(conn.execute(query).scalar_one())
    return counts
