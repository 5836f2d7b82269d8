"""Vouchers through the official SDK: create, read, update, enable/disable, delete, list."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.conftest import sdk_configuration
from tests.support.servers import ThreadServer
from voucherd.store import ids, projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys
from voucherd.store.schema import categories, validation_rules

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def api(sdk: voucherify.ApiClient) -> voucherify.VouchersApi:
    return voucherify.VouchersApi(sdk)


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def make_rule(db: Database, project: ProjectKeys) -> str:
    """A validation rule row (the validation-rules API lives in another slice)."""
    rule_id = ids.new_id("val")
    with db.write() as conn:
        conn.execute(
            validation_rules.insert().values(
                id=rule_id,
                project_id=project.id,
                name="rule",
                data={"rules": {"logic": ""}},
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    return rule_id


def make_category(db: Database, project: ProjectKeys, name: str) -> str:
    cat_id = ids.new_id("cat")
    with db.write() as conn:
        conn.execute(
            categories.insert().values(
                id=cat_id,
                project_id=project.id,
                name=name,
                hierarchy=1,
                created_at=dt.datetime.now(dt.UTC),
            )
        )
    return cat_id


def create(sdk: voucherify.ApiClient, code: str, **body: Any) -> Any:
    return api(sdk).create_voucher(
        code, voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(body)
    )


PERCENT = {"type": "PERCENT", "percent_off": 12.5, "effect": "APPLY_TO_ORDER"}


def test_random_code_voucher_is_standalone_with_8_alphanumeric_characters(
    sdk: voucherify.ApiClient,
) -> None:
    created = api(sdk).generate_random_code(
        voucherify.VouchersCreateRequestBody.from_dict(
            {"type": "DISCOUNT_VOUCHER", "discount": PERCENT}
        )
    )
    assert re.fullmatch(r"[0-9A-Za-z]{8}", created.code)
    assert created.id.startswith("v_")
    assert created.campaign is None
    assert created.campaign_id is None
    assert created.type == "DISCOUNT_VOUCHER"
    assert created.discount.percent_off == 12.5
    assert created.active is True
    assert created.object == "voucher"
    assert created.redemption.quantity is None
    assert created.redemption.redeemed_quantity == 0
    assert created.redemption.object == "list"
    assert created.redemption.url == f"/v1/vouchers/{created.code}/redemptions?page=1&limit=10"
    assert (created.publish.object, created.publish.count) == ("list", 0)
    assert created.metadata == {}
    assert created.is_referral_code is False


def test_code_config_pattern_and_prefix_shape_the_generated_code(
    sdk: voucherify.ApiClient,
) -> None:
    created = api(sdk).generate_random_code(
        voucherify.VouchersCreateRequestBody.from_dict(
            {"code_config": {"pattern": "SUM-####", "charset": "0123456789", "prefix": "X"}}
        )
    )
    assert re.fullmatch(r"XSUM-\d{4}", created.code)


def test_create_with_code_in_body_uses_that_code(sdk: voucherify.ApiClient) -> None:
    created = api(sdk).generate_random_code(
        voucherify.VouchersCreateRequestBody.from_dict({"code": "GIVEN-1"})
    )
    assert created.code == "GIVEN-1"
    assert api(sdk).get_voucher("GIVEN-1").id == created.id


def test_gift_voucher_reports_amount_and_balance(sdk: voucherify.ApiClient) -> None:
    created = create(
        sdk,
        "GIFT-1",
        type="GIFT_VOUCHER",
        gift={"amount": 10000, "effect": "APPLY_TO_ITEMS"},
        redemption={"quantity": 3},
    )
    assert created.type == "GIFT_VOUCHER"
    assert created.gift.amount == 10000
    assert created.gift.balance == 10000
    assert created.gift.subtracted_amount == 0
    assert created.gift.effect == "APPLY_TO_ITEMS"
    assert created.discount is None
    assert created.redemption.quantity == 3


def test_loyalty_card_without_campaign_is_invalid_voucher(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    with pytest.raises(ApiException) as caught:
        create(sdk, "CARD-1", type="LOYALTY_CARD", loyalty_card={"points": 100})
    body = error_of(caught)
    assert (body["code"], body["key"]) == (400, "invalid_voucher")
    assert http.get("/v1/vouchers/CARD-1").status_code == 404


def test_voucher_with_every_field_round_trips(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    cat_id = make_category(db, project, "Summer")
    created = create(
        sdk,
        "FULL-1",
        category_id=cat_id,
        discount={"type": "AMOUNT", "amount_off": 1000, "effect": "APPLY_TO_ITEMS"},
        start_date="2030-01-01",
        expiration_date="2030-02-01T10:00:00+02:00",
        validity_timeframe={"interval": "P2D", "duration": "PT1H"},
        validity_day_of_week=[1, 2, 3],
        additional_info="info",
        metadata={"seq": 1, "tag": "a"},
        active=False,
    )
    got = api(sdk).get_voucher("FULL-1")
    for voucher in (created, got):
        assert voucher.category_id == cat_id
        assert voucher.category == "Summer"
        assert [c.id for c in voucher.categories] == [cat_id]
        assert voucher.categories[0].name == "Summer"
        assert voucher.discount.amount_off == 1000
        assert voucher.start_date.isoformat() == "2030-01-01T00:00:00+00:00"
        assert voucher.expiration_date.isoformat() == "2030-02-01T08:00:00+00:00"
        assert voucher.validity_timeframe.interval == "P2D"
        assert voucher.validity_day_of_week == [1, 2, 3]
        assert voucher.additional_info == "info"
        assert voucher.metadata == {"seq": 1, "tag": "a"}
        assert voucher.active is False


def test_get_by_id_equals_get_by_code(sdk: voucherify.ApiClient) -> None:
    created = create(sdk, "BYID-1", discount=PERCENT)
    by_id = api(sdk).get_voucher(created.id)
    assert by_id.code == "BYID-1"
    assert by_id.validation_rules_assignments.total == 0
    assert by_id.validation_rules_assignments.data_ref == "data"


def test_validation_rules_on_create_become_assignments(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    rule_id = make_rule(db, project)
    created = create(sdk, "RULED-1", discount=PERCENT, validation_rules=[rule_id])
    got = api(sdk).get_voucher("RULED-1")
    assert got.validation_rules_assignments.total == 1
    assignment = got.validation_rules_assignments.data[0]
    assert assignment.id.startswith("asgm_")
    assert assignment.rule_id == rule_id
    assert assignment.related_object_id == created.id
    assert assignment.related_object_type == "voucher"
    assert assignment.object == "validation_rules_assignment"


def test_unknown_validation_rule_is_404_and_creates_nothing(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    with pytest.raises(ApiException) as caught:
        create(sdk, "RULED-2", validation_rules=["val_missing"])
    body = error_of(caught)
    assert (body["key"], body["resource_type"], body["resource_id"]) == (
        "not_found",
        "validation_rules",
        "val_missing",
    )
    assert http.get("/v1/vouchers/RULED-2").status_code == 404


def test_duplicate_code_is_409_and_keeps_the_original(sdk: voucherify.ApiClient) -> None:
    create(sdk, "DUP-1", metadata={"first": True})
    with pytest.raises(ApiException) as caught:
        create(sdk, "DUP-1", metadata={"first": False})
    body = error_of(caught)
    assert (body["code"], body["key"]) == (409, "duplicate_found")
    assert (body["resource_type"], body["resource_id"]) == ("voucher", "DUP-1")
    assert api(sdk).get_voucher("DUP-1").metadata == {"first": True}


def test_unknown_voucher_is_404_envelope(sdk: voucherify.ApiClient) -> None:
    for call in (
        lambda: api(sdk).get_voucher("NOPE"),
        lambda: api(sdk).enable_voucher("NOPE"),
        lambda: api(sdk).disable_voucher("NOPE"),
        lambda: api(sdk).delete_voucher("NOPE"),
        lambda: api(sdk).update_voucher("NOPE", voucherify.VouchersUpdateRequestBody(active=True)),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        body = error_of(caught)
        assert (body["code"], body["key"]) == (404, "not_found")
        assert (body["resource_type"], body["resource_id"]) == ("voucher", "NOPE")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"type": "COUPON"}, ".type"),
        ({"discount": {"type": "HALF"}}, ".discount.type"),
        ({"discount": {"type": "AMOUNT", "effect": "APPLY_TO_ANYTHING"}}, ".discount.effect"),
        ({"redemption": {"quantity": "many"}}, ".redemption.quantity"),
        ({"validity_day_of_week": [7]}, ".validity_day_of_week[0]"),
        ({"metadata": "not-an-object"}, ".metadata"),
    ],
)
def test_bad_types_and_enums_are_invalid_payload(
    http: httpx.Client, body: dict[str, Any], fragment: str
) -> None:
    response = http.post("/v1/vouchers/BAD-1", json=body)
    assert response.status_code == 400
    envelope = response.json()
    assert envelope["key"] == "invalid_payload"
    assert fragment in envelope["details"]
    assert http.get("/v1/vouchers/BAD-1").status_code == 404


def test_bad_date_is_invalid_payload(http: httpx.Client) -> None:
    response = http.post("/v1/vouchers/BAD-2", json={"start_date": "next tuesday"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_payload"
    assert "start_date" in response.json()["details"]


def test_update_changes_only_the_given_fields(sdk: voucherify.ApiClient) -> None:
    create(sdk, "UPD-1", discount=PERCENT, metadata={"a": 1}, additional_info="keep")
    updated = api(sdk).update_voucher(
        "UPD-1",
        voucherify.VouchersUpdateRequestBody.from_dict(
            {
                "metadata": {"b": 2},
                "expiration_date": "2031-01-01T00:00:00Z",
                "discount": {"type": "AMOUNT", "amount_off": 500},
            }
        ),
    )
    assert updated.metadata == {"b": 2}
    assert updated.additional_info == "keep"
    assert updated.discount.type == "AMOUNT"
    assert updated.discount.amount_off == 500
    assert updated.expiration_date.isoformat() == "2031-01-01T00:00:00+00:00"
    assert updated.updated_at is not None
    assert api(sdk).get_voucher("UPD-1").metadata == {"b": 2}


def test_update_sets_the_redemption_limit(http: httpx.Client) -> None:
    http.post("/v1/vouchers/LIM-1", json={})
    response = http.put("/v1/vouchers/LIM-1", json={"redemption": {"quantity": 5}})
    assert response.status_code == 200
    assert response.json()["redemption"]["quantity"] == 5


def test_disable_and_enable_flip_active(sdk: voucherify.ApiClient) -> None:
    create(sdk, "FLIP-1")
    assert api(sdk).disable_voucher("FLIP-1").active is False
    assert api(sdk).get_voucher("FLIP-1").active is False
    assert api(sdk).enable_voucher("FLIP-1").active is True
    assert api(sdk).get_voucher("FLIP-1").active is True


def test_deleted_voucher_is_gone_and_its_code_reusable(
    sdk: voucherify.ApiClient, http: httpx.Client
) -> None:
    first = create(sdk, "DEL-1")
    assert api(sdk).delete_voucher("DEL-1") is None
    assert http.get("/v1/vouchers/DEL-1").status_code == 404
    assert http.get(f"/v1/vouchers/{first.id}").status_code == 404
    assert api(sdk).list_vouchers(code="DEL-1").total == 0
    again = create(sdk, "DEL-1")
    assert again.id != first.id
    assert api(sdk).list_vouchers(code="DEL-1").total == 1


def test_forced_delete_answers_204(sdk: voucherify.ApiClient, http: httpx.Client) -> None:
    create(sdk, "DEL-2")
    response = http.delete("/v1/vouchers/DEL-2", params={"force": "true"})
    assert response.status_code == 204
    assert response.content == b""
    assert http.get("/v1/vouchers/DEL-2").status_code == 404


def test_another_project_cannot_see_the_voucher(
    sdk: voucherify.ApiClient, server: ThreadServer, db: Database
) -> None:
    create(sdk, "MINE-1")
    with db.write() as conn:
        other = projects.create_project(conn, f"other-{uuid.uuid4().hex[:8]}")
    with voucherify.ApiClient(sdk_configuration(server.url, other)) as client:
        with pytest.raises(ApiException) as caught:
            voucherify.VouchersApi(client).get_voucher("MINE-1")
        assert caught.value.status == 404
        assert voucherify.VouchersApi(client).list_vouchers().total == 0
        # The same code is free in the other project.
        assert create(client, "MINE-1").code == "MINE-1"


def test_list_is_newest_first_and_pages(sdk: voucherify.ApiClient) -> None:
    for n in range(3):
        create(sdk, f"LST-{n}")
    listed = api(sdk).list_vouchers(limit=2)
    assert listed.object == "list"
    assert listed.data_ref == "vouchers"
    assert listed.total == 3
    assert [v.code for v in listed.vouchers] == ["LST-2", "LST-1"]
    assert [v.code for v in api(sdk).list_vouchers(limit=2, page=2).vouchers] == ["LST-0"]
    assert [v.code for v in api(sdk).list_vouchers(order="code").vouchers] == [
        "LST-0",
        "LST-1",
        "LST-2",
    ]


def test_list_filters_by_code_ids_category_and_metadata(
    sdk: voucherify.ApiClient, http: httpx.Client, db: Database, project: ProjectKeys
) -> None:
    cat_id = make_category(db, project, "Winter")
    a = create(sdk, "F-A", metadata={"seq": 1, "color": "red"}, category_id=cat_id)
    b = create(sdk, "F-B", metadata={"seq": 2, "color": "blue"})
    assert [v.code for v in api(sdk).list_vouchers(code="F-B").vouchers] == ["F-B"]
    assert [v.code for v in api(sdk).list_vouchers(category="Winter").vouchers] == ["F-A"]
    assert [v.code for v in api(sdk).list_vouchers(category=cat_id).vouchers] == ["F-A"]
    assert sorted(v.code for v in api(sdk).list_vouchers(ids=[a.id, b.id]).vouchers) == [
        "F-A",
        "F-B",
    ]
    by_meta = http.get(
        "/v1/vouchers", params={"filters[metadata.seq][conditions][$is]": "2"}
    ).json()
    assert [v["code"] for v in by_meta["vouchers"]] == ["F-B"]
    by_color = http.get(
        "/v1/vouchers", params={"filters[metadata.color][conditions][$in]": "['red']"}
    ).json()
    assert [v["code"] for v in by_color["vouchers"]] == ["F-A"]


def test_list_rejects_page_100(http: httpx.Client) -> None:
    response = http.get("/v1/vouchers", params={"page": "100"})
    assert response.status_code == 400
    assert response.json()["key"] == "invalid_query_params"


def test_list_filters_by_created_at(sdk: voucherify.ApiClient) -> None:
    created = create(sdk, "DATE-1")
    before = api(sdk).list_vouchers(
        created_at=voucherify.ParameterCreatedBeforeAfter(before=created.created_at)
    )
    after = api(sdk).list_vouchers(
        created_at=voucherify.ParameterCreatedBeforeAfter(
            after=created.created_at.replace(year=2000)
        )
    )
    assert before.total == 0
    assert [v.code for v in after.vouchers] == ["DATE-1"]


def test_timestamps_are_utc_milliseconds_with_z(http: httpx.Client) -> None:
    body = http.post("/v1/vouchers/TS-1", json={"start_date": "2030-01-01"}).json()
    assert TIMESTAMP.match(body["created_at"])
    assert body["start_date"] == "2030-01-01T00:00:00.000Z"
    assert body["updated_at"] is None


def test_list_filters_by_holder_id_or_source_id(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    from voucherd.store.schema import customers, vouchers

    create(sdk, "HELD-1")
    create(sdk, "FREE-1")
    holder = ids.new_id("cust")
    with db.write() as conn:
        conn.execute(
            customers.insert().values(
                id=holder,
                project_id=project.id,
                source_id="alice",
                data={},
                created_at=dt.datetime.now(dt.UTC),
            )
        )
        conn.execute(
            vouchers.update()
            .where(vouchers.c.project_id == project.id, vouchers.c.code == "HELD-1")
            .values(holder_id=holder)
        )
    assert [v.code for v in api(sdk).list_vouchers(customer=holder).vouchers] == ["HELD-1"]
    assert [v.code for v in api(sdk).list_vouchers(customer="alice").vouchers] == ["HELD-1"]
    assert api(sdk).list_vouchers(customer="nobody").total == 0
    assert api(sdk).get_voucher("HELD-1").holder_id == holder
