"""Builders for validate/redeem tests: catalog objects through the official SDK, reads from the DB.

Data is created through the SDK (vouchers, campaigns, tiers, rules, rewards, stacking
rules); only what no endpoint exposes yet is read (redemption records, ledger rows)
or written (a loyalty card's holder) through the database.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import voucherify
from sqlalchemy import func, select
from voucherify.exceptions import ApiException

from voucherd.store.db import Database
from voucherd.store.schema import customers, orders, redemptions, voucher_transactions

PERCENT_10 = {"type": "PERCENT", "percent_off": 10, "effect": "APPLY_TO_ORDER"}
AMOUNT_1500 = {"type": "AMOUNT", "amount_off": 1500, "effect": "APPLY_TO_ORDER"}

# BEHAVIOR.md §7.6 common cart: A 3000 × 2, B 2000 × 1, C 4000 × 1 = 12000.
CART_ITEMS = [
    {"source_id": "A", "related_object": "product", "quantity": 2, "price": 3000},
    {"source_id": "B", "related_object": "product", "quantity": 1, "price": 2000},
    {"source_id": "C", "related_object": "product", "quantity": 1, "price": 4000},
]


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    """The envelope of an SDK error; its ``code`` always equals the HTTP status."""
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def voucher(sdk: voucherify.ApiClient, code: str | None = None, **body: Any) -> Any:
    """A standalone voucher (a 10 % discount unless told otherwise)."""
    body.setdefault("type", "DISCOUNT_VOUCHER")
    if body["type"] == "DISCOUNT_VOUCHER":
        body.setdefault("discount", PERCENT_10)
    return voucherify.VouchersApi(sdk).create_voucher(
        code or f"V-{uuid.uuid4().hex[:8]}",
        voucherify.VouchersCreateWithSpecificCodeRequestBody.from_dict(body),
    )


def gift_card(sdk: voucherify.ApiClient, amount: int, code: str | None = None, **body: Any) -> Any:
    """A standalone gift card loaded with ``amount``."""
    return voucher(
        sdk,
        code or f"GC-{uuid.uuid4().hex[:8]}",
        type="GIFT_VOUCHER",
        gift={"amount": amount},
        **body,
    )


def get_voucher(sdk: voucherify.ApiClient, code: str) -> Any:
    return voucherify.VouchersApi(sdk).get_voucher(code)


def promotion_tier(sdk: voucherify.ApiClient, discount: dict[str, Any], **tier: Any) -> Any:
    """A PROMOTION campaign with one tier; returns the tier."""
    tier.setdefault("name", "Tier")
    tier["action"] = {"discount": discount}
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {"name": f"promo-{uuid.uuid4().hex[:8]}", "promotion": {"tiers": [tier]}}
        )
    )
    return campaign.promotion.tiers[0]


def get_tier(sdk: voucherify.ApiClient, tier_id: str) -> Any:
    return voucherify.PromotionsApi(sdk).get_promotion_tier(tier_id)


def loyalty_card(sdk: voucherify.ApiClient, points: int, holder_id: str | None) -> tuple[str, str]:
    """A LOYALTY_PROGRAM campaign with one card of ``points`` and a COIN reward assigned.

    Reward: 100 points = 20.00 (exchange_ratio 20, points_ratio 100, §7.6 Example D).
    Returns (card code, reward id).
    """
    campaign = voucherify.CampaignsApi(sdk).create_campaign(
        voucherify.CampaignsCreateRequestBody.from_dict(
            {
                "name": f"loyalty-{uuid.uuid4().hex[:8]}",
                "campaign_type": "LOYALTY_PROGRAM",
                "voucher": {"type": "LOYALTY_CARD", "loyalty_card": {"points": points}},
            }
        )
    )
    code = f"LC-{uuid.uuid4().hex[:8]}"
    voucherify.CampaignsApi(sdk).add_voucher_with_specific_code_to_campaign(campaign.id, code)
    rewards = voucherify.RewardsApi(sdk)
    reward = rewards.create_reward(
        voucherify.RewardsCreateRequestBody.from_dict(
            {
                "name": "Pay with points",
                "parameters": {"coin": {"exchange_ratio": 20, "points_ratio": "100"}},
            }
        )
    )
    rewards.create_reward_assignment(
        reward.id,
        voucherify.RewardsAssignmentsCreateRequestBody.from_dict({"campaign": campaign.id}),
    )
    if holder_id is not None:
        # Publish the card to its holder (loyalty add-member).
        voucherify.LoyaltiesApi(sdk).add_member(
            campaign.id,
            voucherify.LoyaltiesMembersCreateRequestBody.from_dict(
                {"voucher": code, "customer": {"id": holder_id}}
            ),
        )
    return code, reward.id


def customer(sdk: voucherify.ApiClient, source_id: str) -> Any:
    return voucherify.CustomersApi(sdk).create_customer(
        voucherify.CustomersCreateRequestBody.from_dict({"source_id": source_id})
    )


def rule(sdk: voucherify.ApiClient, rules: dict[str, Any], **body: Any) -> str:
    """A validation rule set; returns its id."""
    body.setdefault("name", f"rule-{uuid.uuid4().hex[:6]}")
    created = voucherify.ValidationRulesApi(sdk).create_validation_rules(
        voucherify.ValidationRulesCreateRequestBody.from_dict({"rules": rules, **body})
    )
    return str(created.id)


def stacking(sdk: voucherify.ApiClient, project_id: str, **fields: Any) -> None:
    """Give the project its own stacking rules."""
    voucherify.ManagementApi(sdk).create_stacking_rules(
        project_id, voucherify.ManagementProjectsStackingRulesCreateRequestBody(**fields)
    )


def category(sdk: voucherify.ApiClient, name: str, hierarchy: int) -> str:
    created = voucherify.CategoriesApi(sdk).create_category(
        voucherify.CategoriesCreateRequestBody(name=name, hierarchy=hierarchy)
    )
    return str(created.id)


def redeem(sdk: voucherify.ApiClient, body: dict[str, Any]) -> Any:
    return voucherify.RedemptionsApi(sdk).redeem_stacked_discounts(
        redemptions_redeem_request_body=voucherify.RedemptionsRedeemRequestBody.from_dict(body)
    )


def validate(sdk: voucherify.ApiClient, body: dict[str, Any]) -> Any:
    return voucherify.ValidationsApi(sdk).validate_stacked_discounts(
        validations_validate_request_body=voucherify.ValidationsValidateRequestBody.from_dict(body)
    )


def get_redemption(sdk: voucherify.ApiClient, redemption_id: str) -> Any:
    return voucherify.RedemptionsApi(sdk).get_redemption(redemption_id)


# --- what no endpoint lists yet -------------------------------------------------------


def records(db: Database, project_id: str, prefix: str | None = None) -> list[dict[str, Any]]:
    """Redemption records of a project (``r_``/``rf_``), oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            select(redemptions.c.id, redemptions.c.data)
            .where(redemptions.c.project_id == project_id)
            .order_by(redemptions.c.id)
        ).all()
    return [dict(r.data) for r in rows if prefix is None or r.id.startswith(prefix + "_")]


def ledger(db: Database, project_id: str) -> list[tuple[str, int, int]]:
    """(type, amount, balance) of every voucher transaction, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            select(
                voucher_transactions.c.type,
                voucher_transactions.c.amount,
                voucher_transactions.c.balance,
            )
            .where(voucher_transactions.c.project_id == project_id)
            .order_by(voucher_transactions.c.id)
        ).all()
    return [(r.type, int(r.amount), int(r.balance)) for r in rows]


def counts(db: Database, project_id: str) -> dict[str, int]:
    """How many customers, orders and redemption records a project has."""
    with db.read() as conn:
        return {
            name: int(
                conn.execute(
                    select(func.count()).select_from(table).where(table.c.project_id == project_id)
                ).scalar_one()
            )
            for name, table in (
                ("customers", customers),
                ("orders", orders),
                ("redemptions", redemptions),
            )
        }
