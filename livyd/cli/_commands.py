"""What each ``livyd`` command does (async, on anyio), and how outcomes become exit statuses.

Interrupts: anyio's asyncio runner turns Ctrl-C into a cancellation of the running command. The
client's statement wait cancels the statement on the server in shielded cleanup; ``exec``/``run``
then delete the session they created (also shielded, bounded), and :func:`run_command` returns 130.

Nothing here prints: all output goes through :class:`~livyd.cli._render.Renderer`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from livyd._config import ResolvedConfig, load_config
from livyd._exceptions import (
    AuthenticationError,
    ConfigError,
    ForbiddenError,
    LivydError,
    SessionGoneError,
    SessionReplacedError,
    SessionUnverifiedError,
    StatementCancelledError,
    StatementFailedError,
    SubmissionUnknownError,
    redact_url,
)
from livyd._logging import get_logger
from livyd.cli._render import Renderer

if TYPE_CHECKING:
    from livyd._client import LivyClient

__all__ = ["UsageError", "run_command"]

log = get_logger("livyd.cli")

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_SERVER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

Command = Callable[[argparse.Namespace, Renderer], Awaitable[int]]


class UsageError(ConfigError):
    """The command line itself is wrong (exit status 2)."""


# --------------------------------------------------------------------------- dispatch


def run_command(args: argparse.Namespace, renderer: Renderer) -> int:
    """Run the parsed command; map its outcome to livyd's exit statuses."""
    command = _COMMANDS[args.command]
    if args.command in ("sessions", "batch") and getattr(args, "action", None) is None:
        if args.command == "batch":
            renderer.error("batch needs an action: submit, list, status, logs or kill")
            return EXIT_CONFIG
        args.action = "list"
    verbose = bool(getattr(args, "verbose", False))
    try:
        return anyio.run(_until_signalled, command, args, renderer)
    except Terminated as exc:
        renderer.error(f"terminated by {exc.name}")
        return 128 + exc.signum
    except KeyboardInterrupt:
        renderer.error("interrupted")
        return EXIT_INTERRUPTED
    except BaseException as exc:
        leaf = _leaf(exc)
        if isinstance(leaf, KeyboardInterrupt):
            renderer.error("interrupted")
            return EXIT_INTERRUPTED
        if not isinstance(leaf, LivydError):
            raise
        if verbose:  # the chain may hold a lower layer's message: redacted like a log line
            from livyd._core.redact import redact_text

            renderer.stderr.write(redact_text("".join(traceback.format_exception(leaf))))
        if isinstance(leaf, StatementFailedError):
            renderer.statement_error(ename=leaf.ename, evalue=leaf.evalue, traceback=leaf.traceback,
                                     session_id=leaf.session_id, statement_id=leaf.statement_id)
            return EXIT_FAILED
        if isinstance(leaf, StatementCancelledError):
            renderer.error(str(leaf))
            return EXIT_FAILED
        if isinstance(leaf, SessionReplacedError | SessionUnverifiedError) and getattr(args, "session", None):
            renderer.error(f"{leaf} (run without --session to create a new one)")
            return EXIT_SERVER
        renderer.error(str(leaf))
        return EXIT_CONFIG if isinstance(leaf, ConfigError) else EXIT_SERVER


class Terminated(Exception):
    """SIGTERM or SIGHUP ended the command (after the same clean-up as Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(self.name)


#: SIGTERM (``timeout``, a CI cancel, ``kill``) and SIGHUP (the terminal went away) are handled
#: like Ctrl-C: the command is cancelled, so the statement is cancelled on the server and the
#: session livyd created is deleted (shielded, bounded: 5 s for the cancel, 15 s for the delete),
#: then livyd exits 128 + the signal number. A second signal while that runs kills at once.
_TERMINATING = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s)


async def _until_signalled(command: Command, args: argparse.Namespace, renderer: Renderer) -> int:
    received: list[int] = []
    result = EXIT_FAILED
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            with anyio.open_signal_receiver(*_TERMINATING) as signals:
                async for signum in signals:
                    received.append(int(signum))
                    renderer.notice(f"livyd: {signal.Signals(signum).name}: cancelling, then cleaning up "
                                    "(send it again to stop at once)")
                    break
            tg.cancel_scope.cancel()  # the handlers are gone: a second signal ends the process

        async def main() -> None:
            nonlocal result
            result = await command(args, renderer)
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(main)
    if received:
        raise Terminated(received[0])
    return result


def _leaf(exc: BaseException) -> BaseException:
    """The exception that matters inside (possibly nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup):
        # anyio.run uses asyncio here; outside the loop anyio cannot name its cancellation class
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        exc = (inner or list(exc.exceptions))[0]
    return exc


