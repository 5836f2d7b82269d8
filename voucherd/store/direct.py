"""Hot statements handed straight to the driver's cursor, compiled once per dialect.

``Connection.execute`` of a prebuilt statement costs about 11 µs of CPU on SQLite
before and after the driver's own ~2 µs (measured: 13.1 against 1.8 µs for a
one-row ``SELECT`` by primary key): the compiled-cache look-up, an execution
context, event dispatch, parameter and result set-up. A redeem runs 13 statements,
most of them inside SQLite's one write lock, where every microsecond holds up
every other writer; a PostgreSQL redeem is bound by the server's Python.

A statement marked with :func:`hot` and run through a :class:`DirectConnection`
(every connection of :class:`~voucherd.store.db.Database` is one) skips that
machinery but keeps SQLAlchemy's meaning:

- it is compiled by SQLAlchemy, once per dialect and set of parameter names (an
  INSERT's or UPDATE's column list follows the names, as in ``Connection.execute``);
- parameters go through ``construct_params`` and the dialect's own bind processors,
  results through the dialect's own result processors (the same functions);
- rows are light named tuples with ``_mapping``, attribute and index access;
- driver errors are wrapped into ``sqlalchemy.exc`` exactly as SQLAlchemy does
  (``DBAPIError.instance``), and a lost connection is invalidated.

Several parameter sets (executemany) run directly too when the statement returns no
rows and every set names the same parameters. Anything else takes SQLAlchemy's
normal path: literal-rendered parameters, Python-side column defaults, execution
options, a connection outside a transaction, and an engine that anyone is
listening to for statements (the tests that count SQL, ``bench.hotpath``): they
always see every statement.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

S = TypeVar("S", bound=Executable)

# id(statement) -> its plans; the registry keeps every hot statement alive, so an id
# is never reused while registered. Statements are module-level constants.
_HOT: dict[int, _Hot] = {}

# An observer of direct statements, ``trace(sql, seconds)``. While one is set the
# direct path runs even with statement listeners on the engine: whoever set it
# (bench.hotpath) sees direct statements here and the others through its listeners.
trace: Callable[[str, float], None] | None = None

# Off: every statement takes SQLAlchemy's path (bench.hotpath --no-direct compares).
enabled = True


def hot(statement: S) -> S:
    """Mark a prebuilt statement for the direct path; returns it unchanged."""
    _HOT.setdefault(id(statement), _Hot(statement))
    return statement


class _Hot:
    __slots__ = ("plans", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        # (dialect name, parameter names) -> plan, or None when the direct path cannot run it
        self.plans: dict[tuple[str, frozenset[str]], _Plan | None] = {}

    def plan(self, dialect: Dialect, names: frozenset[str]) -> _Plan | None:
        key = (dialect.name, names)
        try:
            return self.plans[key]
        except KeyError:
            plan = self.plans[key] = _Plan.build(self.statement, dialect, names)
            return plan


class _Plan:
    """One compiled form of a statement, with everything a call needs precomputed."""

    __slots__ = (
        "bind_processors",
        "binds",
        "compiled",
        "expanding",
        "many",
        "positional",
        "processors",
        "row",
        "sql",
    )

    def __init__(self, compiled: Any, row: type[tuple[Any, ...]] | None) -> None:
        self.compiled = compiled
        self.sql: str = compiled.string
        self.positional: bool = bool(compiled.positional)
        # IN lists: the SQL and the parameter order depend on each call's list lengths.
        self.expanding = bool(compiled.post_compile_params)
        # executemany: only statements that return nothing and have one SQL text.
        self.many = not self.expanding and not compiled._result_columns
        processors = compiled._bind_processors
        self.bind_processors: Mapping[str, Callable[[Any], Any]] = processors
        self.binds: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, processors.get(name)) for name in (compiled.positiontup or ())
        ]
        self.row = row
        # Result processors depend on the driver's column types: set on the first result.
        self.processors: list[Callable[[Any], Any] | None] | None = None

    @classmethod
    def build(cls, statement: Any, dialect: Dialect, names: frozenset[str]) -> _Plan | None:
        compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(names))
        if (
            compiled.literal_execute_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.escaped_bind_names
        ):
            return None
        fields = [column.keyname for column in compiled._result_columns]
        row: type[tuple[Any, ...]] | None = None
        if fields:
            try:
                row = _row_type(tuple(fields))
            except ValueError:  # duplicate or non-identifier column keys
                return None
        return cls(compiled, row)

    def arguments(self, params: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL and the driver's parameters for one call."""
        if self.expanding:
            state = self.compiled.construct_expanded_state(params)
            values, processors = state.parameters, state.processors
            if self.positional:
                return state.statement, [
                    processors[name](values[name]) if name in processors else values[name]
                    for name in state.positiontup
                ]
            return state.statement, {
                name: processors[name](value) if name in processors else value
                for name, value in values.items()
            }
        return self.sql, self._arguments(params)

    def _arguments(self, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = self.compiled.construct_params(params)
        if self.positional:
            return [
                values[name] if processor is None else processor(values[name])
                for name, processor in self.binds
            ]
        processors = self.bind_processors
        return {
            name: processors[name](value) if name in processors else value
            for name, value in values.items()
        }

    def result_processors(self, dialect: Dialect, description: Any) -> list[Any]:
        columns = self.compiled._result_columns
        processors = [
            column.type._cached_result_processor(dialect, entry[1])
            for column, entry in zip(columns, description, strict=True)
        ]
        self.processors = processors
        return processors


def _row_type(fields: tuple[str, ...]) -> type[tuple[Any, ...]]:
    base = collections.namedtuple("Row", fields)  # type: ignore[misc]

    class Row(base):
        """A result row: attributes, indexes and ``_mapping`` like SQLAlchemy's ``Row``."""

        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(self._fields, self, strict=True))

        @property
        def _t(self) -> tuple[Any, ...]:
            return tuple(self)

    return Row


