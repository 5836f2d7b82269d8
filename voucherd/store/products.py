"""Products and their SKUs: the catalogue orders are priced from.

A product is addressed by its ``prod_`` id or ``source_id``, an SKU by its ``sku_``
id or ``source_id``. ``POST`` upserts (``id`` first, which must exist, then a live
``source_id``); updates replace the fields they carry (``metadata`` and
``attributes`` as whole values). Deleting soft-deletes (``deleted_at``) a product
and its SKUs, or removes them for good with ``force``; either way they are gone
for every read (BEHAVIOR.md §15.1), and their source_ids may be reused at once.

The reserved shipping product ``prod_5h1pp1ng`` (source_id ``5h1pp1ng``) used by
free-shipping discounts is virtual: every project finds it, nobody stores it.
Product ids are primary keys across projects, so it could not be stored per
project under its fixed id anyway.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    delete,
    insert,
    select,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError

from voucherd.store.direct import hot
from voucherd.store.errors import BusinessRuleViolation, Duplicate, NotFound
from voucherd.store.ids import new_id
from voucherd.store.jsonpaths import metadata_resolver
from voucherd.store.listing import (
    ListQuery,
    by_id_or_source_id,
    date_range_clause,
    filter_clause,
    in_project_by_ids,
    ordering,
    page,
)
from voucherd.store.schema import products, projects, skus
from voucherd.store.wire import iso

SHIPPING_PRODUCT_ID = "prod_5h1pp1ng"
SHIPPING_SOURCE_ID = "5h1pp1ng"

PRODUCT_DATA_FIELDS = ("attributes", "metadata", "image_url")
SKU_DATA_FIELDS = ("sku", "currency", "attributes", "metadata", "image_url")

Record = dict[str, Any]


# Orders and redemptions look products and SKUs up on every call; their statements
# are built once, here, as constructing them per call cost more CPU than running them.
_LIVE_PRODUCT_BY = hot(by_id_or_source_id(products, products.c.deleted_at.is_(None)))
_LIVE_SKU_BY = hot(by_id_or_source_id(skus, skus.c.deleted_at.is_(None)))


def _live_sku_ids(*, by_source_id: bool) -> Any:
    # By id with in_project_by_ids: SQLite would walk the project's SKUs for 4+ ids.
    project = skus.c.project_id == bindparam("project_id")
    column = skus.c.source_id if by_source_id else skus.c.id
    return select(skus.c.id).where(
        project if by_source_id else in_project_by_ids(skus),
        skus.c.deleted_at.is_(None),
        column.in_(bindparam("idents", expanding=True)),
    )


# Several at once: a UNION of two index look-ups (``id IN … OR source_id IN …`` would
# have SQLite walk the project's SKUs).
_LIVE_SKUS_BY = hot(
    select(skus).where(
        skus.c.id.in_(union(_live_sku_ids(by_source_id=False), _live_sku_ids(by_source_id=True)))
    )
)
_PROJECT_CREATED_AT = hot(
    select(projects.c.created_at).where(projects.c.id == bindparam("project_id"))
)


def _record(row: Any) -> Record:
    return dict(row._mapping)


def _first(conn: Connection, statement: Select[Any], project_id: str, ident: str) -> Record | None:
    """The row ``statement`` (see :func:`by_id_or_source_id`) finds first for ``ident``, or None."""
    row = conn.execute(statement, {"project_id": project_id, "ident": ident}).first()
    return None if row is None else _record(row)


def is_shipping(id_or_source_id: str) -> bool:
    """Whether the identifier names the reserved shipping product."""
    return id_or_source_id in (SHIPPING_PRODUCT_ID, SHIPPING_SOURCE_ID)


def _shipping(conn: Connection, project_id: str) -> Record:
    created_at = conn.execute(_PROJECT_CREATED_AT, {"project_id": project_id}).scalar_one()
    return {
        "id": SHIPPING_PRODUCT_ID,
        "project_id": project_id,
        "source_id": SHIPPING_SOURCE_ID,
        "name": "Shipping",
        "price": None,
        "data": {"attributes": [], "metadata": {}, "image_url": None},
        "created_at": created_at,
        "updated_at": None,
        "deleted_at": None,
    }


def _live_product(project_id: str) -> Any:
    return select(products).where(
        products.c.project_id == project_id, products.c.deleted_at.is_(None)
    )


def find_product(conn: Connection, project_id: str, id_or_source_id: str) -> Record | None:
    """The live product with this ``prod_`` id or ``source_id`` (the id is tried first), or None.

    Records carry ``id``, ``source_id``, ``name``, ``price`` (int or None) and
    ``data`` (``attributes``, ``metadata``, ``image_url``). The shipping product is
    always found.
    """
    found = _first(conn, _LIVE_PRODUCT_BY, project_id, id_or_source_id)
    if found is None and is_shipping(id_or_source_id):
        return _shipping(conn, project_id)
    return found


def get_product(conn: Connection, project_id: str, id_or_source_id: str) -> Record:
    """Like :func:`find_product`, raising ``NotFound("product", <as sent>)``."""
    found = find_product(conn, project_id, id_or_source_id)
    if found is None:
        raise NotFound("product", id_or_source_id)
    return found


def _refuse_shipping(product: Record) -> None:
    if product["id"] == SHIPPING_PRODUCT_ID:
        raise BusinessRuleViolation(
            "invalid_product",
            "Invalid product",
            "The shipping product prod_5h1pp1ng is reserved and cannot be changed",
            resource_id=SHIPPING_PRODUCT_ID,
            resource_type="product",
        )


def _data(
    current: Mapping[str, Any], payload: Mapping[str, Any], names: tuple[str, ...]
) -> dict[str, Any]:
    out = dict(current)
    for name in names:
        if payload.get(name) is not None:
            out[name] = payload[name]
    return out


def create_product(
    conn: Connection, project_id: str, payload: Mapping[str, Any], now: dt.datetime
) -> Record:
    """Insert a product (callers check that its source_id is free; ``5h1pp1ng`` is reserved)."""
    if is_shipping(payload.get("source_id") or ""):
        _refuse_shipping({"id": SHIPPING_PRODUCT_ID})
    values = {
        "id": new_id("prod"),
        "project_id": project_id,
        # "" reads as no source_id, as the upsert lookup reads it; storing it made a        # second "" a unique-index clash (500) that the fuzzer found.
        "source_id": payload.get("source_id") or None,
        "name": payload.get("name"),
        "price": payload.get("price"),
        "data": _data(
            {"attributes": [], "metadata": {}, "image_url": None}, payload, PRODUCT_DATA_FIELDS
        ),
        "created_at": now,
        "updated_at": None,
        "deleted_at": None,
    }
    conn.execute(insert(products).values(**values))
    return values


def update_product(
    conn: Connection, project_id: str, product: Record, payload: Mapping[str, Any], now: dt.datetime
) -> Record:
    """Replace the fields ``payload`` carries (name, price, attributes, metadata, image_url)."""
    _refuse_shipping(product)
    changes: dict[str, Any] = {
        "data": _data(product["data"], payload, PRODUCT_DATA_FIELDS),
        "updated_at": now,
    }
    for name in ("name", "price"):
        if payload.get(name) is not None:
            changes[name] = payload[name]
    conn.execute(
        update(products)
        .where(products.c.project_id == project_id, products.c.id == product["id"])
        .values(**changes)
    )
    return {**product, **changes}


def upsert_product(
    conn: Connection, project_id: str, payload: Mapping[str, Any], now: dt.datetime
) -> Record:
    """Create a product or update the one the payload names.

    ``id`` must name a live product (else ``NotFound("product", id)``); a live
    ``source_id`` updates that product; otherwise a new ``prod_`` product is made.
    """
    product_id = payload.get("id")
    if product_id:
        return update_product(
            conn, project_id, get_product(conn, project_id, product_id), payload, now
        )
    source_id = payload.get("source_id")
    if not source_id:
        return create_product(conn, project_id, payload, now)
    existing = _product_by_source_id(conn, project_id, source_id)
    if existing is not None:
        return update_product(conn, project_id, existing, payload, now)
    # Race guard: two PostgreSQL transactions may both miss this source_id; the
    # partial unique index stops the second, which then updates the first's product.
    try:
        with conn.begin_nested():
            return create_product(conn, project_id, payload, now)
    except IntegrityError:
        existing = _product_by_source_id(conn, project_id, source_id)
        if existing is None:
            raise
        return update_product(conn, project_id, existing, payload, now)


def _product_by_source_id(conn: Connection, project_id: str, source_id: str) -> Record | None:
    row = conn.execute(_live_product(project_id).where(products.c.source_id == source_id)).first()
    return None if row is None else _record(row)


def delete_product(
    conn: Connection,
    project_id: str,
    id_or_source_id: str,
    now: dt.datetime,
    *,
    force: bool = False,
) -> None:
    """Delete a product and its SKUs: soft (``deleted_at``) or, with ``force``, for good."""
    product = get_product(conn, project_id, id_or_source_id)
    _refuse_shipping(product)
    if force:
        conn.execute(
            delete(skus).where(skus.c.project_id == project_id, skus.c.product_id == product["id"])
        )
        conn.execute(
            delete(products).where(
                products.c.project_id == project_id, products.c.id == product["id"]
            )
        )
        return
    conn.execute(
        update(skus)
        .where(
            skus.c.project_id == project_id,
            skus.c.product_id == product["id"],
            skus.c.deleted_at.is_(None),
        )
        .values(deleted_at=now)
    )
    conn.execute(
        update(products)
        .where(products.c.project_id == project_id, products.c.id == product["id"])
        .values(deleted_at=now)
    )


def render_product(
    conn: Connection, project_id: str, product: Record, *, with_skus: bool = True
) -> dict[str, Any]:
    """The wire product; ``skus`` lists its live SKUs, oldest first."""
    data = product["data"]
    out: dict[str, Any] = {
        "id": product["id"],
        "source_id": product["source_id"],
        "name": product["name"],
        "price": product["price"],
        "attributes": data.get("attributes") or [],
        "metadata": data.get("metadata") or {},
        "image_url": data.get("image_url"),
        "created_at": iso(product["created_at"]),
        "updated_at": iso(product["updated_at"]),
        "object": "product",
    }
    if with_skus:
        rows = conn.execute(
            _live_skus(project_id)
            .where(skus.c.product_id == product["id"])
            .order_by(skus.c.created_at, skus.c.id)
        ).all()
        items = [render_sku(_record(row)) for row in rows]
        out["skus"] = {"object": "list", "data_ref": "data", "data": items, "total": len(items)}
    return out


PRODUCT_FIELDS: dict[str, ColumnElement[Any]] = {
    "id": products.c.id,
    "source_id": products.c.source_id,
    "name": products.c.name,
    "price": products.c.price,
    "created_at": products.c.created_at,
    "updated_at": products.c.updated_at,
}
PRODUCT_ORDERS = {k: PRODUCT_FIELDS[k] for k in ("created_at", "updated_at", "name", "source_id")}


def list_products(
    conn: Connection,
    project_id: str,
    query: ListQuery,
    *,
    start_date: dt.datetime | None = None,
    end_date: dt.datetime | None = None,
) -> tuple[list[Record], int]:
    """One page of live products, oldest first by default: (records, total).

    ``start_date`` / ``end_date`` bound ``created_at`` inclusively.
    """
    base = _live_product(project_id).where(
        date_range_clause(query, products.c.created_at, products.c.updated_at)
    )
    if start_date is not None:
        base = base.where(products.c.created_at >= start_date)
    if end_date is not None:
        base = base.where(products.c.created_at <= end_date)
    clause = filter_clause(query, PRODUCT_FIELDS, metadata_resolver(products.c.data))
    if clause is not None:
        base = base.where(clause)
    order_by = ordering(query, PRODUCT_ORDERS, "created_at", products.c.id)
    rows, total = page(conn, base, query, order_by)
    return [_record(row) for row in rows], total


# --- SKUs -------------------------------------------------------------------------


def _live_skus(project_id: str) -> Any:
    return select(skus).where(skus.c.project_id == project_id, skus.c.deleted_at.is_(None))


def find_sku(conn: Connection, project_id: str, id_or_source_id: str) -> Record | None:
    """The live SKU with this ``sku_`` id or ``source_id`` (id first), or None.

    Records carry ``id``, ``product_id``, ``source_id``, ``price`` and ``data``
    (``sku``, ``currency``, ``attributes``, ``metadata``, ``image_url``).
    """
    return _first(conn, _LIVE_SKU_BY, project_id, id_or_source_id)


def find_skus(conn: Connection, project_id: str, idents: Sequence[str]) -> dict[str, Record]:
    """:func:`find_sku` for several identifiers in one statement: the SKU found for each
    (its id matched, else its source_id), keyed by the identifier; unknown ones are left out.
    """
    params = {"project_id": project_id, "idents": list(idents)}
    rows = [_record(row) for row in conn.execute(_LIVE_SKUS_BY, params)]
    by_id = {row["id"]: row for row in rows}
    by_source_id = {row["source_id"]: row for row in rows if row["source_id"]}
    found: dict[str, Record] = {}
    for ident in idents:
        row = by_id.get(ident) or by_source_id.get(ident)
        if row is not None:
            found[ident] = row
    return found


def get_sku(conn: Connection, project_id: str, id_or_source_id: str) -> Record:
    """Like :func:`find_sku`, raising ``NotFound("sku", <as sent>)``."""
    found = find_sku(conn, project_id, id_or_source_id)
    if found is None:
        raise NotFound("sku", id_or_source_id)
    return found


def get_product_sku(
    conn: Connection, project_id: str, product: Record, id_or_source_id: str
) -> Record:
    """An SKU of ``product``; an SKU of another product is not found here."""
    found = find_sku(conn, project_id, id_or_source_id)
    if found is None or found["product_id"] != product["id"]:
        raise NotFound("sku", id_or_source_id)
    return found


def create_sku(
    conn: Connection, project_id: str, product: Record, payload: Mapping[str, Any], now: dt.datetime
) -> Record:
    """Insert an SKU under ``product``."""
    _refuse_shipping(product)
    values = {
        "id": new_id("sku"),
        "project_id": project_id,
        "product_id": product["id"],
        # "" reads as no source_id, as the upsert lookup reads it; storing it made a        # second "" a unique-index clash (500) that the fuzzer found.
        "source_id": payload.get("source_id") or None,
        "price": payload.get("price"),
        "data": _data(
            {"sku": None, "currency": None, "attributes": {}, "metadata": {}, "image_url": None},
            payload,
            SKU_DATA_FIELDS,
        ),
        "created_at": now,
        "updated_at": None,
        "deleted_at": None,
    }
    conn.execute(insert(skus).values(**values))
    return values


def update_sku(
    conn: Connection, project_id: str, sku: Record, payload: Mapping[str, Any], now: dt.datetime
) -> Record:
    """Replace the fields ``payload`` carries (sku, price, currency, attributes, metadata, image_url)."""
    changes: dict[str, Any] = {
        "data": _data(sku["data"], payload, SKU_DATA_FIELDS),
        "updated_at": now,
    }
    if payload.get("price") is not None:
        changes["price"] = payload["price"]
    conn.execute(
        update(skus)
        .where(skus.c.project_id == project_id, skus.c.id == sku["id"])
        .values(**changes)
    )
    return {**sku, **changes}


def upsert_sku(
    conn: Connection, project_id: str, product: Record, payload: Mapping[str, Any], now: dt.datetime
) -> Record:
    """Create an SKU under ``product`` or update the one the payload names.

    ``id`` must name a live SKU of this product (else NotFound); a live
    ``source_id`` of this product updates it, one used by another product's SKU is
    409 ``duplicate_found``; otherwise a new ``sku_`` SKU is made.
    """
    sku_id = payload.get("id")
    if sku_id:
        return update_sku(
            conn, project_id, get_product_sku(conn, project_id, product, sku_id), payload, now
        )
    source_id = payload.get("source_id")
    if not source_id:
        return create_sku(conn, project_id, product, payload, now)
    existing = conn.execute(_live_skus(project_id).where(skus.c.source_id == source_id)).first()
    if existing is not None:
        if existing.product_id != product["id"]:
            raise Duplicate("sku", source_id)
        return update_sku(conn, project_id, _record(existing), payload, now)
    # Race guard, as for products: the loser of a concurrent insert starts over
    # and finds the winner's SKU.
    try:
        with conn.begin_nested():
            return create_sku(conn, project_id, product, payload, now)
    except IntegrityError:
        if (
            conn.execute(_live_skus(project_id).where(skus.c.source_id == source_id)).first()
            is None
        ):
            raise
        return upsert_sku(conn, project_id, product, payload, now)


def delete_sku(
    conn: Connection, project_id: str, sku: Record, now: dt.datetime, *, force: bool = False
) -> None:
    """Delete an SKU: soft (``deleted_at``) or, with ``force``, for good."""
    where = (skus.c.project_id == project_id, skus.c.id == sku["id"])
    if force:
        conn.execute(delete(skus).where(*where))
    else:
        conn.execute(update(skus).where(*where).values(deleted_at=now))


def render_sku(sku: Record) -> dict[str, Any]:
    """The wire SKU."""
    data = sku["data"]
    return {
        "id": sku["id"],
        "source_id": sku["source_id"],
        "product_id": sku["product_id"],
        "sku": data.get("sku"),
        "price": sku["price"],
        "currency": data.get("currency"),
        "attributes": data.get("attributes") or {},
        "image_url": data.get("image_url"),
        "metadata": data.get("metadata") or {},
        "created_at": iso(sku["created_at"]),
        "updated_at": iso(sku["updated_at"]),
        "object": "sku",
    }


SKU_FIELDS: dict[str, ColumnElement[Any]] = {
    "id": skus.c.id,
    "source_id": skus.c.source_id,
    "price": skus.c.price,
    "created_at": skus.c.created_at,
    "updated_at": skus.c.updated_at,
}


def list_skus(
    conn: Connection,
    project_id: str,
    product: Record,
    query: ListQuery,
    *,
    start_date: dt.datetime | None = None,
    end_date: dt.datetime | None = None,
) -> tuple[list[Record], int]:
    """One page of a product's live SKUs, oldest first by default: (records, total)."""
    base = _live_skus(project_id).where(
        skus.c.product_id == product["id"],
        date_range_clause(query, skus.c.created_at, skus.c.updated_at),
    )
    if start_date is not None:
        base = base.where(skus.c.created_at >= start_date)
    if end_date is not None:
        base = base.where(skus.c.created_at <= end_date)
    clause = filter_clause(query, SKU_FIELDS, metadata_resolver(skus.c.data))
    if clause is not None:
        base = base.where(clause)
    orders = {k: SKU_FIELDS[k] for k in ("created_at", "updated_at", "source_id")}
    rows, total = page(conn, base, query, ordering(query, orders, "created_at", skus.c.id))
    return [_record(row) for row in rows], total
