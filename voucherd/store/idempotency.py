"""Idempotency keys for POST /v1/redemptions and rollbacks (beyond Voucherify).

A retry with the same ``Idempotency-Key`` and the same body gets the first
response again without redeeming twice; the same key with another body gets 409
``idempotency_key_reused``. Keys live 24 hours.

The key row is written in the *same* transaction as the redemption it answers,
so the two commit (or vanish) together: a crash can never leave a redemption
without its key or a key without its redemption. Two concurrent requests with one
key run one after the other — the caller takes the key's lock
(:func:`voucherd.store.db.serialise`) before :func:`lookup`; SQLite serialises
writers with BEGIN IMMEDIATE — so the second replays the first's stored response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from voucherd.store.direct import hot
from voucherd.store.errors import VoucherdError
from voucherd.store.schema import idempotency_keys

TTL = dt.timedelta(hours=24)

# Every redemption and rollback runs these, so they are built once, here:
# constructing them per call cost more CPU than executing them.
_KEY = (
    idempotency_keys.c.project_id == bindparam("project_id"),
    idempotency_keys.c.key == bindparam("key"),
    idempotency_keys.c.endpoint == bindparam("endpoint"),
)
_LOOKUP = hot(
    select(
        idempotency_keys.c.request_hash,
        idempotency_keys.c.status_code,
        idempotency_keys.c.response,
        idempotency_keys.c.expires_at,
    ).where(*_KEY)
)
_DELETE = hot(delete(idempotency_keys).where(*_KEY))
_INSERT = hot(insert(idempotency_keys))
# SET takes the columns the parameters name; an UPDATE reserves those names, so the
# WHERE binds are ``b_``-prefixed.
_UPDATE = hot(
    update(idempotency_keys).where(
        idempotency_keys.c.project_id == bindparam("b_project_id"),
        idempotency_keys.c.key == bindparam("b_key"),
        idempotency_keys.c.endpoint == bindparam("b_endpoint"),
    )
)


class IdempotencyKeyReused(VoucherdError):
    """The key was used before with a different request body."""

    key = "idempotency_key_reused"
    message = "Idempotency key reused"


@dataclass(frozen=True)
class StoredResponse:
    """A response recorded for a key: what a retry gets back."""

    status_code: int
    body: bytes


def request_hash(endpoint: str, body: bytes) -> str:
    """SHA-256 of the endpoint and the canonical JSON of the body (key order ignored)."""
    try:
        canonical = orjson.dumps(orjson.loads(body or b"{}"), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(endpoint.encode() + b"\n" + canonical).hexdigest()


def lookup(
    conn: Connection, project_id: str, key: str, endpoint: str, digest: str, now: dt.datetime
) -> StoredResponse | None:
    """The stored response for a live key, None if the key is new (or expired).

    Raises IdempotencyKeyReused when the key was used with another body.
    """
    where = {"project_id": project_id, "key": key, "endpoint": endpoint}
    row = conn.execute(_LOOKUP, where).first()
    if row is None:
        return None
    if row.expires_at <= now:
        conn.execute(_DELETE, where)
        return None
    if row.request_hash != digest:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was already used with a different request body"
        )
    return StoredResponse(int(row.status_code), (row.response or "").encode())


def record(
    conn: Connection,
    project_id: str,
    key: str,
    endpoint: str,
    digest: str,
    status_code: int,
    body: bytes,
    now: dt.datetime,
) -> None:
    """Remember the response for ``key`` (in the caller's transaction)."""
    values = {
        "request_hash": digest,
        "status_code": status_code,
        "response": body.decode(),
        "created_at": now,
        "expires_at": now + TTL,
    }
    updated = conn.execute(
        _UPDATE, {"b_project_id": project_id, "b_key": key, "b_endpoint": endpoint, **values}
    )
    if updated.rowcount == 0:
        conn.execute(
            _INSERT, {"project_id": project_id, "key": key, "endpoint": endpoint, **values}
        )


def purge_expired(conn: Connection, now: dt.datetime) -> int:
    """Delete expired keys of every project; returns how many went."""
    result = conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= now))
    return int(result.rowcount)
