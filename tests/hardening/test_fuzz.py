"""Schemathesis against voucherd's own OpenAPI document: every operation, both databases.

Claims: no request makes a 5xx, every status is documented, and every response body
matches its documented schema (success objects and the error envelope). Positive and
negative examples come from the request-body schemas ``voucherd.api.openapi`` adds.
``make test`` runs a bounded number of examples per operation (FUZZ_EXAMPLES positive,
half as many negative); ``make soak`` raises it through ``VOUCHERD_FUZZ_EXAMPLES``.

Schemathesis' own pytest plugin does not run under pytest 9 here, so each operation is
a parametrized test that drives the operation's Hypothesis strategy itself.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.openapi import document, operations
from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

FUZZ_EXAMPLES = int(os.environ.get("VOUCHERD_FUZZ_EXAMPLES", "20"))
SOAK = os.environ.get("VOUCHERD_SOAK") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SCHEMA = schemathesis.openapi.from_dict(document())
OPERATIONS = operations(("/v1/", "/client/v1/", "/management/v1/"))


def seed(server: ThreadServer, project: ProjectKeys) -> None:
    """Give the fuzzer's project a few objects, so some generated requests find things."""
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        for code in ("string", "0", "FUZZ"):
            http.post(
                f"/v1/vouchers/{code}",
                json={
                    "type": "DISCOUNT_VOUCHER",
                    "discount": {"type": "PERCENT", "percent_off": 5},
                },
            )
        http.post("/v1/vouchers/GIFT", json={"type": "GIFT_VOUCHER", "gift": {"amount": 5000}})
        http.post("/v1/customers", json={"source_id": "string"})
        http.post("/v1/categories", json={"name": "string", "hierarchy": 1})


def test_served_document_is_the_one_fuzzed(server: ThreadServer) -> None:
    assert httpx.get(f"{server.url}/openapi.json").json() == document()


def test_every_post_and_put_documents_its_request_body() -> None:
    paths = document()["paths"]
    without = [
        op
        for op in OPERATIONS
        if op.startswith(("POST", "PUT"))
        and "requestBody" not in paths[op.split(" ", 1)[1]][op.split(" ", 1)[0].lower()]
    ]
    # enable/disable ignore any body (BEHAVIOR §2.3 item 9); every other write has one.
    assert all(op.endswith(("/enable", "/disable")) for op in without), without
    assert len(without) == 6


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_operation_conforms_and_never_fails(
    server: ThreadServer, project: ProjectKeys, operation: str, mode: GenerationMode
) -> None:
    seed(server, project)
    method, path = operation.split(" ", 1)
    api_operation = SCHEMA[path][method]
    headers = {
        "X-App-Id": project.app_id,
        "X-App-Token": project.app_token,
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
        "X-Management-Id": project.app_id,
        "X-Management-Token": project.app_token,
    }
    examples = FUZZ_EXAMPLES if mode is GenerationMode.POSITIVE else max(FUZZ_EXAMPLES // 2, 1)

    @given(case=api_operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # Same examples every `make test` run; `make soak` explores new ones.
        derandomize=not SOAK,
    )
    def run(case: Any) -> None:
        if "project_id" in (case.path_parameters or {}):
            # Aim at our own project, so stacking-rules handlers run past the lookup.
            case.path_parameters["project_id"] = project.id
        case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)

    run()
