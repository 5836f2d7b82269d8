"""Rewards and reward assignments through the official SDK (BEHAVIOR.md §9)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.store import projects, rewards
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

T0 = dt.datetime(2022, 8, 25, 11, 20, 58, 172000, tzinfo=dt.UTC)

COIN = {
    "name": "Pay with Points",
    "parameters": {"coin": {"exchange_ratio": 900, "points_ratio": "8000"}},
}
MATERIAL = {
    "name": "Get a Comic Book",
    "metadata": {"Type": "Material"},
    "parameters": {
        "product": {"id": "prod_0b15f6b9f650c16990", "sku_id": "sku_0b1621b319d248b79f"}
    },
    "stock": 2,
    "attributes": {"image_url": "https://www.website.com/img.png", "description": "Archie's"},
}
DIGITAL = {"name": "Gift credits", "parameters": {"campaign": {"id": "camp_gift", "balance": 3000}}}


@pytest.fixture
def api(sdk: voucherify.ApiClient) -> voucherify.RewardsApi:
    return voucherify.RewardsApi(sdk)


@pytest.fixture
def other_api(server: ThreadServer, db: Database) -> Iterator[voucherify.RewardsApi]:
    """The rewards API of a second, unrelated project."""
    with db.write() as conn:
        keys = projects.create_project(conn, f"other-{uuid.uuid4().hex[:10]}")
    with voucherify.ApiClient(sdk_configuration(server.url, keys)) as client:
        yield voucherify.RewardsApi(client)


def new_campaign(sdk: voucherify.ApiClient, **body: Any) -> Any:
    body.setdefault("name", f"camp-{uuid.uuid4().hex[:8]}")
    return voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(body)
    )


@pytest.fixture
def campaign(sdk: voucherify.ApiClient) -> str:
    """A loyalty campaign's id."""
    created = new_campaign(
        sdk,
        campaign_type="LOYALTY_PROGRAM",
        voucher={"type": "LOYALTY_CARD", "loyalty_card": {"points": 100}},
    )
    return str(created.id)


@pytest.fixture
def material(sdk: voucherify.ApiClient) -> dict[str, Any]:
    """A MATERIAL reward body naming a real product and SKU."""
    products_api = voucherify.ProductsApi(sdk)
    product = products_api.create_product(
        voucherify.ProductsCreateRequestBody.from_dict({"name": "Comic", "price": 900})
    )
    sku = products_api.create_sku(
        product.id, voucherify.ProductsSkusCreateRequestBody.from_dict({"sku": "Vol. 1"})
    )
    return {**MATERIAL, "parameters": {"product": {"id": product.id, "sku_id": sku.id}}}


@pytest.fixture
def digital(sdk: voucherify.ApiClient) -> dict[str, Any]:
    """A CAMPAIGN reward body naming a real gift-card campaign."""
    gift = new_campaign(
        sdk,
        campaign_type="GIFT_VOUCHERS",
        voucher={"type": "GIFT_VOUCHER", "gift": {"amount": 1000}},
    )
    return {**DIGITAL, "parameters": {"campaign": {"id": gift.id, "balance": 3000}}}


def create(api: voucherify.RewardsApi, body: dict[str, Any] = COIN) -> str:
    created = api.create_reward(voucherify.RewardsCreateRequestBody.from_dict(body))
    assert created.id is not None
    return str(created.id)


def assign_body(campaign: str, points: int | None = 100, **extra: Any) -> Any:
    loyalty = {} if points is None else {"points": points}
    return voucherify.RewardsAssignmentsCreateRequestBody.from_dict(
        {"campaign": campaign, "parameters": {"loyalty": loyalty}, **extra}
    )


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


# --- rewards ---------------------------------------------------------------------


def test_coin_reward_type_is_inferred_and_ratios_are_numbers(
    api: voucherify.RewardsApi, server: ThreadServer, http: httpx.Client
) -> None:
    server.clock.fixed = T0
    reward_id = create(api, COIN)
    assert reward_id.startswith("rew_")
    assert http.get(f"/v1/rewards/{reward_id}").json() == {
        "id": reward_id,
        "name": "Pay with Points",
        "stock": None,
        "redeemed": None,
        "attributes": {},
        "metadata": {},
        "type": "COIN",
        "parameters": {"coin": {"exchange_ratio": 900, "points_ratio": 8000}},
        "created_at": "2022-08-25T11:20:58.172Z",
        "updated_at": None,
        "object": "reward",
    }
    reward = api.get_reward(reward_id)
    assert reward.object == "reward"
    assert reward.created_at == T0
    assert reward.parameters is not None
    assert reward.parameters.coin is not None
    assert (reward.parameters.coin.exchange_ratio, reward.parameters.coin.points_ratio) == (
        900,
        8000,
    )


