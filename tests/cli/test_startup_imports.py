"""What ``livyd exec`` and ``livyd --stdio`` load before they do their job: a guard against the
import graph growing back (issue 7, "Start fast"). No timing here (bench/ measures it): only which
modules a real process imported, and that livyd's models are not built at import.

- ``livyd exec`` on a running session (a real process, ``python -X importtime``): nothing of the
  daemon, the protocol, the sandbox, structlog or rich (the CLI's default level logs through the
  stdlib), nor httpx's own command line (click, pygments) or trio.
- ``livyd --stdio --standalone`` up to its ``initialize`` answer: no httpx, no Livy client, no
  configuration, no supervisor, no rich.
- ``import livyd`` alone loads none of httpx, pydantic, anyio or structlog (PEP 562).
- livyd's pydantic models (and the protocol's) are built when first used, not at import.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from support import SandboxProcess
from test_cli_basics import clean_env
from test_cli_sandbox import shared, work  # noqa: F401 - fixtures: one idle session, a work dir

ROOT = Path(__file__).resolve().parents[2]

#: Never imported by ``livyd exec`` (top-level packages, or livyd's subpackages). httpx._main and
#: trio are marked absent (importtime still lists the refused attempt): click, pygments and
#: rich are what loading httpx._main would import.
NOT_FOR_EXEC = ("rich", "structlog", "click", "pygments", "lsprotocol", "pygls", "cattrs", "dotenv",
                "platformdirs", "livyd.daemon", "livyd.protocol", "livyd.sandbox")

#: Not imported before the daemon answers ``initialize``.
NOT_BEFORE_INITIALIZE = ("rich", "httpx", "httpcore", "h11", "click", "pygments", "trio", "dotenv",
                         "livyd._client", "livyd._config", "livyd._transport", "livyd._auth",
                         "livyd.daemon._supervisor", "livyd.daemon._livy", "livyd.sandbox")

_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$")


def _offending(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules for f in forbidden if m == f or m.startswith(f + "."))


def test_exec_imports_only_what_it_needs(sandbox: SandboxProcess, shared: str, work: Path) -> None:  # noqa: F811
    env = clean_env(work / "home")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "livyd", "exec", "--url", sandbox.livy_url,
         "--session", shared, "1 + 1"],
        cwd=work / "work", env=env, capture_output=True, text=True, timeout=90,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == "2\n"
    imported = {m.group(1) for line in proc.stderr.splitlines() if (m := _IMPORT_LINE.match(line))}
    assert "livyd._client" in imported and "httpx" in imported  # the parse found the real imports
    assert _offending(imported, NOT_FOR_EXEC) == []


def _python(code: str, *, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, env=env,
                          timeout=60, cwd=ROOT)


def test_the_daemon_answers_initialize_before_loading_the_livy_side(tmp_path: Path) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": None, "capabilities": {},
        "initializationOptions": {"settings": {"url": "http://127.0.0.1:9"}}}}).encode()
    frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
    # the real daemon on stdin/stdout; at EOF it returns, and the process reports what it loaded
    proc = _python(
        "import json, sys\n"
        "from livyd.cli import main\n"
        "main(['--stdio', '--standalone'])\n"
        "sys.stderr.write('MODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n",
        stdin=frame,
    )
    assert b'"id":1' in proc.stdout.replace(b" ", b"") and b'"livyd"' in proc.stdout, proc.stderr[-3000:]
    line = next(x for x in proc.stderr.decode().splitlines() if x.startswith("MODULES "))
    modules = set(json.loads(line[len("MODULES "):]))
    assert "livyd.protocol" in modules and "pygls" in modules
    assert _offending(modules, NOT_BEFORE_INITIALIZE) == []


def test_import_livyd_loads_nothing_heavy() -> None:
    proc = _python("import json, sys, livyd; print(json.dumps(sorted(sys.modules)))")
    assert proc.returncode == 0, proc.stderr
    modules = set(json.loads(proc.stdout))
    assert _offending(modules, ("httpx", "pydantic", "anyio", "structlog", "rich")) == []


def test_models_are_built_at_first_use_not_at_import() -> None:
    proc = _python(
        "import importlib, json\n"
        "from pydantic import BaseModel, TypeAdapter\n"
        "built = []\n"
        "for name in ('livyd._models', 'livyd._config', 'livyd._auth', 'livyd._core.sparkapi',\n"
        "             'livyd._core.sparkinsight', 'livyd._insight', 'livyd.protocol._models'):\n"
        "    mod = importlib.import_module(name)\n"
        "    built += [f'{name}.{k}' for k, v in vars(mod).items() if isinstance(v, type)\n"
        "              and issubclass(v, BaseModel) and v.__module__ == name and v.__pydantic_complete__]\n"
        "    built += [f'{name}.{k}' for k, v in vars(mod).items()\n"
        "              if isinstance(v, TypeAdapter) and v.pydantic_complete]\n"
        "from livyd._models import Session\n"
        "Session.model_validate({'id': 0, 'state': 'idle'})  # and they still work\n"
        "print(json.dumps(built))\n"
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert json.loads(proc.stdout) == []


def test_an_http_client_loads_no_trust_store() -> None:
    proc = _python(
        "from livyd import LivyClient\n"
        "from livyd._transport import build_ssl_context\n"
        "LivyClient('http://127.0.0.1:9')\n"
        "print(build_ssl_context(True, None).cert_store_stats()['x509'])\n"
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert proc.stdout.strip() == b"0"
