"""Promotion tiers: create in a PROMOTION campaign, read, update, enable/disable, delete, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.promotions import (
    PromotionsStacksCreateRequestBody,
    PromotionsStacksUpdateRequestBody,
    PromotionsTiersCreateRequestBody,
    PromotionsTiersUpdateRequestBody,
)
from voucherd.api.schemas.vouchers import dump
from voucherd.store import campaigns, promotion_stacks, promotion_tiers
from voucherd.store.errors import InvalidQueryParams

router = APIRouter(tags=["promotions"])


def _tiers_envelope(items: list[object], total: int, offset: int) -> dict[str, object]:
    return list_envelope("tiers", items, total, has_more=offset + len(items) < total)


@router.get("/v1/promotions/tiers")
def list_promotion_tiers(
    request: Request, project: ServerProject, db: DB, clock: Clock
) -> Response:
    """List tiers of every campaign; ``is_available=true`` keeps the redeemable ones."""
    query = list_query(request)
    raw = query.param("is_available")
    if raw is not None and raw.lower() not in ("true", "false"):
        raise InvalidQueryParams("Query param is_available must be true or false")
    available_at = clock() if raw is not None and raw.lower() == "true" else None
    with db.read() as conn:
        items, total = promotion_tiers.list_tiers(
            conn, project.id, query, available_at=available_at
        )
    return json_response(_tiers_envelope(list(items), total, query.offset))


@router.get("/v1/promotions/tiers/{tier_id}")
def get_promotion_tier(tier_id: str, project: ServerProject, db: DB) -> Response:
    """Get one tier."""
    with db.read() as conn:
        row = promotion_tiers.get_promotion_tier(conn, project.id, tier_id)
        return json_response(promotion_tiers.tier_json(conn, project.id, row))


@router.put("/v1/promotions/tiers/{tier_id}")
def update_promotion_tier(
    tier_id: str,
    body: Annotated[
        PromotionsTiersUpdateRequestBody, Depends(json_body(PromotionsTiersUpdateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update the fields present."""
    with db.write() as conn:
        row = promotion_tiers.update_tier(conn, project.id, tier_id, dump(body), now=clock())
        return json_response(promotion_tiers.tier_json(conn, project.id, row))


@router.delete("/v1/promotions/tiers/{tier_id}")
def delete_promotion_tier(tier_id: str, project: ServerProject, db: DB) -> Response:
    """Delete a tier."""
    with db.write() as conn:
        promotion_tiers.delete_tier(conn, project.id, tier_id)
    return no_content()


@router.post("/v1/promotions/tiers/{tier_id}/enable")
def enable_promotion_tier(tier_id: str, project: ServerProject, db: DB, clock: Clock) -> Response:
    """Set ``active`` to true."""
    with db.write() as conn:
        row = promotion_tiers.set_active(conn, project.id, tier_id, True, now=clock())
        return json_response(promotion_tiers.tier_json(conn, project.id, row))


@router.post("/v1/promotions/tiers/{tier_id}/disable")
def disable_promotion_tier(tier_id: str, project: ServerProject, db: DB, clock: Clock) -> Response:
    """Set ``active`` to false."""
    with db.write() as conn:
        row = promotion_tiers.set_active(conn, project.id, tier_id, False, now=clock())
        return json_response(promotion_tiers.tier_json(conn, project.id, row))


@router.post("/v1/promotions/{campaign_id}/tiers")
def add_promotion_tier_to_campaign(
    campaign_id: str,
    body: Annotated[
        PromotionsTiersCreateRequestBody, Depends(json_body(PromotionsTiersCreateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a tier in a PROMOTION campaign."""
    with db.write() as conn:
        campaign = campaigns.get_campaign(conn, project.id, campaign_id)
        row = promotion_tiers.create_tier(conn, project.id, campaign, dump(body), now=clock())
        return json_response(promotion_tiers.tier_json(conn, project.id, row))


@router.get("/v1/promotions/{campaign_id}/tiers")
def list_promotion_tiers_from_campaign(
    campaign_id: str, request: Request, project: ServerProject, db: DB
) -> Response:
    """List one campaign's tiers in hierarchy order."""
    query = list_query(request)
    with db.read() as conn:
        campaign = campaigns.get_campaign(conn, project.id, campaign_id)
        items, total = promotion_tiers.list_tiers(conn, project.id, query, campaign_id=campaign.id)
    return json_response(_tiers_envelope(list(items), total, query.offset))


@router.get("/v1/promotions/stacks")
def list_all_promotion_stacks(request: Request, project: ServerProject, db: DB) -> Response:
    """List the promotion stacks of every campaign, oldest first."""
    query = list_query(request)
    with db.read() as conn:
        items, total = promotion_stacks.list_stacks(conn, project.id, query)
    return json_response(list_envelope("data", list(items), total))


@router.post("/v1/promotions/{campaign_id}/stacks")
def create_promotion_stack(
    campaign_id: str,
    body: Annotated[
        PromotionsStacksCreateRequestBody, Depends(json_body(PromotionsStacksCreateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a named, ordered group of the campaign's tiers."""
    with db.write() as conn:
        stack = promotion_stacks.create_stack(
            conn, project.id, campaign_id, dump(body), now=clock()
        )
    return json_response(stack)


@router.get("/v1/promotions/{campaign_id}/stacks")
def list_promotion_stacks_in_campaign(
    campaign_id: str, request: Request, project: ServerProject, db: DB
) -> Response:
    """List one campaign's stacks, oldest first."""
    query = list_query(request)
    with db.read() as conn:
        items, total = promotion_stacks.list_stacks(
            conn, project.id, query, campaign_ref=campaign_id
        )
    return json_response(list_envelope("data", list(items), total))


@router.get("/v1/promotions/{campaign_id}/stacks/{stack_id}")
def get_promotion_stack(
    campaign_id: str, stack_id: str, project: ServerProject, db: DB
) -> Response:
    """Get one stack."""
    with db.read() as conn:
        return json_response(promotion_stacks.get_stack(conn, project.id, campaign_id, stack_id))


@router.put("/v1/promotions/{campaign_id}/stacks/{stack_id}")
def update_promotion_stack(
    campaign_id: str,
    stack_id: str,
    body: Annotated[
        PromotionsStacksUpdateRequestBody, Depends(json_body(PromotionsStacksUpdateRequestBody))
    ],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Replace the stack's name, tier list or category."""
    with db.write() as conn:
        stack = promotion_stacks.update_stack(
            conn, project.id, campaign_id, stack_id, dump(body), now=clock()
        )
    return json_response(stack)


@router.delete("/v1/promotions/{campaign_id}/stacks/{stack_id}")
def delete_promotion_stack(
    campaign_id: str, stack_id: str, project: ServerProject, db: DB
) -> Response:
    """Delete a stack."""
    with db.write() as conn:
        promotion_stacks.delete_stack(conn, project.id, campaign_id, stack_id)
    return no_content()
