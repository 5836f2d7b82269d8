"""Rolling back redemptions (BEHAVIOR.md §5.2, §5.3, §14).

``rollback`` undoes one parentless redemption (``POST /v1/redemptions/{id}/rollback``)
or a whole stack (``POST /v1/redemptions/{parentId}/rollbacks``) in one write
transaction, returning exactly what was consumed: one unit of ``redeemed_quantity``
per voucher or tier, the gift credits (``CREDITS_REFUND``) and loyalty points
(``POINTS_REFUND``) of card redemptions. With ``WITH_ORDER`` (the default
``redeemables_rollback_order_mode``) the order is ``CANCELED`` and its discounts
cleared; ``WITHOUT_ORDER`` leaves its status and amounts alone. Either way the
order's ``redemptions`` map entry records the rollback.

Refusals, and what they leave behind:

    404 not_found                  unknown redemption, unknown customer ``id``: nothing
    400 invalid_redemption         parent on /rollback, a rollback id, a failed
                                   redemption: nothing
    400 invalid_redemption_parent  a child of a stack: nothing
    400 already_rolled_back        ┐
    400 invalid_rollback_params    │ older than 3 months       one ``rrf_`` failed
    400 invalid_customer           │ customer ≠ redemption's   rollback record, and
    400 invalid_order              ┘ order ≠ redemption's      nothing else

Concurrency: the winner is decided by one guarded UPDATE of the redemption's
``status`` (``WHERE status = 'SUCCEEDED'``, writing its ROLLED_BACK wire object
too) *before* anything else is written. On PostgreSQL a concurrent second
rollback blocks on that row until the first commits, then matches no row and
records its ``rrf_``; SQLite's BEGIN IMMEDIATE serialises them outright.
Locks are then taken in the order redeem takes them — customer, vouchers
(``FOR UPDATE``, id order), order — so a rollback racing redemptions of the
same cards can wait but never deadlock.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.sql.dml import ReturningUpdate

from voucherd.store import customers, ids, orders, promotion_tiers, stacking_rules
from voucherd.store import vouchers as voucher_store
from voucherd.store.db import Database
from voucherd.store.direct import hot
from voucherd.store.errors import BusinessRuleViolation, NotFound
from voucherd.store.schema import orders as orders_table
from voucherd.store.schema import promotion_tiers as tiers_table
from voucherd.store.schema import redemptions, voucher_transactions, vouchers
from voucherd.store.stackable import Answer, Caller, IdempotentRequest, answer_idempotently
from voucherd.store.wire import iso

# Successful redemptions can be rolled back this many calendar months after their date.
ROLLBACK_WINDOW_MONTHS = 3

r = redemptions.c
v = vouchers.c
pt = tiers_table.c
o = orders_table.c

# The statements every rollback runs, built once and executed with a params dict
# (UPDATE parameters carry a ``b_`` prefix: SET reserves the column names).
_IN_PROJECT = r.project_id == bindparam("project_id")
_REDEMPTION = hot(select(redemptions).where(_IN_PROJECT, r.id == bindparam("id")))
_CHILDREN = hot(
    select(redemptions)
    .where(_IN_PROJECT, r.parent_id == bindparam("parent_id"), r.object == "redemption")
    .order_by(r.id)
)
# Race guard: of concurrent rollbacks exactly one matches the SUCCEEDED row; on
# PostgreSQL the others wait for its commit and then match nothing.
_CLAIM = hot(
    update(redemptions)
    .where(
        r.project_id == bindparam("b_project_id"),
        r.id == bindparam("b_id"),
        r.status == "SUCCEEDED",
    )
    .values(status="ROLLED_BACK", data=bindparam("b_data"))
)
_LOCK_CARDS = hot(
    select(v.id)
    .where(v.project_id == bindparam("project_id"), v.id.in_(bindparam("ids", expanding=True)))
    .order_by(v.id)
    .with_for_update()
)


def _restore(table: Table, *guards: ColumnElement[bool], **values: Any) -> ReturningUpdate[Any]:
    """Give one row one unit back (and ``values``), returning the row as it is then.

    Guards: counters never go below zero (they only fire on a bug).
    """
    c = table.c
    return (
        update(table)
        .where(
            c.project_id == bindparam("b_project_id"),
            c.id == bindparam("b_id"),
            c.redeemed_quantity >= 1,
            *guards,
        )
        .values(redeemed_quantity=c.redeemed_quantity - 1, **values)
        .returning(*c)
    )


_credits: BindParameter[int] = bindparam("b_credits")
_points: BindParameter[int] = bindparam("b_points")
_RESTORE_VOUCHER = hot(
    _restore(
        vouchers,
        v.redeemed_amount >= _credits,
        v.redeemed_points >= _points,
        redeemed_amount=v.redeemed_amount - _credits,
        redeemed_points=v.redeemed_points - _points,
        updated_at=bindparam("b_now"),
    )
)
_RESTORE_TIER = hot(_restore(tiers_table))
_LOCK_ORDER = hot(
    select(orders_table)
    .where(o.project_id == bindparam("project_id"), o.id == bindparam("id"))
    .with_for_update()
)
_INSERT_RECORD = hot(insert(redemptions))
_INSERT_LEDGER = hot(insert(voucher_transactions))


@dataclass(frozen=True)
class RollbackRequest:
    """What the caller sent: query parameters win over the same body fields."""

    reason: str | None = None
    tracking_id: str | None = None
    customer: Mapping[str, Any] | None = None
    order: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


class RollbackFailed(BusinessRuleViolation):
    """A refused rollback that left an ``rrf_`` record (its id is ``resource_id``)."""


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """``when`` plus calendar months, clamped to the month's end (Nov 30 + 3 → Feb 28)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def rollback(
    db: Database,
    caller: Caller,
    redemption_id: str,
    request: RollbackRequest,
    now: dt.datetime,
    *,
    stacked: bool,
    idempotent: IdempotentRequest | None = None,
) -> Answer:
    """Roll back ``redemption_id`` (``stacked`` = the ``/rollbacks`` endpoint).

    Returns the 200 body (the rollback object, or ``{rollbacks, parent_rollback,
    order}`` when ``stacked``), or an Answer carrying the 400 after its ``rrf_``
    record was committed. Structural refusals and 404s are raised (nothing stored).
    """
    with db.write() as conn:
        return answer_idempotently(
            conn,
            caller,
            idempotent,
            now,
            lambda: _Rollback(conn, caller, request, now).run(redemption_id, stacked=stacked),
        )


