"""Runtime configuration, read from ``VOUCHERD_*`` environment variables.

Build a :class:`Settings` at the edge (the CLI, the ASGI factory) and pass plain
values inward; nothing creates one at import time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set. Every field is documented for ``--help`` and the README."""

    model_config = SettingsConfigDict(env_prefix="VOUCHERD_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/voucherd.db",
        description="SQLAlchemy URL: sqlite:///path (WAL, embedded) or postgresql+psycopg://user@host/db.",
    )
    host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="TCP port of the HTTP server.")
    workers: int = Field(default=1, ge=1, le=64, description="Number of server processes.")
    log_level: str = Field(default="info", description="Log level: debug, info, warning, error.")
    threads: int = Field(
        default=4,
        ge=1,
        le=256,
        description=(
            "Requests a server process works on at once in its thread pool (more queue);"
            " see store_on_loop for the checkout endpoints."
        ),
    )
    store_on_loop: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "Run redeem, validate, rollback and authentication on the event loop, one at a"
            " time per process, instead of the thread pool: auto does so on SQLite and on a"
            " PostgreSQL on this machine (loopback or Unix socket), where a round trip is"
            " shorter than a thread hand-off; a remote PostgreSQL keeps the thread pool,"
            " which overlaps several requests' round trips."
        ),
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=200, description="Database connections kept open per process."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000,
        ge=0,
        description="How long a SQLite writer waits for the write lock before failing.",
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest accepted request body; larger bodies get 413 (Voucherify allows 10 MB).",
    )
    max_json_depth: int = Field(
        default=32, ge=4, le=1000, description="Deepest accepted nesting of a JSON request body."
    )
    timezone: str = Field(
        default="UTC", description="Project time zone for day-of-week and daily-hours windows."
    )
    bench_endpoints: bool = Field(
        default=False,
        description="Serve POST /_bench/echo, the benchmark's ceiling route; never in production.",
    )
    bootstrap_project_name: str = Field(
        default="default", description="Name of the project created on first start."
    )
    bootstrap_app_id: str | None = Field(
        default=None, description="Server-side X-App-Id given to the default project on creation."
    )
    bootstrap_app_token: str | None = Field(
        default=None, description="Server-side X-App-Token given to the default project."
    )
    bootstrap_client_app_id: str | None = Field(
        default=None,
        description="Client-side X-Client-Application-Id given to the default project.",
    )
    bootstrap_client_token: str | None = Field(
        default=None, description="Client-side X-Client-Token given to the default project."
    )

    @property
    def is_sqlite(self) -> bool:
        """Whether the configured database is the embedded SQLite store."""
        return self.database_url.startswith("sqlite")
