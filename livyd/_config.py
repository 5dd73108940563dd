"""Configuration: profiles in ``livyd.toml``, ``.env`` files, ``LIVY_*`` variables, and provenance.

The hard parts, in the order :func:`load_config` does them:

**Sources.** Six layers, lowest first; a higher layer wins key by key (``session.conf`` merges
key by key too; lists such as ``session.jars`` are replaced whole)::

    1. defaults                          (the models below)
    2. user livyd.toml                   (platformdirs: ~/.config/livyd/livyd.toml on Linux)
    3. project livyd.toml                (the first livyd.toml found upward from the cwd)
    4. environment and .env              (LIVY_URL, LIVY_JARS, LIVY_CONF, PROXY_USER, ...;
                                          the real environment beats .env)
    5. an explicitly chosen profile      (--profile, LIVYD_PROFILE, or the variable named by
                                          ``profile_variable``, e.g. TEAM_ENV)
    6. command-line flags                (--url, --kind, ...)

A profile picked only by ``default_profile`` is not "explicitly chosen": each file's section of it
refines that file's top-level values (layer 2 or 3), so LIVY_* variables still beat it.

**Keys.** TOML keys may be snake_case (``driver_memory``) or Livy's camelCase (``driverMemory``;
``heartbeatTimeoutInSecond`` is ``heartbeat_timeout``). Keys inside ``conf`` are Spark properties
and are taken verbatim. An unknown key is an error that names the file, the line, the table and
the valid keys (with a "did you mean").

**Interpolation.** String values in livyd.toml may use ``${VAR}`` (``${VAR:-fallback}`` for a
default, ``$$`` for a literal ``$``), resolved against the environment merged with ``.env``. Only
the layers actually used are interpolated, so an unselected ``prod`` profile may mention
variables that are not set. An undefined variable is a :class:`ConfigError` naming it, the file
and the key.

**Provenance.** Every resolved leaf remembers where it came from (``/p/livyd.toml:12``,
``LIVY_URL (environment)``, ``/p/.env:3 (LIVY_CONF)``, ``--url``, ``default``); ``livyd doctor``
prints it (:meth:`ResolvedConfig.describe`), with secrets masked.

**Variables.** Empty values (``LIVY_JARS=``, as existing ``.env`` files have) count as unset.
``LIVY_JARS`` / ``LIVY_FILES`` / ``LIVY_ARCHIVES`` / ``LIVY_PY_FILES`` are comma-separated (blanks
dropped); ``LIVY_CONF`` must be a JSON object; integer variables are checked and named when wrong.
``AD_USER`` is only a fallback for ``webhdfs.user`` (and, like any variable, usable as
``${AD_USER}``).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from livyd._auth import AuthConfig
from livyd._core.redact import redact, redact_conf, redact_text
from livyd._core.sparkinsight import InsightSettings
from livyd._exceptions import ConfigError, redact_url
from livyd._models import BLACKLISTED_CONF_KEYS  # one list for config and client

__all__ = [
    "BLACKLISTED_CONF_KEYS",
    "ENV_VARIABLES",
    "BatchConfig",
    "DeployConfig",
    "PollConfig",
    "Profile",
    "ResolvedConfig",
    "SessionDefaults",
    "TLSConfig",
    "WebHDFSConfig",
    "find_project_config",
    "load_config",
    "user_config_path",
]

#: A livyd.toml larger than this is not configuration (and is not read).
MAX_CONFIG_BYTES = 1024 * 1024
#: The longest URL accepted (common servers and gateways refuse request lines beyond 8 KiB).
MAX_URL_LENGTH = 8192
#: Limits of numeric settings: beyond them a value is a mistake (1e308 seconds, 2**63 retries).
MAX_SECONDS = 31 * 24 * 3600.0

SESSION_KINDS = ("spark", "scala", "pyspark", "python", "sparkr", "r", "sql", "shared")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*([kmgtp]i?b?|b)?$", re.IGNORECASE)
_TIME = re.compile(r"^[0-9]+\s*(us|ms|s|m|min|h|d)?$", re.IGNORECASE)


class _Model(BaseModel):
    # defer_build: the schema is built when the model is first used, not at import (start-up)
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)


class TLSConfig(_Model):
    """TLS settings: verification is on unless ``verify = false`` (logged loudly when used)."""

    verify: bool = True
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None


class SessionDefaults(_Model):
    """What livyd sends when it creates a session or submits a batch (Livy's field names in
    parentheses are accepted in livyd.toml too)."""

    kind: str | None = None
    name: str | None = None
    name_prefix: str = "livyd"
    driver_memory: str | None = None
    driver_cores: int | None = Field(default=None, ge=1)
    executor_memory: str | None = None
    executor_cores: int | None = Field(default=None, ge=1)
    num_executors: int | None = Field(default=None, ge=0)
    queue: str | None = None
    proxy_user: str | None = None
    jars: list[str] = Field(default_factory=list)
    py_files: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    archives: list[str] = Field(default_factory=list)
    conf: dict[str, str] = Field(default_factory=dict)
    heartbeat_timeout: int | None = Field(default=None, ge=0)
    ttl: str | None = None
    idle_timeout: str | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in SESSION_KINDS:
            raise ValueError(f"expected one of {', '.join(SESSION_KINDS)}")
        return value.lower() if value is not None else None

    @field_validator("driver_memory", "executor_memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(value):
            raise ValueError("expected a Spark memory size such as '4g' or '18550m'")
        return value

    @field_validator("ttl", "idle_timeout")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None and not _TIME.match(value):
            raise ValueError("expected a Livy time string such as '600m', '2h' or '30s' (no suffix = ms)")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and value.isdigit():
            raise ValueError("Livy refuses all-digit session names")
        return value

    @field_validator("conf")
    @classmethod
    def _conf(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(k for k in value if k in BLACKLISTED_CONF_KEYS)
        if bad:
            raise ValueError(f"Livy refuses these Spark properties in conf: {', '.join(bad)}")
        return value

    def session_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``LivyClient.create_session`` (snake_case; unset fields left out)."""
        fields: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "proxy_user": self.proxy_user,
            "driver_memory": self.driver_memory,
            "driver_cores": self.driver_cores,
            "executor_memory": self.executor_memory,
            "executor_cores": self.executor_cores,
            "num_executors": self.num_executors,
            "queue": self.queue,
            "jars": list(self.jars) or None,
            "py_files": list(self.py_files) or None,
            "files": list(self.files) or None,
            "archives": list(self.archives) or None,
            "conf": dict(self.conf) or None,
            "heartbeat_timeout_in_second": self.heartbeat_timeout,
            "ttl": self.ttl,
            "idle_timeout": self.idle_timeout,
        }
        return {k: v for k, v in fields.items() if v is not None}

    def batch_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``LivyClient.create_batch`` (batches take no kind, ttl, idleTimeout
        or heartbeat: Livy answers 400 to them)."""
        fields = self.session_fields()
        for key in ("kind", "ttl", "idle_timeout", "heartbeat_timeout_in_second"):
            fields.pop(key, None)
        return fields


class WebHDFSConfig(_Model):
    """Where WebHDFS is and where livyd keeps its files there."""

    url: str | None = None
    base_dir: str | None = None
    user: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value)


class DeployConfig(_Model):
    """What ``livyd deploy`` (and auto-deploy when a session is created) sends to the remote dir.

    ``scripts`` / ``package_dirs`` are directory *names* searched up and down from the working
    directory (never outside the project root); ``packages`` names packages (or paths relative to
    the project root) explicitly, else every package found in the package dirs is deployed.
    ``exclude`` adds glob patterns to the built-in exclusions. Sources up to ``inline_limit``
    bytes travel base64 inside a statement on reload; larger ones go through WebHDFS (or Livy's
    upload endpoints)."""

    auto: bool = True
    scripts: list[str] = Field(default_factory=lambda: ["scripts"])
    package_dirs: list[str] = Field(default_factory=lambda: ["modules"])
    packages: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    inline_limit: int = Field(default=256 * 1024, ge=0)


class BatchConfig(_Model):
    """``stage``: ``auto`` stages a local batch FILE (and local dependencies) to the remote dir
    unless the server is livyd's own sandbox; ``always`` / ``never`` decide without asking."""

    stage: Literal["auto", "always", "never"] = "auto"


