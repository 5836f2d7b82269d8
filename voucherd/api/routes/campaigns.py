"""Campaigns: create with generated codes, read, update, enable/disable, delete, list, add vouchers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_array_body, json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response
from voucherd.api.schemas.campaigns import (
    CampaignsCreateRequestBody,
    CampaignsImportCreateRequestBody,
    CampaignsUpdateRequestBody,
    CampaignsVouchersCreateInBulkRequestBody,
    CampaignsVouchersCreateRequestBody,
)
from voucherd.api.schemas.vouchers import dump
from voucherd.store import campaign_summary, campaigns, imports, vouchers

router = APIRouter(tags=["campaigns"])


@router.post("/v1/campaigns")
def create_campaign(
    body: Annotated[CampaignsCreateRequestBody, Depends(json_body(CampaignsCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a campaign of any type and generate its vouchers or tiers."""
    with db.write() as conn:
        row = campaigns.create_campaign(conn, project.id, dump(body), now=clock())
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.get("/v1/campaigns")
def list_campaigns(request: Request, project: ServerProject, db: DB) -> Response:
    """List campaigns, newest first."""
    query = list_query(request)
    with db.read() as conn:
        items, total = campaigns.list_campaigns(conn, project.id, query)
    return json_response(list_envelope("campaigns", list(items), total))


@router.get("/v1/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, project: ServerProject, db: DB) -> Response:
    """Get a campaign by id or name."""
    with db.read() as conn:
        row = campaigns.get_campaign(conn, project.id, campaign_id)
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.put("/v1/campaigns/{campaign_id}")
def update_campaign(
    campaign_id: str,
    body: Annotated[CampaignsUpdateRequestBody, Depends(json_body(CampaignsUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update the fields present; propagate to vouchers not yet published or redeemed."""
    with db.write() as conn:
        row = campaigns.update_campaign(conn, project.id, campaign_id, dump(body), now=clock())
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.delete("/v1/campaigns/{campaign_id}")
def delete_campaign(
    campaign_id: str, project: ServerProject, db: DB, clock: Clock, force: bool = False
) -> Response:
    """Delete a campaign, its vouchers and tiers (202 with the async action id)."""
    with db.write() as conn:
        action_id = campaigns.delete_campaign(conn, project.id, campaign_id, now=clock())
    return json_response({"async_action_id": action_id}, 202)


@router.post("/v1/campaigns/{campaign_id}/enable")
def enable_campaign(campaign_id: str, project: ServerProject, db: DB, clock: Clock) -> Response:
    """Set ``active`` to true."""
    with db.write() as conn:
        row = campaigns.set_active(conn, project.id, campaign_id, True, now=clock())
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.post("/v1/campaigns/{campaign_id}/disable")
def disable_campaign(campaign_id: str, project: ServerProject, db: DB, clock: Clock) -> Response:
    """Set ``active`` to false."""
    with db.write() as conn:
        row = campaigns.set_active(conn, project.id, campaign_id, False, now=clock())
        return json_response(campaigns.campaign_json(conn, project.id, row))


@router.post("/v1/campaigns/{campaign_id}/vouchers")
def add_vouchers_to_campaign(
    campaign_id: str,
    body: Annotated[
        CampaignsVouchersCreateInBulkRequestBody,
        Depends(json_body(CampaignsVouchersCreateInBulkRequestBody)),
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
    vouchers_count: int = 1,
) -> Response:
    """Add vouchers from the template: one → 200 with it; more → 202 with an async action id."""
    with db.write() as conn:
        row, action_id = campaigns.add_vouchers(
            conn, project.id, campaign_id, vouchers_count, dump(body), now=clock()
        )
        if row is None:
            return json_response({"async_action_id": action_id}, 202)
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.post("/v1/campaigns/{campaign_id}/vouchers/{code}")
def add_voucher_with_specific_code_to_campaign(
    campaign_id: str,
    code: str,
    body: Annotated[
        CampaignsVouchersCreateRequestBody, Depends(json_body(CampaignsVouchersCreateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Add one voucher with the code from the path."""
    with db.write() as conn:
        row = campaigns.add_voucher_with_code(
            conn, project.id, campaign_id, code, dump(body), now=clock()
        )
        return json_response(vouchers.voucher_json(conn, project.id, row))


@router.post("/v1/campaigns/{campaign_id}/import")
def import_vouchers_to_campaign(
    campaign_id: str,
    items: Annotated[list[Any], Depends(json_array_body(CampaignsImportCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create the array's codes in the campaign at once; 202 with the async action id."""
    bodies = [dump(item) for item in items]
    with db.write() as conn:
        action_id = imports.import_to_campaign(conn, project.id, campaign_id, bodies, now=clock())
    return json_response({"async_action_id": action_id}, 202)


@router.get("/v1/campaigns/{campaign_id}/summary")
def get_campaign_summary(
    campaign_id: str,
    project: ServerProject,
    db: DB,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    """Counters of the campaign's redemptions, rollbacks, vouchers and balance movements."""
    start_at, end_at = campaign_summary.date_range(start_date, end_date)
    with db.read() as conn:
        summary = campaign_summary.campaign_summary(
            conn, project.id, campaign_id, start_date=start_at, end_date=end_at
        )
    return json_response(summary)
