"""Concurrent upserts by one source_id make exactly one customer, order or product."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

THREADS = 8


def _race(
    server: ThreadServer, project: ProjectKeys, path: str, body: dict[str, object]
) -> list[httpx.Response]:
    barrier = threading.Barrier(THREADS)
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}

    def fire(n: int) -> httpx.Response:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            barrier.wait()
            return client.post(path, json={**body, "metadata": {f"k{n}": n}})

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(fire, range(THREADS)))


@pytest.mark.race
@pytest.mark.parametrize(
    ("path", "data_ref"),
    [("/v1/customers", "customers"), ("/v1/orders", "orders"), ("/v1/products", "products")],
)
def test_concurrent_upserts_by_source_id_make_one_object(
    server: ThreadServer, project: ProjectKeys, http: httpx.Client, path: str, data_ref: str
) -> None:
    responses = _race(server, project, path, {"source_id": "same"})
    assert [r.status_code for r in responses] == [200] * THREADS
    assert len({r.json()["id"] for r in responses}) == 1
    listed = http.get(path).json()
    assert listed["total"] == 1
    assert listed[data_ref][0]["source_id"] == "same"
