"""Listing query parsing tolerates every encoding of BEHAVIOR.md §2.3 and §4."""

from __future__ import annotations

import datetime as dt

import pytest

from voucherd.api.listing import parse_list_query
from voucherd.store.errors import InvalidQueryParams
from voucherd.store.listing import Condition


def test_defaults_are_limit_10_page_1() -> None:
    query = parse_list_query([])
    assert (query.limit, query.page, query.order, query.conditions) == (10, 1, None, ())


@pytest.mark.parametrize(
    ("key", "value"), [("limit", "0"), ("limit", "101"), ("limit", "x"), ("page", "0")]
)
def test_out_of_range_paging_is_invalid_query_params(key: str, value: str) -> None:
    with pytest.raises(InvalidQueryParams):
        parse_list_query([(key, value)])


def test_page_limit_is_per_endpoint() -> None:
    with pytest.raises(InvalidQueryParams):
        parse_list_query([("page", "100")], max_page=99)
    assert parse_list_query([("page", "100")]).page == 100


@pytest.mark.parametrize(
    "prefix",
    [
        "",
        "[",
    ],
)
def test_filters_in_both_bracket_forms(prefix: str) -> None:
    key = (
        "filters[voucher_code][conditions][$is]"
        if not prefix
        else "[filters][voucher_code][conditions][$is]"
    )
    query = parse_list_query([(key, "SPRING")])
    assert query.conditions == (Condition("voucher_code", "$is", ("SPRING",)),)


@pytest.mark.parametrize(
    "pairs",
    [
        [("filters[result][conditions][$in]", "['SUCCESS', 'FAILURE x']")],
        [("filters[result][conditions][$in]", '["SUCCESS", "FAILURE x"]')],
        [("filters[result][conditions][$in]", "SUCCESS,FAILURE x")],
        [
            ("filters[result][conditions][$in]", "SUCCESS"),
            ("filters[result][conditions][$in]", "FAILURE x"),
        ],
        [
            ("filters[result][conditions][$in][0]", "SUCCESS"),
            ("filters[result][conditions][$in][1]", "FAILURE x"),
        ],
    ],
)
def test_list_conditions_in_every_encoding(pairs: list[tuple[str, str]]) -> None:
    query = parse_list_query(pairs)
    assert query.conditions == (Condition("result", "$in", ("SUCCESS", "FAILURE x")),)


def test_literal_none_values_are_ignored_and_junction_is_case_insensitive() -> None:
    query = parse_list_query(
        [
            ("filters[result][conditions][$in]", "None"),
            ("filters[customer_id]", "None"),
            ("filters[junction]", "OR"),
            ("filters[failure_code][conditions][$is]", "quantity_exceeded"),
        ]
    )
    assert query.junction == "or"
    assert query.conditions == (Condition("failure_code", "$is", ("quantity_exceeded",)),)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("created_at[before]", "2024-01-02T03:04:05+00:00"),
        ("[created_at][before]", "2024-01-02T03:04:05Z"),
        ("created_at[before]", "2024-01-02T03:04:05"),
    ],
)
def test_created_at_in_both_iso_forms(key: str, value: str) -> None:
    query = parse_list_query([(key, value)])
    assert query.created_before == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_bad_date_is_invalid_query_params() -> None:
    with pytest.raises(InvalidQueryParams):
        parse_list_query([("created_at[after]", "yesterday")])


def test_shortcut_params_are_kept_repeatable() -> None:
    query = parse_list_query([("result", "SUCCESS"), ("result", "FAILURE"), ("customer", "c1")])
    assert query.params["result"] == ("SUCCESS", "FAILURE")
    assert query.param("customer") == "c1"
