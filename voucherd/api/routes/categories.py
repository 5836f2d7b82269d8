"""Categories: CRUD under /v1/categories (BEHAVIOR.md §10.3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from voucherd.api.body import json_body
from voucherd.api.deps import DB, Clock, ServerProject
from voucherd.api.listing import list_envelope
from voucherd.api.responses import json_response, no_content
from voucherd.api.schemas.categories import (
    CategoriesCreateRequestBody,
    CategoriesUpdateRequestBody,
)
from voucherd.store import categories

router = APIRouter(tags=["categories"])


@router.post("/v1/categories")
def create_category(
    body: Annotated[CategoriesCreateRequestBody, Depends(json_body(CategoriesCreateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Create a category."""
    with db.write() as conn:
        created = categories.create_category(
            conn, project.id, name=body.name, hierarchy=body.hierarchy, now=clock()
        )
    return json_response(created)


@router.get("/v1/categories")
def list_categories(project: ServerProject, db: DB) -> Response:
    """List every category, newest first."""
    with db.read() as conn:
        items = categories.list_categories(conn, project.id)
    return json_response(list_envelope("data", list(items), len(items)))


@router.get("/v1/categories/{category_id}")
def get_category(category_id: str, project: ServerProject, db: DB) -> Response:
    """Get a category."""
    with db.read() as conn:
        return json_response(categories.get_category(conn, project.id, category_id))


@router.put("/v1/categories/{category_id}")
def update_category(
    category_id: str,
    body: Annotated[CategoriesUpdateRequestBody, Depends(json_body(CategoriesUpdateRequestBody))],
    project: ServerProject,
    db: DB,
    clock: Clock,
) -> Response:
    """Update a category's name and hierarchy."""
    with db.write() as conn:
        updated = categories.update_category(
            conn, project.id, category_id, name=body.name, hierarchy=body.hierarchy, now=clock()
        )
    return json_response(updated)


@router.delete("/v1/categories/{category_id}")
def delete_category(
    category_id: str,
    project: ServerProject,
    db: DB,
    clock: Clock,
    remove_from_stacking_rules: bool = False,
) -> Response:
    """Delete a category; refused while stacking rules use it unless told to remove it."""
    with db.write() as conn:
        categories.delete_category(
            conn,
            project.id,
            category_id,
            remove_from_stacking_rules=remove_from_stacking_rules,
            now=clock(),
        )
    return no_content()
