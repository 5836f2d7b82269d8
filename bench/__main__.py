"""Benchmarks: ``make bench`` runs every benchmark in this package and prints figures."""

from __future__ import annotations

import sys

from bench import campaign_codes, redemptions_list


def main() -> int:
    """Run every benchmark; exit 1 when one misses its target (figures are printed either way)."""
    slow = [
        backend
        for backend, seconds in campaign_codes.main()
        if seconds > campaign_codes.TARGET_SECONDS
    ]
    listing_ok = redemptions_list.main()
    return 0 if listing_ok and not slow else 1


if __name__ == "__main__":
    sys.exit(main())
