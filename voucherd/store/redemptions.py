"""Redemptions and rollbacks: reading the stored records (BEHAVIOR.md §4, §5.4).

Every record of the ``redemptions`` table (``r_``, ``rf_``, ``rr_``, ``rrf_``;
parents and children) keeps its wire object in ``data``; the columns exist for
lookups, filters and sorting. Lists page in two steps: the ids of one page come
from an index-only scan (``project_id`` + filter column + ``date`` + ``id``), then
the documents of just those ids are read, so a deep page never loads the rows it
skips.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, func, or_, select

from voucherd.store import vouchers as vouchers_store
from voucherd.store.direct import hot
from voucherd.store.errors import InvalidQueryParams, NotFound
from voucherd.store.jsonpaths import json_text
from voucherd.store.listing import (
    ListQuery,
    by_id_or_source_id,
    date_range_clause,
    filter_clause,
    in_project_by_ids,
    ordering,
    total_from_page,
)
from voucherd.store.schema import campaigns, customers, redemptions

RESULTS = ("SUCCESS", "FAILURE")

r = redemptions.c

# Public ``filters`` fields (BEHAVIOR.md §4.1) → columns.
REDEMPTION_FIELDS: dict[str, ColumnElement[Any]] = {
    "id": r.id,
    "voucher_code": r.voucher_code,
    "related_object_id": r.related_object_id,
    "related_object_type": r.related_object_type,
    "related_object_parent_id": r.campaign_id,
    "campaign_id": r.campaign_id,
    "parent_redemption_id": r.parent_id,
    "failure_code": r.failure_code,
    "result": r.result,
    "status": r.status,
    "object": r.object,
    "customer_id": r.customer_id,
    "campaign_name": r.campaign_name,
    "tracking_id": r.tracking_id,
    "created_at": r.date,
    "date": r.date,
    # Dashboard users only: API callers have no login, so this is NULL for them.
    "user_login": json_text(r.data, "channel", "user_login"),
}
REDEMPTION_ORDERS: dict[str, ColumnElement[Any]] = {
    "created_at": r.date,
    "id": r.id,
    "voucher_code": r.voucher_code,
    "tracking_id": r.tracking_id,
    "customer_id": r.customer_id,
}


# Statements and clauses built once, executed with a params dict.
_IN_PROJECT = r.project_id == bindparam("project_id")
_DATA = hot(select(r.data).where(_IN_PROJECT, r.id == bindparam("id")))
_DOCUMENTS = hot(
    select(r.id, r.data).where(
        in_project_by_ids(redemptions), r.id.in_(bindparam("ids", expanding=True))
    )
)
_PAGE_IDS = hot(select(r.id))
_COUNT = hot(select(func.count()).select_from(redemptions))
_OF_VOUCHER = (_IN_PROJECT, r.voucher_id == bindparam("voucher_id"))
_HISTORY_IDS = hot(select(r.id).where(*_OF_VOUCHER).order_by(r.date.desc(), r.id.desc()))
_HISTORY_PAGE = hot(_HISTORY_IDS.limit(bindparam("limit")).offset(bindparam("offset")))
_HISTORY_COUNT = hot(_COUNT.where(*_OF_VOUCHER))
# ``customer``: the id of the customer with this id, else this source_id (as
# customers.find_customer finds it), inside the listing's own statements; NULL when
# there is none, so an unknown customer lists nothing.
_CUSTOMER_ID = (
    by_id_or_source_id(customers).with_only_columns(customers.c.id).limit(1).scalar_subquery()
)


def find_redemption(conn: Connection, project_id: str, redemption_id: str) -> dict[str, Any] | None:
    """The wire representation of a redemption or rollback, or None."""
    row = conn.execute(_DATA, {"project_id": project_id, "id": redemption_id}).first()
    return None if row is None else dict(row.data)


def get_redemption(conn: Connection, project_id: str, redemption_id: str) -> dict[str, Any]:
    """Like :func:`find_redemption`, raising NotFound."""
    found = find_redemption(conn, project_id, redemption_id)
    if found is None:
        resource_type = "redemption_rollback" if redemption_id.startswith("rr") else "redemption"
        raise NotFound(resource_type, redemption_id)
    return found


def _documents(conn: Connection, project_id: str, record_ids: list[str]) -> list[dict[str, Any]]:
    """The wire objects of ``record_ids``, in that order."""
    if not record_ids:
        return []
    rows = conn.execute(_DOCUMENTS, {"project_id": project_id, "ids": record_ids})
    by_id = {row.id: dict(row.data) for row in rows}
    return [by_id[i] for i in record_ids if i in by_id]


def _shortcuts(
    project_id: str, query: ListQuery, params: dict[str, Any]
) -> list[ColumnElement[bool]]:
    """``result`` (repeatable), ``campaign`` (name) and ``customer`` (id or source_id).

    Adds the parameters the clauses bind to ``params``.
    """
    clauses: list[ColumnElement[bool]] = []
    results = [v for v in query.params.get("result", ()) if v]
    if results:
        unknown = sorted(set(results) - set(RESULTS))
        if unknown:
            raise InvalidQueryParams(f"Query param result must be one of {', '.join(RESULTS)}")
        clauses.append(r.result.in_(results))
    campaign = query.param("campaign")
    if campaign is not None:
        named = select(campaigns.c.id).where(
            campaigns.c.project_id == project_id, campaigns.c.name == campaign
        )
        # The name stored with the record covers campaigns renamed or deleted since.
        clauses.append(or_(r.campaign_id.in_(named.scalar_subquery()), r.campaign_name == campaign))
    customer = query.param("customer")
    if customer is not None:
        # An unknown customer lists nothing (not a 404: the SDK docs say "empty").
        params["ident"] = customer
        clauses.append(r.customer_id == _CUSTOMER_ID)
    return clauses


def list_redemptions(
    conn: Connection, project_id: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """One page of redemptions and rollbacks, newest first by default: (objects, total).

    Shortcuts: ``result`` (SUCCESS/FAILURE, repeatable), ``campaign`` (name),
    ``customer`` (id or source_id; unknown → empty). ``filters`` on the fields of
    :data:`REDEMPTION_FIELDS`; ``created_at[before|after]`` bound ``date`` strictly.
    Ties on the sort key break on ``id`` so pages never overlap.
    """
    params: dict[str, Any] = {"project_id": project_id}
    where: list[ColumnElement[bool]] = [
        _IN_PROJECT,
        date_range_clause(query, r.date),
        *_shortcuts(project_id, query, params),
    ]
    clause = filter_clause(query, REDEMPTION_FIELDS)
    if clause is not None:
        where.append(clause)
    order_by = ordering(query, REDEMPTION_ORDERS, "-created_at", r.id)
    page = _PAGE_IDS.where(*where).order_by(*order_by).limit(query.limit).offset(query.offset)
    ids = [row.id for row in conn.execute(page, params)]
    total = total_from_page(len(ids), query.limit, query.offset)
    if total is None:
        total = int(conn.execute(_COUNT.where(*where), params).scalar_one())
    return _documents(conn, project_id, ids), total


def voucher_history(
    conn: Connection,
    project_id: str,
    code_or_id: str,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """``GET /v1/vouchers/{code}/redemption``: the voucher's counters and its entries.

    Entries are every record about the voucher (successful and failed redemptions,
    rollbacks and failed rollbacks), newest first; ``total`` counts them all and
    ``redeemed_quantity`` is the voucher's counter (net of rollbacks). Without
    ``limit`` every entry is returned. A deleted voucher is 404.
    """
    voucher = vouchers_store.find_voucher(conn, project_id, code_or_id)
    if voucher is None:
        raise NotFound("voucher", code_or_id)
    params = {"project_id": project_id, "voucher_id": voucher.id}
    if limit is None:
        ids = [row.id for row in conn.execute(_HISTORY_IDS, params)]
        total: int | None = len(ids)
    else:
        paged = {**params, "limit": limit, "offset": offset}
        ids = [row.id for row in conn.execute(_HISTORY_PAGE, paged)]
        total = total_from_page(len(ids), limit, offset)
    if total is None:
        total = int(conn.execute(_HISTORY_COUNT, params).scalar_one())
    return {
        "quantity": voucher.quantity,
        "redeemed_quantity": int(voucher.redeemed_quantity),
        "object": "list",
        "url": f"/v1/vouchers/{voucher.code}/redemption?page=1&limit=10",
        "data_ref": "redemption_entries",
        "total": total,
        "redemption_entries": _documents(conn, project_id, ids),
    }
