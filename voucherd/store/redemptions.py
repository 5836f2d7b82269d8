"""Redemptions and rollbacks: reading the stored records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from voucherd.store.errors import NotFound
from voucherd.store.schema import redemptions


def find_redemption(conn: Connection, project_id: str, redemption_id: str) -> dict[str, Any] | None:
    """The wire representation of a redemption or rollback, or None."""
    row = conn.execute(
        select(redemptions.c.data).where(
            redemptions.c.project_id == project_id, redemptions.c.id == redemption_id
        )
    ).first()
    return None if row is None else dict(row.data)


def get_redemption(conn: Connection, project_id: str, redemption_id: str) -> dict[str, Any]:
    """Like :func:`find_redemption`, raising NotFound."""
    found = find_redemption(conn, project_id, redemption_id)
    if found is None:
        resource_type = "redemption_rollback" if redemption_id.startswith("rr") else "redemption"
        raise NotFound(resource_type, redemption_id)
    return found
