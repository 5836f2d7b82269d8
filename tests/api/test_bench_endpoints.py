"""The benchmark's ceiling route exists only when VOUCHERD_BENCH_ENDPOINTS is on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.servers import ThreadServer
from voucherd.api.app import create_app
from voucherd.settings import Settings
from voucherd.store.db import Database


def post_in_process(db: Database, content: bytes) -> httpx.Response:
    """POST /_bench/echo to an app built with the bench endpoints on (no socket)."""
    app = create_app(Settings(database_url=db.url, bench_endpoints=True), db=db)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            response = await client.post(
                "/_bench/echo", content=content, headers={"Content-Type": "application/json"}
            )
            await response.aread()
            return response

    return asyncio.run(call())


def test_bench_endpoints_setting_is_off_by_default() -> None:
    assert Settings().bench_endpoints is False


def test_echo_route_is_absent_by_default(server: ThreadServer) -> None:
    response = httpx.post(f"{server.url}/_bench/echo", json={"a": 1})
    assert response.status_code == 404
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/_bench/echo" not in spec["paths"]


def test_echo_route_returns_its_json_body_when_enabled(db: Database) -> None:
    body: dict[str, Any] = {"order": {"source_id": "o-1", "items": [{"quantity": 2}]}, "n": 1}
    response = post_in_process(db, httpx.Request("POST", "/", json=body).content)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == body


def test_echo_route_rejects_a_body_that_is_not_json(db: Database) -> None:
    response = post_in_process(db, b"{not json")
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
