"""The card ledger: one ``voucher_transactions`` row per balance change (BEHAVIOR.md §8, §9).

Every movement of a gift card's credits or a loyalty card's points writes one row
in the transaction that moves the counter, with the signed ``amount`` and the
``balance`` right after it, so a card's balance always equals its last row (and
its initial balance plus the sum of its amounts):

    CREDITS_ADDITION / CREDITS_REMOVAL   manual, :mod:`voucherd.store.balances`
    POINTS_ADDITION / POINTS_REMOVAL     manual, :mod:`voucherd.store.balances`
    CREDITS_REDEMPTION / POINTS_REDEMPTION   the redeem pipeline (stackable)
    CREDITS_REFUND / POINTS_REFUND           rollbacks

Rows of the pipeline and of rollbacks carry less in ``data`` than manual ones; the
renderer fills the gaps: ``total`` (lifetime credits or points at the time) is the
card's current total less the additions recorded after the row, and a refund's
``related_transaction_id`` is the redemption transaction of the same redemption.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from voucherd.store import ids
from voucherd.store import vouchers as voucher_store
from voucherd.store.errors import InvalidQueryParams
from voucherd.store.schema import voucher_transactions
from voucherd.store.wire import iso

GIFT_TYPES = {"CREDITS_REDEMPTION", "CREDITS_REFUND", "CREDITS_ADDITION", "CREDITS_REMOVAL"}
ADDITIONS = {"CREDITS_ADDITION", "POINTS_ADDITION"}
REFUND_OF = {"CREDITS_REFUND": "CREDITS_REDEMPTION", "POINTS_REFUND": "POINTS_REDEMPTION"}
ORDERS = ("id", "-id")

t = voucher_transactions.c


def record(
    conn: Connection,
    project_id: str,
    voucher_id: str,
    kind: str,
    amount: int,
    balance: int,
    *,
    data: dict[str, Any],
    now: dt.datetime,
    redemption_id: str | None = None,
) -> str:
    """Write one ledger row (call it in the transaction that moved the counter); its id."""
    transaction_id = ids.new_id("vtx")
    conn.execute(
        insert(voucher_transactions).values(
            id=transaction_id,
            project_id=project_id,
            voucher_id=voucher_id,
            type=kind,
            amount=amount,
            balance=balance,
            redemption_id=redemption_id,
            data=data,
            created_at=now,
        )
    )
    return transaction_id


def card_total(card: Row[Any]) -> int:
    """Lifetime credits (gift card) or points (loyalty card) of a voucher row."""
    if card.type == voucher_store.GIFT_VOUCHER:
        return int(card.gift_amount or 0)
    return int(card.loyalty_points or 0)


def list_transactions(
    conn: Connection,
    project_id: str,
    code_or_id: str,
    *,
    limit: int = 10,
    order: str | None = None,
    starting_after_id: str | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """One cursor page of a card's ledger: (items, has_more). Newest first by default.

    ``order`` is ``-id`` (default) or ``id``; ids are time-ordered, so this is the
    order the rows were written in. ``starting_after_id`` returns the rows after
    that one in the chosen order. Unknown voucher → ``NotFound("voucher")``.
    """
    card = voucher_store.get_voucher(conn, project_id, code_or_id)
    order = order or "-id"
    if order not in ORDERS:
        raise InvalidQueryParams("Query param order must be one of 'id' or '-id'")
    query = select(voucher_transactions).where(t.project_id == project_id, t.voucher_id == card.id)
    descending = order == "-id"
    if starting_after_id is not None:
        query = query.where(t.id < starting_after_id if descending else t.id > starting_after_id)
    query = query.order_by(t.id.desc() if descending else t.id.asc()).limit(limit + 1)
    rows = list(conn.execute(query).all())
    has_more = len(rows) > limit
    rows = rows[:limit]
    additions, originals = _context(conn, project_id, card, rows)
    return [_render(card, row, additions, originals) for row in rows], has_more


def _context(
    conn: Connection, project_id: str, card: Row[Any], rows: list[Row[Any]]
) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """The card's additions (id, amount) and the redemption transactions refunds point at."""
    additions = [
        (row.id, int(row.amount))
        for row in conn.execute(
            select(t.id, t.amount).where(
                t.project_id == project_id, t.voucher_id == card.id, t.type.in_(ADDITIONS)
            )
        )
    ]
    refunded = [row.redemption_id for row in rows if row.type in REFUND_OF and row.redemption_id]
    originals: dict[str, str] = {}
    if refunded:
        for row in conn.execute(
            select(t.id, t.redemption_id).where(
                t.project_id == project_id,
                t.voucher_id == card.id,
                t.type.in_(set(REFUND_OF.values())),
                t.redemption_id.in_(refunded),
            )
        ):
            originals[row.redemption_id] = row.id
    return additions, originals


def _render(
    card: Row[Any],
    row: Row[Any],
    additions: list[tuple[str, int]],
    originals: dict[str, str],
) -> dict[str, Any]:
    data: dict[str, Any] = row.data or {}
    gift = row.type in GIFT_TYPES
    total = data.get("total")
    if total is None:
        # Only additions move the lifetime total: undo the ones written after this row.
        total = card_total(card) - sum(amount for tx_id, amount in additions if tx_id > row.id)
    balance: dict[str, Any] = {
        "type": "gift_voucher" if gift else "loyalty_card",
        "total": int(total),
        "object": "balance",
        "balance": int(row.balance),
        "operation_type": data.get("operation_type") or "AUTOMATIC",
        "related_object": {"id": card.id, "type": "voucher"},
    }
    balance["amount" if gift else "points"] = int(row.amount)
    details: dict[str, Any] = {"balance": balance}
    if row.redemption_id:
        details["redemption"] = {"id": row.redemption_id}
    related = data.get("related_transaction_id")
    if related is None and row.type in REFUND_OF and row.redemption_id:
        related = originals.get(row.redemption_id)
    return {
        "id": row.id,
        "source_id": data.get("source_id"),
        "voucher_id": card.id,
        "campaign_id": card.campaign_id,
        "source": data.get("source"),
        "reason": data.get("reason"),
        "type": row.type,
        "details": details,
        "related_transaction_id": related,
        "created_at": iso(row.created_at),
    }
