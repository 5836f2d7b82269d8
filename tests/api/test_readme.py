"""The README quickstart stays true: its curl bodies and its SDK snippet run against a real server."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import httpx
import pytest

from tests.support.servers import ThreadServer
from voucherd.store.projects import ProjectKeys

README = (Path(__file__).parents[2] / "README.md").read_text()


def quickstart() -> str:
    return README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]


def curl_calls() -> list[tuple[str, str, str | None]]:
    """(method, path, body) of every curl in the quickstart's shell block."""
    block = re.search(r"```sh\n(.*?)```", quickstart(), re.S)
    assert block is not None
    commands: list[str] = []
    continuing = False
    for line in block.group(1).splitlines():
        if line.startswith("curl "):
            commands.append(line)
            continuing = True
        elif continuing and line.startswith(" "):
            commands[-1] += " " + line.strip()
        else:
            continuing = False
    calls = []
    for command in commands:
        words = shlex.split(command.replace("\\ ", " "))
        method = words[words.index("-X") + 1] if "-X" in words else "GET"
        url = next(w for w in words if w.startswith("http://"))
        body = words[words.index("-d") + 1] if "-d" in words else None
        calls.append((method, url.removeprefix("http://127.0.0.1:8000"), body))
    return calls


def test_quickstart_curl_calls_answer_as_documented(http: httpx.Client) -> None:
    calls = curl_calls()
    assert [c[:2] for c in calls] == [
        ("GET", "/health"),
        ("POST", "/v1/vouchers/SPRING10"),
        ("POST", "/v1/redemptions"),
        ("GET", "/v1/redemptions/r_missing"),
    ]
    responses = [
        http.request(method, path, content=body, headers={"Content-Type": "application/json"})
        for method, path, body in calls
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 404]
    assert responses[1].json()["redemption"]["quantity"] == 100
    order = responses[2].json()["order"]
    assert (order["status"], order["amount"], order["discount_amount"], order["total_amount"]) == (
        "PAID",
        12000,
        1200,
        10800,
    )
    assert responses[3].json()["key"] == "not_found"


def test_quickstart_sdk_snippet_prints_what_it_promises(
    server: ThreadServer, project: ProjectKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    snippet = re.search(r"```python\n(.*?)```", quickstart(), re.S)
    assert snippet is not None
    code = snippet.group(1).replace("http://127.0.0.1:8000", server.url)
    monkeypatch.setenv("APP_ID", project.app_id)
    monkeypatch.setenv("APP_TOKEN", project.app_token)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README's snippet
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"r_\w+ 10000", lines[0])
    assert lines[1] == "404 not_found"
