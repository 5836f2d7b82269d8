"""Validate and redeem stackable discounts (BEHAVIOR.md §5, §6, §8, §9, §13, §15).

``validate`` is the dry run: load a snapshot, let the engine decide, render the
200 answer; with a LOCK ``session`` it also reserves quantity, credits and points.

``redeem`` does the same inside one write transaction and then persists the
outcome: counters move by guarded UPDATEs (``redeemed_quantity + 1 <= quantity``,
``balance >= credits``), the customer and order are upserted, child redemptions
(and a parent when more than one redeemable applied) and ledger transactions are
written, the session's reservations are consumed. A request that fails stores one
failed redemption (``rf_``) per INAPPLICABLE redeemable and nothing else, and
answers with the envelope of the first one. An ``Idempotency-Key`` response is
stored in the same transaction (see :mod:`voucherd.store.idempotency`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, insert, select, update

from voucherd.engine import evaluate
from voucherd.engine import model as em
from voucherd.engine.render import category_to_dict, order_to_dict, targets_to_list
from voucherd.engine.rules import GENERIC_MESSAGES
from voucherd.store import (
    idempotency,
    ids,
    orders,
    promotion_tiers,
    sessions,
    stacking_rules,
)
from voucherd.store import vouchers as voucher_store
from voucherd.store.db import Database, serialise
from voucherd.store.direct import hot
from voucherd.store.errors import VoucherdError
from voucherd.store.schema import promotion_tiers as tiers_table
from voucherd.store.schema import redemptions, voucher_transactions, vouchers
from voucherd.store.snapshot import Loaded, Resolved, load, tracking_id_for
from voucherd.store.wire import iso

# Order status a redemption leaves when the request does not name one (§15).
REDEEMED_ORDER_STATUS = "PAID"
# Item fields that identify a line: the stored value wins over the engine's copy.
IDENTITY_FIELDS = ("id", "product_id", "sku_id", "source_id", "related_object")
# Order amounts a redemption takes from the engine (amount and total_amount are columns).
ORDER_AMOUNT_FIELDS = (
    "initial_amount",
    "discount_amount",
    "items_discount_amount",
    "total_discount_amount",
    "applied_discount_amount",
    "items_applied_discount_amount",
    "total_applied_discount_amount",
)


@dataclass(frozen=True)
class Caller:
    """Who is asking, and the API's error conventions the store must echo in bodies."""

    project_id: str
    request_id: str
    timezone: str = "UTC"
    channel_id: str | None = None
    channel_type: str = "API"
    status_for: Callable[[str], int] = lambda key: 404 if key == "not_found" else 400
    render_error: Callable[[VoucherdError], tuple[int, dict[str, Any]]] | None = None


@dataclass(frozen=True)
class IdempotentRequest:
    """An ``Idempotency-Key`` and the digest of the request it came with."""

    key: str
    endpoint: str
    digest: str


@dataclass(frozen=True)
class Related:
    """Record columns and wire fields naming the voucher or tier a redemption is about."""

    columns: dict[str, Any]
    wire: dict[str, Any]


class RedemptionFailed(VoucherdError):
    """A redemption request that redeemed nothing: the envelope of the failing redeemable."""


@dataclass(frozen=True)
class Answer:
    """What a redeem produced: a body to send with 200, or the error to raise."""

    status_code: int
    body: dict[str, Any] | None = None
    error: VoucherdError | None = None
    raw: bytes | None = None


# --- statements -----------------------------------------------------------------------
# Built once: constructing a statement per call cost several times what executing it
# does, and on SQLite every statement here runs while all other writers wait.

_INSERT_RECORD = hot(insert(redemptions))
_RECORD_TEMPLATE: dict[str, Any] = {column.name: None for column in redemptions.c}
_INSERT_TRANSACTION = hot(insert(voucher_transactions))
_VOUCHER = hot(select(vouchers).where(vouchers.c.id == bindparam("voucher_id")))
_TIER = hot(select(tiers_table).where(tiers_table.c.id == bindparam("tier_id")))
_TIER_REDEEMED = hot(
    update(tiers_table)
    .where(tiers_table.c.id == bindparam("b_tier_id"))
    .values(redeemed_quantity=tiers_table.c.redeemed_quantity + 1)
    .returning(*tiers_table.c)
)


