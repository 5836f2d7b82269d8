"""Products and SKUs through the official SDK (BEHAVIOR.md §1.1, §15.1)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException, BadRequestException, NotFoundException

from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.store import projects
from voucherd.store.db import Database


def api(sdk: voucherify.ApiClient) -> voucherify.ProductsApi:
    return voucherify.ProductsApi(sdk)


def create(sdk: voucherify.ApiClient, **fields: Any) -> Any:
    return api(sdk).create_product(voucherify.ProductsCreateRequestBody.from_dict(fields))


def create_sku(sdk: voucherify.ApiClient, product_id: str, **fields: Any) -> Any:
    return api(sdk).create_sku(
        product_id, voucherify.ProductsSkusCreateRequestBody.from_dict(fields)
    )


def assert_error(
    caught: pytest.ExceptionInfo[ApiException], status: int, key: str, **resource: str
) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert (caught.value.status, body["code"], body["key"]) == (status, status, key)
    for name, value in resource.items():
        assert body[name] == value
    return body


def test_create_returns_the_product_with_an_empty_sku_list(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    made = create(
        sdk,
        source_id="shoe-1",
        name="Shoe",
        price=12000,
        attributes=["color", "size"],
        metadata={"brand": "X"},
        image_url="https://img/x.png",
    )
    assert made.id.startswith("prod_")
    raw = http.get(f"/v1/products/{made.id}").json()
    assert {k: raw[k] for k in ("source_id", "name", "price", "attributes", "metadata")} == {
        "source_id": "shoe-1",
        "name": "Shoe",
        "price": 12000,
        "attributes": ["color", "size"],
        "metadata": {"brand": "X"},
    }
    assert (raw["image_url"], raw["object"], raw["updated_at"]) == (
        "https://img/x.png",
        "product",
        None,
    )
    assert raw["skus"] == {"object": "list", "data_ref": "data", "data": [], "total": 0}


def test_create_with_a_known_source_id_or_id_updates_that_product(
    sdk: voucherify.ApiClient,
) -> None:
    made = create(sdk, source_id="p1", name="One", price=100, metadata={"a": 1})
    again = create(sdk, source_id="p1", price=250)
    assert (again.id, again.name, again.price, again.metadata) == (made.id, "One", 250, {"a": 1})
    by_id = create(sdk, id=made.id, name="Uno", metadata={"b": 2})
    assert (by_id.id, by_id.source_id, by_id.name, by_id.metadata) == (
        made.id,
        "p1",
        "Uno",
        {"b": 2},
    )
    assert api(sdk).list_products().total == 1


def test_create_with_an_unknown_id_is_404_and_creates_nothing(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        create(sdk, id="prod_missing", name="X")
    assert_error(caught, 404, "not_found", resource_type="product", resource_id="prod_missing")
    assert api(sdk).list_products().total == 0


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "X", "price": 10.5}, ".price"),
        ({"name": "X", "price": "cheap"}, ".price"),
        ({"name": "X", "attributes": "color"}, ".attributes"),
        ({"name": ["X"]}, ".name"),
    ],
)
def test_create_with_wrong_types_is_400_and_creates_nothing(
    http: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    response = http.post("/v1/products", json=body)
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert fragment in response.json()["details"]
    assert http.get("/v1/products").json()["total"] == 0


def test_a_whole_number_float_price_is_stored_as_an_integer(http: httpx.Client) -> None:
    response = http.post("/v1/products", json={"name": "X", "price": 1500.0})
    assert response.status_code == 200
    assert response.json()["price"] == 1500
    assert isinstance(response.json()["price"], int)


def test_get_by_source_id_and_unknown_product_is_404(sdk: voucherify.ApiClient) -> None:
    made = create(sdk, source_id="hat", name="Hat")
    assert api(sdk).get_product("hat").id == made.id
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_product("no-hat")
    assert_error(caught, 404, "not_found", resource_type="product", resource_id="no-hat")


def test_update_changes_only_the_given_fields(sdk: voucherify.ApiClient) -> None:
    made = create(sdk, source_id="mug", name="Mug", price=900, attributes=["size"])
    updated = api(sdk).update_product(
        "mug", voucherify.ProductsUpdateRequestBody.from_dict({"price": 1100})
    )
    assert (updated.id, updated.name, updated.price, updated.attributes) == (
        made.id,
        "Mug",
        1100,
        ["size"],
    )
    assert updated.updated_at is not None


def test_update_unknown_product_is_404_and_bad_type_is_400_unchanged(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    with pytest.raises(NotFoundException) as caught:
        api(sdk).update_product(
            "nope", voucherify.ProductsUpdateRequestBody.from_dict({"name": "X"})
        )
    assert_error(caught, 404, "not_found", resource_type="product", resource_id="nope")
    create(sdk, source_id="pen", name="Pen", price=100)
    response = http.put("/v1/products/pen", json={"price": "free"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert api(sdk).get_product("pen").price == 100


@pytest.mark.parametrize("force", [None, True])
def test_delete_hides_the_product_and_its_skus(
    sdk: voucherify.ApiClient, force: bool | None
) -> None:
    made = create(sdk, source_id="tv", name="TV")
    sku = create_sku(sdk, made.id, source_id="tv-55", sku="55 inch", price=50000)
    api(sdk).delete_product("tv", force=force)
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_product(made.id)
    assert_error(caught, 404, "not_found", resource_type="product", resource_id=made.id)
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_sku(sku.id)
    assert_error(caught, 404, "not_found", resource_type="sku", resource_id=sku.id)
    assert api(sdk).list_products().total == 0
    # The source_id is free again.
    assert create(sdk, source_id="tv", name="TV 2").id != made.id


def test_delete_unknown_product_is_404(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        api(sdk).delete_product("prod_gone")
    assert_error(caught, 404, "not_found", resource_type="product", resource_id="prod_gone")


def test_shipping_product_exists_in_every_project(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    shipping = api(sdk).get_product("prod_5h1pp1ng")
    assert (shipping.id, shipping.source_id, shipping.name, shipping.object) == (
        "prod_5h1pp1ng",
        "5h1pp1ng",
        "Shipping",
        "product",
    )
    assert api(sdk).get_product("5h1pp1ng").id == "prod_5h1pp1ng"
    response = http.put("/v1/products/prod_5h1pp1ng", json={"name": "Post"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_product")
    response = http.post("/v1/products", json={"source_id": "5h1pp1ng", "name": "Post"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_product")
    response = http.delete("/v1/products/prod_5h1pp1ng")
    assert (response.status_code, response.json()["key"]) == (400, "invalid_product")
    assert api(sdk).list_products().total == 0
    assert api(sdk).get_product("prod_5h1pp1ng").name == "Shipping"


def test_list_is_oldest_first_and_pages(sdk: voucherify.ApiClient, server: ThreadServer) -> None:
    start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    made = []
    for n in range(3):
        server.clock.fixed = start + dt.timedelta(days=n)
        made.append(create(sdk, source_id=f"p{n}", name=f"P{n}", metadata={"n": n}))
    server.clock.reset()
    listed = api(sdk).list_products(limit=2)
    assert (listed.object, listed.data_ref, listed.total) == ("list", "products", 3)
    assert [p.id for p in listed.products] == [made[0].id, made[1].id]
    assert [p.id for p in api(sdk).list_products(limit=2, page=2).products] == [made[2].id]
    newest = api(sdk).list_products(order="-created_at")
    assert [p.id for p in newest.products] == [made[2].id, made[1].id, made[0].id]
    window = api(sdk).list_products(
        start_date=start + dt.timedelta(days=1), end_date=start + dt.timedelta(days=1)
    )
    assert [p.id for p in window.products] == [made[1].id]


def test_list_rejects_an_unknown_order(http: httpx.Client) -> None:
    response = http.get("/v1/products", params={"order": "code"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_query_params")


def test_sku_create_get_update_list_and_show_on_the_product(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    product = create(sdk, source_id="tee", name="Tee", attributes=["size"])
    sku = create_sku(
        sdk,
        "tee",
        source_id="tee-m",
        sku="Tee M",
        price=2500,
        currency="EUR",
        attributes={"size": "M"},
        metadata={"stock": 3},
    )
    assert sku.id.startswith("sku_")
    raw = http.get(f"/v1/skus/{sku.id}").json()
    assert {
        k: raw[k]
        for k in ("source_id", "product_id", "sku", "price", "currency", "attributes", "metadata")
    } == {
        "source_id": "tee-m",
        "product_id": product.id,
        "sku": "Tee M",
        "price": 2500,
        "currency": "EUR",
        "attributes": {"size": "M"},
        "metadata": {"stock": 3},
    }
    assert raw["object"] == "sku"
    assert api(sdk).get_sku("tee-m").id == sku.id
    updated = api(sdk).update_sku(
        "tee", "tee-m", voucherify.ProductsSkusUpdateRequestBody.from_dict({"price": 2700})
    )
    assert (updated.id, updated.price, updated.sku) == (sku.id, 2700, "Tee M")
    second = create_sku(sdk, product.id, sku="Tee L")
    listed = api(sdk).list_skus_in_product("tee")
    assert (listed.object, listed.data_ref, listed.total) == ("list", "skus", 2)
    assert [s.id for s in listed.skus] == [sku.id, second.id]
    shown = api(sdk).get_product("tee").skus
    assert (shown.total, [s.id for s in shown.data]) == (2, [sku.id, second.id])


def test_sku_upsert_by_source_id_updates_and_a_clash_with_another_product_is_409(
    sdk: voucherify.ApiClient,
) -> None:
    create(sdk, source_id="a", name="A")
    create(sdk, source_id="b", name="B")
    sku = create_sku(sdk, "a", source_id="shared", price=1)
    again = create_sku(sdk, "a", source_id="shared", price=2)
    assert (again.id, again.price) == (sku.id, 2)
    with pytest.raises(ApiException) as caught:
        create_sku(sdk, "b", source_id="shared", price=3)
    assert_error(caught, 409, "duplicate_found", resource_type="sku", resource_id="shared")
    assert api(sdk).list_skus_in_product("b").total == 0
    assert api(sdk).get_sku("shared").price == 2


def test_sku_errors_name_the_missing_object(sdk: voucherify.ApiClient) -> None:
    create(sdk, source_id="a", name="A")
    create(sdk, source_id="b", name="B")
    sku = create_sku(sdk, "a", source_id="a-1")
    with pytest.raises(NotFoundException) as caught:
        create_sku(sdk, "ghost", sku="X")
    assert_error(caught, 404, "not_found", resource_type="product", resource_id="ghost")
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_sku("sku_none")
    assert_error(caught, 404, "not_found", resource_type="sku", resource_id="sku_none")
    with pytest.raises(NotFoundException) as caught:
        api(sdk).update_sku("b", sku.id, voucherify.ProductsSkusUpdateRequestBody(price=5))
    assert_error(caught, 404, "not_found", resource_type="sku", resource_id=sku.id)
    with pytest.raises(NotFoundException) as caught:
        api(sdk).delete_sku("b", "a-1")
    assert_error(caught, 404, "not_found", resource_type="sku", resource_id="a-1")
    assert api(sdk).get_sku(sku.id).price is None


def test_sku_with_bad_attributes_is_400(sdk: voucherify.ApiClient, http: httpx.Client) -> None:
    create(sdk, source_id="a", name="A")
    response = http.post("/v1/products/a/skus", json={"sku": "X", "attributes": ["size"]})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert ".attributes" in response.json()["details"]
    assert api(sdk).list_skus_in_product("a").total == 0


@pytest.mark.parametrize("force", [None, True])
def test_sku_delete_hides_it(sdk: voucherify.ApiClient, force: bool | None) -> None:
    create(sdk, source_id="a", name="A")
    sku = create_sku(sdk, "a", source_id="a-1")
    api(sdk).delete_sku("a", sku.id, force=force)
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_sku("a-1")
    assert_error(caught, 404, "not_found", resource_type="sku", resource_id="a-1")
    assert api(sdk).list_skus_in_product("a").total == 0


def test_delete_with_a_bad_force_flag_is_400(sdk: voucherify.ApiClient, http: httpx.Client) -> None:
    create(sdk, source_id="a", name="A")
    response = http.delete("/v1/products/a", params={"force": "maybe"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_query_params")
    assert api(sdk).get_product("a").name == "A"


def test_another_projects_keys_cannot_see_products_or_skus(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database
) -> None:
    create(sdk, source_id="mine", name="Mine")
    sku = create_sku(sdk, "mine", source_id="mine-1")
    with db.write() as conn:
        other = projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
    with voucherify.ApiClient(sdk_configuration(server.url, other)) as client:
        with pytest.raises(NotFoundException):
            voucherify.ProductsApi(client).get_product("mine")
        with pytest.raises(NotFoundException):
            voucherify.ProductsApi(client).get_sku(sku.id)
        assert voucherify.ProductsApi(client).list_products().total == 0
        with pytest.raises(BadRequestException):
            voucherify.ProductsApi(client).update_product(
                "prod_5h1pp1ng", voucherify.ProductsUpdateRequestBody(name="X")
            )
