"""Hypothesis fuzzing: the config loader and the parsing of Livy responses fail only with livyd's
own errors (a ConfigError or a LivydError naming the culprit), whatever they are fed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livyd import (
    Batch,
    BatchList,
    ConfigError,
    LivyClient,
    LivydError,
    LogPage,
    Session,
    SessionIdentity,
    SessionList,
    Statement,
    StatementList,
    VersionInfo,
)
from livyd._config import ENV_VARIABLES, load_config
from livyd._core.errors import map_http_error

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

# --------------------------------------------------------------------------- values

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "idle", "busy", "dead", "pyspark", "available", "http://h:1", "\x00", "\ud800x"]),
)
KEYS = ["id", "name", "appId", "owner", "proxyUser", "state", "kind", "appInfo", "log", "conf", "code",
        "output", "progress", "started", "completed", "status", "data", "ename", "evalue", "traceback",
        "from", "total", "sessions", "statements", "total_statements", "version", "text/plain"]
json_values = st.recursive(
    scalars.filter(lambda v: not (isinstance(v, str) and "\ud800" in v)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner,
                                            max_size=6)),
    max_leaves=25,
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


bodies = st.one_of(json_values.map(_dumps), st.binary(max_size=200),
                   st.just(b"[" * 3000 + b"]" * 3000), st.just(b'{"id": ' + b"9" * 5000 + b"}"))

# --------------------------------------------------------------------------- Livy responses

MODELS = [Session, Statement, StatementList, SessionList, Batch, BatchList, LogPage, VersionInfo]


@FUZZ
@given(body=bodies, model=st.sampled_from(MODELS), content_type=st.sampled_from(
    ["application/json", "text/html", None, "application/json; charset=utf-8"]))
def test_response_bodies_parse_or_raise_livyd_errors(body: bytes, model: type,
                                                     content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    resp = httpx.Response(200, content=body, headers=headers,
                          request=httpx.Request("GET", "http://alice:pw@livy:8998/sessions/0"))
    try:
        parsed = LivyClient._parse(model, resp)
    except LivydError as exc:
        assert "alice:pw" not in str(exc)
        return
    assert isinstance(parsed, model)


@FUZZ
@given(status=st.integers(min_value=300, max_value=599), body=bodies,
       content_type=st.sampled_from(["application/json", "text/html", "text/plain", None]),
       challenge=st.one_of(st.none(), st.text(max_size=30)))
def test_error_responses_map_to_livyd_errors(status: int, body: bytes, content_type: str | None,
                                             challenge: str | None) -> None:
    error = map_http_error(status, method="POST", url="http://alice:pw@livy:8998/sessions/7/statements",
                           body=body, content_type=content_type, www_authenticate=challenge)
    assert isinstance(error, LivydError)
    assert "alice:pw" not in str(error)


@settings(FUZZ, max_examples=60)
@given(known=json_values, seen=json_values, statements=st.lists(json_values, max_size=4))
def test_identity_checks_never_raise_on_what_livy_says(known: Any, seen: Any, statements: list[Any]) -> None:
    try:
        ident = SessionIdentity.of(known if isinstance(known, dict) else {"id": 0})
    except ValueError:
        return  # no integer id: not a session (the client only builds identities from parsed ones)
    for item in statements:
        ident_ok = isinstance(item, dict) and isinstance(item.get("id"), int)
        if ident_ok and not isinstance(item.get("id"), bool):
            ident.remember_statement(item)
    ident.check_session(seen)
    ident.check_statement(seen)
    ident.check_statements([s for s in statements if isinstance(s, dict)])
    ident.prove(seen, [s for s in statements if isinstance(s, dict)])


# --------------------------------------------------------------------------- configuration

toml_keys = st.sampled_from(["url", "timeout", "retries", "max_connections", "proxy", "default_profile",
                             "profile_variable", "nonsense", "driverMemory", "kind", "name", "initial",
                             "maximum", "keepalive_interval", "type", "password", "token", "verify"])
tables = st.sampled_from(["", "session", "poll", "auth", "tls", "webhdfs", "session.conf", "profiles.dev",
                          "profiles.dev.session", "bogus"])


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(str(v))


toml_scalars = st.one_of(st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                         st.floats(), st.text(max_size=30).filter(lambda s: "\ud800" not in s),
                         st.sampled_from(["http://127.0.0.1:8998", "${UNSET}", "${HOME:-x}", "4g",
                                          "pyspark"]))
documents = st.lists(st.tuples(tables, st.lists(st.tuples(toml_keys, st.one_of(
    toml_scalars, st.lists(toml_scalars, max_size=3))), max_size=4)), max_size=4)


def render(doc: list[tuple[str, list[tuple[str, Any]]]]) -> str:
    out: list[str] = []
    for table, pairs in doc:
        if table:
            out.append(f"[{table}]")
        seen: set[str] = set()
        for key, value in pairs:
            if key not in seen:
                seen.add(key)
                out.append(f"{key} = {toml_value(value)}")
    return "\n".join(out) + "\n"


@FUZZ
@given(doc=documents)
def test_structured_livyd_toml_loads_or_raises_config_error(tmp_path: Path, doc: Any) -> None:
    (tmp_path / "livyd.toml").write_text(render(doc), encoding="utf-8")
    try:
        load_config(cwd=tmp_path, env={}, user_config=False, use_dotenv=False)
    except ConfigError as exc:
        assert str(exc)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_raw_livyd_toml_bytes_load_or_raise_config_error(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "livyd.toml").write_bytes(raw)
    try:
        load_config(cwd=tmp_path, env={}, user_config=False, use_dotenv=False)
    except ConfigError:
        pass


@FUZZ
@given(env=st.dictionaries(st.sampled_from([*sorted(ENV_VARIABLES), "LIVYD_PROFILE"]),
                           st.one_of(st.text(max_size=60), st.sampled_from(
                               ["{}", '{"a": 1}', "[1]", '{"a": {"b": 1}}', "1e999", "-1", "http://h:1",
                                "\udcff", '{"spark.master": "yarn"}'])), max_size=5))
def test_environment_loads_or_raises_config_error(tmp_path: Path, env: dict[str, str]) -> None:
    try:
        load_config(cwd=tmp_path, env=env, user_config=False, use_dotenv=False)
    except ConfigError as exc:
        assert str(exc)


@pytest.mark.parametrize("doc", [
    "[profiles]\ndev = 1\n", "profiles = []\n", "[profiles.dev]\nsession = 3\n", "default_profile = 7\n",
    "[session]\nconf = [1]\n", "[session.conf]\nx = [1]\n",
])
def test_shapes_that_once_slipped_through(tmp_path: Path, doc: str) -> None:
    (tmp_path / "livyd.toml").write_text(doc)
    try:
        load_config(cwd=tmp_path, env={"LIVYD_PROFILE": "dev"}, user_config=False, use_dotenv=False)
    except ConfigError:
        pass
