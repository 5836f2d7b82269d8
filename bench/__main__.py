"""Benchmarks: ``make bench`` runs every benchmark in this package and prints figures."""

from __future__ import annotations

import sys


def main() -> int:
    """Run the benchmarks that exist so far."""
    print("no benchmarks yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
