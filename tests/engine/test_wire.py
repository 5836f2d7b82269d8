"""wire.py: wire dicts become model objects the engine evaluates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from voucherd.engine import evaluate
from voucherd.engine.model import (
    DailyHours,
    Discount,
    RedeemableInput,
    Snapshot,
    StackingRules,
    Target,
    UnitSpec,
    Voucher,
)
from voucherd.engine.wire import (
    customer_from_wire,
    discount_from_wire,
    order_from_wire,
    parse_datetime,
    rule_set_from_wire,
    stacking_rules_from_wire,
    validity_from_wire,
)

from .builders import NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-11-16", datetime(2016, 11, 16, tzinfo=UTC)),
        ("2016-11-16T14:14:31Z", datetime(2016, 11, 16, 14, 14, 31, tzinfo=UTC)),
        ("2016-11-16T14:14:31.138Z", datetime(2016, 11, 16, 14, 14, 31, 138000, tzinfo=UTC)),
        ("2016-11-16T16:14:31+02:00", datetime(2016, 11, 16, 14, 14, 31, tzinfo=UTC)),
        ("2016-11-16T14:14:31", datetime(2016, 11, 16, 14, 14, 31, tzinfo=UTC)),
        (None, None),
    ],
)
def test_parse_datetime_reads_iso_forms_as_utc(text: str | None, expected: datetime | None) -> None:
    assert parse_datetime(text) == expected


def test_discount_from_wire_reads_units_and_numbers() -> None:
    assert discount_from_wire({"type": "PERCENT", "percent_off": "12.5"}) == Discount(
        type="PERCENT", percent_off=12.5
    )
    unit = discount_from_wire(
        {
            "type": "UNIT",
            "effect": "ADD_MANY_ITEMS",
            "units": [{"unit_off": 1, "unit_type": "prod_x", "effect": "ADD_NEW_ITEMS"}],
        }
    )
    assert unit.units == (UnitSpec(unit_off=1, unit_type="prod_x", effect="ADD_NEW_ITEMS"),)


def test_validity_from_wire_reads_windows() -> None:
    validity = validity_from_wire(
        {
            "start_date": "2026-01-01T00:00:00Z",
            "validity_timeframe": {"interval": "P2D", "duration": "PT1H"},
            "validity_day_of_week": [1, 2],
            "validity_hours": {
                "daily": [{"start_time": "12:00", "expiration_time": "14:00", "days_of_week": [1]}]
            },
        }
    )
    assert validity.start_date == datetime(2026, 1, 1, tzinfo=UTC)
    assert (validity.timeframe_interval, validity.timeframe_duration) == ("P2D", "PT1H")
    assert validity.day_of_week == (1, 2)
    assert validity.daily_hours == (DailyHours("12:00", "14:00", (1,)),)


def test_rule_set_from_wire_reads_targets_and_message() -> None:
    rule_set = rule_set_from_wire(
        {
            "id": "val_1",
            "rules": {"logic": ""},
            "error": {"message": "nope"},
            "applicable_to": {
                "included": [{"object": "product", "id": "prod_1", "quantity_limit": "2"}],
                "excluded": [{"object": "sku", "id": "sku_1", "effect": "APPLY_TO_EVERY"}],
            },
        },
        "campaign",
        "camp_1",
    )
    assert rule_set.error_message == "nope"
    assert rule_set.applicable_to == (Target(object="product", id="prod_1", quantity_limit=2),)
    assert rule_set.inapplicable_to == (Target(object="sku", id="sku_1"),)
    assert (rule_set.related_object_type, rule_set.related_object_id) == ("campaign", "camp_1")


def test_stacking_rules_from_wire_keeps_defaults_for_missing_fields() -> None:
    assert stacking_rules_from_wire(None) == StackingRules()
    rules = stacking_rules_from_wire(
        {"applicable_redeemables_limit": 3, "exclusive_categories": ["cat_1"], "id": "stk_1"}
    )
    assert rules == StackingRules(applicable_redeemables_limit=3, exclusive_categories=("cat_1",))


def test_order_from_wire_computes_amounts_through_the_engine() -> None:
    order = order_from_wire(
        {
            "source_id": "web-1001",
            "items": [
                {"source_id": "tee", "related_object": "product", "quantity": "2", "price": 3000},
                {"product_id": "prod_2", "quantity": 1, "product": {"price": 2000}},
            ],
            "metadata": {"channel": "web"},
        }
    )
    assert order.items[0].quantity == 2
    assert order.items[1].price == 2000
    voucher = RedeemableInput(
        object="voucher",
        id="X",
        definition=Voucher(id="v_x", code="X", discount=Discount(type="PERCENT", percent_off=10)),
    )
    outcome = evaluate(Snapshot(redeemables=(voucher,), order=order, now=NOW))
    assert (outcome.order.amount, outcome.order.total_amount) == (8000, 7200)
    assert outcome.order.source_id == "web-1001"


def test_customer_from_wire() -> None:
    assert customer_from_wire(None) is None
    customer = customer_from_wire({"id": "cust_1", "metadata": {"a": 1}}, ("seg_1",))
    assert customer is not None
    assert (customer.id, dict(customer.metadata), customer.segment_ids) == (
        "cust_1",
        {"a": 1},
        ("seg_1",),
    )


def test_snapshot_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Snapshot(redeemables=(), order=order_from_wire({}), now=datetime(2026, 1, 1))  # noqa: DTZ001


def test_offset_time_zone_is_accepted() -> None:
    tz = timezone(timedelta(hours=-5))
    snapshot = Snapshot(redeemables=(), order=order_from_wire({}), now=NOW, tz=tz)
    assert evaluate(snapshot).valid is True
