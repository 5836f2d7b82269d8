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

from sqlalchemy import ColumnElement, Connection, func, or_, select

from voucherd.store import customers
from voucherd.store.errors import InvalidQueryParams, NotFound
from voucherd.store.jsonpaths import json_text
from voucherd.store.listing import ListQuery, date_range_clause, filter_clause, nothing, ordering
from voucherd.store.schema import campaigns, redemptions, vouchers

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


def find_redemption(conn: Connection, project_id: str, redemption_id: str) -> dict[str, Any] | None:
    """The wire representation of a redemption or rollback, or None."""
    row = conn.execute(
        select(r.data).where(r.project_id == project_id, r.id == redemption_id)
    ).first()
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
    rows = conn.execute(
        select(r.id, r.data).where(r.project_id == project_id, r.id.in_(record_ids))
    )
    by_id = {row.id: dict(row.data) for row in rows}
    return [by_id[i] for i in record_ids if i in by_id]


def _shortcuts(conn: Connection, project_id: str, query: ListQuery) -> list[ColumnElement[bool]]:
    """``result`` (repeatable), ``campaign`` (name) and ``customer`` (id or source_id)."""
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
        found = customers.find_customer(conn, project_id, customer)
        # An unknown customer lists nothing (not a 404: the SDK docs say "empty").
        clauses.append(r.customer_id == found["id"] if found is not None else nothing())
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
    where: list[ColumnElement[bool]] = [
        r.project_id == project_id,
        date_range_clause(query, r.date),
        *_shortcuts(conn, project_id, query),
    ]
    clause = filter_clause(query, REDEMPTION_FIELDS)
    if clause is not None:
        where.append(clause)
    order_by = ordering(query, REDEMPTION_ORDERS, "-created_at", r.id)
    ids = [
        row.id
        for row in conn.execute(
            select(r.id).where(*where).order_by(*order_by).limit(query.limit).offset(query.offset)
        )
    ]
    total = int(
        conn.execute(select(func.count()).select_from(redemptions).where(*where)).scalar_one()
    )
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
    voucher = conn.execute(
        select(vouchers.c.id, vouchers.c.code, vouchers.c.quantity, vouchers.c.redeemed_quantity)
        .where(
            vouchers.c.project_id == project_id,
            vouchers.c.deleted_at.is_(None),
            or_(vouchers.c.code == code_or_id, vouchers.c.id == code_or_id),
        )
        .order_by((vouchers.c.code == code_or_id).desc())
    ).first()
    if voucher is None:
        raise NotFound("voucher", code_or_id)
    where = [r.project_id == project_id, r.voucher_id == voucher.id]
    ids_query = select(r.id).where(*where).order_by(r.date.desc(), r.id.desc())
    if limit is not None:
        ids_query = ids_query.limit(limit).offset(offset)
    ids = [row.id for row in conn.execute(ids_query)]
    total = int(
        conn.execute(select(func.count()).select_from(redemptions).where(*where)).scalar_one()
    )
    return {
        "quantity": voucher.quantity,
        "redeemed_quantity": int(voucher.redeemed_quantity),
        "object": "list",
        "url": f"/v1/vouchers/{voucher.code}/redemption?page=1&limit=10",
        "data_ref": "redemption_entries",
        "total": total,
        "redemption_entries": _documents(conn, project_id, ids),
    }