def _resolve(args: argparse.Namespace, *, kind: bool = False) -> ResolvedConfig:
    overrides: dict[str, Any] = {}
    if kind and getattr(args, "kind", None):
        overrides["session.kind"] = (args.kind, "--kind")
    return load_config(profile=getattr(args, "profile", None), url=getattr(args, "url", None),
                       overrides=overrides)


def _dump(model: Any) -> Any:
    """A Livy object as shown (table or --json): Livy's camelCase keys, with secret-looking Spark
    conf values masked the way doctor masks them and credentials in its log lines redacted."""
    from livyd._core.redact import redact_conf, redact_text

    data = model.model_dump(mode="json", by_alias=True)
    if isinstance(data.get("conf"), dict):
        data["conf"] = {k: redact_conf(str(k), v) for k, v in data["conf"].items()}
    if isinstance(data.get("log"), list):
        data["log"] = [redact_text(line) if isinstance(line, str) else line for line in data["log"]]
    return data


def _state(value: Any) -> str:
    return str(getattr(value, "value", value))


# --------------------------------------------------------------------------- exec / run


def _read_code(arg: str) -> str:
    if arg == "-":
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        try:
            code = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UsageError(f"CODE (from stdin) is not UTF-8 text: byte 0x{raw[exc.start]:02x} at "
                             f"{_position(raw.decode('utf-8', 'replace'), exc.start)} cannot be decoded; "
                             "save the code as UTF-8", key="CODE") from None
        if not code.strip():
            raise UsageError("no code on stdin (CODE was '-')", key="CODE")
        return code
    if not arg.strip():
        raise UsageError("CODE is empty", key="CODE")
    _check_text(arg, "CODE")
    return arg


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _check_text(text: str, what: str) -> None:
    """Code must be sendable as UTF-8: an argument with bytes that are not UTF-8 (Python keeps
    them as lone surrogates) or a lone surrogate is named, not a UnicodeEncodeError traceback
    that reads like "your code raised"."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(text[exc.start])
        kind = (f"byte 0x{char - 0xDC00:02x} that is not UTF-8" if 0xDC80 <= char <= 0xDCFF
                else f"a lone surrogate U+{char:04X}")
        where = _position(text, exc.start)
        raise UsageError(f"{what} is not valid text: {kind} at {where}", key=what) from None


def _run_file_code(path: str, argv: list[str]) -> str:
    """Code that runs *path*'s source as ``__main__`` with ``sys.argv = [path, *argv]``.

    The source is compiled under the file's own name, so tracebacks show the local path and
    line numbers; ``sys.exit(0)`` counts as success; names the file defines stay in the session
    (like IPython's ``%run -i``); ``sys.argv`` and ``__name__`` are restored afterwards.
    """
    local = Path(path)
    try:
        source = local.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"FILE {path} is not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset "
                         f"{exc.start} cannot be decoded", key="FILE") from None
    except FileNotFoundError:
        raise UsageError(f"FILE {path} does not exist", key="FILE") from None
    except OSError as exc:
        raise UsageError(f"cannot read FILE {path}: {exc}", key="FILE") from None
    return "\n".join([
        "import sys as _livyd_sys",
        "_livyd_saved = (_livyd_sys.argv, globals().get('__name__'), globals().get('__file__'))",
        f"_livyd_sys.argv = {[path, *argv]!r}",
        f"globals().update(__name__='__main__', __file__={path!r})",
        "try:",
        f"    exec(compile({source!r}, {path!r}, 'exec'), globals())",
        "except SystemExit as _livyd_exit:",
        "    if _livyd_exit.code not in (None, 0):",
        "        raise",
        "finally:",
        "    _livyd_sys.argv = _livyd_saved[0]",
        "    globals().update(__name__=_livyd_saved[1], __file__=_livyd_saved[2])",
        "",
    ])


async def _find_session(client: LivyClient, ref: str) -> Any:
    """The session *ref* names: an id, or a name. Livy 0.6+ takes a name in the path (one read;
    names are unique among live sessions, and a name livyd generated proves who it is); before
    0.6 that is refused (400) and the sessions are listed to find it."""
    from livyd._exceptions import BadRequestError, SessionNotFoundError

    if ref.isdigit():
        return await client.get_session(int(ref))
    try:
        session = await client.get_session(ref)
    except (SessionNotFoundError, BadRequestError):
        pass
    else:
        if session.name == ref:
            return session
    async for session in client.iter_sessions():
        if session.name == ref:
            return session
    raise SessionGoneError(f"no session named {ref!r} at {redact_url(client.url)}", session_id=ref)


async def _execute(args: argparse.Namespace, r: Renderer, code: str) -> int:
    from livyd._connect import open_connection

    resolved = _resolve(args, kind=True)
    if getattr(args, "image_dir", None):
        r.image_dir = _image_dir(args.image_dir)  # checked before anything is sent
    interactive = sys.stdin.isatty() and args.code != "-" if hasattr(args, "code") else sys.stdin.isatty()
    if getattr(args, "dry_run", False):
        from livyd.cli._devloop import dry_run_session

        return await dry_run_session(args, r, resolved, code)
    from livyd.cli._devloop import after_session_ready, before_create_session, deploy_into_session

    upload_later = None
    async with open_connection(resolved, interactive=interactive, announce=r.notice) as conn:
        client = conn.client
        created: int | None = None
        # "shared" is a session kind only: its statements say what they are (pyspark by default)
        statement_kind: str | None = "pyspark" if (args.kind or "").lower() == "shared" else args.kind
        if args.session:
            session = await _find_session(client, args.session)  # its 0.8+ fields spare /version
            # every later read of it is compared with this one; a name livyd generated (a session
            # kept with --keep) is unique, so it proves the session on its own
            prefix = re.escape(resolved.profile.session.name_prefix)
            generated = bool(session.name and re.fullmatch(rf"{prefix}-[0-9a-f]{{8}}", session.name))
            client.track_session(session, unique_name=generated)
            if statement_kind is None and _state(session.kind) == "shared":
                configured = resolved.profile.session.kind
                statement_kind = configured if configured not in (None, "shared") else "pyspark"
            await _say_what_it_waits_for(client, r, session)
            await deploy_into_session(args, r, resolved, conn, session.id)  # only with --deploy
        else:
            fields = resolved.profile.session.session_fields()
            fields["kind"] = fields.get("kind") or "pyspark"
            # A unique name chosen here, so an interrupted create can still be found and deleted
            # (a name the user chose may belong to someone else's session: never deleted by name).
            unique = "name" not in fields
            if unique:
                fields["name"] = f"{resolved.profile.session.name_prefix}-{secrets.token_hex(4)}"
            await _warn_unsupported_fields(client, r, resolved, fields)
            upload_later = await before_create_session(args, r, resolved, conn, fields)  # auto-deploy
            with r.progress("creating a Livy session") as progress:
                try:
                    session = await client.create_session(**fields)
                except (anyio.get_cancelled_exc_class(), KeyboardInterrupt):
                    await _abandon_create(client, r, fields["name"], unique=unique)
                    raise
                created = session.id
                # the name is livyd's own: it proves the session is ours on every later read
                client.track_session(session, unique_name=unique)
                progress.update(f"session {session.id}: starting")
            if statement_kind is None and fields["kind"] == "shared":
                statement_kind = "pyspark"
        sid = session.id
        keep = created is not None and args.keep
        seen: list[Any] = []  # the statement, as last read (its id once submitted)
        try:
            from livyd.cli._progress import spark_progress

            # live bars of what Spark does (a terminal only); with --json the events go into the result
            with spark_progress(r, f"session {sid}") as view:
                try:
                    if created is not None or _state(session.state) != "idle":  # else: just seen idle
                        await client.wait_session_ready(sid, timeout=args.timeout, on_progress=view.on_event)
                except (SessionReplacedError, SessionUnverifiedError):
                    raise
                except SessionGoneError as exc:
                    # keep a session that died starting: its log says why (and it holds nothing)
                    keep = keep or created is not None
                    raise await _startup_failure(client, sid, exc, kept=created is not None) from exc
                await after_session_ready(r, client, sid, upload_later)

                def on_update(st: Any) -> None:
                    seen[:] = [st]
                    view.on_update(st)

                try:
                    statement = await client.run_statement(sid, code, kind=statement_kind,
                                                           on_update=on_update, on_progress=view.on_event,
                                                           timeout=args.timeout)
                except (anyio.get_cancelled_exc_class(), KeyboardInterrupt):
                    await _report_interrupted(client, r, sid, seen, deleting=created is not None and not keep)
                    raise
                except SubmissionUnknownError:
                    # it may be running: deleting the session would kill it unseen
                    keep = keep or created is not None
                    if created is not None:
                        r.warn(f"session {sid} is kept: the statement may be running in it "
                               f"(livyd sessions info {sid}; livyd sessions kill {sid} stops it)")
                    raise
        finally:
            if created is not None and not keep:
                with anyio.move_on_after(15, shield=True):
                    try:
                        await client.delete_session(created)
                    except (SessionReplacedError, SessionUnverifiedError):
                        r.warn(f"session {created} was not deleted: it is no longer shown to be the one "
                               "livyd created")
                    except LivydError as exc:
                        r.warn(f"could not delete session {created}: {exc}")
        if created is not None and args.keep:
            if conn.embedded:
                r.warn("--keep: the embedded sandbox (and its sessions) stops when livyd exits")
            else:
                r.notice(f"session {created} kept: livyd exec --session {created} ...")
        output = statement.output
        if output is None:
            raise StatementCancelledError(f"statement {statement.id} in session {sid} ended without output "
                                          f"(state {_state(statement.state)})", session_id=sid,
                                          statement_id=statement.id)
        if _state(output.status) == "error":
            raise StatementFailedError(
                f"{output.ename}: {output.evalue}", ename=output.ename or "Error", evalue=output.evalue or "",
                traceback=output.traceback or [], session_id=sid, statement_id=statement.id,
            )
        r.statement_output(output.data or {}, session_id=sid, statement_id=statement.id)
    return EXIT_OK


async def _say_what_it_waits_for(client: LivyClient, r: Renderer, session: Any) -> None:
    """``exec --session N`` into a busy session: say which statement this one waits behind
    (Livy runs one at a time; one that ignored a cancel may run on), instead of waiting silently."""
    if _state(session.state) not in ("busy", "running"):
        return
    try:
        page = await client.list_statements(session.id, size=5, order="desc")
    except LivydError:
        return
    running = [st for st in page.statements if _state(st.state) in ("running", "cancelling", "waiting")]
    stop = f"livyd sessions kill {session.id} stops everything"
    if running:
        first = min(running, key=lambda st: st.id)
        r.notice(f"session {session.id} is busy with statement {first.id} ({_state(first.state)}); this one "
                 f"waits until it ends ({stop})")
    elif page.statements and _state(page.statements[0].state) == "cancelled":
        last = page.statements[0]
        r.notice(f"session {session.id} is busy with statement {last.id}: it was cancelled, but its code "
                 "still runs (Livy's cancel stops Spark jobs; plain Python ignores it); this one waits "
                 f"until it returns ({stop})")
    else:
        r.notice(f"session {session.id} is busy; this statement waits until it is idle")


async def _report_interrupted(client: LivyClient, r: Renderer, sid: int, seen: list[Any], *,
                              deleting: bool) -> None:
    """After Ctrl-C / SIGTERM: say whether the statement was cancelled, may still be running, or
    never started (shielded, bounded: the client already asked Livy to cancel it)."""
    if not seen:
        r.notice(f"interrupted before the statement was accepted by session {sid}: it did not start "
                 "(or was cancelled as soon as it landed)")
        return
    stid = seen[0].id
    state = _state(seen[0].state)
    with anyio.move_on_after(3, shield=True):
        try:
            state = _state((await client.get_statement(sid, stid)).state)
        except LivydError:
            pass
    if deleting:
        r.notice(f"statement {stid} was {state} when interrupted; deleting session {sid} stops it")
    elif state == "cancelled":
        r.notice(f"statement {stid} in session {sid} was cancelled")
    elif state in ("running", "cancelling"):
        r.notice(f"statement {stid} in session {sid} may still be running: Livy's cancel stops its Spark "
                 f"jobs, and plain Python code ignores it (livyd sessions kill {sid} stops it)")
    elif state == "waiting":
        r.notice(f"statement {stid} in session {sid} had not started")
    else:
        r.notice(f"statement {stid} in session {sid} is {state}")


_STARTUP_LOG_LINES = 20


async def _warn_unsupported_fields(client: LivyClient, r: Renderer, resolved: ResolvedConfig,
                                   fields: dict[str, Any]) -> None:
    """Say (once) which configured session fields this Livy does not know: the client leaves them
    out of the request (older Livy answers 400 to them), which must not pass unnoticed."""
    wanted = [key for key in ("ttl", "idle_timeout") if fields.get(key) is not None]
    if not wanted:
        return
    version = await client.server_version()
    for key in wanted:
        supported, since = ((version.supports_ttl, "0.8") if key == "ttl"
                            else (version.supports_idle_timeout, "0.9"))
        if not supported:
            r.warn(f"session.{key} ({resolved.source_of(f'session.{key}')}) is not sent: Livy {version} "
                   f"does not know it (Livy {since}+ does)")
#: How long an interrupted create looks for the session it may have made (the POST may land late).
_ABANDON_LOOK_SECONDS = 5.0


async def _abandon_create(client: LivyClient, r: Renderer, name: str, *, unique: bool) -> None:
    """The create-session POST was interrupted (Ctrl-C): find the session it may have made by its
    unique name and delete it, shielded and bounded, so nothing is left running."""
    from livyd._exceptions import SessionNotFoundError

    if not unique:
        r.warn(f"the session named {name!r} may have been created; check with: livyd sessions info {name}")
        return
    r.notice(f"interrupted while creating session {name}: looking for it to delete it "
             f"(up to {_ABANDON_LOOK_SECONDS:g} s; Ctrl-C again to skip)")
    with anyio.move_on_after(_ABANDON_LOOK_SECONDS, shield=True) as scope:
        delay = 0.1
        while True:
            try:
                found = await client.get_session(name)
            except SessionNotFoundError:
                await anyio.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            except LivydError as exc:
                r.warn(f"could not look for the session named {name!r} ({exc}); "
                       f"check with: livyd sessions info {name}")
                return
            try:
                await client.delete_session(found.id)
            except LivydError as exc:
                r.warn(f"could not delete session {found.id} ({name}): {exc}")
            else:
                r.notice(f"deleted session {found.id} ({name}), created while livyd was interrupted")
            return
    if scope.cancelled_caught:
        log.debug("interrupted create: no session appeared", name=name)


async def _startup_failure(
    client: LivyClient, sid: int, exc: SessionGoneError, *, kept: bool
) -> SessionGoneError:
    """The error for a session that died before it was ready, with the end of its log (secrets
    masked): the log says why, and reading it later may be impossible."""
    from livyd._core.logcursor import MARKERS
    from livyd._core.redact import redact_text

    try:
        page = await client.session_log(sid, size=_STARTUP_LOG_LINES)
        lines = [redact_text(line.strip("\n")) for line in page.log if line not in MARKERS]
    except LivydError:
        lines = []
    state = exc.state or "gone"
    message = f"session {sid} at {redact_url(client.url)} is {state}: it did not start"
    shown = [f"  {line}" for line in lines if line.strip()]
    if shown:
        message += "; the last lines of its log:\n" + "\n".join(shown)
    if kept:
        message += (f"\n(the session is kept so its log can be read: livyd logs {sid}; "
                    f"livyd sessions kill {sid} removes it)")
    return SessionGoneError(message, session_id=sid, state=exc.state)


def _image_dir(text: str) -> Path:
    """``--image-dir``: an existing writable directory, or one livyd can create (0700)."""
    directory = Path(text).expanduser()
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--image-dir {text} exists and is not a directory", key="--image-dir")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--image-dir {text} cannot be created: {exc.strerror or exc}",
                         key="--image-dir") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"--image-dir {text} is not writable", key="--image-dir")
    return directory


async def cmd_exec(args: argparse.Namespace, r: Renderer) -> int:
    return await _execute(args, r, _read_code(args.code))


async def cmd_run(args: argparse.Namespace, r: Renderer) -> int:
    return await _execute(args, r, _run_file_code(args.file, list(args.args)))


# --------------------------------------------------------------------------- sessions / logs


async def _client_for(args: argparse.Namespace) -> tuple[ResolvedConfig, LivyClient]:
    from livyd._connect import build_livy_client

    resolved = _resolve(args)
    if not resolved.profile.url:
        raise ConfigError(
            "no Livy URL configured: pass --url or --profile, set LIVY_URL, or add url to livyd.toml "
            "(only exec and run start an embedded sandbox)", key="url")
    return resolved, build_livy_client(resolved, interactive=sys.stdin.isatty())


_SESSION_COLUMNS = ("id", "name", "kind", "state", "owner", "proxyUser", "appId")


def _session_row(s: Any) -> list[Any]:
    return [s.id, s.name, _state(s.kind), _state(s.state), getattr(s, "owner", None),
            getattr(s, "proxy_user", None), getattr(s, "app_id", None)]


async def cmd_sessions(args: argparse.Namespace, r: Renderer) -> int:
    _, client = await _client_for(args)
    async with client:
        if args.action == "list":
            sessions = [s async for s in client.iter_sessions()]
            if r.json_mode:
                r.json([_dump(s) for s in sessions])
            elif not sessions:
                r.notice(f"no sessions at {redact_url(client.url)}")
            else:
                r.table(_SESSION_COLUMNS, [_session_row(s) for s in sessions])
            return EXIT_OK
        if args.action == "info":
            session = await _find_session(client, args.id)
            if r.json_mode:
                r.json(_dump(session))
            else:
                data = _dump(session)
                r.table(("field", "value"), [(k, _short(v)) for k, v in data.items()])
            return EXIT_OK
        # kill
        if args.all == bool(args.id):
            raise UsageError("sessions kill needs exactly one of ID|NAME or --all", key="ID")
        targets = ([s.id async for s in client.iter_sessions()] if args.all
                   else [(await _find_session(client, args.id)).id])
        for sid in targets:
            await client.delete_session(sid)
            if not r.json_mode:
                r.notice(f"killed session {sid}")
        if r.json_mode:
            r.json({"killed": targets})
        elif not targets:
            r.notice(f"no sessions at {redact_url(client.url)}")
        return EXIT_OK


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value[-10:])
    if isinstance(value, dict):
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    return "" if value is None else str(value)


async def cmd_logs(args: argparse.Namespace, r: Renderer) -> int:
    resolved, client = await _client_for(args)
    async with client:
        if args.id is not None:
            sid = (await _find_session(client, args.id)).id
        else:
            sessions = [s async for s in client.iter_sessions()]
            if not sessions:
                raise SessionGoneError(f"no sessions at {redact_url(client.url)}")
            sid = max(s.id for s in sessions)
            if not r.json_mode:
                r.notice(f"session {sid}")
        if getattr(args, "driver", False) or getattr(args, "executors", False):
            from livyd.cli._sparklogs import show_spark_logs

            if args.follow:
                raise UsageError("--follow reads Livy's log; it does not go with --driver/--executors",
                                 key="--follow")
            await show_spark_logs(args, r, client, sid)
            return EXIT_OK
        if not args.follow:
            await _show_log(r, client.session_log, sid, args.tail)
            return EXIT_OK
        final = await _follow_log(r, client, "sessions", sid, 100 if args.tail is None else args.tail,
                                  resolved)
        r.notice(f"session {sid}: {_state(final) if final is not None else 'gone'}")
        return EXIT_OK


async def _show_log(r: Renderer, read: Callable[..., Awaitable[Any]], ident: int, tail: int | None) -> None:
    """Print a session's or batch's log once (the last *tail* lines, Livy's default 100)."""
    page = await read(ident, size=tail)
    if r.json_mode:
        r.json({"id": ident, "from": page.from_, "total": page.total, "log": list(page.log)})
    else:
        r.log_lines(list(page.log))


async def _follow_log(r: Renderer, client: LivyClient, collection: str, ident: int, tail: int,
                      resolved: ResolvedConfig) -> Any:
    """Print a session's or batch's log as it grows until it ends; return its last state (the
    :class:`Batch` for batches), or ``None`` when it is gone (404).

    The library's follower does the work: the poll planner spaces the reads (at once again while
    lines pour in), a :class:`~livyd._core.logcursor.LogCursor` de-duplicates across Livy's
    wrapping 200-line buffers and puts a ``[livyd: ... lines may be missing here ...]`` line where
    the buffer wrapped between two reads, and it stops when the session or batch ends.
    """
    from livyd._exceptions import BatchNotFoundError, SessionNotFoundError

    is_batch = collection == "batches"
    follow = client.follow_batch_log if is_batch else client.follow_session_log
    async for lines in follow(ident, poll_interval=resolved.profile.poll.maximum, start="tail", tail=tail):
        r.log_lines(lines, to_stderr=r.json_mode)
    try:
        return await (client.get_batch(ident) if is_batch else client.session_state(ident))
    except (SessionNotFoundError, BatchNotFoundError):
        return None


# --------------------------------------------------------------------------- batches


async def cmd_batch(args: argparse.Namespace, r: Renderer) -> int:
    resolved, client = await _client_for(args)
    async with client:
        if args.action == "submit":
            from livyd.cli._devloop import plan_batch_submit

            planned = await plan_batch_submit(args, r, resolved, client)  # staging, --dry-run
            if planned is None:
                return EXIT_OK
            batch = await client.create_batch(**planned)
            if not args.follow:
                if r.json_mode:
                    r.json(_dump(batch))
                else:
                    r.text(f"batch {batch.id}: {_state(batch.state)}")
                return EXIT_OK
            return await _follow_batch(r, client, batch.id, resolved)
        if args.action == "list":
            batches = (await client.list_batches()).sessions
            if r.json_mode:
                r.json([_dump(b) for b in batches])
            elif not batches:
                r.notice(f"no batches at {redact_url(client.url)}")
            else:
                r.table(("id", "name", "state", "proxyUser", "appId"),
                        [[b.id, b.name, _state(b.state), getattr(b, "proxy_user", None),
                          getattr(b, "app_id", None)] for b in batches])
            return EXIT_OK
        if args.action == "status":
            batch = await client.get_batch(args.id)
            if r.json_mode:
                r.json(_dump(batch))
            else:
                r.table(("field", "value"), [(k, _short(v)) for k, v in _dump(batch).items()])
            return EXIT_OK
        if args.action == "logs":
            if args.follow:
                return await _follow_batch(r, client, args.id, resolved, tail=args.tail)
            await _show_log(r, client.batch_log, args.id, args.tail)
            return EXIT_OK
        # kill
        await client.delete_batch(args.id)
        if r.json_mode:
            r.json({"killed": [args.id]})
        else:
            r.notice(f"killed batch {args.id}")
        return EXIT_OK


async def _follow_batch(r: Renderer, client: LivyClient, batch_id: int, resolved: ResolvedConfig,
                        tail: int | None = None) -> int:
    """Print the batch's log as it grows until the batch ends; 0 for success, 1 otherwise."""
    batch = await _follow_log(r, client, "batches", batch_id, 10**9 if tail is None else tail, resolved)
    if batch is None:
        raise SessionGoneError(f"batch {batch_id} is gone (Livy no longer knows it)")
    state = _state(batch.state)
    if r.json_mode:
        r.json(_dump(batch))
    else:
        r.notice(f"batch {batch_id}: {state}")
    return EXIT_OK if state == "success" else EXIT_FAILED


# --------------------------------------------------------------------------- doctor


async def cmd_doctor(args: argparse.Namespace, r: Renderer) -> int:
    from livyd._auth import describe_auth
    from livyd._connect import build_livy_client

    resolved = _resolve(args)
    checks: list[dict[str, Any]] = []
    rows = resolved.describe()
    how = resolved.profile_source or "none chosen"
    if not r.json_mode:
        r.text(f"profile: {resolved.profile_name or '(none)'}  ({how})")
        r.text(f"known profiles: {', '.join(resolved.known_profiles) or '(none)'}")
        r.text(f"files: {', '.join(str(f) for f in resolved.files) or '(none found)'}")
        r.table(("setting", "value", "source"), rows)
    url = resolved.profile.url
    if not url:
        checks.append({"check": "livy", "ok": True,
                       "detail": "no Livy URL configured: exec and run will start an embedded sandbox"})
    else:
        client = build_livy_client(resolved, interactive=sys.stdin.isatty())
        async with client:
            try:
                info = await client.version()
                version = str(getattr(info, "version", info))
                checks.append({"check": "reachable", "ok": True,
                               "detail": f"{redact_url(client.url)} answered"})
                checks.append({"check": "version", "ok": True, "detail": f"Livy {version}"})
            except (AuthenticationError, ForbiddenError) as exc:
                # an answer, so the server is reachable: it is the credentials that failed
                checks.append({"check": "reachable", "ok": True,
                               "detail": f"{redact_url(client.url)} answered {exc.status}"})
                checks.append({"check": "auth", "ok": False, "detail": str(exc)})
            except LivydError as exc:
                checks.append({"check": "reachable", "ok": False, "detail": str(exc)})
            else:
                try:
                    await client.list_sessions(size=1)
                    used = describe_auth(resolved.profile.auth, env=resolved.env)
                    checks.append({"check": "auth", "ok": True, "detail": await _auth_detail(resolved, used)})
                except LivydError as exc:
                    checks.append({"check": "auth", "ok": False, "detail": str(exc)})
    if resolved.profile.webhdfs.url:
        checks.append(await _check_webhdfs(resolved))
    ok = all(c["ok"] for c in checks)
    if r.json_mode:
        r.json({"profile": resolved.profile_name, "profileSource": resolved.profile_source,
                "knownProfiles": list(resolved.known_profiles), "files": [str(f) for f in resolved.files],
                "settings": [{"key": k, "value": v, "source": s} for k, v, s in rows],
                "checks": checks, "ok": ok})
    else:
        r.table(("check", "result", "detail"), [(c["check"], "ok" if c["ok"] else "FAILED", c["detail"])
                                                for c in checks])
    return EXIT_OK if ok else EXIT_SERVER


async def _auth_detail(resolved: ResolvedConfig, used: str) -> str:
    """What the accepted authenticated read proves: "accepted" only when the server refuses the
    same read without credentials (else they were never checked, e.g. a Kerberos ticket that a
    server without SPNEGO never asked for)."""
    from livyd._connect import build_livy_client

    if str(resolved.profile.auth.type) == "none":
        return "none configured; the server answered without it"
    try:
        async with build_livy_client(resolved, use_auth=False) as anonymous:
            await anonymous.list_sessions(size=1)
    except (AuthenticationError, ForbiddenError):
        return f"accepted {used} (the server refuses requests without it)"
    except LivydError:
        return f"accepted {used}"
    return f"{used} not checked: the server answers without authentication too"


async def _check_webhdfs(resolved: ResolvedConfig) -> dict[str, Any]:
    """GETHOMEDIRECTORY through the profile's WebHDFS URL, with the same auth as Livy."""
    from livyd._connect import build_webhdfs_client

    try:
        async with build_webhdfs_client(resolved, interactive=sys.stdin.isatty()) as hdfs:
            home = await hdfs.home()
    except LivydError as exc:
        return {"check": "webhdfs", "ok": False, "detail": str(exc)}
    return {"check": "webhdfs", "ok": True, "detail": f"home directory {home}"}


_COMMANDS: dict[str, Command] = {
    "exec": cmd_exec,
    "run": cmd_run,
    "sessions": cmd_sessions,
    "logs": cmd_logs,
    "batch": cmd_batch,
    "doctor": cmd_doctor,
}


def _register_devloop() -> None:
    from livyd.cli._devloop import COMMANDS

    _COMMANDS.update(COMMANDS)


_register_devloop()
