"""Helpers shared by the Kerberos conftest and tests.

``tests/`` is not a package (pytest's rootdir conftest layout), and a nested ``conftest.py`` cannot
``from conftest import ...`` its parent (the name is its own), so the root conftest's ``require``
(skip locally, fail under CI=true) is loaded here by path under a private module name.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

_ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


def _root() -> ModuleType:
    name = "_livyd_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _ROOT_CONFTEST)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def require(condition: object, what: str) -> None:
    """The root conftest's ``require``: skip locally naming *what*, fail under CI=true."""
    _root().require(condition, what)


def has_module(name: str) -> bool:
    try:
        return bool(_root().has_module(name))
    except ModuleNotFoundError:  # find_spec of a submodule whose parent is missing
        return False


SandboxProcess: Any = _root().SandboxProcess
