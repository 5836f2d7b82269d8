"""Stacking rules through the official SDK's management API (BEHAVIOR.md §10.1)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

R = "/stacking-rules"
T0 = dt.datetime(2024, 4, 16, 20, 18, 38, 213000, tzinfo=dt.UTC)

DEFAULTS: dict[str, Any] = {
    "redeemables_limit": 30,
    "applicable_redeemables_limit": 5,
    "applicable_redeemables_per_category_limit": 1,
    "applicable_redeemables_category_limits": {},
    "applicable_exclusive_redeemables_limit": 1,
    "applicable_exclusive_redeemables_per_category_limit": 1,
    "exclusive_categories": [],
    "joint_categories": [],
    "redeemables_application_mode": "ALL",
    "redeemables_sorting_rule": "REQUESTED_ORDER",
    "grouped_redeemables_sorting_rule": "JOINT_ALWAYS_LAST",
    "discount_calculation_mode": "DISCOUNTED_AMOUNT",
    "initial_amount_mode_categories": [],
    "discounted_amount_mode_categories": [],
    "redeemables_products_application_mode": "STACK",
    "redeemables_no_effect_rule": "REDEEM_ANYWAY",
    "no_effect_skip_categories": [],
    "no_effect_redeem_anyway_categories": [],
    "redeemables_rollback_order_mode": "WITH_ORDER",
}


@pytest.fixture
def api(sdk: voucherify.ApiClient) -> voucherify.ManagementApi:
    return voucherify.ManagementApi(sdk)


@pytest.fixture
def categories(sdk: voucherify.ApiClient) -> voucherify.CategoriesApi:
    return voucherify.CategoriesApi(sdk)


@pytest.fixture
def mgmt(server: ThreadServer, project: ProjectKeys) -> Iterator[httpx.Client]:
    """Raw HTTP on the project's stacking-rules URL with its management keys."""
    headers = {"X-Management-Id": project.app_id, "X-Management-Token": project.app_token}
    base = f"{server.url}/management/v1/projects/{project.id}"
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        yield client


def new_category(categories: voucherify.CategoriesApi, name: str, hierarchy: int = 1) -> str:
    created = categories.create_category(
        voucherify.CategoriesCreateRequestBody(name=name, hierarchy=hierarchy)
    )
    return str(created.id)


def create_body(**fields: Any) -> voucherify.ManagementProjectsStackingRulesCreateRequestBody:
    return voucherify.ManagementProjectsStackingRulesCreateRequestBody(**fields)


def test_list_without_own_rules_returns_the_defaults_without_id(
    api: voucherify.ManagementApi, mgmt: httpx.Client, project: ProjectKeys
) -> None:
    listed = api.list_stacking_rules(project.id)
    assert (listed.object, listed.data_ref, listed.total) == ("list", "data", 1)
    assert listed.data is not None
    assert listed.data[0].id is None
    assert mgmt.get(R).json() == {
        "object": "list",
        "data_ref": "data",
        "data": [DEFAULTS],
        "total": 1,
    }


def test_project_is_addressed_by_id_or_name(
    api: voucherify.ManagementApi, project: ProjectKeys
) -> None:
    assert api.list_stacking_rules(project.name).total == 1


def test_another_project_id_is_404(
    api: voucherify.ManagementApi, mgmt: httpx.Client, project: ProjectKeys, server: ThreadServer
) -> None:
    with pytest.raises(ApiException) as caught:
        api.list_stacking_rules("proj_someone_else")
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "project",
        "proj_someone_else",
    )
    response = httpx.post(
        f"{server.url}/management/v1/projects/proj_someone_else/stacking-rules",
        headers=dict(mgmt.headers),
        json={},
    )
    assert response.status_code == 404
    assert mgmt.get(R).json()["data"][0] == DEFAULTS


def test_management_routes_need_management_keys(server: ThreadServer, project: ProjectKeys) -> None:
    response = httpx.get(
        f"{server.url}/management/v1/projects/{project.id}/stacking-rules",
        headers={"X-App-Id": project.app_id, "X-App-Token": project.app_token},
    )
    assert response.status_code == 401


