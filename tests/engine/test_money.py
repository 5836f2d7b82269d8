"""money.py helpers and the §7.5 rounding decision."""

from __future__ import annotations

from fractions import Fraction

import pytest

from voucherd.engine import evaluate
from voucherd.engine.model import Discount
from voucherd.engine.money import (
    clamp,
    distribute,
    exact,
    percent_of,
    round_half_up,
    split_proportionally,
)

from .builders import discount_voucher, item, order, snapshot


@pytest.mark.parametrize(
    ("value", "rounded"),
    [
        (Fraction(21, 2), 11),
        (Fraction(2099, 2), 1050),
        (Fraction(104949, 100), 1049),
        (Fraction(-5, 2), -3),
        (Fraction(0), 0),
        (Fraction(1, 3), 0),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero(value: Fraction, rounded: int) -> None:
    assert round_half_up(value) == rounded


def test_exact_reads_floats_through_their_decimal_repr() -> None:
    assert exact(0.1) == Fraction(1, 10)
    assert exact(12.5) == Fraction(25, 2)
    assert percent_of(333, 12.5) == Fraction(333, 8)


def test_exact_rejects_booleans() -> None:
    with pytest.raises(TypeError):
        exact(True)


def test_clamp_never_returns_below_the_floor() -> None:
    assert clamp(1500, 0, 800) == 800
    assert clamp(-5, 0, 800) == 0
    assert clamp(5, 0, -3) == 0


def test_split_proportionally_hands_leftover_units_to_largest_fractions() -> None:
    assert split_proportionally(1000, [6000, 2000]) == [750, 250]
    assert split_proportionally(100, [1, 1, 1]) == [34, 33, 33]
    assert split_proportionally(101, [1, 2, 2]) == [20, 41, 40]
    assert split_proportionally(7, [0, 0]) == [0, 0]


def test_distribute_trims_from_the_end_when_the_total_was_capped() -> None:
    assert distribute(5, [Fraction(3), Fraction(3)]) == [3, 2]


def test_rounding_per_line_versus_per_total() -> None:
    """10 % off three lines of 333 (APPLY_TO_ITEMS) — we round the redeemable's total once.

    | rounding          | line 1 | line 2 | line 3 | sum |
    |-------------------|--------|--------|--------|-----|
    | exact             | 33.3   | 33.3   | 33.3   | 99.9|
    | per line (not us) | 33     | 33     | 33     | 99  |
    | per total (us)    | 34     | 33     | 33     | 100 |

    The total 99.9 rounds half up to 100; shares are floored (33 each) and the
    leftover unit goes to the largest fractional part, ties to the first line.
    """
    lines = (item("prod_1", 333), item("prod_2", 333), item("prod_3", 333))
    discount = Discount(type="PERCENT", percent_off=10, effect="APPLY_TO_ITEMS")
    outcome = evaluate(snapshot(discount_voucher(discount), order_=order(lines)))
    assert [line.discount_amount for line in outcome.order.items] == [34, 33, 33]
    assert outcome.order.items_discount_amount == 100


def test_order_level_percent_rounds_half_up() -> None:
    discount = Discount(type="PERCENT", percent_off=12.5, effect="APPLY_TO_ORDER")
    outcome = evaluate(snapshot(discount_voucher(discount), order_=order((item("p", 1004),))))
    # 12.5 % of 1004 = 125.5 → 126
    assert outcome.order.discount_amount == 126
