"""Customers: create, upsert by id/source_id, update, delete, list, and the summary.

BEHAVIOR.md §15: a customer is addressed by its ``cust_`` id or its ``source_id``.
Upserts (``POST /v1/customers`` and every redemption, validation, rollback and order
that names a customer) resolve ``id`` first (it must exist), then ``source_id``
(unknown → a new customer). Provided fields replace stored ones, ``address`` and
``metadata`` merge key by key (a ``null`` metadata value removes the key), and
``source_id`` never changes after creation.

The ``summary`` is computed on every read from the redemptions, vouchers and
orders tables, so it can never drift from the records it counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from voucherd.store.direct import hot
from voucherd.store.errors import InvalidPayload, InvalidQueryParams, NotFound
from voucherd.store.ids import new_id
from voucherd.store.jsonpaths import json_text, metadata_resolver
from voucherd.store.listing import (
    ListQuery,
    date_range_clause,
    filter_clause,
    ordering,
    page,
)
from voucherd.store.schema import customers, orders, redemptions, vouchers
from voucherd.store.wire import iso, parse_datetime

RESOURCE = "customer"
# Plain fields a payload may set; ``source_id`` is only taken on creation.
SCALAR_FIELDS = ("name", "description", "email", "phone", "birthdate", "birthday")
ADDRESS_FIELDS = ("city", "state", "line_1", "line_2", "country", "postal_code")
# Orders in these states count in the summary (CREATED and CANCELED do not).
COUNTED_ORDER_STATUSES = ("PAID", "FULFILLED")

Customer = dict[str, Any]


# The statements every redemption runs are built once, here: constructing them per
# call cost more CPU than executing them.
_IN_PROJECT = customers.c.project_id == bindparam("project_id")
_BY_ID = hot(select(customers).where(_IN_PROJECT, customers.c.id == bindparam("ident")))
_BY_SOURCE = hot(select(customers).where(_IN_PROJECT, customers.c.source_id == bindparam("ident")))
# What an upsert reads on PostgreSQL: the row and its lock in one round trip.
_BY_ID_LOCKED = hot(_BY_ID.with_for_update())
_BY_SOURCE_LOCKED = hot(_BY_SOURCE.with_for_update())
_LOCK = hot(
    select(customers.c.id)
    .where(_IN_PROJECT, customers.c.id == bindparam("ident"))
    .with_for_update()
)
_INSERT = hot(insert(customers))
# SET takes the columns the parameters name; an UPDATE reserves those names, so the
# WHERE binds are ``b_``-prefixed.
_UPDATE = hot(
    update(customers).where(
        customers.c.project_id == bindparam("b_project_id"), customers.c.id == bindparam("b_id")
    )
)


def _record(row: Any) -> Customer:
    return dict(row._mapping)


def _one(conn: Connection, statement: Select[Any], project_id: str, ident: str) -> Customer | None:
    row = conn.execute(statement, {"project_id": project_id, "ident": ident}).first()
    return None if row is None else _record(row)


def find_customer(conn: Connection, project_id: str, id_or_source_id: str) -> Customer | None:
    """The stored customer with this ``cust_`` id or ``source_id``, or None.

    The id is tried first, so a source_id that looks like another customer's id
    cannot shadow it.
    """
    found = _one(conn, _BY_ID, project_id, id_or_source_id)
    if found is None:
        found = _one(conn, _BY_SOURCE, project_id, id_or_source_id)
    return found


def get_customer(conn: Connection, project_id: str, id_or_source_id: str) -> Customer:
    """Like :func:`find_customer`, raising ``NotFound("customer", <as sent>)``."""
    found = find_customer(conn, project_id, id_or_source_id)
    if found is None:
        raise NotFound(RESOURCE, id_or_source_id)
    return found


def _merged(data: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the payload's fields applied (see the module docstring)."""
    out = dict(data)
    for name in SCALAR_FIELDS:
        if payload.get(name) is not None:
            value = payload[name]
            out[name] = value.isoformat() if isinstance(value, dt.date) else value
    address = payload.get("address")
    if isinstance(address, Mapping):
        current = dict(out.get("address") or {})
        current.update({k: v for k, v in address.items() if k in ADDRESS_FIELDS and v is not None})
        out["address"] = current
    metadata = payload.get("metadata")
    if isinstance(metadata, Mapping):
        merged = dict(out.get("metadata") or {})
        for key, value in metadata.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        out["metadata"] = merged
    return out


