"""Hot look-ups use their indexes, never a walk over every row of the project."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, event

from voucherd.store import categories, products, promotion_tiers, redemptions, snapshot
from voucherd.store.db import Database


def _plan(conn: Connection, statement: Any, params: dict[str, Any]) -> list[str]:
    """SQLite's plan for ``statement`` as SQLAlchemy sends it (SQL and parameters)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        sent.append((sql, parameters))

    event.listen(conn, "before_cursor_execute", capture)
    try:
        conn.execute(statement, params).all()
    finally:
        event.remove(conn, "before_cursor_execute", capture)
    sql, parameters = sent[-1]
    rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters).all()
    return [str(row[-1]) for row in rows]


def test_vouchers_by_code_or_id_are_index_lookups(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with db.read() as conn:
        plan = _plan(
            conn,
            snapshot._VOUCHERS,
            {"project_id": "proj_x", "codes": ["CODE-1", "v_0123"]},
        )
    searches = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert not any(step.startswith("SCAN") for step in searches), plan
    # One probe by (project_id, code), one by primary key; never project_id alone.
    assert any("project_id=? AND code=?" in step for step in searches), plan
    assert not any(step.endswith("(project_id=?)") for step in searches), plan


TEN_IDS = [f"id_{n}" for n in range(10)]


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (redemptions._DOCUMENTS, {"ids": TEN_IDS}),
        (snapshot._TIERS, {"ids": TEN_IDS}),
        (snapshot._CAMPAIGNS, {"ids": TEN_IDS}),
        (categories._BY_IDS, {"ids": TEN_IDS}),
        (promotion_tiers._CAMPAIGNS_BY_IDS, {"ids": TEN_IDS}),
        (products._LIVE_SKUS_BY, {"idents": TEN_IDS}),
    ],
    ids=["redemption-documents", "tiers", "campaigns", "categories", "tier-campaigns", "skus"],
)
def test_lookups_by_id_do_not_walk_the_project(
    db: Database, statement: Any, params: dict[str, Any]
) -> None:
    """Ten ids: SQLite, without statistics, once preferred a (project_id, …) index."""
    if not db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    with db.read() as conn:
        plan = _plan(conn, statement, {"project_id": "proj_x", **params})
    steps = [step for step in plan if step.startswith(("SEARCH", "SCAN"))]
    assert steps, plan
    assert not any(step.startswith("SCAN") for step in steps), plan
    assert not any(step.endswith("(project_id=?)") for step in steps), plan
