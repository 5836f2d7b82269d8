"""Request bodies of the management stacking-rules endpoints (BEHAVIOR.md §10.1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

CategoryId = str
Limit30 = Annotated[int, Field(ge=1, le=30)]
# §10.1: both exclusive limits are 1–5 (the spec's request schema says 30 for the
# per-category one; the StackingRules schema and the observed API say 5).
Limit5 = Annotated[int, Field(ge=1, le=5)]


class ManagementProjectsStackingRulesCreateRequestBody(BaseModel):
    """Every field optional; what is left out takes the default."""

    redeemables_limit: Limit30 | None = None
    applicable_redeemables_limit: Limit30 | None = None
    applicable_redeemables_per_category_limit: Limit30 | None = None
    applicable_redeemables_category_limits: dict[CategoryId, Limit30] | None = None
    applicable_exclusive_redeemables_limit: Limit5 | None = None
    applicable_exclusive_redeemables_per_category_limit: Limit5 | None = None
    exclusive_categories: list[CategoryId] | None = None
    joint_categories: list[CategoryId] | None = None
    redeemables_application_mode: Literal["ALL", "PARTIAL"] | None = None
    redeemables_sorting_rule: Literal["CATEGORY_HIERARCHY", "REQUESTED_ORDER"] | None = None
    discount_calculation_mode: Literal["INITIAL_AMOUNT", "DISCOUNTED_AMOUNT"] | None = None
    initial_amount_mode_categories: list[CategoryId] | None = None
    discounted_amount_mode_categories: list[CategoryId] | None = None
    redeemables_products_application_mode: Literal["STACK", "ONCE"] | None = None
    redeemables_no_effect_rule: Literal["REDEEM_ANYWAY", "SKIP"] | None = None
    no_effect_skip_categories: list[CategoryId] | None = None
    no_effect_redeem_anyway_categories: list[CategoryId] | None = None
    redeemables_rollback_order_mode: Literal["WITH_ORDER", "WITHOUT_ORDER"] | None = None

    def given(self) -> dict[str, Any]:
        """Only the fields the client sent (nulls were dropped on parsing)."""
        # Top-level: only what was sent; nested models keep their defaults (e.g. effect).
        dumped = self.model_dump(exclude_none=True)
        return {key: value for key, value in dumped.items() if key in self.model_fields_set}


class ManagementProjectsStackingRulesUpdateRequestBody(
    ManagementProjectsStackingRulesCreateRequestBody
):
    """Partial update: the given fields replace the stored ones (arrays wholesale)."""
