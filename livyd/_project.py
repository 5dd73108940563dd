"""A local project: its root, the scripts and packages to deploy, and what never leaves the machine.

**Root.** The directory of the project ``livyd.toml``, else the git root (the nearest parent with
``.git``), else the working directory. Nothing outside it is ever discovered, zipped or uploaded.

**Discovery** (``[deploy]`` in livyd.toml): ``scripts`` and ``package_dirs`` are directory names
(default ``scripts`` and ``modules``, as the REPL scripts people use today look for) searched
*up* from the working directory to the root, then *down* from it (breadth first, a few levels);
the nearest match of each name wins. Scripts are the ``*.py`` files directly in the scripts dir;
packages are ``deploy.packages`` when given (names found in the package dirs, or paths relative
to the root), else every directory with an ``__init__.py`` in the package dirs.

**Exclusions** (:class:`Excluder`), so that secrets and junk never reach the cluster: caches
(``__pycache__``, ``*.pyc``, ``.mypy_cache``, ...), VCS dirs, virtual environments (``pyvenv.cfg``),
``*.egg-info``, ``.env*`` files, Kerberos keytabs (``*.keytab`` or the keytab magic bytes), symlinks
that lead outside the root, git-ignored files (``git check-ignore``; without git, the ``.gitignore``
files are parsed), and ``deploy.exclude`` glob patterns. Every exclusion is recorded with its reason.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from livyd._config import DeployConfig

__all__ = ["Excluder", "Project", "discover_project", "project_root"]

_JUNK_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".tox", ".nox", ".mypy_cache",
                        ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "node_modules", ".venv",
                        "venv", ".eggs", ".idea", ".vscode"})
_JUNK_FILES = ("*.pyc", "*.pyo", ".DS_Store", "*.swp", "*~")
_SECRET_FILES = (".env", ".env.*", "*.keytab", ".netrc", ".pgpass", "id_rsa*", "id_ecdsa*", "id_ed25519*",
                 "*.p12", "*.pfx", "*.jks", "*.pem.key")
_KEYTAB_MAGIC = (b"\x05\x01", b"\x05\x02")
_DOWN_DEPTH = 3


def project_root(cwd: Path, config_root: Path | None = None) -> tuple[Path, str]:
    """``(root, why)``: the livyd.toml's directory, else the git root, else *cwd*."""
    here = cwd.resolve()
    if config_root is not None:
        return config_root.resolve(), "livyd.toml"
    for directory in (here, *here.parents):
        if (directory / ".git").exists():
            return directory, "git root"
    return here, "working directory"


def _git_root(root: Path) -> Path | None:
    for directory in (root, *root.parents):
        if (directory / ".git").exists():
            return directory
    return None


