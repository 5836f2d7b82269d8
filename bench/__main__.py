"""Benchmarks: ``make bench`` runs every benchmark in this package and prints figures."""

from __future__ import annotations

import sys

from bench import redemptions_list


def main() -> int:
    """Run every benchmark; exit 1 when one misses its target."""
    results = [redemptions_list.main()]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
