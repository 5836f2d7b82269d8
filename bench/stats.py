"""Small numeric helpers shared by the harness and the fallback load generator."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile of already sorted values, nearest-rank (0 when empty).

    Nearest rank never invents a value: with 200 samples p99 is the 198th smallest
    (ceil(0.99 * 200) = 198), the same convention wrk's histogram uses.
    """
    if not sorted_values:
        return 0.0
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return float(sorted_values[rank - 1])


def ratio(value: float, reference: float) -> float | None:
    """``value / reference``, or None when there is no reference to divide by."""
    if reference <= 0:
        return None
    return value / reference
