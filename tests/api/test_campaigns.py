"""Campaigns through the official SDK: every campaign type, generation, updates, deletes, lists."""

from __future__ import annotations

import json
import re
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

PERCENT = {"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ORDER"}


def api(sdk: voucherify.ApiClient) -> voucherify.CampaignsApi:
    return voucherify.CampaignsApi(sdk)


def create(sdk: voucherify.ApiClient, **body: Any) -> Any:
    body.setdefault("name", f"camp-{uuid.uuid4().hex[:8]}")
    return api(sdk).create_campaign(voucherify.CampaignsCreateRequestBody.from_dict(body))


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def codes_of(sdk: voucherify.ApiClient, campaign_id: str) -> list[str]:
    listed = voucherify.VouchersApi(sdk).list_vouchers(campaign_id=campaign_id, limit=100)
    return [v.code for v in listed.vouchers]


def test_discount_campaign_generates_vouchers_from_the_template(
    sdk: voucherify.ApiClient,
) -> None:
    campaign = create(
        sdk,
        name="Spring",
        campaign_type="DISCOUNT_COUPONS",
        type="STATIC",
        vouchers_count=5,
        start_date="2030-01-01T00:00:00Z",
        expiration_date="2030-06-01T00:00:00Z",
        voucher={
            "type": "DISCOUNT_VOUCHER",
            "discount": PERCENT,
            "redemption": {"quantity": 2},
            "code_config": {"pattern": "SPR-####", "charset": "ABC123"},
        },
        metadata={"region": "EU"},
    )
    assert campaign.id.startswith("camp_")
    assert campaign.name == "Spring"
    assert (campaign.campaign_type, campaign.type) == ("DISCOUNT_COUPONS", "STATIC")
    assert campaign.vouchers_count == 5
    assert campaign.creation_status == "DONE"
    assert campaign.vouchers_generation_status == "DONE"
    assert campaign.active is True
    assert campaign.object == "campaign"
    assert campaign.metadata == {"region": "EU"}
    assert campaign.voucher.code_config.pattern == "SPR-####"
    assert campaign.voucher.discount.percent_off == 10
    codes = codes_of(sdk, campaign.id)
    assert len(codes) == len(set(codes)) == 5
    assert all(re.fullmatch(r"SPR-[ABC123]{4}", code) for code in codes)
    voucher = voucherify.VouchersApi(sdk).get_voucher(codes[0])
    assert voucher.campaign == "Spring"
    assert voucher.campaign_id == campaign.id
    assert voucher.discount.percent_off == 10
    assert voucher.redemption.quantity == 2
    assert voucher.start_date.isoformat() == "2030-01-01T00:00:00+00:00"
    assert voucher.expiration_date.isoformat() == "2030-06-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("voucher", "expected_type"),
    [
        ({"type": "DISCOUNT_VOUCHER", "discount": PERCENT}, "DISCOUNT_COUPONS"),
        ({"type": "GIFT_VOUCHER", "gift": {"amount": 5000}}, "GIFT_VOUCHERS"),
        ({"type": "LOYALTY_CARD", "loyalty_card": {"points": 100}}, "LOYALTY_PROGRAM"),
    ],
)
def test_campaign_type_is_inferred_from_the_voucher_type(
    sdk: voucherify.ApiClient, voucher: dict[str, Any], expected_type: str
) -> None:
    campaign = create(sdk, voucher=voucher, vouchers_count=1)
    assert campaign.campaign_type == expected_type
    assert campaign.voucher.code_config.length == 8
    assert api(sdk).get_campaign(campaign.id).campaign_type == expected_type


def test_gift_campaign_cards_carry_the_template_balance(sdk: voucherify.ApiClient) -> None:
    campaign = create(
        sdk,
        campaign_type="GIFT_VOUCHERS",
        vouchers_count=2,
        voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 2500, "effect": "APPLY_TO_ORDER"}},
    )
    assert campaign.voucher.gift.amount == 2500
    for code in codes_of(sdk, campaign.id):
        card = voucherify.VouchersApi(sdk).get_voucher(code)
        assert (card.type, card.gift.amount, card.gift.balance) == ("GIFT_VOUCHER", 2500, 2500)


