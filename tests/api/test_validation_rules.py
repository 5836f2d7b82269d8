"""Validation rules and assignments through the official SDK (BEHAVIOR.md §11)."""

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
from voucherd.store import projects, validation_rules
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

T0 = dt.datetime(2024, 8, 29, 16, 6, 10, 138000, tzinfo=dt.UTC)

RULES: dict[str, Any] = {
    "1": {
        "name": "customer.metadata",
        "property": "tier",
        "conditions": {"$is": ["gold"]},
        "rules": {},
        "error": {"message": "Gold members only"},
    },
    "2": {"name": "order.amount", "conditions": {"$more_than_or_equal": [5000]}, "rules": {}},
    "logic": "1 and 2",
}


@pytest.fixture
def api(sdk: voucherify.ApiClient) -> voucherify.ValidationRulesApi:
    return voucherify.ValidationRulesApi(sdk)


@pytest.fixture
def other_api(server: ThreadServer, db: Database) -> Iterator[voucherify.ValidationRulesApi]:
    """The validation-rules API of a second, unrelated project."""
    with db.write() as conn:
        keys = projects.create_project(conn, f"other-{uuid.uuid4().hex[:10]}")
    with voucherify.ApiClient(sdk_configuration(server.url, keys)) as client:
        yield voucherify.ValidationRulesApi(client)


PERCENT = {"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ORDER"}


def new_voucher(sdk: voucherify.ApiClient, code: str | None = None) -> str:
    """A standalone discount voucher's id."""
    created = voucherify.VouchersApi(sdk).create_voucher(
        code or f"RULE-{uuid.uuid4().hex[:8]}",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(
            {"type": "DISCOUNT_VOUCHER", "discount": PERCENT}
        ),
    )
    return str(created.id)


def new_campaign(sdk: voucherify.ApiClient, name: str | None = None) -> str:
    """A discount-coupons campaign's id."""
    created = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": name or f"camp-{uuid.uuid4().hex[:8]}",
                "campaign_type": "DISCOUNT_COUPONS",
                "voucher": {"type": "DISCOUNT_VOUCHER", "discount": PERCENT},
            }
        )
    )
    return str(created.id)


def new_tier(sdk: voucherify.ApiClient) -> str:
    """A promotion tier's id."""
    created = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": f"promo-{uuid.uuid4().hex[:8]}",
                "promotion": {"tiers": [{"name": "Tier", "action": {"discount": PERCENT}}]},
            }
        )
    )
    return str(created.promotion.tiers[0].id)


@pytest.fixture
def voucher(sdk: voucherify.ApiClient) -> str:
    """The id of a voucher to assign rules to."""
    return new_voucher(sdk)


def create(api: voucherify.ValidationRulesApi, name: str = "Gold", **fields: Any) -> str:
    body = voucherify.ValidationRulesCreateRequestBody.from_dict(
        {"name": name, "rules": RULES, **fields}
    )
    created = api.create_validation_rules(body)
    assert created.id is not None
    return str(created.id)


def assign(
    api: voucherify.ValidationRulesApi,
    rule_id: str,
    related_object_id: str,
    related_object_type: str = "voucher",
    force: bool | None = None,
) -> voucherify.ValidationRulesAssignmentsCreateResponseBody:
    body = voucherify.ValidationRulesAssignmentsCreateRequestBody(
        related_object_type=related_object_type, related_object_id=related_object_id
    )
    return api.create_validation_rule_assignment(rule_id, force, body)


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


# --- rule sets -------------------------------------------------------------------


