"""SQL for values inside the ``data`` JSON documents, alike on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement


def json_text(column: ColumnElement[Any], *path: str) -> ColumnElement[Any]:
    """The value at ``path`` in a JSON column as text (NULL when absent).

    ``as_string`` casts on SQLite (whose ``json_extract`` returns native values, so
    ``{"n": 1}`` would not equal the query-string ``'1'``) and uses ``#>>`` on
    PostgreSQL, so both databases compare text.
    """
    text: ColumnElement[Any] = column[path].as_string()
    return text


def metadata_resolver(column: ColumnElement[Any], *prefixes: str) -> Any:
    """A ``filters`` resolver mapping ``metadata.x`` (and other ``prefix.x``) to JSON text."""

    def resolve(name: str) -> ColumnElement[Any] | None:
        head, _, rest = name.partition(".")
        if rest and head in ("metadata", *prefixes):
            return json_text(column, head, *rest.split("."))
        return None

    return resolve
