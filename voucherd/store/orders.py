"""Orders: upsert by id/source_id, items priced from the catalogue, computed amounts.

BEHAVIOR.md §7.1, §7.4, §15. An order is addressed by its ``ord_`` id or its
``source_id``. Creating or updating one:

* resolves every item against the catalogue (:func:`resolve_items`, no writes):
  ``product_id``/``sku_id`` or ``source_id`` + ``related_object`` (or the item's
  ``product``/``sku`` objects) find the stored product or SKU, which supplies the
  price, name and metadata the item leaves out; what the payload says wins for
  this order, and is written back to the catalogue only with ``override: true``;
* computes the amounts (:func:`compute_amounts`, pure): item ``amount`` = given,
  else ``price × quantity``; order ``amount`` = given, else the sum of the items;
  discount fields default to 0, so ``total_amount`` = ``amount`` − discounts;
* upserts the named customer (and referrer) through the customers store.

Validation must not persist anything, so the pipeline calls :func:`resolve_order`
(read-only) to price a request's order and :func:`upsert_order` only on redeem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from voucherd.store import customers, listing, products
from voucherd.store.direct import hot
from voucherd.store.errors import NotFound
from voucherd.store.ids import new_id
from voucherd.store.jsonpaths import metadata_resolver
from voucherd.store.listing import ListQuery, date_range_clause, filter_clause, ordering, page
from voucherd.store.schema import orders
from voucherd.store.wire import iso, parse_datetime

RESOURCE = "order"
STATUSES = ("CREATED", "PAID", "CANCELED", "FULFILLED")
DEFAULT_STATUS = "CREATED"
MAX_ITEMS = 500

# Item counters the pipeline may set (unit effects, discounts); 0/absent otherwise.
ITEM_DISCOUNT_FIELDS = (
    "discount_amount",
    "applied_discount_amount",
    "discount_quantity",
    "applied_discount_quantity",
    "applied_quantity",
    "applied_quantity_amount",
)
# Order-level discount fields carried from the payload or the stored order.
ORDER_DISCOUNT_FIELDS = ("discount_amount", "applied_discount_amount")

Order = dict[str, Any]

# The statements every redemption runs, built once: constructing a statement per
# call cost several times what executing it does.
_BY_ID = hot(
    select(orders).where(
        orders.c.project_id == bindparam("project_id"), orders.c.id == bindparam("order_id")
    )
)
_BY_SOURCE_ID = hot(
    select(orders).where(
        orders.c.project_id == bindparam("project_id"), orders.c.source_id == bindparam("source_id")
    )
)
_BY_ID_OR_SOURCE_ID = hot(listing.by_id_or_source_id(orders))
_INSERT = hot(insert(orders))
_UPDATE = hot(
    update(orders).where(
        orders.c.project_id == bindparam("b_project_id"), orders.c.id == bindparam("b_order_id")
    )
)
# The ``stored`` default of resolve_order/upsert_order: look the order up (None
# means the caller knows there is none).
_LOOK_UP: Any = object()


def _write(conn: Connection, project_id: str, order_id: str, values: Mapping[str, Any]) -> None:
    """UPDATE one stored order's columns (the SET clause follows the keys of ``values``)."""
    conn.execute(_UPDATE, {"b_project_id": project_id, "b_order_id": order_id, **values})


def _record(row: Any) -> Order:
    return dict(row._mapping)