def test_create_returns_the_full_rule_set(
    api: voucherify.ValidationRulesApi, server: ThreadServer, http: httpx.Client
) -> None:
    server.clock.fixed = T0
    # Raw HTTP: the SDK's request model itself insists on `effect`; the server defaults it.
    response = http.post(
        "/v1/validation-rules",
        json={
            "name": "Gold",
            "rules": RULES,
            "error": {"message": "Offer needs a gold account"},
            "type": "advanced",
            "applicable_to": {
                "included": [{"object": "products_collection", "id": "pc_1", "quantity_limit": 2}],
                "excluded": [{"object": "sku", "id": "sku_1", "effect": "APPLY_TO_CHEAPEST"}],
            },
        },
    )
    assert response.status_code == 200
    rule_id = response.json()["id"]
    assert rule_id.startswith("val_")
    assert http.get(f"/v1/validation-rules/{rule_id}").json() == {
        "id": rule_id,
        "name": "Gold",
        "rules": RULES,
        "bundle_rules": None,
        "error": {"message": "Offer needs a gold account"},
        "applicable_to": {
            "included": [
                {
                    "object": "products_collection",
                    "id": "pc_1",
                    "effect": "APPLY_TO_EVERY",
                    "quantity_limit": 2,
                }
            ],
            "excluded": [{"object": "sku", "id": "sku_1", "effect": "APPLY_TO_CHEAPEST"}],
            "included_all": False,
        },
        "type": "advanced",
        "context_type": "global",
        "created_at": "2024-08-29T16:06:10.138Z",
        "updated_at": None,
        "assignments_count": 0,
        "object": "validation_rules",
    }
    fetched = api.get_validation_rule(rule_id)
    assert fetched.created_at == T0
    assert fetched.applicable_to is not None
    assert fetched.applicable_to.included is not None
    assert fetched.applicable_to.included[0].effect == "APPLY_TO_EVERY"


def test_defaults_are_expression_and_global(api: voucherify.ValidationRulesApi) -> None:
    created = api.create_validation_rules(
        voucherify.ValidationRulesCreateRequestBody.from_dict({"name": "Plain"})
    )
    assert (created.type, created.context_type, created.rules) == ("expression", "global", {})
    assert created.object == "validation_rules"
    assert created.assignments_count == 0


def test_pay_with_points_context_is_accepted(api: voucherify.ValidationRulesApi) -> None:
    rule_id = create(
        api,
        context_type="reward_assignment.pay_with_points",
        rules={
            "1": {
                "name": "redemption.reward.pay_with_points.points_used",
                "conditions": {"$less_than_or_equal": [100]},
            },
            "logic": "1",
        },
    )
    assert api.get_validation_rule(rule_id).context_type == "reward_assignment.pay_with_points"


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"rules": {}}, "Payload should have required property 'name'"),
        ({"name": "X", "type": "fancy"}, "Property .type must be one of"),
        ({"name": "X", "context_type": "campaign.everything"}, "Property .context_type must be"),
        (
            {"name": "X", "applicable_to": {"included": [{"id": "p", "effect": "APPLY_ONCE"}]}},
            "Property .applicable_to.included[0].effect must be one of",
        ),
        ({"name": "X", "rules": []}, "Property .rules"),
    ],
)
def test_schema_violations_are_invalid_payload(
    api: voucherify.ValidationRulesApi, http: httpx.Client, body: dict[str, Any], details: str
) -> None:
    response = http.post("/v1/validation-rules", json=body)
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["key"]) == (400, "invalid_payload")
    assert error["details"].startswith(details)
    assert api.list_validation_rules().total == 0


def test_malformed_rules_are_invalid_validation_rules(
    api: voucherify.ValidationRulesApi, http: httpx.Client
) -> None:
    rules = {"1": {"name": "customer.metadata", "conditions": {"$is": ["gold"]}}, "logic": "1"}
    response = http.post("/v1/validation-rules", json={"name": "Broken", "rules": rules})
    assert response.status_code == 400
    error = response.json()
    assert (error["key"], error["details"]) == (
        "invalid_validation_rules",
        "Rule 'customer.metadata' must have a 'property'",
    )
    assert api.list_validation_rules().total == 0


def test_list_pages_and_orders(api: voucherify.ValidationRulesApi, server: ThreadServer) -> None:
    ids = []
    for index in range(3):
        server.clock.fixed = T0 + dt.timedelta(minutes=index)
        ids.append(create(api, f"R{index}"))
    listed = api.list_validation_rules()
    assert (listed.object, listed.data_ref, listed.total) == ("list", "data", 3)
    assert [r.id for r in listed.data or []] == list(reversed(ids))
    page2 = api.list_validation_rules(limit=2, page=2, order="created_at")
    assert ([r.id for r in page2.data or []], page2.total) == ([ids[2]], 3)
    by_name = api.list_validation_rules(order="-name")
    assert [r.name for r in by_name.data or []] == ["R2", "R1", "R0"]
    since = api.list_validation_rules(start_date=T0 + dt.timedelta(minutes=1))
    assert [r.id for r in since.data or []] == [ids[2], ids[1]]


