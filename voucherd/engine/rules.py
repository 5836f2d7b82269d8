"""Validation rules: definition checks, the ``logic`` parser and evaluation (BEHAVIOR.md §11).

A rule set holds numbered rules (``"1"``, ``"2"``, …) and a ``logic`` expression
over their numbers (``and``/``or``, parentheses, case-insensitive; empty = all
rules AND-ed, decision). Item-scope rules (``order.items.any`` …, ``product.id``,
``sku.id``) select lines and refine them with nested rules and their own logic.

Failure keys (§11.2 decision): customer rules → ``customer_rules_violated``;
order, item, product and SKU rules → ``order_rules_violated``; everything else →
``redemption_rules_violated``; a rule needing a customer when none is given →
``missing_customer``. Message: the failing rule's ``error.message``, else the
rule set's, else a generic one.

Counters: rules that count past redemptions read ``Snapshot.counters`` under the
keys :func:`counter_key` builds; :func:`counter_keys_needed` lists them for the
store. The compared value includes the redemption being decided (previous
count + 1, decision), so ``$less_than_or_equal: [3]`` means "at most 3".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from voucherd.engine.model import Customer, RedeemableInput, RuleSet, Snapshot, Target, Voucher
from voucherd.engine.order import LineState
from voucherd.engine.reasons import (
    CUSTOMER_RULES_VIOLATED,
    MISSING_CUSTOMER,
    ORDER_RULES_VIOLATED,
    REDEMPTION_RULES_VIOLATED,
    Reason,
    reason,
)
from voucherd.engine.targets import item_matches
from voucherd.engine.validity import day_of_week

OPERATORS = frozenset(
    {
        "$is",
        "$is_not",
        "$in",
        "$not_in",
        "$less_than",
        "$less_than_or_equal",
        "$more_than",
        "$more_than_or_equal",
        "$greater_than_or_equal",
        "$starts_with",
        "$ends_with",
        "$contains",
        "$count",
        "$count_more",
        "$count_less",
        "$timeframe_absolute",
        "$dow",
        "$after",
        "$before",
    }
)
# Known to Voucherify and accepted in definitions, but not evaluated by this engine:
# a rule using one fails with an "unsupported operator" detail instead of passing.
UNEVALUATED_OPERATORS = frozenset(
    {
        "$timeframe",
        "$timeframe_daily_hours",
        "$from",
        "$not_differ",
        "$not_intersect",
        "$more_than_ago",
        "$less_than_ago",
        "$is_days_ago",
        "$more_than_future",
        "$less_than_future",
        "$is_days_in_future",
    }
)

ITEM_SCOPES = frozenset(
    {
        "order.items.any",
        "order.items.every",
        "order.items.none",
        "order.items.cheapest",
        "order.items.most_expensive",
        "product.id",
        "sku.id",
    }
)
COUNTER_RULES = frozenset(
    {
        "redemption.count.per_customer",
        "redemption.count.per_customer.daily",
        "redemption.count.per_customer.weekly",
        "redemption.count.per_customer.monthly",
        "redemption.count.daily",
        "redemption.count.weekly",
        "redemption.count.monthly",
        "campaign.redemptions.count",
        "campaign.redemptions.count.daily",
        "campaign.redemptions.count.weekly",
        "campaign.redemptions.count.monthly",
    }
)
GENERIC_MESSAGES = {
    ORDER_RULES_VIOLATED: "order does not match validation rules",
    CUSTOMER_RULES_VIOLATED: "customer does not match segment rules",
    REDEMPTION_RULES_VIOLATED: "redemption does not match validation rules",
    MISSING_CUSTOMER: "customer is missing",
}


class MissingCounterError(KeyError):
    """The store did not supply a counter listed by :func:`counter_keys_needed` (a bug)."""


# --- logic expressions ------------------------------------------------------------------

MAX_LOGIC_DEPTH = 32  # parentheses in `logic`
MAX_RULE_DEPTH = 8  # nested `rules` objects

_LOGIC_TOKEN = re.compile(r"\s*(\d+|and\b|or\b|\(|\))", re.IGNORECASE)
# What an unknown token is called in errors: the word, or the single character.
_UNKNOWN_TOKEN = re.compile(r"\s*([A-Za-z]+|\S)")

Logic = tuple[Any, ...]  # ("ref", "1") | ("and", a, b) | ("or", a, b)


class LogicError(ValueError):
    """A ``logic`` expression outside the grammar ``expr := term (or term)*; term := atom (and atom)*``."""


def parse_logic(text: str) -> Logic | None:
    """Parse ``logic`` (``"(1 and 2) OR 3"``); None for an empty expression.

    ``and`` binds tighter than ``or``. Raises :class:`LogicError` when unparsable.
    """
    tokens: list[str] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _LOGIC_TOKEN.match(text, position)
        if match is None:
            unknown = _UNKNOWN_TOKEN.match(text, position)
            raise LogicError(f"unexpected {unknown.group(1) if unknown else text[position:]!r}")
        tokens.append(match.group(1).lower())
        position = match.end()
    if not tokens:
        return None
    index = 0
    depth = 0

    def peek() -> str | None:
        return tokens[index] if index < len(tokens) else None

    def expression() -> Logic:
        nonlocal index
        node = term()
        while peek() == "or":
            index += 1
            node = ("or", node, term())
        return node

    def term() -> Logic:
        nonlocal index
        node = atom()
        while peek() == "and":
            index += 1
            node = ("and", node, atom())
        return node

    def atom() -> Logic:
        nonlocal index, depth
        token = peek()
        if token is None:
            raise LogicError("expression ends too early")
        index += 1
        if token == "(":  # noqa: S105 - a parenthesis, not a password
            depth += 1
            if depth > MAX_LOGIC_DEPTH:
                raise LogicError("logic nested too deeply")
            node = expression()
            if peek() != ")":
                raise LogicError("missing ')'")
            index += 1
            depth -= 1
            return node
        if token.isdigit():
            return ("ref", token)
        raise LogicError(f"unexpected {token!r}")

    node = expression()
    if index != len(tokens):
        raise LogicError(f"unexpected {tokens[index]!r}")
    return node


def logic_references(node: Logic | None) -> list[str]:
    """Rule numbers a parsed expression mentions, in order of appearance."""
    if node is None:
        return []
    if node[0] == "ref":
        return [node[1]]
    return logic_references(node[1]) + logic_references(node[2])


def evaluate_logic(node: Logic | None, values: Mapping[str, bool]) -> bool:
    """Evaluate a parsed expression; None (empty logic) means every rule must hold."""
    if node is None:
        return all(values.values())
    if node[0] == "ref":
        return values.get(node[1], False)
    if node[0] == "and":
        return evaluate_logic(node[1], values) and evaluate_logic(node[2], values)
    return evaluate_logic(node[1], values) or evaluate_logic(node[2], values)


def _numbered(rules: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return sorted(((k, v) for k, v in rules.items() if k.isdigit()), key=lambda kv: int(kv[0]))


# --- definition checks --------------------------------------------------------------------


# Rule names start with one of these scopes (§11.1 lists the names in full).
RULE_SCOPES = (
    "customer.",
    "order.",
    "product.",
    "sku.",
    "campaign.",
    "redemption.",
    "publication.",
    "custom_event.",
)


def validate_rule_definition(rules: Any) -> list[str]:
    """Every problem of a wire ``rules`` tree, in Voucherify's wording; empty when valid.

    Checked at every nesting level: keys other than ``logic`` are positive rule
    numbers; each rule is an object with a ``name`` from a known scope, a
    ``property`` when the name ends in ``.metadata`` ("Rule 'customer.metadata'
    must have a 'property'"), ``conditions`` mapping known operators (evaluated or
    not) to arrays, optional nested ``rules`` (at most :data:`MAX_RULE_DEPTH` deep)
    and ``error.message``; ``logic`` parses with :func:`parse_logic` and names only
    rules that exist. An empty or missing ``logic`` is fine (all rules must pass).
    The catalog answers 400 ``invalid_validation_rules`` with these; evaluation
    fails closed on a stored tree that has any.

    >>> validate_rule_definition({"logic": "1"})
    ["Logic '1' refers to rule 1, which does not exist"]
    """
    return _check_level(rules, prefix="", depth=0)


def _check_level(rules: Any, prefix: str, depth: int) -> list[str]:
    where = f" of rule {prefix.rstrip('.')}" if prefix else ""
    if not isinstance(rules, Mapping):
        return [f"Rules{where} must be an object"]
    if depth > MAX_RULE_DEPTH:
        return [f"Rules{where} are nested too deeply (max {MAX_RULE_DEPTH})"]
    problems: list[str] = []
    numbers: set[int] = set()
    for key, rule in rules.items():
        if key == "logic":
            continue
        # ASCII only: "²".isdigit() is true, but int("²") fails.
        if not (isinstance(key, str) and key.isascii() and key.isdigit() and int(key) > 0):
            problems.append(f"Rules{where} have an unexpected key '{key}'")
            continue
        numbers.add(int(key))
        problems.extend(_check_rule(rule, f"{prefix}{int(key)}", depth))
    logic = rules.get("logic")
    if logic is None or logic == "":
        return problems
    if not isinstance(logic, str):
        return [*problems, f"Logic{where} must be a string"]
    try:
        parsed = parse_logic(logic)
    except LogicError as exc:
        return [*problems, f"Logic '{logic}'{where} is not valid: {exc}"]
    for number in sorted({int(ref) for ref in logic_references(parsed)} - numbers):
        problems.append(f"Logic '{logic}'{where} refers to rule {number}, which does not exist")
    return problems


def _check_rule(rule: Any, number: str, depth: int) -> list[str]:
    if not isinstance(rule, Mapping):
        return [f"Rule {number} must be an object"]
    name = rule.get("name")
    if not isinstance(name, str) or not name:
        return [f"Rule {number} must have a 'name'"]
    problems: list[str] = []
    if not name.startswith(RULE_SCOPES):
        problems.append(f"Rule {number} has an unknown name '{name}'")
    if name.endswith(".metadata") and not (
        isinstance(rule.get("property"), str) and rule["property"]
    ):
        problems.append(f"Rule '{name}' must have a 'property'")
    conditions = rule.get("conditions")
    if not isinstance(conditions, Mapping):
        problems.append(f"Rule '{name}' ({number}) must have 'conditions' as an object")
    else:
        for operator, values in conditions.items():
            if operator not in OPERATORS and operator not in UNEVALUATED_OPERATORS:
                problems.append(f"Rule '{name}' ({number}) uses an unknown operator '{operator}'")
            elif not isinstance(values, list):
                problems.append(
                    f"Rule '{name}' ({number}) condition {operator} must be an array of values"
                )
    error = rule.get("error")
    if error is not None and not (
        isinstance(error, Mapping) and isinstance(error.get("message", ""), str)
    ):
        problems.append(f"Rule '{name}' ({number}) error must be an object with a 'message'")
    nested = rule.get("rules")
    if nested is not None:
        problems.extend(_check_level(nested, prefix=f"{number}.", depth=depth + 1))
    return problems


# --- counters -----------------------------------------------------------------------------


def counter_key(rule_name: str, rule_set: RuleSet, redeemable: RedeemableInput) -> str:
    """The ``Snapshot.counters`` key a counter rule reads.

    ``campaign.redemptions.count[.period]`` → ``"<name>:campaign:<campaign_id>"``
    (the redeemable's campaign). Other counter rules (per customer, per period) →
    ``"<name>:<type>:<id>"`` of the rule set's assignment (``related_object_*``),
    defaulting to the redeemable itself (``voucher``/``promotion_tier`` + resolved
    id). Per-customer counters are for the request's customer; periods are calendar
    day/week/month in project time. Values are successful redemptions so far.
    """
    definition = redeemable.definition
    if rule_name.startswith("campaign."):
        campaign = definition.campaign if definition is not None else None
        return f"{rule_name}:campaign:{campaign.id if campaign else ''}"
    if rule_set.related_object_type and rule_set.related_object_id:
        return f"{rule_name}:{rule_set.related_object_type}:{rule_set.related_object_id}"
    object_id = definition.id if definition is not None else redeemable.id
    return f"{rule_name}:{redeemable.object}:{object_id}"


def _walk(rules: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for _, rule in _numbered(rules):
        if isinstance(rule, Mapping):
            yield rule
            nested = rule.get("rules")
            if isinstance(nested, Mapping):
                yield from _walk(nested)


def counter_keys_needed(snapshot: Snapshot) -> frozenset[str]:
    """Every counter key the snapshot's rule sets will read; the store fills them in."""
    keys = set()
    for redeemable in snapshot.redeemables:
        for rule_set in redeemable.rule_sets:
            for rule in _walk(rule_set.rules):
                if rule.get("name") in COUNTER_RULES:
                    keys.add(counter_key(rule["name"], rule_set, redeemable))
    return frozenset(keys)


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleContext:
    """What rules can see at the redeemable's position (§11.2)."""

    lines: tuple[LineState, ...]
    amount: int
    total_amount_before: int
    total_amount_after: int
    initial_amount: int
    order_metadata: Mapping[str, Any]
    customer: Customer | None
    redemption_metadata: Mapping[str, Any]
    counters: Mapping[str, int]
    collections: Mapping[str, frozenset[str]]
    redeemable: RedeemableInput
    now: datetime
    tz: tzinfo


@dataclass(frozen=True)
class Failure:
    """Why one rule failed: where, which operator, expected vs actual."""

    path: str
    name: str
    operator: str | None
    expected: Any
    actual: Any
    message: str | None
    missing_customer: bool = False
    problem: str | None = None


def key_for_rule(name: str) -> str:
    """Failure key for a rule name (§11.2 decision)."""
    if name.startswith("customer."):
        return CUSTOMER_RULES_VIOLATED
    if name.startswith(("order.", "product.", "sku.")):
        return ORDER_RULES_VIOLATED
    return REDEMPTION_RULES_VIOLATED


def _to_number(value: Any) -> Fraction | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float | str):
        try:
            return Fraction(Decimal(str(value)))
        except (InvalidOperation, ValueError):
            return None
    return None


