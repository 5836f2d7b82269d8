"""Benchmark: one campaign with 100,000 generated codes, on SQLite and on PostgreSQL.

Measures the store path (``campaigns.create_campaign`` in one write transaction),
the part that dominates ``POST /v1/campaigns`` with a large ``vouchers_count``.
Target: at most 6 s per database (Voucherify takes about a minute).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import tempfile
import time
from pathlib import Path

from tests.support.pg import PostgresCluster
from voucherd.store import campaigns, migrations, projects
from voucherd.store.db import Database
from voucherd.store.schema import vouchers

COUNT = 100_000
TARGET_SECONDS = 6.0
RESULTS = Path(__file__).parent / "results" / "campaign_codes.json"


def run_once(db: Database, count: int = COUNT) -> float:
    """Seconds to create one campaign with ``count`` codes in a fresh project."""
    migrations.upgrade(db)
    with db.write() as conn:
        project = projects.create_project(conn, f"bench-{time.time_ns()}")
    body = {
        "name": "bench",
        "vouchers_count": count,
        "voucher": {
            "type": "DISCOUNT_VOUCHER",
            "discount": {"type": "PERCENT", "percent_off": 10},
            "redemption": {"quantity": 1},
        },
    }
    started = time.perf_counter()
    with db.write() as conn:
        campaigns.create_campaign(conn, project.id, body, now=dt.datetime.now(dt.UTC))
    elapsed = time.perf_counter() - started
    with db.read() as conn:
        stored = (
            conn.execute(
                vouchers.select()
                .with_only_columns(vouchers.c.code)
                .where(vouchers.c.project_id == project.id)
            )
            .scalars()
            .all()
        )
    assert len(stored) == len(set(stored)) == count, "codes missing or duplicated"
    return elapsed


def main() -> list[tuple[str, float]]:
    """Run on both databases and print the figures."""
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            results.append(("sqlite", run_once(db)))
        finally:
            db.dispose()
    cluster = PostgresCluster()
    cluster.start()
    try:
        db = Database(cluster.create_database("bench"))
        try:
            results.append(("postgresql", run_once(db)))
        finally:
            db.dispose()
    finally:
        cluster.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "campaign_codes",
                "codes": COUNT,
                "target_seconds": TARGET_SECONDS,
                "seconds": {backend: round(seconds, 2) for backend, seconds in results},
                "machine": platform.platform(),
                "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        )
        + "\n"
    )
    for backend, seconds in results:
        verdict = "ok" if seconds <= TARGET_SECONDS else "SLOW"
        print(
            f"campaign_codes {backend:<10} {COUNT} codes in {seconds:6.2f} s "
            f"(target <= {TARGET_SECONDS:.0f} s) {verdict}"
        )
    return results


if __name__ == "__main__":
    main()
