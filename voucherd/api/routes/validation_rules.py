"""Validation rules and their assignments under /v1 (BEHAVIOR.md §11)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope, list_query
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.validation_rules import (
    ValidationRulesAssignmentsCreateRequestBody,
    ValidationRulesCreateRequestBody,
    ValidationRulesUpdateRequestBody,
)
from voucherd.store import validation_rules
from voucherd.store.errors import InvalidPayload, InvalidQueryParams
from voucherd.store.wire import parse_datetime

router = APIRouter(tags=["validation rules"])

CreateBody = ValidationRulesCreateRequestBody
UpdateBody = ValidationRulesUpdateRequestBody
AssignmentBody = ValidationRulesAssignmentsCreateRequestBody


def _date_param(name: str, raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        return parse_datetime(raw, name)
    except InvalidPayload as exc:
        raise InvalidQueryParams(
            f"Query param {name} must be an ISO 8601 date or date-time"
        ) from exc


@router.post("/v1/validation-rules")
def create_validation_rules(
    body: Annotated[CreateBody, Depends(json_body(CreateBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a validation rule set."""
    with db.write() as conn:
        created = validation_rules.create_validation_rule(
            conn, project.id, body.given(), now=clock()
        )
    return json_response(created)


@router.get("/v1/validation-rules")
def list_validation_rules(request: Request, project: ServerProject, db: DB) -> Response:
    """List validation rule sets (newest first unless ``order`` says otherwise)."""
    query = list_query(request)
    start = _date_param("start_date", query.param("start_date"))
    end = _date_param("end_date", query.param("end_date"))
    with db.read() as conn:
        items, total = validation_rules.list_validation_rules(
            conn, project.id, query, start_date=start, end_date=end
        )
    return json_response(list_envelope("data", list(items), total))


@router.get("/v1/validation-rules-assignments")
def list_validation_rules_assignments(request: Request, project: ServerProject, db: DB) -> Response:
    """List assignments of every rule set, optionally by ``related_object_id`` or ``rule``."""
    query = list_query(request)
    with db.read() as conn:
        items, total = validation_rules.list_assignments(
            conn,
            project.id,
            query,
            rule_id=query.param("rule"),
            related_object_id=query.param("related_object_id"),
        )
    return json_response(list_envelope("data", list(items), total))


@router.get("/v1/validation-rules/{rule_id}")
def get_validation_rule(rule_id: str, project: ServerProject, db: DB) -> Response:
    """Get a validation rule set."""
    with db.read() as conn:
        return json_response(validation_rules.get_validation_rule(conn, project.id, rule_id))


@router.put("/v1/validation-rules/{rule_id}")
def update_validation_rule(
    rule_id: str,
    body: Annotated[UpdateBody, Depends(json_body(UpdateBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update the given fields of a validation rule set."""
    with db.write() as conn:
        updated = validation_rules.update_validation_rule(
            conn, project.id, rule_id, body.given(), now=clock()
        )
    return json_response(updated)


@router.delete("/v1/validation-rules/{rule_id}")
def delete_validation_rules(rule_id: str, project: ServerProject, db: DB) -> Response:
    """Delete a validation rule set and its assignments."""
    with db.write() as conn:
        validation_rules.delete_validation_rule(conn, project.id, rule_id)
    return no_content()


@router.post("/v1/validation-rules/{rule_id}/assignments")
def create_validation_rule_assignment(
    rule_id: str,
    body: Annotated[AssignmentBody, Depends(json_body(AssignmentBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
    force: bool = False,
) -> Response:
    """Assign a rule set to a voucher, campaign, tier, earning rule, reward assignment or distribution."""
    with db.write() as conn:
        created = validation_rules.create_assignment(
            conn,
            project.id,
            rule_id,
            related_object_type=body.related_object_type,
            related_object_id=body.related_object_id,
            force=force,
            now=clock(),
        )
    return json_response(created)


@router.get("/v1/validation-rules/{rule_id}/assignments")
def list_validation_rule_assignments(
    rule_id: str, request: Request, project: ServerProject, db: DB
) -> Response:
    """List the assignments of one rule set (empty for an unknown rule)."""
    query = list_query(request)
    with db.read() as conn:
        items, total = validation_rules.list_assignments(conn, project.id, query, rule_id=rule_id)
    return json_response(list_envelope("data", list(items), total))


@router.delete("/v1/validation-rules/{rule_id}/assignments/{assignment_id}")
def delete_validation_rule_assignment(
    rule_id: str, assignment_id: str, project: ServerProject, db: DB
) -> Response:
    """Remove one assignment."""
    with db.write() as conn:
        validation_rules.delete_assignment(conn, project.id, rule_id, assignment_id)
    return no_content()
