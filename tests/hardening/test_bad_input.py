"""Bad input never writes: every refused request leaves the project's rows as they were.

Each case counts the project's rows in every table before and after (tests/support/rows.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.rows import count_rows
from tests.support.servers import ThreadServer
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

GOOD_REDEEM = {
    "redeemables": [{"object": "voucher", "id": "BAD-IN"}],
    "order": {"source_id": "o-1", "amount": 1000},
}


@pytest.fixture
def voucher(http: httpx.Client) -> dict[str, object]:
    """A 10%-off voucher BAD-IN with 5 redemptions, in the test's project."""
    body = {
        "type": "DISCOUNT_VOUCHER",
        "discount": {"type": "PERCENT", "percent_off": 10},
        "redemption": {"quantity": 5},
    }
    response = http.post("/v1/vouchers/BAD-IN", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def nested(depth: int) -> dict[str, object]:
    """``{"metadata": {"a": {"a": ... 1}}}`` with ``depth`` object levels in total."""
    value: object = 1
    for _ in range(depth - 2):
        value = {"a": value}
    return {**GOOD_REDEEM, "metadata": value}


def with_order(**changes: object) -> dict[str, object]:
    return {**GOOD_REDEEM, "order": {**GOOD_REDEEM["order"], **changes}}  # type: ignore[dict-item]


BAD_BODIES: dict[str, tuple[bytes, int, str]] = {
    "malformed_json": (b'{"redeemables": [', 400, "invalid_payload"),
    "not_an_object": (b"[1, 2]", 400, "invalid_payload"),
    "bare_string": (b'"redeem"', 400, "invalid_payload"),
    "nan_literal": (b'{"redeemables": NaN}', 400, "invalid_payload"),
    "invalid_utf8": (b'{"tracking_id": "\xff\xfe"}', 400, "invalid_payload"),
    "empty_body": (b"", 400, "invalid_payload"),
    "redeemables_not_a_list": (b'{"redeemables": "BAD-IN"}', 400, "invalid_payload"),
    "redeemables_empty": (b'{"redeemables": []}', 400, "invalid_payload"),
    "unknown_redeemable_object": (
        json.dumps({"redeemables": [{"object": "gift_card", "id": "BAD-IN"}]}).encode(),
        400,
        "invalid_payload",
    ),
    "redeemable_id_is_a_number": (
        json.dumps({"redeemables": [{"object": "voucher", "id": 12}]}).encode(),
        400,
        "invalid_payload",
    ),
    "too_many_redeemables": (
        json.dumps(
            {"redeemables": [{"object": "voucher", "id": f"C{i}"} for i in range(31)]}
        ).encode(),
        400,
        "invalid_payload",
    ),
    "negative_amount": (json.dumps(with_order(amount=-1)).encode(), 400, "invalid_payload"),
    "fractional_amount": (json.dumps(with_order(amount=10.5)).encode(), 400, "invalid_payload"),
    "amount_is_text": (json.dumps(with_order(amount="lots")).encode(), 400, "invalid_payload"),
    "amount_is_bool_object": (
        json.dumps(with_order(amount={"v": 1})).encode(),
        400,
        "invalid_payload",
    ),
    "negative_gift_credits": (
        json.dumps(
            {"redeemables": [{"object": "voucher", "id": "BAD-IN", "gift": {"credits": -5}}]}
        ).encode(),
        400,
        "invalid_payload",
    ),
    "negative_item_quantity": (
        json.dumps(with_order(items=[{"source_id": "p", "quantity": -2, "price": 10}])).encode(),
        400,
        "invalid_payload",
    ),
    "ten_thousand_items": (
        json.dumps(
            with_order(items=[{"source_id": f"p{i}", "quantity": 1} for i in range(10_000)])
        ).encode(),
        400,
        "invalid_payload",
    ),
    "items_not_objects": (json.dumps(with_order(items=[1, 2])).encode(), 400, "invalid_payload"),
    "huge_code": (
        json.dumps({"redeemables": [{"object": "voucher", "id": "Z" * 1_000_000}]}).encode(),
        404,
        "not_found",
    ),
    "nested_too_deep": (json.dumps(nested(40)).encode(), 400, "invalid_payload"),
    "bad_session_type": (
        json.dumps({**GOOD_REDEEM, "session": {"type": "FOREVER"}}).encode(),
        400,
        "invalid_payload",
    ),
}


@pytest.mark.usefixtures("voucher")
@pytest.mark.parametrize("case", sorted(BAD_BODIES))
@pytest.mark.parametrize("path", ["/v1/redemptions", "/v1/validations"])
def test_bad_stackable_body_is_refused_and_writes_nothing(
    http: httpx.Client, db: Database, project: ProjectKeys, path: str, case: str
) -> None:
    raw, status, key = BAD_BODIES[case]
    before = count_rows(db, project.id)
    response = http.post(path, content=raw, headers={"Content-Type": "application/json"})
    if key == "not_found" and path == "/v1/validations":
        # Validation reports an unknown code as an invalid redeemable, not an error.
        assert (response.status_code, response.json()["valid"]) == (200, False)
    else:
        assert (response.status_code, response.json()["key"]) == (status, key), response.text[:500]
        assert response.json()["code"] == status
    after = count_rows(db, project.id)
    if key == "not_found" and path == "/v1/redemptions":
        # An unknown code on redeem is recorded as one failed redemption (BEHAVIOR §3.3).
        assert after == {**before, "redemptions": before["redemptions"] + 1}
    else:
        assert after == before
    voucher = http.get("/v1/vouchers/BAD-IN").json()
    assert voucher["redemption"]["redeemed_quantity"] == 0


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/orders", {"items": [{"source_id": f"p{i}", "quantity": 1} for i in range(501)]}),
        ("/v1/orders", {"amount": -100}),
        ("/v1/orders", {"amount": 99.5}),
        ("/v1/customers", {"source_id": "c", "address": "not an object"}),
        ("/v1/customers", {"source_id": ["a", "list"]}),
        ("/v1/vouchers", {"type": "DISCOUNT_VOUCHER", "discount": {"type": "NOPE"}}),
        ("/v1/vouchers/BAD-2", {"type": "GIFT_VOUCHER", "gift": {"amount": -1}}),
        ("/v1/categories", {"name": "c", "hierarchy": "one"}),
        ("/v1/products", {"name": "p", "price": 12.5}),
    ],
)
def test_bad_resource_body_is_refused_and_writes_nothing(
    http: httpx.Client, db: Database, project: ProjectKeys, path: str, body: dict[str, object]
) -> None:
    before = count_rows(db, project.id)
    response = http.post(path, json=body)
    assert response.status_code == 400, response.text[:500]
    assert response.json()["code"] == 400
    assert count_rows(db, project.id) == before


