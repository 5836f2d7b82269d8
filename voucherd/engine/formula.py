"""Discount formulas: a tiny safe expression language of our own (BEHAVIOR.md §7.2).

Grammar (case-insensitive names, ``;`` or ``,`` between arguments)::

    expr       := comparison
    comparison := additive (("<" | "<=" | ">" | ">=" | "=" | "==" | "!=" | "<>") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | OPERAND | FUNC "(" expr (sep expr)* ")" | "(" expr ")"

Functions: ``IF(cond; then; else)``, ``MIN``, ``MAX``, ``ROUND(x[; digits])`` (half up),
``CUSTOMER_METADATA("k")``, ``ORDER_METADATA("k")``, ``REDEMPTION_METADATA("k")``.
Operands: ``ORDER_AMOUNT``, ``ORDER_TOTAL_AMOUNT``, ``ORDER_ITEM_PRICE``,
``ORDER_ITEM_QUANTITY``, ``ORDER_ITEM_AMOUNT`` — money in **major** units
(``6500`` minor → ``65``), as the SaaS does. Anything else is a :class:`FormulaError`;
callers then fall back to the static value. Nothing is ever passed to ``eval``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from voucherd.engine.money import round_half_up

Value = Fraction | bool | str

OPERANDS = frozenset(
    {
        "ORDER_AMOUNT",
        "ORDER_TOTAL_AMOUNT",
        "ORDER_ITEM_PRICE",
        "ORDER_ITEM_QUANTITY",
        "ORDER_ITEM_AMOUNT",
    }
)
FUNCTIONS = frozenset(
    {"IF", "MIN", "MAX", "ROUND", "CUSTOMER_METADATA", "ORDER_METADATA", "REDEMPTION_METADATA"}
)
MAX_LENGTH = 1000
MAX_DEPTH = 32  # nesting of parentheses, calls and unary minus; keeps recursion shallow

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?|\.\d+)
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|==|!=|<>|[-+*/()<>=;,])
    )""",
    re.VERBOSE,
)


class FormulaError(ValueError):
    """The formula is outside the grammar or cannot be evaluated with these inputs."""


@dataclass(frozen=True)
class FormulaContext:
    """Operand values (major units) and metadata the formula may read.

    Missing item operands (an order-level discount) make ``ORDER_ITEM_*`` an error.
    """

    operands: Mapping[str, Fraction]
    customer_metadata: Mapping[str, Any]
    order_metadata: Mapping[str, Any]
    redemption_metadata: Mapping[str, Any]


