"""Concurrent code generation never hands out one code twice in a project.

Campaigns draw from a deliberately tiny code space (two or three digits) so
that concurrent generators collide on almost every batch; the store must retry
only the colliding codes and still create exactly what was asked for.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

pytestmark = pytest.mark.race

THREADS = 6


# Two digits: 90 of 100 codes, small inserts. Three digits: 900 of 1000 codes, large
# enough batches to take PostgreSQL's COPY path.
@pytest.mark.parametrize(("pattern", "per_campaign"), [("##", 15), ("###", 150)])
def test_concurrent_campaign_creations_share_no_code(
    server: ThreadServer, project: ProjectKeys, http: httpx.Client, pattern: str, per_campaign: int
) -> None:
    barrier = threading.Barrier(THREADS)
    responses: list[httpx.Response] = []
    errors: list[BaseException] = []
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}

    def create(n: int) -> None:
        body: dict[str, Any] = {
            "name": f"race-{n}",
            "vouchers_count": per_campaign,
            "voucher": {
                "type": "DISCOUNT_VOUCHER",
                "discount": {"type": "AMOUNT", "amount_off": 100},
                "code_config": {"pattern": pattern, "charset": "0123456789"},
            },
        }
        try:
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
                barrier.wait()
                responses.append(client.post("/v1/campaigns", json=body))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(r.status_code for r in responses) == [200] * THREADS
    assert sorted(r.json()["vouchers_count"] for r in responses) == [per_campaign] * THREADS
    codes: list[str] = []
    for n in range(THREADS):
        for page in (1, 2):
            listed = http.get(
                "/v1/vouchers", params={"campaign": f"race-{n}", "limit": 100, "page": page}
            ).json()
            assert listed["total"] == per_campaign
            codes.extend(v["code"] for v in listed["vouchers"])
    assert len(codes) == THREADS * per_campaign
    assert len(set(codes)) == len(codes)
    assert http.get("/v1/vouchers").json()["total"] == THREADS * per_campaign


def test_concurrent_creations_of_one_name_make_one_campaign(
    server: ThreadServer, project: ProjectKeys, http: httpx.Client
) -> None:
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}

    def create() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            barrier.wait()
            response = client.post("/v1/campaigns", json={"name": "only-one", "vouchers_count": 2})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [409] * (THREADS - 1)
    assert http.get("/v1/campaigns").json()["total"] == 1
    assert http.get("/v1/vouchers").json()["total"] == 2