def test_material_reward_keeps_product_stock_and_attributes(
    material: dict[str, Any], api: voucherify.RewardsApi
) -> None:
    reward = api.get_reward(create(api, material))
    assert (reward.type, reward.stock, reward.name) == ("MATERIAL", 2, "Get a Comic Book")
    assert reward.parameters is not None
    assert reward.parameters.product is not None
    assert reward.parameters.product.to_dict() == material["parameters"]["product"]
    assert reward.attributes is not None
    assert reward.attributes.description == "Archie's"
    assert reward.metadata == {"Type": "Material"}


def test_campaign_reward_keeps_the_campaign_and_balance(
    digital: dict[str, Any], api: voucherify.RewardsApi
) -> None:
    reward = api.get_reward(create(api, digital))
    assert reward.type == "CAMPAIGN"
    assert reward.parameters is not None
    assert reward.parameters.campaign is not None
    assert reward.parameters.campaign.to_dict() == {
        "id": digital["parameters"]["campaign"]["id"],
        "balance": 3000,
        "type": "GIFT_VOUCHERS",
    }


def test_campaign_and_product_of_a_reward_must_exist(
    api: voucherify.RewardsApi, http: httpx.Client, material: dict[str, Any]
) -> None:
    product_id = material["parameters"]["product"]["id"]
    cases = [
        (DIGITAL, "campaign", "camp_gift"),
        (MATERIAL, "product", "prod_0b15f6b9f650c16990"),
        (
            {**MATERIAL, "parameters": {"product": {"id": product_id, "sku_id": "sku_nope"}}},
            "sku",
            "sku_nope",
        ),
    ]
    for body, resource_type, resource_id in cases:
        response = http.post("/v1/rewards", json=body)
        assert response.status_code == 404
        error = response.json()
        assert (error["resource_type"], error["resource_id"]) == (resource_type, resource_id)
    assert api.list_rewards().total == 0


def test_campaign_reward_cannot_hand_out_a_promotion(
    api: voucherify.RewardsApi, http: httpx.Client, sdk: voucherify.ApiClient
) -> None:
    promotion = new_campaign(
        sdk,
        promotion={
            "tiers": [{"name": "T", "action": {"discount": {"type": "PERCENT", "percent_off": 5}}}]
        },
    )
    response = http.post(
        "/v1/rewards", json={"name": "P", "parameters": {"campaign": {"id": promotion.id}}}
    )
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert api.list_rewards().total == 0


def test_explicit_type_is_accepted_when_it_matches(http: httpx.Client) -> None:
    response = http.post("/v1/rewards", json={**COIN, "type": "COIN"})
    assert response.status_code == 200
    assert response.json()["type"] == "COIN"


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"name": "Nothing"}, "Property .parameters should have one of"),
        (
            {"name": "Two", "parameters": {**COIN["parameters"], **DIGITAL["parameters"]}},
            "Property .parameters should have only one of",
        ),
        (
            {**COIN, "type": "MATERIAL"},
            "Property .parameters should have required property 'product' for a MATERIAL reward",
        ),
        ({**COIN, "type": "SHOES"}, "Property .type must be one of"),
        (
            {"parameters": {"coin": {"exchange_ratio": 0, "points_ratio": 10}}},
            "Property .parameters.coin.exchange_ratio",
        ),
        (
            {"parameters": {"coin": {"exchange_ratio": 1, "points_ratio": "many"}}},
            "Property .parameters.coin.points_ratio",
        ),
        (
            {"parameters": {"coin": {"exchange_ratio": 1}}},
            "Property .parameters.coin should have required property 'points_ratio'",
        ),
        ({**MATERIAL, "stock": -1}, "Property .stock must be >= 0"),
    ],
)
def test_invalid_rewards_are_invalid_payload(
    api: voucherify.RewardsApi, http: httpx.Client, body: dict[str, Any], details: str
) -> None:
    response = http.post("/v1/rewards", json=body)
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["key"]) == (400, "invalid_payload")
    assert error["details"].startswith(details)
    assert api.list_rewards().total == 0