def test_loyalty_campaign_cards_start_with_the_template_points(sdk: voucherify.ApiClient) -> None:
    campaign = create(
        sdk,
        campaign_type="LOYALTY_PROGRAM",
        vouchers_count=1,
        voucher={"type": "LOYALTY_CARD", "loyalty_card": {"points": 300}},
    )
    assert campaign.voucher.code_config is not None
    assert campaign.voucher.loyalty_card.points == 300
    (code,) = codes_of(sdk, campaign.id)
    card = voucherify.VouchersApi(sdk).get_voucher(code)
    assert (card.type, card.loyalty_card.points, card.loyalty_card.balance) == (
        "LOYALTY_CARD",
        300,
        300,
    )


def test_loyalty_card_can_be_created_into_a_loyalty_campaign(sdk: voucherify.ApiClient) -> None:
    campaign = create(
        sdk,
        campaign_type="LOYALTY_PROGRAM",
        voucher={"type": "LOYALTY_CARD", "loyalty_card": {"points": 5}},
    )
    card = voucherify.VouchersApi(sdk).create_voucher(
        "CARD-9",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(
            {"type": "LOYALTY_CARD", "campaign": campaign.name}
        ),
    )
    assert (card.campaign_id, card.type, card.loyalty_card.points) == (
        campaign.id,
        "LOYALTY_CARD",
        5,
    )


def test_referral_campaign_codes_are_referral_codes(sdk: voucherify.ApiClient) -> None:
    campaign = create(
        sdk,
        campaign_type="REFERRAL_PROGRAM",
        vouchers_count=1,
        referral_program={"conversion_event_type": "redemption"},
        voucher={"type": "DISCOUNT_VOUCHER", "discount": PERCENT},
    )
    assert campaign.campaign_type == "REFERRAL_PROGRAM"
    (code,) = codes_of(sdk, campaign.id)
    assert voucherify.VouchersApi(sdk).get_voucher(code).is_referral_code is True


def test_voucher_type_contradicting_campaign_type_is_invalid_campaign(
    sdk: voucherify.ApiClient,
) -> None:
    with pytest.raises(ApiException) as caught:
        create(
            sdk, name="Mixed", campaign_type="GIFT_VOUCHERS", voucher={"type": "DISCOUNT_VOUCHER"}
        )
    assert error_of(caught)["key"] == "invalid_campaign"
    assert api(sdk).list_campaigns().total == 0


def test_duplicate_name_is_409_and_nothing_is_created(sdk: voucherify.ApiClient) -> None:
    create(sdk, name="Twice", vouchers_count=1, voucher={"discount": PERCENT})
    with pytest.raises(ApiException) as caught:
        create(sdk, name="Twice", vouchers_count=3, voucher={"discount": PERCENT})
    body = error_of(caught)
    assert (body["code"], body["key"]) == (409, "duplicate_found")
    assert (body["resource_type"], body["resource_id"]) == ("campaign", "Twice")
    assert api(sdk).list_campaigns().total == 1
    assert voucherify.VouchersApi(sdk).list_vouchers().total == 1


def test_missing_name_and_bad_enums_are_invalid_payload(http: httpx.Client) -> None:
    for body, fragment in [
        ({}, "'name'"),
        ({"name": "x", "campaign_type": "COUPONS"}, ".campaign_type"),
        ({"name": "x", "type": "DYNAMIC"}, ".type"),
        ({"name": "x", "voucher": {"discount": {"effect": "NOPE"}}}, ".voucher.discount.effect"),
        ({"name": "x", "vouchers_count": "lots"}, ".vouchers_count"),
    ]:
        response = http.post("/v1/campaigns", json=body)
        assert response.status_code == 400, body
        assert response.json()["key"] == "invalid_payload"
        assert fragment in response.json()["details"]
    assert http.get("/v1/campaigns").json()["total"] == 0


