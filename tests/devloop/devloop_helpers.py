"""Helpers for the development-loop tests: a small project on disk."""

from __future__ import annotations

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
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def set_value(root: Path, value: int) -> None:
    (root / "modules" / "demopkg" / "core.py").write_text(f"def f():\n    return {value}\n")
