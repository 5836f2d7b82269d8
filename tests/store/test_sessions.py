"""LOCK reservations: counted for others, not for their own key, gone when expired or released."""

from __future__ import annotations

import datetime as dt

import pytest

from voucherd.store import sessions
from voucherd.store.db import Database
from voucherd.store.errors import NotFound
from voucherd.store.projects import ProjectKeys

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)


def reserve(
    db: Database, project: ProjectKeys, key: str, obj: str, minutes: int = 60, **amounts: int
) -> None:
    with db.write() as conn:
        sessions.reserve(
            conn,
            project.id,
            key,
            obj,
            quantity=amounts.get("quantity", 1),
            credits=amounts.get("credits", 0),
            points=amounts.get("points", 0),
            expires_at=NOW + dt.timedelta(minutes=minutes),
            now=NOW,
        )


def held(
    db: Database, project: ProjectKeys, own: str | None, at: dt.datetime = NOW
) -> dict[str, sessions.Reserved]:
    with db.read() as conn:
        return sessions.reserved_by_others(conn, project.id, ["v_1", "v_2"], own, at)


def test_reservations_sum_per_object_and_exclude_the_callers_own(
    db: Database, project: ProjectKeys
) -> None:
    reserve(db, project, "k1", "v_1", credits=500)
    reserve(db, project, "k2", "v_1", credits=300, points=7)
    reserve(db, project, "k2", "v_2")
    assert held(db, project, None) == {
        "v_1": sessions.Reserved(2, 800, 7),
        "v_2": sessions.Reserved(1, 0, 0),
    }
    assert held(db, project, "k2") == {"v_1": sessions.Reserved(1, 500, 0)}


def test_reusing_a_key_overwrites_its_reservation(db: Database, project: ProjectKeys) -> None:
    reserve(db, project, "k1", "v_1", credits=500)
    reserve(db, project, "k1", "v_1", credits=200)
    assert held(db, project, None) == {"v_1": sessions.Reserved(1, 200, 0)}


def test_expired_reservations_count_for_nothing(db: Database, project: ProjectKeys) -> None:
    reserve(db, project, "k1", "v_1", minutes=5)
    assert held(db, project, None, NOW + dt.timedelta(minutes=6)) == {}


def test_release_frees_and_a_second_release_is_not_found(
    db: Database, project: ProjectKeys
) -> None:
    reserve(db, project, "k1", "v_1")
    with db.write() as conn:
        sessions.release(conn, project.id, "k1", "v_1", NOW)
    assert held(db, project, None) == {}
    with pytest.raises(NotFound) as caught, db.write() as conn:
        sessions.release(conn, project.id, "k1", "v_1", NOW)
    assert (caught.value.resource_type, caught.value.resource_id) == ("session", "k1")


def test_consume_drops_only_the_named_objects(db: Database, project: ProjectKeys) -> None:
    reserve(db, project, "k1", "v_1")
    reserve(db, project, "k1", "v_2")
    with db.write() as conn:
        sessions.consume(conn, project.id, "k1", ["v_1"])
    assert held(db, project, None) == {"v_2": sessions.Reserved(1, 0, 0)}


@pytest.mark.parametrize(
    ("ttl", "unit", "delta"),
    [
        (None, None, dt.timedelta(days=7)),
        (2, "HOURS", dt.timedelta(hours=2)),
        (30, "SECONDS", dt.timedelta(seconds=30)),
    ],
)
def test_ttl_defaults_to_seven_days(ttl: int | None, unit: str | None, delta: dt.timedelta) -> None:
    assert sessions.expiry(NOW, ttl, unit) == NOW + delta


def test_generated_keys_have_the_ssn_prefix() -> None:
    key = sessions.new_key()
    assert key.startswith("ssn_")
    assert len(key) == 36