def test_list_rejects_an_unknown_order(http: httpx.Client) -> None:
    response = http.get("/v1/validation-rules", params={"order": "points"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_query_params"


def test_update_replaces_given_fields_only(
    api: voucherify.ValidationRulesApi, server: ThreadServer
) -> None:
    server.clock.fixed = T0
    rule_id = create(api, error={"message": "Old"})
    server.clock.fixed = T0 + dt.timedelta(hours=2)
    updated = api.update_validation_rule(
        rule_id,
        voucherify.ValidationRulesUpdateRequestBody.from_dict(
            {"name": "Renamed", "error": {"message": "New"}}
        ),
    )
    assert (updated.name, updated.error.message if updated.error else None) == ("Renamed", "New")
    assert updated.rules == RULES
    assert updated.updated_at == T0 + dt.timedelta(hours=2)
    assert api.get_validation_rule(rule_id).name == "Renamed"


def test_update_with_malformed_rules_changes_nothing(
    api: voucherify.ValidationRulesApi, http: httpx.Client
) -> None:
    rule_id = create(api)
    response = http.put(
        f"/v1/validation-rules/{rule_id}", json={"name": "X", "rules": {"logic": "(1"}}
    )
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_validation_rules"
    kept = api.get_validation_rule(rule_id)
    assert (kept.name, kept.rules, kept.updated_at) == ("Gold", RULES, None)


def test_unknown_rule_is_404_for_get_update_and_delete(
    api: voucherify.ValidationRulesApi,
) -> None:
    calls = (
        lambda: api.get_validation_rule("val_missing"),
        lambda: api.update_validation_rule(
            "val_missing", voucherify.ValidationRulesUpdateRequestBody(name="X")
        ),
        lambda: api.delete_validation_rules("val_missing"),
    )
    for call in calls:
        with pytest.raises(ApiException) as caught:
            call()
        error = error_of(caught)
        assert (caught.value.status, error["resource_type"], error["resource_id"]) == (
            404,
            "validation_rules",
            "val_missing",
        )


def test_delete_removes_the_rule_and_its_assignments(
    api: voucherify.ValidationRulesApi, voucher: str
) -> None:
    rule_id = create(api)
    kept = create(api, "Kept")
    assign(api, rule_id, voucher)
    assign(api, kept, voucher)
    api.delete_validation_rules(rule_id)
    with pytest.raises(ApiException) as caught:
        api.get_validation_rule(rule_id)
    assert caught.value.status == 404
    remaining = api.list_validation_rules_assignments()
    assert [a.rule_id for a in remaining.data or []] == [kept]


def test_another_project_cannot_see_the_rule(
    api: voucherify.ValidationRulesApi, other_api: voucherify.ValidationRulesApi, voucher: str
) -> None:
    rule_id = create(api)
    assign(api, rule_id, voucher)
    assert other_api.list_validation_rules().total == 0
    assert other_api.list_validation_rules_assignments().total == 0
    with pytest.raises(ApiException) as caught:
        other_api.get_validation_rule(rule_id)
    assert caught.value.status == 404
    with pytest.raises(ApiException) as caught:
        assign(other_api, rule_id, voucher)
    assert caught.value.status == 404
    assert api.get_validation_rule(rule_id).assignments_count == 1


# --- assignments -----------------------------------------------------------------


def test_assignment_is_created_and_counted(
    api: voucherify.ValidationRulesApi, server: ThreadServer, sdk: voucherify.ApiClient
) -> None:
    rule_id = create(api)
    campaign = new_campaign(sdk)
    server.clock.fixed = T0
    created = assign(api, rule_id, campaign, "campaign")
    assert created.id is not None
    assert created.id.startswith("asgm_")
    assert created.to_dict() == {
        "id": created.id,
        "rule_id": rule_id,
        "related_object_id": campaign,
        "related_object_type": "campaign",
        "created_at": T0,
        "object": "validation_rules_assignment",
    }
    assert api.get_validation_rule(rule_id).assignments_count == 1
    listed = api.list_validation_rule_assignments(rule_id)
    assert (listed.data_ref, listed.total) == ("data", 1)
    assert [a.id for a in listed.data or []] == [created.id]


def test_every_related_object_type_can_be_assigned(
    api: voucherify.ValidationRulesApi, sdk: voucherify.ApiClient
) -> None:
    campaign = new_campaign(sdk)
    reward = voucherify.RewardsApi(sdk).create_reward(
        voucherify.RewardsCreateRequestBody.from_dict(
            {"name": "Coin", "parameters": {"coin": {"exchange_ratio": 1, "points_ratio": "1"}}}
        )
    )
    loyalty = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": f"loyalty-{uuid.uuid4().hex[:8]}",
                "campaign_type": "LOYALTY_PROGRAM",
                "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": 0}},
            }
        )
    )
    reward_assignment = voucherify.RewardsApi(sdk).create_reward_assignment(
        str(reward.id), voucherify.RewardsAssignmentsCreateRequestBody(campaign=loyalty.id)
    )
    targets = [
        ("voucher", new_voucher(sdk)),
        ("campaign", campaign),
        ("promotion_tier", new_tier(sdk)),
        ("earning_rule", "ern_1"),
        ("reward_assignment", str(reward_assignment.id)),
        ("distribution", "anything_1"),
    ]
    rule_id = create(api)
    for related_type, related_id in targets:
        created = assign(api, rule_id, related_id, related_type)
        assert (created.related_object_type, created.related_object_id) == (
            related_type,
            related_id,
        )
    assert api.list_validation_rule_assignments(rule_id).total == len(targets)


