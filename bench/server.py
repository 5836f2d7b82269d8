"""voucherd as production runs it (``voucherd serve``), on SQLite or a throwaway PostgreSQL.

The server gets fixed bootstrap keys (so the harness can seed without parsing its
output), the bench endpoints switched on for the ceiling route, and its own
process group so nothing outlives the run. PostgreSQL comes from the test
support's :class:`~tests.support.pg.PostgresCluster` (the machine's binaries,
an unprivileged user when run as root, durability off: the data is thrown away).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

APP_ID = "bench-app-id"
APP_TOKEN = "bench-app-token"  # a throwaway key for a throwaway 127.0.0.1 server
CLIENT_APP_ID = "bench-client-id"
CLIENT_TOKEN = "bench-client-token"


# Production tables have statistics; the bench's start empty and fill within the run.
# A prepared statement's generic plan is fixed on the first executions, when an index
# scan over the whole project looks as cheap as the unique lookup, and stays until an
# ANALYZE: by default autovacuum looks once a minute, so a run's (a) scanned every
# order of the project per redeem. Checking every second lets ANALYZE follow the growth.
PG_SETTINGS = {"autovacuum_naptime": "1s"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Database:
    """Where the run's data lives: a temp-dir SQLite file or a throwaway cluster."""

    kind: str
    url: str
    root: Path
    cluster: Any = None

    @classmethod
    def create(cls, kind: str, url: str | None = None) -> Database:
        """A fresh database of ``kind`` (or the given ``url``, reused as is)."""
        root = Path(tempfile.mkdtemp(prefix="voucherd-bench-"))
        if url:
            return cls(kind, url, root)
        if kind == "sqlite":
            return cls(kind, f"sqlite:///{root / 'bench.db'}", root)
        if kind == "postgresql":
            from tests.support.pg import PostgresCluster

            cluster = PostgresCluster(settings=PG_SETTINGS)
            cluster.start()
            return cls(kind, cluster.create_database("bench"), root, cluster)
        raise ValueError(f"unknown database {kind!r}: sqlite or postgresql")

    def cpu_seconds(self) -> float:
        """CPU seconds used by the PostgreSQL server processes (0 for SQLite: in-process)."""
        if self.cluster is None:
            return 0.0
        try:
            postmaster = int((self.cluster.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        # Backends come and go: the postmaster's "children" times keep the CPU of the
        # ones that exited, the live ones are summed directly.
        live = sum(_cpu(pid) for pid in _descendants(postmaster))
        return _cpu(postmaster, with_exited_children=True) + live

    def remove(self, keep: bool = False) -> None:
        """Stop the cluster and delete the files (unless ``keep``)."""
        if self.cluster is not None and not keep:
            self.cluster.stop()
        if not keep:
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Server:
    """``voucherd serve`` with ``workers`` processes on a free 127.0.0.1 port."""

    database_url: str
    workers: int
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        """Start and wait until ``/health`` answers 200."""
        self.port = free_port()
        env = {
            **os.environ,
            "VOUCHERD_DATABASE_URL": self.database_url,
            "VOUCHERD_HOST": "127.0.0.1",
            "VOUCHERD_PORT": str(self.port),
            "VOUCHERD_WORKERS": str(self.workers),
            "VOUCHERD_LOG_LEVEL": "warning",
            "VOUCHERD_BENCH_ENDPOINTS": "true",
            "VOUCHERD_BOOTSTRAP_APP_ID": APP_ID,
            "VOUCHERD_BOOTSTRAP_APP_TOKEN": APP_TOKEN,
            "VOUCHERD_BOOTSTRAP_CLIENT_APP_ID": CLIENT_APP_ID,
            "VOUCHERD_BOOTSTRAP_CLIENT_TOKEN": CLIENT_TOKEN,
            **self.env,
        }
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voucherd.cli", "serve"],
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,  # own process group: stop() reaches the workers
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"voucherd exited during start-up; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    self._wait_for_workers(deadline)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"voucherd not healthy after {timeout}s; see {self.log_path}")

    def _wait_for_workers(self, deadline: float) -> None:
        # /health answers as soon as one worker is up; give the rest time to bind.
        # (With one worker uvicorn serves from the main process: no children to wait for.)
        while (
            self.workers > 1
            and len(self.worker_pids()) < self.workers
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        time.sleep(1)

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        if self.process is None or self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def worker_pids(self) -> list[int]:
        """The processes running the app: the children, or the main process alone."""
        if self.process is None:
            return []
        if self.workers == 1:
            return [self.process.pid]
        return [
            pid
            for pid in _descendants(self.process.pid)
            if b"multiprocessing.resource_tracker" not in _cmdline(pid)
        ]

    def cpu_seconds(self) -> float:
        """CPU seconds used so far by the server and all its worker processes."""
        if self.process is None:
            return 0.0
        return sum(_cpu(pid) for pid in [self.process.pid, *_descendants(self.process.pid)])


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    # user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    busy = sum(int(v) for i, v in enumerate(fields[:8]) if i not in (3, 4))
    return busy / os.sysconf("SC_CLK_TCK")


def settle(budget: float, threshold: float = 0.25, cores: int = 1) -> float:
    """Wait (at most ``budget`` s) until the machine is quiet; return the seconds waited.

    The benchmark box may be shared: before a point, sample the machine's busy share
    over half a second and wait while more than ``threshold`` of all cores is in use
    by someone else (our server is idle between points, so all of it is someone else).
    """
    waited = 0.0
    while waited < budget:
        before = machine_cpu_seconds()
        time.sleep(0.5)
        waited += 0.5
        if (machine_cpu_seconds() - before) / (0.5 * cores) <= threshold:
            break
    return waited


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cpu(pid: int, with_exited_children: bool = False) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields after the command: state is [0], utime [11], stime [12], and the
    # reaped children's cutime [13], cstime [14] (in clock ticks).
    ticks = int(fields[11]) + int(fields[12])
    if with_exited_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")