def test_list_pages_newest_first(api: voucherify.RewardsApi, server: ThreadServer) -> None:
    ids_ = []
    for index in range(3):
        server.clock.fixed = T0 + dt.timedelta(seconds=index)
        ids_.append(create(api, {**COIN, "name": f"R{index}"}))
    listed = api.list_rewards()
    assert (listed.object, listed.data_ref, listed.total) == ("list", "data", 3)
    assert [r.id for r in listed.data or []] == list(reversed(ids_))
    second = api.list_rewards(limit=2, page=2)
    assert ([r.id for r in second.data or []], second.total) == ([ids_[0]], 3)


def test_unknown_reward_is_404(api: voucherify.RewardsApi) -> None:
    with pytest.raises(ApiException) as caught:
        api.get_reward("rew_missing")
    error = error_of(caught)
    assert (caught.value.status, error["resource_type"], error["resource_id"]) == (
        404,
        "reward",
        "rew_missing",
    )


def test_another_project_cannot_see_the_reward(
    api: voucherify.RewardsApi, other_api: voucherify.RewardsApi
) -> None:
    reward_id = create(api)
    assert other_api.list_rewards().total == 0
    with pytest.raises(ApiException) as caught:
        other_api.get_reward(reward_id)
    assert caught.value.status == 404


# --- assignments -----------------------------------------------------------------


def test_assignment_prices_the_reward_in_a_campaign(
    material: dict[str, Any], api: voucherify.RewardsApi, campaign: str, server: ThreadServer
) -> None:
    reward_id = create(api, material)
    server.clock.fixed = T0
    created = api.create_reward_assignment(reward_id, assign_body(campaign, 250))
    assert created.id is not None
    assert created.id.startswith("rewa_")
    assert created.to_dict() == {
        "id": created.id,
        "reward_id": reward_id,
        "related_object_id": campaign,
        "related_object_type": "campaign",
        "parameters": {"loyalty": {"points": 250, "auto_redeem": None}},
        "created_at": T0,
        "updated_at": None,
        "object": "reward_assignment",
    }
    fetched = api.get_reward_assignment(reward_id, created.id)
    assert fetched.parameters is not None
    assert fetched.parameters.loyalty is not None
    assert fetched.parameters.loyalty.points == 250
    listed = api.list_reward_assignments(reward_id)
    assert (listed.data_ref, listed.total) == ("data", 1)
    assert [a.id for a in listed.data or []] == [created.id]
    by_assignment = api.list_rewards(assignment_id=created.id)
    assert [r.id for r in by_assignment.data or []] == [reward_id]


def test_coin_reward_needs_no_points_but_others_do(
    material: dict[str, Any], api: voucherify.RewardsApi, campaign: str, http: httpx.Client
) -> None:
    coin = create(api, COIN)
    created = api.create_reward_assignment(coin, assign_body(campaign, None))
    assert created.parameters is not None
    assert created.parameters.loyalty is not None
    assert created.parameters.loyalty.points is None
    priced = create(api, material)
    response = http.post(f"/v1/rewards/{priced}/assignments", json={"campaign": campaign})
    assert response.status_code == 400
    assert response.json()["details"] == (
        "Property .parameters.loyalty should have required property 'points'"
    )
    assert api.list_reward_assignments(priced).total == 0


def test_points_below_one_are_invalid_payload(
    material: dict[str, Any], api: voucherify.RewardsApi, campaign: str, http: httpx.Client
) -> None:
    reward_id = create(api, material)
    response = http.post(
        f"/v1/rewards/{reward_id}/assignments",
        json={"campaign": campaign, "parameters": {"loyalty": {"points": 0}}},
    )
    assert response.status_code == 400
    assert response.json()["details"] == "Property .parameters.loyalty.points must be >= 1"
    assert api.list_reward_assignments(reward_id).total == 0


def test_unknown_campaign_or_reward_is_404(api: voucherify.RewardsApi, campaign: str) -> None:
    reward_id = create(api)
    with pytest.raises(ApiException) as caught:
        api.create_reward_assignment(reward_id, assign_body("camp_missing"))
    error = error_of(caught)
    assert (caught.value.status, error["resource_type"], error["resource_id"]) == (
        404,
        "campaign",
        "camp_missing",
    )
    with pytest.raises(ApiException) as caught:
        api.create_reward_assignment("rew_missing", assign_body(campaign))
    assert error_of(caught)["resource_type"] == "reward"
    with pytest.raises(ApiException) as caught:
        api.list_reward_assignments("rew_missing")
    assert caught.value.status == 404
    assert api.list_reward_assignments(reward_id).total == 0


