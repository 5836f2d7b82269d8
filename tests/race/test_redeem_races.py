"""Concurrent redeems against ``voucherd serve`` with two worker processes (BEHAVIOR.md §12).

Losers get the business answer (``quantity_exceeded``, ``gift_amount_exceeded``, …)
as a normal failed redemption — never a 5xx, never ``multiple_requests`` — and the
counters, balances and records add up exactly. One server per backend per module.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import voucherify

from tests.conftest import sdk_configuration
from tests.support.servers import ProcessServer
from tests.support.stackable import (
    customer,
    get_tier,
    get_voucher,
    gift_card,
    ledger,
    loyalty_card,
    promotion_tier,
    records,
    rule,
    voucher,
)
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

pytestmark = pytest.mark.race

WORKERS = 2


@pytest.fixture(scope="module")
def workers(db: Database) -> Iterator[ProcessServer]:
    """Two ``voucherd serve`` worker processes over the session's database."""
    server = ProcessServer(database_url=db.url, workers=WORKERS)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sdk(workers: ProcessServer, project: ProjectKeys) -> Iterator[voucherify.ApiClient]:
    with voucherify.ApiClient(sdk_configuration(workers.url, project)) as client:
        yield client


def race(
    server: ProcessServer,
    project: ProjectKeys,
    bodies: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    path: str = "/v1/redemptions",
) -> list[httpx.Response]:
    """POST each body to ``path`` from its own thread, released by one barrier."""
    barrier = threading.Barrier(len(bodies))
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token, **(headers or {})}
    responses: list[httpx.Response | None] = [None] * len(bodies)

    def fire(index: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            barrier.wait(timeout=60)
            responses[index] = client.post(path, json=bodies[index])

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert all(r is not None for r in responses), "a request never answered"
    return [r for r in responses if r is not None]


def outcomes(responses: list[httpx.Response]) -> Counter[str]:
    """``"ok"`` per 200, the error key per failure; a 5xx fails the test at once."""
    tally: Counter[str] = Counter()
    for response in responses:
        assert response.status_code < 500, response.text
        body = response.json()
        if response.status_code == 200:
            tally["ok"] += 1
        else:
            assert body["code"] == response.status_code
            tally[body["key"]] += 1
    return tally


def test_quantity_10_with_50_racers(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 10}).code
    body = {"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 1000}}
    tally = outcomes(race(workers, project, [body] * 50))
    assert tally == {"ok": 10, "quantity_exceeded": 40}
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 10
    stored = records(db, project.id)
    assert Counter(r["result"] for r in stored) == {"SUCCESS": 10, "FAILURE": 40}
    assert all(r["id"].startswith("rf_") for r in stored if r["result"] == "FAILURE")
    assert {r["failure_code"] for r in stored if r["result"] == "FAILURE"} == {"quantity_exceeded"}


def test_racers_that_raise_get_their_own_answer_and_change_nothing(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    """Requests that fail with an exception (an unknown customer id) race valid ones.

    On SQLite the calls queued at the writer gate run in one transaction, and a
    call that raises makes it roll back and run again around the failure
    (voucherd.api.inline): every request still gets exactly its own answer.
    """
    code = voucher(sdk, redemption={"quantity": 10}).code
    valid = {"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 1000}}
    missing = {**valid, "customer": {"id": "cust_nobody"}}
    bodies = [valid if n % 2 else missing for n in range(40)]
    responses = race(workers, project, bodies)
    tally = outcomes(responses)
    assert tally == {"ok": 10, "quantity_exceeded": 10, "not_found": 20}
    for body, response in zip(bodies, responses, strict=True):
        if body is missing:
            assert response.json()["resource_type"] == "customer"
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 10
    stored = records(db, project.id)  # the 404s wrote nothing
    assert Counter(r["result"] for r in stored) == {"SUCCESS": 10, "FAILURE": 10}


def test_gift_card_of_10000_with_30_spends_of_1000(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    card = gift_card(sdk, 10000).code
    body = {
        "redeemables": [{"object": "voucher", "id": card, "gift": {"credits": 1000}}],
        "order": {"amount": 5000},
    }
    tally = outcomes(race(workers, project, [body] * 30))
    assert tally == {"ok": 10, "gift_amount_exceeded": 20}
    stored = get_voucher(sdk, card)
    assert stored.gift.balance == 0
    assert stored.redemption.redeemed_quantity == 10
    rows = ledger(db, project.id)
    assert len(rows) == 10
    assert 10000 + sum(amount for _, amount, _ in rows) == stored.gift.balance
    # Each row's balance is what the card held right after it: 9000 … 0, once each.
    assert sorted(balance for _, _, balance in rows) == list(range(0, 10000, 1000))


def test_loyalty_card_never_goes_below_zero(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    holder = customer(sdk, "racer")
    code, reward_id = loyalty_card(sdk, 1000, holder.id)
    body = {
        "redeemables": [
            {"object": "voucher", "id": code, "reward": {"id": reward_id, "points": 150}}
        ],
        "order": {"amount": 10000},
        "customer": {"id": holder.id},
    }
    tally = outcomes(race(workers, project, [body] * 12))
    assert tally == {"ok": 6, "loyalty_card_points_exceeded": 6}
    card = get_voucher(sdk, code)
    assert card.loyalty_card.balance == 100
    assert card.redemption.redeemed_points == 900
    assert sum(amount for _, amount, _ in ledger(db, project.id)) == -900


def test_per_customer_limit_holds_when_a_customer_races_itself(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    limit = rule(
        sdk,
        {
            "1": {
                "name": "redemption.count.per_customer",
                "conditions": {"$less_than_or_equal": [1]},
            },
            "logic": "1",
        },
    )
    code = voucher(sdk, validation_rules=[limit]).code
    # A customer no request has created yet: the racers also upsert it concurrently.
    body = {
        "redeemables": [{"object": "voucher", "id": code}],
        "order": {"amount": 1000},
        "customer": {"source_id": "greedy"},
    }
    tally = outcomes(race(workers, project, [body] * 10))
    assert tally == {"ok": 1, "redemption_rules_violated": 9}
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1
    customers = voucherify.CustomersApi(sdk).list_customers()
    assert [c.source_id for c in customers.customers] == ["greedy"]


def test_stacked_voucher_and_gift_card_race_all_or_nothing(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 6}).code
    card = gift_card(sdk, 4000).code
    body = {
        "redeemables": [
            {"object": "voucher", "id": code},
            {"object": "voucher", "id": card, "gift": {"credits": 1000}},
        ],
        "order": {"amount": 10000},
    }
    tally = outcomes(race(workers, project, [body] * 12))
    assert tally == {"ok": 4, "gift_amount_exceeded": 8}
    # The card ran out first: the voucher lost no unit to the failed requests.
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 4
    assert get_voucher(sdk, card).gift.balance == 0
    stored = records(db, project.id)
    successes = [r for r in stored if r["result"] == "SUCCESS"]
    parents = {r["id"] for r in successes if r["related_object_type"] == "redemption"}
    assert len(parents) == 4
    children = [r for r in successes if r["id"] not in parents]
    assert Counter(r["redemption"] for r in children) == dict.fromkeys(parents, 2)
    for parent in parents:
        codes = sorted(r["voucher"]["code"] for r in children if r["redemption"] == parent)
        assert codes == sorted([code, card])
    failures = [r for r in stored if r["result"] == "FAILURE"]
    assert [r["voucher"]["code"] for r in failures] == [card] * 8


def test_one_idempotency_key_racing_redeems_once_and_replays(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    body = {"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 1000}}
    responses = race(workers, project, [body] * 8, headers={"Idempotency-Key": "same-key"})
    assert outcomes(responses) == {"ok": 8}
    assert len({r.content for r in responses}) == 1
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1
    assert len(records(db, project.id)) == 1


def test_racers_on_one_new_order_serialise_and_keep_every_discount(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    codes = [voucher(sdk, discount={"type": "AMOUNT", "amount_off": 100}).code for _ in range(6)]
    bodies = [
        {
            "redeemables": [{"object": "voucher", "id": code}],
            "order": {"source_id": "shared-order", "amount": 10000},
        }
        for code in codes
    ]
    tally = outcomes(race(workers, project, bodies))
    assert tally == {"ok": 6}
    orders = voucherify.OrdersApi(sdk).list_orders()
    (order,) = orders.orders
    # Each request saw the discounts of the ones before it (BEHAVIOR.md §7.6 F).
    assert (order.amount, order.discount_amount, order.total_amount) == (10000, 600, 9400)
    assert len(order.redemptions) == 6


def test_racers_on_one_stored_order_by_id_keep_every_discount(
    workers: ProcessServer, sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    stored = voucherify.OrdersApi(sdk).create_order(
        voucherify.OrdersCreateRequestBody.from_dict({"source_id": "kept", "amount": 10000})
    )
    codes = [voucher(sdk, discount={"type": "AMOUNT", "amount_off": 100}).code for _ in range(6)]
    bodies = [
        {"redeemables": [{"object": "voucher", "id": code}], "order": {"id": stored.id}}
        for code in codes
    ]
    assert outcomes(race(workers, project, bodies)) == {"ok": 6}
    order = voucherify.OrdersApi(sdk).get_order(stored.id)
    assert (order.discount_amount, order.total_amount, order.status) == (600, 9400, "PAID")
    assert len(order.redemptions) == 6


def test_per_customer_limit_on_a_promotion_tier_holds(
    workers: ProcessServer, sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    limit = rule(
        sdk,
        {
            "1": {
                "name": "redemption.count.per_customer",
                "conditions": {"$less_than_or_equal": [2]},
            },
            "logic": "1",
        },
    )
    tier = promotion_tier(sdk, {"type": "AMOUNT", "amount_off": 100}, validation_rules=[limit])
    body = {
        "redeemables": [{"object": "promotion_tier", "id": tier.id}],
        "order": {"amount": 1000},
        "customer": {"source_id": "tier-racer"},
    }
    tally = outcomes(race(workers, project, [body] * 10))
    assert tally == {"ok": 2, "redemption_rules_violated": 8}
    assert get_tier(sdk, tier.id).summary.redemptions.total_redeemed == 2


def test_lock_sessions_racing_for_the_last_units(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 3}).code
    bodies = [
        {
            "redeemables": [{"object": "voucher", "id": code}],
            "order": {"amount": 1000},
            "session": {"type": "LOCK", "key": f"racer-{n}"},
        }
        for n in range(12)
    ]
    responses = race(workers, project, bodies, path="/v1/validations")
    assert all(r.status_code == 200 for r in responses)
    assert Counter(r.json()["valid"] for r in responses) == {True: 3, False: 9}
    # The three holders redeem; nobody else can.
    winners = [b for b, r in zip(bodies, responses, strict=True) if r.json()["valid"]]
    plain = {"redeemables": bodies[0]["redeemables"], "order": {"amount": 1000}}
    assert outcomes(race(workers, project, [plain] * 4 + winners)) == {
        "ok": 3,
        "quantity_exceeded": 4,
    }
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 3


def test_stacks_naming_the_same_cards_in_opposite_orders_never_deadlock(
    workers: ProcessServer, sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    card = gift_card(sdk, 10000).code
    forward = [
        {"object": "voucher", "id": code},
        {"object": "voucher", "id": card, "gift": {"credits": 500}},
    ]
    bodies = [
        {
            "redeemables": forward if n % 2 else forward[::-1],
            "order": {"amount": 5000},
            "customer": {"source_id": f"buyer-{n % 3}"},
        }
        for n in range(16)
    ]
    assert outcomes(race(workers, project, bodies)) == {"ok": 16}
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 16
    assert get_voucher(sdk, card).gift.balance == 2000
    assert len(records(db, project.id)) == 16 * 3
