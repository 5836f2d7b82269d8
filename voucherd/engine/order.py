"""Running order state during one evaluation, and its §7.4 snapshots (BEHAVIOR.md §7.1, §7.4).

:class:`OrderState` is the engine's private working copy: it starts from the
request's :class:`~voucherd.engine.model.Order` (§7.1 amounts), receives each
redeemable's :class:`Effect` and renders immutable
:class:`~voucherd.engine.model.OrderSnapshot` values after every step and at the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from voucherd.engine.model import EMPTY, ItemSnapshot, Json, Order, OrderItem, OrderSnapshot


@dataclass
class LineState:
    """One order line while discounts are applied (mutable, engine-private)."""

    item: OrderItem
    price: int | None
    quantity: int
    amount: int
    initial_quantity: int
    initial_amount: int
    prior_discount: int = 0
    request_discount: int = 0
    request_discount_quantity: int = 0
    request_added_quantity: int = 0
    request_added_amount: int = 0

    @property
    def discount_amount(self) -> int:
        """Cumulative discount on the line (prior requests + this request so far)."""
        return self.prior_discount + self.request_discount

    @property
    def remaining(self) -> int:
        """What is left of the line to discount; never negative."""
        return max(0, self.amount - self.discount_amount)

    @property
    def initial_base(self) -> int:
        """INITIAL_AMOUNT base of the line: its amount minus earlier requests' discounts."""
        return max(0, self.amount - self.prior_discount)

    @property
    def unit_price(self) -> int:
        """Unit price for per-unit effects: ``price``, else ``amount ÷ quantity`` floored."""
        if self.price is not None:
            return self.price
        return self.amount // self.quantity if self.quantity > 0 else 0


def line_amount(item: OrderItem) -> int:
    """Item amount per §7.1: given ``amount``, else ``price × quantity``, else 0."""
    if item.amount is not None:
        return item.amount
    if item.price is not None:
        return item.price * item.quantity
    return 0


@dataclass
class Effect:
    """What one redeemable does to the order, in whole minor units.

    ``order_discount`` is order-level; ``line_discounts``/``line_discount_quantities``
    are keyed by line index; ``added_units`` maps a line index (existing or one of
    ``new_lines``, numbered after the existing lines) to units added.
    """

    order_discount: int = 0
    line_discounts: dict[int, int] = field(default_factory=dict)
    line_discount_quantities: dict[int, int] = field(default_factory=dict)
    added_units: dict[int, int] = field(default_factory=dict)
    new_lines: list[OrderItem] = field(default_factory=list)

    @property
    def items_discount(self) -> int:
        """Sum of this effect's line discounts."""
        return sum(self.line_discounts.values())

    @property
    def total_discount(self) -> int:
        """Order-level plus item-level discount of this effect."""
        return self.order_discount + self.items_discount

    @property
    def is_empty(self) -> bool:
        """True when the effect changes nothing (the §6.2 "no effect" case)."""
        return self.total_discount == 0 and not any(self.added_units.values())