class PollConfig(_Model):
    """Polling: first poll after ``initial`` seconds, backing off to ``maximum``; while a statement
    runs longer than ``keepalive_interval`` seconds, livyd keeps the session alive."""

    initial: float = Field(default=0.002, gt=0, le=60, allow_inf_nan=False)
    maximum: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)
    keepalive_interval: float = Field(default=300.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)


class Profile(_Model):
    """One resolved profile: everything livyd needs to talk to one Livy."""

    url: str | None = None
    auth: AuthConfig = Field(default_factory=AuthConfig)
    tls: TLSConfig = Field(default_factory=TLSConfig)
    proxy: str | None = None
    timeout: float = Field(default=30.0, gt=0, le=MAX_SECONDS, allow_inf_nan=False)
    max_connections: int = Field(default=8, ge=1, le=1024)
    retries: int = Field(default=3, ge=0, le=100)
    session: SessionDefaults = Field(default_factory=SessionDefaults)
    webhdfs: WebHDFSConfig = Field(default_factory=WebHDFSConfig)
    poll: PollConfig = Field(default_factory=PollConfig)
    deploy: DeployConfig = Field(default_factory=DeployConfig)
    batch: BatchConfig = Field(default_factory=BatchConfig)
    #: Watching Spark while statements run: the Spark UI / log URL templates and warning thresholds.
    spark_ui: InsightSettings = Field(default_factory=InsightSettings)

    @field_validator("url", "proxy")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _check_url(value)


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"a URL of {len(value)} characters; at most {MAX_URL_LENGTH} are accepted")
    if not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
        raise ValueError("expected an http:// or https:// URL")
    return value


