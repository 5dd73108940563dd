"""Which remote (HDFS) paths livyd may delete or overwrite: a pure rule, no I/O.

A profile names a remote base dir (``webhdfs.base_dir``, e.g. ``/user/alice/livy-sessions``).
Deleting or overwriting is limited to paths *strictly inside* it unless the caller forces it; and
some paths are refused even when forced: ``/``, the user's home directory, and any ancestor of
either the home or the base dir (deleting ``/user`` takes everyone's home with it).
"""

from __future__ import annotations

import posixpath

__all__ = ["RemotePathRefused", "check_mutation", "is_inside", "normalize"]


class RemotePathRefused(ValueError):
    """The path may not be changed; the message says why and what would allow it."""

    def __init__(self, message: str, *, path: str, forceable: bool) -> None:
        super().__init__(message)
        self.path = path
        self.forceable = forceable


def normalize(path: str) -> str:
    """``/a//b/./c/..`` -> ``/a/b``; the path must be absolute."""
    if not path.startswith("/"):
        raise ValueError(f"remote path {path!r} is not absolute")
    return "/" + posixpath.normpath(path).lstrip("/")


def is_inside(path: str, directory: str) -> bool:
    """True when *path* is strictly below *directory* (both absolute)."""
    p, d = normalize(path), normalize(directory)
    return p != d and (d == "/" or p.startswith(d.rstrip("/") + "/"))


def check_mutation(path: str, *, base_dir: str | None, home: str, action: str = "delete",
                   force: bool = False) -> str:
    """Return the normalized *path* when *action* (``delete``/``overwrite``) may touch it, else
    raise :class:`RemotePathRefused`.

    Always refused: ``/``, *home* and their ancestors, and the ancestors of *base_dir*. Without
    *force*: anything not strictly inside *base_dir* (and everything when no base dir is known).
    """
    p = normalize(path)
    h = normalize(home)
    if p == "/":
        raise RemotePathRefused(f"refusing to {action} '/': never allowed, not even with --force",
                                path=p, forceable=False)
    if p == h or is_inside(h, p):
        what = "your home directory" if p == h else f"an ancestor of your home directory {h}"
        raise RemotePathRefused(f"refusing to {action} {p}: it is {what}; never allowed, not even "
                                "with --force", path=p, forceable=False)
    if base_dir is not None:
        b = normalize(base_dir)
        if p != b and is_inside(b, p):
            raise RemotePathRefused(f"refusing to {action} {p}: it contains the remote base dir {b}; "
                                    "never allowed, not even with --force", path=p, forceable=False)
    if force:
        return p
    if base_dir is None:
        raise RemotePathRefused(f"refusing to {action} {p}: no remote base dir is configured "
                                "(webhdfs.base_dir or LIVY_REMOTE_DIR); pass --force (force=True) to "
                                "do it anyway", path=p, forceable=True)
    b = normalize(base_dir)
    if not is_inside(p, b):
        raise RemotePathRefused(f"refusing to {action} {p}: it is outside the remote base dir {b} "
                                "(webhdfs.base_dir); pass --force (force=True) to do it anyway",
                                path=p, forceable=True)
    return p
