"""The measured scenarios: what each sends, and the loop that measures every point.

Scenario keys follow the issue: ``ceiling``, ``a`` single redeem, ``b`` stacked
redeem, ``c`` stacked validate, ``d-voucher``/``d-gift`` hot-code contention,
``e`` rollback, ``f-page1``/``f-page99`` listing; ``g`` (campaign generation) is a
single timed request and lives in :mod:`bench.__main__`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import load
from bench.load import ITEM, MOD, SEQ, LoadSpec
from bench.seed import Seeded
from bench.server import APP_ID, APP_TOKEN, Server, machine_cpu_seconds, settle
from bench.stats import ratio

HEADERS = {"Content-Type": "application/json", "X-App-Id": APP_ID, "X-App-Token": APP_TOKEN}
ITEMS = (
    '[{"source_id":"sku-a","related_object":"sku","quantity":2,"price":2500},'
    '{"source_id":"sku-b","related_object":"sku","quantity":1,"price":4000}]'
)
ORDER = '{"source_id":"' + SEQ + '","items":' + ITEMS + "}"
CUSTOMER = '{"source_id":"bench-cust-' + MOD + '"}'


def order_body(redeemables: str) -> str:
    """A redeem/validate body: ``redeemables`` on a 2-item order with a unique source id."""
    return '{"redeemables":' + redeemables + ',"order":' + ORDER + ',"customer":' + CUSTOMER + "}"


SINGLE = order_body('[{"object":"voucher","id":"' + ITEM + '"}]')
STACK = order_body(ITEM)


@dataclass
class Scenario:
    """One row group of the report: a request template and its data pool."""

    key: str
    title: str
    method: str
    path: str
    body: str = ""
    pool: list[str] = field(default_factory=list)
    # Built when the scenario starts (rollback needs the redemptions earlier ones made).
    pool_factory: Callable[[], list[str]] | None = None
    consume: bool = False
    warm_up: bool = True
    skipped: str | None = None  # why it cannot run on this build
    headers: dict[str, str] | None = None  # other keys (a dataset's project), else HEADERS


ROLLBACK = "POST /v1/redemptions/{redemption_id}/rollback"
LISTING = "GET /v1/redemptions"


def build(
    seeded: Seeded,
    available: set[str],
    rollback_ids: Callable[[], list[str]],
    customer: str,
    listing_headers: dict[str, str] | None = None,
) -> list[Scenario]:
    """Every load scenario, in the order they run (``e`` consumes what ``a``/``d`` made)."""
    no_rollback = (
        None if ROLLBACK in available else f"not available: {ROLLBACK} is not in this build"
    )
    no_listing = None if LISTING in available else f"not available: {LISTING} is not in this build"
    gift = order_body('[{"object":"voucher","id":"' + ITEM + '","gift":{"credits":100}}]')
    # Voucherify (and voucherd) serve pages 1..99 of /v1/redemptions: "page 100" is
    # measured as page 99, the deepest page the API allows.
    listing = f"/v1/redemptions?customer={customer}&limit=10&page="
    return [
        Scenario(
            "ceiling",
            "ceiling: POST /_bench/echo",
            "POST",
            "/_bench/echo",
            SINGLE,
            seeded.single_codes,
        ),
        Scenario(
            "a",
            "(a) redeem 1 voucher, 2-item order",
            "POST",
            "/v1/redemptions",
            SINGLE,
            seeded.single_codes,
        ),
        Scenario(
            "b",
            "(b) stacked redeem, 5 redeemables",
            "POST",
            "/v1/redemptions",
            STACK,
            seeded.stacks,
        ),
        Scenario(
            "c",
            "(c) stacked validate, 5 redeemables",
            "POST",
            "/v1/validations",
            STACK,
            seeded.stacks,
        ),
        Scenario(
            "d-voucher",
            "(d) hot voucher, 1 code for all",
            "POST",
            "/v1/redemptions",
            SINGLE,
            [seeded.hot_voucher],
        ),
        Scenario(
            "d-gift",
            "(d) hot gift card, 1 card for all",
            "POST",
            "/v1/redemptions",
            gift,
            [seeded.hot_gift],
        ),
        Scenario(
            "e",
            "(e) rollback recent redemptions",
            "POST",
            f"/v1/redemptions/{ITEM}/rollback",
            "{}",
            pool_factory=rollback_ids,
            consume=True,
            warm_up=False,
            skipped=no_rollback,
        ),
        Scenario(
            "f-page1",
            "(f) list by customer, page 1",
            "GET",
            listing + "1",
            skipped=no_listing,
            headers=listing_headers,
        ),
        Scenario(
            "f-page99",
            "(f) list by customer, page 99 (last)",
            "GET",
            listing + "99",
            skipped=no_listing,
            headers=listing_headers,
        ),
    ]


@dataclass
class Settings:
    """How hard and how long every point runs."""

    clients: list[int]
    duration: float
    warm_up: float
    max_requests: int = 200_000
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    # Seconds the whole run may spend waiting for a shared machine to go quiet.
    settle_budget: float = 60.0


Report = Callable[[dict[str, Any]], None]


def measure(
    scenario: Scenario,
    server: Server,
    settings: Settings,
    run_id: str,
    report: Report,
    database_cpu: Callable[[], float] = lambda: 0.0,
) -> list[dict[str, Any]]:
    """Run one scenario at every client level and return one record per point."""
    if scenario.skipped:
        record = {"scenario": scenario.key, "title": scenario.title, "skipped": scenario.skipped}
        report(record)
        return [record]
    pool = scenario.pool_factory() if scenario.pool_factory is not None else scenario.pool
    headers = dict(scenario.headers or HEADERS)
    if not scenario.body:
        headers.pop("Content-Type", None)

    def spec(clients: int, seconds: float, tag: str) -> LoadSpec:
        return LoadSpec(
            url=server.url,
            method=scenario.method,
            path=scenario.path,
            body=scenario.body,
            headers=headers,
            clients=clients,
            duration=seconds,
            max_requests=settings.max_requests,
            prefix=f"{run_id}-{scenario.key}-{tag}",
            pool=pool,
            consume=scenario.consume,
        )

    if scenario.warm_up and settings.warm_up > 0:
        load.run(spec(max(settings.clients), settings.warm_up, "warm"))
    records = []
    for clients in settings.clients:
        point = spec(clients, settings.duration, f"c{clients}")
        if settings.settle_budget > 0:
            settings.settle_budget -= settle(
                min(10.0, settings.settle_budget), cores=settings.cores
            )
        cpu_before, machine_before = server.cpu_seconds(), machine_cpu_seconds()
        db_before = database_cpu()
        result = load.run(point)
        server_cpu = server.cpu_seconds() - cpu_before
        db_cpu = database_cpu() - db_before
        # What neither the server nor the generator used: other tenants of a shared
        # machine. A large share means the point was measured on a busy box.
        other_cpu = (
            machine_cpu_seconds() - machine_before - server_cpu - db_cpu - result.loadgen_cpu_s
        )
        if scenario.consume:
            # Each consumed item is gone: the next level starts after the ones used.
            pool = pool[result.requests + clients :]
        span = result.seconds or settings.duration
        record: dict[str, Any] = {
            "scenario": scenario.key,
            "title": scenario.title,
            "clients": clients,
            **result.as_dict(),
            "server_cpu_share": round(server_cpu / (span * settings.cores), 3),
            "db_cpu_share": round(db_cpu / (span * settings.cores), 3),
            "loadgen_cpu_share": round(result.loadgen_cpu_s / (span * settings.cores), 3),
            "other_cpu_share": round(max(0.0, other_cpu) / (span * settings.cores), 3),
            "pool_size": len(pool) if scenario.consume else None,
        }
        report(record)
        records.append(record)
    return records


def add_ratios(records: list[dict[str, Any]]) -> None:
    """Give every point its throughput as a ratio to the ceiling at the same client count."""
    ceiling = {r["clients"]: r["rps"] for r in records if r["scenario"] == "ceiling"}
    for record in records:
        if "rps" in record:
            value = ratio(record["rps"], ceiling.get(record["clients"], 0.0))
            record["ceiling_ratio"] = round(value, 4) if value is not None else None
