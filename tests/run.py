#!/usr/bin/env python3
"""Set up and run livyd's whole test suite: ``python3 tests/run.py``.

Needs nothing but Python 3.11+. It creates (or reuses) ``.venv`` next to this repository,
installs livyd editable with its test, spark and (when the Kerberos development files are
present) kerberos extras, then runs ruff, ``mypy --strict`` on livyd/, and pytest.
Extra arguments are passed to pytest (``python3 tests/run.py -k sandbox -x``).

Under CI=true every test must run: a skip fails the run (see tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("LIVYD_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / "python"


def step(title: str) -> float:
    print(f"\n=== {title}", flush=True)
    return time.monotonic()


def run(*cmd: str | Path, check: bool = True) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    rc = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if check and rc != 0:
        shown = " ".join(str(c) for c in cmd[:3])
        print(f"tests/run.py: {shown} ... failed with exit status {rc}", flush=True)
        sys.exit(rc)
    return rc


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before anything is installed
        sys.exit(f"tests/run.py: livyd needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    t0 = step(f"virtual environment {VENV}")
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PY, "-m", "pip", "install", "-q", "-U", "pip")
    extras = ["test", "spark"]
    if shutil.which("krb5-config"):
        extras += ["kerberos", "kerberos-test"]
    else:
        print("note: krb5-config not found (Debian: libkrb5-dev krb5-kdc krb5-admin-server krb5-user);"
              " the Kerberos tests will skip", flush=True)
    run(PY, "-m", "pip", "install", "-q", "-e", f".[{','.join(extras)}]")
    print(f"installed in {time.monotonic() - t0:.0f} s", flush=True)

    step("ruff")
    run(BIN / "ruff", "check", *[d for d in ("livyd", "tests", "bench", "examples") if (ROOT / d).is_dir()])
    step("mypy --strict livyd")
    run(BIN / "mypy", "livyd")

    step("pytest")
    rc = run(PY, "-m", "pytest", *sys.argv[1:], check=False)
    if rc == 5:
        print("tests/run.py: pytest collected no tests", flush=True)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
