"""Loyalty programs and members through the official SDK's LoyaltiesApi (BEHAVIOR.md §9)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.rows import count_rows
from tests.support.stackable import error_of, gift_card, redeem, voucher
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys


def api(sdk: voucherify.ApiClient) -> voucherify.LoyaltiesApi:
    return voucherify.LoyaltiesApi(sdk)


def program(sdk: voucherify.ApiClient, *, cards: int = 0, points: int = 0, **body: Any) -> Any:
    body.setdefault("name", f"loyal-{uuid.uuid4().hex[:8]}")
    return api(sdk).create_loyalty_program(
        voucherify.LoyaltiesCreateCampaignRequestBody.from_dict(
            {
                "vouchers_count": cards,
                "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": points}},
                **body,
            }
        )
    )


def join(sdk: voucherify.ApiClient, campaign_id: str, source_id: str, **body: Any) -> Any:
    return api(sdk).add_member(
        campaign_id,
        voucherify.LoyaltiesMembersCreateRequestBody.from_dict(
            {"customer": {"source_id": source_id}, **body}
        ),
    )


def points(sdk: voucherify.ApiClient, member: str, amount: int, campaign: str | None = None) -> Any:
    body = voucherify.LoyaltiesMembersBalanceUpdateRequestBody(points=amount, reason="manual")
    if campaign is None:
        return api(sdk).update_loyalty_card_balance(member, body)
    return api(sdk).update_loyalty_card_balance1(campaign, member, body)


def test_create_program_makes_a_loyalty_campaign_with_its_cards(sdk: voucherify.ApiClient) -> None:
    created = program(sdk, cards=2, points=100, type="STATIC")
    assert (created.campaign_type, created.type, created.vouchers_count) == (
        "LOYALTY_PROGRAM",
        "STATIC",
        2,
    )
    assert created.voucher.type == "LOYALTY_CARD"
    assert created.voucher.loyalty_card.points == 100
    fetched = api(sdk).get_loyalty_program(created.id)
    assert (fetched.id, fetched.name) == (created.id, created.name)
    members = api(sdk).list_members(created.id)
    assert (members.data_ref, members.total) == ("vouchers", 2)
    assert {(m.type, m.loyalty_card.points, m.holder_id) for m in members.vouchers} == {
        ("LOYALTY_CARD", 100, None)
    }
    listed = api(sdk).list_loyalty_programs()
    assert [c.id for c in listed.campaigns] == [created.id]


def test_other_campaigns_are_not_loyalty_programs(sdk: voucherify.ApiClient) -> None:
    discount = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "not-loyal",
                "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT"}},
            }
        )
    )
    with pytest.raises(ApiException) as caught:
        api(sdk).get_loyalty_program(discount.id)
    body = error_of(caught)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "campaign",
        discount.id,
    )
    assert api(sdk).list_loyalty_programs().total == 0


def test_add_member_publishes_free_cards_one_customer_each(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    loyal = program(sdk, cards=2, points=50, type="STATIC")
    alice = join(sdk, loyal.id, "alice")
    bob = join(sdk, loyal.id, "bob")
    assert alice.code != bob.code
    customers = voucherify.CustomersApi(sdk)
    assert alice.holder_id == customers.get_customer("alice").id
    assert bob.holder_id == customers.get_customer("bob").id
    assert (alice.publish.count, alice.type, alice.campaign_id) == (1, "LOYALTY_CARD", loyal.id)
    # Join-once: alice gets her card back, unchanged.
    again = join(sdk, loyal.id, "alice")
    assert (again.code, again.publish.count) == (alice.code, 1)
    # No card left in a STATIC program: refused, and the new customer is not kept.
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        join(sdk, loyal.id, "carol")
    assert (caught.value.status, error_of(caught)["key"]) == (
        400,
        "no_voucher_suitable_for_publication",
    )
    assert count_rows(db, project.id) == before


def test_auto_update_program_generates_a_card_on_demand(sdk: voucherify.ApiClient) -> None:
    loyal = program(sdk, points=10)
    assert (loyal.type, loyal.vouchers_count) == ("AUTO_UPDATE", 0)
    card = join(sdk, loyal.id, "dave")
    assert (card.campaign_id, card.loyalty_card.points, card.publish.count) == (loyal.id, 10, 1)
    assert api(sdk).get_loyalty_program(loyal.id).vouchers_count == 1


def test_add_member_with_a_named_card(sdk: voucherify.ApiClient) -> None:
    loyal = program(sdk, cards=0, type="STATIC")
    campaigns = voucherify.CampaignsApi(sdk)
    campaigns.add_voucher_with_specific_code_to_campaign(loyal.id, "LOYAL-A")
    campaigns.add_voucher_with_specific_code_to_campaign(loyal.id, "LOYAL-B")
    assert join(sdk, loyal.id, "erin", voucher="LOYAL-B").code == "LOYAL-B"
    with pytest.raises(ApiException) as caught:
        join(sdk, loyal.id, "frank", voucher="LOYAL-B")
    assert error_of(caught)["key"] == "no_voucher_suitable_for_publication"
    gift_card(sdk, 100, code="GIFT-X")
    with pytest.raises(ApiException) as caught:
        join(sdk, loyal.id, "frank", voucher="GIFT-X")
    assert (caught.value.status, error_of(caught)["resource_type"]) == (404, "voucher")


def test_get_member_by_code_with_or_without_the_program(sdk: voucherify.ApiClient) -> None:
    loyal = program(sdk, points=5)
    other = program(sdk)
    card = join(sdk, loyal.id, "gina")
    assert api(sdk).get_member(card.code).id == card.id
    assert api(sdk).get_member1(loyal.id, card.id).code == card.code
    with pytest.raises(ApiException) as caught:
        api(sdk).get_member1(other.id, card.code)
    assert (caught.value.status, error_of(caught)["resource_type"]) == (404, "voucher")
    with pytest.raises(ApiException) as caught:
        api(sdk).get_member1("camp_nope", card.code)
    assert error_of(caught)["resource_type"] == "campaign"


def test_member_balance_moves_points_on_held_cards_only(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    loyal = program(sdk, cards=1, points=100, type="STATIC")
    free = api(sdk).list_members(loyal.id).vouchers[0]
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        points(sdk, free.code, 10)
    assert (caught.value.status, error_of(caught)["key"]) == (400, "invalid_add_balance_params")
    assert count_rows(db, project.id) == before
    card = join(sdk, loyal.id, "hank")
    added = points(sdk, card.code, 150)
    assert added.to_dict() == {
        "points": 150,
        "total": 250,
        "balance": 250,
        "type": "loyalty_card",
        "object": "balance",
        "related_object": {"type": "voucher", "id": card.id},
        "operation_type": "MANUAL",
    }
    removed = points(sdk, card.code, -200, campaign=loyal.id)
    assert (removed.points, removed.total, removed.balance) == (-200, 250, 50)
    assert api(sdk).get_member(card.code).loyalty_card.balance == 50
    other = program(sdk)
    with pytest.raises(ApiException) as caught:
        points(sdk, card.code, 1, campaign=other.id)
    assert (caught.value.status, error_of(caught)["resource_type"]) == (404, "voucher")
    rows = voucherify.VouchersApi(sdk).list_voucher_transactions(card.code).data
    assert [(r.type, r.details.balance.points, r.reason) for r in rows] == [
        ("POINTS_REMOVAL", -200, "manual"),
        ("POINTS_ADDITION", 150, "manual"),
    ]


def test_points_redemption_is_in_the_ledger(sdk: voucherify.ApiClient) -> None:
    loyal = program(sdk, points=1000)
    reward = voucherify.RewardsApi(sdk).create_reward(
        voucherify.RewardsCreateRequestBody.from_dict(
            {"name": "Coins", "parameters": {"coin": {"exchange_ratio": 20, "points_ratio": "100"}}}
        )
    )
    voucherify.RewardsApi(sdk).create_reward_assignment(
        reward.id, voucherify.RewardsAssignmentsCreateRequestBody.from_dict({"campaign": loyal.id})
    )
    card = join(sdk, loyal.id, "ivy")
    made = redeem(
        sdk,
        {
            "redeemables": [
                {"object": "voucher", "id": card.code, "reward": {"id": reward.id, "points": 300}}
            ],
            "order": {"amount": 9300},
            "customer": {"source_id": "ivy"},
        },
    )
    (row,) = voucherify.VouchersApi(sdk).list_voucher_transactions(card.code).data
    assert (row.type, row.details.balance.points, row.details.balance.balance) == (
        "POINTS_REDEMPTION",
        -300,
        700,
    )
    assert (row.details.balance.total, row.campaign_id) == (1000, loyal.id)
    assert row.details.redemption.id == made.redemptions[0].id


def test_update_and_delete_program(sdk: voucherify.ApiClient) -> None:
    loyal = program(sdk, cards=1)
    updated = api(sdk).update_loyalty_program(
        loyal.id, voucherify.LoyaltiesUpdateCampaignRequestBody(description="Points for all")
    )
    assert updated.description == "Points for all"
    deleted = api(sdk).delete_loyalty_program(loyal.id)
    assert deleted.async_action_id.startswith("aa_")
    with pytest.raises(ApiException) as caught:
        api(sdk).get_loyalty_program(loyal.id)
    assert caught.value.status == 404
    assert voucher(sdk).code  # the project still works