def _to_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, Mapping):
        expected = expected.get("id")
    left, right = _to_number(actual), _to_number(expected)
    if left is not None and right is not None and not isinstance(actual, str | bool):
        return left == right
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected or str(actual).lower() == str(expected).lower()
    return actual == expected or (actual is not None and str(actual) == str(expected))


def _compare(actual: Any, expected: Any, test: Callable[[Fraction, Fraction], bool]) -> bool:
    left, right = _to_number(actual), _to_number(expected)
    if left is None or right is None:
        return False
    return test(left, right)


def apply_operator(operator: str, actual: Any, expected: list[Any], context: RuleContext) -> bool:
    """Whether ``actual`` satisfies ``operator`` with the condition values ``expected``.

    List values (segments, arrays in metadata) satisfy ``$is``/``$in`` when any
    expected value is in them and ``$is_not``/``$not_in`` when none is. Numeric
    comparisons use the first expected value; a non-number never satisfies them.
    """
    first = expected[0] if expected else None
    if operator in {"$is", "$in"}:
        if isinstance(actual, list | tuple):
            return any(_same(a, e) for a in actual for e in expected)
        return any(_same(actual, e) for e in expected)
    if operator in {"$is_not", "$not_in"}:
        if isinstance(actual, list | tuple):
            return not any(_same(a, e) for a in actual for e in expected)
        return not any(_same(actual, e) for e in expected)
    if operator == "$less_than":
        return _compare(actual, first, lambda a, b: a < b)
    if operator == "$less_than_or_equal":
        return _compare(actual, first, lambda a, b: a <= b)
    if operator == "$more_than":
        return _compare(actual, first, lambda a, b: a > b)
    if operator in {"$more_than_or_equal", "$greater_than_or_equal"}:
        return _compare(actual, first, lambda a, b: a >= b)
    if operator in {"$starts_with", "$ends_with"}:
        if not isinstance(actual, str):
            return False
        test = actual.startswith if operator == "$starts_with" else actual.endswith
        return any(isinstance(e, str) and test(e) for e in expected)
    if operator == "$contains":
        if isinstance(actual, str):
            return any(isinstance(e, str) and e in actual for e in expected)
        if isinstance(actual, list | tuple):
            return any(_same(a, e) for a in actual for e in expected)
        return False
    if operator in {"$count", "$count_more", "$count_less"}:
        if not isinstance(actual, list | tuple | Mapping | str):
            return False
        size = len(actual)
        if operator == "$count":
            return _compare(size, first, lambda a, b: a == b)
        if operator == "$count_more":
            return _compare(size, first, lambda a, b: a > b)
        return _compare(size, first, lambda a, b: a < b)
    if operator in {"$after", "$before"}:
        moment, bound = _to_datetime(actual), _to_datetime(first)
        if moment is None or bound is None:
            return False
        return moment > bound if operator == "$after" else moment < bound
    if operator == "$timeframe_absolute":
        moment = _to_datetime(actual)
        if moment is None or not isinstance(first, str) or ";" not in first:
            return False
        start, end = (_to_datetime(part) for part in first.split(";", 1))
        return (start is None or moment >= start) and (end is None or moment <= end)
    if operator == "$dow":
        moment = _to_datetime(actual)
        if moment is None:
            return False
        return any(_same(day_of_week(moment, context.tz), e) for e in expected)
    return False


