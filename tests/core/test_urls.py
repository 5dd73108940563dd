"""Base URL normalisation and relative Location headers."""

from __future__ import annotations

import pytest

from livyd._core.urls import join_path, normalize_base_url, resolve_location
from livyd._exceptions import ConfigError


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://host:8998", "http://host:8998"),
        ("http://host:8998/", "http://host:8998"),
        ("http://host:8998/sessions", "http://host:8998"),
        ("http://host:8998/sessions/", "http://host:8998"),
        ("  https://knox:8443/gateway/dev/livy/v1/sessions  ", "https://knox:8443/gateway/dev/livy/v1"),
        ("https://knox:8443/gateway/dev/livy/v1/", "https://knox:8443/gateway/dev/livy/v1"),
        ("https://knox:8443/gateway/dev/livy/batches", "https://knox:8443/gateway/dev/livy"),
        ("http://[::1]:8998/version", "http://[::1]:8998"),
    ],
)
def test_normalise(given: str, root: str) -> None:
    assert normalize_base_url(given) == root


@pytest.mark.parametrize(
    "bad", ["", "host:8998", "ftp://host/livy", "http://", "http://h:8998/?x=1", "http://h:99999"]
)
def test_bad_urls_name_the_url(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_base_url(bad)
    assert info.value.key == "url"


def test_bad_url_message_hides_credentials() -> None:
    with pytest.raises(ConfigError) as info:
        normalize_base_url("ftp://alice:s3cret@host/livy")
    assert "s3cret" not in str(info.value) and "alice" not in str(info.value)


@pytest.mark.parametrize(
    ("base", "location", "expected"),
    [
        ("http://h:8998", "/sessions/3", "http://h:8998/sessions/3"),
        ("https://k/gateway/t/livy/v1", "/sessions/3", "https://k/gateway/t/livy/v1/sessions/3"),
        (
            "https://k/gateway/t/livy/v1",
            "/gateway/t/livy/v1/batches/2",
            "https://k/gateway/t/livy/v1/batches/2",
        ),
        (
            "https://k/gateway/t/livy/v1",
            "sessions/3/statements/0",
            "https://k/gateway/t/livy/v1/sessions/3/statements/0",
        ),
        ("https://k/gateway/t/livy/v1", "http://other:8998/sessions/1", "http://other:8998/sessions/1"),
    ],
)
def test_resolve_location(base: str, location: str, expected: str) -> None:
    assert resolve_location(base, location) == expected


def test_join_path_quotes_names() -> None:
    assert join_path("http://h", "sessions", "a b/c", 3) == "http://h/sessions/a%20b%2Fc/3"
