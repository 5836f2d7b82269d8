"""Helpers for tests that need vouchers and redemptions made through the official SDK."""

from __future__ import annotations

import json
from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException


def error_of(caught: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    """The error envelope of an SDK exception (its ``code`` always equals the status)."""
    body: dict[str, Any] = json.loads(caught.value.body)
    assert body["code"] == caught.value.status
    return body


def discount_voucher(
    sdk: voucherify.ApiClient, code: str, *, amount_off: int = 1000, quantity: int | None = None
) -> Any:
    """A standalone AMOUNT voucher."""
    body: dict[str, Any] = {
        "type": "DISCOUNT_VOUCHER",
        "discount": {"type": "AMOUNT", "amount_off": amount_off},
    }
    if quantity is not None:
        body["redemption"] = {"quantity": quantity}
    return voucherify.VouchersApi(sdk).create_voucher(code, body)


def gift_card(sdk: voucherify.ApiClient, code: str, *, amount: int = 10000) -> Any:
    """A standalone gift card loaded with ``amount``."""
    return voucherify.VouchersApi(sdk).create_voucher(
        code, {"type": "GIFT_VOUCHER", "gift": {"amount": amount}}
    )


def redeem(
    sdk: voucherify.ApiClient,
    redeemables: list[dict[str, Any]],
    *,
    amount: int = 20000,
    order: dict[str, Any] | None = None,
    customer: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Any:
    """``POST /v1/redemptions`` through the SDK."""
    body: dict[str, Any] = {
        "redeemables": redeemables,
        "order": {"amount": amount, **(order or {})},
    }
    if customer is not None:
        body["customer"] = customer
    if metadata is not None:
        body["metadata"] = metadata
    return voucherify.RedemptionsApi(sdk).redeem_stacked_discounts(body)


def voucher(code: str, **extra: Any) -> dict[str, Any]:
    """A ``redeemables[]`` entry for a voucher code."""
    return {"object": "voucher", "id": code, **extra}