def test_voucher_code_and_campaign_name_are_stored_as_ids(
    api: voucherify.ValidationRulesApi, sdk: voucherify.ApiClient
) -> None:
    voucher_id = new_voucher(sdk, "BY-CODE")
    campaign_id = new_campaign(sdk, "By name")
    rule_id = create(api)
    assert assign(api, rule_id, "BY-CODE").related_object_id == voucher_id
    assert assign(api, rule_id, "By name", "campaign").related_object_id == campaign_id


@pytest.mark.parametrize(
    ("related_type", "related_id"),
    [
        ("voucher", "NO-SUCH-CODE"),
        ("campaign", "camp_missing"),
        ("promotion_tier", "promo_missing"),
        ("reward_assignment", "rewa_missing"),
        ("earning_rule", "not_an_earning_rule"),
    ],
)
def test_unknown_related_object_is_404_naming_its_type(
    api: voucherify.ValidationRulesApi, related_type: str, related_id: str
) -> None:
    rule_id = create(api)
    with pytest.raises(ApiException) as caught:
        assign(api, rule_id, related_id, related_type)
    error = error_of(caught)
    assert (caught.value.status, error["resource_type"], error["resource_id"]) == (
        404,
        related_type,
        related_id,
    )
    assert api.list_validation_rule_assignments(rule_id).total == 0


def test_assignment_body_is_checked(api: voucherify.ValidationRulesApi, http: httpx.Client) -> None:
    rule_id = create(api)
    for body, details in (
        ({"related_object_type": "voucher"}, "should have required property 'related_object_id'"),
        ({"related_object_type": "order", "related_object_id": "ord_1"}, "must be one of"),
    ):
        response = http.post(f"/v1/validation-rules/{rule_id}/assignments", json=body)
        assert response.status_code == 400
        assert response.json()["key"] == "invalid_payload"
        assert details in response.json()["details"]
    assert api.list_validation_rule_assignments(rule_id).total == 0


def test_assignment_to_unknown_rule_is_404(
    api: voucherify.ValidationRulesApi, voucher: str
) -> None:
    with pytest.raises(ApiException) as caught:
        assign(api, "val_missing", voucher)
    assert error_of(caught)["resource_type"] == "validation_rules"
    assert api.list_validation_rules_assignments().total == 0


def test_duplicate_assignment_is_409_naming_the_existing_one(
    api: voucherify.ValidationRulesApi, voucher: str
) -> None:
    rule_id = create(api)
    first = assign(api, rule_id, voucher)
    with pytest.raises(ApiException) as caught:
        assign(api, rule_id, voucher)
    error = error_of(caught)
    assert (caught.value.status, error["key"], error["resource_type"], error["resource_id"]) == (
        409,
        "duplicate_found",
        "validation_rules_assignment",
        first.id,
    )
    assert [a.id for a in api.list_validation_rule_assignments(rule_id).data or []] == [first.id]


