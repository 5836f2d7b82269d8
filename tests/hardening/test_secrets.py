"""Secrets: tokens never reach the logs, and rotated tokens stop working at once."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import Clock, ThreadServer
from voucherd import logs
from voucherd.store import projects
from voucherd.store.db import Database
from voucherd.store.projects import ProjectKeys


class BrokenClock(Clock):
    """A clock that fails, so a redemption hits the last-resort 500 handler."""

    def __call__(self) -> dt.datetime:
        raise RuntimeError("clock unavailable")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The server's logs (voucherd's and uvicorn's) during the test, as JSON lines.

    The test's own httpx client logs its request URLs; those are not the server's.
    """
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(lambda record: record.name.startswith(("voucherd", "uvicorn")))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
def broken_server(db: Database) -> Iterator[ThreadServer]:
    srv = ThreadServer(database_url=db.url, db=db, clock=BrokenClock())
    srv.start()
    yield srv
    srv.stop()


def test_tokens_never_appear_in_logs_even_on_a_500(
    broken_server: ThreadServer, project: ProjectKeys, json_logs: io.StringIO
) -> None:
    tokens = [project.app_token, project.client_token]
    server_keys = {"X-App-Id": project.app_id, "X-App-Token": project.app_token}
    client_keys = {
        "X-Client-Application-Id": project.client_app_id,
        "X-Client-Token": project.client_token,
    }
    body = {
        "redeemables": [{"object": "voucher", "id": "ANY"}],
        # Clients paste tokens in odd places; none of it may be echoed into logs.
        "metadata": {"note": project.app_token},
        "tracking_id": project.client_token,
    }
    with httpx.Client(base_url=broken_server.url, timeout=30) as http:
        failed = http.post(
            "/v1/redemptions", json=body, headers=server_keys, params={"t": project.app_token}
        )
        client_failed = http.post("/client/v1/redemptions", json=body, headers=client_keys)
        wrong = http.get(
            "/v1/vouchers/X", headers={**server_keys, "X-App-Token": project.app_token + "x"}
        )
        ok = http.get("/v1/vouchers", headers=server_keys)
    assert (failed.status_code, client_failed.status_code) == (500, 500)
    assert failed.json()["key"] == "internal_server_error"
    assert (wrong.status_code, ok.status_code) == (401, 200)
    text = json_logs.getvalue()
    # The 500 is logged with its traceback and request id...
    assert failed.json()["request_id"] in text
    assert "clock unavailable" in text
    assert "Traceback" in text
    # ...and no token, nor a token's prefix long enough to matter, anywhere.
    for token in tokens:
        assert token not in text
        assert token[:12] not in text


def test_rotated_server_and_client_tokens_stop_working(
    server: ThreadServer, db: Database, project: ProjectKeys
) -> None:
    with db.write() as conn:
        new_app_id, new_app_token = projects.rotate_keys(conn, project.id, projects.SERVER)
        new_client_id, new_client_token = projects.rotate_keys(conn, project.id, projects.CLIENT)
    body = {"redeemables": [{"object": "voucher", "id": "NOPE"}]}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        old_server = http.get(
            "/v1/vouchers", headers={"X-App-Id": project.app_id, "X-App-Token": project.app_token}
        )
        new_server = http.get(
            "/v1/vouchers", headers={"X-App-Id": new_app_id, "X-App-Token": new_app_token}
        )
        old_client = http.post(
            "/client/v1/validations",
            json=body,
            headers={
                "X-Client-Application-Id": project.client_app_id,
                "X-Client-Token": project.client_token,
            },
        )
        new_client = http.post(
            "/client/v1/validations",
            json=body,
            headers={"X-Client-Application-Id": new_client_id, "X-Client-Token": new_client_token},
        )
        # A new token with the old id (or the reverse) is no key at all.
        mixed = http.get(
            "/v1/vouchers", headers={"X-App-Id": project.app_id, "X-App-Token": new_app_token}
        )
    assert (old_server.status_code, new_server.status_code) == (401, 200)
    assert (old_client.status_code, new_client.status_code) == (401, 200)
    assert mixed.status_code == 401
