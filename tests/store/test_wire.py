"""How timestamps render on the wire (BEHAVIOR.md §1.2): UTC, milliseconds, ``Z``."""

from __future__ import annotations

import datetime as dt

import pytest

from voucherd.store.wire import iso

PLUS_TWO = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (dt.datetime(2024, 8, 29, 16, 6, 10, 138_000, tzinfo=dt.UTC), "2024-08-29T16:06:10.138Z"),
        # Naive values are UTC.
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC).replace(tzinfo=None), "2024-01-01T00:00:00.000Z"),
        # Other offsets are converted; milliseconds are truncated, never rounded up.
        (dt.datetime(2024, 5, 5, 3, 4, 5, 999_999, tzinfo=PLUS_TWO), "2024-05-05T01:04:05.999Z"),
        (dt.datetime(2024, 1, 1, 1, 0, 0, 500, tzinfo=PLUS_TWO), "2023-12-31T23:00:00.000Z"),
        # Years before 1000 keep four digits (ISO 8601).
        (dt.datetime(999, 12, 31, 23, 59, 59, tzinfo=dt.UTC), "0999-12-31T23:59:59.000Z"),
    ],
)
def test_iso_renders_utc_milliseconds_and_z(
    value: dt.datetime | None, expected: str | None
) -> None:
    assert iso(value) == expected


def test_the_same_instant_renders_alike_whatever_its_offset_or_cache_state() -> None:
    instant = dt.datetime(2026, 12, 7, 6, 0, 0, 123_456, tzinfo=dt.UTC)
    same = instant.astimezone(PLUS_TWO)
    naive = instant.replace(tzinfo=None)
    # Rendered in both orders, so a cached first answer cannot stand in for the other.
    assert iso(same) == iso(instant) == iso(naive) == "2026-12-07T06:00:00.123Z"
    later = instant + dt.timedelta(milliseconds=1)
    assert iso(later) == "2026-12-07T06:00:00.124Z"
