"""Orders through the official SDK: upsert, catalogue pricing, amounts, list (BEHAVIOR.md §7, §15)."""

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


def api(sdk: voucherify.ApiClient) -> voucherify.OrdersApi:
    return voucherify.OrdersApi(sdk)


def create(sdk: voucherify.ApiClient, **fields: Any) -> Any:
    return api(sdk).create_order(voucherify.OrdersCreateRequestBody.from_dict(fields))


def update(sdk: voucherify.ApiClient, order_id: str, **fields: Any) -> Any:
    return api(sdk).update_order(order_id, voucherify.OrdersUpdateRequestBody.from_dict(fields))


def assert_error(
    caught: pytest.ExceptionInfo[ApiException], status: int, key: str, **resource: str
) -> None:
    body = json.loads(caught.value.body)
    assert (caught.value.status, body["code"], body["key"]) == (status, status, key)
    for name, value in resource.items():
        assert body[name] == value


def catalogue(sdk: voucherify.ApiClient) -> tuple[Any, Any]:
    products = voucherify.ProductsApi(sdk)
    shoe = products.create_product(
        voucherify.ProductsCreateRequestBody.from_dict(
            {"source_id": "shoe", "name": "Shoe", "price": 2000, "metadata": {"brand": "X"}}
        )
    )
    sku = products.create_sku(
        shoe.id,
        voucherify.ProductsSkusCreateRequestBody.from_dict(
            {"source_id": "shoe-42", "sku": "Shoe 42", "price": 2500, "metadata": {"size": 42}}
        ),
    )
    return shoe, sku


