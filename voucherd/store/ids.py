"""Object identifiers: ``<prefix>_<hex>``, roughly time-ordered.

Twelve hex digits of milliseconds since the epoch, then twelve random hex digits,
so ids sort by creation time across processes (handy for stable paging) while
staying unguessable. Clients treat them as opaque (BEHAVIOR.md §1.1).
"""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """Return a fresh id such as ``r_0193a1b2c3d4e5f60718293a``."""
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{millis:012x}{secrets.token_hex(6)}"


def new_token(nbytes: int = 24) -> str:
    """Return a URL-safe random secret for API tokens."""
    return secrets.token_urlsafe(nbytes)


def new_request_id() -> str:
    """Return an error ``request_id`` in Voucherify's ``v-<hex>`` form."""
    return "v-" + secrets.token_hex(9)


def new_ids(prefix: str, count: int) -> list[str]:
    """``count`` fresh ids sharing one timestamp, drawn with a single OS random read.

    Same shape as :func:`new_id`; for bulk inserts (100,000 generated vouchers).
    """
    millis = time.time_ns() // 1_000_000
    head = f"{prefix}_{millis:012x}"
    blob = secrets.token_hex(6 * count)
    return [head + blob[i * 12 : (i + 1) * 12] for i in range(count)]
