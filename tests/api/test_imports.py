"""Voucher imports (standalone and into a campaign) and the campaign summary, through the SDK."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.redeeming import discount_voucher, error_of, redeem
from tests.support.rows import count_rows
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

AMOUNT = {"type": "AMOUNT", "amount_off": 500}


def import_standalone(sdk: voucherify.ApiClient, items: list[dict[str, Any]]) -> Any:
    return voucherify.VouchersApi(sdk).import_vouchers(
        [voucherify.VouchersImportCreateItemRequestBody.from_dict(item) for item in items]
    )


def import_to(sdk: voucherify.ApiClient, campaign: str, items: list[dict[str, Any]]) -> Any:
    return voucherify.CampaignsApi(sdk).import_vouchers_to_campaign(
        campaign, [voucherify.CampaignsImportVoucherItem.from_dict(item) for item in items]
    )


def campaign(sdk: voucherify.ApiClient, name: str, **voucher_template: Any) -> Any:
    return voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict({"name": name, "voucher": voucher_template})
    )


def test_import_creates_every_voucher_at_once(sdk: voucherify.ApiClient) -> None:
    answer = import_standalone(
        sdk,
        [
            {"code": "IMP-1", "type": "DISCOUNT_VOUCHER", "discount": AMOUNT},
            {"code": "IMP-2", "type": "GIFT_VOUCHER", "gift": {"amount": 3000}, "active": False},
        ],
    )
    assert answer.async_action_id.startswith("aa_")
    vouchers = voucherify.VouchersApi(sdk)
    first, second = vouchers.get_voucher("IMP-1"), vouchers.get_voucher("IMP-2")
    assert (first.type, first.discount.amount_off, first.campaign_id) == (
        "DISCOUNT_VOUCHER",
        500,
        None,
    )
    assert (second.gift.balance, second.active) == (3000, False)


def test_import_is_all_or_nothing(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys, http: Any
) -> None:
    discount_voucher(sdk, "TAKEN")
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        import_standalone(sdk, [{"code": "FRESH-1"}, {"code": "TAKEN"}])
    body = error_of(caught)
    assert (caught.value.status, body["key"], body["resource_id"]) == (
        409,
        "duplicate_found",
        "TAKEN",
    )
    with pytest.raises(ApiException) as caught:
        import_standalone(sdk, [{"code": "TWICE"}, {"code": "TWICE"}])
    assert error_of(caught)["key"] == "duplicate_found"
    response = http.post("/v1/vouchers/import", json=[{"type": "DISCOUNT_VOUCHER"}])
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert response.json()["details"] == "Property [0] should have required property 'code'"
    response = http.post("/v1/vouchers/import", json={"code": "X"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert count_rows(db, project.id) == before


def test_campaign_import_takes_the_template(sdk: voucherify.ApiClient) -> None:
    made = campaign(sdk, "imported", type="DISCOUNT_VOUCHER", discount=AMOUNT)
    answer = import_to(
        sdk, "imported", [{"code": "CAMP-1"}, {"code": "CAMP-2", "metadata": {"batch": 7}}]
    )
    assert answer.async_action_id.startswith("aa_")
    vouchers = voucherify.VouchersApi(sdk)
    first, second = vouchers.get_voucher("CAMP-1"), vouchers.get_voucher("CAMP-2")
    assert (first.campaign_id, first.discount.amount_off) == (made.id, 500)
    assert second.metadata == {"batch": 7}
    assert voucherify.CampaignsApi(sdk).get_campaign(made.id).vouchers_count == 2
    with pytest.raises(ApiException) as caught:
        import_to(sdk, "no-such-campaign", [{"code": "CAMP-3"}])
    assert (caught.value.status, error_of(caught)["resource_type"]) == (404, "campaign")


def test_campaign_summary_counts_redemptions_vouchers_and_credits(
    sdk: voucherify.ApiClient,
) -> None:
    gifts = campaign(sdk, "gifts", type="GIFT_VOUCHER", gift={"amount": 5000})
    import_to(sdk, gifts.id, [{"code": "G-1"}, {"code": "G-2"}, {"code": "G-3"}])
    vouchers = voucherify.VouchersApi(sdk)
    vouchers.update_voucher_balance("G-1", voucherify.VouchersBalanceUpdateRequestBody(amount=1000))
    vouchers.update_voucher_balance("G-2", voucherify.VouchersBalanceUpdateRequestBody(amount=-500))
    made = redeem(sdk, [{"object": "voucher", "id": "G-1", "gift": {"credits": 2000}}], amount=2000)
    with pytest.raises(ApiException):
        redeem(sdk, [{"object": "voucher", "id": "G-2", "gift": {"credits": 9000}}], amount=9000)
    voucherify.RedemptionsApi(sdk).rollback_redemption(made.redemptions[0].id)
    vouchers.delete_voucher("G-3")
    summary = voucherify.CampaignsApi(sdk).get_campaign_summary(gifts.id)
    got = summary.to_dict()
    assert got["object"] == "campaign_summary"
    assert got["campaign"]["id"] == gifts.id
    assert {
        k: got[k]
        for k in (
            "redemptions",
            "redemptions_succeeded",
            "redemptions_failed",
            "rollbacks",
            "rollbacks_succeeded",
            "rollbacks_failed",
            "vouchers_created",
            "vouchers_deleted",
            "created_vouchers_amount",
            "amount_added",
            "amount_subtracted",
            "amount_redeemed",
            "amount_rolledback",
            "validations",
        )
    } == {
        "redemptions": 2,
        "redemptions_succeeded": 1,
        "redemptions_failed": 1,
        "rollbacks": 1,
        "rollbacks_succeeded": 1,
        "rollbacks_failed": 0,
        "vouchers_created": 3,
        "vouchers_deleted": 1,
        "created_vouchers_amount": 15000,
        "amount_added": 1000,
        "amount_subtracted": 500,
        "amount_redeemed": 2000,
        "amount_rolledback": 2000,
        "validations": 0,
    }
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    later = voucherify.CampaignsApi(sdk).get_campaign_summary(gifts.id, start_date=tomorrow)
    assert (later.redemptions, later.vouchers_created, later.amount_added) == (0, 0, 0)
    today = dt.datetime.now(dt.UTC).date()
    same_day = voucherify.CampaignsApi(sdk).get_campaign_summary(
        gifts.name, start_date=today, end_date=today
    )
    assert (same_day.redemptions, same_day.vouchers_created) == (2, 3)
