"""Listing redemptions filtered by customer over a million stored records.

``make bench`` calls :func:`build` on its database (SQLite or PostgreSQL) before the
server starts. Run alone (``python -m bench.redemptions_list``), it builds a migrated
SQLite database in a temporary directory, bulk-inserts
``BENCH_REDEMPTIONS`` (default 1,000,000) redemption records spread over ~10,000
customers and ~1,000 vouchers across 90 days — plus one heavy customer with 2,000
records, so that page 100 of its history is real — then times page 1 and page 100
(limit 10) of ``GET /v1/redemptions?customer=…`` through the store function, and
pages 1 and 99 (the API's last page) through the HTTP app. Prints milliseconds (best and median of the runs).

Target: ≤ 20 ms per page on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Table, insert

from voucherd.store import migrations, projects
from voucherd.store import redemptions as redemption_store
from voucherd.store.db import Database
from voucherd.store.listing import Condition, ListQuery
from voucherd.store.schema import customers, redemptions, vouchers
from voucherd.store.wire import iso

TARGET_MS = 20.0
CUSTOMERS = 10_000
VOUCHERS = 1_000
HEAVY_RECORDS = 2_000
BATCH = 50_000
RUNS = 25
START = dt.datetime(2026, 8, 1, tzinfo=dt.UTC)
SPAN_MS = 90 * 24 * 3600 * 1000


def _id(prefix: str, millis: int, n: int) -> str:
    """A time-ordered id like the server makes (ms + a unique suffix)."""
    return f"{prefix}_{millis:012x}{n:012x}"


def _customers(project_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"cust_bench{i:08d}",
            "project_id": project_id,
            "source_id": f"customer-{i}",
            "name": f"Customer {i}",
            "email": None,
            "data": {"metadata": {}},
            "created_at": START,
            "updated_at": None,
        }
        for i in range(CUSTOMERS + 1)
    ]


def _vouchers(project_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"v_bench{i:08d}",
            "project_id": project_id,
            "code": f"CODE-{i:05d}",
            "type": "DISCOUNT_VOUCHER",
            "active": True,
            "redeemed_quantity": 0,
            "data": {"discount": {"type": "AMOUNT", "amount_off": 1000}},
            "created_at": START,
        }
        for i in range(VOUCHERS)
    ]


def _records(project_id: str, total: int, rng: random.Random) -> Iterator[list[dict[str, Any]]]:
    """Batches of redemption rows; customer ``CUSTOMERS`` is the heavy one."""
    heavy = CUSTOMERS
    batch: list[dict[str, Any]] = []
    # Records arrive in time order, as they would in production.
    start_ms = int(START.timestamp() * 1000)
    moments = sorted(start_ms + rng.randrange(SPAN_MS) for _ in range(total))
    for n, millis in enumerate(moments):
        customer = heavy if n % (total // HEAVY_RECORDS) == 0 else rng.randrange(CUSTOMERS)
        voucher = rng.randrange(VOUCHERS)
        when = dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
        failed = rng.random() < 0.05
        record_id = _id("rf" if failed else "r", millis, n)
        customer_id = f"cust_bench{customer:08d}"
        code = f"CODE-{voucher:05d}"
        batch.append(
            {
                "id": record_id,
                "project_id": project_id,
                "object": "redemption",
                "date": when,
                "result": "FAILURE" if failed else "SUCCESS",
                "status": "FAILED" if failed else "SUCCEEDED",
                "related_object_type": "voucher",
                "related_object_id": f"v_bench{voucher:08d}",
                "voucher_id": f"v_bench{voucher:08d}",
                "voucher_code": code,
                "customer_id": customer_id,
                "tracking_id": f"track_{customer:08d}",
                "failure_code": "quantity_exceeded" if failed else None,
                "data": {
                    "id": record_id,
                    "object": "redemption",
                    "date": iso(when),
                    "customer_id": customer_id,
                    "tracking_id": f"track_{customer:08d}",
                    "metadata": {},
                    "amount": None,
                    "redemption": None,
                    "result": "FAILURE" if failed else "SUCCESS",
                    "status": "FAILED" if failed else "SUCCEEDED",
                    "channel": {"channel_id": "bench", "channel_type": "API"},
                    "related_object_type": "voucher",
                    "related_object_id": f"v_bench{voucher:08d}",
                    "voucher": {"id": f"v_bench{voucher:08d}", "code": code, "object": "voucher"},
                },
            }
        )
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _sqlite_value(value: Any) -> Any:
    """What the schema's column types store on SQLite (naive-UTC text, JSON text)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return value


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` on the driver, bypassing SQLAlchemy's per-row work.

    SQLAlchemy's per-row type processing costs more than the database's insert itself
    at this volume. SQLite: ``executemany`` on the sqlite3 cursor, with the values
    converted exactly as the column types would. PostgreSQL: ``COPY … FROM STDIN``,
    psycopg adapting each value (JSON documents as ``jsonb``).
    """
    names = [column.name for column in table.columns]
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        from psycopg.types.json import Jsonb

        # Table and column names come from the schema, never from input.
        with driver.cursor().copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [Jsonb(v) if isinstance(v, dict) else v for v in (row.get(n) for n in names)]
                )
        return
    marks = ", ".join("?" * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
    cursor = driver.cursor()
    cursor.executemany(sql, [tuple(_sqlite_value(row.get(n)) for n in names) for row in rows])
    cursor.close()


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """(best, median) milliseconds over RUNS calls, after one warm-up."""
    call()
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples), statistics.median(samples)


def build(url: str, total: int) -> tuple[Database, str, str]:
    """Migrate the empty database at ``url`` and store ``total`` records in a project of
    their own: (db, project_id, app keys as ``app_id:token``)."""
    db = Database(url)
    migrations.upgrade(db)
    with db.write() as conn:
        keys = projects.create_project(conn, "bench")
        conn.execute(insert(customers), _customers(keys.id))
        conn.execute(insert(vouchers), _vouchers(keys.id))
    rng = random.Random(42)
    started = time.perf_counter()
    if db.is_sqlite:
        with db.write() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
    for batch in _records(keys.id, total, rng):
        with db.write() as conn:
            _bulk_insert(conn, redemptions, batch)
    with db.write() as conn:
        # Statistics for the planner, as a production database has them.
        conn.exec_driver_sql("ANALYZE")
    print(f"  inserted {total:,} redemptions in {time.perf_counter() - started:.1f} s")
    return db, keys.id, f"{keys.app_id}:{keys.app_token}"


def main() -> bool:
    """Run the benchmark; True when every figure meets the target."""
    total = int(os.environ.get("BENCH_REDEMPTIONS", "1000000"))
    print(f"redemptions list: {total:,} records, {CUSTOMERS:,} customers, {VOUCHERS:,} vouchers")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        db, project_id, app = build(f"sqlite:///{Path(tmp) / 'bench.db'}", total)
        heavy = f"customer-{CUSTOMERS}"
        for page in (1, 100):
            query = ListQuery(limit=10, page=page, params={"customer": (heavy,)})

            def listed(query: ListQuery = query) -> object:
                with db.read() as conn:
                    return redemption_store.list_redemptions(conn, project_id, query)

            items, count = redemption_store.list_redemptions(db.engine.connect(), project_id, query)
            best, median = _timed(listed)
            ok = ok and median <= TARGET_MS
            print(
                f"  store  customer page {page:>3}: best {best:6.2f} ms, median {median:6.2f} ms"
                f"  ({len(items)} of {count:,})"
            )
        for page in (1, 100):
            query = ListQuery(
                limit=10,
                page=page,
                conditions=(Condition("voucher_code", "$is", ("CODE-00042",)),),
            )

            def by_code(query: ListQuery = query) -> object:
                with db.read() as conn:
                    return redemption_store.list_redemptions(conn, project_id, query)

            best, median = _timed(by_code)
            print(
                f"  store  voucher_code page {page:>3}: best {best:6.2f} ms, median {median:6.2f} ms"
            )
        for page in (1, 99):
            query = ListQuery(limit=10, page=page)

            def unfiltered(query: ListQuery = query) -> object:
                with db.read() as conn:
                    return redemption_store.list_redemptions(conn, project_id, query)

            best, median = _timed(unfiltered)
            print(
                f"  store  unfiltered  page {page:>3}: best {best:6.2f} ms, median {median:6.2f} ms"
            )
        ok = _over_http(db, app, heavy) and ok
        db.dispose()
    print(f"  target {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return ok


def _over_http(db: Database, app_keys: str, customer: str) -> bool:
    """Page 1 and 100 through the ASGI app (routing, auth, JSON) in-process."""
    import warnings

    with warnings.catch_warnings():
        # starlette's TestClient warns about its httpx transport; irrelevant here.
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from voucherd.api.app import create_app
    from voucherd.settings import Settings

    app_id, token = app_keys.split(":", 1)
    app = create_app(Settings(database_url=db.url, log_level="warning"), db=db)
    ok = True
    with TestClient(app) as client:
        headers = {"X-App-Id": app_id, "X-App-Token": token}
        # The API caps /v1/redemptions at page 99 (BEHAVIOR.md §4).
        for page in (1, 99):
            url = f"/v1/redemptions?customer={customer}&limit=10&page={page}"

            def get(url: str = url) -> object:
                response = client.get(url, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(response.text)
                return response

            best, median = _timed(get)
            ok = ok and median <= TARGET_MS
            print(f"  http   customer page {page:>3}: best {best:6.2f} ms, median {median:6.2f} ms")
    return ok


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
