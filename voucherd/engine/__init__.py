"""voucherd's pure decision core: snapshot in, outcome out (BEHAVIOR.md §6–§13).

Stdlib only: no I/O, no clock, no randomness. Entry point: :func:`evaluate`.
"""

from voucherd.engine.evaluate import evaluate
from voucherd.engine.model import Outcome, Snapshot
from voucherd.engine.rules import counter_keys_needed, validate_rule_definition
from voucherd.engine.stacking import check_request

__all__ = [
    "Outcome",
    "Snapshot",
    "check_request",
    "counter_keys_needed",
    "evaluate",
    "validate_rule_definition",
]
