"""The ``voucherd`` command line against real databases and a real multi-process server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import voucherify
from voucherify.exceptions import NotFoundException, UnauthorizedException

from tests.conftest import DatabaseFactory
from tests.support.pg import free_port
from tests.support.servers import ProcessServer, ThreadServer, wait_until_healthy
from voucherd.store.db import Database


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOUCHERD_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "voucherd.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def get_redemption(url: str, app_id: str, token: str, redemption_id: str) -> None:
    config = voucherify.Configuration(host=url, api_key={"X-App-Id": app_id, "X-App-Token": token})
    with voucherify.ApiClient(config) as client:
        voucherify.RedemptionsApi(client).get_redemption(redemption_id)


def test_projects_create_json_prints_five_working_keys(
    backend: str, databases: DatabaseFactory
) -> None:
    url = databases.url(backend)
    result = run_cli(url, "projects", "create", "--name", "shop", "--json")
    assert result.returncode == 0, result.stderr
    keys = json.loads(result.stdout)
    assert set(keys) == {"id", "app_id", "app_token", "client_app_id", "client_token"}
    db = Database(url)
    server = ThreadServer(database_url=url, db=db)
    server.start()
    try:
        with pytest.raises(NotFoundException):
            get_redemption(server.url, keys["app_id"], keys["app_token"], "r_missing")
        client = httpx.get(
            f"{server.url}/v1/redemptions/r_missing",
            headers={"X-App-Id": keys["client_app_id"], "X-App-Token": keys["client_token"]},
        )
        assert client.status_code == 401  # client keys are not server keys
    finally:
        server.stop()
        db.dispose()


def test_keys_rotate_invalidates_the_old_token(backend: str, databases: DatabaseFactory) -> None:
    url = databases.url(backend)
    old = json.loads(run_cli(url, "projects", "create", "--name", "shop", "--json").stdout)
    rotated = run_cli(url, "keys", "rotate", "--project", "shop", "--json")
    assert rotated.returncode == 0, rotated.stderr
    new = json.loads(rotated.stdout)
    assert new["id"] == old["id"]
    assert new["app_token"] != old["app_token"]
    db = Database(url)
    server = ThreadServer(database_url=url, db=db)
    server.start()
    try:
        with pytest.raises(UnauthorizedException):
            get_redemption(server.url, old["app_id"], old["app_token"], "r_missing")
        with pytest.raises(NotFoundException):
            get_redemption(server.url, new["app_id"], new["app_token"], "r_missing")
    finally:
        server.stop()
        db.dispose()


def test_keys_rotate_of_unknown_project_fails_cleanly(databases: DatabaseFactory) -> None:
    url = databases.url("sqlite")
    run_cli(url, "migrate")
    result = run_cli(url, "keys", "rotate", "--project", "nope")
    assert result.returncode == 1
    assert "not_found" in result.stderr


def test_serve_bootstraps_with_the_given_keys_on_two_workers(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.url(backend)
    keys = {
        "VOUCHERD_BOOTSTRAP_APP_ID": "app-id-1",
        "VOUCHERD_BOOTSTRAP_APP_TOKEN": "app-token-1",
        "VOUCHERD_BOOTSTRAP_CLIENT_APP_ID": "client-id-1",
        "VOUCHERD_BOOTSTRAP_CLIENT_TOKEN": "client-token-1",
    }
    server = ProcessServer(database_url=url, workers=2, env=keys, log_path=tmp_path / "log")
    server.start()
    try:
        with pytest.raises(NotFoundException) as caught:
            get_redemption(server.url, "app-id-1", "app-token-1", "r_missing")
        assert json.loads(caught.value.body)["key"] == "not_found"
        with pytest.raises(UnauthorizedException):
            get_redemption(server.url, "app-id-1", "wrong", "r_missing")
    finally:
        server.stop()
    printed = (tmp_path / "log").read_text()
    assert printed.count("X-App-Token:              app-token-1") == 1


def test_serve_prints_generated_keys_once(databases: DatabaseFactory) -> None:
    url = databases.url("sqlite")
    port = free_port()
    env = {**os.environ, "VOUCHERD_DATABASE_URL": url, "VOUCHERD_PORT": str(port)}
    for key in list(env):
        if key.startswith("VOUCHERD_BOOTSTRAP_"):
            del env[key]
    outputs = []
    for _ in range(2):
        proc = subprocess.Popen(
            [sys.executable, "-m", "voucherd.cli", "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", 60)
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=30)
        outputs.append(out)
        time.sleep(0.2)
    first = dict(
        line.strip().split(":", 1) for line in outputs[0].splitlines() if line.startswith("  X-")
    )
    assert set(first) == {"X-App-Id", "X-App-Token", "X-Client-Application-Id", "X-Client-Token"}
    assert "X-App-Token" not in outputs[1]
