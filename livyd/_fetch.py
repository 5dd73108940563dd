"""Data out: rows of a DataFrame (or a SQL query's result) from a session to this machine, in pages.

Livy caps a ``sql`` statement's result at 1000 rows (livy.rsc.sql.num-rows) and gateways cap
response sizes, so :func:`fetch_rows` pages: a first statement opens an iterator on the driver
(``DataFrame.limit(limit).toLocalIterator()`` for Spark; plain iteration for a pandas DataFrame or
a list of rows/dicts), each further statement takes the next *page* rows as JSON, and the last
one drops the iterator. *what* is a SQL query (``SELECT``/``WITH``/``SHOW``/``DESCRIBE``...,
run with ``spark.sql``) or the name of a variable in the session.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from livyd._exceptions import ConfigError, LivydError, StatementFailedError

if TYPE_CHECKING:
    from livyd._client import LivyClient

__all__ = ["fetch_rows"]

_SQL = re.compile(r"^\s*(select|with|show|describe|desc|table|values)\b", re.IGNORECASE)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
MARKER = "__livyd_fetch__ "

_OPEN = r'''
def _livyd_fetch_open(expr, is_sql, limit):
    import itertools
    obj = spark.sql(expr) if is_sql else eval(expr, globals())
    if hasattr(obj, "toLocalIterator") and hasattr(obj, "columns"):
        cols = list(obj.columns)
        it = (tuple(r) for r in obj.limit(limit).toLocalIterator())
    elif hasattr(obj, "itertuples") and hasattr(obj, "columns"):
        cols = [str(c) for c in obj.columns]
        it = (tuple(r) for r in obj.head(limit).itertuples(index=False))
    else:
        rows = list(itertools.islice(iter(obj), limit))
        if rows and isinstance(rows[0], dict):
            cols = list(rows[0].keys())
            it = iter([tuple(r.get(c) for c in cols) for r in rows])
        else:
            width = len(rows[0]) if rows else 0
            cols = [str(i) for i in range(width)]
            it = iter([tuple(r) for r in rows])
    globals()["_livyd_fetch_it"] = it
    return cols
'''

_NEXT = r'''
def _livyd_fetch_next(size):
    import itertools, json
    rows = list(itertools.islice(globals()["_livyd_fetch_it"], size))
    print("__livyd_fetch__ " + json.dumps(rows, default=str))
'''


async def _run(client: LivyClient, sid: int, code: str) -> str:
    st = await client.run_statement(sid, code, kind="pyspark")
    out = st.output
    if out is None:
        raise LivydError(f"fetch: statement {st.id} ended without output")
    if str(getattr(out.status, "value", out.status)) == "error":
        raise StatementFailedError(f"{out.ename}: {out.evalue}", ename=out.ename or "Error",
                                   evalue=out.evalue or "", traceback=out.traceback or [], session_id=sid,
                                   statement_id=st.id)
    text = str((out.data or {}).get("text/plain", ""))
    for line in reversed(text.splitlines()):
        if line.startswith(MARKER):
            return line[len(MARKER):]
    raise LivydError(f"fetch: statement {st.id}: no result line in its output")


async def fetch_rows(client: LivyClient, session_id: int, what: str, *, limit: int = 10_000,
                     page: int = 1000) -> tuple[list[str], list[list[Any]]]:
    """``(columns, rows)``: at most *limit* rows of *what*, *page* rows per statement."""
    if limit < 0 or page <= 0:
        raise ConfigError(f"fetch: limit must be >= 0 and page > 0 (got {limit}, {page})", key="limit")
    is_sql = bool(_SQL.match(what))
    if not is_sql and not _NAME.match(what.strip()):
        raise ConfigError(f"fetch: {what!r} is neither a SQL query nor a variable name", key="WHAT")
    call = f"_livyd_fetch_open({what.strip()!r}, {is_sql!r}, {limit})"
    opened = await _run(client, session_id,
                        _OPEN + _NEXT + f"print({MARKER!r} + __import__('json').dumps({call}))")
    columns = [str(c) for c in json.loads(opened)]
    rows: list[list[Any]] = []
    try:
        while len(rows) < limit:
            size = min(page, limit - len(rows))
            chunk = json.loads(await _run(client, session_id, f"_livyd_fetch_next({size})"))
            rows.extend(chunk)
            if len(chunk) < size:
                break
    finally:
        cleanup = "; ".join(f"globals().pop({n!r}, None)"
                            for n in ("_livyd_fetch_it", "_livyd_fetch_open", "_livyd_fetch_next"))
        await client.run_statement(session_id, cleanup, kind="pyspark")
    return columns, rows