class Excluder:
    """Decides what under *root* may be deployed; ``excluded`` lists ``(relative path, reason)``."""

    def __init__(self, root: Path, patterns: Sequence[str] = ()) -> None:
        self.root = root.resolve()
        self.patterns = tuple(patterns)
        self.excluded: list[tuple[str, str]] = []
        self._ignored: set[str] = set()
        self._primed: list[Path] = []
        self._gitignore_rules: list[tuple[Path, str, bool]] | None = None

    def _rel(self, path: Path) -> str:
        if path == self.root:
            return "."
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:  # a relative or unresolved spelling of a path under the root
            return Path(os.path.relpath(os.path.abspath(path), self.root)).as_posix()

    def reason(self, path: Path, *, git: bool = True) -> str | None:
        """Why *path* (under the root, not resolved) must not be deployed, or ``None``; *git*
        ``False`` skips the git-ignore check (cheap checks only, for searching directories)."""
        name = path.name
        rel = self._rel(path)
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):
                return "a broken symlink"
            if target != self.root and self.root not in target.parents:
                return "a symlink leading outside the project root"
        if path.is_dir():
            if name in _JUNK_DIRS or name.endswith(".egg-info"):
                return "a cache, VCS or virtual-environment directory"
            if (path / "pyvenv.cfg").exists():
                return "a virtual environment"
        else:
            if any(fnmatch.fnmatch(name, p) for p in _SECRET_FILES):
                return "a secrets file (.env*, keytab, .netrc, SSH or PKCS#12 key)"
            if any(fnmatch.fnmatch(name, p) for p in _JUNK_FILES):
                return "a cache file"
            if not name.endswith(".py") and _is_keytab(path):
                return "a Kerberos keytab"
        for pattern in self.patterns:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern):
                return f"deploy.exclude pattern {pattern!r}"
        if git and self._is_ignored(path):
            return "ignored by git"
        return None

    def allowed(self, path: Path) -> bool:
        why = self.reason(path)
        if why is not None:
            self.excluded.append((self._rel(path), why))
        return why is None

    def walk(self, directory: Path, _seen: set[Path] | None = None) -> list[Path]:
        """Every deployable file under *directory*, sorted, skipping excluded dirs whole (a
        symlinked directory inside the root is followed once: loops end)."""
        seen = _seen if _seen is not None else set()
        real = directory.resolve()
        if real in seen:
            return []
        seen.add(real)
        out: list[Path] = []
        self.prime(directory)
        for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
            here = Path(dirpath)
            keep = []
            for d in sorted(dirnames):
                sub = here / d
                if sub.is_symlink():
                    if self.allowed(sub):
                        out.extend(self.walk(sub, seen))  # inside the root: its files, once
                    continue
                if self.allowed(sub):
                    keep.append(d)
            dirnames[:] = keep
            for f in sorted(filenames):
                path = here / f
                if self.allowed(path):
                    out.append(path)
        return sorted(set(out), key=lambda p: p.as_posix())

    # ------------------------------------------------------------------ git

    def prime(self, directory: Path) -> None:
        """Ask git once about everything under *directory* (``git check-ignore --stdin``); without
        git (or outside a repository) read the ``.gitignore`` files that apply to it instead.
        Only *directory*'s own subtree is read, never the whole root."""
        directory = Path(os.path.abspath(directory))
        if any(directory == d or d in directory.parents for d in self._primed):
            return
        self._primed.append(directory)
        git = shutil.which("git")
        top = _git_root(self.root)
        if git is None or top is None or not self._ask_git(git, top, directory):
            merged = [*(self._gitignore_rules or []), *_read_gitignores(self.root, directory)]
            self._gitignore_rules = list(dict.fromkeys(merged))  # order kept: later rules win

    def _ask_git(self, git: str, top: Path, directory: Path) -> bool:
        candidates: list[str] = [os.path.relpath(directory, top)]
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames[:] = [d for d in dirnames if d not in _JUNK_DIRS]
            for entry in (*dirnames, *filenames):
                candidates.append(os.path.relpath(os.path.join(dirpath, entry), top))
        try:
            proc = subprocess.run([git, "-C", str(top), "check-ignore", "-z", "--stdin"],
                                  input="\0".join(candidates).encode(), capture_output=True,
                                  timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            return False
        if proc.returncode not in (0, 1):  # 128: not a repository after all
            return False
        answer = proc.stdout.decode(errors="replace").split("\0")
        self._ignored.update((top / p).as_posix() for p in answer if p)
        return True

    def _is_ignored(self, path: Path) -> bool:
        self.prime(path if path.is_dir() else path.parent)
        if Path(os.path.abspath(path)).as_posix() in self._ignored or path.as_posix() in self._ignored:
            return True
        if self._gitignore_rules:
            return _matches_gitignore(self._gitignore_rules, path)
        return False


def _is_keytab(path: Path) -> bool:
    try:
        if path.stat().st_size > 1 << 20:
            return False
        with path.open("rb") as f:
            return f.read(2) in _KEYTAB_MAGIC
    except OSError:
        return False


def _read_gitignores(root: Path, directory: Path) -> list[tuple[Path, str, bool]]:
    """``(base dir, pattern, negated)`` from the .gitignore files that apply to *directory*: those
    of its ancestors up to *root*, and those inside it (no git available)."""
    files: list[Path] = []
    here = Path(os.path.abspath(directory))
    for ancestor in (here, *here.parents):
        files.insert(0, ancestor / ".gitignore")  # the root's first: deeper files win
        if ancestor == root or root not in ancestor.parents:
            break
    for dirpath, dirnames, filenames in os.walk(here):
        dirnames[:] = [d for d in dirnames if d not in _JUNK_DIRS]
        if ".gitignore" in filenames and Path(dirpath) != here:
            files.append(Path(dirpath) / ".gitignore")
    rules: list[tuple[Path, str, bool]] = []
    for gitignore in files:
        try:
            text = gitignore.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.rstrip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            rules.append((gitignore.parent, line[1:] if negated else line, negated))
    return rules


def _matches_gitignore(rules: Iterable[tuple[Path, str, bool]], path: Path) -> bool:
    ignored = False
    for base, pattern, negated in rules:
        if base != path and base not in path.parents:
            continue
        rel = path.relative_to(base).as_posix()
        dir_only = pattern.endswith("/")
        pat = pattern.rstrip("/")
        if dir_only and not path.is_dir():
            # a file inside an ignored dir is covered by the dir being skipped
            parts = rel.split("/")[:-1]
            if not any(_glob(pat, "/".join(parts[: i + 1]), anchored="/" in pat) for i in range(len(parts))):
                continue
            ignored = not negated
            continue
        if _glob(pat, rel, anchored="/" in pat):
            ignored = not negated
    return ignored


def _glob(pattern: str, rel: str, *, anchored: bool) -> bool:
    pattern = pattern.lstrip("/")
    regex = fnmatch.translate(pattern).replace(".*", "[^/]*").replace("[^/]*[^/]*", ".*")
    if anchored:
        return re.match(regex, rel) is not None
    return any(re.match(regex, part) for part in [rel, *rel.split("/")])


@dataclass(frozen=True)
class Project:
    """What :func:`discover_project` found."""

    root: Path
    root_reason: str
    name: str
    scripts: tuple[Path, ...] = ()
    packages: tuple[Path, ...] = ()
    excluded: tuple[tuple[str, str], ...] = field(default=())

    @property
    def marked(self) -> bool:
        """True when a livyd.toml or a git repository says where the project is. Auto-deploy only
        runs for a marked project: from an arbitrary directory (a home directory) it would upload
        whatever ``scripts``/``modules`` dirs happen to lie below; ``livyd deploy`` still can."""
        return self.root_reason != "working directory"

    def describe(self) -> list[str]:
        lines = [f"project root: {self.root} ({self.root_reason})"]
        lines += [f"script: {p.relative_to(self.root)}" for p in self.scripts]
        lines += [f"package: {p.relative_to(self.root)}" for p in self.packages]
        return lines


def _inside(root: Path, path: Path) -> bool:
    resolved = path.resolve()
    return resolved == root or root in resolved.parents


def _find_dir(name: str, cwd: Path, root: Path, excluder: Excluder) -> Path | None:
    """The nearest directory called *name*: up from *cwd* to *root*, then down (breadth first)."""
    here = cwd.resolve()
    if not _inside(root, here):
        here = root
    for directory in (here, *here.parents):
        candidate = directory / name
        if candidate.is_dir() and _inside(root, candidate) and excluder.reason(candidate, git=False) is None:
            return candidate
        if directory == root:
            break
    level = [here]
    for _ in range(_DOWN_DEPTH):
        nxt: list[Path] = []
        for directory in level:
            try:
                children = sorted(p for p in directory.iterdir() if p.is_dir())
            except OSError:
                continue
            for child in children:
                if excluder.reason(child, git=False) is not None:
                    continue
                if child.name == name and _inside(root, child):
                    return child
                nxt.append(child)
        level = nxt
    return None


def discover_project(cfg: DeployConfig, *, cwd: Path, config_root: Path | None = None) -> Project:
    """Find the project's root, scripts and packages (see the module docstring)."""
    root, why = project_root(cwd, config_root)
    excluder = Excluder(root, cfg.exclude)
    scripts: list[Path] = []
    for name in cfg.scripts:
        found = _find_dir(name, cwd, root, excluder)
        if found is not None:
            scripts.extend(p for p in sorted(found.glob("*.py")) if p.is_file() and excluder.allowed(p))
    package_dirs = [d for d in (_find_dir(n, cwd, root, excluder) for n in cfg.package_dirs) if d is not None]
    packages: list[Path] = []
    if cfg.packages:
        for entry in cfg.packages:
            candidate = (root / entry) if ("/" in entry or (root / entry).is_dir()) else None
            if candidate is None:
                candidate = next((d / entry for d in package_dirs if (d / entry / "__init__.py").is_file()),
                                 None)
            if candidate is None or not (candidate / "__init__.py").is_file():
                from livyd._exceptions import ConfigError

                raise ConfigError(f"deploy.packages: {entry!r} is not a package (a directory with "
                                  f"__init__.py) under {root} or in the package dirs "
                                  f"({', '.join(cfg.package_dirs) or 'none'})", key="deploy.packages")
            if not _inside(root, candidate):
                from livyd._exceptions import ConfigError

                raise ConfigError(f"deploy.packages: {entry!r} is outside the project root {root}",
                                  key="deploy.packages")
            packages.append(candidate)
    else:
        for directory in package_dirs:
            for child in sorted(directory.iterdir()):
                if child.is_dir() and (child / "__init__.py").is_file() and excluder.allowed(child):
                    packages.append(child)
    for package in dict.fromkeys(packages):
        excluder.walk(package)  # records what the zips will leave out, for --dry-run
    return Project(root=root, root_reason=why, name=root.name, scripts=tuple(scripts),
                   packages=tuple(dict.fromkeys(packages)), excluded=tuple(dict.fromkeys(excluder.excluded)))
