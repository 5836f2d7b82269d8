"""Seed the benchmark's data through the HTTP API, as a client would.

Everything is sized so nothing runs out during a run: vouchers allow 10^9
redemptions, gift cards hold 10^13 minor units. Codes carry the run's prefix so
a reused database (``--database-url``) never collides with an earlier run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

QUANTITY = 1_000_000_000
GIFT_AMOUNT = 10_000_000_000_000
SINGLE_CODES = 64  # (a) rotates over these, so clients rarely touch the same row
STACKS = 32  # (b)/(c) rotate over stacks with their own vouchers and gift card
CUSTOMERS = 8  # "{{k}}" picks one of bench-cust-0..7 per request
CUSTOMER_SOURCE_ID = "bench-cust-0"  # the customer (f) lists by default


@dataclass(frozen=True)
class Seeded:
    """What the scenarios refer to."""

    single_codes: list[str]
    hot_voucher: str
    hot_gift: str
    stacks: list[str]  # JSON arrays of five redeemables, ready to splice into a body
    customer_source_id: str


def _check(response: httpx.Response) -> dict[str, object]:
    if response.status_code >= 300:
        raise RuntimeError(
            f"seeding failed: {response.request.method} {response.request.url.path} "
            f"-> {response.status_code} {response.text[:500]}"
        )
    data: dict[str, object] = response.json()
    return data


def _voucher(http: httpx.Client, code: str, body: dict[str, object]) -> None:
    _check(http.post(f"/v1/vouchers/{code}", json=body))


def discount_voucher(
    amount_off: int | None = None, percent_off: int | None = None
) -> dict[str, object]:
    """A standalone discount voucher body with room for 10^9 redemptions."""
    discount: dict[str, object] = (
        {"type": "AMOUNT", "amount_off": amount_off}
        if amount_off is not None
        else {"type": "PERCENT", "percent_off": percent_off}
    )
    return {"type": "DISCOUNT_VOUCHER", "discount": discount, "redemption": {"quantity": QUANTITY}}


def gift_card() -> dict[str, object]:
    """A gift card with a balance no run can spend."""
    return {"type": "GIFT_VOUCHER", "gift": {"amount": GIFT_AMOUNT, "effect": "APPLY_TO_ORDER"}}


def seed(http: httpx.Client, prefix: str) -> Seeded:
    """Create the vouchers, gift cards and promotion tiers every scenario uses."""
    single = [f"{prefix}-A-{i:02d}" for i in range(SINGLE_CODES)]
    for code in single:
        _voucher(http, code, discount_voucher(amount_off=100))
    hot_voucher, hot_gift = f"{prefix}-HOT", f"{prefix}-HOT-GIFT"
    _voucher(http, hot_voucher, discount_voucher(amount_off=100))
    _voucher(http, hot_gift, gift_card())
    campaign = _check(
        http.post(
            "/v1/campaigns",
            json={
                "name": f"{prefix}-promotion",
                "campaign_type": "PROMOTION",
                "promotion": {
                    "tiers": [
                        {
                            "name": "50 off",
                            "banner": "50 off",
                            "action": {"discount": {"type": "AMOUNT", "amount_off": 50}},
                        },
                        {
                            "name": "2% off",
                            "banner": "2% off",
                            "action": {"discount": {"type": "PERCENT", "percent_off": 2}},
                        },
                    ]
                },
            },
        )
    )
    tiers = _check(http.get(f"/v1/promotions/{campaign['id']}/tiers"))["tiers"]
    tier_ids = [str(t["id"]) for t in tiers]  # type: ignore[attr-defined]
    if len(tier_ids) != 2:
        raise RuntimeError(f"expected 2 promotion tiers, got {tier_ids}")
    stacks = []
    for i in range(STACKS):
        amount, percent, gift = f"{prefix}-S-{i:02d}", f"{prefix}-P-{i:02d}", f"{prefix}-G-{i:02d}"
        _voucher(http, amount, discount_voucher(amount_off=100))
        _voucher(http, percent, discount_voucher(percent_off=5))
        _voucher(http, gift, gift_card())
        redeemables = [
            {"object": "voucher", "id": amount},
            {"object": "voucher", "id": percent},
            {"object": "voucher", "id": gift, "gift": {"credits": 1000}},
            {"object": "promotion_tier", "id": tier_ids[0]},
            {"object": "promotion_tier", "id": tier_ids[1]},
        ]
        stacks.append(json.dumps(redeemables, separators=(",", ":")))
    return Seeded(single, hot_voucher, hot_gift, stacks, CUSTOMER_SOURCE_ID)