def _as_int(value: Any) -> int | None:
    """Money in minor units: ints stay, numbers round half up (``10.5`` → 11)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except ArithmeticError:
        return None


def find_order(conn: Connection, project_id: str, id_or_source_id: str) -> Order | None:
    """The stored order with this ``ord_`` id or ``source_id`` (id first), or None."""
    params = {"project_id": project_id, "ident": id_or_source_id}
    row = conn.execute(_BY_ID_OR_SOURCE_ID, params).first()
    return None if row is None else _record(row)


def get_order(conn: Connection, project_id: str, id_or_source_id: str) -> Order:
    """Like :func:`find_order`, raising ``NotFound("order", <as sent>)``."""
    found = find_order(conn, project_id, id_or_source_id)
    if found is None:
        raise NotFound(RESOURCE, id_or_source_id)
    return found


def existing_order(conn: Connection, project_id: str, payload: Mapping[str, Any]) -> Order | None:
    """The stored order a payload names: ``id`` (must exist, else NotFound), else ``source_id``."""
    order_id = payload.get("id")
    if order_id:
        row = conn.execute(_BY_ID, {"project_id": project_id, "order_id": order_id}).first()
        if row is None:
            raise NotFound(RESOURCE, order_id)
        return _record(row)
    source_id = payload.get("source_id")
    if source_id:
        row = conn.execute(
            _BY_SOURCE_ID, {"project_id": project_id, "source_id": source_id}
        ).first()
        return None if row is None else _record(row)
    return None


# --- items ------------------------------------------------------------------------


def _related(item: Mapping[str, Any]) -> str:
    """What the item is about: its ``related_object``, else ``sku`` when it names one."""
    related = item.get("related_object")
    if related is not None:
        return str(related)
    sku_in = item.get("sku") or {}
    return "sku" if item.get("sku_id") or sku_in.get("id") or sku_in.get("source_id") else "product"


def _sku_keys(item: Mapping[str, Any]) -> list[str]:
    """The identifiers a SKU item may name its SKU by, most specific first."""
    sku_in = item.get("sku") or {}
    keys = (item.get("sku_id"), sku_in.get("id"), item.get("source_id"), sku_in.get("source_id"))
    return [str(key) for key in keys if key]


def _lookup(
    conn: Connection,
    project_id: str,
    item: Mapping[str, Any],
    skus: Mapping[str, dict[str, Any]] | None = None,
) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None]:
    """(related_object, stored product, stored SKU) for one payload item.

    ``skus`` are the SKUs :func:`products.find_skus` found for the item's keys
    (looked up one by one without it).
    """
    product_in = item.get("product") or {}
    related = _related(item)
    sku = product = None
    if related == "sku":
        for sku_key in _sku_keys(item):
            sku = (
                skus.get(sku_key)
                if skus is not None
                else products.find_sku(conn, project_id, sku_key)
            )
            if sku is not None:
                break
        if sku is not None:
            product = products.find_product(conn, project_id, sku["product_id"])
    candidates = [item.get("product_id"), product_in.get("id"), product_in.get("source_id")]
    if related == "product":
        candidates.insert(2, item.get("source_id"))
    for key in candidates:
        if key and product is None:
            product = products.find_product(conn, project_id, key)
    return related, product, sku


def resolve_item(
    conn: Connection,
    project_id: str,
    item: Mapping[str, Any],
    skus: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One payload item priced and described from the catalogue, without writing.

    Returns the wire item (``object: "order_item"``, no ``id`` yet, amounts not
    yet computed) with ``product``/``sku`` sub-objects when known. Unknown
    identifiers are kept as sent: an item need not be in the catalogue.
    """
    related, product, sku = _lookup(conn, project_id, item, skus)
    product_in = dict(item.get("product") or {})
    sku_in = dict(item.get("sku") or {})
    out: dict[str, Any] = {"object": "order_item", "related_object": related}
    if item.get("id"):
        # Stored items re-saved by the pipeline keep their ``ordli_`` ids.
        out["id"] = item["id"]
    product_view: dict[str, Any] | None = None
    if product is not None or product_in:
        stored = product or {}
        product_view = {
            "id": stored.get("id") or product_in.get("id") or item.get("product_id"),
            "source_id": stored.get("source_id") or product_in.get("source_id"),
            "name": product_in.get("name", stored.get("name")),
            "price": product_in.get("price", stored.get("price")),
            "metadata": product_in.get(
                "metadata", (stored.get("data") or {}).get("metadata") or {}
            ),
        }
        if product_in.get("override") is not None:
            product_view["override"] = product_in["override"]
    sku_view: dict[str, Any] | None = None
    if sku is not None or sku_in:
        stored = sku or {}
        sku_view = {
            "id": stored.get("id") or sku_in.get("id") or item.get("sku_id"),
            "source_id": stored.get("source_id") or sku_in.get("source_id"),
            "sku": sku_in.get("sku", (stored.get("data") or {}).get("sku")),
            "price": sku_in.get("price", stored.get("price")),
            "metadata": sku_in.get("metadata", (stored.get("data") or {}).get("metadata") or {}),
        }
        if sku_in.get("override") is not None:
            sku_view["override"] = sku_in["override"]
    out["product_id"] = (product_view or {}).get("id") or item.get("product_id")
    out["sku_id"] = (sku_view or {}).get("id") or item.get("sku_id")
    own = sku_view if related == "sku" else product_view
    out["source_id"] = item.get("source_id") or (own or {}).get("source_id")
    out["quantity"] = item.get("quantity")
    price = item.get("price")
    if price is None and related == "sku" and sku_view is not None:
        price = sku_view.get("price")
    if price is None and product_view is not None:
        price = product_view.get("price")
    out["price"] = _as_int(price)
    out["amount"] = item.get("amount")
    for name in ("initial_quantity", "initial_amount", *ITEM_DISCOUNT_FIELDS):
        if item.get(name) is not None:
            out[name] = item[name]
    if product_view is not None:
        out["product"] = product_view
    if sku_view is not None:
        out["sku"] = sku_view
    out["metadata"] = item.get("metadata") or {}
    return out