# --------------------------------------------------------------------------- key schema

_SECTIONS: dict[str, type[BaseModel]] = {
    "auth": AuthConfig,
    "tls": TLSConfig,
    "session": SessionDefaults,
    "webhdfs": WebHDFSConfig,
    "poll": PollConfig,
    "deploy": DeployConfig,
    "batch": BatchConfig,
    "spark_ui": InsightSettings,
}
_FILE_KEYS = ("default_profile", "profile_variable", "profiles")
_ALIASES = {
    "heartbeat_timeout_in_second": "heartbeat_timeout",
    "selector": "profile_variable",
    "web_hdfs": "webhdfs",
}
_SECRET_KEYS = frozenset({("auth", "password"), ("auth", "token")})
#: Local files named in livyd.toml: relative to the livyd.toml they are written in.
_FILE_PATH_KEYS = frozenset({("tls", "ca_bundle"), ("tls", "client_cert"), ("tls", "client_key"),
                             ("auth", "keytab")})

Path_ = tuple[str, ...]


def _snake(key: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower().replace("-", "_")
    return _ALIASES.get(snake, snake)


def _valid_keys(model: type[BaseModel]) -> list[str]:
    return sorted(model.model_fields)


@dataclass(frozen=True)
class _Entry:
    value: Any
    source: str


Layer = dict[Path_, _Entry]


def _dotted(path: Path_) -> str:
    out: list[str] = []
    for i, part in enumerate(path):
        if i and path[i - 1] == "conf":
            out.append(f'"{part}"' if "." in part else part)
        else:
            out.append(part)
    return ".".join(out)


# --------------------------------------------------------------------------- TOML files


def _split_key(text: str) -> list[str]:
    parts: list[str] = []
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([^.\s]+)', text):
        parts.append(next(g for g in m.groups() if g is not None))
    return parts


def _toml_lines(text: str) -> dict[Path_, int]:
    """Map each table header and ``key =`` line to its line number (raw TOML key paths)."""
    lines: dict[Path_, int] = {}
    table: Path_ = ()
    for number, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        header = re.match(r"^\[\[?\s*(.+?)\s*\]\]?\s*(#.*)?$", s)
        if header:
            table = tuple(_split_key(header.group(1)))
            lines.setdefault(table, number)
            continue
        assignment = re.match(r"""^((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_\-.\s])+?)\s*=""", s)
        if assignment:
            lines.setdefault((*table, *_split_key(assignment.group(1))), number)
    return lines


@dataclass
class _ConfigFile:
    """One parsed livyd.toml, kept raw until we know which parts are used."""

    path: Path
    data: dict[str, Any]
    lines: dict[Path_, int]

    def where(self, raw_path: Path_) -> str:
        for end in range(len(raw_path), 0, -1):
            line = self.lines.get(raw_path[:end])
            if line is not None:
                return f"{self.path}:{line}"
        return str(self.path)

    @classmethod
    def read(cls, path: Path) -> _ConfigFile:
        if path.is_dir():
            raise ConfigError(f"{path} is a directory, not a livyd.toml file: remove or rename it",
                              source=str(path))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", source=str(path)) from exc
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path} is {len(raw)} bytes long; a livyd.toml may have at most "
                              f"{MAX_CONFIG_BYTES}", source=str(path))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            before = raw[:exc.start].decode("utf-8", "replace")
            line = before.count("\n") + 1
            column = len(before) - (before.rfind("\n") + 1) + 1
            raise ConfigError(f"{path} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}, "
                              f"column {column} cannot be decoded (TOML files are UTF-8)",
                              source=str(path)) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}", source=str(path)) from exc
        except RecursionError:
            raise ConfigError(f"{path}: arrays or tables are nested too deeply to be configuration",
                              source=str(path)) from None
        return cls(path, data, _toml_lines(text))

    def top_level(self) -> dict[str, tuple[Any, Path_]]:
        """Profile keys at the top (file-only keys like ``profiles`` left out)."""
        return {k: (v, (k,)) for k, v in self.data.items() if _snake(k) not in _FILE_KEYS}

    def file_setting(self, name: str) -> tuple[str, str] | None:
        for key, value in self.data.items():
            if _snake(key) == name:
                if not isinstance(value, str) or not value:
                    raise ConfigError(
                        f"{self.where((key,))}: {key} must be a non-empty string, got {value!r}",
                        source=str(self.path), key=key,
                    )
                return value, self.where((key,))
        return None

    def profiles(self) -> dict[str, Any]:
        for key, value in self.data.items():
            if _snake(key) == "profiles":
                if not isinstance(value, dict):
                    raise ConfigError(
                        f"{self.where((key,))}: 'profiles' must be a table of [profiles.<name>] tables",
                        source=str(self.path), key=key,
                    )
                return value
        return {}

    def profile_key(self) -> str:
        return next((k for k in self.data if _snake(k) == "profiles"), "profiles")


