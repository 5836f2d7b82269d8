"""Request-body rules of BEHAVIOR.md §2.3, at the parsing layer."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from voucherd.api.body import PayloadTooLarge, drop_nulls, parse_json_object, validate
from voucherd.store.errors import InvalidPayload


class Item(BaseModel):
    id: str
    quantity: int | None = None


class Body(BaseModel):
    redeemables: list[Item]


def parse(raw: bytes) -> dict[str, object]:
    return parse_json_object(raw, max_bytes=1000, max_depth=5)


@pytest.mark.parametrize("raw", [b"", b"   ", b"\n"])
def test_empty_body_reads_as_empty_object(raw: bytes) -> None:
    assert parse(raw) == {}


@pytest.mark.parametrize("raw", [b"{", b"[1]", b'"x"', b"nul"])
def test_malformed_or_non_object_body_is_invalid_payload(raw: bytes) -> None:
    with pytest.raises(InvalidPayload):
        parse(raw)


def test_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge):
        parse(b"{" + b" " * 1000 + b"}")


def test_nesting_deeper_than_the_limit_is_rejected() -> None:
    with pytest.raises(InvalidPayload, match="nested deeper than 5"):
        parse(b'{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}')


def test_nulls_mean_not_provided_but_metadata_keeps_them() -> None:
    assert drop_nulls({"a": None, "b": {"c": None, "d": 1}, "metadata": {"x": None}}) == {
        "b": {"d": 1},
        "metadata": {"x": None},
    }


def test_missing_property_is_reported_json_path_style() -> None:
    with pytest.raises(InvalidPayload) as caught:
        validate(Body, {"redeemables": [{"id": "A"}, {"object": "voucher"}]})
    assert caught.value.details == "Property .redeemables[1] should have required property 'id'"


def test_unknown_fields_are_ignored_and_numeric_strings_coerced() -> None:
    body = validate(
        Body, {"redeemables": [{"id": "A", "quantity": "2", "extra": 1}], "language": None}
    )
    assert body.redeemables[0].quantity == 2


def test_wrong_type_is_invalid_payload_with_the_field() -> None:
    with pytest.raises(InvalidPayload) as caught:
        validate(Body, {"redeemables": [{"id": "A", "quantity": 1.5}]})
    assert caught.value.details is not None
    assert caught.value.details.startswith("Property .redeemables[0].quantity")
