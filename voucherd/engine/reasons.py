"""Reasons: why a redeemable is INAPPLICABLE or SKIPPED (BEHAVIOR.md §3.3, §6.2, §6.3).

"Not applicable" is data. A :class:`Reason` carries the Voucherify error/skip
``key``, the human ``message`` and machine-readable ``details`` (which check,
rule or limit failed, expected vs actual) — the details go beyond Voucherify.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# INAPPLICABLE keys (error keys, §3.3).
NOT_FOUND = "not_found"
VOUCHER_DISABLED = "voucher_disabled"
VOUCHER_NOT_ACTIVE = "voucher_not_active"
VOUCHER_EXPIRED = "voucher_expired"
VOUCHER_NOT_ACTIVE_NOW = "voucher_not_active_now"
PROMOTION_INACTIVE = "promotion_inactive"
PROMOTION_NOT_ACTIVE_NOW = "promotion_not_active_now"
QUANTITY_EXCEEDED = "quantity_exceeded"
GIFT_AMOUNT_EXCEEDED = "gift_amount_exceeded"
LOYALTY_CARD_POINTS_EXCEEDED = "loyalty_card_points_exceeded"
MISSING_REWARD = "missing_reward"
INVALID_CUSTOMER = "invalid_customer"
MISSING_CUSTOMER = "missing_customer"
MISSING_AMOUNT = "missing_amount"
MISSING_ORDER_ITEMS = "missing_order_items"
MISSING_ORDER_ITEMS_AMOUNT = "missing_order_items_amount"
CUSTOMER_RULES_VIOLATED = "customer_rules_violated"
ORDER_RULES_VIOLATED = "order_rules_violated"
REDEMPTION_RULES_VIOLATED = "redemption_rules_violated"

# SKIPPED keys (§6.2; the SDK enum `ValidationsRedeemableSkippedResultDetails.key`).
PRECEDING_VALIDATION_FAILED = "preceding_validation_failed"
EXCLUSION_RULES_NOT_MET = "exclusion_rules_not_met"
APPLICABLE_LIMIT_EXCEEDED = "applicable_redeemables_limit_exceeded"
APPLICABLE_PER_CATEGORY_LIMIT_EXCEEDED = "applicable_redeemables_per_category_limit_exceeded"
EXCLUSIVE_LIMIT_EXCEEDED = "applicable_exclusive_redeemables_limit_exceeded"
EXCLUSIVE_PER_CATEGORY_LIMIT_EXCEEDED = (
    "applicable_exclusive_redeemables_per_category_limit_exceeded"
)
NO_EFFECT = "no_effect"

# Request-level (400 before evaluation; helpers in evaluate.check_request).
INVALID_PAYLOAD = "invalid_payload"
DUPLICATED_REDEEMABLES = "duplicated_redeemables"
INVALID_REDEEMABLES = "invalid_redeemables"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Reason:
    """Why a redeemable did not apply: ``key`` (wire enum), ``message``, ``details``.

    ``details`` is a plain JSON-able mapping, e.g. ``{"check": "quantity",
    "expected": "redeemed_quantity < 10", "actual": 10}``.
    """

    key: str
    message: str
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    error_details: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form ``{"key", "message", "details"}`` for logs and the API layer."""
        return {"key": self.key, "message": self.message, "details": dict(self.details)}


def reason(key: str, message: str, *, error_details: str | None = None, **details: Any) -> Reason:
    """Build a :class:`Reason`; keyword arguments become ``details``.

    ``error_details`` is the Voucherify error envelope's free-text ``details``
    (e.g. ``"Cannot find voucher with id X"``), when Voucherify sends one.
    """
    return Reason(
        key=key,
        message=message,
        details=MappingProxyType(dict(details)),
        error_details=error_details,
    )
