"""Store reads the redemption pipeline relies on: categories and effective stacking rules."""

from __future__ import annotations

import datetime as dt

from tests.api.test_stacking_rules import DEFAULTS
from voucherd.store import categories, stacking_rules
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_effective_rules_are_the_defaults_then_the_projects_own(
    db: Database, project: ProjectKeys
) -> None:
    with db.write() as conn:
        assert stacking_rules.effective_stacking_rules(conn, project.id) == DEFAULTS
        created = stacking_rules.create_stacking_rules(
            conn, project.id, {"redeemables_application_mode": "PARTIAL"}, now=NOW
        )
        effective = stacking_rules.effective_stacking_rules(conn, project.id)
    assert effective == {
        **DEFAULTS,
        "redeemables_application_mode": "PARTIAL",
        "id": created["id"],
        "created_at": "2024-01-02T03:04:05.000Z",
        "updated_at": None,
    }
    assert effective["grouped_redeemables_sorting_rule"] == "JOINT_ALWAYS_LAST"
    assert effective["redeemables_rollback_order_mode"] == "WITH_ORDER"


def test_effective_rules_are_a_copy_the_caller_may_change(
    db: Database, project: ProjectKeys
) -> None:
    with db.read() as conn:
        first = stacking_rules.effective_stacking_rules(conn, project.id)
        first["exclusive_categories"].append("cat_x")
        assert (
            stacking_rules.effective_stacking_rules(conn, project.id)["exclusive_categories"] == []
        )


def test_stored_rules_are_a_copy_the_caller_may_change(db: Database, project: ProjectKeys) -> None:
    with db.write() as conn:
        category = categories.create_category(conn, project.id, name="A", hierarchy=1, now=NOW)
        stacking_rules.create_stacking_rules(
            conn,
            project.id,
            {"exclusive_categories": [category["id"]]},
            now=NOW,
        )
        first = stacking_rules.effective_stacking_rules(conn, project.id)
        first["exclusive_categories"].append("cat_x")
        first["joint_categories"].append("cat_y")
        first[stacking_rules.CATEGORY_LIMITS]["cat_z"] = 1
        again = stacking_rules.effective_stacking_rules(conn, project.id)
    assert again["exclusive_categories"] == [category["id"]]
    assert (again["joint_categories"], again[stacking_rules.CATEGORY_LIMITS]) == ([], {})
    assert (
        stacking_rules.DEFAULTS["joint_categories"],
        stacking_rules.DEFAULTS[stacking_rules.CATEGORY_LIMITS],
    ) == ([], {})
    assert list(again)[1:-2] == list(stacking_rules.DEFAULTS)


def test_categories_by_ids_returns_only_known_ids_of_the_project(
    db: Database, project: ProjectKeys
) -> None:
    with db.write() as conn:
        a = categories.create_category(conn, project.id, name="A", hierarchy=1, now=NOW)
        b = categories.create_category(conn, project.id, name="B", hierarchy=2, now=NOW)
        found = categories.categories_by_ids(conn, project.id, [a["id"], b["id"], "cat_nope"])
        elsewhere = categories.categories_by_ids(conn, "proj_other", [a["id"]])
        nothing = categories.categories_by_ids(conn, project.id, [])
    assert found == {a["id"]: a, b["id"]: b}
    assert found[a["id"]]["hierarchy"] == 1
    assert (elsewhere, nothing) == ({}, {})
