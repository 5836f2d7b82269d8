"""Concurrent add-member calls never publish one loyalty card twice (BEHAVIOR.md §9).

Ten customers join a STATIC program holding five cards at once: five get a card
each, five get ``no_voucher_suitable_for_publication``, and no card has two holders.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest
import voucherify

from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

pytestmark = pytest.mark.race

RACERS = 10


def test_parallel_joins_share_out_the_free_cards(
    server: ThreadServer, sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    program = voucherify.LoyaltiesApi(sdk).create_loyalty_program(
        voucherify.LoyaltiesCreateCampaignRequestBody.from_dict(
            {
                "name": "race-loyalty",
                "type": "STATIC",
                "vouchers_count": 5,
                "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": 0}},
            }
        )
    )
    barrier = threading.Barrier(RACERS)
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def join(index: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            barrier.wait(timeout=30)
            response = client.post(
                f"/v1/loyalties/{program.id}/members",
                json={"customer": {"source_id": f"racer-{index}"}},
            )
        body = response.json()
        with lock:
            # The card's code on success, the error key otherwise.
            answers.append((response.status_code, body["code" if response.is_success else "key"]))

    threads = [threading.Thread(target=join, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = Counter(status for status, _ in answers)
    assert statuses == {200: 5, 400: 5}
    assert {key for status, key in answers if status == 400} == {
        "no_voucher_suitable_for_publication"
    }
    codes = [key for status, key in answers if status == 200]
    assert len(set(codes)) == 5
    members = voucherify.LoyaltiesApi(sdk).list_members(program.id).vouchers
    assert all(m.holder_id is not None and m.publish.count == 1 for m in members)
    assert len({m.holder_id for m in members}) == 5
