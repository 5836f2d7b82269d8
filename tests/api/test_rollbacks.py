"""Rollbacks through the official SDK: single and stacked, effects, refusals, idempotency."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import voucherify
from sqlalchemy import func, select
from voucherify.exceptions import ApiException

from tests.support.redeeming import discount_voucher, error_of, gift_card, redeem, voucher
from tests.support.servers import ThreadServer
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys
from voucherd.store.schema import redemptions, voucher_transactions

SEED_BODY: dict[str, Any] = {
    "customer": {
        "id": "cust_SolpIN5N4oZbCnrxZ5NHrbVB",
        "name": "Annie Lemons",
        "email": "annie@lemon.com",
        "phone": "+1 933 222 3334",
        "birthday": "1900-12-02",
        "birthdate": "1900-12-01",
        "address": {
            "city": "New York",
            "state": "NY",
            "line_1": "123 Main St.",
            "line_2": "APT 3 BLG 5",
            "country": "United States",
            "postal_code": "100012",
        },
        "metadata": {"age": 23},
    },
    "order": {"source_id": "test_rollback_8"},
    "metadata": {"location_id": ["L2"]},
}


def api(sdk: voucherify.ApiClient) -> voucherify.RedemptionsApi:
    return voucherify.RedemptionsApi(sdk)


def voucher_state(sdk: voucherify.ApiClient, code: str) -> tuple[int, int, int | None]:
    """(redeemed_quantity, redeemed_amount, gift balance) of a voucher."""
    config = sdk.configuration
    keys = {name: config.api_key[name] for name in ("X-App-Id", "X-App-Token")}
    got = httpx.get(f"{config.host}/v1/vouchers/{code}", headers=keys).json()
    balance = got["gift"]["balance"] if got["gift"] else None
    return got["redemption"]["redeemed_quantity"], got["redemption"]["redeemed_amount"], balance


def ledger(db: Database, voucher_id: str) -> list[tuple[str, int, int]]:
    with db.read() as conn:
        rows = conn.execute(
            select(
                voucher_transactions.c.type,
                voucher_transactions.c.amount,
                voucher_transactions.c.balance,
            )
            .where(voucher_transactions.c.voucher_id == voucher_id)
            .order_by(voucher_transactions.c.created_at, voucher_transactions.c.id)
        )
        return [(row.type, int(row.amount), int(row.balance)) for row in rows]


def record_count(db: Database, project: ProjectKeys) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(redemptions.c.project_id == project.id)
            ).scalar_one()
        )


@pytest.fixture
def single(sdk: voucherify.ApiClient) -> Any:
    """ONE (quantity 5, 10.00 off) redeemed by annie on order o-1 of 200.00."""
    discount_voucher(sdk, "ONE", quantity=5)
    return redeem(
        sdk, [voucher("ONE")], customer={"source_id": "annie"}, order={"source_id": "o-1"}
    )


@pytest.fixture
def stacked(sdk: voucherify.ApiClient) -> Any:
    """ONE + GIFT (7.00 of 50.00 credits) redeemed together by bob on order o-2."""
    discount_voucher(sdk, "ONE", quantity=5)
    gift_card(sdk, "GIFT", amount=5000)
    return redeem(
        sdk,
        [voucher("ONE"), voucher("GIFT", gift={"credits": 700})],
        customer={"source_id": "bob"},
        order={"source_id": "o-2"},
    )


# --- single ---------------------------------------------------------------------------


def test_single_rollback_returns_the_unit_and_cancels_the_order(
    sdk: voucherify.ApiClient, single: Any
) -> None:
    redemption = single.redemptions[0]
    rolled = api(sdk).rollback_redemption(redemption.id, reason="customer changed mind")
    assert rolled.id.startswith("rr_")
    assert (rolled.object, rolled.result, rolled.status) == (
        "redemption_rollback",
        "SUCCESS",
        "SUCCEEDED",
    )
    assert (rolled.redemption, rolled.reason, rolled.amount) == (
        redemption.id,
        "customer changed mind",
        None,
    )
    assert (rolled.customer_id, rolled.tracking_id) == (
        redemption.customer_id,
        redemption.tracking_id,
    )
    assert (rolled.related_object_type, rolled.related_object_id) == (
        "voucher",
        redemption.voucher.id,
    )
    assert rolled.channel.channel_type == "API"
    assert rolled.voucher.redemption.redeemed_quantity == 0
    order = rolled.order
    assert (order.status, order.amount, order.total_amount, order.discount_amount) == (
        "CANCELED",
        20000,
        20000,
        0,
    )
    entry = order.redemptions[redemption.id]
    assert entry["rollback_id"] == rolled.id
    assert entry["rollback_date"] is not None
    assert voucher_state(sdk, "ONE")[0] == 0
    original = api(sdk).get_redemption(redemption.id)
    assert (original.result, original.status) == ("SUCCESS", "ROLLED_BACK")
    assert [(r.id, r.rollback_order_mode) for r in original.related_redemptions.rollbacks] == [
        (rolled.id, "WITH_ORDER")
    ]
    fetched = api(sdk).get_redemption(rolled.id)
    assert (fetched.object, fetched.redemption) == ("redemption_rollback", redemption.id)


def test_rollback_shows_in_history_list_and_customer_summary(
    sdk: voucherify.ApiClient, single: Any
) -> None:
    redemption = single.redemptions[0]
    rolled = api(sdk).rollback_redemption(redemption.id)
    history = api(sdk).get_voucher_redemptions("ONE")
    assert (history.total, history.redeemed_quantity) == (2, 0)
    assert [e.id for e in history.redemption_entries] == [rolled.id, redemption.id]
    rollbacks = api(sdk).list_redemptions(
        filters=voucherify.ParameterFiltersListRedemptions.from_dict(
            {"object": {"conditions": {"$is": "redemption_rollback"}}}
        )
    )
    assert [r.id for r in rollbacks.redemptions] == [rolled.id]
    summary = voucherify.CustomersApi(sdk).get_customer("annie").summary.redemptions
    assert (summary.total_succeeded, summary.total_rolled_back) == (1, 1)
    assert (summary.total_rollback_succeeded, summary.total_rollback_failed) == (1, 0)
    orders = voucherify.CustomersApi(sdk).get_customer("annie").summary.orders
    assert (orders.total_count, orders.total_amount) == (0, 0)


def test_gift_card_rollback_returns_the_credits(sdk: voucherify.ApiClient, db: Database) -> None:
    card = gift_card(sdk, "GIFT", amount=5000)
    made = redeem(sdk, [voucher("GIFT", gift={"credits": 1200})]).redemptions[0]
    assert voucher_state(sdk, "GIFT") == (1, 1200, 3800)
    rolled = api(sdk).rollback_redemption(made.id)
    assert (rolled.amount, rolled.gift.amount) == (-1200, -1200)
    assert rolled.voucher.gift.balance == 5000
    assert voucher_state(sdk, "GIFT") == (0, 0, 5000)
    assert ledger(db, card.id) == [
        ("CREDITS_REDEMPTION", -1200, 3800),
        ("CREDITS_REFUND", 1200, 5000),
    ]


def test_without_order_mode_leaves_the_order_alone(
    sdk: voucherify.ApiClient, server: ThreadServer, project: ProjectKeys, single: Any
) -> None:
    with httpx.Client(
        base_url=f"{server.url}/management/v1/projects/{project.id}",
        headers={"X-Management-Id": project.app_id, "X-Management-Token": project.app_token},
    ) as mgmt:
        created = mgmt.post(
            "/stacking-rules", json={"redeemables_rollback_order_mode": "WITHOUT_ORDER"}
        )
        assert created.status_code == 200, created.text
    redemption = single.redemptions[0]
    rolled = api(sdk).rollback_redemption(redemption.id)
    order = rolled.order
    assert (order.status, order.total_amount, order.discount_amount) == ("PAID", 19000, 1000)
    assert order.redemptions[redemption.id]["rollback_id"] == rolled.id
    original = api(sdk).get_redemption(redemption.id)
    assert original.related_redemptions.rollbacks[0].rollback_order_mode == "WITHOUT_ORDER"
    assert voucher_state(sdk, "ONE")[0] == 0


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_empty_body_is_an_empty_request(
    http: httpx.Client, single: Any, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(
        f"/v1/redemptions/{single.redemptions[0].id}/rollback?reason=r&tracking_id=t",
        content=b"",
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["reason"], body["tracking_id"], body["metadata"]) == ("r", "t", {})


def test_reason_and_tracking_id_in_the_body(http: httpx.Client, single: Any) -> None:
    response = http.post(
        f"/v1/redemptions/{single.redemptions[0].id}/rollback",
        json={"reason": "from body", "tracking_id": "tb"},
    )
    assert (response.json()["reason"], response.json()["tracking_id"]) == ("from body", "tb")


def test_seed_body_on_the_single_endpoint(sdk: voucherify.ApiClient) -> None:
    discount_voucher(sdk, "SEED")
    made = redeem(
        sdk,
        [voucher("SEED")],
        customer={"source_id": "annie@lemon.com"},
        order={"source_id": "test_rollback_8"},
    ).redemptions[0]
    body = {**SEED_BODY, "customer": {**SEED_BODY["customer"], "id": made.customer_id}}
    rolled = api(sdk).rollback_redemption(
        made.id,
        reason="seed",
        redemptions_rollback_create_request_body=voucherify.RedemptionsRollbackCreateRequestBody.from_dict(
            body
        ),
    )
    assert rolled.metadata == {"location_id": ["L2"]}
    assert (rolled.customer.name, rolled.customer.email) == ("Annie Lemons", "annie@lemon.com")
    assert rolled.order.source_id == "test_rollback_8"
    customer = voucherify.CustomersApi(sdk).get_customer(made.customer_id)
    assert (customer.phone, customer.address.city, customer.metadata) == (
        "+1 933 222 3334",
        "New York",
        {"age": 23},
    )


# --- refusals -------------------------------------------------------------------------


def snapshot(sdk: voucherify.ApiClient, redemption_id: str, order_id: str) -> Any:
    """What a failed rollback must not change."""
    return (
        api(sdk).get_redemption(redemption_id).to_dict(),
        voucherify.OrdersApi(sdk).get_order(order_id).to_dict(),
        voucher_state(sdk, "ONE"),
    )


def test_second_rollback_is_already_rolled_back_with_a_failed_record(
    sdk: voucherify.ApiClient, single: Any
) -> None:
    redemption = single.redemptions[0]
    api(sdk).rollback_redemption(redemption.id)
    before = snapshot(sdk, redemption.id, single.order.id)
    with pytest.raises(ApiException) as caught:
        api(sdk).rollback_redemption(redemption.id, reason="again")
    body = error_of(caught)
    assert (body["code"], body["key"], body["message"]) == (
        400,
        "already_rolled_back",
        "Already rolled back",
    )
    assert body["resource_type"] == "redemption_rollback"
    assert body["resource_id"].startswith("rrf_")
    failed = api(sdk).get_redemption(body["resource_id"])
    assert (failed.object, failed.result, failed.status) == (
        "redemption_rollback",
        "FAILURE",
        "FAILED",
    )
    assert (failed.failure_code, failed.redemption, failed.reason) == (
        "already_rolled_back",
        redemption.id,
        "again",
    )
    assert snapshot(sdk, redemption.id, single.order.id) == before
    summary = voucherify.CustomersApi(sdk).get_customer("annie").summary.redemptions
    assert (summary.total_rollback_succeeded, summary.total_rollback_failed) == (1, 1)


def test_rollback_older_than_three_months_is_refused(
    sdk: voucherify.ApiClient, server: ThreadServer
) -> None:
    discount_voucher(sdk, "ONE", quantity=5)
    server.clock.fixed = dt.datetime(2026, 1, 31, 10, tzinfo=dt.UTC)
    old = redeem(sdk, [voucher("ONE")]).redemptions[0]
    young = redeem(sdk, [voucher("ONE")]).redemptions[0]
    # Jan 31 + 3 months = Apr 30 (clamped): the last instant before it still works.
    server.clock.fixed = dt.datetime(2026, 4, 30, 10, tzinfo=dt.UTC)
    with pytest.raises(ApiException) as caught:
        api(sdk).rollback_redemption(old.id)
    body = error_of(caught)
    assert (body["key"], body["resource_type"]) == (
        "invalid_rollback_params",
        "redemption_rollback",
    )
    assert api(sdk).get_redemption(old.id).status == "SUCCEEDED"
    assert voucher_state(sdk, "ONE")[0] == 2
    server.clock.fixed = dt.datetime(2026, 4, 30, 9, 59, 59, tzinfo=dt.UTC)
    assert api(sdk).rollback_redemption(young.id).status == "SUCCEEDED"


def test_customer_and_order_must_match(
    sdk: voucherify.ApiClient, single: Any, http: httpx.Client
) -> None:
    redemption = single.redemptions[0]
    voucherify.CustomersApi(sdk).create_customer({"source_id": "mallory"})
    before = snapshot(sdk, redemption.id, single.order.id)
    for body, key in [
        ({"customer": {"source_id": "mallory"}}, "invalid_customer"),
        ({"customer": {"source_id": "never-seen"}}, "invalid_customer"),
        ({"order": {"source_id": "another-order"}}, "invalid_order"),
        ({"order": {"id": "ord_nope"}}, "invalid_order"),
    ]:
        response = http.post(f"/v1/redemptions/{redemption.id}/rollback", json=body)
        assert response.status_code == 400, body
        assert response.json()["key"] == key
        assert response.json()["resource_id"].startswith("rrf_")
    unknown = http.post(
        f"/v1/redemptions/{redemption.id}/rollback", json={"customer": {"id": "cust_nope"}}
    )
    assert unknown.status_code == 404
    assert (unknown.json()["resource_type"], unknown.json()["resource_id"]) == (
        "customer",
        "cust_nope",
    )
    assert snapshot(sdk, redemption.id, single.order.id) == before
    assert voucherify.CustomersApi(sdk).list_customers().total == 2
    matching = http.post(
        f"/v1/redemptions/{redemption.id}/rollback",
        json={"customer": {"source_id": "annie"}, "order": {"source_id": "o-1"}},
    )
    assert matching.status_code == 200


def test_wrong_kinds_of_redemption_are_refused_without_records(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys, stacked: Any
) -> None:
    discount_voucher(sdk, "NONE", quantity=0)
    with pytest.raises(ApiException) as caught:
        redeem(sdk, [voucher("NONE")])
    failed_id = error_of(caught)["resource_id"]
    parent = stacked.parent_redemption.id
    child = stacked.redemptions[0].id
    count = record_count(db, project)
    cases = [
        (api(sdk).rollback_redemption, parent, "invalid_redemption"),
        (api(sdk).rollback_redemption, child, "invalid_redemption_parent"),
        (api(sdk).rollback_stacked_redemptions, child, "invalid_redemption_parent"),
        (api(sdk).rollback_redemption, failed_id, "invalid_redemption"),
        (api(sdk).rollback_stacked_redemptions, failed_id, "invalid_redemption"),
    ]
    for call, target, key in cases:
        with pytest.raises(ApiException) as caught:
            call(target)
        body = error_of(caught)
        assert (body["code"], body["key"], body["resource_id"]) == (400, key, target)
    with pytest.raises(ApiException) as caught:
        api(sdk).rollback_redemption("r_nope")
    assert error_of(caught)["key"] == "not_found"
    assert record_count(db, project) == count
    assert api(sdk).get_redemption(parent).status == "SUCCEEDED"


def test_idempotency_key_replays_the_first_answer(http: httpx.Client, single: Any) -> None:
    path = f"/v1/redemptions/{single.redemptions[0].id}/rollback"
    headers = {"Idempotency-Key": "k-1"}
    first = http.post(path, json={"reason": "x"}, headers=headers)
    again = http.post(path, json={"reason": "x"}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["id"] == first.json()["id"]
    reused = http.post(path, json={"reason": "other"}, headers=headers)
    assert (reused.status_code, reused.json()["key"]) == (409, "idempotency_key_reused")
    history = http.get("/v1/vouchers/ONE/redemption").json()
    assert history["total"] == 2


# --- stacked --------------------------------------------------------------------------


def test_stacked_rollback_undoes_every_child(
    sdk: voucherify.ApiClient, db: Database, stacked: Any
) -> None:
    parent = stacked.parent_redemption
    children = [c.id for c in stacked.redemptions]
    answer = api(sdk).rollback_stacked_redemptions(parent.id, reason="stack")
    assert [r.redemption for r in answer.rollbacks] == sorted(children)
    by_original = {r.redemption: r for r in answer.rollbacks}
    gift = by_original[children[1]]
    assert (gift.amount, gift.gift.amount, gift.voucher.gift.balance) == (-700, -700, 5000)
    discount = by_original[children[0]]
    assert (discount.amount, discount.voucher.redemption.redeemed_quantity) == (None, 0)
    parent_rollback = answer.parent_rollback
    assert (parent_rollback.redemption, parent_rollback.related_object_type) == (
        parent.id,
        "redemption",
    )
    assert parent_rollback.related_object_id == parent_rollback.id
    assert (parent_rollback.result, parent_rollback.status, parent_rollback.reason) == (
        "SUCCESS",
        "SUCCEEDED",
        "stack",
    )
    assert (answer.order.status, answer.order.total_amount) == ("CANCELED", 20000)
    entry = answer.order.redemptions[parent.id]
    assert entry["rollback_id"] == parent_rollback.id
    assert sorted(entry["rollback_stacked"]) == sorted(r.id for r in answer.rollbacks)
    for record_id in (parent.id, *children):
        assert api(sdk).get_redemption(record_id).status == "ROLLED_BACK"
    assert voucher_state(sdk, "ONE")[0] == 0
    assert voucher_state(sdk, "GIFT") == (0, 0, 5000)
    summary = voucherify.CustomersApi(sdk).get_customer("bob").summary.redemptions
    assert (summary.total_succeeded, summary.total_rolled_back) == (2, 2)
    assert summary.total_rollback_succeeded == 2
    assert summary.gift.redeemed_amount == 0


def test_stacked_second_rollback_is_refused(sdk: voucherify.ApiClient, stacked: Any) -> None:
    api(sdk).rollback_stacked_redemptions(stacked.parent_redemption.id)
    with pytest.raises(ApiException) as caught:
        api(sdk).rollback_stacked_redemptions(stacked.parent_redemption.id)
    body = error_of(caught)
    assert (body["key"], body["resource_type"]) == ("already_rolled_back", "redemption_rollback")
    assert voucher_state(sdk, "GIFT") == (0, 0, 5000)


def test_rollbacks_endpoint_on_a_single_redemption(sdk: voucherify.ApiClient, single: Any) -> None:
    redemption = single.redemptions[0]
    answer = api(sdk).rollback_stacked_redemptions(redemption.id)
    assert answer.parent_rollback is None
    assert [r.redemption for r in answer.rollbacks] == [redemption.id]
    assert answer.order.redemptions[redemption.id]["rollback_id"] == answer.rollbacks[0].id
    assert answer.order.redemptions[redemption.id].get("rollback_stacked") is None


def test_seed_body_on_the_stacked_endpoint(sdk: voucherify.ApiClient) -> None:
    discount_voucher(sdk, "A")
    gift_card(sdk, "G", amount=3000)
    made = redeem(
        sdk,
        [voucher("A"), voucher("G", gift={"credits": 3000})],
        customer={"source_id": "annie@lemon.com"},
        order={"source_id": "test_rollback_8"},
    )
    body = {
        **SEED_BODY,
        "customer": {**SEED_BODY["customer"], "id": made.parent_redemption.customer_id},
    }
    answer = api(sdk).rollback_stacked_redemptions(
        made.parent_redemption.id,
        reason="seed",
        tracking_id="annie@lemon.com",
        redemptions_rollbacks_create_request_body=voucherify.RedemptionsRollbacksCreateRequestBody.from_dict(
            body
        ),
    )
    assert len(answer.rollbacks) == 2
    assert answer.parent_rollback.metadata == {"location_id": ["L2"]}
    assert {r.tracking_id for r in answer.rollbacks} == {"annie@lemon.com"}
    assert answer.order.source_id == "test_rollback_8"
    assert answer.parent_rollback.customer.name == "Annie Lemons"
    assert voucher_state(sdk, "G") == (0, 0, 3000)


def test_promotion_tier_rollback_returns_the_tier_unit(sdk: voucherify.ApiClient) -> None:
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "Promo",
                "promotion": {
                    "tiers": [
                        {
                            "name": "Ten off",
                            "action": {"discount": {"type": "AMOUNT", "amount_off": 1000}},
                        }
                    ]
                },
            }
        )
    )
    tier_id = campaign.promotion.tiers[0].id
    discount_voucher(sdk, "ONE")
    made = redeem(sdk, [{"object": "promotion_tier", "id": tier_id}, voucher("ONE")])
    tier_child = next(c for c in made.redemptions if c.related_object_type == "promotion_tier")
    assert tier_child.promotion_tier.summary.redemptions.total_redeemed == 1
    answer = api(sdk).rollback_stacked_redemptions(made.parent_redemption.id)
    tier_rollback = next(r for r in answer.rollbacks if r.redemption == tier_child.id)
    assert (tier_rollback.related_object_type, tier_rollback.related_object_id) == (
        "promotion_tier",
        tier_id,
    )
    assert tier_rollback.promotion_tier.summary.redemptions.total_redeemed == 0
    tier = voucherify.PromotionsApi(sdk).get_promotion_tier(tier_id)
    assert tier.summary.redemptions.total_redeemed == 0
    listed = api(sdk).list_redemptions(campaign="Promo")
    assert {r.id for r in listed.redemptions} == {tier_child.id, tier_rollback.id}


def test_loyalty_rollback_returns_the_points(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database
) -> None:
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "Points",
                "campaign_type": "LOYALTY_PROGRAM",
                "vouchers_count": 1,
                "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": 1000}},
            }
        )
    )
    card = voucherify.VouchersApi(sdk).list_vouchers(campaign_id=campaign.id).vouchers[0]
    holder = voucherify.CustomersApi(sdk).create_customer({"source_id": "holder"})
    voucherify.LoyaltiesApi(sdk).add_member(
        campaign.id,
        voucherify.LoyaltiesMembersCreateRequestBody.from_dict(
            {"voucher": card.code, "customer": {"id": holder.id}}
        ),
    )
    reward = http.post(
        "/v1/rewards",
        json={"name": "Coins", "parameters": {"coin": {"exchange_ratio": 1, "points_ratio": 1}}},
    ).json()
    assigned = http.post(f"/v1/rewards/{reward['id']}/assignments", json={"campaign": campaign.id})
    assert assigned.status_code == 200, assigned.text
    made = redeem(
        sdk,
        [voucher(card.code, reward={"id": reward["id"], "points": 100})],
        customer={"id": holder.id},
    ).redemptions[0]
    assert (made.amount, made.loyalty_card.points) == (100, 100)
    rolled = api(sdk).rollback_redemption(made.id)
    assert (rolled.amount, rolled.loyalty_card.points) == (-100, -100)
    assert rolled.voucher.loyalty_card.balance == 1000
    got = http.get(f"/v1/vouchers/{card.code}").json()
    assert (got["redemption"]["redeemed_points"], got["loyalty_card"]["balance"]) == (0, 1000)
    assert ledger(db, card.id) == [("POINTS_REDEMPTION", -100, 900), ("POINTS_REFUND", 100, 1000)]
    summary = voucherify.CustomersApi(sdk).get_customer(holder.id).summary.redemptions
    assert summary.loyalty_card.redeemed_points == 0


def test_idempotency_key_replays_a_refusal_without_a_second_record(
    http: httpx.Client, db: Database, project: ProjectKeys, stacked: Any
) -> None:
    path = f"/v1/redemptions/{stacked.parent_redemption.id}/rollbacks"
    first = http.post(path, headers={"Idempotency-Key": "a"})
    assert first.status_code == 200
    assert http.post(path, headers={"Idempotency-Key": "a"}).json() == first.json()
    refused = http.post(path, headers={"Idempotency-Key": "b"})
    count = record_count(db, project)
    replayed = http.post(path, headers={"Idempotency-Key": "b"})
    assert (refused.status_code, replayed.status_code) == (400, 400)
    assert replayed.json()["resource_id"] == refused.json()["resource_id"]
    assert record_count(db, project) == count
