"""LOCK sessions: reservations of quantity, gift credits and points (BEHAVIOR.md §13).

A validation with ``session: {type: "LOCK"}`` reserves, per locked voucher or
tier, one unit of quantity plus the credits and points it asked for, until the
TTL runs out. Other requests see reserved amounts as used; a redemption under the
same key consumes (deletes) the reservation so it is not counted twice.
Expired rows are ignored by every query and deleted lazily.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from voucherd.store import ids
from voucherd.store.direct import hot
from voucherd.store.errors import NotFound
from voucherd.store.schema import sessions

TTL_UNITS = {
    "DAYS": dt.timedelta(days=1),
    "HOURS": dt.timedelta(hours=1),
    "MINUTES": dt.timedelta(minutes=1),
    "SECONDS": dt.timedelta(seconds=1),
    "MILLISECONDS": dt.timedelta(milliseconds=1),
    "MICROSECONDS": dt.timedelta(microseconds=1),
    "NANOSECONDS": dt.timedelta(microseconds=0.001),
}
DEFAULT_TTL = 7
DEFAULT_TTL_UNIT = "DAYS"

# Validations and redemptions run these statements on every call, so they are built
# once, here: constructing them per call cost more CPU than executing them.
_RESERVED = hot(
    select(
        sessions.c.related_object_id,
        func.sum(sessions.c.quantity),
        func.sum(sessions.c.credits),
        func.sum(sessions.c.points),
    )
    .where(
        sessions.c.project_id == bindparam("project_id"),
        sessions.c.related_object_id.in_(bindparam("ids", expanding=True)),
        sessions.c.expires_at > bindparam("now"),
    )
    .group_by(sessions.c.related_object_id)
)
_RESERVED_BY_OTHERS = hot(_RESERVED.where(sessions.c.key != bindparam("own_key")))
# SET takes the columns the parameters name; an UPDATE reserves those names, so the
# WHERE binds are ``b_``-prefixed.
_RESERVE_UPDATE = hot(
    update(sessions).where(
        sessions.c.project_id == bindparam("b_project_id"),
        sessions.c.key == bindparam("b_key"),
        sessions.c.related_object_id == bindparam("b_related_object_id"),
    )
)
_RESERVE_INSERT = hot(insert(sessions))
_CONSUME = hot(
    delete(sessions).where(
        sessions.c.project_id == bindparam("project_id"),
        sessions.c.key == bindparam("key"),
        sessions.c.related_object_id.in_(bindparam("ids", expanding=True)),
    )
)


@dataclass(frozen=True)
class Reserved:
    """What live sessions hold on one voucher or tier."""

    quantity: int = 0
    credits: int = 0
    points: int = 0


def new_key() -> str:
    """A generated session key: ``ssn_`` + 32 alphanumerics-ish hex."""
    return "ssn_" + ids.new_token(24).replace("-", "x").replace("_", "y")[:32]


def expiry(now: dt.datetime, ttl: float | None, unit: str | None) -> dt.datetime:
    """When a session opened ``now`` with ``ttl`` ``unit`` ends (default 7 days)."""
    amount = DEFAULT_TTL if ttl is None else ttl
    return now + TTL_UNITS[unit or DEFAULT_TTL_UNIT] * amount


def reserved_by_others(
    conn: Connection,
    project_id: str,
    related_ids: Iterable[str],
    own_key: str | None,
    now: dt.datetime,
) -> dict[str, Reserved]:
    """Live reservations on each object, leaving out the caller's own session."""
    wanted = list(related_ids)
    if not wanted:
        return {}
    params = {"project_id": project_id, "ids": wanted, "now": now}
    query = _RESERVED
    if own_key is not None:
        query = _RESERVED_BY_OTHERS
        params["own_key"] = own_key
    return {
        row[0]: Reserved(int(row[1] or 0), int(row[2] or 0), int(row[3] or 0))
        for row in conn.execute(query, params)
    }


def reserve(
    conn: Connection,
    project_id: str,
    key: str,
    related_id: str,
    *,
    quantity: int,
    credits: int,
    points: int,
    expires_at: dt.datetime,
    now: dt.datetime,
) -> None:
    """Create or overwrite the reservation of ``key`` on ``related_id`` (§13: reuse overwrites)."""
    values = {
        "quantity": quantity,
        "credits": credits,
        "points": points,
        "expires_at": expires_at,
    }
    updated = conn.execute(
        _RESERVE_UPDATE,
        {"b_project_id": project_id, "b_key": key, "b_related_object_id": related_id, **values},
    )
    if updated.rowcount == 0:
        conn.execute(
            _RESERVE_INSERT,
            {
                "id": ids.new_id("ssnr"),
                "project_id": project_id,
                "key": key,
                "related_object_id": related_id,
                "created_at": now,
                **values,
            },
        )


def consume(conn: Connection, project_id: str, key: str, related_ids: Iterable[str]) -> None:
    """Drop the reservations of ``key`` on the redeemed objects (the redemption used them)."""
    conn.execute(_CONSUME, {"project_id": project_id, "key": key, "ids": list(related_ids)})


def release(conn: Connection, project_id: str, key: str, related_id: str, now: dt.datetime) -> None:
    """Free a live reservation; NotFound(session) when there is none."""
    result = conn.execute(
        delete(sessions).where(
            sessions.c.project_id == project_id,
            sessions.c.key == key,
            sessions.c.related_object_id == related_id,
            sessions.c.expires_at > now,
        )
    )
    if result.rowcount == 0:
        raise NotFound("session", key, f"Cannot find session with id {key}")


def purge_expired(conn: Connection, now: dt.datetime) -> int:
    """Delete expired reservations of every project."""
    return int(conn.execute(delete(sessions).where(sessions.c.expires_at <= now)).rowcount)