def _check_conditions(
    rule: Mapping[str, Any], actual: Any, path: str, context: RuleContext
) -> Failure | None:
    conditions = rule.get("conditions") or {}
    name = str(rule.get("name"))
    message = _rule_message(rule)
    for operator, expected in conditions.items():
        if operator not in OPERATORS:
            return Failure(
                path, name, operator, expected, actual, message, problem="unsupported operator"
            )
        values = expected if isinstance(expected, list) else [expected]
        if not apply_operator(operator, actual, values, context):
            return Failure(path, name, operator, values, _jsonable(actual), message)
    return None


def _rule_message(rule: Mapping[str, Any]) -> str | None:
    error = rule.get("error")
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return str(error["message"])
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _line_value(
    name: str, rule: Mapping[str, Any], line: LineState, matched: list[LineState]
) -> tuple[bool, Any]:
    """Value of an item sub-rule for one line; ``(False, None)`` for an unknown name."""
    prop = rule.get("property")
    if name in {"order.items.quantity", "product.quantity", "sku.quantity"}:
        return True, line.quantity
    if name in {"order.items.price", "product.price", "sku.price"}:
        return True, line.unit_price
    if name in {"order.items.amount", "product.amount", "sku.amount"}:
        return True, line.amount
    if name in {"order.items.aggregated_quantity", "product.metadata.aggregated_quantity"}:
        return True, sum(m.quantity for m in matched)
    if name in {"order.items.aggregated_amount", "product.metadata.aggregated_amount"}:
        return True, sum(m.amount for m in matched)
    if name == "order.items.metadata":
        return True, line.item.metadata.get(str(prop))
    if name == "product.metadata":
        return True, line.item.product_metadata.get(str(prop), line.item.metadata.get(str(prop)))
    if name == "sku.metadata":
        return True, line.item.sku_metadata.get(str(prop))
    return False, None


