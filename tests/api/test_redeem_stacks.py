"""Promotion stacks are validated and redeemed as their tiers, in the stack's order (§6.1)."""

from __future__ import annotations

from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.stackable import (
    CART_ITEMS,
    error_of,
    get_tier,
    records,
    redeem,
    validate,
    voucher,
)
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys

PERCENT_10 = {"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ORDER"}
AMOUNT_1500 = {"type": "AMOUNT", "amount_off": 1500, "effect": "APPLY_TO_ORDER"}


def promotion_with_stack(sdk: voucherify.ApiClient) -> tuple[str, str, str]:
    """A PROMOTION campaign with two tiers and a stack applying them 1500-off first."""
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": "Weekend",
                "campaign_type": "PROMOTION",
                "promotion": {
                    "tiers": [
                        {"name": "Ten percent", "action": {"discount": PERCENT_10}},
                        {"name": "1500 off", "action": {"discount": AMOUNT_1500}},
                    ]
                },
            }
        )
    )
    tiers = voucherify.PromotionsApi(sdk).list_promotion_tiers_from_campaign(campaign.id).tiers
    percent, amount = (t.id for t in sorted(tiers, key=lambda t: t.hierarchy))
    stack = voucherify.PromotionsApi(sdk).create_promotion_stack(
        campaign.id,
        voucherify.PromotionsStacksCreateRequestBody.from_dict(
            {"name": "Both", "tiers": {"ids": [amount, percent]}}
        ),
    )
    return stack.id, amount, percent


def body(stack_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "redeemables": [{"object": "promotion_stack", "id": stack_id}],
        "order": {"items": CART_ITEMS},
        **extra,
    }


def test_validating_a_stack_reports_its_tiers_in_stack_order(sdk: voucherify.ApiClient) -> None:
    stack_id, amount, percent = promotion_with_stack(sdk)
    answer = validate(sdk, body(stack_id))
    assert answer.valid is True
    assert [(r.object, r.id, r.status) for r in answer.redeemables] == [
        ("promotion_tier", amount, "APPLICABLE"),
        ("promotion_tier", percent, "APPLICABLE"),
    ]
    # 1500 off 12000 first, then 10 % of the 10500 left (DISCOUNTED_AMOUNT): 1050.
    assert (answer.order.discount_amount, answer.order.total_amount) == (2550, 9450)


def test_redeeming_a_stack_redeems_every_tier_under_one_parent(
    sdk: voucherify.ApiClient,
) -> None:
    stack_id, amount, percent = promotion_with_stack(sdk)
    result = redeem(sdk, body(stack_id, order={"source_id": "stack-1", "items": CART_ITEMS}))
    assert result.parent_redemption is not None
    assert [(c.related_object_type, c.related_object_id) for c in result.redemptions] == [
        ("promotion_tier", amount),
        ("promotion_tier", percent),
    ]
    assert [c.order.applied_discount_amount for c in result.redemptions] == [1500, 1050]
    assert result.order.total_amount == 9450
    assert [get_tier(sdk, t).summary.redemptions.total_redeemed for t in (amount, percent)] == [
        1,
        1,
    ]


def test_an_unknown_stack_is_404_and_records_nothing(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    with pytest.raises(ApiException) as caught:
        redeem(sdk, body("stack_missing"))
    error = error_of(caught)
    assert (error["code"], error["key"]) == (404, "not_found")
    assert (error["resource_type"], error["resource_id"]) == ("promotion_stack", "stack_missing")
    assert records(db, project.id) == []


def test_a_stack_mixed_with_other_redeemables_is_refused(sdk: voucherify.ApiClient) -> None:
    stack_id, _, _ = promotion_with_stack(sdk)
    code = voucher(sdk).code
    mixed = body(stack_id)
    mixed["redeemables"].append({"object": "voucher", "id": code})
    with pytest.raises(ApiException) as caught:
        redeem(sdk, mixed)
    assert (caught.value.status, error_of(caught)["key"]) == (400, "invalid_redeemables")
