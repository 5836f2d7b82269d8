"""Loyalty programs and members, the legacy loyalty API kept minimal (BEHAVIOR.md §9).

A loyalty program is a ``LOYALTY_PROGRAM`` campaign (created through
:mod:`voucherd.store.campaigns`); its members are its loyalty cards. Adding a
member publishes one card to a customer: the card gets its ``holder_id`` and its
``publish`` count goes up. The claim is a guarded ``UPDATE ... WHERE holder_id IS
NULL``, so two concurrent add-member calls never publish one card twice; the
loser simply takes the next free card. With no free card left an ``AUTO_UPDATE``
program generates one from its template; any other answers 400
``no_voucher_suitable_for_publication``.

Points are moved by :mod:`voucherd.store.balances` (held cards only).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Row, select, update

from voucherd.store import balances, campaigns, customers
from voucherd.store import vouchers as voucher_store
from voucherd.store.errors import BusinessRuleViolation, NotFound
from voucherd.store.listing import ListQuery
from voucherd.store.schema import vouchers

LOYALTY_PROGRAM = "LOYALTY_PROGRAM"
# Free cards tried per add-member before concluding that concurrent calls took them all.
CLAIM_ATTEMPTS = 20

v = vouchers.c


def _no_card(details: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "no_voucher_suitable_for_publication", "No voucher suitable for publication", details
    )


def create_program(
    conn: Connection, project_id: str, body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """``POST /v1/loyalties``: a LOYALTY_PROGRAM campaign with ``vouchers_count`` cards."""
    template = dict(body.get("voucher") or {})
    template.setdefault("type", voucher_store.LOYALTY_CARD)
    payload = {**body, "campaign_type": LOYALTY_PROGRAM, "voucher": template}
    return campaigns.create_campaign(conn, project_id, payload, now=now)


def get_program(
    conn: Connection, project_id: str, id_or_name: str, *, for_update: bool = False
) -> Row[Any]:
    """A loyalty campaign by id or name; any other campaign is ``NotFound("campaign")``."""
    row = campaigns.get_campaign(conn, project_id, id_or_name, for_update=for_update)
    if row.campaign_type != LOYALTY_PROGRAM:
        raise NotFound("campaign", id_or_name)
    return row


def list_programs(
    conn: Connection, project_id: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """``GET /v1/loyalties``: the campaign list narrowed to loyalty programs."""
    params = {**query.params, "campaign_type": (LOYALTY_PROGRAM,)}
    return campaigns.list_campaigns(conn, project_id, dataclasses.replace(query, params=params))


def list_members(
    conn: Connection, project_id: str, id_or_name: str, query: ListQuery
) -> tuple[list[dict[str, Any]], int]:
    """``GET /v1/loyalties/{id}/members``: the program's cards, like the voucher list."""
    program = get_program(conn, project_id, id_or_name)
    params = {**query.params, "campaign_id": (program.id,)}
    return voucher_store.list_vouchers(conn, project_id, dataclasses.replace(query, params=params))


def update_program(
    conn: Connection, project_id: str, id_or_name: str, body: dict[str, Any], *, now: dt.datetime
) -> Row[Any]:
    """``PUT /v1/loyalties/{id}``: the campaign update, for loyalty programs only."""
    program = get_program(conn, project_id, id_or_name)
    return campaigns.update_campaign(conn, project_id, program.id, body, now=now)


def delete_program(conn: Connection, project_id: str, id_or_name: str, *, now: dt.datetime) -> str:
    """``DELETE /v1/loyalties/{id}``: the campaign delete; returns the async action id."""
    program = get_program(conn, project_id, id_or_name)
    return campaigns.delete_campaign(conn, project_id, program.id, now=now)


