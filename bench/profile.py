"""Profile one scenario's server side: ``python -m bench.profile [--scenario a] [--db sqlite]``.

Starts voucherd like ``make bench`` does, seeds it, drives the scenario with the
load generator, and meanwhile runs ``py-spy record`` against one worker process.
Prints where the worker's time goes — by layer (engine, store, SQLAlchemy, the
driver, FastAPI/pydantic, ...) and by frame, self and inclusive — and keeps the
raw collapsed stacks in ``bench/results/`` (feed them to any flame graph tool).

Two recordings: on-CPU samples (py-spy's default, idle threads left out) and
wall-clock samples of request threads (``--idle``: includes time spent waiting
on locks, the SQLite busy handler and the database).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from bench import load, scenarios, seed
from bench.__main__ import RESULTS
from bench.load import LoadSpec
from bench.server import APP_ID, APP_TOKEN, Database, Server

LAYERS = [
    ("voucherd/engine", "voucherd.engine (pure discount math)"),
    ("voucherd/store/snapshot", "voucherd.store.snapshot (loading)"),
    ("voucherd/store", "voucherd.store (other)"),
    ("voucherd/api", "voucherd.api"),
    ("sqlalchemy", "SQLAlchemy Core"),
    ("sqlite3", "sqlite3 driver"),
    ("psycopg", "psycopg driver"),
    ("pydantic", "pydantic"),
    ("fastapi", "FastAPI"),
    ("starlette", "Starlette"),
    ("anyio", "anyio (thread pool)"),
    ("uvicorn", "uvicorn"),
    ("orjson", "orjson"),
    ("asyncio", "asyncio"),
    ("threading", "threading"),
]


def layer_of(frame: str) -> str:
    """Which layer a py-spy frame ``name (path:line)`` belongs to."""
    for needle, name in LAYERS:
        if needle in frame:
            return name
    return "other (stdlib, C)"


# Leaves where a thread is parked, not working: the event loop in epoll, idle
# thread-pool threads, the worker's supervisor pipe.
IDLE_LEAVES = ("Condition.wait", "Runner.run", "Connection._recv", "select (selectors.py")
# A stack inside this frame is waiting for SQLite's write lock (BEGIN IMMEDIATE polls
# through the busy handler with the GIL released; py-spy sees it as running).
LOCK_WAIT = "_on_begin (voucherd/store/db.py"
# psycopg waiting for the server's answer: the query running, or a row lock held by
# another transaction.
PG_WAIT = "Connection.wait (psycopg/connection.py"


def classify(frames: list[str]) -> str:
    """What one sampled stack was doing: waiting, idle, or working in some layer."""
    if any(LOCK_WAIT in f for f in frames):
        return "waiting for the SQLite write lock (BEGIN IMMEDIATE)"
    if frames[-1].startswith(PG_WAIT):
        return "waiting for PostgreSQL (query or row lock)"
    if any(frames[-1].startswith(leaf) for leaf in IDLE_LEAVES):
        return "idle (event loop, thread pool, supervisor pipe)"
    for frame in reversed(frames):
        layer = layer_of(frame)
        if layer != "other (stdlib, C)":
            return layer
    return "other (stdlib, C)"


def summarise(raw: Path, must_contain: str | None, top: int) -> str:
    """Time by activity/layer, then the busiest frames (self and inclusive) of real work."""
    activity: collections.Counter[str] = collections.Counter()
    self_frame: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    waits: collections.Counter[str] = collections.Counter()
    total = working = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or (must_contain and must_contain not in stack):
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        kind = classify(frames)
        activity[kind] += count
        if kind.startswith("waiting"):
            # Charge the wait to the innermost voucherd frame: the statement's caller.
            ours = [f for f in frames if "voucherd/" in f]
            waits[ours[-1] if ours else frames[-1]] += count
            continue
        if kind.startswith("idle"):
            continue
        working += count
        self_frame[frames[-1]] += count
        for frame in set(frames):
            if "voucherd/" in frame:
                inclusive[frame] += count
    if not total:
        return "  (no samples)\n"
    out = [f"  {total} samples; by activity and layer (innermost named frame):"]
    out += [f"    {n / total:6.1%}  {name}" for name, n in activity.most_common()]
    waited = sum(waits.values())
    if waited:
        out.append(f"  waiting samples ({waited}), by the innermost voucherd frame:")
        out += [f"    {n / waited:6.1%}  {frame}" for frame, n in waits.most_common(top)]
    if working:
        out.append(f"  working samples ({working}), top frames by self time:")
        out += [f"    {n / working:6.1%}  {frame}" for frame, n in self_frame.most_common(top)]
        out.append("  working samples, top voucherd frames by inclusive time:")
        out += [f"    {n / working:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(out) + "\n"


def record(pid: int, seconds: int, out: Path, idle: bool) -> None:
    """``py-spy record`` one process for ``seconds`` into collapsed stacks."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    base = [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "200"]
    if idle:
        base.append("--idle")
    subprocess.run(
        [*base, "-f", "raw", "-o", str(out)], check=True, capture_output=True, timeout=seconds + 60
    )


def main(argv: list[str] | None = None) -> int:
    """Run the profile and print the summary (``--summarise RAW`` re-reads a recording)."""
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--summarise"]:
        for path in argv[1:]:
            print(f"== {path}")
            print(summarise(Path(path), None, 25))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--scenario", default="a", help="a, b, c, d-voucher or d-gift (default a)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15, help="per recording (default 15)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds must be within 1..120")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_id = f"profile{stamp}"
    database = Database.create(args.db)
    server = Server(database.url, 2, database.root / "server.log")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        server.start()
        headers = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            seeded = seed.seed(http, run_id)
            customer_id = seed.CUSTOMER_SOURCE_ID
        plan = {s.key: s for s in scenarios.build(seeded, set(), list, customer_id)}
        scenario = plan[args.scenario]
        spec = LoadSpec(
            url=server.url,
            method=scenario.method,
            path=scenario.path,
            body=scenario.body,
            headers=scenarios.HEADERS,
            clients=args.clients,
            duration=2 * args.seconds + 8,
            max_requests=1_000_000,
            prefix=run_id,
            pool=scenario.pool,
        )
        results: list[load.LoadResult] = []
        driver = threading.Thread(target=lambda: results.append(load.run(spec)))
        driver.start()
        time.sleep(3)  # past connection set-up and the first, cold requests
        pid = server.worker_pids()[0]
        stem = f"profile-{args.db}-{args.scenario}-{stamp}"
        cpu_raw, wall_raw = args.out / f"{stem}-cpu.txt", args.out / f"{stem}-wall.txt"
        record(pid, args.seconds, cpu_raw, idle=False)
        record(pid, args.seconds, wall_raw, idle=True)
        driver.join(timeout=spec.duration + 60)
    finally:
        server.stop()
        database.remove()
    if results:
        r = results[0]
        print(
            f"load during the profile: {r.rps:.0f} req/s, p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms, "
            f"non-2xx {r.non_2xx} (py-spy pauses the worker ~200x/s, so these are slower than make bench)"
        )
    print(f"\n== {scenario.title}: on-CPU samples of worker {pid} ({cpu_raw.name})")
    print(summarise(cpu_raw, None, args.top))
    print(f"== wall clock of request threads, waits included ({wall_raw.name})")
    print(summarise(wall_raw, "voucherd/api/routes", args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