def test_create_prices_items_from_the_catalogue_and_computes_amounts(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    shoe, sku = catalogue(sdk)
    order = create(
        sdk,
        source_id="o-1",
        items=[
            {"product_id": shoe.id, "quantity": 2},
            {"source_id": "shoe-42", "related_object": "sku", "quantity": 1},
            {"source_id": "gift-wrap", "related_object": "product", "quantity": 1, "price": 300},
        ],
        metadata={"channel": "web"},
    )
    assert order.id.startswith("ord_")
    assert (order.status, order.object, order.source_id) == ("CREATED", "order", "o-1")
    raw = http.get(f"/v1/orders/{order.id}").json()
    assert {k: raw[k] for k in raw if k.endswith("amount")} == {
        "amount": 6800,
        "initial_amount": 6800,
        "discount_amount": 0,
        "items_discount_amount": 0,
        "total_discount_amount": 0,
        "total_amount": 6800,
        "applied_discount_amount": 0,
        "items_applied_discount_amount": 0,
        "total_applied_discount_amount": 0,
    }
    assert (raw["redemptions"], raw["metadata"], raw["customer"]) == ({}, {"channel": "web"}, None)
    first, second, third = raw["items"]
    assert all(item["id"].startswith("ordli_") for item in raw["items"])
    assert {k: first[k] for k in ("object", "related_object", "product_id", "source_id")} == {
        "object": "order_item",
        "related_object": "product",
        "product_id": shoe.id,
        "source_id": "shoe",
    }
    assert (first["quantity"], first["price"], first["amount"], first["subtotal_amount"]) == (
        2,
        2000,
        4000,
        4000,
    )
    assert first["product"] == {
        "id": shoe.id,
        "source_id": "shoe",
        "name": "Shoe",
        "price": 2000,
        "metadata": {"brand": "X"},
    }
    assert (second["sku_id"], second["product_id"], second["price"], second["amount"]) == (
        sku.id,
        shoe.id,
        2500,
        2500,
    )
    assert second["sku"] == {
        "id": sku.id,
        "source_id": "shoe-42",
        "sku": "Shoe 42",
        "price": 2500,
        "metadata": {"size": 42},
    }
    assert second["product"]["name"] == "Shoe"
    assert (third["product_id"], third["source_id"], third["amount"]) == (None, "gift-wrap", 300)
    assert "product" not in third


def test_a_shipping_line_resolves_to_the_reserved_shipping_product(
    sdk: voucherify.ApiClient,
) -> None:
    order = create(
        sdk,
        items=[{"source_id": "5h1pp1ng", "related_object": "product", "quantity": 1, "price": 990}],
    )
    line = order.items[0]
    assert (line.product_id, line.source_id, line.amount, order.amount) == (
        "prod_5h1pp1ng",
        "5h1pp1ng",
        990,
        990,
    )
    assert (line.product.id, line.product.name, line.product.price) == (
        "prod_5h1pp1ng",
        "Shipping",
        None,
    )


def test_given_amounts_win_over_computed_ones(sdk: voucherify.ApiClient) -> None:
    shoe, _ = catalogue(sdk)
    order = create(
        sdk,
        amount=1000,
        items=[{"product_id": shoe.id, "quantity": 3, "amount": 5000}],
    )
    assert (order.amount, order.total_amount, order.items[0].amount) == (1000, 1000, 5000)


def test_item_product_prices_keep_their_json_type(http: httpx.Client) -> None:
    response = http.post(
        "/v1/orders",
        json={
            "items": [
                {"source_id": "a", "quantity": 1, "product": {"price": 1500}},
                {"source_id": "b", "quantity": 2, "product": {"price": 10.5}},
            ]
        },
    )
    assert response.status_code == 200
    first, second = response.json()["items"]
    assert (first["product"]["price"], first["price"], first["amount"]) == (1500, 1500, 1500)
    assert isinstance(first["product"]["price"], int)
    # A fractional payload price rounds half up to minor units for the line.
    assert (second["product"]["price"], second["price"], second["amount"]) == (10.5, 11, 22)


def test_an_order_without_amount_or_items_has_null_amounts(sdk: voucherify.ApiClient) -> None:
    order = create(sdk, source_id="empty")
    assert (order.status, order.amount, order.initial_amount, order.total_amount) == (
        "CREATED",
        None,
        None,
        None,
    )
    assert (order.items, order.discount_amount, order.total_discount_amount) == ([], 0, 0)


def test_numeric_string_quantities_are_accepted(http: httpx.Client) -> None:
    response = http.post(
        "/v1/orders", json={"items": [{"source_id": "x", "quantity": "3", "price": 100}]}
    )
    assert response.status_code == 200
    item = response.json()["items"][0]
    assert (item["quantity"], item["amount"], response.json()["amount"]) == (3, 300, 300)


def test_payload_product_data_prices_the_order_but_needs_override_to_persist(
    sdk: voucherify.ApiClient,
) -> None:
    shoe, _ = catalogue(sdk)
    products = voucherify.ProductsApi(sdk)
    order = create(
        sdk,
        items=[{"product_id": shoe.id, "quantity": 1, "product": {"price": 1500, "name": "Sale"}}],
    )
    assert (order.amount, order.items[0].price, order.items[0].product.name) == (1500, 1500, "Sale")
    assert (products.get_product(shoe.id).price, products.get_product(shoe.id).name) == (
        2000,
        "Shoe",
    )
    create(
        sdk,
        items=[{"source_id": "shoe", "quantity": 1, "product": {"price": 1800, "override": True}}],
    )
    assert products.get_product("shoe").price == 1800
    created = create(
        sdk,
        items=[
            {
                "quantity": 1,
                "product": {"source_id": "new-hat", "name": "Hat", "price": 700, "override": True},
            }
        ],
    )
    hat = products.get_product("new-hat")
    assert (hat.name, hat.price, created.items[0].product_id) == ("Hat", 700, hat.id)


def test_sku_override_updates_or_creates_the_sku_under_its_product(
    sdk: voucherify.ApiClient,
) -> None:
    shoe, sku = catalogue(sdk)
    create(
        sdk,
        items=[
            {"sku_id": sku.id, "quantity": 1, "sku": {"price": 2600, "override": True}},
            {
                "product_id": shoe.id,
                "related_object": "sku",
                "quantity": 1,
                "sku": {"source_id": "shoe-44", "sku": "Shoe 44", "price": 2700, "override": True},
            },
        ],
    )
    products = voucherify.ProductsApi(sdk)
    assert products.get_sku(sku.id).price == 2600
    new = products.get_sku("shoe-44")
    assert (new.product_id, new.sku, new.price) == (shoe.id, "Shoe 44", 2700)


def test_create_with_a_known_source_id_updates_that_order(sdk: voucherify.ApiClient) -> None:
    first = create(sdk, source_id="o-9", items=[{"source_id": "a", "quantity": 1, "price": 100}])
    again = create(sdk, source_id="o-9", status="PAID", metadata={"paid": True})
    assert (again.id, again.status, again.amount, again.metadata) == (
        first.id,
        "PAID",
        100,
        {"paid": True},
    )
    assert again.items[0].id == first.items[0].id
    assert again.updated_at is not None
    assert api(sdk).list_orders().total == 1


def test_create_with_an_unknown_id_is_404_and_creates_nothing(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        create(sdk, id="ord_missing", amount=100)
    assert_error(caught, 404, "not_found", resource_type="order", resource_id="ord_missing")
    assert api(sdk).list_orders().total == 0


def test_get_by_source_id_and_unknown_order_is_404(sdk: voucherify.ApiClient) -> None:
    made = create(sdk, source_id="o-2", amount=100)
    assert api(sdk).get_order("o-2").id == made.id
    with pytest.raises(NotFoundException) as caught:
        api(sdk).get_order("o-3")
    assert_error(caught, 404, "not_found", resource_type="order", resource_id="o-3")


def test_update_replaces_items_and_recomputes_the_amount(sdk: voucherify.ApiClient) -> None:
    made = create(sdk, source_id="o-4", items=[{"source_id": "a", "quantity": 1, "price": 100}])
    updated = update(
        sdk,
        "o-4",
        status="FULFILLED",
        items=[{"source_id": "b", "quantity": 2, "price": 150}],
        source_id="o-other",
    )
    assert (updated.id, updated.source_id, updated.status, updated.amount) == (
        made.id,
        "o-4",
        "FULFILLED",
        300,
    )
    assert [i.source_id for i in updated.items] == ["b"]
    status_only = update(sdk, made.id, status="CANCELED")
    assert (status_only.status, status_only.amount, len(status_only.items)) == ("CANCELED", 300, 1)


def test_update_unknown_order_is_404(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(NotFoundException) as caught:
        update(sdk, "ord_none", status="PAID")
    assert_error(caught, 404, "not_found", resource_type="order", resource_id="ord_none")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"status": "SHIPPED"}, ".status"),
        ({"amount": "lots"}, ".amount"),
        ({"items": [{"source_id": "a", "related_object": "bundle"}]}, ".items[0].related_object"),
        ({"items": [{"source_id": "a", "quantity": "1.5"}]}, ".items[0].quantity"),
    ],
)
def test_update_with_bad_values_is_400_and_changes_nothing(
    sdk: voucherify.ApiClient, http: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    create(sdk, source_id="o-5", amount=100)
    response = http.put("/v1/orders/o-5", json=body)
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert fragment in response.json()["details"]
    stored = api(sdk).get_order("o-5")
    assert (stored.status, stored.amount, stored.items, stored.updated_at) == (
        "CREATED",
        100,
        [],
        None,
    )


def test_more_than_500_items_is_400_and_creates_nothing(http: httpx.Client) -> None:
    items = [{"source_id": f"p{n}", "quantity": 1, "price": 1} for n in range(501)]
    response = http.post("/v1/orders", json={"source_id": "big", "items": items})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert ".items" in response.json()["details"]
    assert http.get("/v1/orders").json()["total"] == 0
    assert http.post("/v1/orders", json={"items": items[:500]}).json()["amount"] == 500


def test_order_customer_is_upserted_and_paid_orders_count_in_its_summary(
    sdk: voucherify.ApiClient,
) -> None:
    created = create(
        sdk,
        amount=1000,
        customer={"source_id": "buyer", "name": "Buyer", "metadata": {"vip": True}},
    )
    customer = voucherify.CustomersApi(sdk).get_customer("buyer")
    assert (created.customer_id, created.customer.id, created.customer.object) == (
        customer.id,
        customer.id,
        "customer",
    )
    assert (customer.name, customer.metadata) == ("Buyer", {"vip": True})
    assert customer.summary.orders.total_count == 0
    paid = create(sdk, amount=3000, status="PAID", customer={"id": customer.id})
    create(sdk, amount=2000, status="FULFILLED", customer={"source_id": "buyer"})
    orders = voucherify.CustomersApi(sdk).get_customer("buyer").summary.orders
    assert (orders.total_amount, orders.total_count, orders.average_amount) == (5000, 2, 2500)
    assert orders.last_order_amount == 2000
    update(sdk, paid.id, status="CANCELED")
    orders = voucherify.CustomersApi(sdk).get_customer("buyer").summary.orders
    assert (orders.total_amount, orders.total_count) == (2000, 1)


def test_unknown_customer_id_on_an_order_is_404_and_creates_nothing(
    sdk: voucherify.ApiClient,
) -> None:
    with pytest.raises(NotFoundException) as caught:
        create(sdk, source_id="o-6", amount=1, customer={"id": "cust_ghost"})
    assert_error(caught, 404, "not_found", resource_type="customer", resource_id="cust_ghost")
    assert api(sdk).list_orders().total == 0


def test_list_is_oldest_first_and_filters(
    sdk: voucherify.ApiClient, server: ThreadServer, http: httpx.Client
) -> None:
    start = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    made = []
    for n, status in enumerate(["CREATED", "PAID", "PAID"]):
        server.clock.fixed = start + dt.timedelta(hours=n)
        made.append(create(sdk, amount=100 * (n + 1), status=status, metadata={"n": n}))
    server.clock.reset()
    listed = api(sdk).list_orders(limit=2)
    assert (listed.object, listed.data_ref, listed.total) == ("list", "orders", 3)
    assert [o.id for o in listed.orders] == [made[0].id, made[1].id]
    assert [o.id for o in api(sdk).list_orders(order="-created_at").orders] == [
        made[2].id,
        made[1].id,
        made[0].id,
    ]
    paid = http.get("/v1/orders", params={"filters[status][conditions][$is]": "PAID"}).json()
    assert [o["id"] for o in paid["orders"]] == [made[1].id, made[2].id]
    rich = http.get(
        "/v1/orders",
        params={
            "filters[amount][conditions][$more_than]": "150",
            "filters[metadata.n][conditions][$is]": "2",
        },
    ).json()
    assert [o["id"] for o in rich["orders"]] == [made[2].id]
    bad = http.get("/v1/orders", params={"order": "amount"})
    assert (bad.status_code, bad.json()["key"]) == (400, "invalid_query_params")


def test_another_projects_keys_cannot_see_the_order(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database
) -> None:
    made = create(sdk, source_id="mine", amount=1)
    with db.write() as conn:
        other = projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
    with voucherify.ApiClient(sdk_configuration(server.url, other)) as client:
        with pytest.raises(NotFoundException) as caught:
            voucherify.OrdersApi(client).get_order(made.id)
        assert_error(caught, 404, "not_found", resource_type="order", resource_id=made.id)
        assert voucherify.OrdersApi(client).list_orders().total == 0
