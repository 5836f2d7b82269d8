"""Load generation in a separate process: wrk when installed, else ``bench.loadgen``.

A :class:`LoadSpec` describes one measured point: a request template, how many
concurrent clients (keep-alive connections) send it back to back, and the bounds
(seconds and request count). Templates may hold three tokens, filled per request:

``{{seq}}``   a string unique across the whole benchmark run (order source ids),
``{{k}}``     the request counter modulo 8 (picks one of eight customers),
``{{item}}``  the next entry of ``pool``: rotating, or used once when ``consume``
              is set (redemption ids to roll back); the run stops when they run out.

Both generators report the same :class:`LoadResult`, including the CPU seconds the
generator itself used (``os.wait4`` on its process), so its share of the 2 cores
can be printed beside every figure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULT_MARK = "BENCH_RESULT "

SEQ, MOD, ITEM = "{{seq}}", "{{k}}", "{{item}}"
MODULUS = 8


@dataclass
class LoadSpec:
    """One measured point: what to send, how hard, and for how long at most."""

    url: str
    method: str
    path: str
    body: str
    headers: dict[str, str]
    clients: int
    duration: float
    max_requests: int
    prefix: str
    pool: list[str] = field(default_factory=list)
    consume: bool = False
    timeout: float = 10.0

    def stop_after(self) -> int:
        """Responses after which the run stops: the count bound, or the pool when consumed.

        With ``consume``, up to ``clients - 1`` other requests are in flight when a
        response arrives, so stopping there never sends an item twice.
        """
        if self.consume:
            return max(0, min(self.max_requests, len(self.pool) - self.clients + 1))
        return self.max_requests


@dataclass
class LoadResult:
    """What one point measured. Latencies in milliseconds."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    socket_errors: int
    loadgen_cpu_s: float
    generator: str

    @property
    def non_2xx(self) -> int:
        """Responses whose status is not 2xx."""
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with ``non_2xx`` spelled out."""
        return {**asdict(self), "non_2xx": self.non_2xx}


def wrk_path() -> str | None:
    """The wrk binary, unless BENCH_LOADGEN=python asks for the fallback."""
    if os.environ.get("BENCH_LOADGEN", "").lower() == "python":
        return None
    return shutil.which("wrk")


def run(spec: LoadSpec) -> LoadResult:
    """Measure one point with wrk when available, else with the Python generator."""
    if spec.stop_after() <= 0:
        return LoadResult(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, {}, 0, 0.0, "none")
    wrk = wrk_path()
    with tempfile.TemporaryDirectory(prefix="voucherd-bench-") as tmp:
        work = Path(tmp)
        if wrk is not None:
            return _run_wrk(wrk, spec, work)
        return _run_python(spec, work)


def _wait(process: subprocess.Popen[str], timeout: float) -> str:
    """Wait for the generator, bounded in time; its stdout, with stderr after it."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return out + err


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _launch(cmd: list[str], spec: LoadSpec) -> tuple[str, float]:
    # The generator is reaped by communicate(), so its CPU time shows up in this
    # process's RUSAGE_CHILDREN: the delta around the run is the generator's own use.
    before = _children_cpu()
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = _wait(process, spec.duration + spec.timeout + 30)
    return out, _children_cpu() - before


