"""Concurrent creates of one-per-key objects: exactly one wins, the rest get the 409."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

pytestmark = pytest.mark.race

THREADS = 8


def race(call: Callable[[httpx.Client], httpx.Response]) -> list[httpx.Response]:
    """Fire ``call`` from THREADS threads released together by a barrier."""
    barrier = threading.Barrier(THREADS)
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            response = call(client)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_concurrent_stacking_rules_creates_leave_one(
    server: ThreadServer, project: ProjectKeys
) -> None:
    url = f"{server.url}/management/v1/projects/{project.id}/stacking-rules"
    headers = {"X-Management-Id": project.app_id, "X-Management-Token": project.app_token}
    responses = race(lambda c: c.post(url, headers=headers, json={"redeemables_limit": 10}))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: THREADS - 1}
    assert {r.json()["key"] for r in responses if r.status_code == 409} == {"stacking_rules_exist"}
    listed = httpx.get(url, headers=headers).json()
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert listed["data"][0]["id"] == winner["id"]


def test_concurrent_duplicate_assignments_leave_one_and_name_it(
    server: ThreadServer, project: ProjectKeys, http: httpx.Client
) -> None:
    rule_id = http.post("/v1/validation-rules", json={"name": "R"}).json()["id"]
    voucher = http.post(
        "/v1/vouchers/RACE-RULE",
        json={"type": "DISCOUNT_VOUCHER", "discount": {"type": "PERCENT", "percent_off": 5}},
    ).json()["id"]
    url = f"{server.url}/v1/validation-rules/{rule_id}/assignments"
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    body = {"related_object_type": "voucher", "related_object_id": voucher}
    responses = race(lambda c: c.post(url, headers=headers, json=body))
    assert Counter(r.status_code for r in responses) == {200: 1, 409: THREADS - 1}
    winner = next(r.json()["id"] for r in responses if r.status_code == 200)
    assert {r.json()["resource_id"] for r in responses if r.status_code == 409} == {winner}
    listed = http.get(url).json()
    assert (listed["total"], listed["data"][0]["id"]) == (1, winner)
