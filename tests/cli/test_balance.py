"""``voucherd serve`` spreads keep-alive connections evenly over its workers."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import DatabaseFactory
from tests.support.servers import ProcessServer
from voucherd.cli import balance
from voucherd.cli.balance import Balance, ConnectionTable


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


class FakeTable:
    """A table whose other workers' counts the test sets."""

    def __init__(self, others: list[int]) -> None:
        self.counts = others
        self.published: list[int] = []

    def publish(self, count: int) -> None:
        self.published.append(count)

    def others(self) -> list[int]:
        return list(self.counts)


def _balance(others: list[int], opened: int) -> tuple[Balance, FakeTable]:
    table = FakeTable(others)
    state = Balance(table)  # type: ignore[arg-type]
    for _ in range(opened):
        state.opened()
    return state, table


def test_workers_see_each_others_counts_through_the_table(tmp_path: Path) -> None:
    path = balance.create_table(str(tmp_path))
    mine = ConnectionTable(path, pid=os.getpid())
    theirs = ConnectionTable(path, pid=os.getppid())  # another live process
    assert mine.slot != theirs.slot
    mine.publish(7)
    theirs.publish(3)
    assert mine.others() == [3]
    assert theirs.others() == [7]
    theirs.close()
    assert mine.others() == []


def test_a_dead_workers_slot_is_ignored_and_taken_over(tmp_path: Path) -> None:
    path = balance.create_table(str(tmp_path))
    gone = ConnectionTable(path, pid=_dead_pid())
    gone.publish(40)
    mine = ConnectionTable(path, pid=os.getpid())
    assert mine.slot == gone.slot  # the first slot whose process is gone
    assert mine.others() == []
    newcomer = ConnectionTable(path, pid=os.getppid())
    newcomer.publish(2)
    assert mine.others() == [2]


def test_a_worker_sheds_only_while_two_or_more_ahead_of_the_least_loaded() -> None:
    state, table = _balance(others=[5, 9], opened=6)
    assert table.published == [1, 2, 3, 4, 5, 6]
    assert state.shed() is False  # 6 against 5: moving one would not improve it
    state.opened()
    assert state.shed() is True  # 7 against 5
    assert state.shedding == 1


def test_one_connection_at_a_time_is_shed() -> None:
    state, _table = _balance(others=[0], opened=10)
    assert state.shed() is True
    assert state.shed() is False  # the first has not closed yet
    state.closed(shed=True)
    assert state.open == 9
    assert state.shedding == 0
    assert state.shed() is True


def test_a_worker_alone_or_without_a_table_never_sheds() -> None:
    alone, _table = _balance(others=[], opened=30)
    assert alone.shed() is False
    untracked = Balance(None)
    for _ in range(30):
        untracked.opened()
    assert untracked.shed() is False


def test_a_new_table_sweeps_the_tables_of_servers_that_are_gone(tmp_path: Path) -> None:
    """A server killed outright leaves its table; the next one to start removes it."""
    dead, live = _dead_pid(), os.getppid()
    killed = tmp_path / f"{balance.PREFIX}{dead}-abc123"
    running = tmp_path / f"{balance.PREFIX}{live}-def456"
    unrelated = [tmp_path / f"{balance.PREFIX}legacy", tmp_path / "other-file"]
    for path in [killed, running, *unrelated]:
        path.write_bytes(b"\0" * balance.SLOT.size * balance.SLOTS)
    made = Path(balance.create_table(str(tmp_path)))
    assert not killed.exists()
    assert running.exists()  # its server still runs
    assert all(path.exists() for path in unrelated)  # not a name with a server's pid
    assert made.name.startswith(f"{balance.PREFIX}{os.getpid()}-")
    assert balance.sweep_tables(str(tmp_path)) == []  # this server is alive: kept


def test_a_worker_whose_table_is_gone_serves_without_shedding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(balance.ENVIRONMENT, str(tmp_path / f"{balance.PREFIX}1-gone"))
    monkeypatch.setattr(balance, "_balance", None)
    state = balance.balance()
    assert state.table is None
    for _ in range(30):
        state.opened()
    assert state.shed() is False


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_a_killed_servers_table_is_removed_by_the_next_server(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.url("sqlite")
    killed = ProcessServer(database_url=url, workers=2, env={"TMPDIR": str(tmp_path)})
    killed.start()
    killed.kill()  # SIGKILL: no clean-up runs
    left = list(tmp_path.glob(f"{balance.PREFIX}*"))
    assert len(left) == 1
    following = ProcessServer(database_url=url, workers=2, env={"TMPDIR": str(tmp_path)})
    following.start()
    try:
        tables = list(tmp_path.glob(f"{balance.PREFIX}*"))
        assert left[0] not in tables
        assert len(tables) == 1  # the running server's own
    finally:
        following.stop()
    assert not list(tmp_path.glob(f"{balance.PREFIX}*"))


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of ESTABLISHED TCP connections whose local port is ``port``."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":
            inodes.add(fields[9])
    return inodes


def _split(server: ProcessServer) -> Counter[int]:
    """How many of the server's established connections each worker process holds."""
    assert server.process is not None
    inodes = _established_inodes(server.port)
    split: Counter[int] = Counter()
    for worker in _children(server.process.pid):
        try:
            fds = os.listdir(f"/proc/{worker}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{worker}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                split[worker] += 1
    return split


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_keep_alive_connections_end_up_split_evenly_over_two_workers(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    server = ProcessServer(
        database_url=databases.url("sqlite"), workers=2, env={"TMPDIR": str(tmp_path)}
    )
    server.start()
    clients = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(16)]
    try:
        for client in clients:  # opened in one burst: one worker usually accepts them all
            client.connect()
        statuses: Counter[int] = Counter()
        closes = 0
        for _round in range(500):  # bounded: it settled within 20-110 rounds when measured
            closes_before = closes
            for client in clients:
                client.request("GET", "/health")
                response = client.getresponse()
                response.read()
                statuses[response.status] += 1
                # http.client closes the socket after "Connection: close" and opens
                # a new one for the next request, as any HTTP/1.1 client does.
                if (response.getheader("connection") or "").lower() == "close":
                    closes += 1
            if closes == closes_before and len(_split(server)) == 2:
                break
        split = _split(server)
        assert sum(split.values()) == 16
        assert len(split) == 2
        assert max(split.values()) - min(split.values()) <= 1
        assert set(statuses) == {200}
    finally:
        for client in clients:
            client.close()
        server.stop()
    assert not list(tmp_path.glob("voucherd-connections-*"))  # the table went with the server
