"""Concurrent manual removals on one gift card never take it below zero (BEHAVIOR.md §8).

Threads released by one barrier fire ``POST /v1/vouchers/{code}/balance`` at the
in-thread server; the guarded UPDATE lets exactly as many through as the balance
covers, and the ledger says what the card says.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
import voucherify

from tests.support.redeeming import gift_card
from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

pytestmark = pytest.mark.race

RACERS = 20


def test_parallel_removals_stop_at_zero_and_match_the_ledger(
    server: ThreadServer, sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    gift_card(sdk, "GC-RACE", amount=5500)
    barrier = threading.Barrier(RACERS)
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    statuses: list[tuple[int, str]] = []
    lock = threading.Lock()

    def remove() -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            barrier.wait(timeout=30)
            response = client.post("/v1/vouchers/GC-RACE/balance", json={"amount": -1000})
        body = response.json()
        with lock:
            statuses.append((response.status_code, body.get("key", "ok")))

    threads = [threading.Thread(target=remove) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert Counter(statuses) == {(200, "ok"): 5, (400, "invalid_add_balance_params"): 15}
    gift = voucherify.VouchersApi(sdk).get_voucher("GC-RACE").gift
    assert (gift.amount, gift.subtracted_amount, gift.balance) == (5500, 5000, 500)
    rows = voucherify.VouchersApi(sdk).list_voucher_transactions("GC-RACE", limit=100).data
    assert [r.type for r in rows] == ["CREDITS_REMOVAL"] * 5
    # Each removal saw the balance the previous one left: 4500, 3500, ..., 500.
    assert sorted(r.details.balance.balance for r in rows) == [500, 1500, 2500, 3500, 4500]
    assert rows[0].details.balance.balance == gift.balance
    assert 5500 + sum(r.details.balance.amount for r in rows) == gift.balance