def _evaluate_line(
    rules: Mapping[str, Any],
    line: LineState,
    matched: list[LineState],
    path: str,
    context: RuleContext,
) -> Failure | None:
    results: dict[str, bool] = {}
    failures: dict[str, Failure] = {}
    for number, rule in _numbered(rules):
        name = str(rule.get("name"))
        here = f"{path}.{number}"
        known, actual = _line_value(name, rule, line, matched)
        if not known:
            failure: Failure | None = Failure(
                here, name, None, None, None, _rule_message(rule), problem="unsupported rule"
            )
        else:
            failure = _check_conditions(rule, actual, here, context)
        results[number] = failure is None
        if failure is not None:
            failures[number] = failure
    return _combine(rules, results, failures, path)


def _combine(
    rules: Mapping[str, Any], results: dict[str, bool], failures: dict[str, Failure], path: str
) -> Failure | None:
    logic_text = rules.get("logic", "") or ""
    try:
        parsed = parse_logic(str(logic_text))
    except LogicError:
        return Failure(path, "logic", None, logic_text, None, None, problem="unparsable logic")
    if evaluate_logic(parsed, results):
        return None
    order = logic_references(parsed) or [n for n, _ in _numbered(rules)]
    for number in order:
        if number in failures:
            return failures[number]
    return Failure(path, "logic", None, logic_text, None, None, problem="logic not satisfied")


