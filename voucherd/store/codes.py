"""Voucher code generation from a ``code_config`` (BEHAVIOR.md §1.4, campaign templates).

A config is ``{length, charset, prefix, postfix, pattern}``: with a ``pattern`` every
``#`` becomes one random ``charset`` character and ``length`` is ignored; without
one the code is ``prefix`` + ``length`` random characters + ``postfix``. Codes come
from the OS CSPRNG so they cannot be predicted from earlier ones.

Uniqueness is not decided here: the store inserts candidates with
``ON CONFLICT DO NOTHING`` against the live-code unique index and asks for fresh
candidates only for the ones that collided (see ``voucherd.store.vouchers``).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import Any

from voucherd.store.errors import BusinessRuleViolation

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
DEFAULT_LENGTH = 8
PLACEHOLDER = "#"

_random = random.SystemRandom()


def _invalid(details: str) -> BusinessRuleViolation:
    return BusinessRuleViolation("invalid_code_config", "Invalid code config", details)


@dataclass(frozen=True)
class CodeConfig:
    """A validated code template."""

    length: int = DEFAULT_LENGTH
    charset: str = ALPHANUMERIC
    prefix: str = ""
    postfix: str = ""
    pattern: str | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> CodeConfig:
        """Build from a request's ``code_config`` (absent members take the defaults).

        Raises 400 ``invalid_code_config`` for an empty charset or a length below 1.
        """
        raw = raw or {}
        length = int(raw.get("length") or DEFAULT_LENGTH)
        charset = raw.get("charset") or ALPHANUMERIC
        # Duplicated characters would skew the distribution without adding codes.
        charset = "".join(dict.fromkeys(charset))
        if length < 1:
            raise _invalid("code_config.length must be at least 1")
        if not charset:
            raise _invalid("code_config.charset must not be empty")
        pattern = raw.get("pattern") or None
        return cls(
            length=length,
            charset=charset,
            prefix=raw.get("prefix") or "",
            postfix=raw.get("postfix") or "",
            pattern=pattern,
        )

    def as_dict(self) -> dict[str, Any]:
        """The wire ``code_config`` (always complete: the SDK requires it on campaigns)."""
        out: dict[str, Any] = {
            "length": self.length,
            "charset": self.charset,
            "prefix": self.prefix,
            "postfix": self.postfix,
        }
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out

    @property
    def random_slots(self) -> int:
        """How many random characters one code has."""
        if self.pattern is not None:
            return self.pattern.count(PLACEHOLDER)
        return self.length

    @property
    def capacity(self) -> int:
        """How many distinct codes this config can produce."""
        return int(len(self.charset) ** self.random_slots)

    def generate(self, count: int) -> list[str]:
        """``count`` distinct random codes (distinct among themselves only).

        ``count`` larger than :attr:`capacity` is a 400 ``invalid_code_config``.
        """
        if count > self.capacity:
            raise _invalid(
                f"code_config allows {self.capacity} distinct codes, {count} were requested"
            )
        codes: set[str] = set()
        slots = self.random_slots
        while len(codes) < count:
            need = count - len(codes)
            chars = self._draw(need * slots)
            for i in range(need):
                codes.add(self._render(chars[i * slots : (i + 1) * slots]))
        return list(codes)

    def _draw(self, n: int) -> str:
        """``n`` uniformly random charset characters.

        Single-byte charsets map random bytes through a translation table, dropping
        the bytes above the largest multiple of the charset size (no modulo bias):
        one OS read and one C-level pass instead of a random() call per character.
        """
        size = len(self.charset)
        if n == 0 or max(self.charset) > "\xff":
            return "".join(_random.choices(self.charset, k=n))
        limit = 256 - 256 % size
        table = bytes(ord(self.charset[b % size]) if b < limit else 0 for b in range(256))
        rejected = bytes(range(limit, 256))
        out = ""
        while len(out) < n:
            # Ask for a little more than needed so one read usually suffices.
            raw = os.urandom((n - len(out)) * 256 // limit + 16)
            out += raw.translate(table, rejected).decode("latin-1")
        return out[:n]

    def _render(self, chars: str) -> str:
        if self.pattern is None:
            return self.prefix + "".join(chars) + self.postfix
        it = iter(chars)
        body = "".join(next(it) if ch == PLACEHOLDER else ch for ch in self.pattern)
        return self.prefix + body + self.postfix
