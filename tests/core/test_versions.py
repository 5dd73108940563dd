"""Livy versions compare numerically and gate request fields."""

from __future__ import annotations

import pytest

from livyd._core.versions import CONSERVATIVE, LivyVersion, parse_version


@pytest.mark.parametrize(
    ("text", "key", "suffix"),
    [
        ("0.9.0-incubating", (0, 9, 0), "-incubating"),
        ("0.7.1-incubating", (0, 7, 1), "-incubating"),
        ("0.10.0-incubating-SNAPSHOT", (0, 10, 0), "-incubating-SNAPSHOT"),
        ("0.8.0", (0, 8, 0), ""),
        ("1.0", (1, 0, 0), ""),
    ],
)
def test_parse(text: str, key: tuple[int, int, int], suffix: str) -> None:
    v = LivyVersion.parse(text)
    assert v.key == key
    assert v.suffix == suffix
    assert str(v) == f"{key[0]}.{key[1]}.{key[2]}{suffix}"


def test_comparison_is_numeric_not_lexicographic() -> None:
    assert LivyVersion.parse("0.10.0") > LivyVersion.parse("0.9.0-incubating")
    assert LivyVersion.parse("0.9.0-incubating") == LivyVersion.parse("0.9.0")
    assert LivyVersion.parse("0.7.1") < LivyVersion.parse("0.8.0")
    assert sorted([LivyVersion.parse(x) for x in ("0.10.0", "0.9.0", "0.5.0")])[-1].minor == 10


def test_unparseable_is_conservative() -> None:
    assert parse_version("banana") == CONSERVATIVE
    assert parse_version(None) == CONSERVATIVE
    with pytest.raises(ValueError, match="banana"):
        LivyVersion.parse("banana")


@pytest.mark.parametrize(
    ("text", "desc", "ttl", "idle"),
    [
        ("0.7.1-incubating", False, False, False),
        ("0.8.0-incubating", True, True, False),
        ("0.9.0-incubating", True, True, True),
        ("0.10.0-incubating-SNAPSHOT", True, True, True),
    ],
)
def test_feature_gates(text: str, desc: bool, ttl: bool, idle: bool) -> None:
    v = LivyVersion.parse(text)
    assert (v.supports_order_desc, v.supports_ttl, v.supports_idle_timeout) == (desc, ttl, idle)
