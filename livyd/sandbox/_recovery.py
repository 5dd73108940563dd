"""``--recovery DIR``: sessions survive a restart, like Livy with ``livy.server.recovery.mode =
recovery`` and a filesystem state store (``livy.server.recovery.state-store.url``).

Livy with recovery brings every active interactive session back after a restart with the same
id, name, appId, kind, owner and proxyUser, and its driver (which kept running on YARN) still has
the statements. The sandbox does the same for what a client can compare, so that a client can be
tested against both kinds of restart (the same ``/sessions/0`` coming back, or a fresh server
handing ``/sessions/0`` to someone else):

* every session gets a YARN-like ``appId`` (``application_<sandbox start ms>_<nnnn>``), so two
  sandboxes never give two sessions the same one;
* when the sandbox stops (SIGINT/SIGTERM), the records of the active sessions are written to
  ``DIR/sessions.json``: the request as sent, id, name, appId, kind, owner, proxyUser and every
  retained statement (id, code, kind, state, output, started, completed), plus the next id;
* when it starts with the same ``DIR``, they come back in state ``recovering`` (then ``idle``
  once a fresh REPL runs), and new sessions get ids after theirs.

What it cannot bring back is a running process: the REPL (and its variables) starts afresh, and
a statement that was waiting or running when the sandbox stopped comes back finished with Livy's
``Interpreter died`` error output, saying so. A SIGKILL writes nothing (Livy writes its state store
as it goes). Without ``--recovery`` a restarted sandbox starts empty and numbers sessions from 0,
as Livy does.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from livyd.sandbox._sessions import Session, Statement, now_ms, spark_submit_env

if TYPE_CHECKING:
    from livyd.sandbox._livy import LivyApp

__all__ = ["Recovery"]

log = structlog.get_logger()

_FORMAT = 1
_UNFINISHED = frozenset({"waiting", "running", "cancelling"})


class Recovery:
    """The state store of one sandbox: ``DIR/sessions.json``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "sessions.json"
        self.epoch = int(time.time() * 1000)

    def app_id(self, session_id: int) -> str:
        """A YARN-like application id, unique to this sandbox run."""
        return f"application_{self.epoch}_{session_id + 1:04d}"

    # ------------------------------------------------------------------ save

    def save(self, app: LivyApp) -> None:
        """Write the records of the active sessions (atomically: a temporary file, then rename)."""
        manager = app.sessions
        records = [_record(s) for s in manager.sessions.values() if s.active]
        data = {"format": _FORMAT, "next_id": manager.next_id, "sessions": records}
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, self.path)
        log.info("recovery state written", sessions=len(records), path=str(self.path))

    # ------------------------------------------------------------------ restore

    def restore(self, app: LivyApp) -> int:
        """Bring back the sessions of the last run; return how many."""
        if not self.path.is_file():
            return 0
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                raise ValueError(f"unknown format {data.get('format') if isinstance(data, dict) else data!r}")
        except (OSError, ValueError) as exc:
            raise ValueError(f"--recovery {self.directory}: cannot read {self.path.name}: {exc}") from None
        manager = app.sessions
        restored = 0
        for record in data.get("sessions", []):
            session = _session(app, record)
            session.server_state = "recovering"
            manager.add(session)
            restored += 1
        manager.skip_ids_below(int(data.get("next_id", 0)))
        log.info("sessions recovered", sessions=restored, path=str(self.path))
        return restored


def _record(session: Session) -> dict[str, Any]:
    return {
        "id": session.id, "name": session.name, "appId": session.app_id, "kind": session.kind,
        "owner": session.owner, "proxyUser": session.proxy_user, "request": session.request,
        "idle_timeout": session.idle_timeout,
        "statements": [{"id": st.id, "code": st.code, "kind": st.kind, "state": st.state, "output": st.output,
                        "progress": st.progress, "started": st.started, "completed": st.completed}
                       for st in session.statements],
    }


def _session(app: LivyApp, record: dict[str, Any]) -> Session:
    body: dict[str, Any] = record.get("request") or {}
    sid = int(record["id"])
    # the session's resources are resolved again from the request, as the create did
    jars = app._resolve_all(body.get("jars", []), "jars")
    py_files = app._resolve_all(body.get("pyFiles", []), "pyFiles")
    files = app._resolve_staged(body.get("files", []), "files")
    archives = app._resolve_staged(body.get("archives", []), "archives")
    env_extra = spark_submit_env(jars, body.get("conf", {}), body.get("name") or f"livy-session-{sid}")
    session = Session(id=sid, request=body, kind=record["kind"], owner=record.get("owner"),
                      proxy_user=record.get("proxyUser"), options=app.options,
                      idle_timeout=record.get("idle_timeout"), sys_path=[str(p) for p in py_files],
                      archives=archives, files=files, env_extra=env_extra)
    session.app_id = record.get("appId")
    for item in record.get("statements", []):
        st = Statement(id=int(item["id"]), code=item["code"], kind=item.get("kind", "pyspark"),
                       state=item["state"], output=item.get("output"),
                       progress=float(item.get("progress", 0)),
                       started=int(item.get("started") or 0), completed=int(item.get("completed") or 0))
        if st.state in _UNFINISHED:
            st.state, st.progress, st.completed = "available", 1.0, now_ms()
            st.output = {"status": "error", "execution_count": st.id, "ename": "Error",
                         "evalue": "Interpreter died:\nthe livyd sandbox restarted while this statement was "
                                   f"{item['state']} (--recovery keeps sessions and statement records, not "
                                   "the running process)", "traceback": []}
        session.statements.append(st)
    session.restore_statement_ids()
    return session
