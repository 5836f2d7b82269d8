"""Stacking rules under /management/v1/projects/{projectId}/stacking-rules (BEHAVIOR.md §10.1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ManagementProject
from voucherd.api.listing import list_envelope
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.stacking_rules import (
    ManagementProjectsStackingRulesCreateRequestBody,
    ManagementProjectsStackingRulesUpdateRequestBody,
)
from voucherd.store import stacking_rules
from voucherd.store.errors import NotFound
from voucherd.store.projects import Project

router = APIRouter(tags=["stacking rules"])

BASE = "/management/v1/projects/{project_id}/stacking-rules"
CreateBody = ManagementProjectsStackingRulesCreateRequestBody
UpdateBody = ManagementProjectsStackingRulesUpdateRequestBody


def _own(project: Project, project_id: str) -> str:
    """The management keys reach only their own project, by id or by name."""
    if project_id not in (project.id, project.name):
        raise NotFound("project", project_id)
    return project.id


@router.get(BASE)
def list_stacking_rules(project_id: str, project: ManagementProject, db: DB) -> Response:
    """The project's effective stacking rules as a one-item list."""
    own = _own(project, project_id)
    with db.read() as conn:
        items = stacking_rules.list_stacking_rules(conn, own)
    return json_response(list_envelope("data", list(items), len(items)))


@router.post(BASE)
def create_stacking_rules(
    project_id: str,
    body: Annotated[CreateBody, Depends(json_body(CreateBody))],
    project: ManagementProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create the project's stacking rules (409 when they exist)."""
    own = _own(project, project_id)
    with db.write() as conn:
        created = stacking_rules.create_stacking_rules(conn, own, body.given(), now=clock())
    return json_response(created)


@router.get(BASE + "/{stacking_rules_id}")
def get_stacking_rules(
    project_id: str, stacking_rules_id: str, project: ManagementProject, db: DB
) -> Response:
    """Get the project's stacking rules by id."""
    own = _own(project, project_id)
    with db.read() as conn:
        return json_response(stacking_rules.get_stacking_rules(conn, own, stacking_rules_id))


@router.put(BASE + "/{stacking_rules_id}")
def update_stacking_rules(
    project_id: str,
    stacking_rules_id: str,
    body: Annotated[UpdateBody, Depends(json_body(UpdateBody))],
    project: ManagementProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Partially update the stacking rules."""
    own = _own(project, project_id)
    with db.write() as conn:
        updated = stacking_rules.update_stacking_rules(
            conn, own, stacking_rules_id, body.given(), now=clock()
        )
    return json_response(updated)


@router.delete(BASE + "/{stacking_rules_id}")
def delete_stacking_rules(
    project_id: str, stacking_rules_id: str, project: ManagementProject, db: DB
) -> Response:
    """Delete the stacking rules; the project falls back to the defaults."""
    own = _own(project, project_id)
    with db.write() as conn:
        stacking_rules.delete_stacking_rules(conn, own, stacking_rules_id)
    return no_content()
