"""The fallback load generator: asyncio clients on raw HTTP/1.1 keep-alive sockets.

Run as ``python -m bench.loadgen SPEC.json`` by :mod:`bench.load` when wrk is not
installed (or ``BENCH_LOADGEN=python``). Each client owns one connection and sends
the next request as soon as the previous response is read; the run stops at the
deadline or after ``stop_after`` responses. It prints one ``BENCH_RESULT`` line,
the same as the wrk script does.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from bench.load import ITEM, MOD, MODULUS, RESULT_MARK, SEQ
from bench.stats import percentile


class Shared:
    """Counters every client of one run updates (one event loop: no locks needed)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.counter = 0
        self.responses = 0
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.socket_errors = 0
        self.first = 0.0
        self.last = 0.0
        self.deadline = 0.0

    def next_request(self, host: str) -> bytes:
        """Fill the templates for the next request and encode it."""
        spec = self.spec
        self.counter += 1
        pool = spec["pool"]
        item = pool[(self.counter - 1) % len(pool)] if pool else ""
        seq = f"{spec['prefix']}-{self.counter}"

        def fill(text: str) -> str:
            return (
                text.replace(SEQ, seq).replace(MOD, str(self.counter % MODULUS)).replace(ITEM, item)
            )

        body = fill(spec["body"]).encode()
        lines = [f"{spec['method']} {fill(spec['path'])} HTTP/1.1", f"Host: {host}"]
        lines += [f"{k}: {v}" for k, v in spec["headers"].items()]
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    @property
    def finished(self) -> bool:
        return self.responses >= self.spec["stop_after"] or time.monotonic() >= self.deadline


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response (Content-Length framed, as uvicorn sends).

    Returns its status and whether the server closes the connection after it
    (``Connection: close``, as a worker does to hand a connection to another one).
    """
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection":
            close = "close" in value.lower()
    if length:
        await reader.readexactly(length)
    return status, close


async def client(shared: Shared, host: str, port: int) -> None:
    """One keep-alive connection sending requests back to back until the run ends."""
    timeout = shared.spec["timeout"]
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while not shared.finished:
            data = shared.next_request(f"{host}:{port}")
            started = time.monotonic()
            if not shared.first:
                shared.first = started
            writer.write(data)
            try:
                status, close = await asyncio.wait_for(read_response(reader), timeout)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                shared.socket_errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            shared.last = time.monotonic()
            shared.latencies.append((shared.last - started) * 1000)
            shared.statuses[str(status)] += 1
            shared.responses += 1
            if close and not shared.finished:  # a new connection for the next request, as wrk
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def main_async(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the clients and summarise what they measured."""
    parts = urlsplit(spec["url"])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    shared = Shared(spec)
    shared.deadline = time.monotonic() + spec["duration"]
    await asyncio.gather(*(client(shared, host, port) for _ in range(spec["clients"])))
    values = sorted(shared.latencies)
    return {
        "requests": shared.responses,
        "seconds": max(0.0, shared.last - shared.first),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "max_ms": values[-1] if values else 0.0,
        "socket_errors": shared.socket_errors,
        "statuses": dict(shared.statuses),
    }


def main(argv: list[str]) -> int:
    """Entry point: read the spec file, run, print the result line."""
    with open(argv[0]) as handle:
        spec = json.load(handle)
    result = asyncio.run(main_async(spec))
    print(RESULT_MARK + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