def _refuse(key: str, message: str, details: str, redemption_id: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        key, message, details, resource_id=redemption_id, resource_type="redemption"
    )


class _Rollback:
    """The state of one rollback request."""

    def __init__(
        self, conn: Connection, caller: Caller, request: RollbackRequest, now: dt.datetime
    ) -> None:
        self.conn = conn
        self.caller = caller
        self.project_id = caller.project_id
        self.request = request
        self.now = now
        self.channel = {"channel_id": caller.channel_id, "channel_type": caller.channel_type}
        # Read once per request: customers by id, vouchers and tiers as restored.
        self.customers: dict[str, dict[str, Any] | None] = {}
        self.restored: dict[str, Row[Any]] = {}

    # -- checks ----------------------------------------------------------------------

    def target(self, redemption_id: str, *, stacked: bool) -> Row[Any]:
        """The redemption to undo, after the structural checks (raised, nothing stored)."""
        row = self.conn.execute(
            _REDEMPTION, {"project_id": self.project_id, "id": redemption_id}
        ).first()
        if row is None:
            raise NotFound("redemption", redemption_id)
        if row.object != "redemption":
            raise _refuse(
                "invalid_redemption",
                "Invalid redemption",
                f"{redemption_id} is a rollback; only redemptions can be rolled back",
                redemption_id,
            )
        if row.result != "SUCCESS":
            raise _refuse(
                "invalid_redemption",
                "Invalid redemption",
                f"Redemption {redemption_id} failed; there is nothing to roll back",
                redemption_id,
            )
        if row.parent_id is not None:
            raise _refuse(
                "invalid_redemption_parent",
                "Invalid redemption parent",
                f"Redemption {redemption_id} is part of the stacked redemption {row.parent_id}; "
                f"roll back the parent with POST /v1/redemptions/{row.parent_id}/rollbacks",
                redemption_id,
            )
        if not stacked and row.related_object_type == "redemption":
            raise _refuse(
                "invalid_redemption",
                "Invalid redemption",
                f"Redemption {redemption_id} is a stacked (parent) redemption; "
                f"use POST /v1/redemptions/{redemption_id}/rollbacks",
                redemption_id,
            )
        return row

    def refusal(self, row: Row[Any]) -> tuple[str, str, str] | None:
        """The business rule the request breaks, as (key, message, details), or None.

        Raises NotFound for a customer ``id`` that does not exist (nothing stored).
        """
        if row.status == "ROLLED_BACK":
            return (
                "already_rolled_back",
                "Already rolled back",
                f"Redemption {row.id} has already been rolled back",
            )
        deadline = add_months(row.date, ROLLBACK_WINDOW_MONTHS)
        if self.now >= deadline:
            return (
                "invalid_rollback_params",
                "Invalid rollback params",
                f"Redemption {row.id} is older than {ROLLBACK_WINDOW_MONTHS} months "
                f"(it could be rolled back until {iso(deadline)})",
            )
        customer = self.request.customer
        if customer:
            found = None
            if customer.get("id"):
                found = customers.find_customer(self.conn, self.project_id, customer["id"])
                if found is None or found["id"] != customer["id"]:
                    # A customer id must exist (BEHAVIOR.md §15); no rrf_ for a 404.
                    raise NotFound("customer", customer["id"])
            elif customer.get("source_id"):
                found = customers.find_customer(self.conn, self.project_id, customer["source_id"])
            if found is None or found["id"] != row.customer_id:
                named = customer.get("id") or customer.get("source_id")
                return (
                    "invalid_customer",
                    "Invalid customer",
                    f"Customer {named} is not the customer of redemption {row.id}",
                )
        order = self.request.order
        if order and (order.get("id") or order.get("source_id")):
            named = order.get("id") or order.get("source_id")
            stored = orders.find_order(self.conn, self.project_id, str(named))
            if stored is None or stored["id"] != row.order_id:
                return (
                    "invalid_order",
                    "Invalid order",
                    f"Order {named} is not the order of redemption {row.id}",
                )
        return None

    def failed(self, row: Row[Any], key: str, message: str, details: str) -> Answer:
        """Store the ``rrf_`` record of a refused rollback and answer with its envelope."""
        record_id = ids.new_id("rrf")
        original = dict(row.data)
        wire = {
            **self.base_wire(record_id, row),
            "amount": None,
            "result": "FAILURE",
            "status": "FAILED",
            "failure_code": key,
            "failure_message": message,
            "order": None,
            "voucher": original.get("voucher"),
            "promotion_tier": original.get("promotion_tier"),
        }
        self.conn.execute(
            _INSERT_RECORD,
            self.record(
                row,
                record_id,
                wire,
                result="FAILURE",
                status="FAILED",
                failure_code=key,
                amount=None,
            ),
        )
        error = RollbackFailed(
            key,
            message,
            details,
            resource_id=record_id,
            resource_type="redemption_rollback",
        )
        return Answer(400, error=error)

    # -- records ---------------------------------------------------------------------

    def tracking_id(self, row: Row[Any]) -> str | None:
        return self.request.tracking_id or row.tracking_id

    def simple_customer(self, customer_id: str | None) -> dict[str, Any] | None:
        if customer_id is None:
            return None
        if customer_id not in self.customers:
            self.customers[customer_id] = customers.find_customer(
                self.conn, self.project_id, customer_id
            )
        found = self.customers[customer_id]
        if found is None:
            return None
        return {
            "id": found["id"],
            "name": found["data"].get("name"),
            "email": found["data"].get("email"),
            "source_id": found["source_id"],
            "metadata": dict(found["data"].get("metadata") or {}),
            "object": "customer",
        }

    def base_wire(self, record_id: str, row: Row[Any]) -> dict[str, Any]:
        """The fields every rollback record (``rr_``/``rrf_``) shares."""
        return {
            "id": record_id,
            "object": "redemption_rollback",
            "date": iso(self.now),
            "customer_id": row.customer_id,
            "tracking_id": self.tracking_id(row),
            "metadata": dict(self.request.metadata),
            "redemption": row.id,
            "reason": self.request.reason,
            "channel": self.channel,
            "customer": self.simple_customer(row.customer_id),
            "related_object_type": row.related_object_type,
            "related_object_id": row.related_object_id,
        }

    def record(
        self,
        row: Row[Any],
        record_id: str,
        wire: dict[str, Any],
        *,
        result: str,
        status: str,
        amount: int | None,
        failure_code: str | None = None,
        parent_id: str | None = None,
        related_object_id: str | None = None,
    ) -> dict[str, Any]:
        """The ``redemptions`` row of a rollback record (for :data:`_INSERT_RECORD`)."""
        return {
            "id": record_id,
            "project_id": self.project_id,
            "object": "redemption_rollback",
            "date": self.now,
            "result": result,
            "status": status,
            "parent_id": parent_id,
            "redemption_id": row.id,
            "related_object_type": row.related_object_type,
            "related_object_id": related_object_id or row.related_object_id,
            "voucher_id": row.voucher_id,
            "voucher_code": row.voucher_code,
            "promotion_tier_id": row.promotion_tier_id,
            "campaign_id": row.campaign_id,
            "campaign_name": row.campaign_name,
            "customer_id": row.customer_id,
            "order_id": row.order_id,
            "tracking_id": self.tracking_id(row),
            "failure_code": failure_code,
            "amount": amount,
            "data": wire,
        }

    def rolled_back(self, row: Row[Any], rollback_id: str, mode: str) -> dict[str, Any]:
        """The original's wire object: ROLLED_BACK, with the rollback linked.

        Written by the claim itself, so only its winner stores it, holding the row
        (PostgreSQL row lock, SQLite database lock): read-modify-write is safe.
        """
        data = dict(row.data)
        related = dict(data.get("related_redemptions") or {})
        related["rollbacks"] = [
            *(related.get("rollbacks") or []),
            {"id": rollback_id, "date": iso(self.now), "rollback_order_mode": mode},
        ]
        related.setdefault("redemptions", [])
        data["related_redemptions"] = related
        data["status"] = "ROLLED_BACK"
        return data

    # -- undoing ---------------------------------------------------------------------

    def claim(self, rows: list[Row[Any]], rollback_ids: dict[str, str], mode: str) -> bool:
        """Move every row SUCCEEDED → ROLLED_BACK; False when one was not SUCCEEDED."""
        params = [
            {
                "b_project_id": self.project_id,
                "b_id": row.id,
                "b_data": self.rolled_back(row, rollback_ids[row.id], mode),
            }
            for row in rows
        ]
        if not params:
            return True
        return self.conn.execute(_CLAIM, params).rowcount == len(params)

    def restore(self, row: Row[Any]) -> tuple[int, int]:
        """Give back what ``row`` consumed; returns (credits, points) returned."""
        original = dict(row.data)
        credits = int((original.get("gift") or {}).get("amount") or 0)
        points = int((original.get("loyalty_card") or {}).get("points") or 0)
        if row.voucher_id is not None:
            card = self.conn.execute(
                _RESTORE_VOUCHER,
                {
                    "b_project_id": self.project_id,
                    "b_id": row.voucher_id,
                    "b_credits": credits,
                    "b_points": points,
                    "b_now": self.now,
                },
            ).first()
            if card is None:
                raise RuntimeError(f"guarded update refused for voucher {row.voucher_id}")
            self.restored[card.id] = card
            self.ledger(row, card, credits, points)
        elif row.promotion_tier_id is not None:
            tier = self.conn.execute(
                _RESTORE_TIER, {"b_project_id": self.project_id, "b_id": row.promotion_tier_id}
            ).first()
            if tier is None:
                raise RuntimeError(f"guarded update refused for tier {row.promotion_tier_id}")
            self.restored[tier.id] = tier
        return credits, points

    def ledger(self, row: Row[Any], card: Row[Any], credits: int, points: int) -> None:
        """The CREDITS_REFUND / POINTS_REFUND transaction, with the balance after it."""
        if not (credits or points):
            return
        if credits:
            kind, amount = "CREDITS_REFUND", credits
            balance = voucher_store.gift_balance(card)
        else:
            kind, amount = "POINTS_REFUND", points
            balance = voucher_store.loyalty_balance(card)
        self.conn.execute(
            _INSERT_LEDGER,
            {
                "id": ids.new_id("vtx"),
                "project_id": self.project_id,
                "voucher_id": card.id,
                "type": kind,
                "amount": amount,
                "balance": balance,
                "redemption_id": row.id,
                "data": {"reason": self.request.reason, "source_id": None},
                "created_at": self.now,
            },
        )

    def related_view(self, row: Row[Any]) -> dict[str, Any]:
        """The voucher / tier as it is after the rollback (every restore has run)."""
        if row.voucher_id is not None:
            voucher = self.restored[row.voucher_id]
            view = voucher_store.voucher_json(
                self.conn, self.project_id, voucher, with_assignments=False
            )
            return {"voucher": view, "promotion_tier": None}
        if row.promotion_tier_id is not None:
            tier = self.restored.get(row.promotion_tier_id)
            if tier is not None:
                view = promotion_tiers.tier_json(self.conn, self.project_id, tier)
                return {"voucher": None, "promotion_tier": view}
        return {"voucher": None, "promotion_tier": None}

    def run(self, redemption_id: str, *, stacked: bool) -> Answer:
        target = self.target(redemption_id, stacked=stacked)
        refusal = self.refusal(target)
        if refusal is not None:
            return self.failed(target, *refusal)
        mode = stacking_rules.effective_stacking_rules(self.conn, self.project_id)[
            "redeemables_rollback_order_mode"
        ]
        # The parent rollback's id, or the single rollback's.
        own_id = ids.new_id("rr")
        if not self.claim([target], {target.id: own_id}, mode):
            return self.failed(
                target,
                "already_rolled_back",
                "Already rolled back",
                f"Redemption {target.id} has already been rolled back",
            )
        if self.request.customer and target.customer_id is not None:
            stored = customers.get_customer(self.conn, self.project_id, target.customer_id)
            payload = {
                k: v for k, v in self.request.customer.items() if k not in ("id", "source_id")
            }
            customers.update_customer(self.conn, self.project_id, stored, payload, self.now)
        is_parent = target.related_object_type == "redemption"
        parent_rollback_id = own_id if is_parent else None
        if is_parent:
            children = list(
                self.conn.execute(
                    _CHILDREN, {"project_id": self.project_id, "parent_id": target.id}
                )
            )
            rollback_ids = {c.id: ids.new_id("rr") for c in children}
            if not self.claim(children, rollback_ids, mode):
                raise RuntimeError(f"a child of the claimed parent {target.id} was not SUCCEEDED")
        else:
            children = [target]
            rollback_ids = {target.id: own_id}
        # Lock the cards in id order, as redeem does, before their counters move. One
        # card is locked by its own UPDATE; SQLite has no row locks (and needs none).
        card_ids = sorted({c.voucher_id for c in children if c.voucher_id is not None})
        if len(card_ids) > 1 and self.conn.dialect.name == "postgresql":
            self.conn.execute(_LOCK_CARDS, {"project_id": self.project_id, "ids": card_ids}).all()
        restored = {c.id: self.restore(c) for c in children}
        order_view = self.finish_order(target, mode, parent_rollback_id, rollback_ids)
        rollbacks = []
        records = []
        for child in children:
            credits, points = restored[child.id]
            amount = -(credits or points) or None
            rollback_id = rollback_ids[child.id]
            wire = {
                **self.base_wire(rollback_id, child),
                "amount": amount,
                "result": "SUCCESS",
                "status": "SUCCEEDED",
                "order": order_view,
                **self.related_view(child),
            }
            original = dict(child.data)
            if original.get("reward"):
                wire["reward"] = original["reward"]
            if credits:
                wire["gift"] = {"amount": -credits}
            if points:
                wire["loyalty_card"] = {"points": -points}
            records.append(
                self.record(
                    child,
                    rollback_id,
                    wire,
                    result="SUCCESS",
                    status="SUCCEEDED",
                    amount=amount,
                    parent_id=parent_rollback_id,
                )
            )
            rollbacks.append(wire)
        parent_wire = None
        if parent_rollback_id is not None:
            parent_wire = {
                **self.base_wire(parent_rollback_id, target),
                "amount": None,
                "result": "SUCCESS",
                "status": "SUCCEEDED",
                "order": order_view,
                "related_object_type": "redemption",
                "related_object_id": parent_rollback_id,
                "voucher": None,
                "promotion_tier": None,
            }
            records.append(
                self.record(
                    target,
                    parent_rollback_id,
                    parent_wire,
                    result="SUCCESS",
                    status="SUCCEEDED",
                    amount=None,
                    related_object_id=parent_rollback_id,
                )
            )
        self.conn.execute(_INSERT_RECORD, records)
        if not stacked:
            return Answer(200, body=rollbacks[0])
        return Answer(
            200, body={"rollbacks": rollbacks, "parent_rollback": parent_wire, "order": order_view}
        )

    def finish_order(
        self,
        target: Row[Any],
        mode: str,
        parent_rollback_id: str | None,
        rollback_ids: dict[str, str],
    ) -> dict[str, Any] | None:
        """Record the rollback in the order's map; cancel it under WITH_ORDER."""
        if target.order_id is None:
            return None
        # Lock the order row as it is read: its JSON map is changed and written back,
        # and another rollback on the same order must not lose this entry (PostgreSQL;
        # SQLite runs one write transaction at a time).
        key = {"project_id": self.project_id, "id": target.order_id}
        locked = self.conn.execute(_LOCK_ORDER, key).first()
        order = (
            dict(locked._mapping)
            if locked is not None
            else orders.get_order(self.conn, self.project_id, target.order_id)
        )
        entry: dict[str, Any] = {"rollback_date": iso(self.now)}
        if parent_rollback_id is not None:
            entry["rollback_id"] = parent_rollback_id
            entry["rollback_stacked"] = list(rollback_ids.values())
        else:
            entry["rollback_id"] = rollback_ids[target.id]
        if mode == "WITH_ORDER":
            # One write: the discounts cleared and the map entry recorded.
            order = orders.reset_order_discounts(
                self.conn,
                self.project_id,
                target.order_id,
                self.now,
                status="CANCELED",
                order=order,
                redemption=(target.id, entry),
            )
        else:
            order = orders.record_order_redemption(
                self.conn, self.project_id, target.order_id, target.id, entry, self.now, order=order
            )
        return orders.render_order(order)