def test_assignment_needs_a_loyalty_campaign(
    api: voucherify.RewardsApi, digital: dict[str, Any]
) -> None:
    reward_id = create(api)
    gift_campaign = digital["parameters"]["campaign"]["id"]
    with pytest.raises(ApiException) as caught:
        api.create_reward_assignment(reward_id, assign_body(gift_campaign))
    error = error_of(caught)
    assert (caught.value.status, error["key"], error["details"]) == (
        400,
        "invalid_payload",
        "Property .campaign must name a LOYALTY_PROGRAM campaign",
    )
    assert api.list_reward_assignments(reward_id).total == 0


def test_second_assignment_to_the_same_campaign_is_409(
    api: voucherify.RewardsApi, campaign: str
) -> None:
    reward_id = create(api)
    first = api.create_reward_assignment(reward_id, assign_body(campaign, 10))
    with pytest.raises(ApiException) as caught:
        api.create_reward_assignment(reward_id, assign_body(campaign, 20))
    error = error_of(caught)
    assert (caught.value.status, error["key"], error["resource_type"], error["resource_id"]) == (
        409,
        "duplicate_found",
        "reward_assignment",
        first.id,
    )
    assert api.list_reward_assignments(reward_id).total == 1


def test_assignment_of_another_reward_is_404(
    material: dict[str, Any], api: voucherify.RewardsApi, campaign: str
) -> None:
    first, second = create(api), create(api, material)
    created = api.create_reward_assignment(first, assign_body(campaign))
    assert created.id is not None
    with pytest.raises(ApiException) as caught:
        api.get_reward_assignment(second, created.id)
    error = error_of(caught)
    assert (caught.value.status, error["resource_type"], error["resource_id"]) == (
        404,
        "reward_assignment",
        created.id,
    )


def test_validation_rules_given_on_assignment_are_assigned_to_it(
    api: voucherify.RewardsApi, sdk: voucherify.ApiClient, campaign: str
) -> None:
    rules_api = voucherify.ValidationRulesApi(sdk)
    rule = rules_api.create_validation_rules(
        voucherify.ValidationRulesCreateRequestBody.from_dict(
            {"name": "Max 100 points", "context_type": "reward_assignment.pay_with_points"}
        )
    )
    created = api.create_reward_assignment(
        create(api), assign_body(campaign, None, validation_rules=[rule.id])
    )
    listed = rules_api.list_validation_rules_assignments(related_object_id=created.id)
    assert [(a.rule_id, a.related_object_type) for a in listed.data or []] == [
        (rule.id, "reward_assignment")
    ]


def test_assignment_with_unknown_validation_rule_creates_nothing(
    api: voucherify.RewardsApi, campaign: str
) -> None:
    reward_id = create(api)
    with pytest.raises(ApiException) as caught:
        api.create_reward_assignment(
            reward_id, assign_body(campaign, validation_rules=["val_missing"])
        )
    assert error_of(caught)["resource_type"] == "validation_rules"
    assert api.list_reward_assignments(reward_id).total == 0


def test_pipeline_finds_the_assignment_of_a_reward_in_a_campaign(
    material: dict[str, Any],
    api: voucherify.RewardsApi,
    campaign: str,
    db: Database,
    project: ProjectKeys,
) -> None:
    reward_id = create(api, material)
    created = api.create_reward_assignment(reward_id, assign_body(campaign, 40))
    with db.read() as conn:
        found = rewards.find_reward_assignment_for_campaign(conn, project.id, reward_id, campaign)
        missing = rewards.find_reward_assignment_for_campaign(
            conn, project.id, reward_id, "camp_other"
        )
    assert found is not None
    assert (found["id"], found["parameters"]) == (created.id, {"loyalty": {"points": 40}})
    assert missing is None


# --- updates and deletes ---------------------------------------------------------


