"""A synchronous console facade for Python consoles and notebooks: ``from livyd.repl import *``.

::

    >>> from livyd.repl import *
    >>> p()                       # create a session (auto-deploying the project), wait until idle
    >>> s("spark.range(10).count()")
    10
    >>> reload_module("mypkg.core")
    >>> k()

The short names are the ones users of today's REPL scripts type (``p, s, k, ka, sessions,
cur_session, logs, n, tail, statements, c, params, state, debug, deploy_module, hdfs_list,
hdfs_delete, reload_module, reload_modules, push_module, build_standalone, run_script``), plus
``fetch``. They drive the same async library as the CLI, configured by the same profiles and
variables (``LIVY_URL``, ``LIVY_WEBHDFS_URL``, ``LIVY_REMOTE_DIR``, livyd.toml, ...); with nothing
configured, an embedded sandbox (and its WebHDFS) is started.

**Inside Jupyter** an event loop is already running in the main thread, so ``anyio.run`` would
fail: every call here runs the coroutine on a private event loop in a background thread
(:class:`LivyRepl`) and waits for it. Ctrl-C (a ``KeyboardInterrupt`` while waiting) cancels the
coroutine, which cancels a running statement on the server first.

``ka()`` kills only the sessions this console created, unless ``ka(all=True)``. This module is a
console face: like ``livyd.cli._render`` it prints (results to stdout, notices to stderr).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import shlex
import sys
import threading
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "LivyRepl", "build_standalone", "c", "cur_session", "debug", "deploy_module", "fetch", "hdfs_delete",
    "hdfs_list", "k", "ka", "logs", "n", "p", "params", "push_module", "reload_module", "reload_modules",
    "run_script", "s", "sessions", "state", "statements", "tail",
]

T = TypeVar("T")
_PAGE = 100
_NO_WEBHDFS = "no WebHDFS configured (webhdfs.url / LIVY_WEBHDFS_URL)"


class LivyRepl:
    """The state behind the aliases: one Livy connection, the current session, a log offset.

    Every method is synchronous and safe to call from a thread whose event loop is running.
    *profile*, *url* and *cwd* are as for :func:`livyd.load_config`.
    """

    def __init__(self, *, profile: str | None = None, url: str | None = None, cwd: Path | None = None,
                 quiet: bool = False) -> None:
        self.profile = profile
        self.url = url
        self.cwd = cwd
        self.quiet = quiet
        self.session_id: int | None = None
        self.created: list[int] = []
        self.log_offset = 0
        self.argv: list[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stack: AsyncExitStack | None = None
        self._conn: Any = None
        self._resolved: Any = None

    # ------------------------------------------------------------------ plumbing

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="livyd-repl", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            atexit.register(self.close)
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()  # cancels the task: a running statement is cancelled on the server
            with contextlib.suppress(BaseException):
                future.result(timeout=10)
            raise

    def _say(self, text: str) -> None:
        if not self.quiet:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def _out(self, text: str) -> None:
        if text:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    async def _connection(self) -> Any:
        if self._conn is None:
            from livyd._config import load_config
            from livyd._connect import open_connection

            self._resolved = load_config(profile=self.profile, url=self.url, cwd=self.cwd)
            stack = AsyncExitStack()
            self._conn = await stack.enter_async_context(
                open_connection(self._resolved, interactive=sys.stdin.isatty(), announce=self._say))
            self._stack = stack
        return self._conn

    async def _client(self) -> Any:
        return (await self._connection()).client

    def _workspace(self) -> Any:
        """An async context manager yielding the RemoteWorkspace (or None without WebHDFS)."""
        from livyd._hdfs import workspace_for

        @contextlib.asynccontextmanager
        async def manager() -> Any:
            conn = await self._connection()
            url = self._resolved.profile.webhdfs.url or (conn.webhdfs_url if conn.embedded else None)
            found = workspace_for(self._resolved, url=url, use_auth=not conn.embedded)
            if found is None:
                yield None
                return
            client, ws = found
            async with client:
                yield ws

        return manager()

    def _project(self) -> Any:
        from livyd._project import discover_project

        return discover_project(self._resolved.profile.deploy, cwd=self.cwd or Path.cwd(),
                                config_root=self._resolved.project_root)

    async def _current(self) -> int:
        if self.session_id is None:
            await self._create({})
        assert self.session_id is not None
        return self.session_id

    def close(self) -> None:
        """Close the connection (sessions stay, except in an embedded sandbox) and the loop."""
        if self._loop is None:
            return
        if self._stack is not None:
            stack, self._stack, self._conn = self._stack, None, None
            with contextlib.suppress(BaseException):
                asyncio.run_coroutine_threadsafe(stack.aclose(), self._loop).result(timeout=20)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = None

    # ------------------------------------------------------------------ sessions

    async def _create(self, overrides: dict[str, Any], deploy: bool | None = None) -> int:
        from livyd._deploy import deploy_project, deploy_to_session

        conn = await self._connection()
        client = conn.client
        fields = self._resolved.profile.session.session_fields()
        fields.update(overrides)
        fields["kind"] = fields.get("kind") or "pyspark"
        later = None
        if deploy if deploy is not None else self._resolved.profile.deploy.auto:
            project = self._project()
            if (project.scripts or project.packages) and (deploy is True or project.marked):
                async with self._workspace() as ws:
                    if ws is None:
                        later = project
                    else:
                        result = await deploy_project(project, workspace=ws)
                        fields["py_files"] = [*(fields.get("py_files") or []), *result.py_files]
                        self._say(f"deployed {len(result.files)} file(s) ({len(result.sent)} sent) "
                                  f"to {result.remote_dir}")
        session = await client.create_session(**fields)
        self.created.append(session.id)
        self.session_id = session.id
        self.log_offset = 0
        self._say(f"session {session.id}: starting")
        await client.wait_session_ready(session.id)
        if later is not None:
            await deploy_to_session(later, client, session.id)
        self._say(f"session {session.id}: idle")
        return int(session.id)

    def create_session(self, *, deploy: bool | None = None, **overrides: Any) -> int:
        """Create a session (the profile's settings, *overrides* win; auto-deploy per profile)."""
        return self._run(self._create(overrides, deploy))

    def use(self, session_id: int) -> None:
        """Make an existing session the current one."""
        self.session_id = session_id
        self.log_offset = 0

    def execute(self, code: str, *, show: bool = True) -> Any:
        """Run *code* in the current session (created when there is none); print and return the
        text output (``application/json`` data as a Python value). Errors raise
        :class:`livyd.StatementFailedError` after printing the traceback."""
        from livyd._exceptions import StatementFailedError

        async def go() -> Any:
            sid = await self._current()
            client = await self._client()
            session = await client.get_session(sid)
            kind = "pyspark" if str(getattr(session.kind, "value", session.kind)) == "shared" else None
            return sid, await client.run_statement(sid, code, kind=kind)

        sid, st = self._run(go())
        output = st.output
        if output is None:
            self._say(f"statement {st.id}: {st.state} (no output)")
            return None
        if str(getattr(output.status, "value", output.status)) == "error":
            tb = "".join(output.traceback or [])
            sys.stderr.write(tb or f"{output.ename}: {output.evalue}\n")
            raise StatementFailedError(f"{output.ename}: {output.evalue}", ename=output.ename or "Error",
                                       evalue=output.evalue or "", traceback=output.traceback or [],
                                       session_id=sid, statement_id=st.id)
        data = output.data or {}
        if "application/json" in data:
            value = data["application/json"]
            if show:
                self._out(json.dumps(value, indent=2, default=str))
            return value
        text = str(data.get("text/plain", ""))
        if show:
            self._out(text)
        return text

    def kill(self, session_id: int | None = None) -> None:
        target = session_id if session_id is not None else self.session_id
        if target is None:
            self._say("no current session")
            return

        async def go() -> None:
            await (await self._client()).delete_session(target)

        self._run(go())
        if target == self.session_id:
            self.session_id = None
        self._say(f"killed session {target}")

    def kill_all(self, *, all: bool = False) -> list[int]:
        """Kill the sessions this console created (every visible session with ``all=True``)."""
        async def go() -> list[int]:
            client = await self._client()
            live = [x.id async for x in client.iter_sessions()]
            targets = live if all else [i for i in self.created if i in live]
            for sid in targets:
                await client.delete_session(sid)
            return targets

        killed = self._run(go())
        self.created = [i for i in self.created if i not in killed]
        if self.session_id in killed:
            self.session_id = None
        self._say(f"killed {len(killed)} session(s): {', '.join(map(str, killed)) or 'none'}")
        return killed

    def list_sessions(self) -> list[Any]:
        async def go() -> list[Any]:
            return [x async for x in (await self._client()).iter_sessions()]

        found = self._run(go())
        for x in found:
            mark = "*" if x.id == self.session_id else " "
            self._out(f"{mark} {x.id:>4}  {getattr(x.state, 'value', x.state)!s:<10} {x.name or ''}")
        return found

    def session_info(self) -> Any:
        async def go() -> Any:
            return await (await self._client()).get_session(await self._current())

        info = self._run(go())
        self._out(json.dumps(info.model_dump(mode="json", by_alias=True), indent=2))
        return info

    # ------------------------------------------------------------------ logs and statements

    def get_logs(self, start: int = 0, size: int = _PAGE) -> list[str]:
        async def go() -> Any:
            return await (await self._client()).session_log(await self._current(), from_=start, size=size)

        page = self._run(go())
        self.log_offset = page.from_ + len(page.log)
        for line in page.log:
            self._out(line)
        return list(page.log)

    def next_logs(self) -> list[str]:
        return self.get_logs(self.log_offset, _PAGE)

    def tail_logs(self, lines: int = _PAGE) -> list[str]:
        async def go() -> Any:
            return await (await self._client()).session_log(await self._current(), size=lines)

        page = self._run(go())
        self.log_offset = page.from_ + len(page.log)
        for line in page.log:
            self._out(line)
        return list(page.log)

    def list_statements(self) -> list[Any]:
        async def go() -> Any:
            return await (await self._client()).list_statements(await self._current())

        found = self._run(go()).statements
        for st in found:
            first = (st.code or "").strip().splitlines()[:1]
            self._out(f"{st.id:>4}  {getattr(st.state, 'value', st.state)!s:<10} {first[0] if first else ''}")
        return list(found)

    def cancel(self, statement_id: int) -> None:
        async def go() -> None:
            await (await self._client()).cancel_statement(await self._current(), statement_id)

        self._run(go())
        self._say(f"cancel sent for statement {statement_id}")

    def set_params(self, args: str | Sequence[str] = ()) -> list[str]:
        """Set ``sys.argv`` in the session for what follows (``params("--date 2024-01-01")``)."""
        argv = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
        self.argv = argv
        self.execute(f"import sys as _livyd_sys; _livyd_sys.argv = {['livyd', *argv]!r}; del _livyd_sys",
                     show=False)
        return argv

    def state(self) -> dict[str, Any]:
        info = {"session_id": self.session_id, "created": list(self.created), "log_offset": self.log_offset,
                "argv": self.argv, "profile": self.profile,
                "url": None if self._conn is None else self._conn.livy_url,
                "embedded": None if self._conn is None else self._conn.embedded}
        self._out(json.dumps(info, indent=2))
        return info

    @staticmethod
    def debug(enabled: bool = True) -> None:
        """Trace every HTTP exchange on stderr (secrets redacted), or stop."""
        from livyd._logging import configure_logging

        configure_logging("debug" if enabled else "warning")

    # ------------------------------------------------------------------ deploy, HDFS, reload

    def deploy(self) -> Any:
        """Deploy the project; into the current session's pyFiles too when there is one."""
        from livyd._devloop import deploy

        async def go() -> Any:
            client = await self._client()
            project = self._project()
            async with self._workspace() as ws:
                sid = self.session_id if ws is not None else await self._current()
                return await deploy(self._resolved, project, ws, client=client, session_id=sid)

        result = self._run(go())
        self._say(f"deployed {len(result.files)} file(s) via {result.via} ({len(result.sent)} sent)")
        return result

    def hdfs_list(self, path: str | None = None) -> list[Any]:
        async def go() -> Any:
            async with self._workspace() as ws:
                if ws is None:
                    from livyd._exceptions import ConfigError

                    raise ConfigError(_NO_WEBHDFS, key="webhdfs.url")
                return await ws.ls(path)

        entries = self._run(go())
        for e in entries:
            self._out(f"{'d' if e.is_dir else '-'}{e.permission:<4} {e.length:>12}  {e.path}")
        return list(entries)

    def hdfs_delete(self, path: str, *, recursive: bool = False, force: bool = False) -> bool:
        """Delete on HDFS: only inside the remote base dir unless ``force=True``; never / or home."""
        async def go() -> bool:
            async with self._workspace() as ws:
                if ws is None:
                    from livyd._exceptions import ConfigError

                    raise ConfigError(_NO_WEBHDFS, key="webhdfs.url")
                return bool(await ws.rm(path, recursive=recursive, force=force))

        deleted = self._run(go())
        self._say(f"deleted {path}" if deleted else f"{path} did not exist")
        return deleted

    def _reload(self, action: str, target: str | None) -> list[Any]:
        from livyd._devloop import reload
        from livyd._reload import Reloader

        async def go() -> list[Any]:
            sid = await self._current()
            client = await self._client()
            async with self._workspace() as ws:
                if action == "module":  # a name that is also a package: still just that module
                    assert target is not None
                    reloader = Reloader(client, sid, self._project(), workspace=ws,
                                        inline_limit=self._resolved.profile.deploy.inline_limit)
                    return [await reloader.reload_module(target)]
                return await reload(self._resolved, self._project(), client, sid, ws, target,
                                    push=action == "push")

        results = self._run(go())
        for res in results:
            self._say(f"reloaded ({res.mode}, {res.via}): {', '.join(res.reloaded) or 'nothing loaded yet'}")
            for name, why in res.failed:
                self._say(f"  {name} did not reload: {why}")
        return results

    def reload_module(self, name: str) -> Any:
        return self._reload("module", name)[0]

    def reload_modules(self, package: str | None = None) -> list[Any]:
        return self._reload("package", package)

    def push_module(self, name: str) -> Any:
        return self._reload("push", name)[0]

    def build_standalone(self, script: str | Path | None = None, output: str | Path | None = None) -> Path:
        """Write ``<script>_standalone.py`` embedding the project's packages (and *script*)."""
        from livyd._standalone import build_standalone as build

        if self._resolved is None:
            from livyd._config import load_config

            self._resolved = load_config(profile=self.profile, url=self.url, cwd=self.cwd)
        project = self._project()
        script_path = self._script(script, project) if script is not None else None
        text = build(list(project.packages), script_path, root=project.root)
        stem = script_path.stem if script_path else project.name
        out = Path(output) if output else (self.cwd or Path.cwd()) / f"{stem}_standalone.py"
        out.write_text(text, encoding="utf-8")
        self._say(f"wrote {out}")
        return out

    @staticmethod
    def _script(script: str | Path, project: Any) -> Path:
        path = Path(script)
        if path.is_file():
            return path
        for candidate in project.scripts:
            if candidate.name == str(script) or candidate.stem == str(script):
                return Path(candidate)
        from livyd._exceptions import ConfigError

        raise ConfigError(f"script {script!s} not found (nor among the project's scripts: "
                          f"{', '.join(s.name for s in project.scripts) or 'none'})", key="script")

    def run_script(self, script: str | Path, *args: str) -> Any:
        """Build the standalone file for *script* and run it in the session with ``sys.argv``."""
        path = self.build_standalone(script, output=None)
        source = path.read_text(encoding="utf-8")
        argv = [Path(str(script)).name, *map(str, args)]
        code = "\n".join([
            "import sys as _livyd_sys",
            "_livyd_saved_argv = _livyd_sys.argv",
            f"_livyd_sys.argv = {argv!r}",
            "try:",
            f"    exec(compile({source!r}, {path.name!r}, 'exec'), {{'__name__': '__livyd_standalone__'}})",
            "finally:",
            "    _livyd_sys.argv = _livyd_saved_argv",
        ])
        return self.execute(code)

    def fetch(self, what: str, *, limit: int = 10_000, page: int = 1000,
              csv: str | Path | None = None) -> Any:
        """A DataFrame variable name or a SQL query, fetched as a pandas DataFrame (or written as CSV
        to *csv*), in pages of *page* rows (Livy caps a SQL result at 1000), at most *limit* rows."""
        from livyd._fetch import fetch_rows

        async def go() -> Any:
            return await fetch_rows(await self._client(), await self._current(), what, limit=limit, page=page)

        columns, rows = self._run(go())
        if csv is not None:
            import csv as csv_module

            with open(csv, "w", newline="", encoding="utf-8") as fh:
                writer = csv_module.writer(fh)
                writer.writerow(columns)
                writer.writerows(rows)
            self._say(f"wrote {len(rows)} rows to {csv}")
            return Path(csv)
        try:
            import pandas as pd  # type: ignore[import-untyped]
        except ImportError:
            return {"columns": columns, "rows": rows}
        return pd.DataFrame(rows, columns=columns)


_default: LivyRepl | None = None


def _repl() -> LivyRepl:
    global _default
    if _default is None:
        _default = LivyRepl()
    return _default


def p(*, deploy: bool | None = None, **overrides: Any) -> int:
    """Create a session (auto-deploy per profile) and make it current."""
    return _repl().create_session(deploy=deploy, **overrides)


def s(code: str, *, show: bool = True) -> Any:
    """Run code in the current session; print and return its output."""
    return _repl().execute(code, show=show)


def k(session_id: int | None = None) -> None:
    """Kill the current (or given) session."""
    _repl().kill(session_id)


def ka(*, all: bool = False) -> list[int]:
    """Kill the sessions this console created (every session with ``all=True``)."""
    return _repl().kill_all(all=all)


def sessions() -> list[Any]:
    return _repl().list_sessions()


def cur_session() -> Any:
    return _repl().session_info()


def logs(start: int = 0, size: int = _PAGE) -> list[str]:
    return _repl().get_logs(start, size)


def n() -> list[str]:
    return _repl().next_logs()


def tail(lines: int = _PAGE) -> list[str]:
    return _repl().tail_logs(lines)


def statements() -> list[Any]:
    return _repl().list_statements()


def c(statement_id: int) -> None:
    _repl().cancel(statement_id)


def params(args: str | Sequence[str] = ()) -> list[str]:
    return _repl().set_params(args)


def state() -> dict[str, Any]:
    return _repl().state()


def debug(enabled: bool = True) -> None:
    LivyRepl.debug(enabled)


def deploy_module() -> Any:
    return _repl().deploy()


def hdfs_list(path: str | None = None) -> list[Any]:
    return _repl().hdfs_list(path)


def hdfs_delete(path: str, *, recursive: bool = False, force: bool = False) -> bool:
    return _repl().hdfs_delete(path, recursive=recursive, force=force)


def reload_module(name: str) -> Any:
    return _repl().reload_module(name)


def reload_modules(package: str | None = None) -> list[Any]:
    return _repl().reload_modules(package)


def push_module(name: str) -> Any:
    return _repl().push_module(name)


def build_standalone(script: str | Path | None = None, output: str | Path | None = None) -> Path:
    return _repl().build_standalone(script, output)


def run_script(script: str | Path, *args: str) -> Any:
    return _repl().run_script(script, *args)


def fetch(what: str, *, limit: int = 10_000, page: int = 1000, csv: str | Path | None = None) -> Any:
    return _repl().fetch(what, limit=limit, page=page, csv=csv)
