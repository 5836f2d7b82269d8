"""Releasing a LOCK session on a voucher: ``DELETE /v1/vouchers/{code}/sessions/{key}`` (§13)."""

from __future__ import annotations

from typing import Any

import pytest
import voucherify
from voucherify.exceptions import ApiException

from tests.support.rows import count_rows
from tests.support.stackable import error_of, validate, voucher
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys


def one(code: str, **extra: Any) -> dict[str, Any]:
    return {"redeemables": [{"object": "voucher", "id": code}], "order": {"amount": 10000}, **extra}


def release(sdk: voucherify.ApiClient, code: str, key: str) -> None:
    voucherify.VouchersApi(sdk).release_validation_session(code, key)


def first_error_key(response: Any) -> str | None:
    inapplicable = response.inapplicable_redeemables or []
    return inapplicable[0].result.error.key if inapplicable else None


def test_released_lock_frees_the_last_unit(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    assert validate(sdk, one(code, session={"type": "LOCK", "key": "held"})).valid is True
    locked_out = validate(sdk, one(code))
    assert (locked_out.valid, first_error_key(locked_out)) == (False, "quantity_exceeded")
    release(sdk, code, "held")
    freed = validate(sdk, one(code))
    assert (freed.valid, first_error_key(freed)) == (True, None)
    assert count_rows(db, project.id)["sessions"] == 0


def test_release_twice_is_404_session(sdk: voucherify.ApiClient) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    validate(sdk, one(code, session={"type": "LOCK", "key": "once"}))
    release(sdk, code, "once")
    with pytest.raises(ApiException) as caught:
        release(sdk, code, "once")
    body = error_of(caught)
    assert (caught.value.status, body["key"], body["resource_type"], body["resource_id"]) == (
        404,
        "not_found",
        "session",
        "once",
    )


def test_unknown_key_is_404_session_and_keeps_other_locks(
    sdk: voucherify.ApiClient, db: Database, project: ProjectKeys
) -> None:
    code = voucher(sdk, redemption={"quantity": 1}).code
    validate(sdk, one(code, session={"type": "LOCK", "key": "kept"}))
    before = count_rows(db, project.id)
    with pytest.raises(ApiException) as caught:
        release(sdk, code, "ssn_unknown")
    body = error_of(caught)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "session",
        "ssn_unknown",
    )
    assert count_rows(db, project.id) == before
    assert first_error_key(validate(sdk, one(code))) == "quantity_exceeded"


def test_a_key_held_on_another_voucher_is_not_released_here(sdk: voucherify.ApiClient) -> None:
    held = voucher(sdk, redemption={"quantity": 1}).code
    other = voucher(sdk).code
    validate(sdk, one(held, session={"type": "LOCK", "key": "k"}))
    with pytest.raises(ApiException) as caught:
        release(sdk, other, "k")
    assert error_of(caught)["resource_type"] == "session"
    assert first_error_key(validate(sdk, one(held))) == "quantity_exceeded"


def test_unknown_voucher_is_404_voucher(sdk: voucherify.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        release(sdk, "NO-SUCH-CODE", "k")
    body = error_of(caught)
    assert (caught.value.status, body["resource_type"], body["resource_id"]) == (
        404,
        "voucher",
        "NO-SUCH-CODE",
    )