def resolve_items(
    conn: Connection, project_id: str, items: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Every payload item resolved with :func:`resolve_item` (read-only).

    The SKUs the items name are looked up together, in one statement: on PostgreSQL
    each statement is a round trip, inside a redeem's write transaction.
    """
    keys = {key for item in items if _related(item) == "sku" for key in _sku_keys(item)}
    skus = products.find_skus(conn, project_id, sorted(keys)) if keys else {}
    return [resolve_item(conn, project_id, item, skus) for item in items]


def compute_amounts(order: Mapping[str, Any]) -> dict[str, Any]:
    """The order with item and order amounts filled in (pure; BEHAVIOR.md §7.1, §7.4).

    Item: ``amount`` = given, else ``price × quantity`` (None when either is
    unknown); ``initial_*`` default to the current values; discounts default to 0;
    ``subtotal_amount`` = ``amount − discount_amount``. Order: ``amount`` = given,
    else Σ item amounts (None with no priced item); ``initial_amount`` defaults to
    ``amount``; ``items_*`` sums; ``total_discount_amount`` = order + items
    discounts; ``total_amount`` = ``amount − total_discount_amount``.
    """
    out = dict(order)
    items: list[dict[str, Any]] = []
    for raw in order.get("items") or []:
        item = dict(raw)
        quantity, price = item.get("quantity"), item.get("price")
        if item.get("amount") is None and quantity is not None and price is not None:
            item["amount"] = price * quantity
        item.setdefault("initial_quantity", quantity)
        item.setdefault("initial_amount", item.get("amount"))
        for name in ITEM_DISCOUNT_FIELDS:
            item.setdefault(name, 0)
        amount = item.get("amount")
        item["subtotal_amount"] = None if amount is None else amount - item["discount_amount"]
        items.append(item)
    out["items"] = items
    priced = [i["amount"] for i in items if i.get("amount") is not None]
    if out.get("amount") is None:
        out["amount"] = sum(priced) if priced else None
    amount = out["amount"]
    if out.get("initial_amount") is None:
        out["initial_amount"] = amount
    for name in ORDER_DISCOUNT_FIELDS:
        out[name] = out.get(name) or 0
    out["items_discount_amount"] = sum(i["discount_amount"] for i in items)
    out["items_applied_discount_amount"] = sum(i["applied_discount_amount"] for i in items)
    out["total_discount_amount"] = out["discount_amount"] + out["items_discount_amount"]
    out["total_applied_discount_amount"] = (
        out["applied_discount_amount"] + out["items_applied_discount_amount"]
    )
    out["total_amount"] = None if amount is None else amount - out["total_discount_amount"]
    return out


# --- orders -----------------------------------------------------------------------


def resolve_order(
    conn: Connection,
    project_id: str,
    payload: Mapping[str, Any],
    *,
    stored: Any = _LOOK_UP,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The order a payload describes, priced, without writing anything.

    Starts from the stored order the payload names (``id`` must exist; a
    ``source_id`` may be new), or from ``stored`` when the caller already read it
    (None: there is none); then every present
    payload field replaces the stored one (``items`` as a whole: a new item list
    also recomputes ``amount`` unless the payload gives one). Returns the
    computed wire fields (no ``id``, ``customer`` or timestamps for a new order);
    ``existing`` holds the stored record or None. ``items``, when given, is the
    payload's items already resolved with :func:`resolve_items`.
    """
    if stored is _LOOK_UP:
        stored = existing_order(conn, project_id, payload)
    base: dict[str, Any] = {}
    if stored is not None:
        data = stored["data"]
        base = {
            "status": stored["status"],
            "amount": stored["amount"],
            "initial_amount": data.get("initial_amount"),
            "discount_amount": data.get("discount_amount"),
            "applied_discount_amount": data.get("applied_discount_amount"),
            "items": data.get("items") or [],
            "metadata": data.get("metadata") or {},
        }
    if payload.get("items") is not None:
        base["items"] = (
            items if items is not None else resolve_items(conn, project_id, payload["items"])
        )
        if payload.get("amount") is None:
            base["amount"] = None
            base["initial_amount"] = None
    for name in ("status", "amount", "initial_amount", *ORDER_DISCOUNT_FIELDS, "metadata"):
        if payload.get(name) is not None:
            base[name] = payload[name]
    base.setdefault("status", DEFAULT_STATUS)
    base.setdefault("metadata", {})
    computed = compute_amounts(base)
    computed["existing"] = stored
    return computed


def _apply_overrides(
    conn: Connection, project_id: str, items: list[dict[str, Any]], now: dt.datetime
) -> None:
    """Write item product/SKU data flagged ``override: true`` to the catalogue.

    A known product/SKU (by id, else source_id) is updated; an unknown one is
    created by its source_id (an SKU only under a known product). The shipping
    product is never written.
    """
    for item in items:
        product_view = item.get("product")
        if product_view and product_view.pop("override", None):
            payload = {k: product_view.get(k) for k in ("name", "price", "metadata")}
            payload["price"] = _as_int(payload["price"])
            stored = products.find_product(conn, project_id, product_view.get("id") or "")
            if stored is not None and stored["id"] != products.SHIPPING_PRODUCT_ID:
                stored = products.update_product(conn, project_id, stored, payload, now)
            elif stored is None and product_view.get("source_id"):
                payload["source_id"] = product_view["source_id"]
                stored = products.upsert_product(conn, project_id, payload, now)
            if stored is not None:
                product_view["id"] = item["product_id"] = stored["id"]
        sku_view = item.get("sku")
        if sku_view and sku_view.pop("override", None):
            payload = {k: sku_view.get(k) for k in ("sku", "price", "metadata")}
            payload["price"] = _as_int(payload["price"])
            stored = products.find_sku(conn, project_id, sku_view.get("id") or "")
            if stored is not None:
                stored = products.update_sku(conn, project_id, stored, payload, now)
            elif sku_view.get("source_id") and item.get("product_id"):
                parent = products.find_product(conn, project_id, item["product_id"])
                if parent is not None and parent["id"] != products.SHIPPING_PRODUCT_ID:
                    payload["source_id"] = sku_view["source_id"]
                    stored = products.upsert_sku(conn, project_id, parent, payload, now)
            if stored is not None:
                sku_view["id"] = item["sku_id"] = stored["id"]


def upsert_order(
    conn: Connection,
    project_id: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
    *,
    items: list[dict[str, Any]] | None = None,
    stored: Any = _LOOK_UP,
    amend: Callable[[dict[str, Any]], None] | None = None,
    source_id_locked: bool = False,
) -> Order:
    """Create or update the order a payload names and return the stored record.

    ``id`` must exist (else ``NotFound("order", id)``); a known ``source_id``
    updates that order, an unknown one creates it; a new order without ``status``
    is ``CREATED``. Items without an ``id`` get ``ordli_`` ids. ``customer`` and
    ``referrer`` are upserted through :mod:`voucherd.store.customers`;
    ``customer_id``/``referrer_id`` strings are stored as given. The
    ``source_id`` of a stored order never changes. Render with :func:`render_order`.
    ``items`` are the payload's items already priced (:func:`resolve_items`); they
    are changed in place. The returned record is what was written: no need to
    read it back. ``stored`` is the order the payload names when the caller has
    already read it in this transaction (None: it does not exist yet). ``amend`` is
    called with the column values just before they are written, so a redemption
    folds its final amounts and its ``redemptions`` entry into the one write.
    ``source_id_locked``: the caller holds the lock on the payload's ``source_id``
    (:func:`voucherd.store.db.serialise`), so no one else can insert it meanwhile.
    """
    if stored is _LOOK_UP:
        stored = existing_order(conn, project_id, payload)
    resolved = resolve_order(conn, project_id, payload, items=items, stored=stored)
    resolved.pop("existing")
    lines: list[dict[str, Any]] = resolved.pop("items")
    _apply_overrides(conn, project_id, lines, now)
    for item in lines:
        item.setdefault("id", new_id("ordli"))
    data: dict[str, Any] = dict(stored["data"]) if stored is not None else {"redemptions": {}}
    data.update(
        {k: v for k, v in resolved.items() if k not in ("status", "amount", "total_amount")}
    )
    data["items"] = lines
    customer_id = stored["customer_id"] if stored is not None else None
    if payload.get("customer"):
        customer_id = customers.upsert_customer(conn, project_id, payload["customer"], now)["id"]
    elif payload.get("customer_id"):
        customer_id = payload["customer_id"]
    if payload.get("referrer"):
        data["referrer_id"] = customers.upsert_customer(conn, project_id, payload["referrer"], now)[
            "id"
        ]
    elif payload.get("referrer_id"):
        data["referrer_id"] = payload["referrer_id"]
    values = {
        "status": resolved["status"],
        "customer_id": customer_id,
        "amount": resolved["amount"],
        "total_amount": resolved["total_amount"],
        "data": data,
    }
    if stored is not None:
        values["updated_at"] = now
        if amend is not None:
            amend(values)
        _write(conn, project_id, stored["id"], values)
        return {**stored, **values}
    created_at = payload.get("created_at")
    row = {
        "id": new_id("ord"),
        "project_id": project_id,
        # "" reads as no source_id, as the upsert lookup reads it; storing it made a        # second "" a unique-index clash (500) that the fuzzer found.
        "source_id": payload.get("source_id") or None,
        "created_at": parse_datetime(created_at, "created_at") if created_at else now,
        "updated_at": None,
        **values,
    }
    if amend is not None:
        amend(row)
    if not row["source_id"] or source_id_locked or conn.dialect.name == "sqlite":
        # SQLite runs one write transaction at a time and this one already missed the
        # source_id, so no other can have inserted it since: no savepoint needed (nor
        # when the caller holds the source_id's lock).
        conn.execute(_INSERT, row)
        return row
    # Race guard: two PostgreSQL transactions may both miss this source_id; the
    # unique constraint stops the second, which then updates the first one's order.
    try:
        with conn.begin_nested():
            conn.execute(_INSERT, row)
    except IntegrityError:
        if find_order(conn, project_id, row["source_id"]) is None:
            raise
        return upsert_order(conn, project_id, payload, now, amend=amend)
    return row


def _with_entry(data: Mapping[str, Any], redemption_id: str, entry: Mapping[str, Any]) -> Order:
    """``data`` with ``entry`` added to, or merged into, its ``redemptions`` map."""
    out = dict(data)
    redemptions = dict(out.get("redemptions") or {})
    redemptions[redemption_id] = {**redemptions.get(redemption_id, {}), **entry}
    out["redemptions"] = redemptions
    return out


def record_order_redemption(
    conn: Connection,
    project_id: str,
    order_id: str,
    redemption_id: str,
    entry: Mapping[str, Any],
    now: dt.datetime,
    *,
    order: Order | None = None,
) -> Order:
    """Add or merge ``entry`` into the order's ``redemptions`` map (BEHAVIOR.md §5.2).

    Redemptions call it with the new entry; rollbacks with ``rollback_id``,
    ``rollback_date`` (and ``rollback_stacked``) for an existing key. ``order`` is
    the stored record when the caller just wrote it (else it is read); returns the
    record as updated.
    """
    if order is None:
        order = get_order(conn, project_id, order_id)
    data = _with_entry(order["data"], redemption_id, entry)
    _write(conn, project_id, order["id"], {"data": data, "updated_at": now})
    return {**order, "data": data, "updated_at": now}


def reset_order_discounts(
    conn: Connection,
    project_id: str,
    order_id: str,
    now: dt.datetime,
    *,
    status: str | None = None,
    order: Order | None = None,
    redemption: tuple[str, Mapping[str, Any]] | None = None,
) -> Order:
    """Clear every discount on a stored order (and optionally set its status).

    What a ``WITH_ORDER`` rollback does (BEHAVIOR.md §14): order and item discount
    fields go to 0, so ``total_amount`` = ``amount``; items, amounts and the
    ``redemptions`` map stay. ``order`` is the stored record when the caller has
    read it (else it is read); ``redemption`` = (redemption id, entry) is recorded
    in the map by the same write, as :func:`record_order_redemption` would.
    """
    if order is None:
        order = get_order(conn, project_id, order_id)
    data = dict(order["data"])
    items = []
    for item in data.get("items") or []:
        cleared = {k: v for k, v in item.items() if k not in ITEM_DISCOUNT_FIELDS}
        cleared.pop("subtotal_amount", None)
        items.append(cleared)
    base = {
        "amount": order["amount"],
        "initial_amount": data.get("initial_amount"),
        "items": items,
    }
    computed = compute_amounts(base)
    data.update({k: v for k, v in computed.items() if k not in ("amount", "total_amount")})
    if redemption is not None:
        data = _with_entry(data, *redemption)
    values = {
        "status": status or order["status"],
        "total_amount": computed["total_amount"],
        "data": data,
        "updated_at": now,
    }
    _write(conn, project_id, order["id"], values)
    return {**order, **values}


def render_order(order: Order) -> dict[str, Any]:
    """The wire order (``OrdersGetResponseBody``), ``redemptions`` map included."""
    data = order["data"]
    customer_id = order["customer_id"]
    referrer_id = data.get("referrer_id")
    return {
        "id": order["id"],
        "source_id": order["source_id"],
        "created_at": iso(order["created_at"]),
        "updated_at": iso(order["updated_at"]),
        "status": order["status"],
        "amount": order["amount"],
        "initial_amount": data.get("initial_amount"),
        "discount_amount": data.get("discount_amount", 0),
        "items_discount_amount": data.get("items_discount_amount", 0),
        "total_discount_amount": data.get("total_discount_amount", 0),
        "total_amount": order["total_amount"],
        "applied_discount_amount": data.get("applied_discount_amount", 0),
        "items_applied_discount_amount": data.get("items_applied_discount_amount", 0),
        "total_applied_discount_amount": data.get("total_applied_discount_amount", 0),
        "items": data.get("items") or [],
        "metadata": data.get("metadata") or {},
        "customer_id": customer_id,
        "customer": {"id": customer_id, "object": "customer"} if customer_id else None,
        "referrer_id": referrer_id,
        "referrer": {"id": referrer_id, "object": "customer"} if referrer_id else None,
        "redemptions": data.get("redemptions") or {},
        "object": "order",
    }


ORDER_FIELDS: dict[str, ColumnElement[Any]] = {
    "id": orders.c.id,
    "source_id": orders.c.source_id,
    "status": orders.c.status,
    "customer_id": orders.c.customer_id,
    "amount": orders.c.amount,
    "total_amount": orders.c.total_amount,
    "created_at": orders.c.created_at,
    "updated_at": orders.c.updated_at,
}
ORDER_ORDERS = {k: ORDER_FIELDS[k] for k in ("created_at", "updated_at")}


def list_orders(conn: Connection, project_id: str, query: ListQuery) -> tuple[list[Order], int]:
    """One page of orders, oldest first by default: (records, total)."""
    base = select(orders).where(
        orders.c.project_id == project_id,
        date_range_clause(query, orders.c.created_at, orders.c.updated_at),
    )
    clause = filter_clause(query, ORDER_FIELDS, metadata_resolver(orders.c.data))
    if clause is not None:
        base = base.where(clause)
    rows, total = page(conn, base, query, ordering(query, ORDER_ORDERS, "created_at", orders.c.id))
    return [_record(row) for row in rows], total
