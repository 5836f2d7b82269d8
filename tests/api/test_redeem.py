"""Redeem stackable discounts through the official SDK (BEHAVIOR.md §5, §6.4, §7.6, §8, §9)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.stackable import (
    AMOUNT_1500,
    CART_ITEMS,
    PERCENT_10,
    category,
    counts,
    customer,
    error_of,
    get_redemption,
    get_tier,
    get_voucher,
    gift_card,
    ledger,
    loyalty_card,
    promotion_tier,
    records,
    redeem,
    rule,
    stacking,
    voucher,
)
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

# The Python SDK's own example body (seed 000, RedemptionsApi.md), passed as the dict it is.
SEED_BODY: dict[str, Any] = {
    "customer": {"source_id": "sample_customer", "metadata": {"key": "value"}},
    "options": {"expand": ["order", "redeemable", "category"]},
    "redeemables": [{"object": "voucher", "id": "voucher-code"}],
    "session": {"type": "LOCK", "key": "session_key"},
    "order": {
        "amount": 55000,
        "status": "PAID",
        "items": [
            {
                "quantity": 2,
                "price": 20000,
                "source_id": "sample product1",
                "related_object": "product",
                "product": {"metadata": {"key": "value"}},
            },
            {
                "quantity": 1,
                "price": 15000,
                "source_id": "sample product2",
                "related_object": "product",
                "product": {"metadata": {"key": "value"}},
            },
        ],
        "metadata": {"key": "value"},
    },
}


def cart(source_id: str | None = None) -> dict[str, Any]:
    order: dict[str, Any] = {"items": [dict(i) for i in CART_ITEMS]}
    if source_id:
        order["source_id"] = source_id
    return order


def test_seed_body_redeems_end_to_end(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    voucher(sdk, "voucher-code", discount=PERCENT_10)
    response = voucherify.RedemptionsApi(sdk).redeem_stacked_discounts(
        redemptions_redeem_request_body=SEED_BODY
    )
    assert response.parent_redemption is None
    assert response.inapplicable_redeemables == []
    assert response.skipped_redeemables == []
    (child,) = response.redemptions
    assert child.id.startswith("r_")
    assert (child.object, child.result, child.status) == ("redemption", "SUCCESS", "SUCCEEDED")
    assert child.redemption is None
    assert child.amount is None
    assert child.session.key == "session_key"
    assert (child.related_object_type, child.related_object_id) == ("voucher", child.voucher.id)
    assert child.voucher.code == "voucher-code"
    assert child.voucher.redemption.redeemed_quantity == 1
    assert child.customer.source_id == "sample_customer"
    assert child.customer.metadata == {"key": "value"}
    assert child.customer_id == child.customer.id
    assert child.tracking_id.startswith("track_")
    assert child.channel.channel_type == "API"
    step = child.order
    assert (step.amount, step.discount_amount, step.total_discount_amount, step.total_amount) == (
        55000,
        5500,
        5500,
        49500,
    )
    order = response.order
    assert order.id.startswith("ord_")
    assert step.id == order.id
    assert order.status == "PAID"
    assert order.metadata == {"key": "value"}
    assert (order.amount, order.discount_amount, order.total_amount) == (55000, 5500, 49500)
    assert order.applied_discount_amount == 5500
    assert [(i.source_id, i.quantity, i.amount) for i in order.items] == [
        ("sample product1", 2, 40000),
        ("sample product2", 1, 15000),
    ]
    assert all(i.id.startswith("ordli_") for i in order.items)
    assert order.customer_id == child.customer_id
    # The SDK types the map's values as plain dicts.
    entry = order.redemptions[child.id]
    assert (entry["related_object_type"], entry["related_object_id"]) == (
        "voucher",
        child.voucher.id,
    )
    assert "stacked" not in entry
    stored = get_redemption(sdk, child.id)
    assert (stored.id, stored.result, stored.voucher.code) == (child.id, "SUCCESS", "voucher-code")
    assert get_voucher(sdk, "voucher-code").redemption.redeemed_quantity == 1
    # The sample key names no prior validation: nothing was reserved, nothing is left behind.
    again = voucherify.RedemptionsApi(sdk).redeem_stacked_discounts(
        redemptions_redeem_request_body=SEED_BODY
    )
    assert again.redemptions[0].customer_id == child.customer_id
    assert get_voucher(sdk, "voucher-code").redemption.redeemed_quantity == 2
    assert counts(db, project.id) == {"customers": 1, "orders": 2, "redemptions": 2}


def test_stacked_redemption_has_a_parent_and_children_in_the_order_map(
    sdk: voucherify.ApiClient,
) -> None:
    first = voucher(sdk, discount=PERCENT_10)
    second = voucher(sdk, discount=AMOUNT_1500)
    response = redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": first.code},
                {"object": "voucher", "id": second.code},
            ],
            "order": cart("stack-1"),
        },
    )
    parent = response.parent_redemption
    assert parent.id.startswith("r_")
    assert (parent.related_object_type, parent.related_object_id) == ("redemption", parent.id)
    assert parent.voucher is None
    assert parent.redemption is None
    assert [c.redemption for c in response.redemptions] == [parent.id, parent.id]
    assert [c.voucher.code for c in response.redemptions] == [first.code, second.code]
    assert [c.order.applied_discount_amount for c in response.redemptions] == [1200, 1500]
    assert [c.order.total_amount for c in response.redemptions] == [10800, 9300]
    assert (parent.order.discount_amount, parent.order.total_amount) == (2700, 9300)
    entry = response.order.redemptions[parent.id]
    assert entry["related_object_type"] == "redemption"
    assert entry["related_object_id"] == parent.id
    assert entry["stacked"] == [c.id for c in response.redemptions]
    assert list(response.order.redemptions) == [parent.id]
    assert response.order.source_id == "stack-1"
    assert get_redemption(sdk, parent.id).related_object_type == "redemption"


def test_example_a_percent_tier_and_gift_card(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    """BEHAVIOR.md §7.6 Example A: totals 10800 / 9300 / 4300, gift balance 8000 → 3000."""
    spring = voucher(sdk, discount=PERCENT_10)
    tier = promotion_tier(sdk, AMOUNT_1500)
    card = gift_card(sdk, 8000)
    response = redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": spring.code},
                {"object": "promotion_tier", "id": tier.id},
                {"object": "voucher", "id": card.code, "gift": {"credits": 5000}},
            ],
            "order": cart(),
            "customer": {"source_id": "alice"},
        },
    )
    children = response.redemptions
    assert [c.related_object_type for c in children] == ["voucher", "promotion_tier", "voucher"]
    assert [c.order.applied_discount_amount for c in children] == [1200, 1500, 5000]
    assert [c.order.discount_amount for c in children] == [1200, 2700, 7700]
    assert [c.order.total_amount for c in children] == [10800, 9300, 4300]
    assert [c.amount for c in children] == [None, None, 5000]
    assert children[2].gift.amount == 5000
    assert children[2].voucher.gift.balance == 3000
    assert children[1].promotion_tier.id == tier.id
    parent = response.parent_redemption.order
    assert (parent.amount, parent.discount_amount, parent.applied_discount_amount) == (
        12000,
        7700,
        7700,
    )
    assert (parent.total_discount_amount, parent.total_amount) == (7700, 4300)
    order = response.order
    assert (order.amount, order.total_discount_amount, order.total_amount) == (12000, 7700, 4300)
    stored = get_voucher(sdk, card.code)
    assert stored.gift.balance == 3000
    # The SDK's voucher model has no redeemed_amount: read it raw.
    assert http.get(f"/v1/vouchers/{card.code}").json()["redemption"]["redeemed_amount"] == 5000
    assert stored.redemption.redeemed_quantity == 1
    assert get_voucher(sdk, spring.code).redemption.redeemed_quantity == 1
    assert get_tier(sdk, tier.id).summary.redemptions.total_redeemed == 1
    assert ledger(db, project.id) == [("CREDITS_REDEMPTION", -5000, 3000)]
    assert counts(db, project.id) == {"customers": 1, "orders": 1, "redemptions": 4}


def test_promotion_tier_redemption_alone(sdk: voucherify.ApiClient) -> None:
    tier = promotion_tier(sdk, AMOUNT_1500)
    response = redeem(
        sdk, {"redeemables": [{"object": "promotion_tier", "id": tier.id}], "order": cart()}
    )
    (child,) = response.redemptions
    assert (child.related_object_type, child.related_object_id) == ("promotion_tier", tier.id)
    assert child.voucher is None
    assert child.promotion_tier.id == tier.id
    assert child.order.total_amount == 10500
    entry = response.order.redemptions[child.id]
    assert (entry["related_object_type"], entry["related_object_id"]) == ("promotion_tier", tier.id)
    assert entry["related_object_parent_id"] == tier.campaign_id
    assert get_tier(sdk, tier.id).summary.redemptions.total_redeemed == 1


def test_gift_card_credits_move_balance_and_ledger(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    card = gift_card(sdk, 10000)
    for credits, balance in ((2500, 7500), (4000, 3500)):
        response = redeem(
            sdk,
            {
                "redeemables": [
                    {"object": "voucher", "id": card.code, "gift": {"credits": credits}}
                ],
                "order": {"amount": 9000},
            },
        )
        (child,) = response.redemptions
        assert child.amount == credits
        assert child.gift.amount == credits
        assert child.voucher.gift.balance == balance
        assert response.order.total_amount == 9000 - credits
    stored = get_voucher(sdk, card.code)
    assert (stored.gift.amount, stored.gift.balance) == (10000, 3500)
    assert http.get(f"/v1/vouchers/{card.code}").json()["redemption"]["redeemed_amount"] == 6500
    assert stored.redemption.redeemed_quantity == 2
    assert ledger(db, project.id) == [
        ("CREDITS_REDEMPTION", -2500, 7500),
        ("CREDITS_REDEMPTION", -4000, 3500),
    ]


def test_loyalty_card_pays_with_points(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    """§7.6 Example D: 300 points × 20 ÷ 100 = 60.00 off a 9300 total."""
    holder = customer(sdk, "holder")
    code, reward_id = loyalty_card(sdk, 1000, holder.id)
    response = redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": code, "reward": {"id": reward_id, "points": 300}}
            ],
            "order": {"amount": 9300},
            "customer": {"id": holder.id},
        },
    )
    (child,) = response.redemptions
    assert child.amount == 300
    assert child.loyalty_card.points == 300
    assert child.reward.id == reward_id
    assert child.order.applied_discount_amount == 6000
    assert response.order.total_amount == 3300
    stored = get_voucher(sdk, code)
    assert stored.loyalty_card.balance == 700
    assert stored.redemption.redeemed_points == 300
    assert ledger(db, project.id) == [("POINTS_REDEMPTION", -300, 700)]


# --- failures ---------------------------------------------------------------------------


def one(code: str, **extra: Any) -> dict[str, Any]:
    return {"redeemables": [{"object": "voucher", "id": code, **extra}], "order": {"amount": 10000}}


def failed(sdk: voucherify.ApiClient, body: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ApiException) as caught:
        redeem(sdk, body)
    return error_of(caught)


def test_unknown_code_is_404_pointing_at_a_self_referencing_failed_record(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    error = failed(sdk, {**one("NOPE"), "customer": {"source_id": "bob"}})
    assert (error["code"], error["key"], error["resource_type"]) == (404, "not_found", "redemption")
    assert error["resource_id"].startswith("rf_")
    assert error["details"] == "Cannot find voucher with id NOPE"
    assert (error["redeemable_type"], error["redeemable_id"]) == ("voucher", "NOPE")
    assert error["request_id"]
    record = get_redemption(sdk, error["resource_id"])
    assert (record.result, record.status, record.failure_code) == ("FAILURE", "FAILED", "not_found")
    assert (record.related_object_type, record.related_object_id) == ("redemption", record.id)
    assert record.voucher is None
    assert record.order is None
    assert record.redemption is None
    assert record.customer.source_id == "bob"
    assert [r["id"] for r in records(db, project.id)] == [record.id]
    assert counts(db, project.id)["orders"] == 0


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"active": False}, "voucher_disabled", "voucher is disabled"),
        ({"expiration_date": "2020-01-01T00:00:00Z"}, "voucher_expired", "voucher expired"),
        ({"start_date": "2999-01-01T00:00:00Z"}, "voucher_not_active", None),
    ],
)
def test_status_failures_record_one_failed_redemption_and_consume_nothing(
    sdk: voucherify.ApiClient,
    db: Database,
    project: ProjectKeys,
    fields: dict[str, Any],
    key: str,
    message: str | None,
) -> None:
    code = voucher(sdk, **fields).code
    error = failed(sdk, one(code))
    assert (error["code"], error["key"], error["resource_type"]) == (400, key, "redemption")
    if message is not None:
        assert error["message"] == message
    record = get_redemption(sdk, error["resource_id"])
    assert (record.failure_code, record.related_object_type) == (key, "voucher")
    assert record.voucher.code == code
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0
    assert counts(db, project.id) == {"customers": 0, "orders": 0, "redemptions": 1}


def test_quantity_exceeded_after_the_last_unit(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    redeem(sdk, one(code))
    error = failed(sdk, one(code))
    assert error["key"] == "quantity_exceeded"
    assert get_redemption(sdk, error["resource_id"]).failure_code == "quantity_exceeded"
    stored = get_voucher(sdk, code)
    assert (stored.redemption.quantity, stored.redemption.redeemed_quantity) == (1, 1)
    assert [r["result"] for r in records(db, project.id)] == ["SUCCESS", "FAILURE"]


def test_gift_credits_above_the_balance_are_refused(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    card = gift_card(sdk, 3000)
    error = failed(sdk, one(card.code, gift={"credits": 3001}))
    assert error["key"] == "gift_amount_exceeded"
    assert get_voucher(sdk, card.code).gift.balance == 3000
    assert ledger(db, project.id) == []


def test_loyalty_failures_missing_reward_invalid_customer_points_exceeded(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    holder = customer(sdk, "holder")
    other = customer(sdk, "other")
    code, reward_id = loyalty_card(sdk, 200, holder.id)
    as_holder = {"customer": {"id": holder.id}}
    assert failed(sdk, {**one(code), **as_holder})["key"] == "missing_reward"
    stranger = failed(
        sdk, {**one(code, reward={"id": reward_id, "points": 100}), "customer": {"id": other.id}}
    )
    assert (stranger["key"], stranger["message"]) == (
        "invalid_customer",
        "Customer must be a holder of a loyalty card.",
    )
    assert failed(sdk, {**one(code, reward={"id": reward_id, "points": 201}), **as_holder})[
        "key"
    ] == ("loyalty_card_points_exceeded")
    assert get_voucher(sdk, code).loyalty_card.balance == 200
    assert [r["failure_code"] for r in records(db, project.id)] == [
        "missing_reward",
        "invalid_customer",
        "loyalty_card_points_exceeded",
    ]
    assert ledger(db, project.id) == []


def test_order_rule_violation_carries_the_rule_message(sdk: voucherify.ApiClient) -> None:
    rule_id = rule(
        sdk,
        {
            "1": {
                "name": "order.amount",
                "conditions": {"$more_than": [20000]},
                "error": {"message": "Spend more than 200.00"},
            },
            "logic": "1",
        },
    )
    code = voucher(sdk, validation_rules=[rule_id]).code
    error = failed(sdk, one(code))
    assert (error["key"], error["error"]) == (
        "order_rules_violated",
        {"message": "Spend more than 200.00"},
    )
    assert get_redemption(sdk, error["resource_id"]).failure_code == "order_rules_violated"
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0


def test_rule_violation_without_a_message_has_no_error_object(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    rule_id = rule(
        sdk, {"1": {"name": "order.amount", "conditions": {"$more_than": [20000]}}, "logic": "1"}
    )
    code = voucher(sdk, validation_rules=[rule_id]).code
    error = failed(sdk, one(code))
    assert (error["key"], error["message"]) == (
        "order_rules_violated",
        "order does not match validation rules",
    )
    assert "error" not in error
    validation = http.post("/v1/validations", json=one(code)).json()
    assert "error" not in validation["inapplicable_redeemables"][0]["result"]["error"]
    # The rule set's own message stands in for a rule without one.
    with_set_message = rule(
        sdk,
        {"1": {"name": "order.amount", "conditions": {"$more_than": [20000]}}, "logic": "1"},
        error={"message": "Not this time"},
    )
    code = voucher(sdk, validation_rules=[with_set_message]).code
    assert failed(sdk, one(code))["error"] == {"message": "Not this time"}


def test_customer_rule_violation(sdk: voucherify.ApiClient) -> None:
    rule_id = rule(
        sdk,
        {
            "1": {"name": "customer.metadata", "property": "tier", "conditions": {"$is": ["gold"]}},
            "logic": "1",
        },
    )
    code = voucher(sdk, validation_rules=[rule_id]).code
    error = failed(
        sdk, {**one(code), "customer": {"source_id": "c1", "metadata": {"tier": "silver"}}}
    )
    assert error["key"] == "customer_rules_violated"
    ok = redeem(sdk, {**one(code), "customer": {"source_id": "c2", "metadata": {"tier": "gold"}}})
    assert ok.redemptions[0].customer.metadata == {"tier": "gold"}


@pytest.mark.parametrize(
    ("body", "key", "details"),
    [
        (None, "invalid_payload", "Payload should have required property 'redeemables'"),
        (
            {"redeemables": []},
            "invalid_payload",
            "Property .redeemables should NOT have fewer than 1 items",
        ),
        (
            {"redeemables": [{"object": "voucher", "id": f"C{n}"} for n in range(31)]},
            "invalid_payload",
            "Property .redeemables should NOT have more than 30 items",
        ),
        (
            {
                "redeemables": [{"object": "voucher", "id": "CODE"}],
                "order": {"items": [{"quantity": 1, "price": 1}] * 501},
            },
            "invalid_payload",
            "Property .order.items should NOT have more than 500 items",
        ),
        (
            {
                "redeemables": [
                    {"object": "voucher", "id": "CODE"},
                    {"object": "voucher", "id": "CODE"},
                ]
            },
            "duplicated_redeemables",
            None,
        ),
    ],
)
def test_malformed_requests_are_400_and_change_nothing(
    sdk: voucherify.ApiClient,
    http: httpx.Client,
    db: Database,
    project: ProjectKeys,
    body: dict[str, Any] | None,
    key: str,
    details: str | None,
) -> None:
    voucher(sdk, "CODE")
    response = (
        http.post("/v1/redemptions", json=body)
        if body is not None
        else http.post("/v1/redemptions")
    )
    error = response.json()
    assert (response.status_code, error["code"], error["key"]) == (400, 400, key)
    assert error["details"]
    if details is not None:
        assert error["details"] == details
    assert get_voucher(sdk, "CODE").redemption.redeemed_quantity == 0
    assert counts(db, project.id) == {"customers": 0, "orders": 0, "redemptions": 0}


# --- stacking rules ---------------------------------------------------------------------


def test_all_mode_redeems_nothing_when_one_fails(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    good = voucher(sdk).code
    bad = voucher(sdk, active=False).code
    body = {
        "redeemables": [{"object": "voucher", "id": good}, {"object": "voucher", "id": bad}],
        "order": {"amount": 10000},
    }
    error = failed(sdk, body)
    assert (error["key"], error["redeemable_id"]) == ("voucher_disabled", bad)
    assert get_voucher(sdk, good).redemption.redeemed_quantity == 0
    assert [(r["failure_code"], r["voucher"]["code"]) for r in records(db, project.id)] == [
        ("voucher_disabled", bad)
    ]


def test_partial_mode_redeems_the_valid_ones_and_lists_the_rest(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    stacking(sdk, project.id, redeemables_application_mode="PARTIAL")
    good = voucher(sdk).code
    bad = voucher(sdk, active=False).code
    response = redeem(
        sdk,
        {
            "redeemables": [{"object": "voucher", "id": bad}, {"object": "voucher", "id": good}],
            "order": {"amount": 10000},
        },
    )
    assert [c.voucher.code for c in response.redemptions] == [good]
    assert response.parent_redemption is None
    (inapplicable,) = response.inapplicable_redeemables
    assert (inapplicable.id, inapplicable.status) == (bad, "INAPPLICABLE")
    assert inapplicable.result.error.key == "voucher_disabled"
    assert response.skipped_redeemables == []
    assert response.order.total_amount == 9000
    assert sorted(r["result"] for r in records(db, project.id)) == ["FAILURE", "SUCCESS"]


def test_applicable_limit_skips_the_extra_redeemables(
    sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    stacking(sdk, project.id, applicable_redeemables_limit=1)
    first = voucher(sdk).code
    second = voucher(sdk).code
    response = redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": first},
                {"object": "voucher", "id": second},
            ],
            "order": {"amount": 10000},
        },
    )
    assert [c.voucher.code for c in response.redemptions] == [first]
    (skipped,) = response.skipped_redeemables
    assert (skipped.id, skipped.status) == (second, "SKIPPED")
    assert skipped.result.details.key == "applicable_redeemables_limit_exceeded"
    assert get_voucher(sdk, second).redemption.redeemed_quantity == 0


def test_exclusive_category_blocks_common_redeemables(
    sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    exclusive = category(sdk, "Exclusive", 1)
    stacking(sdk, project.id, exclusive_categories=[exclusive])
    common = voucher(sdk, discount=AMOUNT_1500).code
    solo = voucher(sdk, category_id=exclusive).code
    response = redeem(
        sdk,
        {
            "redeemables": [{"object": "voucher", "id": common}, {"object": "voucher", "id": solo}],
            "order": {"amount": 10000},
            "options": {"expand": ["category"]},
        },
    )
    assert [c.voucher.code for c in response.redemptions] == [solo]
    (skipped,) = response.skipped_redeemables
    assert (skipped.id, skipped.result.details.key) == (common, "exclusion_rules_not_met")
    assert response.order.total_amount == 9000


# --- idempotency ------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    code = voucher(sdk).code
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = http.post("/v1/redemptions", json=one(code), headers=key)
    again = http.post("/v1/redemptions", json=one(code), headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1
    other = http.post("/v1/redemptions", json={**one(code), "metadata": {"x": 1}}, headers=key)
    assert (other.status_code, other.json()["key"]) == (409, "idempotency_key_reused")
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1


def test_idempotency_key_replays_a_failure_without_a_second_record(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, active=False).code
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = http.post("/v1/redemptions", json=one(code), headers=key)
    again = http.post("/v1/redemptions", json=one(code), headers=key)
    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json() == first.json()
    assert first.json()["key"] == "voucher_disabled"
    assert len(records(db, project.id)) == 1
    other = http.post("/v1/redemptions", json=one(code) | {"metadata": {"y": 2}}, headers=key)
    assert (other.status_code, other.json()["key"]) == (409, "idempotency_key_reused")
    assert len(records(db, project.id)) == 1


# --- customers, orders, campaigns -------------------------------------------------------


def test_customer_summary_counts_children_and_failures(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    card = gift_card(sdk, 5000).code
    plain = voucher(sdk).code
    who = {"customer": {"source_id": "summary-customer", "name": "Sam"}}
    redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": plain},
                {"object": "voucher", "id": card, "gift": {"credits": 2000}},
            ],
            "order": {"amount": 10000, "status": "FULFILLED"},
            **who,
        },
    )
    failed(sdk, {**one(voucher(sdk, active=False).code), **who})
    stored = voucherify.CustomersApi(sdk).get_customer("summary-customer")
    assert stored.name == "Sam"
    redemptions = stored.summary.redemptions
    assert (redemptions.total_redeemed, redemptions.total_succeeded, redemptions.total_failed) == (
        3,
        2,
        1,
    )
    assert redemptions.gift.redeemed_amount == 2000
    orders = stored.summary.orders
    # 10 % of 10000, then 2000 credits: the order counts at its total after discounts.
    assert (orders.total_count, orders.total_amount, orders.last_order_amount) == (1, 7000, 7000)
    assert counts(db, project.id)["customers"] == 1


def test_second_redemption_on_a_stored_order_sees_its_prior_discounts(
    sdk: voucherify.ApiClient,
) -> None:
    """BEHAVIOR.md §7.6 Example F: 7500 already off an 8000 order; 1000 more applies 500."""
    first = voucher(sdk, discount={"type": "AMOUNT", "amount_off": 7500}).code
    second = voucher(sdk, discount={"type": "AMOUNT", "amount_off": 1000}).code
    one_order = {"source_id": "order-f", "amount": 8000}
    earlier = redeem(sdk, {"redeemables": [{"object": "voucher", "id": first}], "order": one_order})
    later = redeem(
        sdk,
        {"redeemables": [{"object": "voucher", "id": second}], "order": {"source_id": "order-f"}},
    )
    step = later.redemptions[0].order
    assert (step.applied_discount_amount, step.discount_amount, step.total_amount) == (500, 8000, 0)
    assert later.order.id == earlier.order.id
    assert set(later.order.redemptions) == {earlier.redemptions[0].id, later.redemptions[0].id}
    stored = voucherify.OrdersApi(sdk).get_order(earlier.order.id)
    assert (stored.discount_amount, stored.total_amount) == (8000, 0)


def test_unknown_customer_id_is_404_and_stores_nothing(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    error = failed(sdk, {**one(code), "customer": {"id": "cust_missing"}})
    assert (error["code"], error["key"], error["resource_type"]) == (404, "not_found", "customer")
    assert error["resource_id"] == "cust_missing"
    assert counts(db, project.id) == {"customers": 0, "orders": 0, "redemptions": 0}
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0


def test_campaign_voucher_names_its_campaign(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "Spring",
                "campaign_type": "DISCOUNT_COUPONS",
                "voucher": {"type": "DISCOUNT_VOUCHER", "discount": PERCENT_10},
            }
        )
    )
    voucherify.CampaignsApi(sdk).add_voucher_with_specific_code_to_campaign(campaign.id, "SPRING-1")
    response = redeem(sdk, one("SPRING-1"))
    (child,) = response.redemptions
    assert child.voucher.campaign_id == campaign.id
    entry = response.order.redemptions[child.id]
    assert entry["related_object_parent_id"] == campaign.id
    voucherify.CampaignsApi(sdk).disable_campaign(campaign.id)
    error = failed(sdk, one("SPRING-1"))
    assert error["key"] == "voucher_disabled"
    record = get_redemption(sdk, error["resource_id"])
    assert (record.voucher.code, record.voucher.campaign_id) == ("SPRING-1", campaign.id)


def test_deleted_voucher_and_disabled_tier_cannot_be_redeemed(sdk: voucherify.ApiClient) -> None:
    code = voucher(sdk).code
    voucherify.VouchersApi(sdk).delete_voucher(code)
    assert failed(sdk, one(code))["key"] == "not_found"
    tier = promotion_tier(sdk, AMOUNT_1500)
    voucherify.PromotionsApi(sdk).disable_promotion_tier(tier.id)
    error = failed(
        sdk, {"redeemables": [{"object": "promotion_tier", "id": tier.id}], "order": cart()}
    )
    assert (error["key"], error["redeemable_type"]) == ("promotion_inactive", "promotion_tier")
    record = get_redemption(sdk, error["resource_id"])
    assert (record.related_object_type, record.promotion_tier.id) == ("promotion_tier", tier.id)


def test_an_order_customer_stands_in_for_a_missing_request_customer(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    """Raw HTTP: the Python SDK's redeem order model has no ``customer`` (other SDKs send it)."""
    code = voucher(sdk).code
    order = {"amount": 1000, "customer": {"source_id": "order-owner"}}
    response = http.post(
        "/v1/redemptions", json={"redeemables": [{"object": "voucher", "id": code}], "order": order}
    ).json()
    (child,) = response["redemptions"]
    assert child["customer"]["source_id"] == "order-owner"
    assert response["order"]["customer_id"] == child["customer_id"]
    assert counts(db, project.id)["customers"] == 1
    # The request's own customer wins over the order's.
    other = http.post(
        "/v1/redemptions",
        json={
            "redeemables": [{"object": "voucher", "id": code}],
            "order": order,
            "customer": {"source_id": "payer"},
        },
    ).json()
    assert other["redemptions"][0]["customer"]["source_id"] == "payer"
    assert other["order"]["customer_id"] == other["redemptions"][0]["customer_id"]


