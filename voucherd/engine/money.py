"""Money arithmetic: exact intermediates, integer minor units out (BEHAVIOR.md §1.3, §7.5).

Every amount the engine reports is an ``int`` in minor units (``2000`` = 20.00).
Intermediate values stay exact as :class:`fractions.Fraction`; rounding happens
only in the helpers below, and each one states its rule with a worked number.

Rounding decision (§7.5, unconfirmed upstream): each redeemable's discount is
rounded once, half up; when it is spread over order lines the shares are floored
and the leftover minor units go to the lines with the largest fractional parts
(ties: request order), so the shares always add up to the rounded discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

Number = int | float | Decimal | Fraction

HUNDRED = Fraction(100)


def exact(value: Number) -> Fraction:
    """Convert a definition value (``int``, ``float``, ``Decimal``) to an exact fraction.

    Floats go through their shortest decimal repr, so ``12.5`` becomes ``25/2``
    and ``0.1`` becomes ``1/10`` (not the binary ``3602879701896397/36028797018963968``).
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(Decimal(repr(value)))
    return Fraction(value)


def round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves away from zero.

    ``1049.5`` → ``1050``; ``1049.49`` → ``1049``; ``-2.5`` → ``-3``.
    """
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole, remainder = divmod(magnitude.numerator, magnitude.denominator)
    if 2 * remainder >= magnitude.denominator:
        whole += 1
    return sign * whole


def percent_of(base: int | Fraction, percent: Number) -> Fraction:
    """Exact ``percent`` % of ``base``; no rounding.

    ``percent_of(10500, 10)`` → ``1050``; ``percent_of(333, 12.5)`` → ``333/8`` (41.625).
    """
    return Fraction(base) * exact(percent) / HUNDRED


def major_to_minor(value: Fraction) -> Fraction:
    """Major currency units to minor units, exactly: ``52`` → ``5200``, ``0.125`` → ``12.5``."""
    return value * HUNDRED


def minor_to_major(value: int | Fraction) -> Fraction:
    """Minor currency units to major units, exactly: ``6500`` → ``65``, ``1`` → ``1/100``."""
    return Fraction(value) / HUNDRED


def clamp(value: int, low: int, high: int) -> int:
    """Clamp ``value`` into ``[low, high]``: ``clamp(1500, 0, 800)`` → ``800``.

    ``high`` below ``low`` is treated as ``low`` (``clamp(5, 0, -3)`` → ``0``), so a
    cap that went negative never produces a negative discount.
    """
    if high < low:
        return low
    return max(low, min(value, high))


def clamp_exact(value: Fraction, low: Fraction | int, high: Fraction | int) -> Fraction:
    """Clamp an exact value into ``[low, high]`` without rounding (``high < low`` → ``low``)."""
    if high < low:
        return Fraction(low)
    return max(Fraction(low), min(value, Fraction(high)))


def distribute(total: int, exact_shares: Sequence[Fraction]) -> list[int]:
    """Integer shares of ``total`` following exact shares, by largest remainder.

    Floors every exact share, then hands the ``total - sum(floors)`` leftover units,
    one each, to the shares with the largest fractional parts (ties: earlier index).
    ``total`` is normally ``round_half_up(sum(exact_shares))``.

    Worked number: shares ``99.9/3`` each (``33.3``) with total ``100`` → floors
    ``33, 33, 33``, one leftover unit to the first → ``[34, 33, 33]``.
    If ``total`` is below the floors' sum (a caller capped it) the excess is taken
    back from the end: ``distribute(5, [3, 3])`` → ``[3, 2]``.
    """
    if total < 0:
        raise ValueError("cannot distribute a negative total")
    floors = [share.numerator // share.denominator for share in exact_shares]
    leftover = total - sum(floors)
    if leftover >= 0:
        by_fraction = sorted(
            range(len(exact_shares)),
            key=lambda index: (-(exact_shares[index] - floors[index]), index),
        )
        result = list(floors)
        position = 0
        while leftover > 0 and by_fraction:
            result[by_fraction[position % len(by_fraction)]] += 1
            leftover -= 1
            position += 1
        return result
    # The total was capped below the floors: trim from the last lines backwards.
    result = list(floors)
    for index in reversed(range(len(result))):
        take = min(result[index], -leftover)
        result[index] -= take
        leftover += take
        if leftover == 0:
            break
    return result


def split_proportionally(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Split integer ``total`` in proportion to ``weights``; shares sum to ``total`` exactly.

    Largest-remainder rule (see :func:`distribute`). ``split_proportionally(1000,
    [6000, 2000])`` → ``[750, 250]``; ``split_proportionally(100, [1, 1, 1])`` →
    ``[34, 33, 33]``. All-zero weights give all-zero shares (nothing to split on).
    """
    weight_sum = sum(Fraction(weight) for weight in weights)
    if weight_sum == 0:
        return [0 for _ in weights]
    shares = [Fraction(total) * Fraction(weight) / weight_sum for weight in weights]
    return distribute(total, shares)
