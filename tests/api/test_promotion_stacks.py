"""Promotion stacks through the official SDK's PromotionsApi (stored and served only)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.rows import count_rows
from tests.support.stackable import category, error_of
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

OFF = {"discount": {"type": "AMOUNT", "amount_off": 100}}


def api(sdk: voucherify.ApiClient) -> voucherify.PromotionsApi:
    return voucherify.PromotionsApi(sdk)


def promotion(sdk: voucherify.ApiClient, tiers: int = 3) -> tuple[str, list[str]]:
    """A PROMOTION campaign with ``tiers`` tiers: (campaign id, tier ids by hierarchy)."""
    made = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": f"promo-{uuid.uuid4().hex[:8]}",
                "promotion": {
                    "tiers": [{"name": f"T{i}", "action": OFF} for i in range(1, tiers + 1)]
                },
            }
        )
    )
    return made.id, [tier.id for tier in made.promotion.tiers]


def create(sdk: voucherify.ApiClient, campaign_id: str, **body: Any) -> Any:
    return api(sdk).create_promotion_stack(
        campaign_id, voucherify.PromotionsStacksCreateRequestBody.from_dict(body)
    )


def test_create_get_list_a_stack(sdk: voucherify.ApiClient) -> None:
    campaign_id, (t1, t2, t3) = promotion(sdk)
    cat = category(sdk, "Stacks", 1)
    stack = create(sdk, campaign_id, name="Weekend", tiers={"ids": [t3, t1]}, category_id=cat)
    assert stack.id.startswith("stack_")
    assert (stack.name, stack.tiers.ids, stack.tiers.hierarchy_mode) == (
        "Weekend",
        [t3, t1],
        "MANUAL",
    )
    assert (stack.campaign_id, stack.object, stack.category_id) == (
        campaign_id,
        "promotion_stack",
        cat,
    )
    fetched = api(sdk).get_promotion_stack(campaign_id, stack.id)
    assert (fetched.id, fetched.tiers.ids, fetched.categories[0].id) == (stack.id, [t3, t1], cat)
    second = create(sdk, campaign_id, name="Solo", tiers={"ids": [t2]})
    listed = api(sdk).list_promotion_stacks_in_campaign(campaign_id)
    assert (listed.data_ref, listed.total) == ("data", 2)
    assert [s.id for s in listed.data] == [stack.id, second.id]
    everywhere = api(sdk).list_all_promotion_stacks(order="-created_at")
    assert [s.id for s in everywhere.data] == [second.id, stack.id]


def test_update_replaces_fields_and_delete_removes(sdk: voucherify.ApiClient) -> None:
    campaign_id, (t1, t2, _) = promotion(sdk)
    stack = create(sdk, campaign_id, name="A", tiers={"ids": [t1]})
    updated = api(sdk).update_promotion_stack(
        campaign_id,
        stack.id,
        voucherify.PromotionsStacksUpdateRequestBody.from_dict(
            {"name": "B", "tiers": {"ids": [t2, t1]}}
        ),
    )
    assert (updated.name, updated.tiers.ids) == ("B", [t2, t1])
    assert updated.updated_at is not None
    api(sdk).delete_promotion_stack(campaign_id, stack.id)
    with pytest.raises(ApiException) as caught:
        api(sdk).get_promotion_stack(campaign_id, stack.id)
    body = error_of(caught)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "promotion_stack",
        stack.id,
    )


def test_tiers_must_belong_to_the_campaign(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys, http: Any
) -> None:
    campaign_id, (t1, _, _) = promotion(sdk)
    _, (foreign, *_) = promotion(sdk)
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        create(sdk, campaign_id, name="X", tiers={"ids": [t1, foreign]})
    body = error_of(caught)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "promotion_tier",
        foreign,
    )
    response = http.post(
        f"/v1/promotions/{campaign_id}/stacks", json={"name": "X", "tiers": {"ids": []}}
    )
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    response = http.post(
        f"/v1/promotions/{campaign_id}/stacks", json={"name": "X", "tiers": {"ids": [t1, t1]}}
    )
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert count_rows(db, project.id) == before


def test_other_campaign_types_have_no_stacks(sdk: voucherify.ApiClient) -> None:
    gift = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {"name": "gifts", "voucher": {"type": "GIFT_VOUCHER", "gift": {"amount": 1}}}
        )
    )
    with pytest.raises(ApiException) as caught:
        api(sdk).list_promotion_stacks_in_campaign(gift.id)
    assert (caught.value.status, error_of(caught)["key"]) == (400, "invalid_campaign")
    with pytest.raises(ApiException) as caught:
        api(sdk).list_promotion_stacks_in_campaign("camp_missing")
    assert (caught.value.status, error_of(caught)["resource_type"]) == (404, "campaign")


def test_deleting_a_tier_takes_it_out_of_stacks(sdk: voucherify.ApiClient) -> None:
    campaign_id, (t1, t2, _) = promotion(sdk)
    pair = create(sdk, campaign_id, name="Pair", tiers={"ids": [t1, t2]})
    solo = create(sdk, campaign_id, name="Solo", tiers={"ids": [t2]})
    api(sdk).delete_promotion_tier(t2)
    assert api(sdk).get_promotion_stack(campaign_id, pair.id).tiers.ids == [t1]
    with pytest.raises(ApiException) as caught:
        api(sdk).get_promotion_stack(campaign_id, solo.id)
    assert caught.value.status == 404
