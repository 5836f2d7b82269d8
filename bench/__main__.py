"""``make bench``: start voucherd the production way, seed it, load it, write the results.

Run ``python -m bench --help`` for the options; bench/README.md explains the
scenarios, the ceiling and how to read the output. Everything runs on 127.0.0.1,
every point is bounded in seconds and in requests, and the server and its
database are removed at the end (``--keep`` leaves them for inspection).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench import load, report, scenarios, seed, targets
from bench.server import APP_ID, APP_TOKEN, CLIENT_APP_ID, CLIENT_TOKEN, Database, Server

RESULTS = Path(__file__).resolve().parent / "results"
FULL_CLIENTS = [1, 8, 32]
QUICK_CLIENTS = [8]
GENERATED_CODES = 100_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Options; BENCH_DB and BENCH_QUICK give the defaults ``make`` passes through."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgresql"],
        default=os.environ.get("BENCH_DB") or "sqlite",
        help="database behind the server (default: $BENCH_DB or sqlite)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0", "false"),
        help="one client level (8), 3 s per point, 1 s warm-up",
    )
    parser.add_argument("--clients", help="comma-separated client levels (default 1,8,32)")
    parser.add_argument("--duration", type=float, help="seconds per point (default 6)")
    parser.add_argument("--warm-up", type=float, help="warm-up seconds per scenario (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument(
        "--only", help="comma-separated scenario keys to run (ceiling always runs), e.g. a,b,g"
    )
    parser.add_argument(
        "--database-url", help="reuse this database instead of a fresh one (e.g. a 1M-row dataset)"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=60.0,
        help="seconds the run may wait in total for a shared machine to go quiet (default 60)",
    )
    parser.add_argument(
        "--redemptions",
        type=int,
        default=int(os.environ.get("BENCH_REDEMPTIONS") or 0),
        help="first bulk-insert this many redemption records for (f) with "
        "bench/redemptions_list.py (make bench: 1000000, a minute or two; 0: none)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG")
    parser.add_argument(
        "--keep", action="store_true", help="leave the database and server log on disk"
    )
    args = parser.parse_args(argv)
    if args.clients:
        args.clients = [int(c) for c in args.clients.split(",")]
    else:
        args.clients = QUICK_CLIENTS if args.quick else FULL_CLIENTS
    args.duration = args.duration or (3.0 if args.quick else 6.0)
    if args.warm_up is None:
        args.warm_up = 1.0 if args.quick else 2.0
    args.only = set(args.only.split(",")) if args.only else None
    if args.redemptions and args.database_url:
        parser.error("--redemptions fills a fresh database: not with --database-url")
    if not all(0 < c <= 256 for c in args.clients) or not 0 < args.duration <= 60:
        parser.error("clients must be within 1..256 and duration within 0..60 s")
    return args


def available_routes(http: httpx.Client) -> set[str]:
    """``METHOD /path`` for every route the server publishes in its OpenAPI document."""
    spec = http.get("/openapi.json").json()
    return {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}


def print_point(record: dict[str, Any], ceiling: dict[int, float]) -> None:
    """One line per measured point, as it finishes."""
    if record.get("skipped"):
        print(f"  {record['title']:<40} SKIPPED — {record['skipped']}", flush=True)
        return
    clients = record["clients"]
    if record["scenario"] == "ceiling":
        ceiling[clients] = record["rps"]
    share = f"{record['rps'] / ceiling[clients]:6.1%}" if ceiling.get(clients) else "     –"
    statuses = ""
    if record["non_2xx"] or record["socket_errors"]:
        statuses = f" statuses={record['statuses']} socket_errors={record['socket_errors']}"
    print(
        f"  {record['title']:<40} c={clients:<3}{record['rps']:>8.0f} req/s {share} of ceiling"
        f"  p50 {record['p50_ms']:6.1f}  p95 {record['p95_ms']:6.1f}  p99 {record['p99_ms']:6.1f} ms"
        f"  non-2xx {record['non_2xx']}  n={record['requests']}"
        f"  cpu server {record['server_cpu_share']:.0%} db {record['db_cpu_share']:.0%}"
        f" loadgen {record['loadgen_cpu_share']:.0%}"
        f" other {record['other_cpu_share']:.0%}"
        f"{statuses}",
        flush=True,
    )


def rollback_candidates(database_url: str, limit: int) -> list[str]:
    """The newest successful single-voucher redemptions (what (a) and (d) just made).

    Read from the database directly: listing redemptions over the API is itself a
    scenario under construction, and the harness must not depend on it.
    """
    from sqlalchemy import select

    from voucherd.store.db import Database as Store
    from voucherd.store.schema import redemptions as table

    store = Store(database_url, pool=False)
    try:
        with store.read() as conn:
            rows = conn.execute(
                select(table.c.id)
                .where(
                    table.c.parent_id.is_(None),
                    table.c.result == "SUCCESS",
                    table.c.related_object_type == "voucher",
                )
                .order_by(table.c.date.desc())
                .limit(limit)
            ).all()
    finally:
        store.dispose()
    return [row.id for row in rows]


def redemption_counts(database_url: str, customer_source_id: str) -> tuple[int, int]:
    """Rows in the redemptions table, and how many belong to that customer."""
    from sqlalchemy import func, select

    from voucherd.store.db import Database as Store
    from voucherd.store.schema import customers
    from voucherd.store.schema import redemptions as table

    store = Store(database_url, pool=False)
    try:
        with store.read() as conn:
            total = conn.execute(select(func.count()).select_from(table)).scalar_one()
            ids = select(customers.c.id).where(customers.c.source_id == customer_source_id)
            mine = conn.execute(
                select(func.count()).select_from(table).where(table.c.customer_id.in_(ids))
            ).scalar_one()
    finally:
        store.dispose()
    return int(total), int(mine)


def build_dataset(database_url: str, count: int) -> tuple[str, dict[str, str]]:
    """Bulk-insert ``count`` redemptions (bench/redemptions_list.py) before the server starts.

    The dataset lives in its own project; the harness's fixed-key project is added
    beside it (bootstrap only creates one on an empty database). Returns the
    dataset's heavy customer and the headers of its project, for (f).
    """
    from bench import redemptions_list
    from voucherd.store import projects

    db, _project_id, keys = redemptions_list.build(database_url, count)
    try:
        with db.write() as conn:
            projects.create_project(
                conn,
                "default",
                app_id=APP_ID,
                app_token=APP_TOKEN,
                client_app_id=CLIENT_APP_ID,
                client_token=CLIENT_TOKEN,
            )
    finally:
        db.dispose()
    app_id, token = keys.split(":", 1)
    headers = {"X-App-Id": app_id, "X-App-Token": token}
    return f"customer-{redemptions_list.CUSTOMERS}", headers


def time_generation(http: httpx.Client, run_id: str) -> dict[str, Any]:
    """(g): one ``POST /v1/campaigns`` generating 100,000 codes, timed end to end."""
    body = {
        "name": f"{run_id}-generated",
        "campaign_type": "DISCOUNT_COUPONS",
        "type": "STATIC",
        "vouchers_count": GENERATED_CODES,
        "voucher": {
            "type": "DISCOUNT_VOUCHER",
            "discount": {"type": "PERCENT", "percent_off": 10},
            "code_config": {"length": 10},
        },
    }
    started = time.perf_counter()
    response = http.post("/v1/campaigns", json=body, timeout=300)
    seconds = time.perf_counter() - started
    data = response.json() if response.headers.get("content-type") == "application/json" else {}
    return {
        "scenario": "g",
        "title": f"(g) create campaign with {GENERATED_CODES:,} codes",
        "status": response.status_code,
        "seconds": round(seconds, 3),
        "vouchers_count": data.get("vouchers_count"),
        "generation_status": data.get("vouchers_generation_status"),
        "summary": f"{seconds:.2f} s (HTTP {response.status_code}, "
        f"vouchers_count {data.get('vouchers_count')})",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns the result document."""
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    run_id = f"bench{stamp}"
    cores = os.cpu_count() or 1
    database = Database.create(args.db, args.database_url)
    log_path = database.root / "server.log"
    server = Server(database.url, args.workers, log_path)
    print(
        f"voucherd bench: {args.db}, {args.workers} workers, {cores} cores, "
        f"clients {args.clients}, {args.duration:g} s per point",
        flush=True,
    )
    generator = "wrk" if load.wrk_path() else "python (bench.loadgen)"
    print(f"  load generator: {generator}; server log: {log_path}", flush=True)
    points: list[dict[str, Any]] = []
    single: list[dict[str, Any]] = []
    notes: list[str] = []
    listing_customer, listing_headers = seed.CUSTOMER_SOURCE_ID, None
    try:
        if args.redemptions:
            print(f"  building {args.redemptions:,} redemptions for (f)", flush=True)
            listing_customer, listing_headers = build_dataset(database.url, args.redemptions)
        server.start()
        headers = {"X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            t0 = time.perf_counter()
            seeded = seed.seed(http, run_id)
            print(f"  seeded in {time.perf_counter() - t0:.1f} s", flush=True)
            available = available_routes(http)
            plan = scenarios.build(
                seeded,
                available,
                lambda: rollback_candidates(database.url, 200_000),
                listing_customer,
                {**scenarios.HEADERS, **listing_headers} if listing_headers else None,
            )
            settings = scenarios.Settings(
                args.clients, args.duration, args.warm_up, cores=cores, settle_budget=args.settle
            )
            ceiling: dict[int, float] = {}
            for scenario in plan:
                if (
                    args.only
                    and scenario.key != "ceiling"
                    and scenario.key.split("-")[0] not in args.only
                ):
                    continue
                if scenario.key == "f-page1" and not scenario.skipped:
                    total, mine = redemption_counts(database.url, listing_customer)
                    notes.append(
                        f"(f) ran on {total:,} redemption rows, {mine:,} of them for the listed customer"
                    )
                    print(f"  {notes[-1]}", flush=True)
                points += scenarios.measure(
                    scenario,
                    server,
                    settings,
                    run_id,
                    lambda r: print_point(r, ceiling),
                    database.cpu_seconds,
                )
            if args.only is None or "g" in args.only:
                generation = time_generation(http, run_id)
                print(f"  {generation['title']:<40} {generation['summary']}", flush=True)
                single.append(generation)
    finally:
        server.stop()
        database.remove(keep=args.keep)
    scenarios.add_ratios(points)
    busiest = max(args.clients)
    generation_s = single[0]["seconds"] if single and single[0]["status"] == 200 else None
    verdicts = targets.evaluate(points, busiest, args.db, generation_s, min(args.clients))
    loadgen = [p["loadgen_cpu_share"] for p in points if "loadgen_cpu_share" in p]
    if loadgen:
        notes.append(
            f"load generator CPU: {min(loadgen):.0%}–{max(loadgen):.0%} of the {cores} cores "
            f"(mean {sum(loadgen) / len(loadgen):.0%})"
        )
    from voucherd import __version__

    return {
        "meta": {
            "database": args.db,
            "quick": args.quick,
            "workers": args.workers,
            "cores": cores,
            "clients": args.clients,
            "duration_s": args.duration,
            "warm_up_s": args.warm_up,
            "generator": generator,
            "started_at": started.strftime("%Y-%m-%d %H:%M UTC"),
            "stamp": stamp,
            "python": f"Python {platform.python_version()}",
            "voucherd": __version__,
            "machine": platform.machine(),
        },
        "points": points,
        "single": single,
        "targets": [v.as_dict() for v in verdicts],
        "notes": notes,
    }


def main(argv: list[str] | None = None) -> int:
    """Run, write bench/results/, print the Markdown summary."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = run(args)
    paths = report.write(result, args.out, chart=not args.no_chart)
    print()
    print(report.markdown(result))
    for path in paths:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
