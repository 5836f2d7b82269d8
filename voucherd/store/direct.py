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
- parameters follow ``construct_params``'s rules (worked out once per plan, see
  :class:`_Plan`) and go through the dialect's own bind processors, results through
  the dialect's own result processors (the same functions);
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
from typing import Any, NamedTuple, NoReturn, TypeVar

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


# A parameter with no default: missing from a call, SQLAlchemy raises (we let it).
_REQUIRED = object()


class _Bind(NamedTuple):
    """Where one driver parameter's value comes from in a call's parameters."""

    key: str  # looked up first (the bindparam's key, or the column's for DML)
    name: str  # then the compiled name
    default: Any  # else this; _REQUIRED: SQLAlchemy's error
    member: int  # >= 0: the value is this element of a list (an IN list's member)
    processor: Callable[[Any], Any] | None  # the dialect's bind processor
    out: str  # the driver's parameter name (pyformat)


class _Plan:
    """One compiled form of a statement, with everything a call needs precomputed.

    A call's parameters become the driver's by the rules of SQLAlchemy's
    ``construct_params`` (the key, then the compiled name, then the bind's own
    value), worked out once per plan instead of per call. IN lists change the SQL
    with their lengths: each combination of lengths gets its own SQL and spec, made
    once by SQLAlchemy's ``construct_expanded_state``. Anything unusual — a bind
    whose value is computed per call, a missing required value, an IN list that is
    not a plain list of scalars — takes SQLAlchemy's functions on every call.
    """

    __slots__ = (
        "binds",
        "compiled",
        "expanded",
        "expanding",
        "fixed",
        "many",
        "origin",
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
        self.expanding: list[str] = [bind.key for bind in compiled.post_compile_params]
        self.expanded: dict[tuple[int, ...], tuple[str, list[_Bind]]] = {}
        # executemany: only statements that return nothing and have one SQL text.
        self.many = not self.expanding and not compiled._result_columns
        # compiled name -> (key, default) of its bind
        self.origin: dict[str, tuple[str, Any]] = {}
        self.fixed = True
        for bind, name in compiled.bind_names.items():
            if bind.callable is not None:
                self.fixed = False
            default = _REQUIRED if bind.required else bind.value
            self.origin[name] = (bind.key, default)
        processors = compiled._bind_processors
        names = compiled.positiontup if self.positional else list(self.origin)
        self.binds = [self._bind(name, processors.get(name)) for name in names or ()]
        self.row = row
        # Result processors depend on the driver's column types: set on the first result.
        self.processors: list[Callable[[Any], Any] | None] | None = None

    def _bind(self, name: str, processor: Any, member: int = -1, out: str | None = None) -> _Bind:
        key, default = self.origin[name]
        return _Bind(key, name, default, member, processor, out or name)

    @classmethod
    def build(cls, statement: Any, dialect: Dialect, names: frozenset[str]) -> _Plan | None:
        compiled: Any = statement.compile(dialect=dialect, column_keys=sorted(names))
        if (
            compiled.literal_execute_params
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.escaped_bind_names
            or getattr(compiled, "_collected_params", None)  # .params() values (2.1)
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
        if not self.fixed:
            return self._by_sqlalchemy(params)
        sql, binds = self.sql, self.binds
        if self.expanding:
            lengths = []
            for key in self.expanding:
                members = params.get(key)
                if type(members) is not list or any(type(m) is tuple for m in members):
                    return self._by_sqlalchemy(params)
                lengths.append(len(members))
            shape = self.expanded.get(tuple(lengths))
            if shape is None:
                shape = self._expand(params, tuple(lengths))
            sql, binds = shape
        values = []
        for key, name, default, member, processor, _ in binds:
            if key in params:
                value = params[key]
            elif name in params:
                value = params[name]
            elif default is _REQUIRED:
                return self._by_sqlalchemy(params)  # raises SQLAlchemy's error
            else:
                value = default
            if member >= 0:
                value = value[member]
            values.append(value if processor is None else processor(value))
        if self.positional:
            return sql, values
        return sql, {bind.out: value for bind, value in zip(binds, values, strict=True)}

    def _expand(
        self, params: Mapping[str, Any], lengths: tuple[int, ...]
    ) -> tuple[str, list[_Bind]]:
        """The SQL and parameter spec for IN lists of these lengths (made by SQLAlchemy)."""
        state = self.compiled.construct_expanded_state(params)
        members = {
            member: (name, index)
            for name, expanded in state.parameter_expansion.items()
            for index, member in enumerate(expanded)
        }
        binds = []
        for name in state.positiontup if self.positional else list(state.parameters):
            processor = state.processors.get(name)
            if name in members:
                origin, index = members[name]
                binds.append(self._bind(origin, processor, index, out=name))
            else:
                binds.append(self._bind(name, processor))
        shape = self.expanded[lengths] = (state.statement, binds)
        return shape

    def _by_sqlalchemy(
        self, params: Mapping[str, Any]
    ) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The general case, with SQLAlchemy's own functions (and its errors)."""
        if self.expanding:
            state = self.compiled.construct_expanded_state(params)
            sql, values, processors = state.statement, state.parameters, state.processors
            names = state.positiontup if self.positional else list(values)
        else:
            sql, values = self.sql, self.compiled.construct_params(params)
            processors = self.compiled._bind_processors
            names = self.compiled.positiontup if self.positional else list(values)
        converted = [
            processors[name](values[name]) if name in processors else values[name] for name in names
        ]
        if self.positional:
            return sql, converted
        return sql, dict(zip(names, converted, strict=True))

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
        _fail(connection, error, sql, (), None)
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
        description, raw, rowcount = self._run(sql, arguments, many=False)
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
        _description, _raw, rowcount = self._run(plan.sql, arguments, many=True)
        return Rows([], rowcount)

    def _run(self, sql: str, arguments: Any, *, many: bool) -> tuple[Any, list[Any], int]:
        """Execute on a fresh driver cursor: (description, fetched rows, rowcount)."""
        dbapi_connection: Any = self.connection.driver_connection
        cursor = dbapi_connection.cursor()
        started = time.perf_counter() if trace is not None else 0.0
        raw: list[Any] = []
        description: Any = None
        try:
            if many:
                cursor.executemany(sql, arguments)
            else:
                cursor.execute(sql, arguments)
                description = cursor.description
                raw = cursor.fetchall() if description else []
            rowcount = cursor.rowcount
        except self.dialect.loaded_dbapi.Error as error:
            _fail(self, error, sql, arguments, cursor)
        finally:
            cursor.close()
        if trace is not None:
            trace(sql, time.perf_counter() - started)
        return description, raw, rowcount


def _fail(connection: Connection, error: Any, sql: str, arguments: Any, cursor: Any) -> NoReturn:
    """Raise the driver's ``error`` as SQLAlchemy would, invalidating a lost connection."""
    dialect = connection.dialect
    invalidated = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if invalidated:
        connection.invalidate(error)
    raise exc.DBAPIError.instance(
        sql,
        arguments,
        error,
        dialect.loaded_dbapi.Error,
        dialect=dialect,
        connection_invalidated=invalidated,
    ) from error
