"""Helpers for the development-loop tests: a small project on disk."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def make_project(root: Path, *, value: int = 1, git: bool = True) -> Path:
    """A project with ``modules/demopkg`` (``core.f()`` returns *value*), ``scripts/job.py``, and
    files that must never be deployed (a .env, a keytab, a git-ignored file, a symlink outside)."""
    pkg = root / "modules" / "demopkg"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("from .core import f\nfrom . import helpers\n")
    set_value(root, value)
    (pkg / "helpers.py").write_text("from .core import f\n\ndef doubled():\n    return 2 * f()\n")
    (pkg / ".env").write_text("LIVY_PASSWORD=hunter2\n")
    (pkg / "service.keytab").write_bytes(b"\x05\x02\x00\x00\x00\x40secret")
    (pkg / "local_only.py").write_text("SECRET = 1\n")
    (pkg / "__pycache__").mkdir(exist_ok=True)
    (pkg / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"junk")
    outside = root.parent / f"{root.name}-outside.py"
    outside.write_text("LEAK = True\n")
    link = pkg / "leak.py"
    if not link.is_symlink():
        link.symlink_to(outside)
    scripts = root / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "job.py").write_text(
        "import sys\nimport demopkg\nprint('job', demopkg.f(), sys.argv[1:])\n")
    (root / ".gitignore").write_text("local_only.py\n")
    if git and not (root / ".git").exists():
        if shutil.which("git"):
            subprocess.run(["git", "init", "-q", str(root)], check=True)
        else:  # the root is still marked; livyd then parses .gitignore itself
            (root / ".git").mkdir()
    return root


def set_value(root: Path, value: int) -> None:
    (root / "modules" / "demopkg" / "core.py").write_text(f"def f():\n    return {value}\n")


def ensure_home(webhdfs_url: str, user: str) -> None:
    """Create ``/user/<user>`` owned by *user*, as the sandbox's HDFS superuser (its default
    identity), the way a cluster admin provisions home directories: the sandbox enforces HDFS
    permissions, so a test user could not create it under a ``/user`` it does not own."""
    import httpx

    base = webhdfs_url.rstrip("/")
    headers = {"X-XSRF-Header": "livyd", "X-Requested-By": "livyd"}
    with httpx.Client(timeout=30) as client:
        client.put(f"{base}/user/{user}", params={"op": "MKDIRS", "permission": "755"},
                   headers=headers).raise_for_status()
        client.put(f"{base}/user/{user}", params={"op": "SETOWNER", "owner": user},
                   headers=headers).raise_for_status()
