"""Per-operation cost of the hot paths, in-process: ``python -m bench.hotpath [--db sqlite]``.

No HTTP and no load generator: it seeds a fresh database the way ``make bench``
does (through the API, in-process) and then calls the store functions behind
(a) redeem, (b) stacked redeem, (c) validate, (e) rollback and (f) listing one
after another on one thread. For each it prints the mean wall time per call, the
SQL statements per call and the time spent inside the driver, and — for the
writes — how long the write transaction (SQLite's one write lock) was held.
This is the figure a change to the store should move; ``make bench`` then shows
what it does to throughput under load. ``--profile a`` prints a cProfile of one
operation instead. With ``--statements``, a ``*`` marks statements that ran on
the direct path (``voucherd.store.direct``); ``--no-direct`` runs them all through
SQLAlchemy, for comparison.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import cProfile
import datetime as dt
import io
import os
import pstats
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, event, text

from voucherd.store import direct
from voucherd.store.db import Database

ITEMS = [
    {"source_id": "sku-a", "related_object": "sku", "quantity": 2, "price": 2500},
    {"source_id": "sku-b", "related_object": "sku", "quantity": 1, "price": 4000},
]


class Meter:
    """Counts statements, driver time and write-transaction time on one engine."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.driver = 0.0
        self.locked = 0.0
        self.by_statement: dict[str, list[float]] = {}
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Connection, *_: Any) -> None:
            conn.info["voucherd_t"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
            self._count(statement, time.perf_counter() - conn.info["voucherd_t"])

        original = db.write

        @contextlib.contextmanager
        def timed_write() -> Iterator[Connection]:
            start = time.perf_counter()
            try:
                with original() as conn:
                    yield conn
            finally:
                self.locked += time.perf_counter() - start

        db.write = timed_write  # type: ignore[method-assign]
        direct.trace = self._direct

    def _direct(self, statement: str, took: float) -> None:
        self._count(statement, took, mark="* ")

    def _count(self, statement: str, took: float, mark: str = "") -> None:
        self.statements += 1
        self.driver += took
        key = mark + " ".join(statement.split())[: 150 - len(mark)]
        entry = self.by_statement.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += took

    def reset(self) -> None:
        self.statements, self.driver, self.locked = 0, 0.0, 0.0
        self.by_statement = {}


def _setup(db_kind: str, workdir: str) -> tuple[Any, Any]:
    os.environ.update(
        {
            "VOUCHERD_BOOTSTRAP_APP_ID": "bench-app-id",
            "VOUCHERD_BOOTSTRAP_APP_TOKEN": "bench-app-token",
            "VOUCHERD_BOOTSTRAP_CLIENT_APP_ID": "bench-client-id",
            "VOUCHERD_BOOTSTRAP_CLIENT_TOKEN": "bench-client-token",
        }
    )
    if db_kind == "postgresql":
        from tests.support.pg import PostgresCluster

        cluster = PostgresCluster()
        cluster.start()
        atexit.register(cluster.stop)
        os.environ["VOUCHERD_DATABASE_URL"] = cluster.create_database("voucherd_hotpath")
    else:
        os.environ["VOUCHERD_DATABASE_URL"] = f"sqlite:///{workdir}/hotpath.db"
    from voucherd.api.app import create_app
    from voucherd.cli import commands
    from voucherd.settings import Settings

    settings = Settings()
    commands.migrate(settings)
    commands.bootstrap(settings, io.StringIO())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    app = create_app(settings)
    client = TestClient(app, headers={"X-App-Id": "bench-app-id", "X-App-Token": "bench-app-token"})
    return app, client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=400, help="calls per operation")
    parser.add_argument("--profile", metavar="OP", help="cProfile one operation (a, b, c, e, f)")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument(
        "--statements", action="store_true", help="also list each statement's driver time"
    )
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (tottime, ...)")
    parser.add_argument(
        "--no-direct",
        action="store_true",
        help="run every statement through SQLAlchemy (voucherd.store.direct off), to compare",
    )
    args = parser.parse_args(argv)
    direct.enabled = not args.no_direct

    from bench import seed
    from voucherd.store import listing, redemptions, rollbacks, stackable

    workdir = tempfile.mkdtemp(prefix="voucherd-hotpath-")
    app, client = _setup(args.db, workdir)
    seeded = seed.seed(client, "hp")
    db: Database = app.state.db
    with db.read() as conn:
        project_id = conn.execute(text("SELECT project_id FROM api_keys LIMIT 1")).scalar_one()
    caller = stackable.Caller(project_id=project_id, request_id="hotpath")
    stacks = [orjson.loads(s) for s in seeded.stacks]
    counter = iter(range(10**9))
    made: list[str] = []

    def body(redeemables: list[dict[str, Any]]) -> dict[str, Any]:
        n = next(counter)
        return {
            "redeemables": redeemables,
            "order": {"source_id": f"hp-order-{n}", "items": ITEMS},
            "customer": {"source_id": f"bench-cust-{n % 8}"},
        }

    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def op_a(i: int) -> None:
        code = seeded.single_codes[i % len(seeded.single_codes)]
        answer = stackable.redeem(db, caller, body([{"object": "voucher", "id": code}]), now())
        assert answer.body is not None, answer
        made.append(answer.body["redemptions"][0]["id"])

    def op_b(i: int) -> None:
        answer = stackable.redeem(db, caller, body(stacks[i % len(stacks)]), now())
        assert answer.status_code == 200, answer

    def op_c(i: int) -> None:
        answer = stackable.validate(db, caller, body(stacks[i % len(stacks)]), now())
        assert answer["valid"], answer

    def op_e(_i: int) -> None:
        request = rollbacks.RollbackRequest(None, None, None, None, {})
        answer = rollbacks.rollback(db, caller, made.pop(), request, now(), stacked=False)
        assert answer.status_code == 200, answer

    query = listing.ListQuery(limit=10, page=1, params={"customer": ("bench-cust-0",)})

    def op_f(_i: int) -> None:
        with db.read() as conn:
            items, _total = redemptions.list_redemptions(conn, project_id, query)
        assert items

    operations: dict[str, tuple[str, Callable[[int], None]]] = {
        "a": ("redeem 1 voucher", op_a),
        "b": ("stacked redeem of 5", op_b),
        "c": ("validate the stack", op_c),
        "e": ("rollback", op_e),
        "f": ("list by customer, page 1", op_f),
    }
    meter = Meter(db)
    # Warm every path (statement caches, the pool) before measuring.
    for key in ("a", "b", "c", "a", "e", "f"):
        for i in range(20):
            operations[key][1](i)
    if args.profile:
        for i in range(args.count):  # rollbacks need redemptions
            op_a(i)
        title, fn = operations[args.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(args.count):
            fn(i)
        profiler.disable()
        print(f"cProfile of ({args.profile}) {title}, {args.count} calls")
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        return 0
    print(f"voucherd hot paths, in-process, {args.db}, {args.count} calls each (one thread)")
    print(f"{'op':4} {'what':28} {'ms/call':>8} {'stmts':>6} {'driver ms':>9} {'write txn ms':>12}")
    for key, (title, fn) in operations.items():
        meter.reset()
        start = time.perf_counter()
        for i in range(args.count):
            fn(i)
        elapsed = time.perf_counter() - start
        n = args.count
        print(
            f"({key}) {title:28} {elapsed / n * 1e3:8.3f} {meter.statements / n:6.1f}"
            f" {meter.driver / n * 1e3:9.3f} {meter.locked / n * 1e3:12.3f}"
        )
        if args.statements:
            ranked = sorted(meter.by_statement.items(), key=lambda kv: -kv[1][1])
            for statement, (count, took) in ranked:
                print(f"      {count / n:5.2f}x {took / n * 1e3:7.3f} ms  {statement}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
