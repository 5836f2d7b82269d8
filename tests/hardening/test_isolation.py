"""Projects are sealed from each other, and each key kind opens only its own API.

The matrix lists every ``/v1`` and ``/management/v1`` operation in the OpenAPI document
(generated from the app's routes), so a new route fails ``test_matrix_covers_every_route``
until someone states what another project's keys must get from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.openapi import operations
from tests.support.rows import count_rows
from tests.support.servers import ThreadServer
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys


@dataclass(frozen=True)
class Case:
    """What project B's keys get from one operation aimed at project A's objects."""

    status: int | tuple[int, ...] = 404
    body: dict[str, Any] | list[Any] | None = None
    listing: bool = False


LIST = Case(status=200, listing=True)
NF = Case()

# "{name}" placeholders are project A's objects (see `world`).
MATRIX: dict[str, Case] = {
    "POST /v1/redemptions": Case(
        404, {"redeemables": [{"object": "voucher", "id": "{code}"}], "order": {"amount": 100}}
    ),
    "GET /v1/redemptions": LIST,
    "GET /v1/redemptions/{redemption_id}": NF,
    "POST /v1/redemptions/{redemption_id}/rollback": NF,
    "POST /v1/redemptions/{redemption_id}/rollbacks": NF,
    "GET /v1/vouchers/{code}/redemption": NF,
    "POST /v1/validations": Case(
        200, {"redeemables": [{"object": "voucher", "id": "{code}"}], "order": {"amount": 100}}
    ),
    "GET /v1/vouchers": LIST,
    "POST /v1/vouchers": Case(404, {"campaign_id": "{campaign_id}"}),
    "POST /v1/vouchers/{code}": Case(
        200, {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1}}
    ),
    "GET /v1/vouchers/{code}": NF,
    "PUT /v1/vouchers/{code}": Case(404, {"active": False}),
    "DELETE /v1/vouchers/{code}": NF,
    "POST /v1/vouchers/{code}/enable": NF,
    "POST /v1/vouchers/{code}/disable": NF,
    "POST /v1/vouchers/{code}/balance": Case(404, {"amount": 100}),
    "POST /v1/vouchers/import": Case(404, [{"code": "B-1", "campaign_id": "{campaign_id}"}]),
    "POST /v1/campaigns/{campaign_id}/import": Case(404, [{"code": "B-2"}]),
    "GET /v1/campaigns/{campaign_id}/summary": NF,
    "GET /v1/vouchers/{code}/transactions": NF,
    "DELETE /v1/vouchers/{code}/sessions/{session_key}": NF,
    "GET /v1/campaigns": LIST,
    "POST /v1/campaigns": Case(
        200,
        {
            "name": "{campaign_name}",
            "campaign_type": "DISCOUNT_COUPONS",
            "voucher": {
                "type": "DISCOUNT_VOUCHER",
                "discount": {"type": "AMOUNT", "amount_off": 1},
            },
        },
    ),
    "GET /v1/campaigns/{campaign_id}": NF,
    "PUT /v1/campaigns/{campaign_id}": Case(404, {"description": "taken over"}),
    "DELETE /v1/campaigns/{campaign_id}": NF,
    "POST /v1/campaigns/{campaign_id}/enable": NF,
    "POST /v1/campaigns/{campaign_id}/disable": NF,
    "POST /v1/campaigns/{campaign_id}/vouchers": NF,
    "POST /v1/campaigns/{campaign_id}/vouchers/{code}": NF,
    "GET /v1/promotions/tiers": LIST,
    "GET /v1/promotions/tiers/{tier_id}": NF,
    "PUT /v1/promotions/tiers/{tier_id}": Case(404, {"name": "taken over"}),
    "DELETE /v1/promotions/tiers/{tier_id}": NF,
    "POST /v1/promotions/tiers/{tier_id}/enable": NF,
    "POST /v1/promotions/tiers/{tier_id}/disable": NF,
    "POST /v1/promotions/{campaign_id}/tiers": Case(
        404, {"name": "T2", "action": {"discount": {"type": "AMOUNT", "amount_off": 1}}}
    ),
    "GET /v1/promotions/{campaign_id}/tiers": NF,
    "GET /v1/promotions/stacks": LIST,
    "POST /v1/promotions/{campaign_id}/stacks": Case(
        404, {"name": "S", "tiers": {"ids": ["{tier_id}"]}}
    ),
    "GET /v1/promotions/{campaign_id}/stacks": NF,
    "GET /v1/promotions/{campaign_id}/stacks/{stack_id}": NF,
    "PUT /v1/promotions/{campaign_id}/stacks/{stack_id}": Case(404, {"name": "taken over"}),
    "DELETE /v1/promotions/{campaign_id}/stacks/{stack_id}": NF,
    "GET /v1/customers": LIST,
    "POST /v1/customers": Case(404, {"id": "{customer_id}", "name": "taken over"}),
    "GET /v1/customers/{customer_id}": NF,
    "PUT /v1/customers/{customer_id}": Case(404, {"name": "taken over"}),
    "DELETE /v1/customers/{customer_id}": NF,
    "GET /v1/products": LIST,
    "POST /v1/products": Case(404, {"id": "{product_id}", "name": "taken over"}),
    "GET /v1/products/{product_id}": NF,
    "PUT /v1/products/{product_id}": Case(404, {"name": "taken over"}),
    "DELETE /v1/products/{product_id}": NF,
    "POST /v1/products/{product_id}/skus": Case(404, {"sku": "S2"}),
    "GET /v1/products/{product_id}/skus": NF,
    "PUT /v1/products/{product_id}/skus/{sku_id}": Case(404, {"sku": "taken over"}),
    "DELETE /v1/products/{product_id}/skus/{sku_id}": NF,
    "GET /v1/skus/{sku_id}": NF,
    "GET /v1/orders": LIST,
    "POST /v1/orders": Case(404, {"id": "{order_id}", "status": "CANCELED"}),
    "GET /v1/orders/{order_id}": NF,
    "PUT /v1/orders/{order_id}": Case(404, {"status": "CANCELED"}),
    "GET /v1/categories": LIST,
    "POST /v1/categories": Case(200, {"name": "Mine", "hierarchy": 1}),
    "GET /v1/categories/{category_id}": NF,
    "PUT /v1/categories/{category_id}": Case(404, {"name": "taken over", "hierarchy": 2}),
    "DELETE /v1/categories/{category_id}": NF,
    "GET /v1/validation-rules": LIST,
    "POST /v1/validation-rules": Case(200, {"name": "Mine", "rules": {"logic": ""}}),
    "GET /v1/validation-rules-assignments": LIST,
    "GET /v1/validation-rules/{rule_id}": NF,
    "PUT /v1/validation-rules/{rule_id}": Case(404, {"name": "taken over"}),
    "DELETE /v1/validation-rules/{rule_id}": NF,
    "POST /v1/validation-rules/{rule_id}/assignments": Case(
        404, {"related_object_type": "voucher", "related_object_id": "{voucher_id}"}
    ),
    # An unknown rule simply has no assignments (empty list, not 404).
    "GET /v1/validation-rules/{rule_id}/assignments": LIST,
    "DELETE /v1/validation-rules/{rule_id}/assignments/{assignment_id}": NF,
    "GET /v1/rewards": LIST,
    "POST /v1/rewards": Case(
        200, {"name": "Mine", "parameters": {"coin": {"exchange_ratio": 1, "points_ratio": 1}}}
    ),
    "GET /v1/rewards/{reward_id}": NF,
    "PUT /v1/rewards/{reward_id}": Case(404, {"name": "taken over"}),
    "DELETE /v1/rewards/{reward_id}": NF,
    "POST /v1/rewards/{reward_id}/assignments": Case(
        404, {"campaign": "{loyalty_id}", "parameters": {"loyalty": {"points": 1}}}
    ),
    "GET /v1/rewards/{reward_id}/assignments": NF,
    "GET /v1/rewards/{reward_id}/assignments/{assignment_id}": NF,
    "PUT /v1/rewards/{reward_id}/assignments/{assignment_id}": Case(
        404, {"parameters": {"loyalty": {"points": 2}}}
    ),
    "DELETE /v1/rewards/{reward_id}/assignments/{assignment_id}": NF,
    "POST /v1/loyalties": Case(200, {"name": "b-loyalty"}),
    "GET /v1/loyalties": LIST,
    "GET /v1/loyalties/{campaign_id}": NF,
    "PUT /v1/loyalties/{campaign_id}": Case(404, {"description": "taken over"}),
    "DELETE /v1/loyalties/{campaign_id}": NF,
    "GET /v1/loyalties/{campaign_id}/members": NF,
    "POST /v1/loyalties/{campaign_id}/members": Case(404, {"customer": {"source_id": "b"}}),
    "GET /v1/loyalties/{campaign_id}/members/{member_id}": NF,
    "POST /v1/loyalties/{campaign_id}/members/{member_id}/balance": Case(404, {"points": 5}),
    "GET /v1/loyalties/members/{member_id}": NF,
    "POST /v1/loyalties/members/{member_id}/balance": Case(404, {"points": 5}),
    "GET /management/v1/projects/{project_id}/stacking-rules": NF,
    "POST /management/v1/projects/{project_id}/stacking-rules": Case(404, {}),
    "GET /management/v1/projects/{project_id}/stacking-rules/{stacking_rules_id}": NF,
    "PUT /management/v1/projects/{project_id}/stacking-rules/{stacking_rules_id}": Case(
        404, {"redeemables_limit": 2}
    ),
    "DELETE /management/v1/projects/{project_id}/stacking-rules/{stacking_rules_id}": NF,
}

# Some paths carry two different kinds of `assignment_id`.
ASSIGNMENT_OF = {
    "/v1/validation-rules/": "rule_assignment_id",
    "/v1/rewards/": "reward_assignment_id",
}


def test_matrix_covers_every_route() -> None:
    assert set(operations(("/v1/", "/management/v1/"))) == set(MATRIX)


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, f"{response.request.url}: {response.text[:400]}"
    result: dict[str, Any] = response.json()
    return result


def server_client(server: ThreadServer, keys: ProjectKeys) -> httpx.Client:
    headers = {
        "X-App-Id": keys.app_id,
        "X-App-Token": keys.app_token,
        "X-Management-Id": keys.app_id,
        "X-Management-Token": keys.app_token,
    }
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def build_world(a: httpx.Client, keys: ProjectKeys) -> dict[str, str]:
    """One of each object in project A; returns the ids the matrix fills in."""
    w: dict[str, str] = {"project_id": keys.id, "code": "ISO-1"}
    voucher = ok(
        a.post(
            "/v1/vouchers/ISO-1",
            json={
                "type": "DISCOUNT_VOUCHER",
                "discount": {"type": "AMOUNT", "amount_off": 100},
                "redemption": {"quantity": 10},
            },
        )
    )
    w["voucher_id"] = voucher["id"]
    campaign = ok(
        a.post(
            "/v1/campaigns",
            json={
                "name": f"iso-{uuid.uuid4().hex[:6]}",
                "campaign_type": "DISCOUNT_COUPONS",
                "vouchers_count": 1,
                "voucher": {
                    "type": "DISCOUNT_VOUCHER",
                    "discount": {"type": "AMOUNT", "amount_off": 1},
                },
            },
        )
    )
    w["campaign_id"], w["campaign_name"] = campaign["id"], campaign["name"]
    promo = ok(
        a.post(
            "/v1/campaigns",
            json={
                "name": f"promo-{uuid.uuid4().hex[:6]}",
                "campaign_type": "PROMOTION",
                "promotion": {
                    "tiers": [
                        {"name": "T", "action": {"discount": {"type": "AMOUNT", "amount_off": 5}}}
                    ]
                },
            },
        )
    )
    tiers = ok(a.get(f"/v1/promotions/{promo['id']}/tiers"))["tiers"]
    w["tier_id"] = tiers[0]["id"]
    w["stack_id"] = ok(
        a.post(
            f"/v1/promotions/{promo['id']}/stacks",
            json={"name": "S", "tiers": {"ids": [w["tier_id"]]}},
        )
    )["id"]
    loyalty = ok(
        a.post(
            "/v1/campaigns",
            json={
                "name": f"loyal-{uuid.uuid4().hex[:6]}",
                "campaign_type": "LOYALTY_PROGRAM",
                "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": 0}},
            },
        )
    )
    w["loyalty_id"] = loyalty["id"]
    w["customer_id"] = ok(a.post("/v1/customers", json={"source_id": "iso-c", "name": "C"}))["id"]
    w["product_id"] = ok(a.post("/v1/products", json={"name": "P", "price": 100}))["id"]
    w["sku_id"] = ok(a.post(f"/v1/products/{w['product_id']}/skus", json={"sku": "S"}))["id"]
    w["order_id"] = ok(a.post("/v1/orders", json={"source_id": "iso-o", "amount": 500}))["id"]
    w["category_id"] = ok(a.post("/v1/categories", json={"name": "Cat", "hierarchy": 1}))["id"]
    w["rule_id"] = ok(a.post("/v1/validation-rules", json={"name": "R", "rules": {"logic": ""}}))[
        "id"
    ]
    w["rule_assignment_id"] = ok(
        a.post(
            f"/v1/validation-rules/{w['rule_id']}/assignments",
            json={"related_object_type": "campaign", "related_object_id": w["campaign_id"]},
        )
    )["id"]
    w["reward_id"] = ok(
        a.post(
            "/v1/rewards",
            json={
                "name": "Coins",
                "parameters": {"coin": {"exchange_ratio": 1, "points_ratio": 1}},
            },
        )
    )["id"]
    w["reward_assignment_id"] = ok(
        a.post(
            f"/v1/rewards/{w['reward_id']}/assignments",
            json={"campaign": w["loyalty_id"], "parameters": {"loyalty": {"points": 1}}},
        )
    )["id"]
    w["stacking_rules_id"] = ok(
        a.post(f"/management/v1/projects/{keys.id}/stacking-rules", json={"redeemables_limit": 5})
    )["id"]
    redeemed = ok(
        a.post(
            "/v1/redemptions",
            json={"redeemables": [{"object": "voucher", "id": "ISO-1"}], "order": {"amount": 900}},
        )
    )
    w["redemption_id"] = redeemed["redemptions"][0]["id"]
    w["member_id"] = ok(
        a.post(
            f"/v1/loyalties/{w['loyalty_id']}/members", json={"customer": {"id": w["customer_id"]}}
        )
    )["code"]
    w["session_key"] = "ssn-iso"
    ok(
        a.post(
            "/v1/validations",
            json={
                "redeemables": [{"object": "voucher", "id": "ISO-1"}],
                "order": {"amount": 900},
                "session": {"type": "LOCK", "key": w["session_key"]},
            },
        )
    )
    stacked = ok(
        a.post(
            "/v1/redemptions",
            json={
                "redeemables": [
                    {"object": "voucher", "id": "ISO-1"},
                    {"object": "promotion_tier", "id": w["tier_id"]},
                ],
                "order": {"amount": 900},
            },
        )
    )
    w["parent_redemption_id"] = stacked["parent_redemption"]["id"]
    return w


def fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, world) for v in value]
    return value


# Paths whose `redemption_id` must be a stacked parent.
PARENT_PATHS = {"/v1/redemptions/{redemption_id}/rollbacks"}


def resolve_path(path: str, world: dict[str, str]) -> str:
    names = dict(world)
    if path in PARENT_PATHS:
        names["redemption_id"] = world["parent_redemption_id"]
    for prefix, key in ASSIGNMENT_OF.items():
        if path.startswith(prefix):
            names["assignment_id"] = world[key]
    return path.format(**names)


def reads_of(world: dict[str, str]) -> list[str]:
    """GETs that show project A's objects (compared before and after the matrix)."""
    return [
        "/v1/vouchers/{code}",
        "/v1/campaigns/{campaign_id}",
        "/v1/promotions/tiers/{tier_id}",
        "/v1/customers/{customer_id}",
        "/v1/products/{product_id}",
        "/v1/skus/{sku_id}",
        "/v1/orders/{order_id}",
        "/v1/categories/{category_id}",
        "/v1/validation-rules/{rule_id}",
        "/v1/rewards/{reward_id}",
        "/v1/redemptions/{redemption_id}",
        "/v1/redemptions/{parent_redemption_id}",
        "/v1/vouchers/{code}/redemption",
        "/management/v1/projects/{project_id}/stacking-rules/{stacking_rules_id}",
    ]