class Rows:
    """The fetched rows of one direct statement (the parts of ``CursorResult`` we use)."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            if not self.rows:
                raise exc.NoResultFound("No row was found when one was required")
            raise exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self.rows[0]

    def one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> list[Any]:
        return [row[0] for row in self.rows]


def begin(connection: Connection, sql: str) -> None:
    """Start SQLite's transaction with ``sql`` on the driver (the engine's ``begin`` event)."""
    if not enabled or (trace is None and _observed(connection)):
        connection.exec_driver_sql(sql)
        return
    started = time.perf_counter() if trace is not None else 0.0
    dbapi_connection: Any = connection.connection.driver_connection
    try:
        dbapi_connection.execute(sql)
    except connection.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, (), error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        ) from error
    if trace is not None:
        trace(sql, time.perf_counter() - started)


def _observed(connection: Connection) -> bool:
    dispatch = connection.dispatch
    return bool(
        dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.before_execute
        or dispatch.after_execute
    )


class DirectConnection(Connection):
    """A ``Connection`` that runs :func:`hot` statements on the driver's cursor."""

    def execute(
        self,
        statement: Executable,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> Any:
        entry = _HOT.get(id(statement)) if enabled else None
        if (
            entry is not None
            and execution_options is None
            and (self.in_transaction() or self._execution_options.get("voucherd_single"))
            and (trace is not None or not _observed(self))
        ):
            if parameters is None or type(parameters) is dict:
                params: dict[str, Any] = parameters or {}
                plan = entry.plan(self.dialect, frozenset(params))
                if plan is not None:
                    return self._direct(plan, params)
            elif type(parameters) is list and parameters:
                names = frozenset(parameters[0])
                plan = entry.plan(self.dialect, names)
                if (
                    plan is not None
                    and plan.many
                    and all(type(p) is dict and p.keys() == names for p in parameters)
                ):
                    return self._direct_many(plan, parameters)
        return super().execute(statement, parameters, execution_options=execution_options)

    def _direct(self, plan: _Plan, params: dict[str, Any]) -> Rows:
        sql, arguments = plan.arguments(params)
        dbapi_connection: Any = self.connection.driver_connection
        cursor = dbapi_connection.cursor()
        started = time.perf_counter() if trace is not None else 0.0
        try:
            cursor.execute(sql, arguments)
            description = cursor.description
            raw = cursor.fetchall() if description else []
            rowcount = cursor.rowcount
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error, sql, arguments, cursor)
        finally:
            cursor.close()
        if trace is not None:
            trace(sql, time.perf_counter() - started)
        if not raw or plan.row is None:
            return Rows([], rowcount)
        processors = plan.processors
        if processors is None:
            processors = plan.result_processors(self.dialect, description)
        make = plan.row._make  # type: ignore[attr-defined]
        if any(processors):
            rows = [
                make([v if p is None else p(v) for p, v in zip(processors, values, strict=True)])
                for values in raw
            ]
        else:
            rows = [make(values) for values in raw]
        return Rows(rows, rowcount)

    def _direct_many(self, plan: _Plan, parameters: list[dict[str, Any]]) -> Rows:
        """Several parameter sets of a statement that returns no rows (``executemany``)."""
        arguments = [plan.arguments(params)[1] for params in parameters]
        dbapi_connection: Any = self.connection.driver_connection
        cursor = dbapi_connection.cursor()
        started = time.perf_counter() if trace is not None else 0.0
        try:
            cursor.executemany(plan.sql, arguments)
            rowcount = cursor.rowcount
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error, plan.sql, arguments, cursor)
        finally:
            cursor.close()
        if trace is not None:
            trace(plan.sql, time.perf_counter() - started)
        return Rows([], rowcount)

    def _fail(self, error: Any, sql: str, arguments: Any, cursor: Any) -> NoReturn:
        """Raise ``error`` as SQLAlchemy would, invalidating a lost connection."""
        dbapi_connection = self.connection.dbapi_connection
        invalidated = self.dialect.is_disconnect(error, dbapi_connection, cursor)
        if invalidated:
            self.invalidate(error)
        raise exc.DBAPIError.instance(
            sql,
            arguments,
            error,
            self.dialect.loaded_dbapi.Error,
            dialect=self.dialect,
            connection_invalidated=invalidated,
        ) from error