def test_order_of_exactly_500_items_is_accepted(http: httpx.Client) -> None:
    items = [{"source_id": f"p{i}", "quantity": 1, "price": 1} for i in range(500)]
    response = http.post("/v1/orders", json={"source_id": "big", "items": items})
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["items"]) == 500


@pytest.mark.usefixtures("voucher")
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_json_body_under_another_content_type_is_read_as_json(
    http: httpx.Client, content_type: str | None
) -> None:
    """Decision: the content type is not consulted; ``curl -d`` users get what they sent."""
    headers = {"Content-Type": content_type} if content_type else {}
    raw = json.dumps(GOOD_REDEEM).encode()
    response = http.post("/v1/validations", content=raw, headers=headers)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["valid"] is True


@pytest.mark.usefixtures("voucher")
def test_form_encoded_body_is_invalid_payload_and_writes_nothing(
    http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    before = count_rows(db, project.id)
    response = http.post("/v1/redemptions", data={"redeemables": "BAD-IN"})
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert count_rows(db, project.id) == before


@pytest.fixture
def small_limits_server(server: ThreadServer) -> Iterator[ThreadServer]:
    """A second server over the same database with a 2 KiB body limit and depth 6."""
    srv = ThreadServer(
        database_url=server.database_url,
        db=server.db,
        settings={"max_body_bytes": 2048, "max_json_depth": 6},
    )
    srv.start()
    yield srv
    srv.stop()


def chunks(raw: bytes, size: int = 512) -> Iterator[bytes]:
    """The body as a generator: httpx sends it chunked, without Content-Length."""
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


@pytest.mark.usefixtures("voucher")
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_body_over_the_configured_limit_is_413_and_writes_nothing(
    small_limits_server: ThreadServer, db: Database, project: ProjectKeys, chunked: bool
) -> None:
    raw = json.dumps({**GOOD_REDEEM, "metadata": {"pad": "x" * 4096}}).encode()
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    before = count_rows(db, project.id)
    with httpx.Client(base_url=small_limits_server.url, headers=headers, timeout=30) as client:
        response = client.post("/v1/redemptions", content=chunks(raw) if chunked else raw)
        assert response.status_code == 413
        body = response.json()
        assert (body["code"], body["key"]) == (413, "payload_too_large")
        assert body["request_id"].startswith("v-")
        assert count_rows(db, project.id) == before
        # Just under the limit still works on the same server.
        small = json.dumps(GOOD_REDEEM).encode()
        ok = client.post("/v1/validations", content=chunks(small) if chunked else small)
        assert ok.status_code == 200, ok.text


@pytest.mark.usefixtures("voucher")
def test_configured_depth_limit_applies(
    small_limits_server: ThreadServer, db: Database, project: ProjectKeys
) -> None:
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    before = count_rows(db, project.id)
    with httpx.Client(base_url=small_limits_server.url, headers=headers, timeout=30) as client:
        deep = client.post("/v1/redemptions", json=nested(7))
        assert (deep.status_code, deep.json()["key"]) == (400, "invalid_payload")
        assert "nested deeper than 6" in deep.json()["details"]
        assert count_rows(db, project.id) == before
        assert client.post("/v1/validations", json=nested(6)).status_code == 200


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"name": "a\u0000b", "hierarchy": 1}, "NUL character"),
        ({"name": "c", "hierarchy": 1, "metadata": {"k\u0000": 1}}, "NUL character"),
        ({"name": "c", "hierarchy": 2**53}, "integer beyond"),
        ({"name": "c", "hierarchy": 2**31}, "must be <= 2147483647"),
    ],
)
def test_values_no_store_can_keep_are_invalid_payload(
    http: httpx.Client, db: Database, project: ProjectKeys, body: dict[str, object], problem: str
) -> None:
    """Found by fuzzing on PostgreSQL: NULs and huge integers used to be 500s there."""
    before = count_rows(db, project.id)
    response = http.post("/v1/categories", json=body)
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert problem in response.json()["details"]
    assert count_rows(db, project.id) == before


