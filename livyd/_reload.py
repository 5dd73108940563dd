"""Hot reload into a running session: one module, a whole package, or a module pushed fresh.

The driver-side work is done by a small helper sent with each statement (:data:`DRIVER_HELPER`):

* **module** (``reload_module``): the module's local source is sent base64, executed in the
  module's own namespace (so objects that hold the module see the new functions), and the module
  is put into ``sys.modules`` (and on its parent package) if it was not imported yet.
* **package** (``reload_package``): the package is zipped (reproducibly), the zip is extracted on
  the driver into a fresh private temp dir put first on ``sys.path``, the package's loaded modules
  get their ``__path__`` pointed there, and they are ``importlib.reload``-ed in dependency order
  (what a module imports from the package is reloaded before it; computed locally from the new
  sources). A zip bigger than ``deploy.inline_limit`` does not travel inside the statement
  (gateways limit request bodies): it is uploaded through WebHDFS and added with ``add-pyfile``,
  or without WebHDFS sent with Livy's ``upload-pyfile``, under a content-addressed name
  (``<package>-<hash>.zip``, so Spark never mistakes it for the previous one), and loaded from
  there.
* **push** (``push_module``): the module is dropped from ``sys.modules`` and imported fresh from
  its sent source.

Every result names the modules reloaded (:class:`ReloadResult`).
"""

from __future__ import annotations

import ast
import base64
import json
import posixpath
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio

from livyd._exceptions import ConfigError, LivydError, StatementFailedError
from livyd._packaging import PackageZip, zip_package
from livyd._project import Excluder, Project

if TYPE_CHECKING:
    from livyd._client import LivyClient, SessionRef
    from livyd._hdfs import RemoteWorkspace

__all__ = ["DRIVER_HELPER", "ReloadResult", "Reloader", "dependency_order", "module_sources"]

MARKER = "__livyd_reload__ "

DRIVER_HELPER = r'''
def _livyd_reload(payload):
    import base64, importlib, importlib.util, io, json, os, sys, tempfile, types, zipfile
    mode = payload["mode"]
    out = {"mode": mode, "reloaded": [], "failed": []}

    def attach(name, mod):
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules:
            setattr(sys.modules[parent], child, mod)

    if mode == "module":
        name = payload["module"]
        source = base64.b64decode(payload["source"]).decode("utf-8")
        mod = sys.modules.get(name)
        if mod is None:
            mod = types.ModuleType(name)
            mod.__file__ = payload["filename"]
            mod.__package__ = name.rpartition(".")[0] if not payload["is_package"] else name
            sys.modules[name] = mod
        exec(compile(source, payload["filename"], "exec"), mod.__dict__)
        attach(name, mod)
        out["reloaded"].append(name)
    elif mode == "push":
        name = payload["module"]
        directory = tempfile.mkdtemp(prefix="livyd-push-")
        base = "__init__" if payload["is_package"] else name.rpartition(".")[2]
        path = os.path.join(directory, base + ".py")
        with open(path, "wb") as fh:
            fh.write(base64.b64decode(payload["source"]))
        for key in [k for k in sys.modules if k == name]:
            del sys.modules[key]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
        attach(name, mod)
        out["reloaded"].append(name)
    else:
        package = payload["package"]
        if "zip" in payload:
            entry = tempfile.mkdtemp(prefix="livyd-reload-")
            root = os.path.realpath(entry)
            with zipfile.ZipFile(io.BytesIO(base64.b64decode(payload["zip"]))) as zf:
                for member in zf.namelist():
                    target = os.path.realpath(os.path.join(entry, member))
                    if not target.startswith(root + os.sep):
                        raise ValueError("zip member outside the target dir: %r" % member)
                zf.extractall(entry)
        else:
            name = payload["zip_name"]
            found = [p for p in sys.path if os.path.basename(p) == name]
            if not found:
                raise ImportError("livyd reload: %s is not on the driver's sys.path" % name)
            entry = found[0]
        previous = getattr(sys, "_livyd_reload_dirs", {})
        sys._livyd_reload_dirs = previous
        old = previous.get(package)
        if old and old != entry:  # the last reload's private dir: replaced, so removed
            while old in sys.path:
                sys.path.remove(old)
            if "zip" in payload or os.path.isdir(old):
                import shutil
                shutil.rmtree(old, ignore_errors=True)
        if "zip" in payload:
            previous[package] = entry
        while entry in sys.path:
            sys.path.remove(entry)
        sys.path.insert(0, entry)
        importlib.invalidate_caches()
        loaded = sorted(n for n in list(sys.modules) if n == package or n.startswith(package + "."))
        for n in loaded:
            mod = sys.modules.get(n)
            if mod is not None and hasattr(mod, "__path__"):
                mod.__path__ = [os.path.join(entry, *n.split("."))]
        wanted = payload["order"]
        order = [n for n in wanted if n in loaded] + [n for n in loaded if n not in wanted]
        for n in order:
            mod = sys.modules.get(n)
            if mod is None:
                continue
            try:
                importlib.reload(mod)
                out["reloaded"].append(n)
            except Exception as exc:
                out["failed"].append([n, "%s: %s" % (type(exc).__name__, exc)])
        out["path"] = entry
    print("__livyd_reload__ " + json.dumps(out))
'''


