"""Client-side validate and redeem (``ClientSideApi``): client keys, ``origin`` allow-list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.servers import ThreadServer
from tests.support.stackable import counts, error_of, get_voucher, voucher
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

ORIGIN = "https://shop.example.com"


def api(sdk: voucherify.ApiClient) -> voucherify.ClientSideApi:
    return voucherify.ClientSideApi(sdk)


def one(code: str) -> dict[str, Any]:
    return {"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 10000}}


def client_validate(sdk: voucherify.ApiClient, body: dict[str, Any], origin: str = ORIGIN) -> Any:
    return api(sdk).validate_stacked_discounts_client_side(
        origin, voucherify.ClientValidationsValidateRequestBody.from_dict(body)
    )


def client_redeem(sdk: voucherify.ApiClient, body: dict[str, Any], origin: str = ORIGIN) -> Any:
    return api(sdk).redeem_stacked_discounts_client_side(
        origin, voucherify.ClientRedemptionsRedeemRequestBody.from_dict(body)
    )


def allow_origins(db: Database, project: ProjectKeys, origins: list[str]) -> None:
    with db.write() as conn:
        projects.update_settings(conn, project.id, {"client_origins": origins})


def test_client_validation_answers_like_the_server_one(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    response = client_validate(sdk, {**one(code), "customer": {"source_id": "web-user"}})
    assert response.valid is True
    assert response.inapplicable_redeemables is None
    assert response.skipped_redeemables is None
    assert response.stacking_rules.redeemables_limit == 30
    assert response.order.total_amount == 9000
    assert response.redeemables[0].status == "APPLICABLE"
    assert counts(db, project.id) == {"customers": 0, "orders": 0, "redemptions": 0}


def test_client_redemption_redeems(sdk: voucherify.ApiClient) -> None:
    code = voucher(sdk).code
    response = client_redeem(sdk, {**one(code), "customer": {"source_id": "web-user"}})
    (child,) = response.redemptions
    assert (child.result, child.voucher.code) == ("SUCCESS", code)
    assert child.customer.source_id == "web-user"
    assert response.parent_redemption is None
    assert response.order.total_amount == 9000
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1


def test_client_redemption_failure_is_the_failed_record_envelope(
    sdk: voucherify.ApiClient,
) -> None:
    with pytest.raises(ApiException) as caught:
        client_redeem(sdk, one("NOPE"))
    error = error_of(caught)
    assert (error["code"], error["key"], error["resource_type"]) == (404, "not_found", "redemption")
    record = voucherify.RedemptionsApi(sdk).get_redemption(error["resource_id"])
    assert (record.result, record.failure_code) == ("FAILURE", "not_found")
    code = voucher(sdk, active=False).code
    with pytest.raises(ApiException) as caught:
        client_redeem(sdk, one(code))
    assert error_of(caught)["key"] == "voucher_disabled"


def test_listed_origins_only_when_the_allow_list_is_set(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    allow_origins(db, project, [ORIGIN])
    assert client_validate(sdk, one(code)).valid is True
    for call in (client_validate, client_redeem):
        with pytest.raises(ApiException) as caught:
            call(sdk, one(code), "https://evil.example.com")
        assert (caught.value.status, error_of(caught)["key"]) == (403, "forbidden")
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0
    assert client_redeem(sdk, one(code)).redemptions[0].result == "SUCCESS"


def test_missing_origin_is_refused_when_the_allow_list_is_set(
    server: ThreadServer, db: Database, project: ProjectKeys
) -> None:
    allow_origins(db, project, [ORIGIN])
    headers = {
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
    }
    response = httpx.post(f"{server.url}/client/v1/validations", json=one("X"), headers=headers)
    assert (response.status_code, response.json()["key"]) == (403, "forbidden")


@pytest.mark.parametrize("path", ["/client/v1/validations", "/client/v1/redemptions"])
def test_server_keys_are_refused_on_client_routes(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database, project: ProjectKeys, path: str
) -> None:
    code = voucher(sdk).code
    headers = {"X-App-Id": project.app_id, "X-App-Token": project.app_token, "origin": ORIGIN}
    response = httpx.post(f"{server.url}{path}", json=one(code), headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0
    assert counts(db, project.id)["redemptions"] == 0


def test_client_keys_are_refused_on_server_routes(
    server: ThreadServer, project: ProjectKeys
) -> None:
    headers = {
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
    }
    for path in ("/v1/validations", "/v1/redemptions"):
        response = httpx.post(f"{server.url}{path}", json=one("X"), headers=headers)
        assert response.status_code == 401


def test_client_redemption_honours_idempotency_keys(
    server: ThreadServer, sdk: voucherify.ApiClient, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    headers = {
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
        "origin": ORIGIN,
        "Idempotency-Key": "client-1",
    }
    url = f"{server.url}/client/v1/redemptions"
    first = httpx.post(url, json=one(code), headers=headers)
    again = httpx.post(url, json=one(code), headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json()
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 1


def test_client_redemption_can_be_switched_off_per_project(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk).code
    with db.write() as conn:
        projects.update_settings(conn, project.id, {"client_redemption_enabled": False})
    with pytest.raises(ApiException) as caught:
        client_redeem(sdk, one(code))
    assert (caught.value.status, error_of(caught)["key"]) == (403, "forbidden")
    assert client_validate(sdk, one(code)).valid is True
    assert get_voucher(sdk, code).redemption.redeemed_quantity == 0
