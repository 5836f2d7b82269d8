"""Benchmarks: ``make bench`` runs every benchmark in this package and prints figures."""

from __future__ import annotations

import sys

from bench import campaign_codes


def main() -> int:
    """Run every benchmark; non-zero exit when one misses its target."""
    slow = [
        backend
        for backend, seconds in campaign_codes.main()
        if seconds > campaign_codes.TARGET_SECONDS
    ]
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
