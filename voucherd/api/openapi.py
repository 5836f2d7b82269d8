"""The OpenAPI document: request bodies, error envelopes and key schemes FastAPI cannot see.

Routes parse bodies with the ``json_body(model)`` dependency (so §2.3's leniency applies),
which hides the body from FastAPI's generator, and return ``Response`` objects, which it
documents as a string. ``install`` wraps ``app.openapi`` once so the served document says
what the server does: each route's request body from its pydantic model, success answers as
JSON objects, every error as Voucherify's envelope (the 422 FastAPI assumes is never sent:
voucherd answers 400), and the key pair each API takes. The fuzz tests
(tests/hardening/test_fuzz.py) hold the server to this document.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from voucherd.api.body import BODY_MODEL_ATTRIBUTE

REF = "#/components/schemas/{model}"
ENVELOPE = "ErrorEnvelope"
ERROR_STATUSES = {
    "400": "Invalid payload, query or business rule (`key` says which)",
    "401": "Missing or wrong keys",
    "403": "Forbidden (client origin or project setting)",
    "404": "Unknown object or route",
    "409": "Duplicate",
    "413": "Body over VOUCHERD_MAX_BODY_BYTES",
    "429": "Project rate limit exceeded",
}
# Header pairs per API (BEHAVIOR §2.2); the names double as security scheme names.
KEY_HEADERS = {
    "server": ("X-App-Id", "X-App-Token"),
    "client": ("X-Client-Application-Id", "X-Client-Token"),
    "management": ("X-Management-Id", "X-Management-Token"),
}


def _envelope_schema() -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "description": "Voucherify's error envelope (BEHAVIOR §3.1); `code` equals the status.",
        "required": ["code", "key", "message"],
        "properties": {
            "code": {"type": "integer"},
            "key": {"type": "string"},
            "message": {"type": "string"},
            "details": text,
            "request_id": text,
            "resource_id": text,
            "resource_type": text,
        },
    }


def body_model(dependant: Dependant) -> type[BaseModel] | None:
    """The model a route's ``json_body`` dependency parses, searched depth-first."""
    for dependency in dependant.dependencies:
        model = getattr(dependency.call, BODY_MODEL_ATTRIBUTE, None)
        if model is not None:
            return model  # type: ignore[no-any-return]
        found = body_model(dependency)
        if found is not None:
            return found
    return None


def _routes(routers: Iterable[APIRouter]) -> Iterator[APIRoute]:
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                yield route


def _success(method: str) -> dict[str, Any]:
    obj = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    accepted = {**obj, "description": "Accepted (async action)"}
    if method == "delete":
        return {"200": obj, "202": accepted, "204": {"description": "Deleted"}}
    if method == "post":
        return {"200": obj, "202": accepted}
    return {"200": obj}


def build_document(app: FastAPI, groups: dict[str, list[APIRouter]]) -> dict[str, Any]:
    """FastAPI's document, completed as the module docstring describes."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    bodies: dict[tuple[str, str], type[BaseModel]] = {}
    schemes: dict[tuple[str, str], str] = {}
    for group, routers in groups.items():
        for route in _routes(routers):
            for method in route.methods or ():
                key = (route.path, method.lower())
                if group in KEY_HEADERS:
                    schemes[key] = group
                model = body_model(route.dependant)
                if model is not None:
                    bodies[key] = model
    models = sorted(set(bodies.values()), key=lambda m: (m.__module__, m.__qualname__))
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(defs.get("$defs", {}))
    schemas[ENVELOPE] = _envelope_schema()
    components["securitySchemes"] = {
        header: {"type": "apiKey", "in": "header", "name": header}
        for pair in KEY_HEADERS.values()
        for header in pair
    }
    error = {"content": {"application/json": {"schema": {"$ref": REF.format(model=ENVELOPE)}}}}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/health"):
                continue
            model = bodies.get((path, method))
            if model is not None:
                operation["requestBody"] = {
                    # An empty body reads as {} (BEHAVIOR §2.3 item 9); the schema decides.
                    "required": False,
                    "content": {"application/json": {"schema": refs[(model, "validation")]}},
                }
            operation["responses"] = {
                **_success(method),
                **{code: {"description": text, **error} for code, text in ERROR_STATUSES.items()},
            }
            scheme = schemes.get((path, method))
            if scheme is not None:
                operation["security"] = [{header: [] for header in KEY_HEADERS[scheme]}]
    return document


def install(app: FastAPI, groups: dict[str, list[APIRouter]]) -> None:
    """Serve ``build_document`` at ``/openapi.json`` (built on first request, then cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app, groups)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