def test_force_replaces_the_duplicate(api: voucherify.ValidationRulesApi, voucher: str) -> None:
    rule_id = create(api)
    first = assign(api, rule_id, voucher)
    second = assign(api, rule_id, voucher, force=True)
    assert second.id != first.id
    listed = api.list_validation_rule_assignments(rule_id)
    assert [a.id for a in listed.data or []] == [second.id]


def test_unknown_rule_has_an_empty_assignment_list(api: voucherify.ValidationRulesApi) -> None:
    listed = api.list_validation_rule_assignments("val_missing")
    assert (listed.object, listed.data_ref, listed.data, listed.total) == ("list", "data", [], 0)


def test_assignments_list_filters_by_object_and_rule(
    api: voucherify.ValidationRulesApi, sdk: voucherify.ApiClient, voucher: str
) -> None:
    gold, silver = create(api, "Gold"), create(api, "Silver")
    a = assign(api, gold, voucher)
    b = assign(api, silver, voucher)
    c = assign(api, gold, new_campaign(sdk), "campaign")
    by_object = api.list_validation_rules_assignments(related_object_id=voucher, order="created_at")
    assert [x.id for x in by_object.data or []] == [a.id, b.id]
    by_rule = api.list_validation_rules_assignments(rule=gold, order="created_at")
    assert [x.id for x in by_rule.data or []] == [a.id, c.id]
    both = api.list_validation_rules_assignments(related_object_id=voucher, rule=gold)
    assert ([x.id for x in both.data or []], both.total) == ([a.id], 1)
    assert api.list_validation_rules_assignments(limit=2).total == 3


def test_delete_assignment(api: voucherify.ValidationRulesApi, sdk: voucherify.ApiClient) -> None:
    rule_id = create(api)
    gone = assign(api, rule_id, new_voucher(sdk))
    kept = assign(api, rule_id, new_voucher(sdk))
    assert gone.id is not None
    api.delete_validation_rule_assignment(rule_id, gone.id)
    listed = api.list_validation_rule_assignments(rule_id)
    assert [a.id for a in listed.data or []] == [kept.id]
    with pytest.raises(ApiException) as caught:
        api.delete_validation_rule_assignment(rule_id, gone.id)
    error = error_of(caught)
    assert (caught.value.status, error["resource_type"], error["resource_id"]) == (
        404,
        "validation_rules_assignment",
        gone.id,
    )


def test_assignment_is_deleted_only_through_its_own_rule(
    api: voucherify.ValidationRulesApi, voucher: str
) -> None:
    rule_id, other = create(api), create(api, "Other")
    created = assign(api, rule_id, voucher)
    assert created.id is not None
    with pytest.raises(ApiException) as caught:
        api.delete_validation_rule_assignment(other, created.id)
    assert caught.value.status == 404
    assert api.list_validation_rule_assignments(rule_id).total == 1


def test_rules_for_objects_gives_the_pipeline_every_assigned_rule_set(
    api: voucherify.ValidationRulesApi,
    sdk: voucherify.ApiClient,
    db: Database,
    project: ProjectKeys,
    voucher: str,
) -> None:
    campaign = new_campaign(sdk)
    gold, silver = create(api, "Gold"), create(api, "Silver")
    assign(api, gold, voucher)
    assign(api, silver, voucher)
    assign(api, gold, campaign, "campaign")
    with db.read() as conn:
        found = validation_rules.rules_for_objects(conn, project.id, [voucher, campaign, "v_none"])
    assert {key: [r["name"] for r in value] for key, value in found.items()} == {
        voucher: ["Gold", "Silver"],
        campaign: ["Gold"],
        "v_none": [],
    }
    assert found[campaign][0]["rules"] == RULES
    assert found[campaign][0]["assignments_count"] == 2


def test_bad_start_date_is_invalid_query_params(http: httpx.Client) -> None:
    response = http.get("/v1/validation-rules", params={"start_date": "yesterday"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_query_params"


def test_bundle_rules_are_kept_as_sent(api: voucherify.ValidationRulesApi) -> None:
    bundle = {
        "1": {"name": "order.items.any", "conditions": {"$is": [{"id": "prod_1"}]}},
        "logic": "1",
    }
    rule_id = create(api, bundle_rules=bundle)
    assert api.get_validation_rule(rule_id).bundle_rules == bundle
