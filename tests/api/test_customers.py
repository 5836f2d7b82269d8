"""Customers through the official SDK: upsert, read, update, delete, list (BEHAVIOR.md §15)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException, NotFoundException

from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

ZERO_SUMMARY = {
    "redemptions": {
        "total_redeemed": 0,
        "total_failed": 0,
        "total_succeeded": 0,
        "total_rolled_back": 0,
        "total_rollback_failed": 0,
        "total_rollback_succeeded": 0,
        "gift": {"redeemed_amount": 0, "amount_to_go": 0},
        "loyalty_card": {"redeemed_points": 0, "points_to_go": 0},
    },
    "orders": {
        "total_amount": 0,
        "total_count": 0,
        "average_amount": 0,
        "last_order_amount": 0,
        "last_order_date": None,
    },
}


def api(sdk: voucherify.ApiClient) -> voucherify.CustomersApi:
    return voucherify.CustomersApi(sdk)


def create(sdk: voucherify.ApiClient, **fields: Any) -> Any:
    return api(sdk).create_customer(voucherify.CustomersCreateRequestBody.from_dict(fields))


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def assert_not_found(caught: pytest.ExceptionInfo[ApiException], resource_id: str) -> None:
    body = error_of(caught)
    assert (body["code"], body["key"]) == (404, "not_found")
    assert (body["resource_type"], body["resource_id"]) == ("customer", resource_id)


def test_create_returns_the_full_customer_with_a_zero_summary(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    created = create(
        sdk,
        source_id="alice@example.com",
        name="Alice",
        description="VIP",
        email="alice@example.com",
        phone="+48 600",
        birthdate="1990-05-17",
        address={"city": "Warsaw", "country": "PL", "postal_code": "00-001"},
        metadata={"tier": "gold", "visits": 3},
    )
    assert created.id.startswith("cust_")
    assert created.object == "customer"
    assert created.birthdate == dt.date(1990, 5, 17)
    raw = http.get(f"/v1/customers/{created.id}").json()
    assert raw["source_id"] == "alice@example.com"
    assert (raw["name"], raw["description"], raw["email"], raw["phone"]) == (
        "Alice",
        "VIP",
        "alice@example.com",
        "+48 600",
    )
    assert raw["birthdate"] == "1990-05-17"
    assert raw["address"] == {
        "city": "Warsaw",
        "state": None,
        "line_1": None,
        "line_2": None,
        "country": "PL",
        "postal_code": "00-001",
    }
    assert raw["metadata"] == {"tier": "gold", "visits": 3}
    assert raw["summary"] == ZERO_SUMMARY
    assert raw["loyalty"] == {"points": 0, "referred_customers": 0, "campaigns": {}}
    assert raw["referrals"] == {"total": 0, "campaigns": []}
    assert raw["created_at"].endswith("Z")
    assert len(raw["created_at"]) == len("2024-08-29T16:06:10.138Z")
    assert raw["updated_at"] is None


def test_create_with_a_known_source_id_updates_that_customer_and_merges_metadata(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    first = create(sdk, source_id="bob", name="Bob", email="b@x.io", metadata={"a": 1, "b": 2})
    second = create(sdk, source_id="bob", name="Robert", metadata={"b": 3, "c": 4})
    assert second.id == first.id
    assert (second.name, second.email) == ("Robert", "b@x.io")
    assert second.metadata == {"a": 1, "b": 3, "c": 4}
    assert second.updated_at is not None
    assert http.get("/v1/customers").json()["total"] == 1


def test_create_by_id_updates_and_ignores_a_new_source_id(sdk: voucherify.ApiClient) -> None:
    first = create(sdk, source_id="carol", name="Carol")
    again = create(sdk, id=first.id, source_id="someone-else", name="Caroline")
    assert (again.id, again.source_id, again.name) == (first.id, "carol", "Caroline")


def test_create_with_an_unknown_id_is_404_and_creates_nothing(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    with pytest.raises(NotFoundException) as caught:
        create(sdk, id="cust_missing", source_id="dave", name="Dave")
    assert_not_found(caught, "cust_missing")
    assert http.get("/v1/customers").json()["total"] == 0


def test_create_without_identifiers_makes_a_new_customer_each_time(
    sdk: voucherify.ApiClient,
) -> None:
    one = create(sdk, name="Anon")
    two = create(sdk, name="Anon")
    assert one.id != two.id
    assert one.source_id is None


def test_get_by_id_and_by_source_id_return_the_same_customer(sdk: voucherify.ApiClient) -> None:
    created = create(sdk, source_id="erin", name="Erin")
    by_id = api(sdk).get_customer(created.id)
    by_source = api(sdk).get_customer("erin")
    assert by_id.id == by_source.id == created.id
    assert by_source.summary.redemptions.total_redeemed == 0
    assert by_source.summary.orders.total_count == 0


def test_get_unknown_customer_is_404_envelope(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_customer("nobody")
    assert_not_found(caught, "nobody")


def test_update_changes_only_the_given_fields(sdk: voucherify.ApiClient) -> None:
    created = create(
        sdk,
        source_id="frank",
        name="Frank",
        email="f@x.io",
        address={"city": "Oslo", "line_1": "Main 1"},
        metadata={"a": 1, "gone": True},
    )
    updated = api(sdk).update_customer(
        "frank",
        voucherify.CustomersUpdateRequestBody.from_dict(
            {"email": "frank@x.io", "address": {"city": "Bergen"}, "metadata": {"b": 2}}
        ),
    )
    assert (updated.id, updated.source_id, updated.name, updated.email) == (
        created.id,
        "frank",
        "Frank",
        "frank@x.io",
    )
    assert (updated.address.city, updated.address.line_1) == ("Bergen", "Main 1")
    assert updated.metadata == {"a": 1, "gone": True, "b": 2}
    assert updated.updated_at is not None


def test_update_with_a_null_metadata_value_removes_that_key(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    create(sdk, source_id="gina", metadata={"keep": 1, "drop": 2})
    response = http.put("/v1/customers/gina", json={"metadata": {"drop": None}})
    assert response.status_code == 200
    assert response.json()["metadata"] == {"keep": 1}


def test_update_cannot_change_the_source_id(sdk: voucherify.ApiClient, http: httpx.Client) -> None:
    created = create(sdk, source_id="hank")
    response = http.put(f"/v1/customers/{created.id}", json={"source_id": "other", "name": "H"})
    assert response.status_code == 200
    assert (response.json()["source_id"], response.json()["name"]) == ("hank", "H")


def test_update_unknown_customer_is_404(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        api(sdk).update_customer(
            "cust_nope", voucherify.CustomersUpdateRequestBody.from_dict({"name": "X"})
        )
    assert_not_found(caught, "cust_nope")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"email": 123}, ".email"),
        ({"birthdate": "not-a-date"}, ".birthdate"),
        ({"address": {"city": ["x"]}}, ".address.city"),
        ({"metadata": "flat"}, ".metadata"),
    ],
)
def test_update_with_wrong_types_is_400_and_changes_nothing(
    sdk: voucherify.ApiClient, http: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    create(sdk, source_id="ivy", email="ivy@x.io", birthdate="2000-01-02")
    response = http.put("/v1/customers/ivy", json=body)
    assert response.status_code == 400
    error = response.json()
    assert (error["code"], error["key"]) == (400, "invalid_payload")
    assert fragment in error["details"]
    stored = http.get("/v1/customers/ivy").json()
    assert (stored["email"], stored["birthdate"], stored["address"], stored["metadata"]) == (
        "ivy@x.io",
        "2000-01-02",
        None,
        {},
    )
    assert stored["updated_at"] is None


def test_create_with_wrong_types_is_400_and_creates_nothing(http: httpx.Client) -> None:
    response = http.post("/v1/customers", json={"source_id": "jo", "name": {"first": "Jo"}})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert ".name" in response.json()["details"]
    assert http.get("/v1/customers").json()["total"] == 0


def test_delete_removes_the_customer_for_good(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    created = create(sdk, source_id="kim")
    assert http.delete("/v1/customers/kim").status_code == 204
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_customer(created.id)
    assert_not_found(caught, created.id)
    with pytest.raises(NotFoundException) as caught:
        api(sdk).delete_customer(created.id)
    assert_not_found(caught, created.id)
    assert http.get("/v1/customers").json()["total"] == 0
    # The source_id is free again: a new customer gets a new id.
    assert create(sdk, source_id="kim").id != created.id


def test_another_projects_keys_cannot_see_the_customer(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database
) -> None:
    create(sdk, source_id="secret")
    with db.write() as conn:
        other: ProjectKeys = projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
    with voucherify.ApiClient(sdk_configuration(server.url, other)) as client:
        with pytest.raises(NotFoundException) as caught:
            voucherify.CustomersApi(client).get_customer("secret")
        assert_not_found(caught, "secret")
        assert voucherify.CustomersApi(client).list_customers().total == 0


def _three(sdk: voucherify.ApiClient, server: ThreadServer) -> list[Any]:
    start = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
    made = []
    for n, (city, email) in enumerate([("Oslo", "a@x.io"), ("Rome", "b@x.io"), ("Oslo", "c@x.io")]):
        server.clock.fixed = start + dt.timedelta(hours=n)
        made.append(
            create(
                sdk,
                source_id=f"s{n}",
                name=f"N{n}",
                email=email,
                address={"city": city},
                metadata={"rank": n},
            )
        )
    server.clock.reset()
    return made


def test_list_is_newest_first_with_total_and_has_more(
    sdk: voucherify.ApiClient, server: ThreadServer, http: httpx.Client
) -> None:
    made = _three(sdk, server)
    first = api(sdk).list_customers(limit=2)
    assert (first.object, first.data_ref, first.total, first.has_more) == (
        "list",
        "customers",
        3,
        True,
    )
    assert [c.id for c in first.customers] == [made[2].id, made[1].id]
    second = api(sdk).list_customers(limit=2, page=2)
    assert [c.id for c in second.customers] == [made[0].id]
    assert second.has_more is False
    oldest = api(sdk).list_customers(order="created_at")
    assert [c.id for c in oldest.customers] == [m.id for m in made]
    by_source = api(sdk).list_customers(order="-source_id")
    assert [c.source_id for c in by_source.customers] == ["s2", "s1", "s0"]


def test_list_shortcuts_filter_by_email_city_name_and_segment(
    sdk: voucherify.ApiClient, server: ThreadServer
) -> None:
    made = _three(sdk, server)
    assert [c.id for c in api(sdk).list_customers(email="b@x.io").customers] == [made[1].id]
    assert [c.id for c in api(sdk).list_customers(city="Oslo").customers] == [
        made[2].id,
        made[0].id,
    ]
    assert [c.id for c in api(sdk).list_customers(name="N0").customers] == [made[0].id]
    assert api(sdk).list_customers(segment_id="seg_1").total == 0


def test_list_date_ranges_and_starting_after_cursor(
    sdk: voucherify.ApiClient, server: ThreadServer
) -> None:
    made = _three(sdk, server)
    after = dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC)
    assert [c.id for c in api(sdk).list_customers(created_at_after=after).customers] == [
        made[2].id,
        made[1].id,
    ]
    assert [c.id for c in api(sdk).list_customers(created_at_before=after).customers] == [
        made[0].id
    ]
    cursor = made[1].created_at
    assert [c.id for c in api(sdk).list_customers(starting_after=cursor).customers] == [made[0].id]
    ascending = api(sdk).list_customers(starting_after=cursor, order="created_at")
    assert [c.id for c in ascending.customers] == [made[2].id]


def test_list_filters_on_metadata_and_columns(
    sdk: voucherify.ApiClient, server: ThreadServer, http: httpx.Client
) -> None:
    made = _three(sdk, server)
    response = http.get(
        "/v1/customers", params={"filters[metadata.rank][conditions][$is]": "1"}
    ).json()
    assert [c["id"] for c in response["customers"]] == [made[1].id]
    response = http.get(
        "/v1/customers",
        params={
            "filters[address.city][conditions][$is]": "Oslo",
            "filters[email][conditions][$starts_with]": "c@",
        },
    ).json()
    assert [c["id"] for c in response["customers"]] == [made[2].id]


@pytest.mark.parametrize(
    "params",
    [
        {"page": "100"},
        {"limit": "101"},
        {"order": "email"},
        {"starting_after": "yesterday"},
        {"filters[shoe_size][conditions][$is]": "9"},
    ],
)
def test_list_rejects_bad_query_params(http: httpx.Client, params: dict[str, str]) -> None:
    response = http.get("/v1/customers", params=params)
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_query_params"
