"""Which order lines a discount reaches: ``applicable_to`` / ``inapplicable_to`` (BEHAVIOR.md §7.2, §7.3, §11.1).

A redeemable's rule sets carry ``applicable_to.included`` and ``.excluded``
entries (product, SKU, products collection). Applicable lines are the lines an
included entry matches minus the lines an excluded entry matches; with no
included entry every line is applicable. The entry's ``effect`` orders or narrows
the lines (cheapest / most expensive first) and its limits bound the discounted
units and amounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from voucherd.engine.model import AppliedTarget, OrderItem, RuleSet, Target
from voucherd.engine.money import exact, round_half_up
from voucherd.engine.order import LineState


@dataclass(frozen=True)
class LineTarget:
    """An applicable line: its index, the units a discount may touch, and the entry's limits."""

    index: int
    units: int
    target: Target | None = None


@dataclass(frozen=True)
class Selection:
    """The applicable lines in application order, plus the entries for rendering."""

    lines: tuple[LineTarget, ...]
    included: tuple[Target, ...]
    excluded: tuple[Target, ...]

    @property
    def has_product_scope(self) -> bool:
        """True when the rules name products at all (drives the default effect, §7.2)."""
        return bool(self.included or self.excluded)


def item_matches(
    item: OrderItem, target: Target, collections: Mapping[str, frozenset[str]]
) -> bool:
    """Does ``item`` match an included/excluded entry?

    A product entry matches lines of that product (and of its SKUs); a SKU entry
    matches that SKU; a collection entry matches lines whose product or SKU id is in
    the collection (membership comes from the snapshot). Source ids match too.
    """
    if target.object == "product":
        if item.product_id is not None and item.product_id == target.id:
            return True
        source = target.source_id
        return source is not None and (
            item.product_source_id == source
            or (item.related_object in (None, "product") and item.source_id == source)
        )
    if target.object == "sku":
        if item.sku_id is not None and item.sku_id == target.id:
            return True
        source = target.source_id
        return source is not None and (
            item.sku_source_id == source
            or (item.related_object == "sku" and item.source_id == source)
        )
    if target.object == "products_collection":
        members = collections.get(target.id, frozenset())
        return (item.product_id is not None and item.product_id in members) or (
            item.sku_id is not None and item.sku_id in members
        )
    return False


def _order_for_effect(
    effect: str, matched: list[tuple[int, LineState]]
) -> list[tuple[int, LineState]]:
    # Stable sorts keep request order among equal prices.
    if effect in {"APPLY_TO_CHEAPEST", "APPLY_FROM_CHEAPEST"}:
        ordered = sorted(matched, key=lambda pair: pair[1].unit_price)
    elif effect in {"APPLY_TO_MOST_EXPENSIVE", "APPLY_FROM_MOST_EXPENSIVE"}:
        ordered = sorted(matched, key=lambda pair: -pair[1].unit_price)
    else:
        ordered = matched
    if effect in {"APPLY_TO_CHEAPEST", "APPLY_TO_MOST_EXPENSIVE"}:
        return ordered[:1]
    return ordered


def select_lines(
    lines: Sequence[LineState],
    rule_sets: Iterable[RuleSet],
    collections: Mapping[str, frozenset[str]],
    blocked: frozenset[int] = frozenset(),
) -> Selection:
    """Applicable lines for a redeemable, in application order.

    ``blocked`` lines are never applicable (``redeemables_products_application_mode``
    ONCE, §10.1). A line matched by several included entries takes the first entry.
    ``quantity_limit`` caps units per line; ``aggregated_quantity_limit`` caps units
    across the entry's lines, filled in application order.
    """
    rule_sets = tuple(rule_sets)
    included = tuple(t for rs in rule_sets for t in rs.applicable_to)
    excluded = tuple(t for rs in rule_sets for t in rs.inapplicable_to)

    def is_excluded(line: LineState) -> bool:
        return any(item_matches(line.item, t, collections) for t in excluded)

    chosen: list[LineTarget] = []
    taken: set[int] = set()
    if not included:
        for index, line in enumerate(lines):
            if index in blocked or is_excluded(line) or line.quantity <= 0:
                continue
            chosen.append(LineTarget(index=index, units=line.quantity))
        return Selection(tuple(chosen), included, excluded)
    for target in included:
        matched = [
            (index, line)
            for index, line in enumerate(lines)
            if index not in taken
            and index not in blocked
            and line.quantity > 0
            and item_matches(line.item, target, collections)
            and not is_excluded(line)
        ]
        budget = target.aggregated_quantity_limit
        seen_units = 0  # units of this entry already passed, for skip_initially/repeat
        for index, line in _order_for_effect(target.effect, matched):
            units = _picked_units(target, line.quantity, seen_units)
            seen_units += line.quantity
            if target.quantity_limit is not None:
                units = min(units, target.quantity_limit)
            if budget is not None:
                units = min(units, budget)
                budget -= units
            if units <= 0:
                continue
            taken.add(index)
            chosen.append(LineTarget(index=index, units=units, target=target))
    return Selection(tuple(chosen), included, excluded)


def _picked_units(target: Target, quantity: int, seen_units: int) -> int:
    """Units of a line the entry picks, given how many units earlier lines had.

    ``target: UNIT`` with APPLY_TO_CHEAPEST/MOST_EXPENSIVE picks one unit. Units are
    numbered across the entry's lines in application order; the first
    ``skip_initially`` are skipped, then every ``repeat``-th is picked
    (``skip_initially`` 0, ``repeat`` 3 over 7 units → units 3 and 6).
    """
    if target.target == "UNIT" and target.effect in {
        "APPLY_TO_CHEAPEST",
        "APPLY_TO_MOST_EXPENSIVE",
    }:
        quantity = min(quantity, 1)
    skip = max(0, target.skip_initially or 0)
    repeat = max(1, target.repeat or 1)
    if skip == 0 and repeat == 1:
        return quantity
    picked = 0
    for number in range(seen_units + 1, seen_units + quantity + 1):
        if number > skip and (number - skip) % repeat == 0:
            picked += 1
    return picked


def _money(value: int | float | None) -> int | None:
    return None if value is None else round_half_up(exact(value))


def render_targets(targets: Iterable[Target]) -> tuple[AppliedTarget, ...]:
    """Result ``applicable_to``/``inapplicable_to`` entries (``effect`` always present)."""
    return tuple(
        AppliedTarget(
            object=t.object,
            id=t.id,
            effect=t.effect,
            source_id=t.source_id,
            quantity_limit=t.quantity_limit,
            aggregated_quantity_limit=t.aggregated_quantity_limit,
            amount_limit=_money(t.amount_limit),
            aggregated_amount_limit=_money(t.aggregated_amount_limit),
            price=_money(t.price),
        )
        for t in targets
    )