class OrderState:
    """The order as it evolves through one request (engine-private, mutable)."""

    def __init__(self, order: Order) -> None:
        self.source = order
        self.lines = [
            LineState(
                item=item,
                price=item.price,
                quantity=item.quantity,
                amount=line_amount(item),
                initial_quantity=item.quantity,
                initial_amount=line_amount(item),
                prior_discount=item.discount_amount,
            )
            for item in order.items
        ]
        items_sum = sum(line.amount for line in self.lines)
        self.amount_given = order.amount is not None
        self.base_amount = order.amount if order.amount is not None else items_sum
        self.initial_amount = self.base_amount
        self.added_amount = 0
        self.prior_order_discount = order.discount_amount
        self.request_order_discount = 0

    @property
    def amount(self) -> int:
        """Order ``amount``: given/summed amount plus units added by effects (§7.4)."""
        return self.base_amount + self.added_amount

    @property
    def order_discount(self) -> int:
        """Cumulative order-level ``discount_amount`` (prior + this request)."""
        return self.prior_order_discount + self.request_order_discount

    @property
    def items_discount(self) -> int:
        """``items_discount_amount``: the sum of line discounts."""
        return sum(line.discount_amount for line in self.lines)

    @property
    def total_amount(self) -> int:
        """``amount − total_discount_amount``, never below zero."""
        return max(0, self.amount - self.order_discount - self.items_discount)

    @property
    def initial_base(self) -> int:
        """INITIAL_AMOUNT base (§10.2): the order before this request's discounts.

        ``amount`` (incl. units added so far) minus discounts from earlier requests
        only, never below zero.
        """
        prior_items = sum(line.prior_discount for line in self.lines)
        return max(0, self.amount - self.prior_order_discount - prior_items)

    def apply(self, effect: Effect) -> None:
        """Fold an effect into the state (units first, then discounts)."""
        for item in effect.new_lines:
            self.lines.append(
                LineState(
                    item=item,
                    price=item.price,
                    quantity=0,
                    amount=0,
                    initial_quantity=0,
                    initial_amount=0,
                )
            )
        for index, units in effect.added_units.items():
            line = self.lines[index]
            added_amount = units * line.unit_price
            line.quantity += units
            line.amount += added_amount
            line.request_added_quantity += units
            line.request_added_amount += added_amount
            self.added_amount += added_amount
        for index, discount in effect.line_discounts.items():
            self.lines[index].request_discount += discount
        for index, units in effect.line_discount_quantities.items():
            # Several discounts on the same units do not discount more units than the line has.
            line = self.lines[index]
            line.request_discount_quantity = min(
                line.quantity, line.request_discount_quantity + units
            )
        self.request_order_discount += effect.order_discount

    def snapshot(
        self,
        applied_order: int,
        applied_lines: Mapping[int, int],
        applied_quantities: Mapping[int, int],
        added_units: Mapping[int, int],
    ) -> OrderSnapshot:
        """Render the current state; ``applied_*`` are the step's (or request's) changes."""
        items = []
        for index, line in enumerate(self.lines):
            added = added_units.get(index, 0)
            items.append(
                ItemSnapshot(
                    index=index,
                    quantity=line.quantity,
                    price=line.price,
                    amount=line.amount,
                    initial_quantity=line.initial_quantity,
                    initial_amount=line.initial_amount,
                    discount_amount=line.discount_amount,
                    applied_discount_amount=applied_lines.get(index, 0),
                    discount_quantity=line.request_discount_quantity,
                    applied_discount_quantity=applied_quantities.get(index, 0),
                    applied_quantity=added,
                    applied_quantity_amount=added * line.unit_price,
                    subtotal_amount=max(0, line.amount - line.discount_amount),
                    product_id=line.item.product_id,
                    sku_id=line.item.sku_id,
                    source_id=line.item.source_id,
                    related_object=line.item.related_object,
                    id=line.item.id,
                    metadata=line.item.metadata,
                )
            )
        items_applied = sum(applied_lines.values())
        items_discount = self.items_discount
        return OrderSnapshot(
            amount=self.amount,
            initial_amount=self.initial_amount,
            discount_amount=self.order_discount,
            items_discount_amount=items_discount,
            total_discount_amount=self.order_discount + items_discount,
            total_amount=self.total_amount,
            applied_discount_amount=applied_order,
            items_applied_discount_amount=items_applied,
            total_applied_discount_amount=applied_order + items_applied,
            items=tuple(items),
            id=self.source.id,
            source_id=self.source.source_id,
            metadata=self.source.metadata,
        )

    def step_snapshot(self, effect: Effect) -> OrderSnapshot:
        """Snapshot after ``effect`` was applied, with that effect as the ``applied_*`` part."""
        return self.snapshot(
            effect.order_discount,
            effect.line_discounts,
            effect.line_discount_quantities,
            effect.added_units,
        )

    def final_snapshot(self) -> OrderSnapshot:
        """Snapshot with the whole request's changes as the ``applied_*`` part."""
        return self.snapshot(
            self.request_order_discount,
            {i: line.request_discount for i, line in enumerate(self.lines)},
            {i: line.request_discount_quantity for i, line in enumerate(self.lines)},
            {i: line.request_added_quantity for i, line in enumerate(self.lines)},
        )


def metadata_of(order: Order) -> Mapping[str, Json]:
    """The order's metadata (empty mapping when absent)."""
    return order.metadata or EMPTY
