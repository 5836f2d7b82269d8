"""Idempotency keys: replay for the same body, 409 for another, forgotten after 24 hours."""

from __future__ import annotations

import datetime as dt

import pytest

from voucherd.store import idempotency
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ENDPOINT = "POST /v1/redemptions"


def test_hash_ignores_key_order_and_whitespace() -> None:
    assert idempotency.request_hash(ENDPOINT, b'{"a":1,"b":2}') == idempotency.request_hash(
        ENDPOINT, b'{ "b": 2, "a": 1 }'
    )
    assert idempotency.request_hash(ENDPOINT, b'{"a":1}') != idempotency.request_hash(
        ENDPOINT, b'{"a":2}'
    )


def test_a_recorded_response_is_replayed_for_the_same_body(
    db: Database, project: ProjectKeys
) -> None:
    digest = idempotency.request_hash(ENDPOINT, b'{"a":1}')
    with db.write() as conn:
        assert idempotency.lookup(conn, project.id, "k", ENDPOINT, digest, NOW) is None
        idempotency.record(conn, project.id, "k", ENDPOINT, digest, 200, b'{"ok":true}', NOW)
    with db.read() as conn:
        stored = idempotency.lookup(
            conn, project.id, "k", ENDPOINT, digest, NOW + dt.timedelta(hours=1)
        )
    assert stored == idempotency.StoredResponse(200, b'{"ok":true}')


def test_the_same_key_with_another_body_is_rejected(db: Database, project: ProjectKeys) -> None:
    with db.write() as conn:
        idempotency.record(conn, project.id, "k", ENDPOINT, "h1", 200, b"{}", NOW)
    with pytest.raises(idempotency.IdempotencyKeyReused), db.read() as conn:
        idempotency.lookup(conn, project.id, "k", ENDPOINT, "h2", NOW)


def test_keys_expire_after_24_hours(db: Database, project: ProjectKeys) -> None:
    with db.write() as conn:
        idempotency.record(conn, project.id, "k", ENDPOINT, "h1", 200, b"{}", NOW)
    with db.write() as conn:
        later = NOW + dt.timedelta(hours=24, seconds=1)
        assert idempotency.lookup(conn, project.id, "k", ENDPOINT, "h2", later) is None


def test_keys_are_per_project(db: Database, project: ProjectKeys) -> None:
    with db.write() as conn:
        idempotency.record(conn, project.id, "k", ENDPOINT, "h1", 200, b"{}", NOW)
        assert idempotency.lookup(conn, "proj_other", "k", ENDPOINT, "h2", NOW) is None