@pytest.fixture
def other(db: Database) -> ProjectKeys:
    with db.write() as conn:
        return projects.create_project(conn, f"other-{uuid.uuid4().hex[:10]}")


@pytest.fixture
def clients(
    server: ThreadServer, project: ProjectKeys, other: ProjectKeys
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with server_client(server, project) as a, server_client(server, other) as b:
        yield a, b


def test_another_projects_keys_find_nothing_and_change_nothing(
    clients: tuple[httpx.Client, httpx.Client], db: Database, project: ProjectKeys
) -> None:
    a, b = clients
    world = build_world(a, project)
    reads = [resolve_path(path, world) for path in reads_of(world)]
    before_rows = count_rows(db, project.id)
    before = {path: ok(a.get(path)) for path in reads}
    secrets = [v for k, v in world.items() if k != "project_id"]
    # Operations that legitimately create in B (e.g. the same voucher code) go last, so
    # B's own new objects cannot answer the probes aimed at A's.
    ordered = sorted(
        operations(("/v1/", "/management/v1/")), key=lambda op: MATRIX[op].status == 200
    )
    for operation in ordered:
        method, path = operation.split(" ", 1)
        case = MATRIX[operation]
        body = fill(case.body, world) if case.body is not None else None
        url = resolve_path(path, world)
        response = b.request(method, url, json=body)
        allowed = case.status if isinstance(case.status, tuple) else (case.status,)
        assert response.status_code in allowed, f"{operation}: {response.text[:300]}"
        if response.status_code == 404:
            assert response.json()["key"] == "not_found", operation
        # A 404 echoes the identifier it was sent; anything else of A's is a leak.
        sent = url + str(body)
        leaked = [s for s in secrets if s in response.text and s not in sent]
        assert not leaked, f"{operation} shows project A's {leaked}"
    assert count_rows(db, project.id) == before_rows
    assert {path: ok(a.get(path)) for path in reads} == before


def test_client_keys_open_no_server_or_management_route(
    server: ThreadServer, project: ProjectKeys
) -> None:
    as_client = {
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
    }
    as_server_headers = {
        "X-App-Id": project.client_app_id,
        "X-App-Token": project.client_token,
        "X-Management-Id": project.client_app_id,
        "X-Management-Token": project.client_token,
    }
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for operation in operations(("/v1/", "/management/v1/")):
            method, path = operation.split(" ", 1)
            url = path.replace("{project_id}", project.id).replace("{", "x").replace("}", "")
            for headers in (as_client, as_server_headers):
                response = http.request(method, url, headers=headers, json={})
                assert response.status_code == 401, operation
                assert response.json()["key"] == "unauthorized"


def test_server_keys_do_not_open_client_routes(server: ThreadServer, project: ProjectKeys) -> None:
    server_pair = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    as_client = {"X-Client-Application-Id": project.app_id, "X-Client-Token": project.app_token}
    client_ops = operations(("/client/v1/",))
    assert client_ops == ["POST /client/v1/redemptions", "POST /client/v1/validations"]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for operation in client_ops:
            method, path = operation.split(" ", 1)
            for headers in (server_pair, as_client):
                body = {"redeemables": [{"object": "voucher", "id": "X"}]}
                response = http.request(method, path, headers=headers, json=body)
                assert response.status_code == 401, operation


@pytest.mark.parametrize(
    ("origin", "status"),
    [("https://shop.example", 200), ("https://evil.example", 403), (None, 403)],
)
def test_origins_outside_a_non_empty_allow_list_are_refused(
    server: ThreadServer, db: Database, project: ProjectKeys, origin: str | None, status: int
) -> None:
    with db.write() as conn:
        projects.update_settings(conn, project.id, {"client_origins": ["https://shop.example"]})
    headers = {
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
    }
    if origin:
        headers["Origin"] = origin
    before = count_rows(db, project.id)
    body = {"redeemables": [{"object": "voucher", "id": "NOPE"}], "order": {"amount": 1}}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        validation = http.post("/client/v1/validations", json=body)
        redemption = http.post("/client/v1/redemptions", json=body)
    assert validation.status_code == status
    if status == 403:
        assert redemption.status_code == 403
        assert redemption.json()["key"] == "forbidden"
        assert count_rows(db, project.id) == before
    else:
        assert redemption.status_code == 404  # reached the pipeline: unknown code