@dataclass
class ReloadResult:
    """What a reload did on the driver."""

    mode: Literal["module", "package", "push"]
    target: str
    via: Literal["inline", "webhdfs", "livy-upload"] = "inline"
    reloaded: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "target": self.target, "via": self.via, "reloaded": self.reloaded,
                "failed": [list(f) for f in self.failed], "path": self.path}


def module_sources(package_dir: Path, excluder: Excluder | None = None) -> dict[str, Path]:
    """``{dotted module name: file}`` for every ``.py`` of a package directory."""
    excluder = excluder or Excluder(package_dir.parent)
    out: dict[str, Path] = {}
    for path in excluder.walk(package_dir):
        if path.suffix != ".py":
            continue
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, is_package: bool, known: set[str]) -> set[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return set()
    package = name if is_package else name.rpartition(".")[0]
    deps: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                deps.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            deps.add(module)
            for alias in node.names:
                deps.add(f"{module}.{alias.name}")
    return {d for d in deps if d in known and d != name}


def dependency_order(sources: dict[str, Path]) -> list[str]:
    """Module names so that each comes after the package modules it imports (cycles: by name)."""
    known = set(sources)
    graph = {n: _imports(n, p, p.name == "__init__.py", known) for n, p in sources.items()}
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str) -> None:
        if state.get(n) == 2 or state.get(n) == 1:
            return
        state[n] = 1
        for d in sorted(graph[n]):
            visit(d)
        state[n] = 2
        order.append(n)

    for n in sorted(known):
        visit(n)
    return order


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Reloader:
    """Hot reload from the local *project* into session *session_id*.

    *workspace* (WebHDFS) carries packages above *inline_limit* bytes; without one, Livy's
    ``upload-pyfile`` does.
    """

    def __init__(self, client: LivyClient, session_id: SessionRef, project: Project, *,
                 workspace: RemoteWorkspace | None = None, inline_limit: int = 256 * 1024,
                 kind: str | None = None) -> None:
        self.client = client
        self.session_id = session_id
        self.project = project
        self.workspace = workspace
        self.inline_limit = inline_limit
        self.kind = kind

    # ------------------------------------------------------------------ local side

    def _package_dir(self, top: str) -> Path | None:
        return next((p for p in self.project.packages if p.name == top), None)

    def locate(self, module: str) -> tuple[Path, bool]:
        """The local file of *module* and whether it is a package ``__init__``."""
        top = module.split(".")[0]
        package = self._package_dir(top)
        if package is not None:
            sources = module_sources(package, Excluder(self.project.root))
            if module in sources:
                path = sources[module]
                return path, path.name == "__init__.py"
        for script in self.project.scripts:
            if script.stem == module:
                return script, False
        known = [p.name for p in self.project.packages] + [s.stem for s in self.project.scripts]
        raise ConfigError(f"module {module!r} is not in the project at {self.project.root} (its packages "
                          f"and scripts: {', '.join(known) or 'none found'})", key="MODULE")

    def is_package(self, name: str) -> bool:
        return self._package_dir(name) is not None

    # ------------------------------------------------------------------ remote side

    async def _run(self, payload: dict[str, Any]) -> dict[str, Any]:
        code = DRIVER_HELPER + f"\n_livyd_reload(__import__('json').loads({json.dumps(payload)!r}))\n" \
            "del _livyd_reload\n"
        st = await self.client.run_statement(self.session_id, code, kind=self.kind)
        output = st.output
        if output is None:
            raise LivydError(f"reload statement {st.id} in session {self.session_id} ended without output")
        if str(getattr(output.status, "value", output.status)) == "error":
            raise StatementFailedError(f"{output.ename}: {output.evalue}", ename=output.ename or "Error",
                                       evalue=output.evalue or "", traceback=output.traceback or [],
                                       session_id=st_session(self.session_id), statement_id=st.id)
        text = str((output.data or {}).get("text/plain", ""))
        for line in reversed(text.splitlines()):
            if line.startswith(MARKER):
                result: dict[str, Any] = json.loads(line[len(MARKER):])
                return result
        raise LivydError(f"reload statement {st.id}: no result line in its output")

    async def reload_module(self, module: str) -> ReloadResult:
        """Send *module*'s source and execute it in the module's namespace."""
        path, is_package = await anyio.to_thread.run_sync(self.locate, module)
        source = await anyio.Path(path).read_bytes()
        answer = await self._run({"mode": "module", "module": module, "source": _b64(source),
                                  "filename": str(path), "is_package": is_package})
        return ReloadResult("module", module, reloaded=answer["reloaded"])

    async def push_module(self, module: str) -> ReloadResult:
        """Drop *module* from ``sys.modules`` and import it fresh from its sent source."""
        path, is_package = await anyio.to_thread.run_sync(self.locate, module)
        source = await anyio.Path(path).read_bytes()
        answer = await self._run({"mode": "push", "module": module, "source": _b64(source),
                                  "filename": str(path), "is_package": is_package})
        return ReloadResult("push", module, reloaded=answer["reloaded"])

    async def reload_package(self, package: str) -> ReloadResult:
        """Re-zip *package*, load it on the driver first on ``sys.path``, reload its loaded modules."""
        directory = self._package_dir(package)
        if directory is None:
            raise ConfigError(f"package {package!r} is not in the project at {self.project.root} (packages: "
                              f"{', '.join(p.name for p in self.project.packages) or 'none found'})",
                              key="MODULE")
        excluder = Excluder(self.project.root)
        zipped: PackageZip = await anyio.to_thread.run_sync(zip_package, directory, excluder)
        sources = await anyio.to_thread.run_sync(module_sources, directory, excluder)
        order = await anyio.to_thread.run_sync(dependency_order, sources)
        payload: dict[str, Any] = {"mode": "package", "package": package, "order": order}
        via: Literal["inline", "webhdfs", "livy-upload"] = "inline"
        if len(zipped.data) <= self.inline_limit:
            payload["zip"] = _b64(zipped.data)
        else:
            zip_name = f"{package}-{zipped.short_hash}.zip"
            payload["zip_name"] = zip_name
            if self.workspace is not None:
                remote = posixpath.join(await self.workspace.resolve(self.project.name), ".reload", zip_name)
                put = await self.workspace.put_bytes(zipped.data, remote)
                await self.client.add_pyfile(self.session_id, put.uri)
                via = "webhdfs"
            else:
                with tempfile.TemporaryDirectory(prefix="livyd-reload-") as tmp:
                    path = Path(tmp) / zip_name
                    await anyio.Path(path).write_bytes(zipped.data)
                    await self.client.upload_pyfile(self.session_id, path)
                via = "livy-upload"
        answer = await self._run(payload)
        return ReloadResult("package", package, via=via, reloaded=answer["reloaded"],
                            failed=[(n, m) for n, m in answer.get("failed", [])], path=answer.get("path"))

    async def reload(self, target: str | None = None) -> list[ReloadResult]:
        """``livyd reload [MODULE]``: a package name reloads the package, a module name the module;
        nothing: every package of the project."""
        if target is None:
            if not self.project.packages:
                raise ConfigError("nothing to reload: no packages found in the project at "
                                  f"{self.project.root}", key="MODULE")
            return [await self.reload_package(p.name) for p in self.project.packages]
        if self.is_package(target):
            return [await self.reload_package(target)]
        return [await self.reload_module(target)]


def st_session(ref: SessionRef) -> int | None:
    return ref if isinstance(ref, int) else None