def get_member(
    conn: Connection, project_id: str, member_id: str, campaign_id: str | None = None
) -> Row[Any]:
    """A loyalty card by code or id, optionally within one program.

    Not a loyalty card, or not in the named program → ``NotFound("voucher")``;
    an unknown program → ``NotFound("campaign")``.
    """
    program = get_program(conn, project_id, campaign_id) if campaign_id is not None else None
    card = voucher_store.get_voucher(conn, project_id, member_id)
    if card.type != voucher_store.LOYALTY_CARD or (
        program is not None and card.campaign_id != program.id
    ):
        raise NotFound("voucher", member_id)
    return card


def add_member(
    conn: Connection,
    project_id: str,
    campaign_id: str,
    body: Mapping[str, Any],
    *,
    now: dt.datetime,
) -> Row[Any]:
    """Publish a card of the program to ``body["customer"]`` (upserted); returns the card.

    ``voucher`` names the card to publish (404 ``voucher`` when it is not one of the
    program's cards; 400 ``no_voucher_suitable_for_publication`` when someone else
    holds it). Without it the oldest free card is taken. A customer who already
    holds a card of the program gets that card back unchanged (loyalty programs
    are join-once).
    """
    program = get_program(conn, project_id, campaign_id)
    customer = customers.upsert_customer(conn, project_id, body["customer"], now)
    held = conn.execute(
        select(vouchers)
        .where(
            v.project_id == project_id,
            v.campaign_id == program.id,
            v.deleted_at.is_(None),
            v.holder_id == customer["id"],
        )
        .order_by(v.created_at, v.id)
        .limit(1)
    ).first()
    code = body.get("voucher")
    if code is not None:
        card = get_member(conn, project_id, code, program.id)
        if card.holder_id == customer["id"]:
            return card
        if card.holder_id is not None or not _claim(conn, project_id, card, customer["id"], now):
            raise _no_card(f"Loyalty card {card.code} is already published to another customer")
        return voucher_store.get_voucher(conn, project_id, card.id)
    if held is not None:
        return held
    for _ in range(CLAIM_ATTEMPTS):
        card = _free_card(conn, project_id, program, now)
        if _claim(conn, project_id, card, customer["id"], now):
            return voucher_store.get_voucher(conn, project_id, card.id)
    raise _no_card(f"Could not publish a card of {program.name}: every free card was taken")


def _free_card(conn: Connection, project_id: str, program: Row[Any], now: dt.datetime) -> Row[Any]:
    """The program's oldest unpublished live card; an AUTO_UPDATE program makes one if need be."""
    query = (
        select(vouchers)
        .where(
            v.project_id == project_id,
            v.campaign_id == program.id,
            v.deleted_at.is_(None),
            v.holder_id.is_(None),
        )
        .order_by(v.created_at, v.id)
        .limit(1)
    )
    card = conn.execute(query).first()
    if card is not None:
        return card
    if program.type != "AUTO_UPDATE":
        raise _no_card(f"Loyalty program {program.name} has no unpublished card left")
    (card_id,) = campaigns.generate_vouchers(conn, project_id, program, 1, {}, now=now)
    return voucher_store.get_voucher(conn, project_id, card_id)


def _claim(
    conn: Connection, project_id: str, card: Row[Any], customer_id: str, now: dt.datetime
) -> bool:
    """Give a free card its holder; False when a concurrent call got there first."""
    data = dict(card.data)
    data["publish_count"] = int(data.get("publish_count") or 0) + 1
    result = conn.execute(
        update(vouchers)
        .where(v.project_id == project_id, v.id == card.id, v.holder_id.is_(None))
        .values(holder_id=customer_id, data=data, updated_at=now)
    )
    return result.rowcount == 1


def update_member_balance(
    conn: Connection,
    project_id: str,
    member_id: str,
    change: balances.BalanceChange,
    *,
    now: dt.datetime,
    campaign_id: str | None = None,
) -> balances.BalanceResult:
    """Add or remove points on a held card (optionally checked against its program)."""
    card = get_member(conn, project_id, member_id, campaign_id)
    return balances.update_balance(conn, project_id, card.id, change, now=now, loyalty_only=True)
