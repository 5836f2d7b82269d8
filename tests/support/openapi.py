"""voucherd's OpenAPI document, built without a database (the engine is lazy)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from voucherd.api.app import create_app
from voucherd.settings import Settings


@functools.cache
def document() -> dict[str, Any]:
    """The document ``/openapi.json`` serves."""
    unused = Path(tempfile.gettempdir()) / "voucherd-openapi-never-created.db"
    result: dict[str, Any] = create_app(Settings(database_url=f"sqlite:///{unused}")).openapi()
    return result


def operations(prefixes: tuple[str, ...]) -> list[str]:
    """``"METHOD /path"`` of every documented operation under ``prefixes``."""
    return sorted(
        f"{method.upper()} {path}"
        for path, item in document()["paths"].items()
        if path.startswith(prefixes)
        for method in item
    )
