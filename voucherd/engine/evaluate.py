"""The validate/redeem decision pipeline (BEHAVIOR.md §6.2 steps 4–7, §8, §9, §10, §11, §12).

:func:`evaluate` takes a :class:`~voucherd.engine.model.Snapshot` and returns an
:class:`~voucherd.engine.model.Outcome`. Per redeemable, in processing order:

1. ALL mode after an INAPPLICABLE → SKIPPED ``preceding_validation_failed``.
2. Not found → INAPPLICABLE ``not_found``.
3. Status checks (§12, :mod:`voucherd.engine.validity`).
4. Card checks: gift balance (§8); loyalty reward / holder / points (§9).
5. The effect on the current order (:mod:`voucherd.engine.discounts`).
6. Validation rules against the order at this position (§11).
7. Exclusivity and limits (§10) → SKIPPED.
8. Zero effect with the SKIP rule → SKIPPED ``no_effect``.
9. APPLICABLE: the effect is applied to the running order.

The effect is computed before the rules only so that ``order.total_amount`` can
mean "after this discount" (§11.1 suggestion); a failing rule still wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from voucherd.engine.discounts import Computed, Inputs, compute_discount, gift_effect, points_effect
from voucherd.engine.model import (
    EMPTY,
    AppliedTarget,
    Consumption,
    OrderSnapshot,
    Outcome,
    PromotionTier,
    RedeemableInput,
    RedeemableOutcome,
    Snapshot,
    Status,
    Voucher,
)
from voucherd.engine.order import Effect, OrderState
from voucherd.engine.reasons import (
    INVALID_CUSTOMER,
    MISSING_REWARD,
    NO_EFFECT,
    NOT_FOUND,
    PRECEDING_VALIDATION_FAILED,
    Reason,
    reason,
)
from voucherd.engine.rules import RuleContext, evaluate_rule_set
from voucherd.engine.stacking import (
    Tally,
    calculation_mode,
    categories_of,
    kind_of,
    processing_order,
    skips_no_effect,
    stacking_skip,
)
from voucherd.engine.targets import render_targets, select_lines
from voucherd.engine.validity import check_validity

Targets = tuple[tuple[AppliedTarget, ...], tuple[AppliedTarget, ...]]


def _not_found(redeemable: RedeemableInput) -> Reason:
    return reason(
        NOT_FOUND,
        "Resource not found",
        error_details=f"Cannot find {redeemable.object} with id {redeemable.id}",
        check="exists",
        resource_type=redeemable.object,
        resource_id=redeemable.id,
    )


def _loyalty_precheck(
    redeemable: RedeemableInput, voucher: Voucher, snapshot: Snapshot
) -> Reason | None:
    """§9 checks before any arithmetic: reward named, customer is holder, reward usable."""
    if redeemable.reward_id is None:
        return reason(
            MISSING_REWARD, "missing reward", check="reward", expected="reward.id", actual=None
        )
    customer = snapshot.customer
    if customer is None or voucher.holder_id is None or customer.id != voucher.holder_id:
        return reason(
            INVALID_CUSTOMER,
            "Customer must be a holder of a loyalty card.",
            check="holder",
            expected=voucher.holder_id,
            actual=customer.id if customer else None,
        )
    reward = voucher.reward
    if reward is None or reward.id != redeemable.reward_id or not reward.assigned:
        return reason(
            MISSING_REWARD,
            "reward not found for this loyalty card",
            check="reward.assignment",
            expected="a reward assigned to the card's campaign",
            actual=redeemable.reward_id,
        )
    if redeemable.reward_points is None or redeemable.reward_points <= 0:
        return reason(
            MISSING_REWARD,
            "reward points are missing",
            check="reward.points",
            expected="points > 0",
            actual=redeemable.reward_points,
        )
    return None


def _compute(
    redeemable: RedeemableInput,
    definition: Voucher | PromotionTier,
    state: OrderState,
    snapshot: Snapshot,
    blocked: frozenset[int],
) -> tuple[Computed, Targets]:
    selection = select_lines(state.lines, redeemable.rule_sets, snapshot.collections, blocked)
    customer = snapshot.customer
    inputs = Inputs(
        calculation_mode=calculation_mode(definition.categories, snapshot.stacking),
        customer_metadata=customer.metadata if customer else {},
        order_metadata=snapshot.order.metadata,
        redemption_metadata=snapshot.metadata,
        products=snapshot.products,
    )
    targets = (render_targets(selection.included), render_targets(selection.excluded))
    if isinstance(definition, Voucher) and definition.type == "GIFT_VOUCHER" and definition.gift:
        return gift_effect(definition.gift, redeemable.gift_credits, state, selection), targets
    if isinstance(definition, Voucher) and definition.type == "LOYALTY_CARD":
        problem = _loyalty_precheck(redeemable, definition, snapshot)
        if problem is not None:
            return Computed(Effect(), {}, problem), targets
        card = definition.loyalty_card
        reward = definition.reward
        if card is None or reward is None or redeemable.reward_points is None:
            # reward and points were checked above; missing card state is a store bug.
            raise ValueError("a LOYALTY_CARD voucher needs its loyalty_card state")
        return points_effect(card, reward, redeemable.reward_points, state), targets
    if definition.discount is None:
        return Computed(Effect(), {}), targets
    computed = compute_discount(definition.discount, state, selection, inputs)
    computed.result = {"discount": computed.result}
    return computed, targets


def _rules_reason(
    redeemable: RedeemableInput, state: OrderState, effect: Effect, snapshot: Snapshot
) -> Reason | None:
    existing = len(state.lines)

    def unit_price(index: int) -> int:
        if index < existing:
            return state.lines[index].unit_price
        return effect.new_lines[index - existing].price or 0

    added_value = sum(units * unit_price(i) for i, units in effect.added_units.items())
    context = RuleContext(
        lines=tuple(state.lines),
        amount=state.amount,
        total_amount_before=state.total_amount,
        total_amount_after=max(0, state.total_amount + added_value - effect.total_discount),
        initial_amount=state.initial_amount,
        order_metadata=snapshot.order.metadata,
        customer=snapshot.customer,
        redemption_metadata=snapshot.metadata,
        counters=snapshot.counters,
        collections=snapshot.collections,
        redeemable=redeemable,
        now=snapshot.now,
        tz=snapshot.tz,
    )
    for rule_set in redeemable.rule_sets:
        failure = evaluate_rule_set(rule_set, context)
        if failure is not None:
            return failure
    return None


def _outcome(
    index: int,
    redeemable: RedeemableInput,
    status: Status,
    *,
    why: Reason | None = None,
    targets: Targets = ((), ()),
    result: Mapping[str, Any] = EMPTY,
    order: OrderSnapshot | None = None,
    consumption: Consumption | None = None,
) -> RedeemableOutcome:
    definition = redeemable.definition
    return RedeemableOutcome(
        request_index=index,
        object=redeemable.object,
        id=redeemable.id,
        status=status,
        reason=why,
        result=result,
        order=order,
        applicable_to=targets[0],
        inapplicable_to=targets[1],
        consumption=consumption,
        categories=categories_of(redeemable),
        resolved_id=definition.id if definition is not None else None,
    )


def evaluate(snapshot: Snapshot) -> Outcome:
    """Decide every redeemable and compute the order (§6.2); never raises for business "no".

    ``valid``: ALL mode → nothing INAPPLICABLE; PARTIAL → at least one APPLICABLE.
    Raises only on programmer error (e.g. a counter the store did not supply,
    :class:`voucherd.engine.rules.MissingCounterError`).
    """
    rules = snapshot.stacking
    state = OrderState(snapshot.order)
    tally = Tally()
    any_inapplicable = False
    outcomes: list[RedeemableOutcome] = []
    for index in processing_order(snapshot.redeemables, rules):
        redeemable = snapshot.redeemables[index]
        definition = redeemable.definition
        categories = categories_of(redeemable)
        if rules.redeemables_application_mode == "ALL" and any_inapplicable:
            why = reason(
                PRECEDING_VALIDATION_FAILED,
                "a preceding redeemable failed validation",
                check="redeemables_application_mode",
                expected="every redeemable valid (ALL)",
            )
            outcomes.append(_outcome(index, redeemable, "SKIPPED", why=why))
            continue
        failure: Reason | None
        if definition is None:
            failure = _not_found(redeemable)
        else:
            failure = check_validity(definition, snapshot.now, snapshot.tz)
        computed: Computed | None = None
        targets: Targets = ((), ())
        if failure is None and definition is not None:
            blocked: frozenset[int] = frozenset()
            if rules.redeemables_products_application_mode == "ONCE":
                # ONCE: a line discounted by an earlier redeemable takes no further item discounts.
                blocked = frozenset(
                    i for i, line in enumerate(state.lines) if line.request_discount > 0
                )
            computed, targets = _compute(redeemable, definition, state, snapshot, blocked)
            failure = computed.reason or _rules_reason(redeemable, state, computed.effect, snapshot)
        if failure is not None or computed is None:
            any_inapplicable = True
            outcomes.append(
                _outcome(index, redeemable, "INAPPLICABLE", why=failure, targets=targets)
            )
            continue
        kind = kind_of(categories, rules)
        skip = stacking_skip(categories, kind, tally, rules)
        if skip is None and computed.effect.is_empty and skips_no_effect(categories, rules):
            skip = reason(
                NO_EFFECT, "redeemable has no effect", check="effect", expected="> 0", actual=0
            )
        if skip is not None:
            outcomes.append(_outcome(index, redeemable, "SKIPPED", why=skip, targets=targets))
            continue
        state.apply(computed.effect)
        tally.add(categories, kind)
        outcomes.append(
            _outcome(
                index,
                redeemable,
                "APPLICABLE",
                targets=targets,
                result=computed.result,
                order=state.step_snapshot(computed.effect),
                consumption=Consumption(
                    quantity=1, credits=computed.consumed_credits, points=computed.consumed_points
                ),
            )
        )
    if rules.redeemables_application_mode == "PARTIAL":
        valid = any(o.status == "APPLICABLE" for o in outcomes)
    else:
        valid = not any_inapplicable
    return Outcome(
        valid=valid, redeemables=tuple(outcomes), order=state.final_snapshot(), stacking=rules
    )
