"""Hostile configuration gets a ConfigError naming the culprit (issue 11, item 6), in process."""

from __future__ import annotations

from pathlib import Path

import pytest

from livyd import ConfigError
from livyd._config import load_config


def load(tmp_path: Path, toml: bytes | None = None, **env: str) -> object:
    if toml is not None:
        (tmp_path / "livyd.toml").write_bytes(toml)
    return load_config(cwd=tmp_path, env=env, user_config=False, use_dotenv=False)


@pytest.mark.parametrize(("toml", "culprit"), [
    (b"url = 'http://x'\nname = '\xff'\n", "not UTF-8 text: byte 0xff at line 2, column 9"),
    (b"[poll]\ninitial = 1e308\n", "poll.initial"),
    (b"[poll]\nmaximum = inf\n", "poll.maximum"),
    (b"[poll]\nkeepalive_interval = nan\n", "poll.keepalive_interval"),
    (b"timeout = inf\n", "timeout"),
    (b"timeout = -5\n", "timeout"),
    (b"timeout = nan\n", "timeout"),
    (b"retries = 9223372036854775807\n", "retries"),
    (b"max_connections = 9223372036854775807\n", "max_connections"),
    (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
    (b"url = 'http://h/" + b"a" * 100_000 + b"'\n", "at most 8192"),
])
def test_hostile_livyd_toml(tmp_path: Path, toml: bytes, culprit: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, toml)
    assert culprit in str(caught.value)
    assert len(str(caught.value)) < 1000


def test_a_livyd_toml_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "livyd.toml").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load(tmp_path)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(cwd=tmp_path / "..", env={}, user_config=tmp_path / "livyd.toml", use_dotenv=False)


@pytest.mark.parametrize(("name", "value", "culprit"), [
    ("LIVY_CONF", "[" * 5000 + "]" * 5000, "LIVY_CONF is nested too deeply"),
    ("LIVY_CONF", '{"a":' * 5000 + "1" + "}" * 5000, "LIVY_CONF is nested too deeply"),
    ("LIVY_URL", "http://h/" + "a" * 100_000, "LIVY_URL"),
    ("LIVY_URL", "http://h/\udcff", "LIVY_URL is not valid UTF-8"),
])
def test_hostile_variables(tmp_path: Path, name: str, value: str, culprit: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **{name: value})
    assert culprit in str(caught.value)
    assert len(str(caught.value)) < 1000