def test_create_fills_defaults_and_is_returned_by_get_and_list(
    api: voucherify.ManagementApi,
    categories: voucherify.CategoriesApi,
    mgmt: httpx.Client,
    project: ProjectKeys,
    server: ThreadServer,
) -> None:
    exclusive = new_category(categories, "Exclusive")
    joint = new_category(categories, "Joint", 2)
    server.clock.fixed = T0
    created = api.create_stacking_rules(
        project.id,
        create_body(
            exclusive_categories=[exclusive],
            joint_categories=[joint],
            redeemables_limit=25,
            applicable_redeemables_limit=10,
            applicable_redeemables_per_category_limit=2,
            applicable_redeemables_category_limits={exclusive: 3},
            redeemables_application_mode="PARTIAL",
            redeemables_sorting_rule="CATEGORY_HIERARCHY",
            redeemables_rollback_order_mode="WITHOUT_ORDER",
        ),
    )
    assert created.id is not None
    assert created.id.startswith("stk_")
    expected = {
        **DEFAULTS,
        "id": created.id,
        "exclusive_categories": [exclusive],
        "joint_categories": [joint],
        "redeemables_limit": 25,
        "applicable_redeemables_limit": 10,
        "applicable_redeemables_per_category_limit": 2,
        "applicable_redeemables_category_limits": {exclusive: 3},
        "redeemables_application_mode": "PARTIAL",
        "redeemables_sorting_rule": "CATEGORY_HIERARCHY",
        "redeemables_rollback_order_mode": "WITHOUT_ORDER",
        "created_at": "2024-04-16T20:18:38.213Z",
        "updated_at": None,
    }
    assert mgmt.get(f"{R}/{created.id}").json() == expected
    assert mgmt.get(R).json()["data"] == [expected]
    fetched = api.get_stacking_rules(project.id, created.id)
    assert fetched.created_at == T0
    assert fetched.redeemables_rollback_order_mode == "WITHOUT_ORDER"


def test_second_create_is_409_and_keeps_the_first(
    api: voucherify.ManagementApi, mgmt: httpx.Client, project: ProjectKeys
) -> None:
    first = api.create_stacking_rules(project.id, create_body(redeemables_limit=10))
    with pytest.raises(ApiException) as caught:
        api.create_stacking_rules(project.id, create_body(redeemables_limit=20))
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["key"], body["resource_id"]) == (
        409,
        "stacking_rules_exist",
        first.id,
    )
    assert mgmt.get(R).json()["data"][0]["redeemables_limit"] == 10


def test_create_with_empty_body_stores_the_defaults(
    mgmt: httpx.Client, project: ProjectKeys
) -> None:
    response = mgmt.post(R, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    created = response.json()
    assert created["id"].startswith("stk_")
    assert {k: created[k] for k in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"redeemables_limit": 31}, "Property .redeemables_limit must be <= 30"),
        ({"redeemables_limit": 0}, "Property .redeemables_limit must be >= 1"),
        (
            {"applicable_exclusive_redeemables_limit": 6},
            "Property .applicable_exclusive_redeemables_limit must be <= 5",
        ),
        (
            {"applicable_exclusive_redeemables_per_category_limit": 6},
            "Property .applicable_exclusive_redeemables_per_category_limit must be <= 5",
        ),
        (
            {"redeemables_application_mode": "SOME"},
            "Property .redeemables_application_mode must be one of 'ALL' or 'PARTIAL'",
        ),
        (
            {"redeemables_limit": 10, "applicable_redeemables_limit": 11},
            "Property .applicable_redeemables_limit must be <= redeemables_limit (10)",
        ),
        (
            {"applicable_redeemables_per_category_limit": 6},
            "Property .applicable_redeemables_per_category_limit must be <= "
            "applicable_redeemables_limit (5)",
        ),
        (
            {
                "applicable_exclusive_redeemables_limit": 2,
                "applicable_exclusive_redeemables_per_category_limit": 3,
            },
            "Property .applicable_exclusive_redeemables_per_category_limit must be <= "
            "applicable_exclusive_redeemables_limit (2)",
        ),
        (
            {"exclusive_categories": ["cat_unknown"]},
            "Property .exclusive_categories references unknown category cat_unknown",
        ),
        (
            {"applicable_redeemables_category_limits": {"cat_unknown": 1}},
            "Property .applicable_redeemables_category_limits references unknown category "
            "cat_unknown",
        ),
    ],
)
def test_invalid_values_are_invalid_payload_and_create_nothing(
    mgmt: httpx.Client, body: dict[str, Any], details: str
) -> None:
    response = mgmt.post(R, json=body)
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["key"], error["details"]) == (400, "invalid_payload", details)
    assert mgmt.get(R).json()["data"] == [DEFAULTS]


def test_category_limit_above_applicable_limit_is_rejected(
    mgmt: httpx.Client, categories: voucherify.CategoriesApi
) -> None:
    category = new_category(categories, "A")
    response = mgmt.post(R, json={"applicable_redeemables_category_limits": {category: 6}})
    assert response.status_code == 400
    assert response.json()["details"] == (
        f"Property .applicable_redeemables_category_limits.{category} must be <= "
        "applicable_redeemables_limit (5)"
    )


def test_no_effect_lists_must_be_disjoint(
    mgmt: httpx.Client, categories: voucherify.CategoriesApi
) -> None:
    category = new_category(categories, "A")
    response = mgmt.post(
        R,
        json={
            "no_effect_skip_categories": [category],
            "no_effect_redeem_anyway_categories": [category],
        },
    )
    assert response.status_code == 400
    assert response.json()["details"] == (
        "Properties .no_effect_skip_categories and .no_effect_redeem_anyway_categories "
        f"must not share categories: {category}"
    )
    assert mgmt.get(R).json()["data"] == [DEFAULTS]


