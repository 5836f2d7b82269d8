"""Reading redemptions through the official SDK: get, the voucher's history, the list."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.redeeming import discount_voucher, error_of, gift_card, redeem, voucher
from tests.support.servers import ThreadServer


def api(sdk: voucherify.ApiClient) -> voucherify.RedemptionsApi:
    return voucherify.RedemptionsApi(sdk)


def campaign_code(sdk: voucherify.ApiClient, name: str) -> tuple[str, str]:
    """A one-voucher discount campaign: (campaign id, code)."""
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": name,
                "campaign_type": "DISCOUNT_COUPONS",
                "vouchers_count": 1,
                "voucher": {
                    "type": "DISCOUNT_VOUCHER",
                    "discount": {"type": "AMOUNT", "amount_off": 500},
                },
            }
        )
    )
    listed = voucherify.VouchersApi(sdk).list_vouchers(campaign_id=campaign.id)
    return campaign.id, listed.vouchers[0].code


@pytest.fixture
def history(sdk: voucherify.ApiClient) -> dict[str, Any]:
    """Four records: ONE (annie), a stack ONE+GIFT (bob) = parent + 2 children, a failed TWO."""
    discount_voucher(sdk, "ONE", quantity=5)
    discount_voucher(sdk, "TWO", quantity=0)
    gift_card(sdk, "GIFT", amount=5000)
    single = redeem(sdk, [voucher("ONE")], customer={"source_id": "annie"})
    stacked = redeem(
        sdk,
        [voucher("ONE"), voucher("GIFT", gift={"credits": 700})],
        customer={"source_id": "bob"},
        order={"source_id": "order-bob"},
    )
    with pytest.raises(ApiException) as caught:
        redeem(sdk, [voucher("TWO")], customer={"source_id": "annie"})
    failed = error_of(caught)
    return {
        "single": single.redemptions[0].id,
        "parent": stacked.parent_redemption.id,
        "children": [c.id for c in stacked.redemptions],
        "failed": failed["resource_id"],
        "annie": single.redemptions[0].customer_id,
    }


def test_get_returns_success_parent_child_and_failed_records(
    sdk: voucherify.ApiClient, history: dict[str, Any]
) -> None:
    single = api(sdk).get_redemption(history["single"])
    assert (single.object, single.result, single.status) == ("redemption", "SUCCESS", "SUCCEEDED")
    assert single.voucher.code == "ONE"
    assert single.redemption is None
    parent = api(sdk).get_redemption(history["parent"])
    assert (parent.related_object_type, parent.related_object_id) == ("redemption", parent.id)
    assert [r.id for r in parent.related_redemptions.redemptions] == history["children"]
    gift_child = api(sdk).get_redemption(history["children"][1])
    assert gift_child.redemption == history["parent"]
    assert (gift_child.amount, gift_child.gift.amount) == (700, 700)
    failed = api(sdk).get_redemption(history["failed"])
    assert history["failed"].startswith("rf_")
    assert (failed.result, failed.status, failed.failure_code) == (
        "FAILURE",
        "FAILED",
        "quantity_exceeded",
    )


def test_get_unknown_redemption_is_404(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        api(sdk).get_redemption("r_nope")
    body = error_of(caught)
    assert (body["key"], body["resource_type"], body["resource_id"]) == (
        "not_found",
        "redemption",
        "r_nope",
    )


def test_voucher_history_lists_every_entry_newest_first(
    sdk: voucherify.ApiClient, history: dict[str, Any]
) -> None:
    one = api(sdk).get_voucher_redemptions("ONE")
    assert (one.quantity, one.redeemed_quantity, one.total) == (5, 2, 2)
    assert (one.object, one.data_ref) == ("list", "redemption_entries")
    assert one.url == "/v1/vouchers/ONE/redemption?page=1&limit=10"
    assert [e.id for e in one.redemption_entries] == [history["children"][0], history["single"]]
    two = api(sdk).get_voucher_redemptions("TWO")
    # Failed redemptions are entries but do not count as redeemed.
    assert (two.quantity, two.redeemed_quantity, two.total) == (0, 0, 1)
    assert [e.id for e in two.redemption_entries] == [history["failed"]]


def test_voucher_history_of_unknown_voucher_is_404(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        api(sdk).get_voucher_redemptions("NOPE")
    assert error_of(caught)["resource_type"] == "voucher"


def test_voucher_history_pages_when_asked(http: httpx.Client, history: dict[str, Any]) -> None:
    body = http.get("/v1/vouchers/ONE/redemption", params={"limit": 1, "page": 2}).json()
    assert body["total"] == 2
    assert [e["id"] for e in body["redemption_entries"]] == [history["single"]]


def all_ids(history: dict[str, Any]) -> list[str]:
    """Every record, newest first (records of one request share a date; ids break ties)."""
    stacked = sorted([history["parent"], *history["children"]], reverse=True)
    return [history["failed"], *stacked, history["single"]]


def test_list_is_newest_first_with_total(
    sdk: voucherify.ApiClient, history: dict[str, Any]
) -> None:
    listed = api(sdk).list_redemptions()
    assert (listed.object, listed.data_ref, listed.total) == ("list", "redemptions", 5)
    assert [r.id for r in listed.redemptions] == all_ids(history)


def test_list_pages_are_stable(sdk: voucherify.ApiClient, history: dict[str, Any]) -> None:
    pages = [api(sdk).list_redemptions(limit=2, page=p) for p in (1, 2, 3, 4)]
    assert [r.id for p in pages for r in p.redemptions] == all_ids(history)
    assert [p.total for p in pages] == [5, 5, 5, 5]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"result": "FAILURE"}, ["failed"]),
        ({"customer": "annie"}, ["failed", "single"]),
        ({"customer": "nobody"}, []),
    ],
)
def test_list_shortcuts(
    sdk: voucherify.ApiClient,
    history: dict[str, Any],
    params: dict[str, str],
    expected: list[str],
) -> None:
    listed = api(sdk).list_redemptions(**params)
    assert [r.id for r in listed.redemptions] == [history[k] for k in expected]
    assert listed.total == len(expected)


def test_list_customer_by_id_and_repeated_result(
    http: httpx.Client, history: dict[str, Any]
) -> None:
    by_id = http.get("/v1/redemptions", params={"customer": history["annie"]}).json()
    assert [r["id"] for r in by_id["redemptions"]] == [history["failed"], history["single"]]
    both = http.get("/v1/redemptions", params=[("result", "SUCCESS"), ("result", "FAILURE")])
    assert both.json()["total"] == 5


def test_list_customer_id_wins_over_a_source_id_that_spells_it(
    http: httpx.Client, sdk: voucherify.ApiClient, history: dict[str, Any]
) -> None:
    # Another customer whose source_id is annie's id: the id still names annie.
    shadow = redeem(sdk, [voucher("ONE")], customer={"source_id": history["annie"]})
    listed = http.get("/v1/redemptions", params={"customer": history["annie"]}).json()
    assert [r["id"] for r in listed["redemptions"]] == [history["failed"], history["single"]]
    assert listed["total"] == 2
    by_shadow = http.get(
        "/v1/redemptions", params={"customer": shadow.redemptions[0].customer_id}
    ).json()
    assert [r["id"] for r in by_shadow["redemptions"]] == [shadow.redemptions[0].id]


def test_list_by_campaign_name(sdk: voucherify.ApiClient) -> None:
    campaign_id, code = campaign_code(sdk, "Autumn")
    discount_voucher(sdk, "LOOSE")
    made = redeem(sdk, [voucher(code)])
    redeem(sdk, [voucher("LOOSE")])
    listed = api(sdk).list_redemptions(campaign="Autumn")
    assert [r.id for r in listed.redemptions] == [made.redemptions[0].id]
    assert listed.redemptions[0].voucher.campaign_id == campaign_id
    filtered = api(sdk).list_redemptions(
        filters=voucherify.ParameterFiltersListRedemptions.from_dict(
            {"related_object_parent_id": {"conditions": {"$is": campaign_id}}}
        )
    )
    assert [r.id for r in filtered.redemptions] == [made.redemptions[0].id]
    by_name = api(sdk).list_redemptions(
        filters=voucherify.ParameterFiltersListRedemptions.from_dict(
            {"campaign_name": {"conditions": {"$is": "Autumn"}}}
        )
    )
    assert by_name.total == 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"voucher_code": {"conditions": {"$is": "GIFT"}}}, ["gift_child"]),
        ({"failure_code": {"conditions": {"$is": "quantity_exceeded"}}}, ["failed"]),
        ({"result": {"conditions": {"$in": ["FAILURE"]}}}, ["failed"]),
        ({"object": {"conditions": {"$is": "redemption_rollback"}}}, []),
        ({"parent_redemption_id": {"conditions": {"$is": "PARENT"}}}, ["children"]),
        (
            {
                "junction": "or",
                "voucher_code": {"conditions": {"$is": "TWO"}},
                "failure_code": {"conditions": {"$is": "nothing"}},
                "customer_id": {"conditions": {"$is": "ANNIE"}},
            },
            ["failed", "single"],
        ),
        ({"user_login": {"conditions": {"$is_unknown": ""}}}, ["all"]),
    ],
)
def test_list_filters_through_the_sdk_model(
    sdk: voucherify.ApiClient,
    history: dict[str, Any],
    filters: dict[str, Any],
    expected: list[str],
) -> None:
    text = json.dumps(filters).replace("PARENT", history["parent"])
    model = voucherify.ParameterFiltersListRedemptions.from_dict(
        json.loads(text.replace("ANNIE", history["annie"]))
    )
    listed = api(sdk).list_redemptions(filters=model)
    names = {
        "gift_child": [history["children"][1]],
        "children": sorted(history["children"], reverse=True),
        "all": all_ids(history),
    }
    want = [i for k in expected for i in names.get(k, [history.get(k)])]
    assert [r.id for r in listed.redemptions] == want


@pytest.mark.parametrize(
    "order", ["created_at", "-created_at", "id", "-id", "voucher_code", "-customer_id"]
)
def test_list_order_keys(http: httpx.Client, history: dict[str, Any], order: str) -> None:
    body = http.get("/v1/redemptions", params={"order": order, "limit": 100}).json()
    records = body["redemptions"]
    assert len(records) == 5
    name = order.lstrip("-")

    def key(record: dict[str, Any]) -> tuple[str, str]:
        if name == "voucher_code":
            return ((record.get("voucher") or {}).get("code") or "", record["id"])
        return (record["date" if name == "created_at" else name] or "", record["id"])

    # NULL voucher codes (the parent) sort first on SQLite and last on PostgreSQL.
    keyed = [r for r in records if name != "voucher_code" or r.get("voucher")]
    assert keyed == sorted(keyed, key=key, reverse=order.startswith("-"))


def test_bad_order_and_paging_are_400(http: httpx.Client) -> None:
    for params in ({"order": "amount"}, {"limit": 101}, {"page": 100}, {"result": "MAYBE"}):
        response = http.get("/v1/redemptions", params=params)
        assert response.status_code == 400, params
        assert response.json()["key"] == "invalid_query_params"


def test_created_at_ranges_in_both_iso_forms(
    sdk: voucherify.ApiClient, server: ThreadServer, http: httpx.Client
) -> None:
    discount_voucher(sdk, "OLD")
    server.clock.fixed = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    old = redeem(sdk, [voucher("OLD")]).redemptions[0].id
    server.clock.fixed = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    new = redeem(sdk, [voucher("OLD")]).redemptions[0].id
    before = api(sdk).list_redemptions(
        created_at=voucherify.ParameterCreatedBeforeAfter(
            before=dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
        )
    )
    assert [r.id for r in before.redemptions] == [old]
    after = http.get("/v1/redemptions", params={"[created_at][after]": "2026-02-01"}).json()
    assert [r["id"] for r in after["redemptions"]] == [new]
    naive = http.get("/v1/redemptions", params={"created_at[after]": "2026-01-10T12:00:00"}).json()
    assert [r["id"] for r in naive["redemptions"]] == [new]


@pytest.mark.parametrize("order", list(voucherify.ParameterOrderListRedemptions))
def test_every_sdk_order_value_is_accepted(
    sdk: voucherify.ApiClient, history: dict[str, Any], order: Any
) -> None:
    listed = api(sdk).list_redemptions(order=order, limit=100)
    assert sorted(r.id for r in listed.redemptions) == sorted(all_ids(history))
    if order.value == "created_at":
        assert [r.id for r in listed.redemptions] == list(reversed(all_ids(history)))