def test_nothing_applied_and_nothing_failed_is_400_without_records(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    stacking(sdk, project.id, redeemables_no_effect_rule="SKIP")
    code = voucher(sdk).code
    # 10 % of an empty order is no effect: SKIPPED under the SKIP rule.
    error = failed(
        sdk, {"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 0}}
    )
    assert (error["code"], error["key"]) == (400, "no_effect")
    assert (error["redeemable_type"], error["redeemable_id"]) == ("voucher", code)
    assert error["details"] == "redeemable has no effect"
    assert "resource_id" not in error
    assert counts(db, project.id)["redemptions"] == 0
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0


def test_unit_effects_add_lines_that_the_stored_order_keeps(sdk: voucherify.ApiClient) -> None:
    """§7.6 Example C (ADD_MISSING_ITEMS of B), then ADD_NEW_ITEMS of a product not in the cart."""
    products = voucherify.ProductsApi(sdk)
    b = products.create_product(
        voucherify.ProductsCreateRequestBody.from_dict(
            {"source_id": "B", "name": "B", "price": 2000}
        )
    )
    extra = products.create_product(
        voucherify.ProductsCreateRequestBody.from_dict(
            {"source_id": "X", "name": "X", "price": 500}
        )
    )
    missing = voucher(
        sdk,
        discount={"type": "UNIT", "unit_off": 2, "unit_type": b.id, "effect": "ADD_MISSING_ITEMS"},
    )
    new = voucher(
        sdk,
        discount={"type": "UNIT", "unit_off": 1, "unit_type": extra.id, "effect": "ADD_NEW_ITEMS"},
    )
    response = redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": missing.code},
                {"object": "voucher", "id": new.code},
            ],
            "order": cart(),
        },
    )
    order = response.order
    assert (
        order.amount,
        order.initial_amount,
        order.items_discount_amount,
        order.total_amount,
    ) == (
        14500,
        12000,
        4500,
        10000,
    )
    assert [
        (i.source_id, i.quantity, i.initial_quantity, i.amount, i.discount_amount)
        for i in order.items
    ] == [
        ("A", 2, 2, 6000, 0),
        ("B", 2, 1, 4000, 4000),
        ("C", 1, 1, 4000, 0),
        ("X", 1, 0, 500, 500),
    ]
    first_step = response.redemptions[0].order
    assert [i.id for i in first_step.items] == [i.id for i in order.items[:3]]
    stored = voucherify.OrdersApi(sdk).get_order(order.id)
    assert [(i.id, i.quantity) for i in stored.items] == [(i.id, i.quantity) for i in order.items]
