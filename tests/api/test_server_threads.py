"""VOUCHERD_THREADS bounds how many requests a server process works on at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio.to_thread

from voucherd.api.app import create_app
from voucherd.settings import Settings


def thread_tokens(settings: Settings) -> int:
    """The thread pool's size inside a running app built from ``settings``."""
    app = create_app(settings)

    async def run() -> int:
        async with app.router.lifespan_context(app):
            return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    try:
        return asyncio.run(run())
    finally:
        app.state.db.dispose()


def test_the_thread_pool_takes_the_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    assert thread_tokens(Settings(database_url=url, threads=3)) == 3
    assert thread_tokens(Settings(database_url=url)) == Settings().threads == 4
