"""The import rules of docs/architecture.md, enforced on the source (every import statement,
also those inside functions), so a dependency pointing the wrong way fails here, not in review.

- ``livyd/_core/`` does no I/O: no network, event loop, clock, logging or subprocess modules.
- The library (``livyd/*.py``, ``livyd/_core/``) imports neither the daemon, the protocol, the CLI
  nor pygls: they build on it, never the reverse.
- The sandbox imports nothing of the client: only ``livyd.sandbox`` itself (and the version).
- Neither the daemon nor the CLI builds HTTP requests or authentication itself: no httpx, no
  GSSAPI, no ``livyd._transport``, no ``build_auth``; they go through the library's clients.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "livyd"


def imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """``(line, module, names)`` of every import in *path* (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, module] if module else base)
            yield node.lineno, module, [a.name for a in node.names]


def files(*parts: str) -> list[Path]:
    return sorted((ROOT.joinpath(*parts)).glob("*.py"))


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(paths: list[Path], forbidden: tuple[str, ...], *, names: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in paths:
        for line, module, imported in imports(path):
            targets = [module, *(f"{module}.{n}" for n in imported)]
            if any(within(t, *forbidden) for t in targets) or any(n in names for n in imported):
                found.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} {imported or ''}".strip())
    return found


LIBRARY = [p for p in files() if p.name not in ("__main__.py",)] + files("_core")


def test_core_does_no_io() -> None:
    io = ("httpx", "httpcore", "anyio", "asyncio", "trio", "socket", "ssl", "subprocess", "threading",
          "structlog", "logging", "time", "os", "pathlib", "shutil", "tempfile", "livyd._transport",
          "livyd._client", "livyd._webhdfs", "livyd._logging", "livyd._config", "livyd._auth")
    assert violations(files("_core"), io) == []


def test_the_library_imports_neither_daemon_protocol_nor_cli() -> None:
    assert violations(LIBRARY, ("livyd.daemon", "livyd.protocol", "livyd.cli", "pygls", "lsprotocol")) == []


def test_the_sandbox_imports_nothing_of_the_client() -> None:
    own = files("sandbox")
    found = []
    for path in own:
        for line, module, _names in imports(path):
            targets = [f"{module}.{n}" for n in _names] if module == "livyd" else [module]
            for target in targets:
                if within(target, "livyd") and not within(target, "livyd.sandbox", "livyd._version"):
                    found.append(f"{path.name}:{line}: {target}")
    assert found == []


@pytest.mark.parametrize("part", ["daemon", "cli"])
def test_daemon_and_cli_build_no_http_requests_or_auth(part: str) -> None:
    http = ("httpx", "httpcore", "httpx_gssapi", "gssapi", "livyd._transport", "requests", "urllib.request")
    found = violations(files(part), http, names=("build_auth", "Transport"))
    # The relay copies bytes over a Unix socket, the harness drives a subprocess: no HTTP either.
    assert found == []


def test_the_rules_would_catch_a_violation(tmp_path: Path) -> None:
    """The checker itself finds imports inside functions and relative imports."""
    probe = ROOT / "_core" / "_import_rules_probe.py"
    probe.write_text("def f():\n    import httpx\n    from .. import _client\n", encoding="utf-8")
    try:
        found = violations([probe], ("httpx", "livyd._client"))
    finally:
        probe.unlink()
    assert len(found) == 2, found