def _as_target(entry: Any) -> Target | None:
    if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
        return Target(
            object=str(entry.get("object", "product")),
            id=str(entry["id"]),
            source_id=entry.get("source_id"),
        )
    if isinstance(entry, str):
        object_type = (
            "sku"
            if entry.startswith("sku_")
            else "products_collection"
            if entry.startswith("pc_")
            else "product"
        )
        return Target(object=object_type, id=entry)
    return None


def _evaluate_scope(rule: Mapping[str, Any], path: str, context: RuleContext) -> Failure | None:
    name = str(rule.get("name"))
    conditions = rule.get("conditions") or {}
    nested = rule.get("rules") or {}
    message = _rule_message(rule)
    selectors = list(conditions.get("$is", [])) + list(conditions.get("$in", []))
    negated = list(conditions.get("$is_not", [])) + list(conditions.get("$not_in", []))
    lines = list(context.lines)
    if name == "sku.id":
        selectors = [{"object": "sku", "id": e} if isinstance(e, str) else e for e in selectors]
        negated = [{"object": "sku", "id": e} if isinstance(e, str) else e for e in negated]

    def matching(entries: list[Any]) -> list[LineState]:
        targets = [t for t in (_as_target(e) for e in entries) if t is not None]
        return [
            line
            for line in lines
            if line.quantity > 0
            and any(item_matches(line.item, t, context.collections) for t in targets)
        ]

    if negated:
        found = matching(negated)
        if found:
            return Failure(
                path, name, "$is_not", negated, [_describe(line) for line in found], message
            )
        if not selectors:
            return None
    matched = matching(selectors) if selectors else [line for line in lines if line.quantity > 0]

    def passes(line: LineState, group: list[LineState]) -> Failure | None:
        if not _numbered(nested):
            return None
        return _evaluate_line(nested, line, group, f"{path}.rules", context)

    if name == "order.items.none":
        offenders = [line for line in matched if passes(line, matched) is None]
        if offenders:
            return Failure(
                path, name, "none", selectors, [_describe(line) for line in offenders], message
            )
        return None
    if name == "order.items.every":
        if not selectors:
            # No product list: every line must satisfy the nested rules.
            for line in matched:
                failure = passes(line, matched)
                if failure is not None:
                    return _with_message(failure, message)
            return None
        # Every listed product must be in the cart with a line satisfying the nested rules.
        for entry in selectors:
            group = matching([entry])
            last: Failure | None = Failure(path, name, "every", entry, None, message)
            for line in group:
                last = passes(line, group)
                if last is None:
                    break
            if last is not None:
                return _with_message(last, message)
        return None
    if name in {"order.items.cheapest", "order.items.most_expensive"}:
        if not matched:
            return Failure(path, name, "$is", selectors, [], message)
        pick = min if name == "order.items.cheapest" else max
        chosen = pick(matched, key=lambda line: line.unit_price)
        failure = passes(chosen, matched)
        return None if failure is None else _with_message(failure, message)
    # order.items.any, product.id, sku.id: some matched line passes.
    if not matched:
        return Failure(path, name, "$is", selectors, [], message)
    first_failure: Failure | None = None
    for line in matched:
        failure = passes(line, matched)
        if failure is None:
            return None
        first_failure = first_failure or failure
    return _with_message(first_failure, message) if first_failure else None


