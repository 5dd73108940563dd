"""Discovery, exclusions, reproducible zips, standalone builds, the remote-path rule: no network."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from devloop_helpers import make_project, set_value

from livyd._config import DeployConfig
from livyd._core.remotepaths import RemotePathRefused, check_mutation
from livyd._packaging import zip_package
from livyd._project import Excluder, discover_project, project_root
from livyd._reload import dependency_order, module_sources
from livyd._standalone import build_standalone


def test_discovery_up_and_down_never_outside_the_root(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    # up: from a subdirectory, scripts/ and modules/ of the root are found
    deep = root / "scripts"
    project = discover_project(DeployConfig(), cwd=deep)
    assert project.root == root.resolve() and project.root_reason == "git root"
    assert [p.name for p in project.scripts] == ["job.py"]
    assert [p.name for p in project.packages] == ["demopkg"]
    # down: from the root itself
    assert [p.name for p in discover_project(DeployConfig(), cwd=root).packages] == ["demopkg"]
    # a livyd.toml's directory is the root; nothing above it is discovered
    inner = root / "sub"
    inner.mkdir()
    (inner / "livyd.toml").write_text("")
    assert project_root(inner, inner)[1] == "livyd.toml"
    assert discover_project(DeployConfig(), cwd=inner, config_root=inner).packages == ()
    # explicit packages that are not packages are named
    with pytest.raises(Exception, match="nope"):
        discover_project(DeployConfig(packages=["nope"]), cwd=root)


def test_zip_leaves_out_secrets_caches_ignored_and_outside_symlinks(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    excluder = Excluder(root)
    zipped = zip_package(root / "modules" / "demopkg", excluder)
    names = zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    assert names == ["demopkg/__init__.py", "demopkg/core.py", "demopkg/helpers.py"]
    reasons = dict(excluder.excluded)
    assert "secrets" in reasons["modules/demopkg/.env"]
    assert "keytab" in reasons["modules/demopkg/service.keytab"]
    assert reasons["modules/demopkg/local_only.py"] == "ignored by git"
    assert "outside the project root" in reasons["modules/demopkg/leak.py"]
    assert "cache" in reasons["modules/demopkg/__pycache__"]


def test_symlink_loops_inside_the_root_end(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    pkg = root / "modules" / "demopkg"
    (pkg / "sub").mkdir()
    (pkg / "sub" / "x.py").write_text("X = 1\n")
    (pkg / "sub" / "again").symlink_to(pkg / "sub", target_is_directory=True)
    (pkg / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    names = zipfile.ZipFile(io.BytesIO(zip_package(pkg, Excluder(root)).data)).namelist()
    assert "demopkg/sub/x.py" in names and "demopkg/id_rsa" not in names


def test_gitignore_is_parsed_without_git(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", git=False)
    excluder = Excluder(root)
    excluder.prime(root)
    assert excluder.reason(root / "modules" / "demopkg" / "local_only.py") == "ignored by git"


def test_zip_is_reproducible_and_changes_with_content(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    first = zip_package(root / "modules" / "demopkg", Excluder(root))
    os.utime(root / "modules" / "demopkg" / "core.py", (1, 1))  # mtimes do not matter
    assert zip_package(root / "modules" / "demopkg", Excluder(root)).data == first.data
    set_value(root, 2)
    assert zip_package(root / "modules" / "demopkg", Excluder(root)).sha256 != first.sha256


def test_standalone_is_byte_for_byte_reproducible_and_runs_without_pyfiles(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", value=7)
    pkg = root / "modules" / "demopkg"
    one = build_standalone([pkg], root / "scripts" / "job.py", root=root)
    copy = make_project(tmp_path / "copy", value=7)  # same content elsewhere: same bytes
    two = build_standalone([copy / "modules" / "demopkg"], copy / "scripts" / "job.py", root=copy)
    assert one == two
    assert "hunter2" not in one and str(root) not in one
    out = tmp_path / "job_standalone.py"
    out.write_text(one)
    proc = subprocess.run([sys.executable, str(out), "a", "b"], capture_output=True, text=True,
                          cwd=tmp_path / "copy" / "scripts", timeout=60,
                          env={**os.environ, "PYTHONPATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "job 7 ['a', 'b']"


def test_dependency_order_reloads_imports_first(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    sources = module_sources(root / "modules" / "demopkg", Excluder(root))
    assert set(sources) == {"demopkg", "demopkg.core", "demopkg.helpers"}
    order = dependency_order(sources)
    assert order.index("demopkg.core") < order.index("demopkg.helpers") < order.index("demopkg")


@pytest.mark.parametrize(("path", "force", "allowed"), [
    ("/user/alice/livyd/proj/x.zip", False, True),
    ("/user/alice/livyd/proj", False, True),
    ("/user/alice/livyd", False, False),         # the base dir itself: only forced
    ("/user/alice/livyd", True, True),
    ("/user/alice/other", False, False),
    ("/user/alice/other", True, True),
    ("/tmp/x", True, True),
    ("/", True, False),
    ("/user/alice", True, False),
    ("/user/alice/", True, False),
    ("/user", True, False),
    ("/user/alice/livyd/../../alice", True, False),
])
def test_remote_mutation_rule(path: str, force: bool, allowed: bool) -> None:
    kwargs = {"base_dir": "/user/alice/livyd", "home": "/user/alice", "force": force}
    if allowed:
        check_mutation(path, **kwargs)  # type: ignore[arg-type]
    else:
        with pytest.raises(RemotePathRefused):
            check_mutation(path, **kwargs)  # type: ignore[arg-type]


def test_devloop_settings_resolve_with_provenance(tmp_path: Path) -> None:
    import livyd

    (tmp_path / "livyd.toml").write_text('[deploy]\nscripts = ["jobs"]\ninline_limit = 0\n'
                                         '[batch]\nstage = "always"\n')
    env = {"LIVY_WEBHDFS_URL": "http://nn:9870/webhdfs/v1", "LIVY_REMOTE_DIR": "/user/a/x",
           "LIVY_BATCH_STAGE": "never"}
    cfg = livyd.load_config(cwd=tmp_path, env=env, user_config=False)
    assert cfg.profile.webhdfs.url == "http://nn:9870/webhdfs/v1"
    assert cfg.source_of("webhdfs.base_dir") == "LIVY_REMOTE_DIR (environment)"
    assert cfg.profile.batch.stage == "never" and cfg.profile.deploy.scripts == ["jobs"]
    assert cfg.source_of("deploy.inline_limit").endswith("livyd.toml:3")
    with pytest.raises(livyd.ConfigError, match=r"LIVY_BATCH_STAGE.*batch\.stage"):
        livyd.load_config(cwd=tmp_path, env={"LIVY_BATCH_STAGE": "sometimes"}, user_config=False)


@pytest.mark.parametrize("git", [True, False])
def test_discovery_reads_only_what_it_deploys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              git: bool) -> None:
    """Auto-deploy runs on every session livyd creates: it must not walk a big unrelated tree
    (a home directory, a data dir) to ask git about it."""
    import livyd._project as project_module

    root = make_project(tmp_path / "proj", git=git)
    (root / "data" / "a" / "b").mkdir(parents=True)
    walked: list[str] = []
    real_walk = os.walk

    def spy(top: Any, *args: Any, **kwargs: Any) -> Any:
        walked.append(Path(top).name)
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(project_module.os, "walk", spy)
    found = discover_project(DeployConfig(), cwd=root)
    assert [p.name for p in found.packages] == ["demopkg"]
    assert "proj" not in walked and "data" not in walked, walked


def test_auto_deploy_needs_a_marked_project(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", git=False)
    assert not discover_project(DeployConfig(), cwd=root).marked  # a bare directory
    (root / "livyd.toml").write_text("")
    assert discover_project(DeployConfig(), cwd=root, config_root=root).marked
