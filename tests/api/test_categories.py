"""Categories through the official SDK (BEHAVIOR.md §10.3)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.api.errors import describe_problem
from voucherd.store import projects
from voucherd.store.db import Database

T0 = dt.datetime(2024, 8, 29, 16, 6, 10, 138000, tzinfo=dt.UTC)


@pytest.fixture
def api(sdk: voucherify.ApiClient) -> voucherify.CategoriesApi:
    return voucherify.CategoriesApi(sdk)


@pytest.fixture
def other_api(server: ThreadServer, db: Database) -> Iterator[voucherify.CategoriesApi]:
    """The categories API of a second, unrelated project."""
    with db.write() as conn:
        keys = projects.create_project(conn, f"other-{uuid.uuid4().hex[:10]}")
    with voucherify.ApiClient(sdk_configuration(server.url, keys)) as client:
        yield voucherify.CategoriesApi(client)


def create(api: voucherify.CategoriesApi, name: str = "First", hierarchy: int = 1) -> str:
    body = voucherify.CategoriesCreateRequestBody(name=name, hierarchy=hierarchy)
    created = api.create_category(body)
    assert created.id is not None
    return str(created.id)


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, object]:
    body: dict[str, object] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def test_create_returns_the_category_with_id_and_timestamps(
    api: voucherify.CategoriesApi, server: ThreadServer
) -> None:
    server.clock.fixed = T0
    created = api.create_category(
        voucherify.CategoriesCreateRequestBody(name="Eighth", hierarchy=8)
    )
    assert created.id is not None
    assert created.id.startswith("cat_")
    assert (created.name, created.hierarchy, created.object) == ("Eighth", 8, "category")
    assert created.created_at == T0
    fetched = api.get_category(created.id)
    assert fetched.to_dict() == {
        "id": created.id,
        "name": "Eighth",
        "hierarchy": 8,
        "object": "category",
        "created_at": T0,
        "updated_at": None,
    }


def test_hierarchy_zero_is_allowed(api: voucherify.CategoriesApi) -> None:
    category_id = create(api, "Top", 0)
    assert api.get_category(category_id).hierarchy == 0


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"name": "No hierarchy"}, "Payload should have required property 'hierarchy'"),
        ({"hierarchy": 3}, "Payload should have required property 'name'"),
        ({"name": "Negative", "hierarchy": -1}, "Property .hierarchy must be >= 0"),
    ],
)
def test_create_without_name_or_hierarchy_is_invalid_payload(
    api: voucherify.CategoriesApi, http: httpx.Client, body: dict[str, object], details: str
) -> None:
    response = http.post("/v1/categories", json=body)
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["key"], error["details"]) == (400, "invalid_payload", details)
    assert api.list_categories().total == 0


def test_empty_body_is_invalid_payload(http: httpx.Client) -> None:
    response = http.post("/v1/categories", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert "required property 'name'" in response.json()["details"]


def test_wrong_type_is_invalid_payload(api: voucherify.CategoriesApi, http: httpx.Client) -> None:
    response = http.post("/v1/categories", json={"name": "X", "hierarchy": "high"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert response.json()["details"].startswith("Property .hierarchy")
    assert api.list_categories().total == 0


def test_list_returns_every_category_newest_first(
    api: voucherify.CategoriesApi, server: ThreadServer
) -> None:
    ids = []
    for index in range(12):
        server.clock.fixed = T0 + dt.timedelta(seconds=index)
        ids.append(create(api, f"C{index}", index))
    listed = api.list_categories()
    assert (listed.object, listed.data_ref, listed.total) == ("list", "data", 12)
    assert listed.data is not None
    assert [c.id for c in listed.data] == list(reversed(ids))
    assert listed.data[0].name == "C11"


def test_get_unknown_category_is_404(api: voucherify.CategoriesApi) -> None:
    with pytest.raises(ApiException) as caught:
        api.get_category("cat_missing")
    error = error_of(caught)
    assert (error["key"], error["resource_type"], error["resource_id"]) == (
        "not_found",
        "category",
        "cat_missing",
    )


def test_update_replaces_name_and_hierarchy(
    api: voucherify.CategoriesApi, server: ThreadServer
) -> None:
    server.clock.fixed = T0
    category_id = create(api, "Old", 1)
    server.clock.fixed = T0 + dt.timedelta(hours=1)
    updated = api.update_category(
        category_id, voucherify.CategoriesUpdateRequestBody(name="New", hierarchy=4)
    )
    assert (updated.id, updated.name, updated.hierarchy) == (category_id, "New", 4)
    assert updated.created_at == T0
    assert updated.updated_at == T0 + dt.timedelta(hours=1)
    assert api.get_category(category_id).name == "New"


def test_update_needs_both_fields_and_changes_nothing_otherwise(
    api: voucherify.CategoriesApi, http: httpx.Client
) -> None:
    category_id = create(api, "Keep", 2)
    response = http.put(f"/v1/categories/{category_id}", json={"name": "Lost"})
    assert response.status_code == 400
    assert response.json()["details"] == "Payload should have required property 'hierarchy'"
    kept = api.get_category(category_id)
    assert (kept.name, kept.hierarchy, kept.updated_at) == ("Keep", 2, None)


def test_update_unknown_category_is_404(api: voucherify.CategoriesApi) -> None:
    with pytest.raises(ApiException) as caught:
        api.update_category(
            "cat_missing", voucherify.CategoriesUpdateRequestBody(name="X", hierarchy=1)
        )
    assert error_of(caught)["resource_id"] == "cat_missing"
    assert caught.value.status == 404


def test_delete_removes_the_category(api: voucherify.CategoriesApi) -> None:
    category_id = create(api)
    keep = create(api, "Second", 2)
    api.delete_category(category_id)
    with pytest.raises(ApiException) as caught:
        api.get_category(category_id)
    assert caught.value.status == 404
    listed = api.list_categories()
    assert listed.data is not None
    assert [c.id for c in listed.data] == [keep]


def test_delete_unknown_category_is_404(api: voucherify.CategoriesApi) -> None:
    with pytest.raises(ApiException) as caught:
        api.delete_category("cat_missing")
    error = error_of(caught)
    assert (caught.value.status, error["resource_type"]) == (404, "category")


def test_another_project_cannot_see_or_change_the_category(
    api: voucherify.CategoriesApi, other_api: voucherify.CategoriesApi
) -> None:
    category_id = create(api)
    assert other_api.list_categories().total == 0
    for call in (
        lambda: other_api.get_category(category_id),
        lambda: other_api.update_category(
            category_id, voucherify.CategoriesUpdateRequestBody(name="Hijack", hierarchy=9)
        ),
        lambda: other_api.delete_category(category_id),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        assert caught.value.status == 404
    assert api.get_category(category_id).name == "First"


def test_missing_top_level_and_nested_properties_read_like_voucherify() -> None:
    assert (
        describe_problem({"type": "missing", "loc": ("body", "hierarchy")})
        == "Payload should have required property 'hierarchy'"
    )
    assert (
        describe_problem({"type": "less_than_equal", "loc": ("body", "limit"), "ctx": {"le": 30}})
        == "Property .limit must be <= 30"
    )
