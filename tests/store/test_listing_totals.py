"""A list's ``total`` is the same whether counted or read off a short last page."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.statements import statements
from voucherd.store import products
from voucherd.store.db import Database
from voucherd.store.listing import ListQuery, total_from_page
from voucherd.store.projects import ProjectKeys

NOW = dt.datetime(2024, 8, 29, 16, 6, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("found", "limit", "offset", "total"),
    [
        (3, 10, 0, 3),  # a short first page
        (0, 10, 0, 0),  # nothing at all
        (1, 2, 4, 5),  # a short last page
        (2, 2, 0, None),  # a full page: more may follow
        (0, 2, 6, None),  # empty past the first page: the matches end somewhere before
    ],
)
def test_total_from_page(found: int, limit: int, offset: int, total: int | None) -> None:
    assert total_from_page(found, limit, offset) == total


def test_every_page_reports_the_counted_total(db: Database, project: ProjectKeys) -> None:
    with db.write() as conn:
        for n in range(5):
            products.create_product(conn, project.id, {"source_id": f"p{n}"}, NOW)
    for limit in (1, 2, 5, 10):
        for number in range(1, 8):
            with db.read() as conn, statements(db) as seen:
                rows, total = products.list_products(
                    conn, project.id, ListQuery(limit=limit, page=number)
                )
            offset = (number - 1) * limit
            assert (len(rows), total) == (max(0, min(limit, 5 - offset)), 5)
            counted = any("count(" in s.lower() for s in seen)
            assert counted == (total_from_page(len(rows), limit, offset) is None)
