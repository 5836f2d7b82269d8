"""Optional per-project rate limiting: off by default; with a limit, headers and 429."""

from __future__ import annotations

import httpx
import pytest

from tests.support.rows import count_rows
from tests.support.servers import ThreadServer
from voucherd.api.ratelimit import Limit, RateLimiter, limit_of
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys


def test_rate_limiting_is_off_by_default(http: httpx.Client) -> None:
    for _ in range(30):
        response = http.get("/v1/vouchers")
        assert response.status_code == 200
        assert "x-rate-limit-limit" not in response.headers


def test_a_limited_project_gets_headers_then_429_with_retry_after(
    server: ThreadServer, db: Database, project: ProjectKeys, http: httpx.Client
) -> None:
    with db.write() as conn:
        projects.update_settings(
            conn, project.id, {"rate_limit": {"requests": 3, "per_seconds": 60}}
        )
    before = count_rows(db, project.id)
    answers = [http.get("/v1/vouchers") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["X-Rate-Limit-Limit"] for a in answers} == {"3"}
    assert all(0 < int(a.headers["X-Rate-Limit-Reset"]) <= 60 for a in answers)
    refused = http.post("/v1/redemptions", json={"redeemables": [{"object": "voucher", "id": "X"}]})
    assert refused.status_code == 429
    body = refused.json()
    assert (body["code"], body["key"]) == (429, "too_many_requests")
    assert body["request_id"] == refused.headers["X-Request-Id"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-Rate-Limit-Remaining"] == "0"
    # The refused redemption wrote nothing (not even a failed redemption record).
    assert count_rows(db, project.id) == before


def test_the_limit_is_per_project(
    server: ThreadServer, db: Database, project: ProjectKeys, http: httpx.Client
) -> None:
    with db.write() as conn:
        projects.update_settings(
            conn, project.id, {"rate_limit": {"requests": 1, "per_seconds": 60}}
        )
        other = projects.create_project(conn, f"other-{project.id}")
    assert http.get("/v1/vouchers").status_code == 200
    assert http.get("/v1/vouchers").status_code == 429
    headers = {"X-App-Id": other.app_id, "X-App-Token": other.app_token}
    assert httpx.get(f"{server.url}/v1/vouchers", headers=headers).status_code == 200


def test_the_window_resets() -> None:
    now = [100.0]
    limiter = RateLimiter(clock=lambda: now[0])
    limit = Limit(requests=2, per_seconds=10)
    assert "Retry-After" not in limiter.hit("p", limit)
    assert "Retry-After" not in limiter.hit("p", limit)
    assert limiter.hit("p", limit)["Retry-After"] == "10"
    now[0] = 107.5
    assert limiter.hit("p", limit)["Retry-After"] == "3"
    now[0] = 110.0
    assert limiter.hit("p", limit) == {
        "X-Rate-Limit-Limit": "2",
        "X-Rate-Limit-Remaining": "1",
        "X-Rate-Limit-Reset": "10",
    }


@pytest.mark.parametrize(
    "value",
    [
        None,
        "10/s",
        {"requests": 0, "per_seconds": 1},
        {"requests": 5},
        {"requests": True, "per_seconds": 1},
        {"requests": 5, "per_seconds": -1},
    ],
)
def test_a_malformed_limit_means_no_limit(value: object) -> None:
    assert limit_of({"rate_limit": value}) is None
