"""Promotion tiers through the official SDK: inline and added tiers, reads, updates, lists."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.api.test_vouchers import make_category, make_rule
from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

AMOUNT = {"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ORDER"}


def api(sdk: voucherify.ApiClient) -> voucherify.PromotionsApi:
    return voucherify.PromotionsApi(sdk)


def promotion(sdk: voucherify.ApiClient, *tiers: dict[str, Any], **body: Any) -> Any:
    body.setdefault("name", f"promo-{uuid.uuid4().hex[:8]}")
    body["promotion"] = {"tiers": list(tiers)}
    return voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(body)
    )


def add_tier(sdk: voucherify.ApiClient, campaign_id: str, **body: Any) -> Any:
    return api(sdk).add_promotion_tier_to_campaign(
        campaign_id, voucherify.PromotionsTiersCreateRequestBody.from_dict(body)
    )


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def test_promotion_campaign_creates_its_inline_tiers_in_order(sdk: voucherify.ApiClient) -> None:
    campaign = promotion(
        sdk,
        {"name": "Ten off", "banner": "10 off", "action": {"discount": AMOUNT}},
        {"name": "Five pct", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}},
    )
    assert campaign.campaign_type == "PROMOTION"
    assert campaign.voucher is None
    assert campaign.promotion.total == 2
    assert campaign.promotion.data_ref == "tiers"
    first, second = campaign.promotion.tiers
    assert (first.name, first.hierarchy, second.name, second.hierarchy) == (
        "Ten off",
        1,
        "Five pct",
        2,
    )
    assert first.id.startswith("promo_")
    assert first.banner == "10 off"
    assert first.action.discount.amount_off == 1000
    assert first.campaign_id == campaign.id
    assert first.campaign.id == campaign.id
    assert first.campaign.active is True
    assert first.active is True
    assert first.object == "promotion_tier"
    assert first.summary.redemptions.total_redeemed == 0
    assert first.summary.orders.total_amount == 0


def test_added_tier_gets_the_next_hierarchy_and_rule_assignments(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    rule_id = make_rule(db, project)
    cat_id = make_category(db, project, "Promos")
    # The SDK's create-tier body has no validation_rules; the inline tier params do.
    campaign = promotion(
        sdk, {"name": "A", "action": {"discount": AMOUNT}, "validation_rules": [rule_id]}
    )
    tier = add_tier(
        sdk,
        campaign.id,
        name="B",
        action={"discount": AMOUNT},
        metadata={"k": "v"},
        category_id=cat_id,
        start_date="2030-01-01",
        validity_day_of_week=[5],
    )
    assert tier.hierarchy == 2
    assert tier.metadata == {"k": "v"}
    assert tier.category_id == cat_id
    assert tier.categories[0].name == "Promos"
    assert tier.start_date.isoformat() == "2030-01-01T00:00:00+00:00"
    assert tier.validity_day_of_week == [5]
    assert api(sdk).get_promotion_tier(tier.id).validation_rule_assignments.total == 0
    got = api(sdk).get_promotion_tier(campaign.promotion.tiers[0].id)
    assert got.validation_rule_assignments.total == 1
    assert got.validation_rule_assignments.data[0].rule_id == rule_id
    assert got.validation_rule_assignments.data[0].related_object_type == "promotion_tier"


def test_explicit_hierarchy_is_kept(sdk: voucherify.ApiClient) -> None:
    campaign = promotion(sdk)
    assert add_tier(sdk, campaign.id, name="X", hierarchy=7).hierarchy == 7
    assert add_tier(sdk, campaign.id, name="Y").hierarchy == 8


def test_tier_in_a_non_promotion_campaign_is_invalid_campaign(
    sdk: voucherify.ApiClient,
) -> None:
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {"name": "Coupons", "voucher": {"discount": AMOUNT}}
        )
    )
    with pytest.raises(ApiException) as caught:
        add_tier(sdk, campaign.id, name="T")
    assert error_of(caught)["key"] == "invalid_campaign"
    assert api(sdk).list_promotion_tiers().total == 0


def test_unknown_campaign_or_tier_is_404(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        add_tier(sdk, "camp_missing", name="T")
    body = error_of(caught)
    assert (body["code"], body["resource_type"], body["resource_id"]) == (
        404,
        "campaign",
        "camp_missing",
    )
    with pytest.raises(ApiException) as caught:
        api(sdk).list_promotion_tiers_from_campaign("camp_missing")
    assert error_of(caught)["resource_type"] == "campaign"
    for call in (
        lambda: api(sdk).get_promotion_tier("promo_missing"),
        lambda: api(sdk).enable_promotion_tier("promo_missing"),
        lambda: api(sdk).disable_promotion_tier("promo_missing"),
        lambda: api(sdk).delete_promotion_tier("promo_missing"),
        lambda: api(sdk).update_promotion_tier(
            "promo_missing", voucherify.PromotionsTiersUpdateRequestBody(name="x")
        ),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        body = error_of(caught)
        assert (body["code"], body["key"], body["resource_type"], body["resource_id"]) == (
            404,
            "not_found",
            "promotion_tier",
            "promo_missing",
        )


def test_bad_discount_enum_is_invalid_payload(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    campaign = promotion(sdk)
    response = http.post(
        f"/v1/promotions/{campaign.id}/tiers",
        json={"name": "T", "action": {"discount": {"type": "FREE"}}},
    )
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert ".action.discount.type" in response.json()["details"]
    assert api(sdk).list_promotion_tiers_from_campaign(campaign.id).total == 0


def test_update_changes_only_the_given_fields(sdk: voucherify.ApiClient) -> None:
    campaign = promotion(sdk, {"name": "Old", "banner": "keep", "action": {"discount": AMOUNT}})
    tier_id = campaign.promotion.tiers[0].id
    updated = api(sdk).update_promotion_tier(
        tier_id,
        voucherify.PromotionsTiersUpdateRequestBody.from_dict(
            {"name": "New", "expiration_date": "2031-01-01T00:00:00Z", "hierarchy": 4}
        ),
    )
    assert (updated.name, updated.banner, updated.hierarchy) == ("New", "keep", 4)
    assert updated.expiration_date.isoformat() == "2031-01-01T00:00:00+00:00"
    assert updated.action.discount.amount_off == 1000
    assert updated.updated_at is not None
    assert api(sdk).get_promotion_tier(tier_id).name == "New"


def test_disable_enable_and_delete(sdk: voucherify.ApiClient, http: httpx.Client) -> None:
    campaign = promotion(sdk, {"name": "T"})
    tier_id = campaign.promotion.tiers[0].id
    assert api(sdk).disable_promotion_tier(tier_id).active is False
    assert api(sdk).get_promotion_tier(tier_id).active is False
    assert api(sdk).enable_promotion_tier(tier_id).active is True
    assert api(sdk).delete_promotion_tier(tier_id) is None
    assert http.get(f"/v1/promotions/tiers/{tier_id}").status_code == 404
    assert api(sdk).list_promotion_tiers_from_campaign(campaign.id).total == 0


def test_campaign_list_of_tiers_is_in_hierarchy_order(sdk: voucherify.ApiClient) -> None:
    campaign = promotion(sdk, {"name": "A", "hierarchy": 3}, {"name": "B", "hierarchy": 1})
    listed = api(sdk).list_promotion_tiers_from_campaign(campaign.id)
    assert (listed.object, listed.data_ref, listed.total, listed.has_more) == (
        "list",
        "tiers",
        2,
        False,
    )
    assert [t.name for t in listed.tiers] == ["B", "A"]


def test_list_all_tiers_pages_with_has_more(sdk: voucherify.ApiClient) -> None:
    promotion(sdk, {"name": "A"}, {"name": "B"})
    promotion(sdk, {"name": "C"})
    first = api(sdk).list_promotion_tiers(limit=2)
    assert (first.total, first.has_more, len(first.tiers)) == (3, True, 2)
    second = api(sdk).list_promotion_tiers(limit=2, page=2)
    assert (second.has_more, [t.name for t in second.tiers]) == (False, ["C"])


def test_is_available_keeps_active_unexpired_tiers(
    sdk: voucherify.ApiClient, server: ThreadServer
) -> None:
    now = dt.datetime.now(dt.UTC)
    campaign = promotion(
        sdk,
        {"name": "live"},
        {"name": "off", "active": False},
        {"name": "expired", "expiration_date": (now - dt.timedelta(days=1)).isoformat()},
        {"name": "later", "start_date": (now + dt.timedelta(days=1)).isoformat()},
    )
    disabled = promotion(sdk, {"name": "campaign off"})
    voucherify.CampaignsApi(sdk).disable_campaign(disabled.id)
    available = api(sdk).list_promotion_tiers(is_available=True)
    assert [t.name for t in available.tiers] == ["live"]
    assert api(sdk).list_promotion_tiers().total == 5
    # Move the server clock past the start of "later".
    server.clock.offset = dt.timedelta(days=2)
    names = {t.name for t in api(sdk).list_promotion_tiers(is_available=True).tiers}
    assert names == {"live", "later"}
    assert campaign.promotion.total == 4


def test_deleting_the_campaign_deletes_its_tiers(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    campaign = promotion(sdk, {"name": "A"})
    tier_id = campaign.promotion.tiers[0].id
    voucherify.CampaignsApi(sdk).delete_campaign(campaign.id)
    assert http.get(f"/v1/promotions/tiers/{tier_id}").status_code == 404
    assert api(sdk).list_promotion_tiers().total == 0


def test_another_project_cannot_see_the_tier(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database
) -> None:
    campaign = promotion(sdk, {"name": "Mine"})
    tier_id = campaign.promotion.tiers[0].id
    with db.write() as conn:
        other = projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
    with voucherify.ApiClient(sdk_configuration(server.url, other)) as client:
        with pytest.raises(ApiException) as caught:
            voucherify.PromotionsApi(client).get_promotion_tier(tier_id)
        assert caught.value.status == 404
        assert voucherify.PromotionsApi(client).list_promotion_tiers().total == 0
        with pytest.raises(ApiException) as caught:
            add_tier(client, campaign.id, name="intruder")
        assert caught.value.status == 404