def _parse(out: str, cpu: float, generator: str) -> LoadResult:
    line = next((ln for ln in out.splitlines() if ln.startswith(RESULT_MARK)), None)
    if line is None:
        raise RuntimeError(f"{generator} printed no result:\n{out[-2000:]}")
    data = json.loads(line[len(RESULT_MARK) :])
    seconds = float(data["seconds"])
    requests = int(data["requests"])
    return LoadResult(
        requests=requests,
        seconds=round(seconds, 3),
        rps=round(requests / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(float(data["p50_ms"]), 2),
        p95_ms=round(float(data["p95_ms"]), 2),
        p99_ms=round(float(data["p99_ms"]), 2),
        max_ms=round(float(data["max_ms"]), 2),
        statuses={str(k): int(v) for k, v in data["statuses"].items()},
        socket_errors=int(data["socket_errors"]),
        loadgen_cpu_s=round(cpu, 3),
        generator=generator,
    )


# --- wrk ---------------------------------------------------------------------------------

LUA = r"""
-- Generated by bench/load.py: one keep-alive client per connection, bodies filled per request.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]]
local tv = ffi.new("bench_timeval")
local function now()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local method = %(method)s
local path_template = %(path)s
local body_template = %(body)s
local headers = %(headers)s
local prefix = %(prefix)s
local pool_file = %(pool_file)s
local stop_after = %(stop_after)d
local modulus = %(modulus)d
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  pool = {}
  if pool_file ~= "" then
    for line in io.lines(pool_file) do table.insert(pool, line) end
  end
  counter = 0
  responses = 0
  statuses = {}
  first = 0
  last = 0
end

local function fill(template, seq, item)
  if template == "" then return template end
  local out = template:gsub("{{seq}}", function() return seq end)
  out = out:gsub("{{k}}", function() return tostring(counter %% modulus) end)
  out = out:gsub("{{item}}", function() return item end)
  return out
end

function request()
  counter = counter + 1
  if first == 0 then first = now() end
  local item = ""
  if #pool > 0 then item = pool[((counter - 1) %% #pool) + 1] end
  local seq = prefix .. "-" .. counter
  local body = fill(body_template, seq, item)
  if body == "" then body = nil end
  return wrk.format(method, fill(path_template, seq, item), headers, body)
end

function response(status, headers, body)
  responses = responses + 1
  last = now()
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if responses >= stop_after then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local total, seconds, counts = 0, 0, {}
  for _, t in ipairs(threads) do
    total = total + t:get("responses")
    local span = t:get("last") - t:get("first")
    if span > seconds then seconds = span end
    for k, v in pairs(t:get("statuses")) do counts[k] = (counts[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%%s":%%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"seconds":%%.6f,"p50_ms":%%.3f,"p95_ms":%%.3f,"p99_ms":%%.3f,"max_ms":%%.3f,"socket_errors":%%d,"statuses":{%%s}}\n',
    total, seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ",")))
end
"""


def _lua_string(value: str) -> str:
    # Long brackets need no escaping; pick a level the value does not contain.
    level = 0
    while f"]{'=' * level}]" in value:
        level += 1
    eq = "=" * level
    return f"[{eq}[{value}]{eq}]"


def _lua_table(values: dict[str, str]) -> str:
    return (
        "{" + ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in values.items()) + "}"
    )


def lua_script(spec: LoadSpec, pool_file: str) -> str:
    """The wrk script for ``spec`` (exposed for the harness's smoke test)."""
    return LUA % {
        "method": _lua_string(spec.method),
        "path": _lua_string(spec.path),
        "body": _lua_string(spec.body),
        "headers": _lua_table(spec.headers),
        "prefix": _lua_string(spec.prefix),
        "pool_file": _lua_string(pool_file),
        "stop_after": spec.stop_after(),
        "modulus": MODULUS,
        "mark": RESULT_MARK,
    }


def _write_pool(spec: LoadSpec, work: Path) -> str:
    if not spec.pool:
        return ""
    path = work / "pool.txt"
    path.write_text("\n".join(spec.pool) + "\n")
    return str(path)


def _run_wrk(wrk: str, spec: LoadSpec, work: Path) -> LoadResult:
    script = work / "point.lua"
    script.write_text(lua_script(spec, _write_pool(spec, work)))
    # One wrk thread: it holds all connections, so "{{seq}}" and consumed pools need
    # no partitioning, and one LuaJIT thread outruns this server by far.
    cmd = [
        wrk,
        "-t1",
        f"-c{spec.clients}",
        f"-d{max(1, round(spec.duration))}s",
        f"--timeout={max(1, round(spec.timeout))}s",
        "-s",
        str(script),
        spec.url,
    ]
    out, cpu = _launch(cmd, spec)
    return _parse(out, cpu, "wrk")


# --- Python fallback ---------------------------------------------------------------------


def _run_python(spec: LoadSpec, work: Path) -> LoadResult:
    spec_file = work / "spec.json"
    spec_file.write_text(json.dumps({**asdict(spec), "stop_after": spec.stop_after()}))
    out, cpu = _launch([sys.executable, "-m", "bench.loadgen", str(spec_file)], spec)
    return _parse(out, cpu, "python")