def test_update_replaces_given_fields_and_keeps_the_type(
    material: dict[str, Any], api: voucherify.RewardsApi, server: ThreadServer
) -> None:
    server.clock.fixed = T0
    reward_id = create(api, material)
    product_id = material["parameters"]["product"]["id"]
    server.clock.fixed = T0 + dt.timedelta(days=1)
    updated = api.update_reward(
        reward_id,
        voucherify.RewardsUpdateRequestBody.from_dict(
            {"name": "Two Comic Books", "stock": 5, "parameters": {"product": {"id": product_id}}}
        ),
    )
    assert (updated.name, updated.stock, updated.type) == ("Two Comic Books", 5, "MATERIAL")
    assert updated.parameters is not None
    assert updated.parameters.product is not None
    assert (updated.parameters.product.id, updated.parameters.product.sku_id) == (product_id, None)
    assert updated.metadata == {"Type": "Material"}
    assert (updated.created_at, updated.updated_at) == (T0, T0 + dt.timedelta(days=1))


def test_update_cannot_switch_the_reward_type(
    api: voucherify.RewardsApi, http: httpx.Client
) -> None:
    reward_id = create(api, COIN)
    response = http.put(f"/v1/rewards/{reward_id}", json={"parameters": DIGITAL["parameters"]})
    assert response.status_code == 400
    assert response.json()["details"] == (
        "Property .parameters should only have 'coin' for a COIN reward"
    )
    assert api.get_reward(reward_id).parameters.coin.points_ratio == 8000  # type: ignore[union-attr]


def test_update_and_delete_of_unknown_reward_are_404(api: voucherify.RewardsApi) -> None:
    for call in (
        lambda: api.update_reward("rew_missing", voucherify.RewardsUpdateRequestBody(name="X")),
        lambda: api.delete_reward("rew_missing"),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        assert (caught.value.status, error_of(caught)["resource_id"]) == (404, "rew_missing")


def test_delete_removes_the_reward_and_its_assignments(
    material: dict[str, Any], api: voucherify.RewardsApi, sdk: voucherify.ApiClient, campaign: str
) -> None:
    rules_api = voucherify.ValidationRulesApi(sdk)
    rule = rules_api.create_validation_rules(
        voucherify.ValidationRulesCreateRequestBody.from_dict({"name": "Limit"})
    )
    reward_id, kept = create(api), create(api, material)
    api.create_reward_assignment(reward_id, assign_body(campaign, validation_rules=[rule.id]))
    api.create_reward_assignment(kept, assign_body(campaign))
    api.delete_reward(reward_id)
    with pytest.raises(ApiException) as caught:
        api.get_reward(reward_id)
    assert caught.value.status == 404
    assert [r.id for r in api.list_rewards().data or []] == [kept]
    assert api.list_reward_assignments(kept).total == 1
    assert rules_api.list_validation_rules_assignments(rule=rule.id).total == 0


def test_assignment_update_changes_the_price(
    material: dict[str, Any], api: voucherify.RewardsApi, campaign: str, server: ThreadServer
) -> None:
    reward_id = create(api, material)
    created = api.create_reward_assignment(reward_id, assign_body(campaign, 100))
    assert created.id is not None
    server.clock.fixed = T0
    updated = api.update_reward_assignment(
        reward_id,
        created.id,
        voucherify.RewardsAssignmentsUpdateRequestBody.from_dict(
            {"parameters": {"loyalty": {"points": 150, "auto_redeem": True}}}
        ),
    )
    assert updated.parameters is not None
    assert updated.parameters.loyalty is not None
    assert (updated.parameters.loyalty.points, updated.parameters.loyalty.auto_redeem) == (
        150,
        True,
    )
    assert updated.updated_at == T0
    fetched = api.get_reward_assignment(reward_id, created.id)
    assert fetched.parameters.loyalty.points == 150  # type: ignore[union-attr]


def test_assignment_update_and_delete_of_unknown_id_are_404(
    api: voucherify.RewardsApi,
) -> None:
    reward_id = create(api)
    for call in (
        lambda: api.update_reward_assignment(
            reward_id, "rewa_missing", voucherify.RewardsAssignmentsUpdateRequestBody()
        ),
        lambda: api.delete_reward_assignment(reward_id, "rewa_missing"),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        error = error_of(caught)
        assert (caught.value.status, error["resource_type"]) == (404, "reward_assignment")


def test_assignment_delete_removes_it(api: voucherify.RewardsApi, campaign: str) -> None:
    reward_id = create(api)
    created = api.create_reward_assignment(reward_id, assign_body(campaign))
    assert created.id is not None
    api.delete_reward_assignment(reward_id, created.id)
    assert api.list_reward_assignments(reward_id).total == 0
    again = api.create_reward_assignment(reward_id, assign_body(campaign))
    assert again.id != created.id