@pytest.mark.parametrize(
    ("url", "status", "key"),
    [
        ("/v1/vouchers/A%00B", 404, "not_found"),
        ("/v1/customers/%00", 404, "not_found"),
        ("/v1/vouchers?campaign=%00", 400, "invalid_query_params"),
        ("/v1/customers?email=a%00", 400, "invalid_query_params"),
    ],
)
def test_nul_in_path_or_query_is_refused(
    http: httpx.Client, url: str, status: int, key: str
) -> None:
    response = http.get(url)
    assert (response.status_code, response.json()["key"]) == (status, key), response.text


def test_a_campaign_of_millions_of_codes_is_refused_before_any_work(
    http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    """Found by fuzzing: generation ran inside the write lock and stalled every writer."""
    body = {
        "name": "huge",
        "campaign_type": "DISCOUNT_COUPONS",
        "vouchers_count": 5_000_000,
        "voucher": {"type": "DISCOUNT_VOUCHER", "discount": {"type": "AMOUNT", "amount_off": 1}},
    }
    before = count_rows(db, project.id)
    response = http.post("/v1/campaigns", json=body)
    assert (response.status_code, response.json()["key"]) == (400, "invalid_payload")
    assert "must be <= 100000" in response.json()["details"]
    assert count_rows(db, project.id) == before