def _with_message(failure: Failure, message: str | None) -> Failure:
    if failure.message or not message:
        return failure
    return Failure(
        failure.path,
        failure.name,
        failure.operator,
        failure.expected,
        failure.actual,
        message,
        failure.missing_customer,
        failure.problem,
    )


def _describe(line: LineState) -> str:
    item = line.item
    return item.sku_id or item.product_id or item.source_id or "item"


def _evaluate_rule(rule: Any, path: str, rule_set: RuleSet, context: RuleContext) -> Failure | None:
    if not isinstance(rule, Mapping):
        return Failure(path, "?", None, None, None, None, problem="malformed rule")
    name = str(rule.get("name"))
    prop = rule.get("property")
    message = _rule_message(rule)
    customer = context.customer
    if name in ITEM_SCOPES:
        return _evaluate_scope(rule, path, context)
    needs_customer = (
        name.startswith(("customer.", "redemption.count.per_customer"))
        or name == "publication.redeemable_by_linked_customer"
    )
    if needs_customer and customer is None:
        return Failure(path, name, None, "a customer", None, message, missing_customer=True)
    lines = context.lines
    actual: Any
    if name == "customer.metadata":
        actual = customer.metadata.get(str(prop)) if customer else None
    elif name == "customer.segment":
        actual = tuple(customer.segment_ids) if customer else ()
    elif name == "order.amount":
        actual = context.total_amount_before
    elif name == "order.total_amount":
        actual = context.total_amount_after
    elif name == "order.initial_amount":
        actual = context.initial_amount
    elif name == "order.items.count":
        actual = sum(1 for line in lines if line.quantity > 0)
    elif name == "order.metadata":
        actual = context.order_metadata.get(str(prop))
    elif name == "redemption.metadata":
        actual = context.redemption_metadata.get(str(prop))
    elif name in {
        "order.items.price_any",
        "order.items.price_each",
        "order.items.metadata_any",
        "order.items.metadata_each",
    }:
        return _evaluate_each(rule, name, path, context)
    elif name in {
        "product.price",
        "product.quantity",
        "product.metadata",
        "sku.price",
        "sku.quantity",
        "sku.metadata",
    }:
        scope = {
            "name": "order.items.any",
            "conditions": {},
            "rules": {"1": rule, "logic": "1"},
            "error": rule.get("error"),
        }
        return _evaluate_scope(scope, path, context)
    elif name in COUNTER_RULES:
        key = counter_key(name, rule_set, context.redeemable)
        if key not in context.counters:
            raise MissingCounterError(key)
        actual = context.counters[key] + 1
    elif name == "publication.redeemable_by_linked_customer":
        definition = context.redeemable.definition
        holder = definition.holder_id if isinstance(definition, Voucher) else None
        linked = customer is not None and holder is not None and customer.id == holder
        conditions = rule.get("conditions") or {"$is": [True]}
        rule = {**rule, "conditions": conditions}
        actual = linked
    else:
        return Failure(path, name, None, None, None, message, problem="unsupported rule")
    return _check_conditions(rule, actual, path, context)