def _columns(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": data.get("name"), "email": data.get("email")}


def create_customer(
    conn: Connection, project_id: str, payload: Mapping[str, Any], now: dt.datetime
) -> Customer:
    """Insert a new customer from ``payload`` (source_id is not checked for clashes)."""
    data = _merged({"metadata": {}}, payload)
    values = {
        "id": new_id("cust"),
        "project_id": project_id,
        # "" reads as no source_id, as the upsert lookup reads it; storing it made a        # second "" a unique-index clash (500) that the fuzzer found.
        "source_id": payload.get("source_id") or None,
        "data": data,
        "created_at": now,
        "updated_at": None,
        **_columns(data),
    }
    conn.execute(_INSERT, values)
    return values


def update_customer(
    conn: Connection,
    project_id: str,
    customer: Customer,
    payload: Mapping[str, Any],
    now: dt.datetime,
    *,
    locked: bool = False,
) -> Customer:
    """Apply ``payload`` to a stored customer (source_id stays as it is).

    A payload that changes nothing writes nothing and leaves ``updated_at`` alone
    (every redeem that names a known customer lands here). On PostgreSQL the row is
    still locked, as the UPDATE would have: a redeem holds its customer's row before
    any voucher row (see ``snapshot.load``), and per-customer decisions rely on it.
    ``locked``: the caller read ``customer`` with its lock already.
    """
    data = _merged(customer["data"], payload)
    if data == customer["data"]:
        if conn.dialect.name == "postgresql" and not locked:
            conn.execute(_LOCK, {"project_id": project_id, "ident": customer["id"]})
        return customer
    changes = {"data": data, "updated_at": now, **_columns(data)}
    conn.execute(_UPDATE, {"b_project_id": project_id, "b_id": customer["id"], **changes})
    return {**customer, **changes}


def upsert_customer(
    conn: Connection, project_id: str, payload: Mapping[str, Any], now: dt.datetime
) -> Customer:
    """Create or update the customer a payload names; what the pipeline calls.

    ``id`` wins over ``source_id`` and must exist (else ``NotFound("customer", id)``);
    a known ``source_id`` updates that customer; an unknown one (or none) creates a
    new ``cust_`` customer. Returns the stored record (render it with
    :func:`render_customer`). On PostgreSQL the stored row is read with its lock
    (``SELECT … FOR UPDATE``), which also makes the merge see the latest version.
    """
    locked = conn.dialect.name == "postgresql"
    by_id, by_source = (_BY_ID_LOCKED, _BY_SOURCE_LOCKED) if locked else (_BY_ID, _BY_SOURCE)
    customer_id = payload.get("id")
    if customer_id:
        customer = _one(conn, by_id, project_id, customer_id)
        if customer is None:
            raise NotFound(RESOURCE, customer_id)
        return update_customer(conn, project_id, customer, payload, now, locked=locked)
    source_id = payload.get("source_id")
    if source_id:
        existing = _one(conn, by_source, project_id, source_id)
        if existing is not None:
            return update_customer(conn, project_id, existing, payload, now, locked=locked)
        # Race guard: on PostgreSQL two requests may both miss the source_id and
        # insert; the unique constraint stops the second, which then updates the
        # winner's row. (SQLite write transactions are serialised up front.)
        try:
            with conn.begin_nested():
                return create_customer(conn, project_id, payload, now)
        except IntegrityError:
            existing = _one(conn, by_source, project_id, source_id)
            if existing is None:
                raise
            return update_customer(conn, project_id, existing, payload, now, locked=locked)
    return create_customer(conn, project_id, payload, now)


def delete_customer(conn: Connection, project_id: str, id_or_source_id: str) -> None:
    """Delete a customer permanently (BEHAVIOR.md §15.1); NotFound when unknown."""
    customer = get_customer(conn, project_id, id_or_source_id)
    conn.execute(
        delete(customers).where(
            customers.c.project_id == project_id, customers.c.id == customer["id"]
        )
    )


def _sum_if(condition: ColumnElement[bool], value: Any = 1) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def customer_summary(conn: Connection, project_id: str, customer_id: str) -> dict[str, Any]:
    """The ``summary`` of a customer, counted from the stored records.

    Redemption counters skip successful parents of stacked redemptions (their
    children are counted); rollbacks likewise. Gift and loyalty figures are net of
    rollbacks. Orders count only when PAID or FULFILLED; their value is the amount
    after discounts (``total_amount``, else ``amount``); ``average_amount`` rounds down.
    """
    r = redemptions
    not_parent = or_(r.c.related_object_type != "redemption", r.c.result != "SUCCESS")
    is_redemption = and_(r.c.object == "redemption", not_parent)
    is_rollback = and_(r.c.object == "redemption_rollback", not_parent)
    succeeded = r.c.result == "SUCCESS"
    amount = func.coalesce(r.c.amount, 0)
    row = conn.execute(
        select(
            _sum_if(and_(is_redemption, succeeded)),
            _sum_if(and_(is_redemption, r.c.result == "FAILURE")),
            _sum_if(and_(is_redemption, r.c.status == "ROLLED_BACK")),
            _sum_if(and_(is_rollback, succeeded)),
            _sum_if(and_(is_rollback, r.c.result == "FAILURE")),
            _sum_if(and_(not_parent, succeeded, vouchers.c.type == "GIFT_VOUCHER"), amount),
            _sum_if(and_(not_parent, succeeded, vouchers.c.type == "LOYALTY_CARD"), amount),
        )
        .select_from(r.outerjoin(vouchers, vouchers.c.id == r.c.voucher_id))
        .where(r.c.project_id == project_id, r.c.customer_id == customer_id)
    ).one()
    ok, failed, rolled_back, rollback_ok, rollback_failed, gift_redeemed, points_redeemed = (
        int(v) for v in row
    )
    v = vouchers
    held = conn.execute(
        select(
            _sum_if(
                v.c.type == "GIFT_VOUCHER",
                func.coalesce(v.c.gift_amount, 0)
                - v.c.gift_subtracted_amount
                - v.c.redeemed_amount,
            ),
            _sum_if(
                v.c.type == "LOYALTY_CARD",
                func.coalesce(v.c.loyalty_points, 0)
                - v.c.loyalty_subtracted_points
                - v.c.redeemed_points,
            ),
        ).where(
            v.c.project_id == project_id, v.c.holder_id == customer_id, v.c.deleted_at.is_(None)
        )
    ).one()
    gift_to_go, points_to_go = int(held[0]), int(held[1])
    return {
        "redemptions": {
            "total_redeemed": ok + failed,
            "total_failed": failed,
            "total_succeeded": ok,
            "total_rolled_back": rolled_back,
            "total_rollback_failed": rollback_failed,
            "total_rollback_succeeded": rollback_ok,
            "gift": {"redeemed_amount": gift_redeemed, "amount_to_go": gift_to_go},
            "loyalty_card": {"redeemed_points": points_redeemed, "points_to_go": points_to_go},
        },
        "orders": _order_summary(conn, project_id, customer_id),
    }


def _order_summary(conn: Connection, project_id: str, customer_id: str) -> dict[str, Any]:
    value = func.coalesce(orders.c.total_amount, orders.c.amount, 0)
    counted = and_(
        orders.c.project_id == project_id,
        orders.c.customer_id == customer_id,
        orders.c.status.in_(COUNTED_ORDER_STATUSES),
    )
    total, count = conn.execute(
        select(func.coalesce(func.sum(value), 0), func.count()).where(counted)
    ).one()
    last = conn.execute(
        select(value.label("value"), orders.c.created_at)
        .where(counted)
        .order_by(orders.c.created_at.desc(), orders.c.id.desc())
        .limit(1)
    ).first()
    total, count = int(total), int(count)
    return {
        "total_amount": total,
        "total_count": count,
        "average_amount": total // count if count else 0,
        "last_order_amount": int(last.value) if last is not None else 0,
        "last_order_date": iso(last.created_at) if last is not None else None,
    }


def render_customer(conn: Connection, project_id: str, customer: Customer) -> dict[str, Any]:
    """The full wire representation (``CustomersGetResponseBody``), summary included."""
    data = customer["data"]
    summary = customer_summary(conn, project_id, customer["id"])
    address = data.get("address")
    return {
        "id": customer["id"],
        "source_id": customer["source_id"],
        "name": data.get("name"),
        "description": data.get("description"),
        "email": data.get("email"),
        "phone": data.get("phone"),
        "birthdate": data.get("birthdate"),
        "birthday": data.get("birthday"),
        "address": {name: address.get(name) for name in ADDRESS_FIELDS} if address else None,
        "summary": summary,
        "loyalty": {
            "points": summary["redemptions"]["loyalty_card"]["points_to_go"],
            "referred_customers": 0,
            "campaigns": {},
        },
        "referrals": {"total": 0, "campaigns": []},
        "metadata": data.get("metadata") or {},
        "system_metadata": data.get("system_metadata") or {},
        "created_at": iso(customer["created_at"]),
        "updated_at": iso(customer["updated_at"]),
        "object": "customer",
    }


def customer_reference(customer: Customer) -> dict[str, Any]:
    """``{"id": ..., "object": "customer"}`` as orders and redemptions embed it."""
    return {"id": customer["id"], "object": "customer"}


CUSTOMER_FIELDS: dict[str, ColumnElement[Any]] = {
    "id": customers.c.id,
    "source_id": customers.c.source_id,
    "name": customers.c.name,
    "email": customers.c.email,
    "created_at": customers.c.created_at,
    "updated_at": customers.c.updated_at,
    "phone": json_text(customers.c.data, "phone"),
    "description": json_text(customers.c.data, "description"),
    "birthdate": json_text(customers.c.data, "birthdate"),
    "city": json_text(customers.c.data, "address", "city"),
}
CUSTOMER_ORDERS: dict[str, ColumnElement[Any]] = {
    "created_at": customers.c.created_at,
    "updated_at": customers.c.updated_at,
    "source_id": customers.c.source_id,
}


def list_customers(
    conn: Connection, project_id: str, query: ListQuery
) -> tuple[list[Customer], int, bool]:
    """One page of customers (newest first by default): (records, total, has_more).

    Shortcuts: ``email``, ``name``, ``city`` (exact), ``segment_id`` (segments are
    not supported, so any segment matches nobody) and ``starting_after`` (a
    ``created_at`` cursor: older rows when sorting newest first, newer otherwise).
    """
    base = select(customers).where(
        customers.c.project_id == project_id,
        date_range_clause(query, customers.c.created_at, customers.c.updated_at),
    )
    for param, column in (
        ("email", customers.c.email),
        ("name", customers.c.name),
        ("city", CUSTOMER_FIELDS["city"]),
    ):
        value = query.param(param)
        if value is not None:
            base = base.where(column == value)
    if query.param("segment_id") is not None:
        base = base.where(false())
    order_by = ordering(query, CUSTOMER_ORDERS, "-created_at", customers.c.id)
    cursor = query.param("starting_after")
    if cursor is not None:
        try:
            after = parse_datetime(cursor, "starting_after")
        except InvalidPayload as exc:
            raise InvalidQueryParams("Query param starting_after must be a date-time") from exc
        descending = (query.order or "-created_at").startswith("-")
        base = base.where(
            customers.c.created_at < after if descending else customers.c.created_at > after
        )
    clause = filter_clause(query, CUSTOMER_FIELDS, metadata_resolver(customers.c.data, "address"))
    if clause is not None:
        base = base.where(clause)
    rows, total = page(conn, base, query, order_by)
    return [_record(row) for row in rows], total, query.offset + len(rows) < total
