"""Query strings → :class:`~voucherd.store.listing.ListQuery`, tolerating the SDKs' encodings.

Accepted (BEHAVIOR.md §2.3, §4): ``filters[f][conditions][$op]=v`` and the
``[filters][f]...`` form; ``created_at[before]`` and ``[created_at][before]``;
``junction`` in any case; values equal to the literal string ``None`` are ignored;
list operators take JSON arrays, Python-literal lists, comma-separated strings,
repeated keys or indexed keys (``[$in][0]=A``); dates in either ISO form.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable

from fastapi import Request

from voucherd.store.errors import InvalidPayload, InvalidQueryParams
from voucherd.store.listing import LIST_OPERATORS, Condition, ListQuery
from voucherd.store.wire import parse_datetime

_SEGMENT = re.compile(r"[^\[\]]+")


def _split_list(raw: str) -> list[str]:
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        for parse in (json.loads, ast.literal_eval):
            try:
                parsed = parse(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(parsed, list):
                return [str(item) for item in parsed if item is not None and str(item) != "None"]
    return [part.strip() for part in text.split(",") if part.strip()]


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidQueryParams(f"Query param {name} must be an integer") from exc
    if not low <= value <= high:
        raise InvalidQueryParams(f"Query param {name} must be between {low} and {high}")
    return value


def _date(name: str, raw: str) -> dt.datetime:
    try:
        return parse_datetime(raw, name)
    except InvalidPayload as exc:
        raise InvalidQueryParams(
            f"Query param {name} must be an ISO 8601 date or date-time"
        ) from exc


def parse_list_query(
    items: Iterable[tuple[str, str]], *, max_page: int = 100, max_limit: int = 100
) -> ListQuery:
    """Parse ``(key, value)`` query pairs into a ListQuery (400 on bad values)."""
    limit, page, order = 10, 1, None
    dates: dict[str, dt.datetime] = {}
    junction = "and"
    values: dict[tuple[str, str], list[str]] = defaultdict(list)
    params: dict[str, list[str]] = defaultdict(list)
    for key, raw in items:
        if raw == "None":
            continue
        segments = _SEGMENT.findall(key)
        if not segments:
            continue
        head = segments[0]
        if head == "filters":
            if len(segments) == 2 and segments[1].lower() == "junction":
                junction = raw.lower()
                if junction not in ("and", "or"):
                    raise InvalidQueryParams("filters[junction] must be 'and' or 'or'")
            elif len(segments) >= 4 and segments[2] == "conditions":
                field, operator = segments[1], segments[3]
                if operator in LIST_OPERATORS:
                    values[(field, operator)].extend(_split_list(raw))
                else:
                    values[(field, operator)].append(raw)
            continue
        if head in ("created_at", "updated_at") and len(segments) == 2:
            when = segments[1]
            if when not in ("before", "after"):
                raise InvalidQueryParams(f"Unknown query param {key}")
            dates[f"{head.split('_')[0]}_{when}"] = _date(key, raw)
            continue
        if head == "limit":
            limit = _int("limit", raw, 1, max_limit)
        elif head == "page":
            page = _int("page", raw, 1, max_page)
        elif head == "order":
            order = raw
        else:
            params[key].append(raw)
    conditions = tuple(
        Condition(field, operator, tuple(vals)) for (field, operator), vals in values.items()
    )
    return ListQuery(
        limit=limit,
        page=page,
        order=order,
        created_before=dates.get("created_before"),
        created_after=dates.get("created_after"),
        updated_before=dates.get("updated_before"),
        updated_after=dates.get("updated_after"),
        junction=junction,
        conditions=conditions,
        params={k: tuple(v) for k, v in params.items()},
    )


def list_query(request: Request, *, max_page: int = 100) -> ListQuery:
    """The request's listing parameters."""
    return parse_list_query(request.query_params.multi_items(), max_page=max_page)


def list_envelope(
    data_ref: str, items: list[object], total: int, **extra: object
) -> dict[str, object]:
    """``{"object": "list", "data_ref": ..., <data_ref>: [...], "total": N}`` (§4.2)."""
    return {"object": "list", "data_ref": data_ref, data_ref: items, "total": total, **extra}
