"""Validate stackable discounts through the official SDK (BEHAVIOR.md §6.3, §13)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import voucherify
from sqlalchemy import func, select
from voucherify.exceptions import ApiException

from tests.support.stackable import (
    AMOUNT_1500,
    CART_ITEMS,
    counts,
    customer,
    error_of,
    get_voucher,
    gift_card,
    loyalty_card,
    promotion_tier,
    redeem,
    rule,
    stacking,
    validate,
    voucher,
)
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys
from voucherd.store.schema import sessions


def one(code: str, **extra: Any) -> dict[str, Any]:
    return {"redeemables": [{"object": "voucher", "id": code, **extra}], "order": {"amount": 10000}}


def live_sessions(db: Database, project_id: str) -> int:
    with db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(sessions.c.project_id == project_id)
            ).scalar_one()
        )


def test_valid_request_answers_without_persisting_anything(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    tier = promotion_tier(sdk, AMOUNT_1500)
    response = validate(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": code},
                {"object": "promotion_tier", "id": tier.id},
            ],
            "order": {"source_id": "web-1", "items": [dict(i) for i in CART_ITEMS]},
            "customer": {"source_id": "new-customer", "metadata": {"tier": "gold"}},
        },
    )
    assert response.id.startswith("valid_")
    assert response.valid is True
    assert response.inapplicable_redeemables is None
    assert response.skipped_redeemables is None
    assert response.stacking_rules.redeemables_limit == 30
    assert response.stacking_rules.applicable_redeemables_limit == 5
    assert response.stacking_rules.redeemables_application_mode == "ALL"
    assert [(r.status, r.object, r.id) for r in response.redeemables] == [
        ("APPLICABLE", "voucher", code),
        ("APPLICABLE", "promotion_tier", tier.id),
    ]
    assert response.redeemables[0].result.discount.percent_off == 10
    assert [r.order.total_amount for r in response.redeemables] == [10800, 9300]
    order = response.order
    assert order.id is None
    assert order.source_id == "web-1"
    assert (order.amount, order.discount_amount, order.total_amount) == (12000, 2700, 9300)
    assert response.tracking_id.startswith("track_")
    assert response.session is None
    assert counts(db, project.id) == {"customers": 0, "orders": 0, "redemptions": 0}
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0
    assert live_sessions(db, project.id) == 0


def test_invalid_request_lists_the_inapplicable_with_machine_readable_details(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    spent = voucher(sdk, redemption={"quantity": 1}).code
    redeem(sdk, one(spent))
    other = voucher(sdk).code
    body = {
        "redeemables": [{"object": "voucher", "id": spent}, {"object": "voucher", "id": other}],
        "order": {"amount": 10000},
    }
    response = validate(sdk, body)
    assert response.valid is False
    assert response.order is None
    (inapplicable,) = response.inapplicable_redeemables
    assert (inapplicable.id, inapplicable.status) == (spent, "INAPPLICABLE")
    assert inapplicable.result.error.key == "quantity_exceeded"
    assert inapplicable.result.error.code == 400
    assert inapplicable.result.details.key == "quantity_exceeded"
    (skipped,) = response.skipped_redeemables
    assert (skipped.id, skipped.result.details.key) == (other, "preceding_validation_failed")
    assert response.stacking_rules is not None
    # The SDK keeps only key/message of result.details; the extras are on the wire.
    raw = http.post("/v1/validations", json=body).json()
    details = raw["inapplicable_redeemables"][0]["result"]["details"]
    assert details["check"] == "quantity"
    assert details["expected"] == "redeemed_quantity + reserved_quantity < 1"
    assert (details["actual"], details["redeemed_quantity"], details["reserved_quantity"]) == (
        1,
        1,
        0,
    )
    assert counts(db, project.id)["redemptions"] == 1


def test_unknown_code_is_inapplicable_not_found(sdk: voucherify.ApiClient) -> None:
    response = validate(sdk, one("NOPE"))
    assert response.valid is False
    (item,) = response.inapplicable_redeemables
    error = item.result.error
    assert (error.code, error.key, error.details) == (
        404,
        "not_found",
        "Cannot find voucher with id NOPE",
    )
    assert (error.resource_type, error.resource_id) == ("voucher", "NOPE")


def test_rule_violation_message_reaches_the_details(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
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
    response = validate(sdk, one(code))
    (item,) = response.inapplicable_redeemables
    assert item.result.error.key == "order_rules_violated"
    assert item.result.error.error.message == "Spend more than 200.00"
    assert item.result.details.message == "Spend more than 200.00"


def test_partial_mode_is_valid_with_one_applicable(
    sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    stacking(sdk, project.id, redeemables_application_mode="PARTIAL")
    good = voucher(sdk).code
    response = validate(
        sdk,
        {
            "redeemables": [{"object": "voucher", "id": "NOPE"}, {"object": "voucher", "id": good}],
            "order": {"amount": 10000},
        },
    )
    assert response.valid is True
    assert [r.status for r in response.redeemables] == ["INAPPLICABLE", "APPLICABLE"]
    assert [r.id for r in response.inapplicable_redeemables] == ["NOPE"]
    assert response.skipped_redeemables is None
    assert response.order.total_amount == 9000
    assert response.stacking_rules.redeemables_application_mode == "PARTIAL"


def test_lock_session_reserves_the_last_unit(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    locked = validate(sdk, {**one(code), "session": {"type": "LOCK", "key": "A"}})
    assert locked.valid is True
    assert (locked.session.key, locked.session.type) == ("A", "LOCK")
    assert (locked.session.ttl, locked.session.ttl_unit) == (7, "DAYS")
    assert live_sessions(db, project.id) == 1
    # Without the key the unit is taken: validation and redemption both say so.
    assert validate(sdk, one(code)).inapplicable_redeemables[0].result.error.key == (
        "quantity_exceeded"
    )
    with pytest.raises(ApiException) as caught:
        redeem(sdk, one(code))
    assert error_of(caught)["key"] == "quantity_exceeded"
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0
    # The key's owner redeems, which consumes the reservation.
    response = redeem(sdk, {**one(code), "session": {"type": "LOCK", "key": "A"}})
    assert response.redemptions[0].session.key == "A"
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1
    assert live_sessions(db, project.id) == 0
    with pytest.raises(ApiException) as caught:
        redeem(sdk, {**one(code), "session": {"type": "LOCK", "key": "A"}})
    assert error_of(caught)["key"] == "quantity_exceeded"


def test_lock_session_generates_a_key_and_honours_the_ttl(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    locked = validate(
        sdk, {**one(code), "session": {"type": "LOCK", "ttl": 2, "ttl_unit": "HOURS"}}
    )
    assert locked.session.key.startswith("ssn_")
    assert (locked.session.ttl, locked.session.ttl_unit) == (2, "HOURS")
    assert validate(sdk, one(code)).valid is False


def test_lock_session_reserves_gift_credits(sdk: voucherify.ApiClient) -> None:
    card = gift_card(sdk, 5000).code
    locked = validate(
        sdk, {**one(card, gift={"credits": 4000}), "session": {"type": "LOCK", "key": "G"}}
    )
    assert locked.valid is True
    (item,) = locked.redeemables
    assert (item.result.gift.credits, item.result.gift.balance) == (4000, 1000)
    assert (item.order.applied_discount_amount, item.order.total_amount) == (4000, 6000)
    assert validate(sdk, one(card, gift={"credits": 1000})).valid is True
    over = validate(sdk, one(card, gift={"credits": 1001}))
    assert over.inapplicable_redeemables[0].result.error.key == "gift_amount_exceeded"
    with pytest.raises(ApiException) as caught:
        redeem(sdk, one(card, gift={"credits": 2000}))
    assert error_of(caught)["key"] == "gift_amount_exceeded"
    redeemed = redeem(
        sdk, {**one(card, gift={"credits": 4000}), "session": {"type": "LOCK", "key": "G"}}
    )
    assert redeemed.redemptions[0].voucher.gift.balance == 1000
    assert validate(sdk, one(card, gift={"credits": 1000})).valid is True


def test_lock_session_reserves_loyalty_points(sdk: voucherify.ApiClient, db: Database) -> None:
    holder = customer(sdk, "holder")
    code, reward_id = loyalty_card(sdk, 500, holder.id)

    def body(points: int) -> dict[str, Any]:
        return {
            **one(code, reward={"id": reward_id, "points": points}),
            "customer": {"id": holder.id},
        }

    locked = validate(sdk, {**body(400), "session": {"type": "LOCK", "key": "P"}})
    assert locked.valid is True
    (item,) = locked.redeemables
    assert item.result.loyalty_card.points == 400
    # 400 points × 20 ÷ 100 = 80.00 off.
    assert (item.order.applied_discount_amount, item.order.total_amount) == (8000, 2000)
    over = validate(sdk, body(101))
    assert over.inapplicable_redeemables[0].result.error.key == "loyalty_card_points_exceeded"
    assert validate(sdk, body(100)).valid is True
    assert get_voucher(sdk, code).loyalty_card.balance == 500


def test_failed_lock_validation_reserves_nothing(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    locked = validate(
        sdk,
        {
            "redeemables": [{"object": "voucher", "id": code}, {"object": "voucher", "id": "NOPE"}],
            "order": {"amount": 10000},
            "session": {"type": "LOCK", "key": "X"},
        },
    )
    assert locked.valid is False
    assert live_sessions(db, project.id) == 0
    assert validate(sdk, one(code)).valid is True


def test_malformed_validation_is_400(http: httpx.Client) -> None:
    response = http.post("/v1/validations", json={"redeemables": []})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    dup = http.post(
        "/v1/validations",
        json={"redeemables": [{"object": "voucher", "id": "A"}, {"object": "voucher", "id": "A"}]},
    )
    assert (dup.status_code, dup.json()["key"]) == (400, "duplicated_redeemables")
