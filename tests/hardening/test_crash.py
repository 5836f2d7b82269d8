"""Crash safety: SIGKILL ``voucherd serve`` (2 workers) under redeem and rollback load.

Afterwards every redemption and rollback a client saw acknowledged is stored exactly
once, every stacked parent has its children, every rolled-back redemption has exactly one
successful rollback, and every voucher's counters equal what its successful, not
rolled-back redemptions and its ledger say. Loyalty points are not exercised
(pay-with-points needs reward assignments); gift credits and redemption quantities are.

``make test`` runs VOUCHERD_CRASH_ROUNDS=3 kills per backend; ``make soak`` runs 12.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import DatabaseFactory
from tests.support.servers import ProcessServer
from voucherd.store import migrations, projects, schema
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

ROUNDS = int(os.environ.get("VOUCHERD_CRASH_ROUNDS", "3"))
LOAD_THREADS = 4
DISCOUNTS = [f"DISC-{i}" for i in range(4)]
GIFTS = [f"GIFT-{i}" for i in range(3)]
GIFT_AMOUNT = 10_000_000
DISCOUNT_QUANTITY = 100_000


@dataclass
class Tally:
    """What the load generator saw."""

    fired: int = 0
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    rollbacks: list[dict[str, Any]] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def redeem_body(rng: random.Random) -> dict[str, Any]:
    choice = rng.random()
    gift = {"object": "voucher", "id": rng.choice(GIFTS), "gift": {"credits": rng.randint(1, 500)}}
    discount = {"object": "voucher", "id": rng.choice(DISCOUNTS)}
    if choice < 0.4:
        redeemables = [discount]
    elif choice < 0.7:
        redeemables = [gift]
    else:
        redeemables = [discount, gift]  # a parent with two children
    return {"redeemables": redeemables, "order": {"amount": 10_000}}


def post(http: httpx.Client, tally: Tally, path: str, **kwargs: Any) -> httpx.Response | None:
    """One counted request; None when the server was not there to answer."""
    with tally.lock:
        tally.fired += 1
    try:
        response = http.post(path, **kwargs)
    except httpx.TransportError:
        # The server is being killed or restarted: no response, nothing promised.
        with tally.lock:
            tally.connection_errors += 1
        time.sleep(0.2)
        return None
    with tally.lock:
        tally.statuses[response.status_code] += 1
    return response


def load(url: str, keys: ProjectKeys, tally: Tally, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    headers = {"X-App-Id": keys.app_id, "X-App-Token": keys.app_token}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
        while not stop.is_set():
            response = post(http, tally, "/v1/redemptions", json=redeem_body(rng))
            if response is None or response.status_code != 200:
                continue
            answer = response.json()
            with tally.lock:
                tally.acknowledged.append(answer)
            if rng.random() >= 0.3:
                continue
            # Roll back some redemptions at once: a kill may land between the two requests
            # or inside the rollback.
            parent = answer.get("parent_redemption")
            target = parent["id"] if parent else answer["redemptions"][0]["id"]
            path = f"/v1/redemptions/{target}/{'rollbacks' if parent else 'rollback'}"
            response = post(http, tally, path, content=b"")
            if response is not None and response.status_code == 200:
                with tally.lock:
                    tally.rollbacks.append({"target": target, **response.json()})


def setup(url: str, keys: ProjectKeys) -> None:
    headers = {"X-App-Id": keys.app_id, "X-App-Token": keys.app_token}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for code in DISCOUNTS:
            body = {
                "type": "DISCOUNT_VOUCHER",
                "discount": {"type": "AMOUNT", "amount_off": 100},
                "redemption": {"quantity": DISCOUNT_QUANTITY},
            }
            assert http.post(f"/v1/vouchers/{code}", json=body).status_code == 200
        for code in GIFTS:
            body = {"type": "GIFT_VOUCHER", "gift": {"amount": GIFT_AMOUNT}}
            assert http.post(f"/v1/vouchers/{code}", json=body).status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_sigkill_under_redeem_load_loses_and_doubles_nothing(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.url(backend)
    db = Database(url)
    migrations.upgrade(db)
    with db.write() as conn:
        keys = projects.create_project(conn, "crash")
    server = ProcessServer(database_url=url, workers=2, log_path=tmp_path / "serve.log")
    tally = Tally()
    stop = threading.Event()
    rng = random.Random(7)
    try:
        server.start()
        setup(server.url, keys)
        threads = [
            threading.Thread(target=load, args=(server.url, keys, tally, stop, seed), daemon=True)
            for seed in range(LOAD_THREADS)
        ]
        for thread in threads:
            thread.start()
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(0.8, 2.0))
            server.kill()
            server.start()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        found = verify(server.url, keys, db, tally)
    finally:
        stop.set()
        server.stop()
        db.dispose()
    report = (
        f"[{backend}] requests fired {tally.fired}, kills {ROUNDS}, "
        f"redeems acknowledged {len(tally.acknowledged)}, rollbacks acknowledged "
        f"{len(tally.rollbacks)} (redemption and rollback records found {found}), "
        f"statuses {dict(tally.statuses)}, connection errors {tally.connection_errors}"
    )
    print(report)  # the figures the hardening report quotes (pytest -s)
    assert not [s for s in tally.statuses if s >= 500], report
    assert len(tally.acknowledged) > 0, report
    logged = (tmp_path / "serve.log").read_text()
    assert keys.app_token not in logged
    assert "unhandled error" not in logged


def verify(url: str, keys: ProjectKeys, db: Database, tally: Tally) -> int:
    """Check the claims of the module docstring; returns how many redemptions were found."""
    r = schema.redemptions
    headers = {"X-App-Id": keys.app_id, "X-App-Token": keys.app_token}
    acked_ids: list[str] = []
    acked_parents: dict[str, set[str]] = {}
    for answer in tally.acknowledged:
        children = {item["id"] for item in answer["redemptions"]}
        acked_ids.extend(children)
        if answer.get("parent_redemption"):
            parent_id = answer["parent_redemption"]["id"]
            acked_ids.append(parent_id)
            acked_parents[parent_id] = children
    assert len(acked_ids) == len(set(acked_ids)), "an id was acknowledged twice"
    with db.read() as conn:
        stored = Counter(
            conn.execute(sa.select(r.c.id).where(r.c.project_id == keys.id)).scalars().all()
        )
        children_of: dict[str, set[str]] = {}
        for child_id, parent_id in conn.execute(
            sa.select(r.c.id, r.c.parent_id).where(
                r.c.project_id == keys.id, r.c.parent_id.is_not(None)
            )
        ):
            children_of.setdefault(parent_id, set()).add(child_id)
        # Every acknowledged redemption is stored exactly once.
        assert all(stored[i] == 1 for i in acked_ids)
        # No parent is missing a child: acknowledged ones have exactly what was answered,
        # and every stored parent (answered or not) has its two children.
        for parent_id, children in acked_parents.items():
            assert children_of.get(parent_id) == children, parent_id
        # Stored parents of redemptions and of rollbacks: no voucher or tier of their own.
        parents = conn.execute(
            sa.select(r.c.id).where(
                r.c.project_id == keys.id,
                r.c.parent_id.is_(None),
                r.c.voucher_id.is_(None),
                r.c.promotion_tier_id.is_(None),
                r.c.result == "SUCCESS",
            )
        ).scalars()
        for parent_id in parents:
            assert len(children_of.get(parent_id, set())) == 2, parent_id
        rollback_ids = check_rollbacks(conn, keys.id, tally, stored, children_of)
        redeemed_credits = check_vouchers(conn, keys.id)
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for redemption_id in [*acked_ids, *rollback_ids]:
            response = http.get(f"/v1/redemptions/{redemption_id}")
            assert response.status_code == 200, redemption_id
            assert response.json()["result"] == "SUCCESS"
        for code in GIFTS:
            gift = http.get(f"/v1/vouchers/{code}").json()["gift"]
            assert gift["balance"] == GIFT_AMOUNT - redeemed_credits[code], code
    return len(acked_ids) + len(rollback_ids)


def check_rollbacks(
    conn: sa.Connection,
    project_id: str,
    tally: Tally,
    stored: Counter[str],
    children_of: dict[str, set[str]],
) -> list[str]:
    """Acknowledged rollbacks are stored once and undid their targets; no double undo."""
    r = schema.redemptions
    rollback_ids: list[str] = []
    for answer in tally.rollbacks:
        if answer.get("parent_rollback"):
            ids = [answer["parent_rollback"]["id"], *(x["id"] for x in answer["rollbacks"])]
            undone = children_of[answer["target"]]
        else:
            ids, undone = [answer["id"]], {answer["target"]}
        assert all(stored[i] == 1 for i in ids), ids
        rollback_ids.extend(ids)
        statuses = conn.execute(sa.select(r.c.status).where(r.c.id.in_(undone))).scalars().all()
        assert len(statuses) == len(undone), answer["target"]
        assert set(statuses) == {"ROLLED_BACK"}, answer["target"]
    # Every rolled-back redemption was undone by exactly one successful rollback.
    undo_counts = dict(
        conn.execute(
            sa.select(r.c.redemption_id, sa.func.count())
            .where(
                r.c.project_id == project_id,
                r.c.object == "redemption_rollback",
                r.c.result == "SUCCESS",
                r.c.voucher_id.is_not(None),
            )
            .group_by(r.c.redemption_id)
        ).all()
    )
    rolled_back = conn.execute(
        sa.select(r.c.id).where(
            r.c.project_id == project_id,
            r.c.object == "redemption",
            r.c.status == "ROLLED_BACK",
            r.c.voucher_id.is_not(None),
        )
    ).scalars()
    for redemption_id in rolled_back:
        assert undo_counts.pop(redemption_id, 0) == 1, redemption_id
    assert not undo_counts, "a rollback undid a redemption that is not rolled back"
    return rollback_ids


def check_vouchers(conn: sa.Connection, project_id: str) -> dict[str, int]:
    """Counters equal what successful redemptions and the ledger say, voucher by voucher.

    Returns each gift card's redeemed credits.
    """
    r, v, vtx = schema.redemptions, schema.vouchers, schema.voucher_transactions
    # Successful, not rolled-back redemptions (rollbacks move status to ROLLED_BACK).
    succeeded = sa.and_(
        r.c.project_id == project_id,
        r.c.object == "redemption",
        r.c.status == "SUCCEEDED",
        r.c.voucher_id == v.c.id,
    )
    rows = conn.execute(
        sa.select(
            v.c.code,
            v.c.redeemed_quantity,
            v.c.gift_amount,
            v.c.redeemed_amount,
            sa.select(sa.func.count()).where(succeeded).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(r.c.amount), 0))
            .where(succeeded)
            .scalar_subquery(),
            sa.select(sa.func.count()).where(vtx.c.voucher_id == v.c.id).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(vtx.c.amount), 0))
            .where(vtx.c.voucher_id == v.c.id)
            .scalar_subquery(),
            sa.select(sa.func.min(vtx.c.balance))
            .where(vtx.c.voucher_id == v.c.id)
            .scalar_subquery(),
        ).where(v.c.project_id == project_id)
    ).all()
    assert len(rows) == len(DISCOUNTS) + len(GIFTS)
    redeemed_credits: dict[str, int] = {}
    for code, quantity, _gift, redeemed, count, credits, entries, ledger, lowest in rows:
        assert quantity == count, code
        if code in GIFTS:
            redeemed_credits[code] = int(redeemed)
            assert redeemed == credits, code
            # The ledger (redemptions and refunds) sums to the counters; never below zero.
            assert ledger == -credits, code
            assert entries >= count, code
            assert entries == 0 or lowest >= 0, code
        else:
            assert (redeemed, entries) == (0, 0), code
    return redeemed_credits