def test_get_by_name_and_unknown_campaign_is_404(sdk: voucherify.ApiClient) -> None:
    campaign = create(sdk, name="Findable", voucher={"discount": PERCENT})
    assert api(sdk).get_campaign("Findable").id == campaign.id
    for call in (
        lambda: api(sdk).get_campaign("Nope"),
        lambda: api(sdk).enable_campaign("Nope"),
        lambda: api(sdk).disable_campaign("Nope"),
        lambda: api(sdk).delete_campaign("Nope"),
        lambda: api(sdk).add_vouchers_to_campaign("Nope"),
        lambda: api(sdk).update_campaign("Nope", voucherify.CampaignsUpdateRequestBody()),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        body = error_of(caught)
        assert (body["code"], body["key"], body["resource_type"], body["resource_id"]) == (
            404,
            "not_found",
            "campaign",
            "Nope",
        )


def test_validation_rules_and_category_are_attached(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    rule_id = make_rule(db, project)
    cat_id = make_category(db, project, "Seasonal")
    campaign = create(
        sdk,
        voucher={"discount": PERCENT},
        validation_rules=[rule_id],
        category_id=cat_id,
        vouchers_count=1,
    )
    assert campaign.validation_rules_assignments.total == 1
    assignment = campaign.validation_rules_assignments.data[0]
    assert (assignment.rule_id, assignment.related_object_type, assignment.related_object_id) == (
        rule_id,
        "campaign",
        campaign.id,
    )
    assert (campaign.category_id, campaign.category) == (cat_id, "Seasonal")
    assert campaign.categories[0].id == cat_id
    (code,) = codes_of(sdk, campaign.id)
    assert voucherify.VouchersApi(sdk).get_voucher(code).category_id == cat_id


def test_update_propagates_to_unpublished_unredeemed_vouchers(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    from voucherd.store.schema import vouchers as voucher_table

    campaign = create(sdk, vouchers_count=3, voucher={"discount": PERCENT})
    codes = codes_of(sdk, campaign.id)
    # One voucher already redeemed, one published: neither may change.
    with db.write() as conn:
        conn.execute(
            voucher_table.update()
            .where(voucher_table.c.code == codes[0], voucher_table.c.project_id == project.id)
            .values(redeemed_quantity=1)
        )
        conn.execute(
            voucher_table.update()
            .where(voucher_table.c.code == codes[1], voucher_table.c.project_id == project.id)
            .values(holder_id="cust_x")
        )
    updated = api(sdk).update_campaign(
        campaign.id,
        voucherify.CampaignsUpdateRequestBody.from_dict(
            {
                "expiration_date": "2031-01-01T00:00:00Z",
                "discount": {"type": "AMOUNT", "amount_off": 700},
                "metadata": {"v": 2},
                "validity_day_of_week": [0, 6],
            }
        ),
    )
    assert updated.expiration_date.isoformat() == "2031-01-01T00:00:00+00:00"
    assert updated.voucher.discount.amount_off == 700
    assert updated.metadata == {"v": 2}
    assert updated.updated_at is not None
    vouchers_api = voucherify.VouchersApi(sdk)
    for code in codes[:2]:
        kept = vouchers_api.get_voucher(code)
        assert kept.expiration_date is None
        assert kept.discount.percent_off == 10
    fresh = vouchers_api.get_voucher(codes[2])
    assert fresh.expiration_date.isoformat() == "2031-01-01T00:00:00+00:00"
    assert fresh.discount.amount_off == 700
    assert fresh.validity_day_of_week == [0, 6]


def test_disable_and_enable_flip_active(sdk: voucherify.ApiClient) -> None:
    campaign = create(sdk, voucher={"discount": PERCENT})
    # The SDK types these responses as plain objects; voucherd answers with the campaign.
    assert api(sdk).disable_campaign(campaign.id)["active"] is False
    assert api(sdk).get_campaign(campaign.id).active is False
    assert api(sdk).enable_campaign(campaign.name)["active"] is True
    assert api(sdk).get_campaign(campaign.id).active is True


def test_delete_is_202_and_takes_the_vouchers_along(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    campaign = create(sdk, name="Doomed", vouchers_count=2, voucher={"discount": PERCENT})
    codes = codes_of(sdk, campaign.id)
    response = http.delete(f"/v1/campaigns/{campaign.id}")
    assert response.status_code == 202
    assert response.json()["async_action_id"].startswith("aa_")
    assert http.get(f"/v1/campaigns/{campaign.id}").status_code == 404
    assert http.get("/v1/campaigns/Doomed").status_code == 404
    for code in codes:
        assert http.get(f"/v1/vouchers/{code}").status_code == 404
    assert voucherify.VouchersApi(sdk).list_vouchers().total == 0
    assert api(sdk).list_campaigns().total == 0
    # The name is free again.
    assert create(sdk, name="Doomed", voucher={"discount": PERCENT}).id != campaign.id


def test_sdk_delete_returns_the_async_action(sdk: voucherify.ApiClient) -> None:
    campaign = create(sdk, voucher={"discount": PERCENT})
    assert api(sdk).delete_campaign(campaign.id, force=True).async_action_id.startswith("aa_")


def test_adding_one_voucher_returns_it(sdk: voucherify.ApiClient) -> None:
    campaign = create(sdk, voucher={"discount": PERCENT, "code_config": {"prefix": "ONE-"}})
    voucher = api(sdk).add_vouchers_to_campaign(campaign.id)
    assert voucher.code.startswith("ONE-")
    assert voucher.campaign_id == campaign.id
    assert voucher.discount.percent_off == 10
    assert api(sdk).get_campaign(campaign.id).vouchers_count == 1


def test_adding_many_vouchers_is_202_with_async_action(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    campaign = create(sdk, voucher={"discount": PERCENT})
    response = http.post(
        f"/v1/campaigns/{campaign.id}/vouchers",
        params={"vouchers_count": 4},
        json={"metadata": {"batch": 1}},
    )
    assert response.status_code == 202
    assert response.json()["async_action_id"].startswith("aa_")
    codes = codes_of(sdk, campaign.id)
    assert len(set(codes)) == 4
    assert voucherify.VouchersApi(sdk).get_voucher(codes[0]).metadata == {"batch": 1}
    via_sdk = api(sdk).add_vouchers_to_campaign(campaign.id, vouchers_count=2)
    assert via_sdk.async_action_id.startswith("aa_")
    assert api(sdk).get_campaign(campaign.id).vouchers_count == 6


def test_adding_a_specific_code_and_its_duplicate(sdk: voucherify.ApiClient) -> None:
    campaign = create(sdk, voucher={"discount": PERCENT})
    voucher = api(sdk).add_voucher_with_specific_code_to_campaign(
        campaign.id,
        "MY-CODE",
        voucherify.CampaignsVouchersCreateRequestBody.from_dict({"additional_info": "vip"}),
    )
    assert (voucher.code, voucher.campaign_id, voucher.additional_info) == (
        "MY-CODE",
        campaign.id,
        "vip",
    )
    with pytest.raises(ApiException) as caught:
        api(sdk).add_voucher_with_specific_code_to_campaign(campaign.id, "MY-CODE")
    body = error_of(caught)
    assert (body["code"], body["key"], body["resource_type"], body["resource_id"]) == (
        409,
        "duplicate_found",
        "voucher",
        "MY-CODE",
    )
    assert api(sdk).get_campaign(campaign.id).vouchers_count == 1


def test_list_is_newest_first_and_filters_by_type(sdk: voucherify.ApiClient) -> None:
    first = create(sdk, name="L1", voucher={"discount": PERCENT})
    second = create(sdk, name="L2", voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 1}})
    listed = api(sdk).list_campaigns()
    assert (listed.object, listed.data_ref, listed.total) == ("list", "campaigns", 2)
    assert [c.id for c in listed.campaigns] == [second.id, first.id]
    gifts = api(sdk).list_campaigns(campaign_type="GIFT_VOUCHERS")
    assert [c.name for c in gifts.campaigns] == ["L2"]
    assert [c.name for c in api(sdk).list_campaigns(order="created_at").campaigns] == ["L1", "L2"]


def test_list_filters_by_name_and_metadata(sdk: voucherify.ApiClient, http: httpx.Client) -> None:
    create(sdk, name="Alpha", metadata={"team": "a"}, voucher={"discount": PERCENT})
    create(sdk, name="Beta", metadata={"team": "b"}, voucher={"discount": PERCENT})
    by_name = http.get("/v1/campaigns", params={"filters[campaigns][conditions][$in]": "['Beta']"})
    assert [c["name"] for c in by_name.json()["campaigns"]] == ["Beta"]
    by_meta = http.get("/v1/campaigns", params={"filters[metadata.team][conditions][$is]": "a"})
    assert [c["name"] for c in by_meta.json()["campaigns"]] == ["Alpha"]


def test_vouchers_list_filters_by_campaign_name(sdk: voucherify.ApiClient) -> None:
    create(sdk, name="Named", vouchers_count=2, voucher={"discount": PERCENT})
    create(sdk, name="Other", vouchers_count=1, voucher={"discount": PERCENT})
    assert voucherify.VouchersApi(sdk).list_vouchers(campaign="Named").total == 2


def test_another_project_cannot_see_the_campaign(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database
) -> None:
    campaign = create(sdk, name="Private", voucher={"discount": PERCENT})
    with db.write() as conn:
        other = projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
    with voucherify.ApiClient(sdk_configuration(server.url, other)) as client:
        with pytest.raises(ApiException) as caught:
            voucherify.CampaignsApi(client).get_campaign(campaign.id)
        assert caught.value.status == 404
        assert voucherify.CampaignsApi(client).list_campaigns().total == 0
        # Names are per project.
        assert create(client, name="Private", voucher={"discount": PERCENT}).name == "Private"


def test_too_many_codes_for_the_pattern_is_invalid_code_config(http: httpx.Client) -> None:
    response = http.post(
        "/v1/campaigns",
        json={
            "name": "Tiny",
            "vouchers_count": 5,
            "voucher": {"code_config": {"pattern": "T-#", "charset": "AB"}},
        },
    )
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_code_config"
    assert http.get("/v1/campaigns").json()["total"] == 0


def test_voucher_lists_its_own_and_its_campaigns_rule_assignments(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    campaign_rule = make_rule(db, project)
    voucher_rule = make_rule(db, project)
    campaign = create(sdk, voucher={"discount": PERCENT}, validation_rules=[campaign_rule])
    voucher = api(sdk).add_voucher_with_specific_code_to_campaign(campaign.id, "INHERIT-1")
    assert voucher.validation_rules_assignments.total == 1
    standalone = voucherify.VouchersApi(sdk).create_voucher(
        "OWN-1",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(
            {"campaign_id": campaign.id, "validation_rules": [voucher_rule]}
        ),
    )
    assignments = standalone.validation_rules_assignments
    assert assignments.total == 2
    assert {(a.rule_id, a.related_object_type) for a in assignments.data} == {
        (campaign_rule, "campaign"),
        (voucher_rule, "voucher"),
    }


def test_voucher_into_a_campaign_must_match_its_type(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    campaign = create(sdk, voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 100}})
    response = http.post(
        "/v1/vouchers/WRONG-1", json={"campaign_id": campaign.id, "type": "DISCOUNT_VOUCHER"}
    )
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_voucher"
    promo = create(sdk, campaign_type="PROMOTION", promotion={"tiers": [{"name": "t"}]})
    response = http.post("/v1/vouchers/WRONG-2", json={"campaign": promo.name})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_voucher"
    assert voucherify.VouchersApi(sdk).list_vouchers().total == 0


def test_list_filters_by_voucher_type_through_the_sdk(sdk: voucherify.ApiClient) -> None:
    create(sdk, name="Disc", voucher={"discount": PERCENT})
    create(sdk, name="Gift", voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 100}})
    filters = voucherify.ParameterFiltersListCampaigns.from_dict(
        {"voucher_type": {"conditions": {"$in": ["GIFT_VOUCHER"]}}, "junction": "and"}
    )
    listed = api(sdk).list_campaigns(filters=filters)
    assert [c.name for c in listed.campaigns] == ["Gift"]


def test_gift_amount_update_reaches_only_untouched_cards(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    from voucherd.store.schema import vouchers as voucher_table

    campaign = create(
        sdk, vouchers_count=2, voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 2500}}
    )
    touched, fresh = codes_of(sdk, campaign.id)
    with db.write() as conn:
        conn.execute(
            voucher_table.update()
            .where(voucher_table.c.project_id == project.id, voucher_table.c.code == touched)
            .values(gift_subtracted_amount=100)
        )
    updated = api(sdk).update_campaign(
        campaign.id, voucherify.CampaignsUpdateRequestBody.from_dict({"gift": {"amount": 4000}})
    )
    assert updated.voucher.gift.amount == 4000
    cards = voucherify.VouchersApi(sdk)
    assert (cards.get_voucher(fresh).gift.amount, cards.get_voucher(fresh).gift.balance) == (
        4000,
        4000,
    )
    assert (cards.get_voucher(touched).gift.amount, cards.get_voucher(touched).gift.balance) == (
        2500,
        2400,
    )