def _evaluate_each(
    rule: Mapping[str, Any], name: str, path: str, context: RuleContext
) -> Failure | None:
    prop = rule.get("property")
    lines = [line for line in context.lines if line.quantity > 0]
    values = [
        line.unit_price if "price" in name else line.item.metadata.get(str(prop)) for line in lines
    ]
    failures = [_check_conditions(rule, value, path, context) for value in values]
    if name.endswith("_any"):
        if any(f is None for f in failures):
            return None
        return (
            failures[0]
            if failures
            else Failure(path, name, None, "an item", [], _rule_message(rule))
        )
    for failure in failures:
        if failure is not None:
            return failure
    return None


def evaluate_rule_set(rule_set: RuleSet, context: RuleContext) -> Reason | None:
    """Evaluate one assigned rule set; None when it passes, else the failure :class:`Reason`.

    ``details`` carry ``rule_set`` (the ``val_`` id), ``rule`` (number path such as
    ``"3.rules.1"``), ``name``, ``operator``, ``expected`` and ``actual``.
    """
    rules = rule_set.rules
    # Definitions are checked on write; a stored one that is still malformed fails
    # closed here instead of crashing the request.
    problems = validate_rule_definition(rules)
    if problems:
        return reason(
            REDEMPTION_RULES_VIOLATED,
            rule_set.error_message or GENERIC_MESSAGES[REDEMPTION_RULES_VIOLATED],
            check="validation_rules",
            rule_set=rule_set.id,
            problem="malformed rule definition",
            problems=problems,
        )
    results: dict[str, bool] = {}
    failures: dict[str, Failure] = {}
    for number, rule in _numbered(rules):
        failure = _evaluate_rule(rule, number, rule_set, context)
        results[number] = failure is None
        if failure is not None:
            failures[number] = failure
    failure = _combine(rules, results, failures, "logic")
    if failure is None:
        return None
    key = MISSING_CUSTOMER if failure.missing_customer else key_for_rule(failure.name)
    message = failure.message or rule_set.error_message or GENERIC_MESSAGES[key]
    details: dict[str, Any] = {
        "check": "validation_rules",
        "rule_set": rule_set.id,
        "rule": failure.path,
        "name": failure.name,
        "operator": failure.operator,
        "expected": _jsonable(failure.expected),
        "actual": _jsonable(failure.actual),
    }
    if failure.problem:
        details["problem"] = failure.problem
    return reason(key, message, **details)