def _tokenize(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_LENGTH:
        raise FormulaError("formula too long")
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise FormulaError(f"unexpected character at {position}: {stripped[position]!r}")
        kind = match.lastgroup
        if kind is None:  # pragma: no cover - every alternative is a named group
            raise FormulaError("tokenizer error")
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


# AST nodes are tuples: ("num", Fraction) | ("str", s) | ("var", NAME) | ("call", NAME, args)
# | ("neg", node) | ("bin", op, left, right).
Node = tuple[Any, ...]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FormulaError("formula nested too deeply")

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise FormulaError(f"expected {value or 'a token'}")
        self.position += 1
        return token

    def parse(self) -> Node:
        node = self.comparison()
        if self.peek() is not None:
            raise FormulaError(f"unexpected token {self.peek()}")
        return node

    def comparison(self) -> Node:
        left = self.additive()
        token = self.peek()
        if token is not None and token[1] in {"<", "<=", ">", ">=", "=", "==", "!=", "<>"}:
            self.take()
            return ("bin", token[1], left, self.additive())
        return left

    def additive(self) -> Node:
        node = self.term()
        while (token := self.peek()) is not None and token[1] in {"+", "-"}:
            self.take()
            node = ("bin", token[1], node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while (token := self.peek()) is not None and token[1] in {"*", "/"}:
            self.take()
            node = ("bin", token[1], node, self.unary())
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and token[1] == "-":
            self.take()
            self.nest()
            node = ("neg", self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            return ("num", Fraction(Decimal(text)))
        if kind == "string":
            return ("str", text[1:-1])
        if text == "(":
            self.nest()
            node = self.comparison()
            self.take(")")
            self.depth -= 1
            return node
        if kind == "name":
            name = text.upper()
            next_token = self.peek()
            if next_token is not None and next_token[1] == "(":
                if name not in FUNCTIONS:
                    raise FormulaError(f"unknown function {text}")
                self.take("(")
                self.nest()
                args = [self.comparison()]
                while (token := self.peek()) is not None and token[1] in {";", ","}:
                    self.take()
                    args.append(self.comparison())
                self.take(")")
                self.depth -= 1
                return ("call", name, tuple(args))
            if name not in OPERANDS:
                raise FormulaError(f"unknown operand {text}")
            return ("var", name)
        raise FormulaError(f"unexpected token {text!r}")


def parse(text: str) -> Node:
    """Parse a formula into an AST; raise :class:`FormulaError` outside the grammar."""
    return _Parser(_tokenize(text)).parse()


def _number(value: Value) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Fraction):
        raise FormulaError(f"expected a number, got {value!r}")
    return value


def _metadata_number(metadata: Mapping[str, Any], key: Value) -> Value:
    if not isinstance(key, str) or key not in metadata:
        raise FormulaError(f"metadata {key!r} missing")
    raw = metadata[key]
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float | str):
        try:
            return Fraction(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            if isinstance(raw, str):
                return raw
    raise FormulaError(f"metadata {key!r} is not a number or string")


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<>": lambda a, b: a != b,
}


def _evaluate(node: Node, context: FormulaContext) -> Value:
    kind = node[0]
    if kind in {"num", "str"}:
        value: Value = node[1]
        return value
    if kind == "var":
        if node[1] not in context.operands:
            raise FormulaError(f"operand {node[1]} not available here")
        return context.operands[node[1]]
    if kind == "neg":
        return -_number(_evaluate(node[1], context))
    if kind == "bin":
        operator, left, right = node[1], _evaluate(node[2], context), _evaluate(node[3], context)
        if operator in _COMPARE:
            if operator in {"=", "==", "!=", "<>"}:
                return _COMPARE[operator](left, right)
            return _COMPARE[operator](_number(left), _number(right))
        a, b = _number(left), _number(right)
        if operator == "+":
            return a + b
        if operator == "-":
            return a - b
        if operator == "*":
            return a * b
        if b == 0:
            raise FormulaError("division by zero")
        return a / b
    name, args = node[1], node[2]
    if name == "IF":
        if len(args) != 3:
            raise FormulaError("IF takes 3 arguments")
        condition = _evaluate(args[0], context)
        if not isinstance(condition, bool):
            raise FormulaError("IF condition must be a comparison")
        return _evaluate(args[1] if condition else args[2], context)
    if name in {"MIN", "MAX"}:
        values = [_number(_evaluate(arg, context)) for arg in args]
        return min(values) if name == "MIN" else max(values)
    if name == "ROUND":
        if len(args) not in {1, 2}:
            raise FormulaError("ROUND takes 1 or 2 arguments")
        value = _number(_evaluate(args[0], context))
        digits = _number(_evaluate(args[1], context)) if len(args) == 2 else Fraction(0)
        if digits.denominator != 1 or not 0 <= digits <= 10:
            raise FormulaError("ROUND digits must be an integer 0-10")
        scale = Fraction(10) ** int(digits)
        return Fraction(round_half_up(value * scale)) / scale
    if len(args) != 1:
        raise FormulaError(f"{name} takes 1 argument")
    key = _evaluate(args[0], context)
    source = {
        "CUSTOMER_METADATA": context.customer_metadata,
        "ORDER_METADATA": context.order_metadata,
        "REDEMPTION_METADATA": context.redemption_metadata,
    }[name]
    return _metadata_number(source, key)


def evaluate(text: str, context: FormulaContext) -> Fraction:
    """Evaluate ``text`` to a number (major units / percent / units, as the field means).

    Raises :class:`FormulaError` when the formula is outside the grammar, reads a
    missing operand or metadata key, divides by zero or does not yield a number.
    ``evaluate("IF(ORDER_AMOUNT > 300;ORDER_ITEM_PRICE * 0.8;ORDER_ITEM_PRICE)", …)``
    with ORDER_AMOUNT 400 and ORDER_ITEM_PRICE 65 → ``52``.
    """
    return _number(_evaluate(parse(text), context))
