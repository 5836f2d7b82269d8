"""Results on disk: ``<db>-<timestamp>.json``/``.md``/``.png`` plus ``latest-<db>.*`` copies.

``--quick`` runs are written as ``<db>-quick-…`` and ``latest-<db>-quick.*``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def _cell(value: Any, fmt: str = "{}") -> str:
    return "–" if value is None else fmt.format(value)


def markdown(result: dict[str, Any]) -> str:
    """A short Markdown report: the table of points, then the targets."""
    meta = result["meta"]
    lines = [
        f"# voucherd benchmark — {meta['database']}, {meta['workers']} workers",
        "",
        f"{meta['started_at']} · {meta['cores']} cores · load generator: {meta['generator']} · "
        f"{meta['duration_s']} s per point after a {meta['warm_up_s']} s warm-up · "
        f"{meta['python']} · voucherd {meta['voucherd']}",
        "",
        "| scenario | clients | req/s | × ceiling | p50 ms | p95 ms | p99 ms | non-2xx | server CPU | PostgreSQL CPU | loadgen CPU | other CPU |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in result["points"]:
        if r.get("skipped"):
            lines.append(f"| {r['title']} | – | {r['skipped']} | | | | | | | | | |")
            continue
        lines.append(
            f"| {r['title']} | {r['clients']} | {r['rps']:.0f} | {_cell(r.get('ceiling_ratio'), '{:.1%}')} "
            f"| {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['non_2xx']} "
            f"| {r['server_cpu_share']:.0%} | {r.get('db_cpu_share', 0):.0%} | {r['loadgen_cpu_share']:.0%} "
            f"| {r.get('other_cpu_share', 0):.0%} |"
        )
    for extra in result.get("single", []):
        lines.append(f"| {extra['title']} | 1 | {extra['summary']} | | | | | | | | | |")
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    for v in result["targets"]:
        lines.append(f"| ({v['scenario']}) {v['target']} | {v['measured']} | {v['status']} |")
    if result.get("notes"):
        lines += ["", *[f"- {note}" for note in result["notes"]]]
    return "\n".join(lines) + "\n"


def write(result: dict[str, Any], directory: Path, chart: bool = True) -> list[Path]:
    """Write JSON, Markdown and (when matplotlib is installed) the PNG; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    meta = result["meta"]
    # Quick runs (development) never replace the reference latest-<db>.* files.
    name = meta["database"] + ("-quick" if meta.get("quick") else "")
    stem = f"{name}-{meta['stamp']}"
    written = []
    json_path = directory / f"{stem}.json"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    written.append(json_path)
    md_path = directory / f"{stem}.md"
    md_path.write_text(markdown(result))
    written.append(md_path)
    if chart:
        from bench import chart as charts

        png_path = directory / f"{stem}.png"
        if charts.draw(result, png_path):
            written.append(png_path)
    for path in list(written):
        latest = directory / f"latest-{name}{path.suffix}"
        shutil.copyfile(path, latest)
        written.append(latest)
    return written