_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(value: str, env: Mapping[str, str], where: str, key: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, fallback = m.group(1), m.group(2)
        if name in env and (env[name] != "" or fallback is None):
            return env[name]
        if fallback is not None:
            return fallback
        raise ConfigError(
            f"{where}: {key} uses ${{{name}}}, but the variable {name} is not defined "
            "(set it in the environment or .env, or write ${" + name + ":-default})",
            source=where, key=key,
        )

    return _VAR.sub(sub, value)


def _flatten_table(
    cfg: _ConfigFile,
    table: Mapping[str, Any],
    raw_prefix: Path_,
    env: Mapping[str, str],
    layer: Layer,
    *,
    norm_prefix: Path_ = (),
    model: type[BaseModel] = Profile,
) -> None:
    """Validate key names of one TOML table against *model* and add its leaves to *layer*."""
    seen: dict[str, str] = {}
    for raw_key, value in table.items():
        raw_path = (*raw_prefix, raw_key)
        where = cfg.where(raw_path)
        if norm_prefix[-1:] == ("conf",):
            if isinstance(value, dict | list):
                raise ConfigError(
                    f"{where}: conf key '{raw_key}' must be a string, number or boolean, not a "
                    f"{'table' if isinstance(value, dict) else 'list'}",
                    source=str(cfg.path), key=_dotted((*norm_prefix, raw_key)),
                )
            conf_key = _dotted((*norm_prefix, raw_key))
            layer[(*norm_prefix, raw_key)] = _Entry(
                _interpolate_value(_conf_value(value), env, where, conf_key), where)
            continue
        key = _snake(raw_key)
        table_name = ".".join(raw_prefix) if raw_prefix else "the top level"
        if key not in model.model_fields:
            valid = _valid_keys(model)
            if not norm_prefix:
                valid = sorted({*valid, *_FILE_KEYS}) if not raw_prefix else valid
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(
                f"{where}: unknown key '{raw_key}' in [{table_name}]{hint}; valid keys: {', '.join(valid)}",
                source=str(cfg.path), key=raw_key,
            )
        if key in seen:
            raise ConfigError(
                f"{where}: '{raw_key}' and '{seen[key]}' in [{table_name}] are the same setting; keep one",
                source=str(cfg.path), key=raw_key,
            )
        seen[key] = raw_key
        norm_path = (*norm_prefix, key)
        sub_model = _SECTIONS.get(key) if not norm_prefix else None
        if sub_model is not None or norm_path == ("session", "conf"):
            if not isinstance(value, dict):
                raise ConfigError(
                    f"{where}: '{raw_key}' must be a table ([{'.'.join(raw_path)}]), got {value!r}",
                    source=str(cfg.path), key=_dotted(norm_path),
                )
            _flatten_table(cfg, value, raw_path, env, layer, norm_prefix=norm_path,
                           model=sub_model or SessionDefaults)
            continue
        value = _interpolate_value(value, env, where, _dotted(norm_path))
        if norm_path in _FILE_PATH_KEYS and isinstance(value, str) and value.strip():
            # a relative path in a livyd.toml means "next to this file", wherever livyd runs
            local = Path(value.strip()).expanduser()
            value = str(local if local.is_absolute() else cfg.path.parent / local)
        layer[norm_path] = _Entry(value, where)


def _conf_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _interpolate_value(value: Any, env: Mapping[str, str], where: str, key: str) -> Any:
    if isinstance(value, str):
        return _interpolate(value, env, where, key)
    if isinstance(value, list):
        return [_interpolate_value(v, env, where, key) for v in value]
    return value


# --------------------------------------------------------------------------- environment

#: Variables livyd reads, and the setting each one feeds (documented by ``livyd doctor``).
ENV_VARIABLES: dict[str, str] = {
    "LIVY_URL": "url",
    "LIVY_AUTH": "auth.type",
    "LIVY_USER": "auth.username",
    "LIVY_PASSWORD": "auth.password",
    "LIVY_TOKEN": "auth.token",
    "LIVY_PROXY_USER": "session.proxy_user",
    "PROXY_USER": "session.proxy_user",
    "LIVY_QUEUE": "session.queue",
    "LIVY_NAME": "session.name",
    "LIVY_KIND": "session.kind",
    "LIVY_DRIVER_MEMORY": "session.driver_memory",
    "LIVY_DRIVER_CORES": "session.driver_cores",
    "LIVY_EXECUTOR_MEMORY": "session.executor_memory",
    "LIVY_EXECUTOR_CORES": "session.executor_cores",
    "LIVY_NUM_EXECUTORS": "session.num_executors",
    "LIVY_JARS": "session.jars",
    "LIVY_FILES": "session.files",
    "LIVY_ARCHIVES": "session.archives",
    "LIVY_PY_FILES": "session.py_files",
    "LIVY_CONF": "session.conf",
    "AD_USER": "webhdfs.user",
    "LIVY_WEBHDFS_URL": "webhdfs.url",
    "LIVY_REMOTE_DIR": "webhdfs.base_dir",
    "LIVY_BATCH_STAGE": "batch.stage",
}
_INT_VARS = frozenset({"LIVY_DRIVER_CORES", "LIVY_EXECUTOR_CORES", "LIVY_NUM_EXECUTORS"})
_LIST_VARS = frozenset({"LIVY_JARS", "LIVY_FILES", "LIVY_ARCHIVES", "LIVY_PY_FILES"})
# Lower-priority synonyms: read first, so the preferred name overwrites them.
_ENV_ORDER = ["AD_USER", "PROXY_USER", *[k for k in ENV_VARIABLES if k not in ("AD_USER", "PROXY_USER")]]


@dataclass
class _Environment:
    """The real environment merged over the .env files, remembering where each variable was set."""

    values: dict[str, str]
    origin: dict[str, str]
    dotenv_files: list[Path]

    def source(self, name: str) -> str:
        return self.origin.get(name, f"{name} (environment)")

    @classmethod
    def build(cls, real: Mapping[str, str], dotenv_paths: list[Path]) -> _Environment:
        values: dict[str, str] = {}
        origin: dict[str, str] = {}
        used: list[Path] = []
        # Later .env files have lower priority: the cwd's .env beats the project root's.
        for path in reversed(dotenv_paths):
            if not path.is_file():
                continue
            used.append(path)
            from dotenv import dotenv_values  # only when there is a .env to read

            try:
                text = path.read_text(encoding="utf-8")
                parsed = dotenv_values(path, interpolate=True)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read {path}: {exc}", source=str(path)) from exc
            lines = _dotenv_lines(text)
            for name, value in parsed.items():
                if value is None:
                    continue
                values[name] = value
                origin[name] = f"{path}:{lines.get(name, '?')} ({name})"
        for name, value in real.items():
            values[name] = value
            origin.pop(name, None)
        return cls(values, origin, list(reversed(used)))


def _dotenv_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=", line)
        if m:
            lines[m.group(1)] = number
    return lines


def _env_layer(env: _Environment) -> tuple[Layer, Layer]:
    """Return (fallback layer for AD_USER, the LIVY_* layer)."""
    layer: Layer = {}
    fallback: Layer = {}
    for name in _ENV_ORDER:
        raw = env.values.get(name)
        if raw is None or raw.strip() == "":
            continue
        source = env.source(name)
        path = tuple(ENV_VARIABLES[name].split("."))
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 reach Python as lone surrogates
            raise ConfigError(f"{source}: {name} is not valid UTF-8 text (it sets {ENV_VARIABLES[name]})",
                              source=name, key=ENV_VARIABLES[name]) from None
        value: Any = raw.strip() if name not in ("LIVY_PASSWORD", "LIVY_TOKEN") else raw
        if name in _INT_VARS:
            try:
                value = int(raw.strip())
            except ValueError:
                raise ConfigError(
                    f"{source}: {name} must be an integer (it sets {ENV_VARIABLES[name]}), "
                    f"got {raw.strip()!r}",
                    source=name, key=ENV_VARIABLES[name],
                ) from None
        elif name in _LIST_VARS:
            value = [item.strip() for item in raw.split(",") if item.strip()]
        elif name == "LIVY_CONF":
            try:
                conf = json.loads(raw)
            except RecursionError:
                raise ConfigError(f"{source}: LIVY_CONF is nested too deeply; it must be a flat JSON object "
                                  '(e.g. {"spark.sql.shuffle.partitions": "200"})',
                                  source=name, key="session.conf") from None
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{source}: LIVY_CONF is not a JSON object: {exc.msg} at line {exc.lineno} "
                                  f"column {exc.colno} (char {exc.pos})",
                                  source=name, key="session.conf") from None
            if not isinstance(conf, dict):
                raise ConfigError(
                    f"{source}: LIVY_CONF is not a JSON object: it is a JSON {type(conf).__name__} "
                    '(expected e.g. {"spark.sql.shuffle.partitions": "200"})',
                    source=name, key="session.conf",
                )
            for key, item in conf.items():
                if isinstance(item, dict | list) or item is None:
                    # the type only, never the value: it may hold a credential
                    got = ("a JSON object" if isinstance(item, dict) else
                           "a JSON array" if isinstance(item, list) else "null")
                    raise ConfigError(
                        f"{source}: LIVY_CONF key '{key}' must be a string, number or boolean, got {got}",
                        source=name, key=f"session.conf.{key}",
                    )
                layer[("session", "conf", key)] = _Entry(_conf_value(item), source)
            continue
        if name == "AD_USER":
            fallback[path] = _Entry(value, source)
        else:
            layer[path] = _Entry(value, source)
    return fallback, layer