def test_discount_update_on_a_gift_campaign_is_invalid_campaign(sdk: voucherify.ApiClient) -> None:
    campaign = create(sdk, voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 1}})
    with pytest.raises(ApiException) as caught:
        api(sdk).update_campaign(
            campaign.id,
            voucherify.CampaignsUpdateRequestBody.from_dict(
                {"discount": PERCENT, "metadata": {"x": 1}}
            ),
        )
    assert error_of(caught)["key"] == "invalid_campaign"
    assert api(sdk).get_campaign(campaign.id).metadata == {}


def test_bulk_generation_skips_codes_already_taken(http: httpx.Client) -> None:
    # 600 + 300 of 1000 possible codes: the second campaign's batches must collide,
    # which takes the bulk insert's duplicate-skipping fallback on both databases.
    config = {"pattern": "###", "charset": "0123456789"}
    for name, count in (("first", 600), ("second", 300)):
        response = http.post(
            "/v1/campaigns",
            json={"name": name, "vouchers_count": count, "voucher": {"code_config": config}},
        )
        assert response.status_code == 200
        assert response.json()["vouchers_count"] == count
    codes: list[str] = []
    for page in range(1, 10):
        listed = http.get("/v1/vouchers", params={"limit": 100, "page": page}).json()
        codes.extend(v["code"] for v in listed["vouchers"])
    assert listed["total"] == 900
    assert len(codes) == len(set(codes)) == 900


def test_list_by_status_and_referral_flag(sdk: voucherify.ApiClient) -> None:
    create(sdk, name="Plain", voucher={"discount": PERCENT})
    create(sdk, name="Refer", campaign_type="REFERRAL_PROGRAM", voucher={"discount": PERCENT})
    assert api(sdk).list_campaigns(campaign_status="DONE").total == 2
    assert api(sdk).list_campaigns(campaign_status="IN_PROGRESS").total == 0
    assert [c.name for c in api(sdk).list_campaigns(is_referral_code=True).campaigns] == ["Refer"]
    assert [c.name for c in api(sdk).list_campaigns(is_referral_code=False).campaigns] == ["Plain"]
