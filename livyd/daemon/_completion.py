"""``textDocument/completion`` from the attached live session.

Scala sessions ask Livy's ``/completion``. For Python sessions a tiny statement runs
``rlcompleter`` over the session's globals, but only when the session is idle and the daemon has
no task on it, so it is never queued behind (or in front of) the user's work; it is cancelled on
Livy if it outlives its time limit, and also when the editor cancels the completion request
(``$/cancelRequest``): a statement livyd started is never left running.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import anyio

from livyd._exceptions import LivydError

if TYPE_CHECKING:
    from livyd.daemon._workers import SessionWorker

__all__ = ["complete"]

_PY_COMPLETE = """\
def __livyd_complete(prefix):
    import json, rlcompleter
    completer = rlcompleter.Completer(globals())
    found = []
    while len(found) < 200:
        item = completer.complete(prefix, len(found))
        if item is None:
            break
        found.append(item)
    print(json.dumps(found))
__livyd_complete({prefix!r})
del __livyd_complete
"""


async def complete(w: SessionWorker | None, prefix_line: str, column: int, *, limit_s: float = 2.0
                   ) -> list[str]:
    """Completion candidates from session *w* (the attached one), or ``[]``."""
    api = w.conn.api if w is not None else None
    if api is None or w is None or w.gone or w.state != "idle" or w.pending():
        return []
    kind = str(w.session.kind) if w.session is not None else "pyspark"
    if kind in ("spark", "scala"):
        with anyio.move_on_after(limit_s):
            return await api.completion(w.session_id, prefix_line, "spark", column)
        return []
    m = re.search(r"[A-Za-z_][\w.]*$", prefix_line[:column])
    if m is None:
        return []
    st = await api.submit_statement(w.session_id, _PY_COMPLETE.format(prefix=m.group(0)), kind="pyspark")
    finished = False
    try:
        with anyio.move_on_after(limit_s):
            while not st.state.is_terminal:
                await anyio.sleep(0.05)
                st = await api.get_statement(w.session_id, st.id)
            finished = True
    finally:
        if not finished:  # timed out, or the request was cancelled: cancel the statement too
            with anyio.move_on_after(5, shield=True):
                try:
                    await api.cancel_statement(w.session_id, st.id)
                except LivydError:
                    pass
    if not finished:
        return []
    out = st.output
    text = out.data.get("text/plain") if out is not None and out.status == "ok" and out.data else None
    try:
        items = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return [str(i) for i in items if isinstance(i, str)]
