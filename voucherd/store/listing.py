"""Listing: paging, ordering, date ranges and the ``filters`` syntax (BEHAVIOR.md §4).

The API layer turns query strings into a :class:`ListQuery` (see
``voucherd.api.listing``); store modules apply it to a Core ``select`` with a map
from public field names to SQL expressions, so every list endpoint pages, sorts
and filters the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Boolean,
    ColumnElement,
    Connection,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
)

from voucherd.store.errors import InvalidQueryParams
from voucherd.store.types import Timestamp
from voucherd.store.wire import parse_datetime

LIST_OPERATORS = {"$in", "$not_in"}


@dataclass(frozen=True)
class Condition:
    """One ``filters[field][conditions][op]=value`` (``values`` for list operators)."""

    field: str
    operator: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ListQuery:
    """A parsed listing request."""

    limit: int = 10
    page: int = 1
    order: str | None = None
    created_before: dt.datetime | None = None
    created_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    junction: str = "and"
    conditions: tuple[Condition, ...] = ()
    # Endpoint-specific shortcut parameters (``campaign``, ``customer``, ``result`` ...).
    params: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def offset(self) -> int:
        """Rows to skip for ``page``."""
        return (self.page - 1) * self.limit

    def param(self, name: str) -> str | None:
        """The last value of a shortcut parameter, or None."""
        values = self.params.get(name)
        return values[-1] if values else None


FieldMap = Mapping[str, ColumnElement[Any]]


def _coerce(column: ColumnElement[Any], raw: str, name: str) -> Any:
    """Turn a query-string value into the column's Python type."""
    col_type = column.type
    try:
        if isinstance(col_type, Timestamp):
            return parse_datetime(raw, name)
        if isinstance(col_type, Integer | BigInteger):
            return int(raw)
        if isinstance(col_type, Boolean):
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"
    except ValueError as exc:
        raise InvalidQueryParams(f"Invalid value {raw!r} for filter {name}") from exc
    return raw


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def condition_clause(column: ColumnElement[Any], cond: Condition) -> ColumnElement[bool]:
    """SQL for one condition; raises InvalidQueryParams for unknown operators."""
    op = cond.operator
    if op == "$has_value":
        return column.is_not(None)
    if op == "$is_unknown":
        return column.is_(None)
    if not cond.values:
        raise InvalidQueryParams(f"Filter {cond.field} {op} needs a value")
    values = [_coerce(column, v, cond.field) for v in cond.values]
    first = values[0]
    clauses: dict[str, Callable[[], ColumnElement[bool]]] = {
        "$is": lambda: column == first,
        "$is_not": lambda: or_(column != first, column.is_(None)),
        "$in": lambda: column.in_(values),
        "$not_in": lambda: or_(column.not_in(values), column.is_(None)),
        "$starts_with": lambda: column.like(_like_escape(str(first)) + "%", escape="\\"),
        "$ends_with": lambda: column.like("%" + _like_escape(str(first)), escape="\\"),
        "$contains": lambda: column.like("%" + _like_escape(str(first)) + "%", escape="\\"),
        "$not_contain": lambda: or_(
            column.not_like("%" + _like_escape(str(first)) + "%", escape="\\"), column.is_(None)
        ),
        "$after": lambda: column > first,
        "$before": lambda: column < first,
        "$more_than": lambda: column > first,
        "$less_than": lambda: column < first,
        "$more_than_equal": lambda: column >= first,
        "$more_than_or_equal": lambda: column >= first,
        "$less_than_equal": lambda: column <= first,
        "$less_than_or_equal": lambda: column <= first,
    }
    if op not in clauses:
        raise InvalidQueryParams(f"Unknown filter operator {op} for {cond.field}")
    return clauses[op]()


def filter_clause(
    query: ListQuery,
    fields: FieldMap,
    resolve: Callable[[str], ColumnElement[Any] | None] | None = None,
) -> ColumnElement[bool] | None:
    """The ``filters`` of ``query`` as one clause (joined by its junction), or None.

    ``fields`` maps public names to columns; ``resolve`` may supply others (such as
    ``metadata.x`` paths). Unknown fields are a 400 ``invalid_query_params``.
    """
    parts: list[ColumnElement[bool]] = []
    for cond in query.conditions:
        column = fields.get(cond.field)
        if column is None and resolve is not None:
            column = resolve(cond.field)
        if column is None:
            raise InvalidQueryParams(f"Unknown filter field {cond.field}")
        parts.append(condition_clause(column, cond))
    if not parts:
        return None
    return or_(*parts) if query.junction == "or" else and_(*parts)


