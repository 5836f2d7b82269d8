"""Loyalty programs and members, the legacy loyalty API (the SDK's LoyaltiesApi, minimal)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response
from voucherd.api.schemas.customers import customer_payload
from voucherd.api.schemas.loyalties import (
    LoyaltiesCreateCampaignRequestBody,
    LoyaltiesMembersBalanceUpdateRequestBody,
    LoyaltiesMembersCreateRequestBody,
    LoyaltiesUpdateCampaignRequestBody,
)
from voucherd.api.schemas.vouchers import dump
from voucherd.store import balances, campaigns, catalog, loyalties, vouchers

router = APIRouter(tags=["loyalties"])


@router.post("/v1/loyalties")
def create_loyalty_program(
    body: Annotated[
        LoyaltiesCreateCampaignRequestBody, Depends(json_body(LoyaltiesCreateCampaignRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a LOYALTY_PROGRAM campaign and its loyalty cards."""
    with db.write() as conn:
        row = loyalties.create_program(conn, project.id, dump(body), now=clock())
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.get("/v1/loyalties")
def list_loyalty_programs(request: Request, project: ServerProject, db: DB) -> Response:
    """List loyalty campaigns, newest first."""
    query = list_query(request)
    with db.read() as conn:
        items, total = loyalties.list_programs(conn, project.id, query)
    return json_response(list_envelope("campaigns", list(items), total))


def _change(body: LoyaltiesMembersBalanceUpdateRequestBody) -> balances.BalanceChange:
    return balances.BalanceChange(
        amount=body.points,
        reason=body.reason,
        source_id=body.source_id,
        expiration_type=body.expiration_type,
        expiration_date=catalog.parse_date(body.expiration_date, "expiration_date"),
    )


@router.get("/v1/loyalties/members/{member_id}")
def get_member(member_id: str, project: ServerProject, db: DB) -> Response:
    """Get a loyalty card by code or id."""
    with db.read() as conn:
        row = loyalties.get_member(conn, project.id, member_id)
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.post("/v1/loyalties/members/{member_id}/balance")
def update_loyalty_card_balance(
    member_id: str,
    body: Annotated[
        LoyaltiesMembersBalanceUpdateRequestBody,
        Depends(json_body(LoyaltiesMembersBalanceUpdateRequestBody)),
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Add or remove points on a held loyalty card."""
    with db.write() as conn:
        result = loyalties.update_member_balance(
            conn, project.id, member_id, _change(body), now=clock()
        )
    return json_response(result.as_wire("points"))


@router.get("/v1/loyalties/{campaign_id}")
def get_loyalty_program(campaign_id: str, project: ServerProject, db: DB) -> Response:
    """Get a loyalty campaign by id or name."""
    with db.read() as conn:
        row = loyalties.get_program(conn, project.id, campaign_id)
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.put("/v1/loyalties/{campaign_id}")
def update_loyalty_program(
    campaign_id: str,
    body: Annotated[
        LoyaltiesUpdateCampaignRequestBody, Depends(json_body(LoyaltiesUpdateCampaignRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update a loyalty campaign (the campaign update's rules)."""
    with db.write() as conn:
        row = loyalties.update_program(conn, project.id, campaign_id, dump(body), now=clock())
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.delete("/v1/loyalties/{campaign_id}")
def delete_loyalty_program(
    campaign_id: str, project: ServerProject, db: DB, clock: Clock, force: bool = False
) -> Response:
    """Delete a loyalty campaign and its cards (200 with the async action id)."""
    with db.write() as conn:
        action_id = loyalties.delete_program(conn, project.id, campaign_id, now=clock())
    return json_response({"async_action_id": action_id})


@router.get("/v1/loyalties/{campaign_id}/members")
def list_members(campaign_id: str, request: Request, project: ServerProject, db: DB) -> Response:
    """List the program's loyalty cards, newest first."""
    query = list_query(request)
    with db.read() as conn:
        items, total = loyalties.list_members(conn, project.id, campaign_id, query)
    return json_response(list_envelope("vouchers", list(items), total))


@router.post("/v1/loyalties/{campaign_id}/members")
def add_member(
    campaign_id: str,
    body: Annotated[
        LoyaltiesMembersCreateRequestBody, Depends(json_body(LoyaltiesMembersCreateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Publish a card of the program to a customer (upserted) and return the card."""
    payload = {"customer": customer_payload(body.customer), "voucher": body.voucher}
    with db.write() as conn:
        row = loyalties.add_member(conn, project.id, campaign_id, payload, now=clock())
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.get("/v1/loyalties/{campaign_id}/members/{member_id}")
def get_member_in_program(
    campaign_id: str, member_id: str, project: ServerProject, db: DB
) -> Response:
    """Get a loyalty card of one program by code or id."""
    with db.read() as conn:
        row = loyalties.get_member(conn, project.id, member_id, campaign_id)
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.post("/v1/loyalties/{campaign_id}/members/{member_id}/balance")
def update_loyalty_card_balance_in_program(
    campaign_id: str,
    member_id: str,
    body: Annotated[
        LoyaltiesMembersBalanceUpdateRequestBody,
        Depends(json_body(LoyaltiesMembersBalanceUpdateRequestBody)),
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Add or remove points on a held loyalty card of this program."""
    with db.write() as conn:
        result = loyalties.update_member_balance(
            conn, project.id, member_id, _change(body), now=clock(), campaign_id=campaign_id
        )
    return json_response(result.as_wire("points"))