def test_update_merges_fields_and_replaces_arrays(
    api: voucherify.ManagementApi,
    categories: voucherify.CategoriesApi,
    project: ProjectKeys,
    server: ThreadServer,
    mgmt: httpx.Client,
) -> None:
    first, second = new_category(categories, "A"), new_category(categories, "B")
    server.clock.fixed = T0
    created = api.create_stacking_rules(
        project.id,
        create_body(exclusive_categories=[first, second], redeemables_limit=20),
    )
    assert created.id is not None
    server.clock.fixed = T0 + dt.timedelta(days=1)
    updated = api.update_stacking_rules(
        project.id,
        created.id,
        voucherify.ManagementProjectsStackingRulesUpdateRequestBody(
            exclusive_categories=[second], discount_calculation_mode="INITIAL_AMOUNT"
        ),
    )
    assert updated.exclusive_categories == [second]
    assert updated.redeemables_limit == 20
    assert updated.discount_calculation_mode == "INITIAL_AMOUNT"
    assert updated.created_at == T0
    assert updated.updated_at == T0 + dt.timedelta(days=1)
    assert mgmt.get(f"{R}/{created.id}").json()["exclusive_categories"] == [second]


def test_update_is_checked_against_the_stored_rules(
    api: voucherify.ManagementApi, project: ProjectKeys, mgmt: httpx.Client
) -> None:
    created = api.create_stacking_rules(project.id, create_body(applicable_redeemables_limit=3))
    response = mgmt.put(f"{R}/{created.id}", json={"redeemables_limit": 2})
    assert response.status_code == 400
    assert response.json()["details"] == (
        "Property .applicable_redeemables_limit must be <= redeemables_limit (2)"
    )
    assert mgmt.get(f"{R}/{created.id}").json()["redeemables_limit"] == 30


def test_unknown_rules_id_is_404_for_get_update_and_delete(
    api: voucherify.ManagementApi, project: ProjectKeys, mgmt: httpx.Client
) -> None:
    created = api.create_stacking_rules(project.id, create_body())
    for response in (
        mgmt.get(R + "/stk_missing"),
        mgmt.put(R + "/stk_missing", json={"redeemables_limit": 3}),
        mgmt.delete(R + "/stk_missing"),
    ):
        assert response.status_code == 404
        body = response.json()
        assert (body["key"], body["resource_type"], body["resource_id"]) == (
            "not_found",
            "stacking_rules",
            "stk_missing",
        )
    assert mgmt.get(f"{R}/{created.id}").json()["redeemables_limit"] == 30


def test_delete_restores_the_defaults(
    api: voucherify.ManagementApi, project: ProjectKeys, mgmt: httpx.Client
) -> None:
    created = api.create_stacking_rules(project.id, create_body(redeemables_limit=7))
    assert created.id is not None
    api.delete_stacking_rules(project.id, created.id)
    assert mgmt.get(R).json()["data"] == [DEFAULTS]
    assert mgmt.get(f"{R}/{created.id}").status_code == 404
    again = api.create_stacking_rules(project.id, create_body())
    assert again.id != created.id


def test_deleting_a_referenced_category_is_resource_in_use(
    api: voucherify.ManagementApi,
    categories: voucherify.CategoriesApi,
    project: ProjectKeys,
    http: httpx.Client,
) -> None:
    category = new_category(categories, "Used")
    api.create_stacking_rules(project.id, create_body(joint_categories=[category]))
    with pytest.raises(ApiException) as caught:
        categories.delete_category(category)
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["key"], body["resource_id"], body["resource_type"]) == (
        400,
        "resource_in_use",
        category,
        "category",
    )
    assert categories.get_category(category).name == "Used"
    assert api.list_stacking_rules(project.id).data[0].joint_categories == [category]


def test_remove_from_stacking_rules_deletes_the_category_and_its_mentions(
    api: voucherify.ManagementApi,
    categories: voucherify.CategoriesApi,
    project: ProjectKeys,
    http: httpx.Client,
    mgmt: httpx.Client,
) -> None:
    gone, kept = new_category(categories, "Gone"), new_category(categories, "Kept")
    created = api.create_stacking_rules(
        project.id,
        create_body(
            exclusive_categories=[gone, kept],
            initial_amount_mode_categories=[gone],
            no_effect_skip_categories=[gone],
            applicable_redeemables_category_limits={gone: 2, kept: 1},
        ),
    )
    response = http.delete(f"/v1/categories/{gone}", params={"remove_from_stacking_rules": "true"})
    assert response.status_code == 204
    rules = mgmt.get(f"{R}/{created.id}").json()
    assert rules["exclusive_categories"] == [kept]
    assert rules["initial_amount_mode_categories"] == []
    assert rules["no_effect_skip_categories"] == []
    assert rules["applicable_redeemables_category_limits"] == {kept: 1}
    assert http.get(f"/v1/categories/{gone}").status_code == 404


def test_unreferenced_category_deletes_without_the_flag(
    api: voucherify.ManagementApi, categories: voucherify.CategoriesApi, project: ProjectKeys
) -> None:
    used, free = new_category(categories, "Used"), new_category(categories, "Free")
    api.create_stacking_rules(project.id, create_body(exclusive_categories=[used]))
    categories.delete_category(free)
    assert categories.list_categories().total == 1