def date_range_clause(
    query: ListQuery,
    created: ColumnElement[Any] | None,
    updated: ColumnElement[Any] | None = None,
) -> ColumnElement[bool]:
    """``created_at[before|after]`` and ``updated_at[...]`` as strict inequalities."""
    parts: list[ColumnElement[bool]] = []
    if created is not None:
        if query.created_before is not None:
            parts.append(created < query.created_before)
        if query.created_after is not None:
            parts.append(created > query.created_after)
    if updated is not None:
        if query.updated_before is not None:
            parts.append(updated < query.updated_before)
        if query.updated_after is not None:
            parts.append(updated > query.updated_after)
    return and_(true(), *parts)


def ordering(
    query: ListQuery,
    orders: Mapping[str, ColumnElement[Any]],
    default: str,
    tiebreak: ColumnElement[Any],
) -> list[ColumnElement[Any]]:
    """ORDER BY terms for ``query.order`` (``-`` = descending), stable via ``tiebreak``."""
    spec = query.order or default
    descending = spec.startswith("-")
    name = spec.lstrip("-")
    column = orders.get(name)
    if column is None:
        allowed = ", ".join(sorted(orders))
        raise InvalidQueryParams(
            f"Invalid order {spec!r}; allowed: {allowed} (prefix - to reverse)"
        )
    if descending:
        return [column.desc(), tiebreak.desc()]
    return [column.asc(), tiebreak.asc()]


def page(
    conn: Connection,
    base: Select[Any],
    query: ListQuery,
    order_by: Sequence[ColumnElement[Any]],
    *,
    count: bool = True,
) -> tuple[list[Any], int]:
    """Run ``base`` for one page and (optionally) count all matches: (rows, total)."""
    rows = list(conn.execute(base.order_by(*order_by).limit(query.limit).offset(query.offset)))
    total = total_from_page(len(rows), query.limit, query.offset) if count else 0
    if total is None:
        counting = select(func.count()).select_from(base.order_by(None).subquery())
        total = int(conn.execute(counting).scalar_one())
    return rows, total


def total_from_page(found: int, limit: int, offset: int) -> int | None:
    """The number of matches one page of them implies, or None when a COUNT must tell.

    A page shorter than ``limit`` is the last one, so the total is ``offset`` plus
    what it holds; unless it is empty past the first page (the matches may end
    anywhere before it). Exact when the page and the count would read one snapshot.
    """
    if found < limit and (found or not offset):
        return offset + found
    return None


def by_id_or_source_id(table: Table, *scope: ColumnElement[bool]) -> Select[Any]:
    """The row of ``table`` whose id, else whose source_id, is ``:ident`` in ``:project_id``.

    One statement for the usual two lookups: read its first row, the id match sorts
    first. ``scope`` narrows both (live rows, say); at most one row in it may hold a
    given source_id.
    """
    ident: BindParameter[str] = bindparam("ident")
    where = (table.c.project_id == bindparam("project_id"), *scope)
    by_source_id = select(table.c.id).where(*where, table.c.source_id == ident).scalar_subquery()
    # ``id IN (...)`` keeps both lookups on their indexes; ``id = :ident OR source_id =
    # :ident`` had SQLite scan the project's rows.
    return (
        select(table)
        .where(*where, table.c.id.in_([ident, by_source_id]))
        .order_by((table.c.id == ident).desc())
    )


def nothing() -> ColumnElement[bool]:
    """A clause matching no row (e.g. a filter on an unknown customer)."""
    return false()


def in_project_by_ids(table: Table) -> ColumnElement[bool]:
    """``table.project_id = :project_id``, for statements that fetch rows by id lists.

    Without table statistics SQLite rates ``project_id = ?`` as selective as a
    primary-key look-up of three or more ids and walks a ``(project_id, …)`` index
    instead, i.e. every row of the project. Wrapped in a function the column serves
    no index, so the primary key does the look-up; rows are still filtered by project.
    """
    return func.coalesce(table.c.project_id, "") == bindparam("project_id")
