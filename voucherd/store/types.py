"""Portable column types: UTC timestamps and JSON that behave alike on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Timestamp(TypeDecorator[dt.datetime]):
    """A tz-aware UTC datetime.

    PostgreSQL stores ``timestamptz``. SQLite has no time zones, so values are
    stored as naive UTC and given ``tzinfo=UTC`` again when read; naive values
    handed to us are taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# JSON documents: JSONB on PostgreSQL (indexable, compact), TEXT-backed JSON on SQLite.
Json = JSON().with_variant(JSONB(), "postgresql")


def dumps(value: Any) -> str:
    """Serialise for the JSON columns (the engine's ``json_serializer``)."""
    return orjson.dumps(value).decode()


def loads(value: str | bytes) -> Any:
    """Deserialise the JSON columns (the engine's ``json_deserializer``)."""
    return orjson.loads(value)