def _voucher_redeemed(credits: bool, points: bool) -> Any:
    """The guarded counter UPDATE of one voucher redemption (RETURNING the new row).

    Guards: never past the quantity, never below a zero balance. The rows are locked
    (PostgreSQL) or the database is (SQLite), so a guard only fires on a bug.
    """
    v = vouchers.c
    query = (
        update(vouchers)
        .where(v.id == bindparam("b_voucher_id"))
        .values(
            redeemed_quantity=v.redeemed_quantity + 1,
            redeemed_amount=v.redeemed_amount + bindparam("b_credits"),
            redeemed_points=v.redeemed_points + bindparam("b_points"),
            updated_at=bindparam("b_now"),
        )
        .where(v.quantity.is_(None) | (v.redeemed_quantity + 1 <= v.quantity))
    )
    if credits:
        query = query.where(
            v.gift_amount - v.gift_subtracted_amount - v.redeemed_amount >= bindparam("b_credits")
        )
    if points:
        query = query.where(
            v.loyalty_points - v.loyalty_subtracted_points - v.redeemed_points
            >= bindparam("b_points")
        )
    return hot(query.returning(*v))


_VOUCHER_REDEEMED = {
    (credits, points): _voucher_redeemed(credits, points)
    for credits in (False, True)
    for points in (False, True)
}


# --- rendering helpers ------------------------------------------------------------


