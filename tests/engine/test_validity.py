"""validity.py: each §12 failure key, windows and check order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from voucherd.engine import evaluate
from voucherd.engine.model import Campaign, DailyHours, Validity
from voucherd.engine.validity import parse_duration

from .builders import NOW, discount_voucher, snapshot, tier

DAY = timedelta(days=1)


def key_of(redeemable: object, **kwargs: object) -> str | None:
    result = evaluate(snapshot(redeemable, **kwargs)).redeemables[0]  # type: ignore[arg-type]
    return result.reason.key if result.reason else None


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"active": False}, "voucher_disabled"),
        ({"campaign": Campaign(id="camp_1", active=False)}, "voucher_disabled"),
        ({"validity": Validity(start_date=NOW + DAY)}, "voucher_not_active"),
        (
            {"campaign": Campaign(id="camp_1", validity=Validity(start_date=NOW + DAY))},
            "voucher_not_active",
        ),
        ({"validity": Validity(expiration_date=NOW - DAY)}, "voucher_expired"),
        (
            {"campaign": Campaign(id="camp_1", validity=Validity(expiration_date=NOW - DAY))},
            "voucher_expired",
        ),
        ({"validity": Validity(day_of_week=(0, 6))}, "voucher_not_active_now"),
        (
            {"validity": Validity(daily_hours=(DailyHours("08:00", "10:00"),))},
            "voucher_not_active_now",
        ),
        (
            {
                "validity": Validity(
                    start_date=NOW - timedelta(hours=5),
                    timeframe_interval="P1D",
                    timeframe_duration="PT4H",
                )
            },
            "voucher_not_active_now",
        ),
        ({"quantity": 10, "redeemed_quantity": 10}, "quantity_exceeded"),
        ({"quantity": 4, "redeemed_quantity": 1, "reserved_quantity": 3}, "quantity_exceeded"),
        ({"quantity": 4, "redeemed_quantity": 1, "reserved_quantity": 2}, None),
        ({"quantity": None, "redeemed_quantity": 10_000}, None),
        ({"validity": Validity(day_of_week=(3,))}, None),
        ({"validity": Validity(daily_hours=(DailyHours("11:00", "13:00", (3,)),))}, None),
        ({"validity": Validity(daily_hours=(DailyHours("22:00", "13:00", (2,)),))}, None),
        (
            {
                "validity": Validity(
                    start_date=NOW - timedelta(hours=25),
                    timeframe_interval="P1D",
                    timeframe_duration="PT2H",
                )
            },
            None,
        ),
    ],
)
def test_voucher_status_checks(kwargs: dict[str, object], key: str | None) -> None:
    assert key_of(discount_voucher(**kwargs)) == key  # type: ignore[arg-type]


def test_quantity_failure_details_name_expected_and_actual() -> None:
    result = evaluate(snapshot(discount_voucher(quantity=10, redeemed_quantity=10))).redeemables[0]
    assert result.reason is not None
    assert dict(result.reason.details) == {
        "check": "quantity",
        "expected": "redeemed_quantity + reserved_quantity < 10",
        "actual": 10,
        "redeemed_quantity": 10,
        "reserved_quantity": 0,
    }


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"active": False}, "promotion_inactive"),
        ({"campaign": Campaign(id="camp_1", active=False)}, "promotion_inactive"),
        ({"validity": Validity(day_of_week=(1,))}, "promotion_not_active_now"),
        ({"validity": Validity(start_date=NOW + DAY)}, "voucher_not_active"),
        ({"validity": Validity(expiration_date=NOW - DAY)}, "voucher_expired"),
    ],
)
def test_tier_status_checks(kwargs: dict[str, object], key: str) -> None:
    assert key_of(tier(**kwargs)) == key  # type: ignore[arg-type]


def test_disabled_wins_over_expired() -> None:
    voucher = discount_voucher(active=False, validity=Validity(expiration_date=NOW - DAY))
    assert key_of(voucher) == "voucher_disabled"


def test_expired_wins_over_quantity() -> None:
    voucher = discount_voucher(
        quantity=1, redeemed_quantity=1, validity=Validity(expiration_date=NOW - DAY)
    )
    assert key_of(voucher) == "voucher_expired"


def test_day_of_week_uses_the_project_time_zone() -> None:
    # 23:30 UTC on Wednesday is Thursday (4) in UTC+2.
    late = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)
    voucher = discount_voucher(validity=Validity(day_of_week=(4,)))
    assert key_of(voucher, now=late) == "voucher_not_active_now"
    assert key_of(voucher, now=late, tz=timezone(timedelta(hours=2))) is None


def test_not_found_redeemable_reports_resource() -> None:
    from voucherd.engine.model import RedeemableInput

    result = evaluate(snapshot(RedeemableInput(object="voucher", id="NOPE"))).redeemables[0]
    assert result.status == "INAPPLICABLE"
    assert result.reason is not None
    assert result.reason.key == "not_found"
    assert result.reason.message == "Resource not found"
    assert result.reason.error_details == "Cannot find voucher with id NOPE"


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("PT1H", timedelta(hours=1)),
        ("P1DT2H", timedelta(hours=26)),
        ("P2W", timedelta(days=14)),
        ("P1M", timedelta(days=30)),
        ("PT30M", timedelta(minutes=30)),
        ("P", None),
        ("1 day", None),
        ("PT0S", None),
    ],
)
def test_parse_duration(text: str, delta: timedelta | None) -> None:
    assert parse_duration(text) == delta
