"""Concurrent rollbacks against ``voucherd serve`` with two worker processes, on both databases.

Threads wait on a barrier and then fire at once; each test asserts exact final
counters. Requests are bounded by a timeout so a deadlock fails instead of hanging.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import DatabaseFactory
from tests.support.servers import ProcessServer
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.schema import redemptions, voucher_transactions, vouchers

TIMEOUT = 60


@dataclass
class Cluster:
    """A two-worker server, its database and a project's keys."""

    server: ProcessServer
    db: Database
    project_id: str
    headers: dict[str, str]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.server.url, headers=self.headers, timeout=TIMEOUT)


@pytest.fixture
def cluster(backend: str, databases: DatabaseFactory, tmp_path: Path) -> Iterator[Cluster]:
    db = databases.migrated(backend)
    with db.write() as conn:
        keys = projects.create_project(conn, f"race-{uuid.uuid4().hex[:8]}")
    server = ProcessServer(database_url=db.url, workers=2, log_path=tmp_path / "server.log")
    server.start()
    try:
        yield Cluster(server, db, keys.id, {"X-App-Id": keys.app_id, "X-App-Token": keys.app_token})
    finally:
        server.stop()
        db.dispose()


def fire(cluster: Cluster, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[Any]:
    """Run every call in its own thread, all released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with cluster.client() as client:
            barrier.wait(timeout=TIMEOUT)
            return call(client)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls, timeout=TIMEOUT * 2))


def make_gift_card(client: httpx.Client, code: str, amount: int) -> str:
    made = client.post(
        f"/v1/vouchers/{code}", json={"type": "GIFT_VOUCHER", "gift": {"amount": amount}}
    )
    assert made.status_code == 200, made.text
    return str(made.json()["id"])


def redeem_credits(client: httpx.Client, code: str, credits: int) -> httpx.Response:
    return client.post(
        "/v1/redemptions",
        json={
            "redeemables": [{"object": "voucher", "id": code, "gift": {"credits": credits}}],
            "order": {"amount": credits},
        },
    )


def card(db: Database, voucher_id: str) -> tuple[int, int, int]:
    """(redeemed_quantity, redeemed_amount, balance) of a gift card."""
    with db.read() as conn:
        row = conn.execute(select(vouchers).where(vouchers.c.id == voucher_id)).one()
    balance = int(row.gift_amount) - int(row.gift_subtracted_amount) - int(row.redeemed_amount)
    return int(row.redeemed_quantity), int(row.redeemed_amount), balance


def ledger(db: Database, voucher_id: str) -> list[tuple[str, int, int]]:
    with db.read() as conn:
        rows = conn.execute(
            select(
                voucher_transactions.c.type,
                voucher_transactions.c.amount,
                voucher_transactions.c.balance,
            ).where(voucher_transactions.c.voucher_id == voucher_id)
        )
        return [(r.type, int(r.amount), int(r.balance)) for r in rows]


@pytest.mark.race
def test_fifty_concurrent_rollbacks_of_one_redemption_succeed_once(cluster: Cluster) -> None:
    with cluster.client() as client:
        card_id = make_gift_card(client, "RACE-GIFT", 10_000)
        made = redeem_credits(client, "RACE-GIFT", 2_500)
        assert made.status_code == 200, made.text
        redemption_id = made.json()["redemptions"][0]["id"]
    path = f"/v1/redemptions/{redemption_id}/rollback"
    responses = fire(cluster, [lambda c: c.post(path, content=b"")] * 50)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * 49
    keys = {r.json()["key"] for r in responses if r.status_code == 400}
    assert keys <= {"already_rolled_back", "multiple_requests"}
    assert card(cluster.db, card_id) == (0, 0, 10_000)
    assert sorted(ledger(cluster.db, card_id)) == [
        ("CREDITS_REDEMPTION", -2_500, 7_500),
        ("CREDITS_REFUND", 2_500, 10_000),
    ]
    with cluster.db.read() as conn:
        counts = dict(
            conn.execute(
                select(redemptions.c.result, func.count())
                .where(
                    redemptions.c.project_id == cluster.project_id,
                    redemptions.c.object == "redemption_rollback",
                )
                .group_by(redemptions.c.result)
            ).all()
        )
    assert counts == {"SUCCESS": 1, "FAILURE": 49}


@pytest.mark.race
def test_rollbacks_racing_redeems_keep_the_gift_balance_equal_to_the_ledger(
    cluster: Cluster,
) -> None:
    amount, credits = 10_000, 1_000
    with cluster.client() as client:
        card_id = make_gift_card(client, "RACE-MIX", amount)
        earlier = []
        for _ in range(6):
            made = redeem_credits(client, "RACE-MIX", credits)
            assert made.status_code == 200, made.text
            earlier.append(made.json()["redemptions"][0]["id"])
    assert card(cluster.db, card_id)[2] == 4_000
    rollbacks = [
        (lambda c, rid=rid: c.post(f"/v1/redemptions/{rid}/rollback", content=b""))
        for rid in earlier
    ]
    redeems = [lambda c: redeem_credits(c, "RACE-MIX", credits)] * 14
    responses = fire(cluster, [*rollbacks, *redeems])
    rolled = responses[:6]
    redeemed = responses[6:]
    assert [r.status_code for r in rolled] == [200] * 6
    won = sum(r.status_code == 200 for r in redeemed)
    lost = [r.json()["key"] for r in redeemed if r.status_code != 200]
    assert set(lost) <= {"gift_amount_exceeded"}
    assert all(r.status_code in (200, 400) for r in redeemed)
    quantity, redeemed_amount, balance = card(cluster.db, card_id)
    assert redeemed_amount == credits * won
    assert quantity == won
    assert balance == amount - credits * won >= 0
    entries = ledger(cluster.db, card_id)
    assert amount + sum(e[1] for e in entries) == balance
    assert all(e[2] >= 0 for e in entries)
    assert len(entries) == 6 + 6 + won


@pytest.mark.race
def test_one_idempotency_key_rolls_back_once_and_replays_to_every_racer(
    cluster: Cluster,
) -> None:
    with cluster.client() as client:
        card_id = make_gift_card(client, "RACE-KEY", 10_000)
        made = redeem_credits(client, "RACE-KEY", 3_000)
        assert made.status_code == 200, made.text
        redemption_id = made.json()["redemptions"][0]["id"]
    path = f"/v1/redemptions/{redemption_id}/rollback"
    headers = {"Idempotency-Key": "rollback-once"}
    responses = fire(cluster, [lambda c: c.post(path, content=b"", headers=headers)] * 8)
    assert [r.status_code for r in responses] == [200] * 8
    assert len({r.content for r in responses}) == 1
    assert card(cluster.db, card_id) == (0, 0, 10_000)
    with cluster.db.read() as conn:
        rollbacks = conn.execute(
            select(func.count()).where(
                redemptions.c.project_id == cluster.project_id,
                redemptions.c.object == "redemption_rollback",
            )
        ).scalar_one()
    assert rollbacks == 1
