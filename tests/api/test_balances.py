"""Manual balance changes and the card ledger through the official SDK (BEHAVIOR.md §8, §9)."""

from __future__ import annotations

from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.redeeming import discount_voucher, error_of, gift_card, redeem, voucher
from tests.support.rows import count_rows
from tests.support.stackable import customer, loyalty_card
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys


def vouchers_api(sdk: voucherify.ApiClient) -> voucherify.VouchersApi:
    return voucherify.VouchersApi(sdk)


def change(sdk: voucherify.ApiClient, code: str, amount: int, **extra: Any) -> Any:
    return vouchers_api(sdk).update_voucher_balance(
        code, voucherify.VouchersBalanceUpdateRequestBody(amount=amount, **extra)
    )


def ledger(sdk: voucherify.ApiClient, code: str, **params: Any) -> Any:
    return vouchers_api(sdk).list_voucher_transactions(code, **params)


def gift_state(sdk: voucherify.ApiClient, code: str) -> tuple[int, int, int]:
    gift = vouchers_api(sdk).get_voucher(code).gift
    return gift.amount, gift.subtracted_amount, gift.balance


# --- gift cards ----------------------------------------------------------------------


def test_adding_credits_raises_amount_and_balance(sdk: voucherify.ApiClient) -> None:
    card = gift_card(sdk, "GC-ADD", amount=10000)
    result = change(sdk, "GC-ADD", 2500, reason="goodwill", source_id="crm-1")
    assert result.to_dict() == {
        "amount": 2500,
        "total": 12500,
        "balance": 12500,
        "type": "gift_voucher",
        "operation_type": "MANUAL",
        "object": "balance",
        "related_object": {"type": "voucher", "id": card.id},
    }
    assert gift_state(sdk, "GC-ADD") == (12500, 0, 12500)


def test_removing_credits_counts_as_subtracted_amount(sdk: voucherify.ApiClient) -> None:
    gift_card(sdk, "GC-RM", amount=10000)
    result = change(sdk, "GC-RM", -3000)
    assert (result.amount, result.total, result.balance) == (-3000, 10000, 7000)
    assert gift_state(sdk, "GC-RM") == (10000, 3000, 7000)
    # Down to exactly zero is allowed.
    assert change(sdk, "GC-RM", -7000).balance == 0
    assert gift_state(sdk, "GC-RM") == (10000, 10000, 0)