def _copy_json(value: Any) -> Any:
    """A copy of a JSON-shaped value (dicts and lists copied, leaves shared).

    What ``copy.deepcopy`` gives for such values, several times faster: no memo, no
    dispatch on every leaf (it was 4 % of a redeem's time inside the write lock).
    """
    if type(value) is dict:
        return {key: _copy_json(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy_json(item) for item in value]
    return value


def _expand(body: Mapping[str, Any]) -> set[str]:
    options = body.get("options") or {}
    return set(options.get("expand") or ())


def _order_view(
    snapshot: em.OrderSnapshot,
    order_wire: Mapping[str, Any],
    *,
    persisted: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An engine order snapshot with the identity fields of the (stored) order."""
    view = order_to_dict(snapshot)
    source = persisted or order_wire
    for name in ("id", "source_id"):
        if source.get(name):
            view[name] = source[name]
    if persisted is not None:
        view["status"] = persisted.get("status")
        view["customer_id"] = persisted.get("customer_id")
        view["created_at"] = persisted.get("created_at")
        view["updated_at"] = persisted.get("updated_at")
        if persisted.get("customer_id"):
            view["customer"] = {"id": persisted["customer_id"], "object": "customer"}
        # Stored items carry their ordli_ ids; engine items follow request order.
        for item, stored in zip(view["items"], persisted.get("items") or [], strict=False):
            if stored.get("id"):
                item["id"] = stored["id"]
    return view


def _envelope(caller: Caller, reason: Any, outcome: em.RedeemableOutcome) -> dict[str, Any]:
    key = reason.key
    envelope: dict[str, Any] = {
        "code": caller.status_for(key),
        "key": key,
        "message": reason.message,
        "details": reason.error_details or f"{outcome.object} {outcome.id}: {reason.message}",
        "request_id": caller.request_id,
    }
    if key == "not_found":
        envelope["resource_id"] = outcome.id
        envelope["resource_type"] = outcome.object
    message = merchant_message(reason)
    if message is not None:
        envelope["error"] = {"message": message}
    return envelope


def merchant_message(reason: Any) -> str | None:
    """The merchant's own validation-rule message of a rule failure, None otherwise.

    BEHAVIOR.md §3.1: ``error.message`` carries the rule's (or rule set's) message
    and is left out when the merchant defined none; the engine then falls back to
    the generic text, which is not repeated in ``error``.
    """
    generic = GENERIC_MESSAGES.get(reason.key)
    if generic is None or not reason.key.endswith("_rules_violated"):
        return None
    return None if reason.message == generic else str(reason.message)


def _reason_details(reason: Any) -> dict[str, Any]:
    details = {"key": reason.key, "message": reason.message}
    for name, value in dict(reason.details).items():
        details.setdefault(name, value)
    return details


def _redeemable_item(
    outcome: em.RedeemableOutcome,
    resolved: Resolved,
    stacking: em.StackingRules,
    order_wire: Mapping[str, Any],
    expand: set[str],
    caller: Caller,
) -> dict[str, Any]:
    """One ``redeemables[]`` entry of a validation (or the lists of a redemption)."""
    item: dict[str, Any] = {"status": outcome.status, "id": outcome.id, "object": outcome.object}
    if outcome.status == "APPLICABLE":
        if outcome.order is not None:
            item["order"] = _order_view(outcome.order, order_wire)
        item["applicable_to"] = targets_to_list(outcome.applicable_to)
        item["inapplicable_to"] = targets_to_list(outcome.inapplicable_to)
        item["result"] = dict(outcome.result)
    elif outcome.reason is not None:
        result: dict[str, Any] = {"details": _reason_details(outcome.reason)}
        if outcome.status == "INAPPLICABLE":
            result["error"] = _envelope(caller, outcome.reason, outcome)
        item["result"] = result
    row = resolved.voucher or resolved.tier
    data = (row.data or {}) if row is not None else {}
    item["metadata"] = dict(data.get("metadata") or {}) if "redeemable" in expand else {}
    item["categories"] = [category_to_dict(c, stacking) for c in outcome.categories]
    if "redeemable" in expand and row is not None:
        if resolved.campaign is not None:
            item["campaign_name"] = resolved.campaign.name
            item["campaign_id"] = resolved.campaign.id
        if resolved.tier is not None:
            item["name"] = data.get("name")
    return item


# --- validate -----------------------------------------------------------------------


def validation_locks(body: Mapping[str, Any]) -> bool:
    """Whether a validation request opens a LOCK session (so writes)."""
    session = body.get("session") or {}
    return bool(session) and session.get("type", "LOCK") == "LOCK"


def validate(
    db: Database, caller: Caller, body: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """``POST /v1/validations``: always 200; ``valid`` says whether a redeem would pass.

    With ``session.type == "LOCK"`` the APPLICABLE vouchers and tiers are reserved
    under the session key (generated when absent) for its TTL.
    """
    session = body.get("session") or {}
    locking = validation_locks(body)
    transaction = db.write() if locking else db.read()
    with transaction as conn:
        loaded = load(
            conn,
            caller.project_id,
            body,
            now=now,
            timezone=caller.timezone,
            persist_customer=False,
            lock=locking,
        )
        outcome = evaluate(loaded.snapshot)
        session_view = None
        if locking:
            key = session.get("key") or sessions.new_key()
            expires_at = sessions.expiry(now, session.get("ttl"), session.get("ttl_unit"))
            if outcome.valid:
                for result in outcome.applicable:
                    resolved = loaded.resolved[result.request_index]
                    consumption = result.consumption or em.Consumption()
                    sessions.reserve(
                        conn,
                        caller.project_id,
                        key,
                        str(resolved.object_id),
                        quantity=consumption.quantity,
                        credits=consumption.credits,
                        points=consumption.points,
                        expires_at=expires_at,
                        now=now,
                    )
            session_view = {
                "key": key,
                "type": "LOCK",
                "ttl": session.get("ttl") or sessions.DEFAULT_TTL,
                "ttl_unit": session.get("ttl_unit") or sessions.DEFAULT_TTL_UNIT,
            }
    return _validation_body(loaded, outcome, body, caller, session_view)


def _validation_body(
    loaded: Loaded,
    outcome: em.Outcome,
    body: Mapping[str, Any],
    caller: Caller,
    session_view: dict[str, Any] | None,
) -> dict[str, Any]:
    expand = _expand(body)
    stacking = loaded.snapshot.stacking
    items = [
        _redeemable_item(
            o, loaded.resolved[o.request_index], stacking, loaded.order, expand, caller
        )
        for o in outcome.redeemables
    ]
    answer: dict[str, Any] = {
        "id": ids.new_id("valid"),
        "valid": outcome.valid,
        "redeemables": items,
    }
    inapplicable = [i for i in items if i["status"] == "INAPPLICABLE"]
    skipped = [i for i in items if i["status"] == "SKIPPED"]
    # §6.3: empty lists are left out of validation responses (never []).
    if inapplicable:
        answer["inapplicable_redeemables"] = inapplicable
    if skipped:
        answer["skipped_redeemables"] = skipped
    if outcome.applicable:
        answer["order"] = _order_view(outcome.order, loaded.order)
    answer["tracking_id"] = body.get("tracking_id") or tracking_id_for(
        (loaded.customer or {}).get("source_id")
    )
    if session_view is not None:
        answer["session"] = session_view
    answer["stacking_rules"] = dict(loaded.stacking)
    return answer


# --- redeem -------------------------------------------------------------------------


def redeem(
    db: Database,
    caller: Caller,
    body: Mapping[str, Any],
    now: dt.datetime,
    *,
    idempotent: IdempotentRequest | None = None,
    priced: PricedOrder | None = None,
) -> Answer:
    """``POST /v1/redemptions``: redeem every APPLICABLE redeemable or nothing (§6.4).

    ``priced`` is :func:`price_order`'s answer when the caller asked for it already.
    """
    if priced is None:
        priced = price_order(db, caller.project_id, body)
    with db.write() as conn:
        if priced is None:
            order_items, stacking_wire = _price(conn, caller.project_id, body), None
        else:
            order_items, stacking_wire = priced.items, priced.stacking
        return answer_idempotently(
            conn,
            caller,
            idempotent,
            now,
            lambda: _redeem_in(conn, caller, body, now, order_items, stacking_wire),
        )


def answer_idempotently(
    conn: Connection,
    caller: Caller,
    idempotent: IdempotentRequest | None,
    now: dt.datetime,
    run: Callable[[], Answer],
) -> Answer:
    """``run()`` once per Idempotency-Key: a retry replays the stored answer.

    The answer is recorded in the caller's transaction, so it commits (or vanishes)
    together with what ``run`` wrote.
    """
    if idempotent is None:
        return run()
    # Two requests with one key must not both miss the lookup: on PostgreSQL the
    # second would redeem (or roll back) again once the first released its rows,
    # then collide with the first's key row. Taking the key's lock first makes it
    # wait for the first to commit and replay its response.
    serialise(conn, "idempotency", caller.project_id, idempotent.endpoint, idempotent.key)
    stored = idempotency.lookup(
        conn, caller.project_id, idempotent.key, idempotent.endpoint, idempotent.digest, now
    )
    if stored is not None:
        return Answer(stored.status_code, raw=stored.body)
    answer = run()
    if answer.error is not None and caller.render_error is not None:
        status, error_body = caller.render_error(answer.error)
        raw = orjson.dumps(error_body)
    else:
        status, raw = answer.status_code, orjson.dumps(answer.body)
    idempotency.record(
        conn,
        caller.project_id,
        idempotent.key,
        idempotent.endpoint,
        idempotent.digest,
        status,
        raw,
        now,
    )
    return answer


@dataclass(frozen=True)
class PricedOrder:
    """What a redeem reads before its write transaction (SQLite)."""

    items: list[dict[str, Any]] | None  # the order's items priced (None: no items)
    stacking: dict[str, Any]  # the project's effective stacking rules


def price_order(db: Database, project_id: str, body: Mapping[str, Any]) -> PricedOrder | None:
    """SQLite: the catalogue and stacking rules a redeem needs, in a read transaction.

    Up to four catalogue look-ups per item and the stacking rules, none of which decides
    a counter, so on SQLite they run before the write transaction instead of inside it,
    where every statement holds up all other writers (SQLite's one write lock). They are
    read a moment earlier than the counters: a product or the stacking rules edited in
    between apply as they were when the request arrived, as if it had been served just
    before the edit. On PostgreSQL they are read at the start of the write transaction,
    before any row lock, which saves a transaction's round trips: there this returns
    None at once, without any I/O.
    """
    if not db.is_sqlite:
        return None
    with db.read() as conn:
        return PricedOrder(
            _price(conn, project_id, body),
            stacking_rules.effective_stacking_rules(conn, project_id),
        )


def _price(
    conn: Connection, project_id: str, body: Mapping[str, Any]
) -> list[dict[str, Any]] | None:
    """The request order's items priced against the catalogue (None without items)."""
    items = (body.get("order") or {}).get("items")
    return None if items is None else orders.resolve_items(conn, project_id, items)


def _redeem_in(
    conn: Connection,
    caller: Caller,
    body: Mapping[str, Any],
    now: dt.datetime,
    order_items: list[dict[str, Any]] | None = None,
    stacking_wire: dict[str, Any] | None = None,
) -> Answer:
    loaded = load(
        conn,
        caller.project_id,
        body,
        now=now,
        timezone=caller.timezone,
        persist_customer=True,
        lock=True,
        order_items=order_items,
        stacking_wire=stacking_wire,
    )
    outcome = evaluate(loaded.snapshot)
    context = _Context(conn, caller, body, now, loaded, order_items)
    applicable = outcome.applicable
    all_mode = loaded.snapshot.stacking.redeemables_application_mode == "ALL"
    if not applicable or (all_mode and outcome.inapplicable):
        return Answer(400, error=context.fail(outcome))
    return Answer(200, body=context.succeed(outcome))


class _Context:
    """The state one redemption request writes through."""

    def __init__(
        self,
        conn: Connection,
        caller: Caller,
        body: Mapping[str, Any],
        now: dt.datetime,
        loaded: Loaded,
        order_items: list[dict[str, Any]] | None = None,
    ) -> None:
        self.conn = conn
        self.order_items = order_items
        # Voucher and tier rows as the counter UPDATEs returned them (RETURNING),
        # so rendering and the ledger need not read back what was just written.
        self.updated: dict[str, Row[Any]] = {}
        self.caller = caller
        self.body = body
        self.now = now
        self.loaded = loaded
        customer = loaded.customer
        self.customer_id: str | None = customer.get("id") if customer else None
        self.tracking_id: str | None = body.get("tracking_id") or tracking_id_for(
            customer.get("source_id") if customer else None
        )
        self.metadata: dict[str, Any] = dict(body.get("metadata") or {})
        self.channel = {"channel_id": caller.channel_id, "channel_type": caller.channel_type}
        self.session_key: str | None = (body.get("session") or {}).get("key")

    @property
    def project_id(self) -> str:
        return self.caller.project_id

    # -- shared ---------------------------------------------------------------------

    def simple_customer(self) -> dict[str, Any] | None:
        customer = self.loaded.customer
        if not customer:
            return None
        data = customer.get("data") or {}
        return {
            "id": customer.get("id"),
            "name": customer.get("name"),
            "email": customer.get("email"),
            "source_id": customer.get("source_id"),
            "metadata": dict(data.get("metadata") or {}),
            "object": "customer",
        }

    def related(self, resolved: Resolved) -> Related:
        """Columns and wire fields naming the voucher or tier a record is about."""
        campaign = resolved.campaign
        if resolved.voucher is not None:
            row = (
                self.updated.get(resolved.voucher.id)
                or self.conn.execute(_VOUCHER, {"voucher_id": resolved.voucher.id}).one()
            )
            view = voucher_store.voucher_json(
                self.conn, self.project_id, row, with_assignments=False
            )
            return Related(
                columns={
                    "related_object_type": "voucher",
                    "related_object_id": row.id,
                    "voucher_id": row.id,
                    "voucher_code": row.code,
                    "campaign_id": row.campaign_id,
                    "campaign_name": campaign.name if campaign is not None else None,
                },
                wire={"voucher": view, "promotion_tier": None},
            )
        tier = resolved.tier
        if tier is None:
            raise RuntimeError("a found redeemable is a voucher or a tier")
        row = self.updated.get(tier.id) or self.conn.execute(_TIER, {"tier_id": tier.id}).one()
        view = promotion_tiers.tier_json(self.conn, self.project_id, row, campaign)
        return Related(
            columns={
                "related_object_type": "promotion_tier",
                "related_object_id": row.id,
                "promotion_tier_id": row.id,
                "campaign_id": row.campaign_id,
                "campaign_name": campaign.name if campaign is not None else None,
            },
            wire={"voucher": None, "promotion_tier": view},
        )

    def record_row(self, columns: dict[str, Any], wire: dict[str, Any]) -> dict[str, Any]:
        """A redemptions row: every column named (None when unset), so rows batch."""
        return {
            **_RECORD_TEMPLATE,
            "project_id": self.project_id,
            "date": self.now,
            "customer_id": self.customer_id,
            "tracking_id": self.tracking_id,
            "data": wire,
            **columns,
        }

    def insert_record(self, columns: dict[str, Any], wire: dict[str, Any]) -> None:
        self.conn.execute(_INSERT_RECORD, self.record_row(columns, wire))

    # -- failure ---------------------------------------------------------------------

    def failed_record(self, outcome: em.RedeemableOutcome) -> str:
        """Store the ``rf_`` record for one INAPPLICABLE redeemable; returns its id."""
        reason_key = outcome.reason.key if outcome.reason else "invalid_request"
        reason_message = outcome.reason.message if outcome.reason else ""
        record_id = ids.new_id("rf")
        resolved = self.loaded.resolved[outcome.request_index]
        if resolved.object_id is None:
            related = Related(
                columns={"related_object_type": "redemption", "related_object_id": record_id},
                wire={"voucher": None, "promotion_tier": None},
            )
        else:
            related = self.related(resolved)
        columns = {
            "id": record_id,
            "object": "redemption",
            "result": "FAILURE",
            "status": "FAILED",
            "failure_code": reason_key,
            "order_id": None,
            **related.columns,
        }
        wire = {
            "id": record_id,
            "object": "redemption",
            "date": iso(self.now),
            "customer_id": self.customer_id,
            "tracking_id": self.tracking_id,
            "metadata": self.metadata,
            "amount": None,
            "redemption": None,
            "result": "FAILURE",
            "status": "FAILED",
            "failure_code": reason_key,
            "failure_message": reason_message,
            "order": None,
            "channel": self.channel,
            "customer": self.simple_customer(),
            "related_object_type": columns["related_object_type"],
            "related_object_id": columns["related_object_id"],
            **related.wire,
        }
        self.insert_record(columns, wire)
        return record_id

    def fail(self, outcome: em.Outcome) -> VoucherdError:
        """Record the failures and build the envelope of the first one (§5.1, §6.4)."""
        failing = outcome.inapplicable
        records = [self.failed_record(o) for o in failing]
        if not failing:
            # Nothing failed and nothing applied (every redeemable was skipped).
            first = outcome.redeemables[0]
            reason = first.reason
            return RedemptionFailed(
                reason.message if reason else "No redeemable could be applied",
                key=reason.key if reason else "no_applicable_redeemables",
                message="No redeemable could be applied",
                extra={"redeemable_type": first.object, "redeemable_id": first.id},
            )
        first = failing[0]
        reason = first.reason
        if reason is None:
            raise RuntimeError("an INAPPLICABLE outcome always carries its reason")
        extra: dict[str, Any] = {"redeemable_type": first.object, "redeemable_id": first.id}
        message = merchant_message(reason)
        if message is not None:
            extra["error"] = {"message": message}
        return RedemptionFailed(
            reason.error_details or first.id,
            key=reason.key,
            message=reason.message,
            resource_id=records[0],
            resource_type="redemption",
            extra=extra,
        )

    # -- success ---------------------------------------------------------------------

    def consume(self, result: em.RedeemableOutcome) -> None:
        """Move the counters of one APPLICABLE redeemable by guarded updates."""
        resolved = self.loaded.resolved[result.request_index]
        consumption = result.consumption or em.Consumption()
        if resolved.tier is not None:
            self.updated[resolved.tier.id] = self.conn.execute(
                _TIER_REDEEMED, {"b_tier_id": resolved.tier.id}
            ).one()
            return
        if resolved.voucher is None:
            raise RuntimeError("an APPLICABLE redeemable was found")
        query = _VOUCHER_REDEEMED[bool(consumption.credits), bool(consumption.points)]
        params = {
            "b_voucher_id": resolved.voucher.id,
            "b_credits": consumption.credits,
            "b_points": consumption.points,
            "b_now": self.now,
        }
        # RETURNING rather than rowcount: the new row is what the response renders.
        row = self.conn.execute(query, params).first()
        if row is None:
            raise RuntimeError(f"guarded update refused for voucher {resolved.voucher.id}")
        self.updated[row.id] = row

    def ledger(
        self, resolved: Resolved, consumption: em.Consumption, redemption_id: str
    ) -> dict[str, Any] | None:
        """The gift/loyalty transaction row of a card redemption (§8, §9), if it is one."""
        voucher = resolved.voucher
        if voucher is None or not (consumption.credits or consumption.points):
            return None
        row = (
            self.updated.get(voucher.id)
            or self.conn.execute(_VOUCHER, {"voucher_id": voucher.id}).one()
        )
        if consumption.credits:
            kind, amount = "CREDITS_REDEMPTION", -consumption.credits
            balance = voucher_store.gift_balance(row)
        else:
            kind, amount = "POINTS_REDEMPTION", -consumption.points
            balance = voucher_store.loyalty_balance(row)
        return {
            "id": ids.new_id("vtx"),
            "project_id": self.project_id,
            "voucher_id": voucher.id,
            "type": kind,
            "amount": amount,
            "balance": balance,
            "redemption_id": redemption_id,
            "data": {"reason": None, "source_id": None, "related_transaction_id": None},
            "created_at": self.now,
        }

    def persist_order(
        self, outcome: em.Outcome, redemption_id: str, entry: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Upsert the order with the request's final amounts and its redemption entry.

        One write: the engine's amounts and the ``redemptions`` map entry are folded
        into the upsert. Returns the stored record as the redemption records show it
        (before its own entry, so ``updated_at`` is still that of the order as it
        stood) and as it is after this transaction.
        """
        payload = dict(self.body.get("order") or {})
        payload.setdefault("status", REDEEMED_ORDER_STATUS)
        # The order belongs to the request's customer, which load() already upserted
        # (the order's own ``customer`` when the request named none).
        if self.customer_id:
            payload["customer_id"] = self.customer_id
        payload.pop("customer", None)
        # The items were priced before the write transaction (see price_order); a
        # copy, since upsert_order gives them ids in place and load() kept the originals.
        items = _copy_json(self.order_items) if self.order_items is not None else None
        final = order_to_dict(outcome.order)
        before: dict[str, Any] = {}

        def amend(values: dict[str, Any]) -> None:
            data = values["data"]
            stored_items = list(data.get("items") or [])
            merged = []
            for index, engine_item in enumerate(final["items"]):
                # Stored lines keep their ids and catalogue views; lines a unit effect
                # added are new. The engine's amounts replace the stored ones.
                base = (
                    dict(stored_items[index])
                    if index < len(stored_items)
                    else {"id": ids.new_id("ordli")}
                )
                for name, value in engine_item.items():
                    if name == "object" or (name in IDENTITY_FIELDS and base.get(name)):
                        continue
                    base[name] = value
                merged.append(base)
            data["items"] = merged
            for name in ORDER_AMOUNT_FIELDS:
                data[name] = final[name]
            values["amount"] = final["amount"]
            values["total_amount"] = final["total_amount"]
            before.update(values)
            before["data"] = dict(data)
            redemptions_map = dict(data.get("redemptions") or {})
            redemptions_map[redemption_id] = {**redemptions_map.get(redemption_id, {}), **entry}
            data["redemptions"] = redemptions_map
            values["updated_at"] = self.now

        stored = orders.upsert_order(
            self.conn,
            self.project_id,
            payload,
            self.now,
            items=items,
            stored=self.loaded.existing_order,
            amend=amend,
            # load() took the order's lock (snapshot._lock_order).
            source_id_locked=True,
        )
        return {**stored, **before}, stored

    def succeed(self, outcome: em.Outcome) -> dict[str, Any]:
        """Consume, write the order, children (and the parent) and the ledger (§6.2 step 8)."""
        applicable = outcome.applicable
        for result in applicable:
            self.consume(result)
        if self.session_key:
            sessions.consume(
                self.conn,
                self.project_id,
                self.session_key,
                [str(self.loaded.resolved[r.request_index].object_id) for r in applicable],
            )
        stacked = len(applicable) > 1
        parent_id = ids.new_id("r") if stacked else None
        child_ids = [ids.new_id("r") for _ in applicable]
        relateds = [self.related(self.loaded.resolved[r.request_index]) for r in applicable]
        date = iso(self.now)
        if parent_id is not None:
            entry_id = parent_id
            entry: dict[str, Any] = {
                "date": date,
                "related_object_type": "redemption",
                "related_object_id": parent_id,
                "stacked": child_ids,
            }
        else:
            entry_id = child_ids[0]
            campaign = self.loaded.resolved[applicable[0].request_index].campaign
            entry = {
                "date": date,
                "related_object_type": relateds[0].columns["related_object_type"],
                "related_object_id": relateds[0].columns["related_object_id"],
                "related_object_parent_id": campaign.id if campaign is not None else None,
            }
        shown, order = self.persist_order(outcome, entry_id, entry)
        order_view = orders.render_order(shown)
        children: list[dict[str, Any]] = []
        # Written together at the end: one statement for the records, one for the ledger.
        rows: list[dict[str, Any]] = []
        ledger_rows: list[dict[str, Any]] = []
        for result, child_id, related in zip(applicable, child_ids, relateds, strict=True):
            resolved = self.loaded.resolved[result.request_index]
            consumption = result.consumption or em.Consumption()
            amount = consumption.credits or consumption.points or None
            step_order = (
                _order_view(result.order, self.loaded.order, persisted=order_view)
                if result.order
                else None
            )
            wire: dict[str, Any] = {
                "id": child_id,
                "object": "redemption",
                "date": date,
                "customer_id": self.customer_id,
                "tracking_id": self.tracking_id,
                "metadata": self.metadata,
                "amount": amount,
                "redemption": parent_id,
                "result": "SUCCESS",
                "status": "SUCCEEDED",
                "order": step_order,
                "channel": self.channel,
                "customer": self.simple_customer(),
                "related_object_type": related.columns["related_object_type"],
                "related_object_id": related.columns["related_object_id"],
                **related.wire,
            }
            if self.session_key:
                wire["session"] = {"key": self.session_key}
            if consumption.credits:
                wire["gift"] = {"amount": consumption.credits}
            if consumption.points:
                wire["loyalty_card"] = {"points": consumption.points}
                reward_id = (self.loaded.entries[result.request_index].get("reward") or {}).get(
                    "id"
                )
                if reward_id:
                    wire["reward"] = {"id": reward_id, "object": "reward", "type": "COIN"}
            rows.append(
                self.record_row(
                    {
                        "id": child_id,
                        "object": "redemption",
                        "result": "SUCCESS",
                        "status": "SUCCEEDED",
                        "parent_id": parent_id,
                        "order_id": order["id"],
                        "amount": amount,
                        **related.columns,
                    },
                    wire,
                )
            )
            transaction = self.ledger(resolved, consumption, child_id)
            if transaction is not None:
                ledger_rows.append(transaction)
            children.append(wire)
        if parent_id is not None:
            parent_wire = {
                "id": parent_id,
                "object": "redemption",
                "date": date,
                "customer_id": self.customer_id,
                "tracking_id": self.tracking_id,
                "metadata": self.metadata,
                "amount": None,
                "redemption": None,
                "result": "SUCCESS",
                "status": "SUCCEEDED",
                "order": _order_view(outcome.order, self.loaded.order, persisted=order_view),
                "channel": self.channel,
                "customer": self.simple_customer(),
                "related_object_type": "redemption",
                "related_object_id": parent_id,
                "voucher": None,
                "promotion_tier": None,
                "related_redemptions": {
                    "redemptions": [{"id": c, "date": date} for c in child_ids]
                },
            }
            if self.session_key:
                parent_wire["session"] = {"key": self.session_key}
            rows.insert(
                0,
                self.record_row(
                    {
                        "id": parent_id,
                        "object": "redemption",
                        "result": "SUCCESS",
                        "status": "SUCCEEDED",
                        "parent_id": None,
                        "order_id": order["id"],
                        "amount": None,
                        "related_object_type": "redemption",
                        "related_object_id": parent_id,
                    },
                    parent_wire,
                ),
            )
        else:
            parent_wire = None
        self.conn.execute(_INSERT_RECORD, rows)
        if ledger_rows:
            self.conn.execute(_INSERT_TRANSACTION, ledger_rows)
        # PARTIAL mode: the inapplicable ones are recorded as failures too (§5.1 suggestion).
        for failed in outcome.inapplicable:
            self.failed_record(failed)
        # Rendered from what this transaction wrote: nothing else can have changed the
        # order since (its row is locked on PostgreSQL, the database on SQLite).
        final_order = orders.render_order(order)
        expand = _expand(self.body)
        stacking = self.loaded.snapshot.stacking
        listed = [
            _redeemable_item(
                o,
                self.loaded.resolved[o.request_index],
                stacking,
                self.loaded.order,
                expand,
                self.caller,
            )
            for o in outcome.redeemables
            if o.status != "APPLICABLE"
        ]
        return {
            "redemptions": children,
            "parent_redemption": parent_wire,
            "order": final_order,
            "inapplicable_redeemables": [i for i in listed if i["status"] == "INAPPLICABLE"],
            "skipped_redeemables": [i for i in listed if i["status"] == "SKIPPED"],
        }
