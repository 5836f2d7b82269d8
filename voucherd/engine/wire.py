"""Wire-shaped dicts → engine model (BEHAVIOR.md §1.2, §1.3, §7.1, §10.1, §11.1, §12).

Convenience for the store/API layers: they keep definitions as the JSON the API
received (``discount``, ``validation rule``, ``stacking_rules``, ``order``) and
turn them into frozen model objects here. Parsing is lenient like the API
(numeric strings for quantities, naive datetimes are UTC, unknown fields
ignored); it raises ``ValueError`` only for values that cannot mean anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from voucherd.engine.model import (
    Customer,
    DailyHours,
    Discount,
    Order,
    OrderItem,
    RuleSet,
    StackingRules,
    Target,
    UnitSpec,
    Validity,
)


def parse_datetime(value: Any) -> datetime | None:
    """ISO date or date-time → tz-aware UTC datetime; None stays None.

    ``"2016-11-16"`` → midnight UTC; ``"2016-11-16T14:14:31Z"``; offsets are kept
    and converted; naive values are read as UTC (§1.2).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        raise ValueError(f"not a date-time: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int | float):
        return value
    try:
        parsed = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    return int(parsed) if parsed == parsed.to_integral_value() else float(parsed)


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def unit_from_wire(data: Mapping[str, Any], default_effect: str = "ADD_MISSING_ITEMS") -> UnitSpec:
    """A ``units[]`` element (or a single UNIT discount's unit fields)."""
    sku = data.get("sku") or {}
    return UnitSpec(
        unit_off=_number(data.get("unit_off")) or 0,
        unit_type=str(data.get("unit_type") or (data.get("product") or {}).get("id") or ""),
        effect=str(data.get("effect") or default_effect),
        unit_off_formula=data.get("unit_off_formula"),
        sku_id=sku.get("id") if isinstance(sku, Mapping) else None,
    )


def discount_from_wire(data: Mapping[str, Any]) -> Discount:
    """A wire ``discount`` object → :class:`Discount` (effect kept None when omitted)."""
    sku = data.get("sku") or {}
    return Discount(
        type=str(data["type"]),
        effect=data.get("effect"),
        amount_off=_number(data.get("amount_off")),
        amount_off_formula=data.get("amount_off_formula"),
        percent_off=_number(data.get("percent_off")),
        percent_off_formula=data.get("percent_off_formula"),
        fixed_amount=_number(data.get("fixed_amount")),
        fixed_amount_formula=data.get("fixed_amount_formula"),
        amount_limit=_number(data.get("amount_limit")),
        aggregated_amount_limit=_number(data.get("aggregated_amount_limit")),
        unit_off=_number(data.get("unit_off")),
        unit_off_formula=data.get("unit_off_formula"),
        unit_type=data.get("unit_type") or (data.get("product") or {}).get("id"),
        sku_id=sku.get("id") if isinstance(sku, Mapping) else None,
        units=tuple(unit_from_wire(u) for u in data.get("units") or ()),
    )


def validity_from_wire(data: Mapping[str, Any]) -> Validity:
    """Dates and windows of a voucher, tier or campaign dict (§12 field names)."""
    timeframe = data.get("validity_timeframe") or {}
    hours = data.get("validity_hours") or {}
    days = data.get("validity_day_of_week")
    return Validity(
        start_date=parse_datetime(data.get("start_date")),
        expiration_date=parse_datetime(data.get("expiration_date")),
        timeframe_interval=timeframe.get("interval"),
        timeframe_duration=timeframe.get("duration"),
        day_of_week=tuple(int(d) for d in days) if days else None,
        daily_hours=tuple(
            DailyHours(
                start_time=str(period["start_time"]),
                expiration_time=str(period["expiration_time"]),
                days_of_week=tuple(int(d) for d in period.get("days_of_week", range(7))),
            )
            for period in hours.get("daily") or ()
        ),
    )


def target_from_wire(data: Mapping[str, Any]) -> Target:
    """An ``applicable_to.included/excluded`` entry (``effect`` defaults to APPLY_TO_EVERY)."""
    return Target(
        object=str(data.get("object") or "product"),
        id=str(data.get("id") or ""),
        source_id=data.get("source_id"),
        effect=str(data.get("effect") or "APPLY_TO_EVERY"),
        quantity_limit=_int(data.get("quantity_limit")),
        aggregated_quantity_limit=_int(data.get("aggregated_quantity_limit")),
        amount_limit=_number(data.get("amount_limit")),
        aggregated_amount_limit=_number(data.get("aggregated_amount_limit")),
        price=_number(data.get("price")),
        price_formula=data.get("price_formula"),
        target=str(data.get("target") or "ITEM"),
        repeat=_int(data.get("repeat")),
        skip_initially=_int(data.get("skip_initially")),
    )


def rule_set_from_wire(
    data: Mapping[str, Any],
    related_object_type: str | None = None,
    related_object_id: str | None = None,
) -> RuleSet:
    """A stored validation rule object (``val_``) → :class:`RuleSet`.

    Pass the assignment's ``related_object_type``/``related_object_id`` so counter
    rules know their scope.
    """
    applicable = data.get("applicable_to") or {}
    error = data.get("error") or {}
    return RuleSet(
        id=str(data.get("id") or ""),
        rules=dict(data.get("rules") or {}),
        error_message=error.get("message") if isinstance(error, Mapping) else None,
        applicable_to=tuple(target_from_wire(t) for t in applicable.get("included") or ()),
        inapplicable_to=tuple(target_from_wire(t) for t in applicable.get("excluded") or ()),
        related_object_type=related_object_type,
        related_object_id=related_object_id,
    )


_STACKING_TUPLES = {
    "exclusive_categories",
    "joint_categories",
    "initial_amount_mode_categories",
    "discounted_amount_mode_categories",
    "no_effect_skip_categories",
    "no_effect_redeem_anyway_categories",
}


def stacking_rules_from_wire(data: Mapping[str, Any] | None) -> StackingRules:
    """Stored stacking rules → :class:`StackingRules`; absent/None fields keep §10.1 defaults."""
    if not data:
        return StackingRules()
    fields: dict[str, Any] = {}
    for name in StackingRules.__dataclass_fields__:
        value = data.get(name)
        if value is None:
            continue
        if name in _STACKING_TUPLES:
            fields[name] = tuple(value)
        elif name == "applicable_redeemables_category_limits":
            fields[name] = {str(k): int(v) for k, v in value.items()}
        else:
            fields[name] = value
    return StackingRules(**fields)


def order_item_from_wire(data: Mapping[str, Any]) -> OrderItem:
    """A request/stored order item. ``price`` falls back to ``product.price``/``sku.price``;
    ``quantity`` accepts numeric strings (§1.3)."""
    product = data.get("product") or {}
    sku = data.get("sku") or {}
    price = _int(data.get("price"))
    if price is None:
        price = (
            _int(sku.get("price")) if sku.get("price") is not None else _int(product.get("price"))
        )
    quantity = _int(data.get("quantity"))
    return OrderItem(
        quantity=1 if quantity is None else quantity,
        price=price,
        amount=_int(data.get("amount")),
        product_id=data.get("product_id") or product.get("id"),
        sku_id=data.get("sku_id") or sku.get("id"),
        source_id=data.get("source_id"),
        related_object=data.get("related_object"),
        product_source_id=product.get("source_id"),
        sku_source_id=sku.get("source_id"),
        id=data.get("id"),
        metadata=dict(data.get("metadata") or {}),
        product_metadata=dict(product.get("metadata") or {}),
        sku_metadata=dict(sku.get("metadata") or {}),
        discount_amount=_int(data.get("discount_amount")) or 0,
    )


def order_from_wire(data: Mapping[str, Any] | None, prior_discount_amount: int = 0) -> Order:
    """A request/stored order → :class:`Order`.

    ``prior_discount_amount`` is the order-level discount already persisted on an
    existing order (Example F); item ``discount_amount`` values are read from items.
    """
    data = data or {}
    return Order(
        amount=_int(data.get("amount")),
        items=tuple(order_item_from_wire(i) for i in data.get("items") or ()),
        metadata=dict(data.get("metadata") or {}),
        discount_amount=prior_discount_amount,
        id=data.get("id"),
        source_id=data.get("source_id"),
    )


def customer_from_wire(
    data: Mapping[str, Any] | None, segment_ids: tuple[str, ...] = ()
) -> Customer | None:
    """A resolved customer dict → :class:`Customer` (None stays None)."""
    if data is None:
        return None
    return Customer(
        id=data.get("id"),
        source_id=data.get("source_id"),
        metadata=dict(data.get("metadata") or {}),
        segment_ids=segment_ids,
    )