# --------------------------------------------------------------------------- locating files


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The user-level livyd.toml: ``$LIVYD_CONFIG_DIR/livyd.toml`` if set, else platformdirs'
    user config dir (``~/.config/livyd/livyd.toml`` on Linux, honouring XDG_CONFIG_HOME)."""
    env = os.environ if env is None else env
    override = env.get("LIVYD_CONFIG_DIR")
    if override:
        return Path(override) / "livyd.toml"
    if os.name == "posix" and not _is_macos():
        # what platformdirs answers on Linux and the BSDs, without importing it on every command
        xdg = (env.get("XDG_CONFIG_HOME") or "").strip() or os.path.expanduser("~/.config")
        return Path(xdg) / "livyd" / "livyd.toml"
    import platformdirs

    return Path(platformdirs.user_config_dir("livyd", appauthor=False)) / "livyd.toml"


def _is_macos() -> bool:
    import sys

    return sys.platform == "darwin"


def find_project_config(cwd: Path, *, exclude: Path | None = None) -> Path | None:
    """The first ``livyd.toml`` in *cwd* or a parent directory (never the user-level file)."""
    here = cwd.resolve()
    for directory in (here, *here.parents):
        candidate = directory / "livyd.toml"
        if candidate.is_dir():
            raise ConfigError(f"{candidate} is a directory, not a livyd.toml file: remove or rename it",
                              source=str(candidate))
        if candidate.is_file() and (exclude is None or candidate.resolve() != exclude.resolve()):
            return candidate
    return None


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class ResolvedConfig:
    """A profile with the provenance of each value and the environment it was resolved in."""

    profile: Profile
    profile_name: str | None = None
    #: how the profile was chosen: "--profile", "LIVYD_PROFILE (environment)", "default_profile (...)"
    profile_source: str | None = None
    known_profiles: tuple[str, ...] = ()
    provenance: Mapping[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    project_root: Path | None = None

    def source_of(self, key: str) -> str:
        """Where the dotted *key* (``session.driver_memory``) got its value (``default`` if unset)."""
        return self.provenance.get(key, "default")

    def describe(self) -> list[tuple[str, str, str]]:
        """Rows ``(key, value, source)`` for every setting, secrets masked (what doctor shows)."""
        rows: list[tuple[str, str, str]] = []
        for path, value in _leaves(self.profile.model_dump(mode="python")):
            key = ".".join(path)
            if path[:2] == ("session", "conf"):
                continue
            shown = _show(path, value)
            rows.append((key, shown, self.source_of(key)))
        for conf_key, conf_value in sorted(self.profile.session.conf.items()):
            key = f"session.conf.{conf_key}"
            rows.append((f'session.conf."{conf_key}"', str(redact_conf(conf_key, conf_value)),
                         self.source_of(key)))
        return rows


def _leaves(data: Mapping[str, Any], prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    for key, value in data.items():
        path = (*prefix, key)
        if isinstance(value, dict) and path != ("session", "conf"):
            yield from _leaves(value, path)
        else:
            yield path, value


def _show(path: Path_, value: Any) -> str:
    if path in _SECRET_KEYS or isinstance(value, SecretStr):
        return "(not set)" if value is None else "********"
    if value is None:
        return "(not set)"
    if isinstance(value, list):
        return ", ".join(redact_text(str(v)) for v in value) if value else "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if path[-1] in ("url", "proxy"):
        return redact_url(str(value))
    return redact_text(str(value))


# --------------------------------------------------------------------------- load_config


def load_config(
    *,
    profile: str | None = None,
    url: str | None = None,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    user_config: Path | Literal[False] | None = None,
    use_dotenv: bool = True,
) -> ResolvedConfig:
    """Resolve the configuration, highest precedence first: *overrides* and *url* (command-line
    flags), the explicitly chosen *profile* (or LIVYD_PROFILE, or the file's ``profile_variable``),
    LIVY_* variables and .env, project livyd.toml, user livyd.toml, defaults.

    *overrides* maps dotted keys to values (``{"session.kind": "spark"}``); a key may carry its
    flag name for provenance as ``{"session.kind": ("spark", "--kind")}``. *env* defaults to
    ``os.environ``; *user_config* ``False`` skips the user file (``None``: the usual place).

    >>> cfg = load_config(url="http://127.0.0.1:8998", env={}, user_config=False, cwd="/")
    >>> cfg.profile.url, cfg.source_of("url")
    ('http://127.0.0.1:8998', '--url')

    Raises :class:`ConfigError` naming the file or variable, the key and what was expected.
    """
    real_env = dict(os.environ if env is None else env)
    workdir = Path(cwd) if cwd is not None else Path.cwd()

    user_path: Path | None = None
    if user_config is None:
        user_path = user_config_path(real_env)
    elif user_config is not False:
        user_path = user_config
    if user_path is not None and user_path.is_dir():
        raise ConfigError(f"{user_path} is a directory, not a livyd.toml file: remove or rename it",
                          source=str(user_path))
    exclude = user_path if user_path is not None and user_path.is_file() else None
    project_path = find_project_config(workdir, exclude=exclude)
    project_root = project_path.parent if project_path else None

    dotenv_paths: list[Path] = []
    if use_dotenv:
        dotenv_paths.append(workdir / ".env")
        if project_root is not None and project_root.resolve() != workdir.resolve():
            dotenv_paths.append(project_root / ".env")
    environment = _Environment.build(real_env, dotenv_paths)
    values = environment.values

    files: list[_ConfigFile] = []
    if user_path is not None and user_path.is_file():
        files.append(_ConfigFile.read(user_path))
    if project_path is not None:
        files.append(_ConfigFile.read(project_path))

    # Which profile, and how it was chosen.
    known: dict[str, list[_ConfigFile]] = {}
    for cfg in files:
        for name in cfg.profiles():
            known.setdefault(name, []).append(cfg)
    selector: tuple[str, str] | None = None
    default: tuple[str, str] | None = None
    for cfg in files:  # the project file (last) wins
        selector = cfg.file_setting("profile_variable") or selector
        default = cfg.file_setting("default_profile") or default

    chosen: str | None = None
    how: str | None = None
    explicit = True
    if profile:
        chosen, how = profile, "--profile"
    elif values.get("LIVYD_PROFILE"):
        chosen, how = values["LIVYD_PROFILE"], environment.source("LIVYD_PROFILE")
    elif selector is not None and values.get(selector[0]):
        chosen = values[selector[0]]
        how = f"{environment.source(selector[0])}, named by profile_variable at {selector[1]}"
    elif default is not None:
        chosen, how, explicit = default[0], f"default_profile at {default[1]}", False
    if chosen is not None and chosen not in known:
        listed = ", ".join(sorted(known)) if known else "none (no [profiles.<name>] table in " + (
            " or ".join(str(f.path) for f in files) if files else "any livyd.toml: none was found") + ")"
        raise ConfigError(f"unknown profile '{chosen}' (chosen by {how}); known profiles: {listed}",
                          source=how, key="profile")

    layers: list[Layer] = []
    fallback, env_layer = _env_layer(environment)
    layers.append(fallback)
    profile_layers: list[Layer] = []
    for cfg in files:
        top: Layer = {}
        _flatten_table(cfg, {k: v for k, (v, _) in cfg.top_level().items()}, (), values, top)
        layers.append(top)
        if chosen is not None:
            section = cfg.profiles().get(chosen)
            if section is not None:
                if not isinstance(section, dict):
                    where = cfg.where((cfg.profile_key(), chosen))
                    raise ConfigError(f"{where}: profiles.{chosen} must be a table",
                                      source=str(cfg.path), key=f"profiles.{chosen}")
                prof: Layer = {}
                _flatten_table(cfg, section, (cfg.profile_key(), chosen), values, prof)
                (profile_layers if explicit else layers).append(prof)
    layers.append(env_layer)
    layers.extend(profile_layers)
    flags: Layer = {}
    for key, raw in (overrides or {}).items():
        value, source = raw if isinstance(raw, tuple) else (raw, "command line")
        if value is not None:
            flags[tuple(key.split(".", 2) if key.startswith("session.conf.") else key.split("."))] = _Entry(
                value, source)
    if url is not None:
        flags[("url",)] = _Entry(url, "--url")
    layers.append(flags)

    merged: Layer = {}
    for layer in layers:
        merged.update(layer)
    resolved = _validate(merged)
    return ResolvedConfig(
        profile=resolved,
        profile_name=chosen,
        profile_source=how,
        known_profiles=tuple(sorted(known)),
        provenance={_provenance_key(path): entry.source for path, entry in merged.items()},
        files=tuple(cfg.path for cfg in files) + tuple(environment.dotenv_files),
        env=values,
        project_root=project_root,
    )


def _provenance_key(path: Path_) -> str:
    return ".".join(path)


def _validate(merged: Layer) -> Profile:
    for path, entry in merged.items():
        if path[:2] == ("session", "conf") and len(path) == 3 and path[2] in BLACKLISTED_CONF_KEYS:
            raise ConfigError(
                f"{entry.source}: session.conf: Livy refuses the Spark property '{path[2]}' "
                "(it is in Livy's spark-blacklist.conf: the server decides it); remove it",
                source=entry.source, key=f"session.conf.{path[2]}",
            )
    nested: dict[str, Any] = {}
    for path, entry in merged.items():
        node = nested
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = entry.value
    try:
        return Profile.model_validate(nested)
    except ValidationError as exc:
        raise _explain(exc, merged) from None


def _clip(text: str, limit: int = 200) -> str:
    """A value shown in an error, cut to *limit* characters (a 100 KB value is not echoed)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _explain(exc: ValidationError, merged: Layer) -> ConfigError:
    messages: list[str] = []
    first_key: str | None = None
    first_source: str | None = None
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(str(p) for p in error["loc"])
        entry = None
        for end in range(len(loc), 0, -1):
            entry = merged.get(loc[:end])
            if entry is not None:
                loc = loc[:end]
                break
        key = _dotted(loc)
        source = entry.source if entry else "configuration"
        msg = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            section = _SECTIONS.get(loc[0]) if len(loc) > 1 else Profile
            valid = _valid_keys(section) if section else []
            msg = f"unknown key; valid keys: {', '.join(valid)}"
        shown = ""
        if entry is not None and loc not in _SECRET_KEYS and error["type"] != "extra_forbidden":
            value = entry.value
            if isinstance(value, str) and len(value) > 400:
                # too long to be worth reading back, and cutting it could split a secret in two
                messages.append(f"{source}: {key}: {msg} (a value of {len(value)} characters)")
                first_key = first_key or key
                first_source = first_source or source
                continue
            if loc[-1] in ("url", "proxy") and isinstance(value, str):
                # never echo what might hold credentials in a form redact_url cannot parse
                value = redact_url(value) if "://" in value and "@" not in value.split("://", 1)[0] else None
            if loc[:2] == ("session", "conf") and len(loc) == 3:
                value = redact_conf(loc[2], value)
            elif isinstance(value, str | list | dict):
                value = redact(value, loc[-1])
            shown = f" (got {_clip(repr(value))})" if value is not None else ""
        messages.append(f"{source}: {key}: {msg}{shown}")
        first_key = first_key or key
        first_source = first_source or source
    return ConfigError("; ".join(messages), source=first_source, key=first_key)
