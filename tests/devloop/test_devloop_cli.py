"""``livyd hdfs|deploy|reload|build-standalone``, staged batches and ``--dry-run`` as subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from devloop_helpers import ensure_home, make_project, set_value

ROOT = Path(__file__).resolve().parents[2]
USER = "cliuser"


def _env(tmp_path: Path, sb: Any, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LIVY", "PROXY_USER", "AD_USER", "TEAM_ENV")) and k != "XDG_CONFIG_HOME"}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PYTHONUNBUFFERED="1",
               LIVY_URL=sb.livy_url, LIVY_WEBHDFS_URL=sb.webhdfs_url, AD_USER=USER,
               LIVY_REMOTE_DIR=f"/user/{USER}/{tmp_path.name}", LIVYD_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env.update(extra)
    return env


def livyd(*args: str, cwd: Path, env: dict[str, str],
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "livyd", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def batch_sandbox(sandbox_factory: Any) -> Any:
    sb = sandbox_factory("--batch-launcher", "python")  # .py batches without a JVM
    ensure_home(sb.webhdfs_url, USER)
    return sb


def test_hdfs_put_ls_get_rm_and_refusals(batch_sandbox: Any, tmp_path: Path) -> None:
    env = _env(tmp_path, batch_sandbox)
    work = tmp_path / "w"
    work.mkdir()
    (work / "a.txt").write_text("hello")
    put = livyd("--json", "hdfs", "put", "a.txt", cwd=work, env=env)
    assert put.returncode == 0, put.stderr
    doc = json.loads(put.stdout)
    assert doc["uploaded"] and doc["remote"] == f"/user/{USER}/{tmp_path.name}/a.txt"
    again = json.loads(livyd("--json", "hdfs", "put", "a.txt", cwd=work, env=env).stdout)
    assert again["uploaded"] is False  # unchanged: not sent again
    listed = json.loads(livyd("--json", "hdfs", "ls", cwd=work, env=env).stdout)
    assert [e["pathSuffix"] for e in listed] == ["a.txt"]
    got = livyd("hdfs", "get", "a.txt", "back.txt", cwd=work, env=env)
    assert got.returncode == 0 and (work / "back.txt").read_text() == "hello"
    refused = livyd("hdfs", "rm", f"/user/{USER}/elsewhere", cwd=work, env=env)
    assert refused.returncode == 2 and "outside the remote base dir" in refused.stderr
    home = livyd("hdfs", "rm", "-r", "--force", f"/user/{USER}", cwd=work, env=env)
    assert home.returncode == 2 and "home directory" in home.stderr
    assert livyd("hdfs", "rm", "a.txt", cwd=work, env=env).returncode == 0
    tree = work / "conf"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "app.properties").write_text("a=1\n")
    (tree / ".env.prod").write_text("LIVY_PASSWORD=x\n")
    doc = json.loads(livyd("--json", "hdfs", "put", "conf", cwd=work, env=env).stdout)
    assert [Path(f["remote"]).name for f in doc["files"]] == ["app.properties"]
    assert doc["excluded"][0]["path"] == ".env.prod"


def test_deploy_twice_sends_nothing_the_second_time(batch_sandbox: Any, tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    env = _env(tmp_path, batch_sandbox)
    dry = json.loads(livyd("--json", "deploy", "--dry-run", cwd=root, env=env).stdout)
    excluded = {e["path"]: e["reason"] for e in dry["excluded"]}
    assert excluded["modules/demopkg/local_only.py"] == "ignored by git"
    assert "keytab" in excluded["modules/demopkg/service.keytab"]
    assert "secrets" in excluded["modules/demopkg/.env"]
    first = json.loads(livyd("--json", "deploy", cwd=root, env=env).stdout)
    assert [f["uploaded"] for f in first["files"]] == [True, True]
    second = json.loads(livyd("--json", "deploy", cwd=root, env=env).stdout)
    assert [f["uploaded"] for f in second["files"]] == [False, False]
    assert second["pyFiles"] == first["pyFiles"]
    # --dry-run: the session body with what auto-deploy adds, each value's source, nothing sent
    dry_exec = json.loads(livyd("--json", "exec", "--dry-run", "1 + 1", cwd=root, env=env).stdout)
    create, statement = dry_exec["requests"]
    assert create["body"]["pyFiles"] == first["pyFiles"] and statement["body"] == {"code": "1 + 1"}
    assert create["sources"]["pyFiles[0]"].startswith("auto-deploy of ")
    # reload without --session never guesses a session it cannot tell is livyd's
    (root / "livyd.toml").write_text(f'[session]\nname_prefix = "{tmp_path.name[-12:]}x"\n')
    guessed = livyd("reload", cwd=root, env=env)
    assert guessed.returncode in (2, 3) and "--session" in guessed.stderr, guessed.stderr


def test_exec_auto_deploys_then_reload(batch_sandbox: Any, tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", value=1)
    env = _env(tmp_path, batch_sandbox)
    ran = livyd("--json", "exec", "--keep", "import demopkg; demopkg.f()", cwd=root, env=env)
    assert ran.returncode == 0, ran.stderr
    out = json.loads(ran.stdout)
    sid = str(out["sessionId"])
    assert out["data"]["text/plain"] == "1"
    try:
        set_value(root, 4)
        reloaded = livyd("--json", "reload", "--session", sid, cwd=root, env=env)
        assert reloaded.returncode == 0, reloaded.stderr
        assert "demopkg.core" in json.loads(reloaded.stdout)["results"][0]["reloaded"]
        check = livyd("exec", "--session", sid, "demopkg.f()", cwd=root, env=env)
        assert check.stdout.strip() == "4"
        params = livyd("params", "--session", sid, "--", "--day", "2024-01-01", cwd=root, env=env)
        assert params.returncode == 0, params.stderr
        livyd("exec", "--session", sid, "import sys; rows = [(i, i * i) for i in range(1500)]",
              cwd=root, env=env)
        assert livyd("exec", "--session", sid, "sys.argv", cwd=root, env=env
                     ).stdout.strip() == "['livyd', '--day', '2024-01-01']"
        fetched = livyd("fetch", "--session", sid, "--limit", "1200", "rows", cwd=root, env=env)
        lines = fetched.stdout.splitlines()
        assert len(lines) == 1201 and lines[-1] == "1199,1437601", fetched.stderr  # past the 1000 cap
        # the session's package zip on HDFS is older than the local code: "changed"; refresh fixes it
        deps = json.loads(livyd("--json", "deps", "--session", sid, cwd=root, env=env).stdout)
        status = {Path(d["uri"]).name: d["status"] for d in deps["dependencies"]}
        assert status == {"job.py": "active", "demopkg.zip": "changed"}
        refreshed = livyd("--json", "deps", "--refresh", "--session", sid, cwd=root, env=env)
        assert refreshed.returncode == 0, refreshed.stderr
        doc = json.loads(refreshed.stdout)
        assert {d["status"] for d in doc["dependencies"]} == {"active"}
        sid = str(doc["session"])
        assert livyd("exec", "--session", sid, "import demopkg; demopkg.f()", cwd=root, env=env
                     ).stdout.strip() == "4"
    finally:
        livyd("sessions", "kill", sid, cwd=root, env=env)


def test_batch_staged_and_followed_and_dry_run(batch_sandbox: Any, tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", value=6)
    env = _env(tmp_path, batch_sandbox, LIVY_CONF='{"spark.my.password": "hunter2", "spark.a": "1"}')
    built = livyd("build-standalone", "scripts/job.py", "-o", "job_standalone.py", cwd=root, env=env)
    assert built.returncode == 0, built.stderr
    # auto: the sandbox says what it is, so the local path is sent unstaged
    dry = livyd("--json", "batch", "submit", "--dry-run", "job_standalone.py", cwd=root, env=env)
    doc = json.loads(dry.stdout)["requests"][0]
    assert doc["body"]["file"] == str((root / "job_standalone.py").resolve())
    assert "livyd's sandbox" in doc["sources"]["file"]
    assert doc["body"]["conf"]["spark.my.password"] != "hunter2" and "hunter2" not in dry.stdout
    assert doc["sources"]['conf."spark.a"'] == "LIVY_CONF (environment)"
    # always: staged to the remote dir, run, followed to the end
    run = livyd("batch", "submit", "--stage", "always", "--follow", "job_standalone.py", "--", "x", "y",
                cwd=root, env=env)
    assert run.returncode == 0, run.stderr
    assert "job 6 ['x', 'y']" in run.stdout
    assert "staged" in run.stderr and "hdfs:///user/" in run.stderr
    failing = root / "fail.py"
    failing.write_text("raise SystemExit(3)\n")
    dead = livyd("batch", "submit", "--follow", "fail.py", cwd=root, env=env)
    assert dead.returncode == 1
    missing = livyd("batch", "submit", "nope.py", cwd=root, env=env)
    assert missing.returncode == 2 and "nope.py" in missing.stderr and "does not exist" in missing.stderr
