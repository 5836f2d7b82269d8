"""Authentication, the error envelope and the ops surface, through the official SDK."""

from __future__ import annotations

import json

import httpx
import pytest
import voucherify
from voucherify.exceptions import NotFoundException, UnauthorizedException

from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys


def test_sdk_gets_404_envelope_for_an_unknown_redemption(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        voucherify.RedemptionsApi(sdk).get_redemption("r_missing")
    assert caught.value.status == 404
    body = json.loads(caught.value.body)
    assert body["code"] == 404
    assert body["key"] == "not_found"
    assert body["message"] == "Resource not found"
    assert body["resource_id"] == "r_missing"
    assert body["resource_type"] == "redemption"
    assert body["request_id"].startswith("v-")
    assert caught.value.headers["content-type"] == "application/json"
    assert caught.value.headers["x-request-id"] == body["request_id"]


def test_wrong_token_gets_401_envelope(server: ThreadServer, project: ProjectKeys) -> None:
    wrong = ProjectKeys(**{**project.__dict__, "app_token": "not-the-token"})
    with (
        voucherify.ApiClient(sdk_configuration(server.url, wrong)) as client,
        pytest.raises(UnauthorizedException) as caught,
    ):
        voucherify.RedemptionsApi(client).get_redemption("r_missing")
    assert caught.value.status == 401
    body = json.loads(caught.value.body)
    assert (body["code"], body["key"], body["message"]) == (401, "unauthorized", "Unauthorized")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-App-Id": "nobody"},
        {"X-App-Token": "nothing"},
        {"X-App-Id": "nobody", "X-App-Token": "nothing"},
    ],
)
def test_missing_or_unknown_keys_are_401(server: ThreadServer, headers: dict[str, str]) -> None:
    response = httpx.get(f"{server.url}/v1/redemptions/r_x", headers=headers)
    assert response.status_code == 401
    assert response.json()["key"] == "unauthorized"


def test_client_keys_do_not_open_server_routes(server: ThreadServer, project: ProjectKeys) -> None:
    headers = {"X-App-Id": project.client_app_id, "X-App-Token": project.client_token}
    response = httpx.get(f"{server.url}/v1/redemptions/r_x", headers=headers)
    assert response.status_code == 401


def test_another_projects_redemption_is_not_found(
    server: ThreadServer, project: ProjectKeys, http: httpx.Client
) -> None:
    response = http.get("/v1/redemptions/r_missing")
    assert response.status_code == 404
    assert response.json()["resource_id"] == "r_missing"


def test_unknown_route_is_404_envelope(http: httpx.Client) -> None:
    response = http.get("/v1/no-such-thing")
    assert response.status_code == 404
    body = response.json()
    assert body["key"] == "not_found"
    assert body["code"] == 404
    assert body["request_id"].startswith("v-")
    assert response.headers["content-type"] == "application/json"


def test_wrong_method_is_405_envelope(http: httpx.Client) -> None:
    response = http.delete("/v1/redemptions/r_x")
    assert response.status_code == 405
    assert response.json()["key"] == "method_not_allowed"


def test_oversized_body_is_413_envelope(http: httpx.Client) -> None:
    response = http.post(
        "/v1/redemptions",
        content=b"{" + b" " * (11 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    body = response.json()
    assert (body["code"], body["key"]) == (413, "payload_too_large")
    assert body["request_id"].startswith("v-")


def test_health_reports_the_database(server: ThreadServer) -> None:
    response = httpx.get(f"{server.url}/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] in ("sqlite", "postgresql")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("v-")


def test_openapi_docs_are_served(server: ThreadServer) -> None:
    assert httpx.get(f"{server.url}/docs").status_code == 200
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/v1/redemptions/{redemption_id}" in spec["paths"]
