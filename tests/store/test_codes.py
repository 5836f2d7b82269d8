"""The code generator: shapes, capacity and distinctness of generated codes."""

from __future__ import annotations

import re

import pytest

from voucherd.store.codes import ALPHANUMERIC, CodeConfig
from voucherd.store.errors import BusinessRuleViolation


def test_defaults_are_8_alphanumeric_characters() -> None:
    config = CodeConfig.from_dict(None)
    assert (config.length, config.charset, config.capacity) == (8, ALPHANUMERIC, 62**8)
    assert all(re.fullmatch(r"[0-9A-Za-z]{8}", code) for code in config.generate(50))


def test_pattern_replaces_each_hash_and_ignores_length() -> None:
    config = CodeConfig.from_dict(
        {"pattern": "AB-##-#", "charset": "xy", "length": 20, "prefix": "P", "postfix": "S"}
    )
    assert config.capacity == 8
    codes = config.generate(8)
    assert sorted(codes) == sorted(f"PAB-{a}{b}-{c}S" for a in "xy" for b in "xy" for c in "xy")


def test_generated_codes_are_distinct() -> None:
    codes = CodeConfig.from_dict({"length": 3, "charset": "0123456789"}).generate(900)
    assert len(codes) == len(set(codes)) == 900


def test_more_codes_than_the_space_holds_is_invalid_code_config() -> None:
    with pytest.raises(BusinessRuleViolation) as caught:
        CodeConfig.from_dict({"pattern": "#", "charset": "AB"}).generate(3)
    assert caught.value.key == "invalid_code_config"


def test_repeated_charset_characters_count_once() -> None:
    assert CodeConfig.from_dict({"charset": "AAB", "length": 2}).capacity == 4


def test_as_dict_is_complete_for_the_sdk() -> None:
    assert CodeConfig.from_dict({"prefix": "X-"}).as_dict() == {
        "length": 8,
        "charset": ALPHANUMERIC,
        "prefix": "X-",
        "postfix": "",
    }
