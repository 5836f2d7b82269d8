"""Stacking rules: order of application, exclusivity, limits, per-category modes (BEHAVIOR.md §6.2 steps 5–6, §10).

Pure helpers over :class:`~voucherd.engine.model.StackingRules`; the running
pipeline lives in :mod:`voucherd.engine.evaluate`.

Decisions: with ``CATEGORY_HIERARCHY`` a redeemable's rank is its lowest category
``hierarchy``; uncategorised redeemables sort after categorised ones, ties keep
request order. Any other ``grouped_redeemables_sorting_rule`` than
``JOINT_ALWAYS_LAST`` sorts all redeemables together. An exclusive redeemable
arriving after common ones already applied is itself SKIPPED
``exclusion_rules_not_met`` (exclusive and common never mix).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from voucherd.engine.model import Category, RedeemableInput, StackingRules
from voucherd.engine.reasons import (
    APPLICABLE_LIMIT_EXCEEDED,
    APPLICABLE_PER_CATEGORY_LIMIT_EXCEEDED,
    DUPLICATED_REDEEMABLES,
    EXCLUSION_RULES_NOT_MET,
    EXCLUSIVE_LIMIT_EXCEEDED,
    EXCLUSIVE_PER_CATEGORY_LIMIT_EXCEEDED,
    INVALID_PAYLOAD,
    INVALID_REDEEMABLES,
    Reason,
    reason,
)

EXCLUSIVE = "EXCLUSIVE"
JOINT = "JOINT"
COMMON = "COMMON"


def categories_of(redeemable: RedeemableInput) -> tuple[Category, ...]:
    """The categories of a resolved redeemable (none when not found)."""
    definition = redeemable.definition
    return definition.categories if definition is not None else ()


def kind_of(categories: Sequence[Category], rules: StackingRules) -> str:
    """``EXCLUSIVE`` (never stackable), ``JOINT`` (always stackable) or ``COMMON``.

    A redeemable in both an exclusive and a joint category counts as exclusive.
    """
    ids = {c.id for c in categories}
    if ids & set(rules.exclusive_categories):
        return EXCLUSIVE
    if ids & set(rules.joint_categories):
        return JOINT
    return COMMON


def processing_order(redeemables: Sequence[RedeemableInput], rules: StackingRules) -> list[int]:
    """Request indices in application order (§6.2 step 5, §10.3)."""

    def rank(index: int) -> tuple[int, int]:
        if rules.redeemables_sorting_rule != "CATEGORY_HIERARCHY":
            return (0, 0)
        categories = categories_of(redeemables[index])
        if not categories:
            return (1, 0)
        return (0, min(c.hierarchy for c in categories))

    def group(index: int) -> int:
        if rules.grouped_redeemables_sorting_rule != "JOINT_ALWAYS_LAST":
            return 0
        kind = kind_of(categories_of(redeemables[index]), rules)
        return {EXCLUSIVE: 0, COMMON: 1, JOINT: 2}[kind]

    return sorted(range(len(redeemables)), key=lambda i: (group(i), rank(i), i))


def calculation_mode(categories: Sequence[Category], rules: StackingRules) -> str:
    """``INITIAL_AMOUNT`` or ``DISCOUNTED_AMOUNT`` after per-category overrides (§10.2)."""
    ids = {c.id for c in categories}
    if ids & set(rules.initial_amount_mode_categories):
        return "INITIAL_AMOUNT"
    if ids & set(rules.discounted_amount_mode_categories):
        return "DISCOUNTED_AMOUNT"
    return rules.discount_calculation_mode


def skips_no_effect(categories: Sequence[Category], rules: StackingRules) -> bool:
    """Whether a zero-effect redeemable is SKIPPED ``no_effect`` (per-category overrides first)."""
    ids = {c.id for c in categories}
    if ids & set(rules.no_effect_skip_categories):
        return True
    if ids & set(rules.no_effect_redeem_anyway_categories):
        return False
    return rules.redeemables_no_effect_rule == "SKIP"


@dataclass
class Tally:
    """What has been applied so far in this request (for exclusivity and limits)."""

    applied: int = 0
    exclusive: int = 0
    common: int = 0
    per_category: Counter[str] = field(default_factory=Counter)
    exclusive_per_category: Counter[str] = field(default_factory=Counter)

    def add(self, categories: Sequence[Category], kind: str) -> None:
        """Record an APPLICABLE redeemable."""
        self.applied += 1
        for category in {c.id for c in categories}:
            self.per_category[category] += 1
            if kind == EXCLUSIVE:
                self.exclusive_per_category[category] += 1
        if kind == EXCLUSIVE:
            self.exclusive += 1
        elif kind == COMMON:
            self.common += 1


def stacking_skip(
    categories: Sequence[Category], kind: str, tally: Tally, rules: StackingRules
) -> Reason | None:
    """Exclusivity and limit checks for a valid redeemable; the SKIPPED reason or None.

    Order: exclusion → global limit → per-category limit → exclusive limit →
    exclusive per-category limit. Limits count APPLICABLE redeemables only.
    """
    if kind == COMMON and tally.exclusive > 0:
        return reason(
            EXCLUSION_RULES_NOT_MET,
            "a never-stackable redeemable already applies",
            check="exclusive_categories",
            expected="no exclusive redeemable applied",
            actual=tally.exclusive,
        )
    if kind == EXCLUSIVE and tally.common > 0:
        return reason(
            EXCLUSION_RULES_NOT_MET,
            "a never-stackable redeemable cannot join common ones",
            check="exclusive_categories",
            expected="no common redeemable applied",
            actual=tally.common,
        )
    if tally.applied >= rules.applicable_redeemables_limit:
        return reason(
            APPLICABLE_LIMIT_EXCEEDED,
            "applicable redeemables limit exceeded",
            check="applicable_redeemables_limit",
            expected=f"applied < {rules.applicable_redeemables_limit}",
            actual=tally.applied,
        )
    for category in sorted({c.id for c in categories}):
        limit = rules.applicable_redeemables_category_limits.get(
            category, rules.applicable_redeemables_per_category_limit
        )
        if tally.per_category[category] >= limit:
            return reason(
                APPLICABLE_PER_CATEGORY_LIMIT_EXCEEDED,
                "applicable redeemables per category limit exceeded",
                check="applicable_redeemables_per_category_limit",
                category_id=category,
                expected=f"applied in category < {limit}",
                actual=tally.per_category[category],
            )
    if kind == EXCLUSIVE:
        if tally.exclusive >= rules.applicable_exclusive_redeemables_limit:
            return reason(
                EXCLUSIVE_LIMIT_EXCEEDED,
                "applicable exclusive redeemables limit exceeded",
                check="applicable_exclusive_redeemables_limit",
                expected=f"exclusive applied < {rules.applicable_exclusive_redeemables_limit}",
                actual=tally.exclusive,
            )
        exclusive_ids = set(rules.exclusive_categories)
        for category in sorted({c.id for c in categories} & exclusive_ids):
            limit = rules.applicable_exclusive_redeemables_per_category_limit
            if tally.exclusive_per_category[category] >= limit:
                return reason(
                    EXCLUSIVE_PER_CATEGORY_LIMIT_EXCEEDED,
                    "applicable exclusive redeemables per category limit exceeded",
                    check="applicable_exclusive_redeemables_per_category_limit",
                    category_id=category,
                    expected=f"exclusive applied in category < {limit}",
                    actual=tally.exclusive_per_category[category],
                )
    return None


def check_request(
    redeemables: Sequence[tuple[str, str]],
    rules: StackingRules,
    resolved_ids: Sequence[str | None] | None = None,
) -> Reason | None:
    """Request-level 400s before evaluation (§6.1): the reason, or None when acceptable.

    ``redeemables`` are ``(object, id)`` pairs as sent. Empty → ``invalid_payload``;
    a ``promotion_stack`` with others → ``invalid_redeemables``; more than
    ``redeemables_limit`` → ``invalid_payload`` (decision; key unconfirmed upstream);
    the same pair twice, or two entries resolving to the same ``resolved_ids`` value
    (a code and its ``v_`` id) → ``duplicated_redeemables``.
    """
    if not redeemables:
        return reason(
            INVALID_PAYLOAD,
            "Property .redeemables must contain at least 1 item",
            check="redeemables",
            expected=">= 1",
            actual=0,
        )
    if len(redeemables) > 1 and any(obj == "promotion_stack" for obj, _ in redeemables):
        return reason(
            INVALID_REDEEMABLES,
            "A promotion stack must be the only redeemable",
            check="redeemables",
            expected="promotion_stack alone",
            actual=len(redeemables),
        )
    if len(redeemables) > rules.redeemables_limit:
        return reason(
            INVALID_PAYLOAD,
            f"Property .redeemables must contain at most {rules.redeemables_limit} items",
            check="redeemables_limit",
            expected=f"<= {rules.redeemables_limit}",
            actual=len(redeemables),
        )
    seen: set[tuple[str, str]] = set()
    for pair in redeemables:
        if pair in seen:
            return reason(
                DUPLICATED_REDEEMABLES,
                "Duplicated redeemables",
                check="redeemables",
                duplicate=list(pair),
            )
        seen.add(pair)
    if resolved_ids is not None:
        resolved = [r for r in resolved_ids if r is not None]
        duplicates = sorted({r for r in resolved if resolved.count(r) > 1})
        if duplicates:
            return reason(
                DUPLICATED_REDEEMABLES,
                "Duplicated redeemables",
                check="redeemables",
                duplicate=duplicates,
            )
    return None
