"""The PNG: throughput and p99 latency against concurrent clients, one line per scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(result: dict[str, Any], path: Path) -> bool:
    """Draw the chart; False (and a note) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install -e '.[bench]')")
        return False
    series: dict[str, list[dict[str, Any]]] = {}
    titles: dict[str, str] = {}
    for record in result["points"]:
        if "rps" in record:
            series.setdefault(record["scenario"], []).append(record)
            titles[record["scenario"]] = record["title"]
    meta = result["meta"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 6.5), constrained_layout=True)
    for key, points in series.items():
        points.sort(key=lambda r: r["clients"])
        clients = [r["clients"] for r in points]
        style = {"linestyle": "--", "color": "black"} if key == "ceiling" else {}
        left.plot(clients, [r["rps"] for r in points], marker="o", label=titles[key], **style)
        right.plot(clients, [r["p99_ms"] for r in points], marker="o", label=titles[key], **style)
    for axis, label in ((left, "throughput (requests/s)"), (right, "p99 latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(sorted({r["clients"] for p in series.values() for r in p}))
        axis.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    right.axhline(25, color="grey", linewidth=0.8, linestyle=":")
    right.text(
        0.01,
        25,
        "25 ms: target (a)",
        color="grey",
        va="bottom",
        fontsize=8,
        transform=right.get_yaxis_transform(),
    )
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8)
    fig.suptitle(
        f"voucherd on {meta['database']}, {meta['workers']} workers, {meta['cores']} cores "
        f"({meta['started_at']}, load: {meta['generator']})"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