def test_removal_below_zero_is_refused_and_changes_nothing(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    gift_card(sdk, "GC-LOW", amount=1000)
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        change(sdk, "GC-LOW", -1001)
    body = error_of(caught)
    assert (caught.value.status, body["key"]) == (400, "invalid_add_balance_params")
    assert body["details"] == "Cannot remove 1001 credits from GC-LOW: its balance is 1000"
    assert gift_state(sdk, "GC-LOW") == (1000, 0, 1000)
    assert count_rows(db, project.id) == before


def test_zero_amount_and_discount_vouchers_are_invalid_add_balance_params(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    gift_card(sdk, "GC-ZERO")
    discount_voucher(sdk, "DISC-BAL")
    before = count_rows(db, project.id)
    for code, amount in (("GC-ZERO", 0), ("DISC-BAL", 100)):
        with pytest.raises(ApiException) as caught:
            change(sdk, code, amount)
        assert (caught.value.status, error_of(caught)["key"]) == (400, "invalid_add_balance_params")
    assert count_rows(db, project.id) == before


def test_unknown_card_is_404_voucher(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        change(sdk, "NOPE", 100)
    body = error_of(caught)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "voucher",
        "NOPE",
    )


def test_missing_amount_is_invalid_payload(sdk: voucherify.ApiClient, http: Any) -> None:
    gift_card(sdk, "GC-NOAMT")
    response = http.post("/v1/vouchers/GC-NOAMT/balance", json={"reason": "x"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert response.json()["details"] == "Payload should have required property 'amount'"


# --- loyalty cards -------------------------------------------------------------------


def test_loyalty_card_without_holder_is_refused(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code, _ = loyalty_card(sdk, 500, holder_id=None)
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        change(sdk, code, 100)
    body = error_of(caught)
    assert (caught.value.status, body["key"]) == (400, "invalid_add_balance_params")
    assert "must be assigned to a holder" in body["details"]
    assert count_rows(db, project.id) == before
    assert vouchers_api(sdk).get_voucher(code).loyalty_card.balance == 500


def test_held_loyalty_card_takes_points(sdk: voucherify.ApiClient, db: Database) -> None:
    holder = customer(sdk, "points-holder")
    code, _ = loyalty_card(sdk, 500, holder_id=holder.id)
    added = change(sdk, code, 200, reason="bonus")
    assert (added.amount, added.total, added.balance, added.type) == (200, 700, 700, "loyalty_card")
    removed = change(sdk, code, -650)
    assert (removed.amount, removed.total, removed.balance) == (-650, 700, 50)
    card = vouchers_api(sdk).get_voucher(code).loyalty_card
    assert (card.points, card.subtracted_points, card.balance) == (700, 650, 50)
    with pytest.raises(ApiException) as caught:
        change(sdk, code, -51)
    assert error_of(caught)["key"] == "invalid_add_balance_params"
    entries = ledger(sdk, code).data
    assert [(e.type, e.details.balance.points, e.details.balance.balance) for e in entries] == [
        ("POINTS_REMOVAL", -650, 50),
        ("POINTS_ADDITION", 200, 700),
    ]
    assert entries[1].details.balance.type == "loyalty_card"
    assert entries[1].reason == "bonus"


# --- the ledger ----------------------------------------------------------------------


def test_ledger_lists_manual_changes_and_redemptions_newest_first(
    sdk: voucherify.ApiClient,
) -> None:
    card = gift_card(sdk, "GC-LEDGER", amount=10000)
    added = change(sdk, "GC-LEDGER", 2500, reason="top up", source_id="crm-7")
    change(sdk, "GC-LEDGER", -1000, reason="correction")
    made = redeem(sdk, [voucher("GC-LEDGER", gift={"credits": 3000})], amount=5000)
    page = ledger(sdk, "GC-LEDGER")
    assert (page.object, page.data_ref, page.has_more, page.more_starting_after) == (
        "list",
        "data",
        False,
        None,
    )
    rows = page.data
    assert [(r.type, r.details.balance.amount, r.details.balance.balance) for r in rows] == [
        ("CREDITS_REDEMPTION", -3000, 8500),
        ("CREDITS_REMOVAL", -1000, 11500),
        ("CREDITS_ADDITION", 2500, 12500),
    ]
    assert [r.details.balance.total for r in rows] == [12500, 12500, 12500]
    assert [r.details.balance.operation_type for r in rows] == ["AUTOMATIC", "MANUAL", "MANUAL"]
    redemption, _, addition = rows
    assert redemption.details.redemption.id == made.redemptions[0].id
    assert (redemption.reason, redemption.source_id, redemption.source) == (None, None, None)
    assert (addition.reason, addition.source_id, addition.source) == ("top up", "crm-7", "API")
    assert addition.id.startswith("vtx_")
    assert (addition.voucher_id, addition.campaign_id) == (card.id, None)
    assert addition.details.balance.related_object.to_dict() == {"id": card.id, "type": "voucher"}
    assert addition.details.redemption is None
    assert added.balance == addition.details.balance.balance
    # The card's balance is what its newest ledger row says.
    assert gift_state(sdk, "GC-LEDGER")[2] == rows[0].details.balance.balance == 8500


def test_ledger_pages_by_cursor_in_either_order(sdk: voucherify.ApiClient) -> None:
    gift_card(sdk, "GC-PAGE", amount=0)
    for amount in (100, 200, 300):
        change(sdk, "GC-PAGE", amount)
    first = ledger(sdk, "GC-PAGE", limit=2)
    assert [r.details.balance.amount for r in first.data] == [300, 200]
    assert (first.has_more, first.more_starting_after) == (True, first.data[1].id)
    second = ledger(sdk, "GC-PAGE", limit=2, starting_after_id=first.more_starting_after)
    assert [r.details.balance.amount for r in second.data] == [100]
    assert (second.has_more, second.more_starting_after) == (False, None)
    oldest_first = ledger(sdk, "GC-PAGE", order="id")
    assert [r.details.balance.balance for r in oldest_first.data] == [100, 300, 600]


def test_refund_points_at_the_redemption_transaction(sdk: voucherify.ApiClient) -> None:
    gift_card(sdk, "GC-REFUND", amount=5000)
    made = redeem(sdk, [voucher("GC-REFUND", gift={"credits": 2000})], amount=2000)
    voucherify.RedemptionsApi(sdk).rollback_redemption(made.redemptions[0].id)
    refund, spend = ledger(sdk, "GC-REFUND").data
    assert (refund.type, refund.details.balance.amount, refund.details.balance.balance) == (
        "CREDITS_REFUND",
        2000,
        5000,
    )
    assert refund.related_transaction_id == spend.id
    assert spend.type == "CREDITS_REDEMPTION"
    assert spend.related_transaction_id is None


def test_ledger_of_unknown_card_is_404_and_bad_order_is_400(
    sdk: voucherify.ApiClient, http: Any
) -> None:
    with pytest.raises(ApiException) as caught:
        ledger(sdk, "NOPE")
    assert (caught.value.status, error_of(caught)["resource_type"]) == (404, "voucher")
    gift_card(sdk, "GC-ORDER")
    response = http.get("/v1/vouchers/GC-ORDER/transactions", params={"order": "amount"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_query_params")
    response = http.get("/v1/vouchers/GC-ORDER/transactions", params={"limit": 101})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_query_params")
