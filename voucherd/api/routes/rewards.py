"""Rewards and reward assignments under /v1/rewards (BEHAVIOR.md §9)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.rewards import (
    RewardsAssignmentsCreateRequestBody,
    RewardsAssignmentsCreateRequestBodyParametersLoyalty,
    RewardsAssignmentsUpdateRequestBody,
    RewardsCreateRequestBody,
    RewardsUpdateRequestBody,
)
from voucherd.store import rewards

router = APIRouter(tags=["rewards"])

AssignmentBody = RewardsAssignmentsCreateRequestBody
AssignmentUpdateBody = RewardsAssignmentsUpdateRequestBody
Loyalty = RewardsAssignmentsCreateRequestBodyParametersLoyalty


@router.post("/v1/rewards")
def create_reward(
    body: Annotated[RewardsCreateRequestBody, Depends(json_body(RewardsCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a CAMPAIGN, COIN or MATERIAL reward."""
    reward_type = body.reward_type()
    with db.write() as conn:
        created = rewards.create_reward(
            conn, project.id, reward_type=reward_type, fields=body.fields(), now=clock()
        )
    return json_response(created)


@router.get("/v1/rewards")
def list_rewards(request: Request, project: ServerProject, db: DB) -> Response:
    """List rewards, newest first (optionally only the one of ``assignment_id``)."""
    query = list_query(request)
    with db.read() as conn:
        items, total = rewards.list_rewards(
            conn, project.id, query, assignment_id=query.param("assignment_id")
        )
    return json_response(list_envelope("data", list(items), total))


@router.get("/v1/rewards/{reward_id}")
def get_reward(reward_id: str, project: ServerProject, db: DB) -> Response:
    """Get a reward."""
    with db.read() as conn:
        return json_response(rewards.get_reward(conn, project.id, reward_id))


@router.put("/v1/rewards/{reward_id}")
def update_reward(
    reward_id: str,
    body: Annotated[RewardsUpdateRequestBody, Depends(json_body(RewardsUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update a reward's name, parameters, stock, attributes or metadata."""
    with db.write() as conn:
        updated = rewards.update_reward(conn, project.id, reward_id, body.fields(), now=clock())
    return json_response(updated)


@router.delete("/v1/rewards/{reward_id}")
def delete_reward(reward_id: str, project: ServerProject, db: DB) -> Response:
    """Delete a reward and its assignments."""
    with db.write() as conn:
        rewards.delete_reward(conn, project.id, reward_id)
    return no_content()


@router.post("/v1/rewards/{reward_id}/assignments")
def create_reward_assignment(
    reward_id: str,
    body: Annotated[AssignmentBody, Depends(json_body(AssignmentBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Make a reward available in a loyalty campaign for a number of points."""
    loyalty = body.parameters.loyalty if body.parameters is not None else None
    points = loyalty.points if loyalty is not None else None
    with db.write() as conn:
        created = rewards.create_reward_assignment(
            conn,
            project.id,
            reward_id,
            campaign_id=body.campaign,
            points=points,
            auto_redeem=loyalty.auto_redeem if loyalty is not None else None,
            validation_rule_ids=body.validation_rules or (),
            now=clock(),
        )
    return json_response(created)


@router.get("/v1/rewards/{reward_id}/assignments")
def list_reward_assignments(
    reward_id: str, request: Request, project: ServerProject, db: DB
) -> Response:
    """List where a reward is assigned, newest first."""
    query = list_query(request)
    with db.read() as conn:
        items, total = rewards.list_reward_assignments(conn, project.id, reward_id, query)
    return json_response(list_envelope("data", list(items), total))


@router.get("/v1/rewards/{reward_id}/assignments/{assignment_id}")
def get_reward_assignment(
    reward_id: str, assignment_id: str, project: ServerProject, db: DB
) -> Response:
    """Get one reward assignment."""
    with db.read() as conn:
        return json_response(
            rewards.get_reward_assignment(conn, project.id, reward_id, assignment_id)
        )


@router.put("/v1/rewards/{reward_id}/assignments/{assignment_id}")
def update_reward_assignment(
    reward_id: str,
    assignment_id: str,
    body: Annotated[AssignmentUpdateBody, Depends(json_body(AssignmentUpdateBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Change the points price or auto-redeem flag of a reward assignment."""
    loyalty = (body.parameters.loyalty if body.parameters else None) or Loyalty()
    with db.write() as conn:
        updated = rewards.update_reward_assignment(
            conn,
            project.id,
            reward_id,
            assignment_id,
            points=loyalty.points,
            auto_redeem=loyalty.auto_redeem,
            now=clock(),
        )
    return json_response(updated)


@router.delete("/v1/rewards/{reward_id}/assignments/{assignment_id}")
def delete_reward_assignment(
    reward_id: str, assignment_id: str, project: ServerProject, db: DB
) -> Response:
    """Remove a reward from a campaign."""
    with db.write() as conn:
        rewards.delete_reward_assignment(conn, project.id, reward_id, assignment_id)
    return no_content()
