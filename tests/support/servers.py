"""Real voucherd servers for tests: in a thread (fast) or as worker processes (races)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.support.pg import free_port
from voucherd.api.app import create_app, utc_now
from voucherd.settings import Settings
from voucherd.store.db import Database


class Clock:
    """A settable clock: real time unless a test pins or shifts it."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return (self.fixed or utc_now()) + self.offset

    def reset(self) -> None:
        """Back to real time."""
        self.offset = dt.timedelta()
        self.fixed = None


@dataclass
class ThreadServer:
    """uvicorn serving voucherd on 127.0.0.1 in a background thread."""

    database_url: str
    db: Database
    clock: Clock = field(default_factory=Clock)
    settings: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    server: uvicorn.Server | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        settings = Settings(database_url=self.database_url, log_level="warning", **self.settings)
        app = create_app(settings, db=self.db, clock=self.clock)
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("voucherd test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


@dataclass
class ProcessServer:
    """``voucherd serve`` with N worker processes, as production runs it."""

    database_url: str
    workers: int = 2
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    _log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.port = self.port or free_port()
        env = {
            **os.environ,
            "VOUCHERD_DATABASE_URL": self.database_url,
            "VOUCHERD_HOST": "127.0.0.1",
            "VOUCHERD_PORT": str(self.port),
            "VOUCHERD_WORKERS": str(self.workers),
            "VOUCHERD_LOG_LEVEL": "warning",
            **self.env,
        }
        if self.log_path is not None and self._log is None:
            self._log = open(self.log_path, "a")  # noqa: SIM115 - closed by stop()/kill()
        log = self._log if self._log is not None else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "voucherd.cli", "serve"],
            env=env,
            stdout=log,
            stderr=log,
            text=True,
            # Own process group, so kill() reaches the workers too.
            start_new_session=True,
        )
        wait_until_healthy(
            self.url,
            timeout,
            alive=lambda: self.process is not None and self.process.poll() is None,
        )

    def kill(self) -> None:
        """SIGKILL the whole process group's parent and workers."""
        if self.process is not None:
            import signal

            try:
                os.killpg(os.getpgid(self.process.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.process.kill()
            self.process.wait(timeout=10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._close_log()


def wait_until_healthy(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> None:
    """Poll ``/health`` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server at {url} exited during start-up")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} not healthy after {timeout}s")
