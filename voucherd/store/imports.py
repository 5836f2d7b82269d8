"""Bulk imports of vouchers with given codes (``POST /v1/vouchers/import``, campaign import).

The SaaS runs imports asynchronously; voucherd does the work before answering and
records an ``async_actions`` row that is already ``DONE``, like campaign generation.
An import is all or nothing: every item is created exactly as the single-voucher
endpoint would create it, in one transaction, and the first item that fails (a
live code → 409 ``duplicate_found``, an unknown category or campaign → 404, a loyalty
card without a campaign → 400 ``invalid_voucher``) fails the whole import, leaving
nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from voucherd.store import campaigns, vouchers
from voucherd.store.errors import Duplicate


def _no_repeats(items: Sequence[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for item in items:
        if item["code"] in seen:
            raise Duplicate("voucher", item["code"], f"Code {item['code']} is imported twice")
        seen.add(item["code"])


def import_vouchers(
    conn: Connection, project_id: str, items: Sequence[dict[str, Any]], *, now: dt.datetime
) -> str:
    """Create every item (a voucher body with its ``code``); returns the async action id."""
    _no_repeats(items)
    for item in items:
        vouchers.create_voucher(conn, project_id, item, now=now, code=item["code"])
    return campaigns.record_async_action(
        conn, project_id, "VOUCHERS.IMPORT", {"done_count": len(items)}, now=now
    )


def import_to_campaign(
    conn: Connection,
    project_id: str,
    id_or_name: str,
    items: Sequence[dict[str, Any]],
    *,
    now: dt.datetime,
) -> str:
    """Create every item in the campaign (its template overridden by the item); the action id."""
    campaign = campaigns.get_campaign(conn, project_id, id_or_name)
    _no_repeats(items)
    for item in items:
        body = {k: val for k, val in item.items() if k != "code"}
        campaigns.add_voucher_with_code(conn, project_id, campaign.id, item["code"], body, now=now)
    return campaigns.record_async_action(
        conn, project_id, "CAMPAIGN.VOUCHERS_IMPORT", {"done_count": len(items)}, now=now
    )
