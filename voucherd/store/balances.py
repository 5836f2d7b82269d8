"""Manual balance changes of gift cards and loyalty cards (BEHAVIOR.md §8, §9).

``POST /v1/vouchers/{code}/balance`` and the loyalty member balance endpoints add
or remove credits or points. An addition raises the lifetime total (``gift_amount``
or ``loyalty_points``); a removal raises the subtracted counter
(``gift_subtracted_amount`` or ``loyalty_subtracted_points``) and is refused when
it would take the balance below zero. Both are one guarded ``UPDATE ... RETURNING``
— never read-then-write — and write their ledger row in the same transaction.

A loyalty card must have a holder first; any refusal is 400
``invalid_add_balance_params`` (BEHAVIOR.md §9 suggestion, docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from voucherd.store import transactions
from voucherd.store import vouchers as voucher_store
from voucherd.store.errors import BusinessRuleViolation
from voucherd.store.schema import vouchers
from voucherd.store.wire import iso

v = vouchers.c
GIFT_BALANCE = func.coalesce(v.gift_amount, 0) - v.gift_subtracted_amount - v.redeemed_amount
# Expired points are not modelled (no expiration job), so they are always 0.
POINTS_BALANCE = (
    func.coalesce(v.loyalty_points, 0) - v.loyalty_subtracted_points - v.redeemed_points
)


@dataclass(frozen=True)
class BalanceChange:
    """What one manual change asks for (``amount`` is credits or points, signed)."""

    amount: int
    reason: str | None = None
    source_id: str | None = None
    expiration_type: str | None = None
    expiration_date: dt.datetime | None = None


@dataclass(frozen=True)
class BalanceResult:
    """The card after the change and the ledger row written for it."""

    card: Row[Any]
    amount: int
    total: int
    balance: int
    transaction_id: str

    @property
    def balance_type(self) -> str:
        """``gift_voucher`` or ``loyalty_card`` (the wire ``type``)."""
        return "gift_voucher" if self.card.type == voucher_store.GIFT_VOUCHER else "loyalty_card"

    def as_wire(self, amount_field: str = "amount") -> dict[str, Any]:
        """The ``balance`` object; ``amount_field`` is ``points`` for the loyalty endpoints."""
        return {
            amount_field: self.amount,
            "total": self.total,
            "balance": self.balance,
            "type": self.balance_type,
            "operation_type": "MANUAL",
            "object": "balance",
            "related_object": {"type": "voucher", "id": self.card.id},
        }


def invalid(details: str) -> BusinessRuleViolation:
    """The 400 every refused balance change answers with."""
    return BusinessRuleViolation(
        "invalid_add_balance_params", "Invalid add balance params", details
    )


def update_balance(
    conn: Connection,
    project_id: str,
    code_or_id: str,
    change: BalanceChange,
    *,
    now: dt.datetime,
    loyalty_only: bool = False,
) -> BalanceResult:
    """Add (``amount`` > 0) or remove (< 0) credits on a gift card or points on a loyalty card.

    Refused with 400 ``invalid_add_balance_params``: a zero amount, a discount
    voucher (or, with ``loyalty_only``, a gift card), a loyalty card with no
    holder, a removal larger than the balance (the card is left unchanged).
    Unknown card → 404 ``voucher``.
    """
    card = voucher_store.get_voucher(conn, project_id, code_or_id)
    if change.amount == 0:
        raise invalid("The amount must not be 0")
    if card.type == voucher_store.GIFT_VOUCHER and not loyalty_only:
        return _move(conn, project_id, card, change, now=now, gift=True)
    if card.type == voucher_store.LOYALTY_CARD:
        if card.holder_id is None:
            raise invalid(
                f"Loyalty card {card.code} has no holder: "
                "for loyalty cards, it must be assigned to a holder"
            )
        if change.expiration_type == "CUSTOM_DATE" and change.expiration_date is None:
            raise invalid("expiration_date is required when expiration_type is CUSTOM_DATE")
        return _move(conn, project_id, card, change, now=now, gift=False)
    kind = "a loyalty card" if loyalty_only else "a gift card or a loyalty card"
    raise invalid(f"Voucher {card.code} is not {kind}")


def _move(
    conn: Connection,
    project_id: str,
    card: Row[Any],
    change: BalanceChange,
    *,
    now: dt.datetime,
    gift: bool,
) -> BalanceResult:
    total_column = v.gift_amount if gift else v.loyalty_points
    subtracted_column = v.gift_subtracted_amount if gift else v.loyalty_subtracted_points
    balance = GIFT_BALANCE if gift else POINTS_BALANCE
    statement = update(vouchers).where(
        v.project_id == project_id, v.id == card.id, v.deleted_at.is_(None)
    )
    if change.amount > 0:
        statement = statement.values(
            {total_column: func.coalesce(total_column, 0) + change.amount, v.updated_at: now}
        )
    else:
        # The guard is the whole concurrency story: two removals racing for the
        # same credits cannot both pass it (row lock on PostgreSQL, one writer on SQLite).
        statement = statement.where(balance >= -change.amount).values(
            {subtracted_column: subtracted_column - change.amount, v.updated_at: now}
        )
    after = conn.execute(
        statement.returning(func.coalesce(total_column, 0).label("total"), balance.label("balance"))
    ).first()
    if after is None:
        current = conn.execute(
            select(balance).where(v.project_id == project_id, v.id == card.id)
        ).scalar_one()
        unit = "credits" if gift else "points"
        raise invalid(
            f"Cannot remove {-change.amount} {unit} from {card.code}: its balance is {current}"
        )
    total, new_balance = int(after.total), int(after.balance)
    if gift:
        kind = "CREDITS_ADDITION" if change.amount > 0 else "CREDITS_REMOVAL"
    else:
        kind = "POINTS_ADDITION" if change.amount > 0 else "POINTS_REMOVAL"
    data: dict[str, Any] = {
        "reason": change.reason,
        "source_id": change.source_id,
        "source": "API",
        "operation_type": "MANUAL",
        "total": total,
        "related_transaction_id": None,
    }
    if not gift and change.amount > 0:
        data["expiration_type"] = change.expiration_type
        data["expiration_date"] = iso(change.expiration_date)
    transaction_id = transactions.record(
        conn, project_id, card.id, kind, change.amount, new_balance, data=data, now=now
    )
    return BalanceResult(
        card=voucher_store.get_voucher(conn, project_id, card.id),
        amount=change.amount,
        total=total,
        balance=new_balance,
        transaction_id=transaction_id,
    )
