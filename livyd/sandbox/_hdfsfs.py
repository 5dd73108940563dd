"""The blocking file-system half of the sandbox's WebHDFS: a local directory as an HDFS namespace,
with HDFS's metadata (livyd.sandbox._hdfsmeta), permission checks and snapshots.

Every method runs in a worker thread and takes the request's :class:`PermissionChecker`. Failures
are :class:`HdfsError` (rendered as a RemoteException by the HTTP layer) with the messages the
NameNode gives.

Snapshots (facts from HDFS's snapshot documentation and SnapshotManager): the superuser marks a
directory snapshottable (ALLOWSNAPSHOT; not nested in or above another snapshottable directory),
its owner creates, renames and deletes snapshots, and ``<dir>/.snapshot/<name>/...`` reads the
directory as it was. A snapshot is a copy (data, times and metadata records) kept under the data
directory's ``.reserved/snapshots/`` -- HDFS's reserved ``/.reserved`` name, never listed and never
writable through WebHDFS -- so later writes, appends and deletes never change it. Everything under
``.snapshot`` is read-only (``SnapshotAccessControlException``), a directory with snapshots cannot
be deleted, and ``.snapshot`` is a reserved name everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from livyd.sandbox import _hdfsmeta as acl
from livyd.sandbox._hdfschecksum import file_checksum
from livyd.sandbox._hdfsmeta import (
    ALL,
    EXECUTE,
    READ,
    SUPERGROUP,
    WRITE,
    XATTR,
    Meta,
    MetaStore,
    Node,
    PermissionChecker,
    PermissionDenied,
)

__all__ = ["BLOCK_SIZE", "HdfsError", "HdfsFs", "contained", "fail", "os_error"]

BLOCK_SIZE = 134217728
LS_LIMIT = 1000  # dfs.ls.limit: entries per LISTSTATUS_BATCH page
MAX_REPLICATION = 512  # dfs.replication.max
DEFAULT_REPLICATION = 1
RESERVED = ".reserved"
#: dfs.webhdfs.acl.provider.permission.pattern's default (what an ``aclspec`` must look like).
ACL_SPEC_PATTERN = ("^(default:)?(user|group|mask|other):[[A-Za-z_][A-Za-z0-9._-]]*:([rwx-]{3})?"
                    "(,(default:)?(user|group|mask|other):[[A-Za-z_][A-Za-z0-9._-]]*:([rwx-]{3})?)*$")
#: Top-level directories every user shares: created on first use as the superuser's, mode 1777
#: (anyone may create ``/user/<name>`` or ``/tmp/x``; the sticky bit keeps users' entries theirs).
SHARED_TOP_DIRS = ("user", "tmp")
DOT_SNAPSHOT = ".snapshot"


class HdfsError(Exception):
    """A failure to render as a RemoteException (``kind`` is the simple Java class name)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def fail(kind: str, message: str) -> NoReturn:
    raise HdfsError(kind, message)


def contained(root: Path, candidate: Path) -> bool:
    return candidate == root or root in candidate.parents


def os_error(exc: OSError, hdfs_path: str) -> HdfsError:
    """An OSError from the local file system as the HDFS error a client would see."""
    if isinstance(exc, PermissionError):
        return HdfsError("AccessControlException",
                         f"Permission denied: access to {hdfs_path} refused by the sandbox's file system")
    if isinstance(exc, FileNotFoundError):
        return HdfsError("FileNotFoundException", f"File does not exist: {hdfs_path}")
    if isinstance(exc, NotADirectoryError):
        return HdfsError("ParentNotDirectoryException", f"{hdfs_path} (a parent is not a directory)")
    if exc.errno == errno.ENAMETOOLONG:
        return HdfsError("IllegalArgumentException", f"Invalid path name (too long): {hdfs_path}")
    if exc.errno == errno.ENOSPC:
        return HdfsError("IOException", f"No space left on the sandbox's disk writing {hdfs_path}")
    return HdfsError("IOException", f"{exc.strerror or exc.__class__.__name__}: {hdfs_path}")


def _parent(hdfs_path: str) -> str:
    return hdfs_path.rsplit("/", 1)[0] or "/"


def _parts(hdfs_path: str) -> list[str]:
    return [p for p in hdfs_path.split("/") if p]


@dataclass
class Target:
    """A resolved HDFS path: its local file, and whether it lies in a snapshot."""

    path: str
    local: Path
    kind: str = "live"  # live | snapdir (<dir>/.snapshot) | snapshot (inside one)
    owner_dir: Path | None = None  # the snapshottable directory, for snapdir/snapshot


class HdfsFs:
    """The namespace under *root*; *superuser* is the user the sandbox runs as."""

    def __init__(self, root: Path, superuser: str) -> None:
        self.root = root
        self.superuser = superuser
        self.store = MetaStore(root, superuser)
        self.snapshot_dir = root / RESERVED / "snapshots"
        self._mkdir_lock = threading.Lock()

    def checker(self, user: str) -> PermissionChecker:
        return PermissionChecker(user, self.superuser)

    # ---------------------------------------------------------------- resolution

    def _live(self, hdfs_path: str) -> Path:
        target = self.root.joinpath(*_parts(hdfs_path)).resolve()
        if not contained(self.root, target):
            fail("AccessControlException",
                 f"Permission denied: {hdfs_path} resolves outside the sandbox's HDFS (a symbolic link)")
        return target

    def resolve(self, hdfs_path: str) -> Target:
        parts = _parts(hdfs_path)
        if parts and parts[0] == RESERVED:
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        if DOT_SNAPSHOT not in parts:
            return Target(hdfs_path, self._live(hdfs_path))
        at = parts.index(DOT_SNAPSHOT)
        dir_path = "/" + "/".join(parts[:at])
        directory = self._live(dir_path)
        if not directory.is_dir() or not self.store.get(directory).snapshottable:
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        rest = parts[at + 1:]
        if not rest:
            return Target(hdfs_path, directory, "snapdir", directory)
        info = self.store.get(directory).snapshots.get(rest[0])
        if info is None:
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        local = (self.snapshot_dir / str(info["id"])).joinpath(*rest[1:]).resolve()
        if not contained(self.root, local):
            fail("AccessControlException",
                 f"Permission denied: {hdfs_path} resolves outside the sandbox's HDFS")
        return Target(hdfs_path, local, "snapshot", directory)

    def writable(self, hdfs_path: str) -> Path:
        """The live local path for a modification of *hdfs_path* (snapshots are read-only)."""
        parts = _parts(hdfs_path)
        if parts and parts[0] == RESERVED:
            fail("InvalidPathException", f"Invalid path name {hdfs_path}: /{RESERVED} is a reserved path "
                 "(the sandbox keeps its snapshots there)")
        if DOT_SNAPSHOT in parts:
            at = parts.index(DOT_SNAPSHOT)
            directory = self._live("/" + "/".join(parts[:at]))
            if directory.is_dir() and self.store.get(directory).snapshottable:
                fail("SnapshotAccessControlException", "Modification on a read-only snapshot is disallowed")
            fail("HadoopIllegalArgumentException", f'"{DOT_SNAPSHOT}" is a reserved name.')
        return self._live(hdfs_path)

    def node(self, hdfs_path: str, local: Path) -> Node | None:
        try:
            st = local.stat()
        except FileNotFoundError:
            return None
        return Node(hdfs_path, self.store.get(local, st), stat.S_ISDIR(st.st_mode))

    def chain(self, hdfs_path: str) -> list[Node]:
        """The existing inodes from ``/`` down to *hdfs_path* (live namespace; stops at the first
        missing component)."""
        nodes: list[Node] = []
        walked = ""
        for part in ["", *_parts(hdfs_path)]:
            walked = walked + "/" + part if part else ""
            path = walked or "/"
            if part == DOT_SNAPSHOT:
                break
            node = self.node(path, self._live(path))
            if node is None:
                break
            nodes.append(node)
            if not node.is_dir:
                break
        return nodes

    def _traverse_to(self, pc: PermissionChecker, hdfs_path: str) -> tuple[list[Node], Node | None]:
        """Check traverse access to *hdfs_path*; return (ancestors, the node itself or None)."""
        chain = self.chain(hdfs_path)
        depth = len(_parts(hdfs_path)) + 1
        target = chain[-1] if len(chain) == depth else None
        ancestors = chain[:-1] if target is not None else chain
        try:
            pc.traverse(ancestors)
        except PermissionDenied as exc:
            fail("AccessControlException", str(exc))
        return ancestors, target

    @staticmethod
    def _check(pc: PermissionChecker, node: Node, access: int) -> None:
        try:
            pc.check(node, access)
        except PermissionDenied as exc:
            fail("AccessControlException", str(exc))

    @staticmethod
    def _owner(pc: PermissionChecker, node: Node) -> None:
        try:
            pc.owner(node)
        except PermissionDenied as exc:
            fail("AccessControlException", str(exc))

    # ---------------------------------------------------------------- status

    def _status(self, local: Path, suffix: str, meta: Meta | None = None) -> dict[str, object]:
        st = local.stat()
        is_dir = stat.S_ISDIR(st.st_mode)
        if meta is None:
            meta = self.store.get(local, st)
        children = 0
        if is_dir:
            try:
                hidden = RESERVED if local == self.root else None
                children = sum(1 for e in os.scandir(local) if e.name != hidden)
            except OSError:
                children = 0
        atime = meta.atime if meta.atime is not None else (0 if is_dir else int(st.st_atime * 1000))
        status: dict[str, object] = {
            "accessTime": atime,
            "blockSize": 0 if is_dir else (meta.block_size or BLOCK_SIZE),
            "childrenNum": children,
            "fileId": st.st_ino,
            "group": meta.group,
            "length": 0 if is_dir else st.st_size,
            "modificationTime": int(st.st_mtime * 1000),
            "owner": meta.owner,
            "pathSuffix": suffix,
            "permission": format(meta.perm & 0o1777, "o"),
            "replication": 0 if is_dir else (meta.replication or DEFAULT_REPLICATION),
            "storagePolicy": 0,
            "type": "DIRECTORY" if is_dir else "FILE",
        }
        if meta.acl:
            status["aclBit"] = True
        if is_dir and meta.snapshottable:
            status["snapshotEnabled"] = True
        return dict(sorted(status.items()))

    def _snapdir_status(self, target: Target, suffix: str) -> dict[str, object]:
        assert target.owner_dir is not None
        status = self._status(target.owner_dir, suffix)
        status["childrenNum"] = len(self.store.get(target.owner_dir).snapshots)
        status.pop("snapshotEnabled", None)
        return status

    def status(self, pc: PermissionChecker, hdfs_path: str) -> dict[str, object]:
        target = self.resolve(hdfs_path)
        self._traverse_to(pc, hdfs_path)
        if target.kind == "snapdir":
            return self._snapdir_status(target, "")
        if not target.local.exists():
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        return self._status(target.local, "")

    def _children(self, local: Path) -> list[dict[str, object]]:
        entries: list[dict[str, object]] = []
        with os.scandir(local) as it:
            found = sorted(it, key=lambda e: e.name.encode("utf-8", "surrogateescape"))
        for entry in found:
            name = entry.name
            if local == self.root and name == RESERVED:
                continue
            child = local / name
            try:
                real = child
                if entry.is_symlink():  # only links need resolving (and may point outside)
                    real = child.resolve()
                    if not contained(self.root, real):
                        continue  # a link out of the data dir is not part of HDFS
                entries.append(self._status(real, name))
            except OSError:
                continue  # vanished meanwhile, or a dangling link
        return entries

    def list(self, pc: PermissionChecker, hdfs_path: str) -> list[dict[str, object]]:
        target = self.resolve(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if target.kind == "snapdir":
            assert target.owner_dir is not None
            snaps = self.store.get(target.owner_dir).snapshots
            return [self._status(self.snapshot_dir / str(snaps[name]["id"]), name)
                    for name in sorted(snaps, key=lambda n: n.encode())]
        if not target.local.exists():
            fail("FileNotFoundException", f"File {hdfs_path} does not exist.")
        if not target.local.is_dir():
            return [self._status(target.local, "")]
        if node is not None:
            self._check(pc, node, READ | EXECUTE)
        return self._children(target.local)

    def list_batch(self, pc: PermissionChecker, hdfs_path: str, start_after: str | None) -> dict[str, object]:
        entries = self.list(pc, hdfs_path)
        if start_after:
            entries = [e for e in entries if str(e["pathSuffix"]) > start_after]
        page, rest = entries[:LS_LIMIT], entries[LS_LIMIT:]
        return {"DirectoryListing": {"partialListing": {"FileStatuses": {"FileStatus": page}},
                                     "remainingEntries": len(rest)}}

    def _subtree_access(self, pc: PermissionChecker, hdfs_path: str, local: Path, access: int,
                        ignore_empty: bool) -> None:
        if pc.is_super or not local.is_dir():
            return
        for top, dirs, files in os.walk(local):
            top_path = Path(top)
            rel = top_path.relative_to(local).as_posix()
            path = hdfs_path if rel == "." else f"{hdfs_path.rstrip('/')}/{rel}"
            if top_path == self.root:
                dirs[:] = [d for d in dirs if d != RESERVED]
            if not (ignore_empty and not dirs and not files):
                node = self.node(path, top_path)
                if node is not None:
                    self._check(pc, node, access)

    def content_summary(self, pc: PermissionChecker, hdfs_path: str) -> dict[str, object]:
        target = self.resolve(hdfs_path)
        self._traverse_to(pc, hdfs_path)
        local = target.local if target.kind != "snapdir" else self.snapshot_dir
        if not local.exists():
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        if target.kind == "live":
            self._subtree_access(pc, hdfs_path, local, READ | EXECUTE, False)
        files = dirs = size = 0
        if local.is_dir():
            dirs = 1
            for top, subdirs, names in os.walk(local):
                if Path(top) == self.root:
                    subdirs[:] = [d for d in subdirs if d != RESERVED]
                dirs += len(subdirs)
                for name in names:
                    files += 1
                    try:
                        size += (Path(top) / name).stat().st_size
                    except OSError:
                        pass
        else:
            files, size = 1, local.stat().st_size
        return {"ContentSummary": {"directoryCount": dirs, "ecPolicy": "", "fileCount": files,
                                   "length": size, "quota": -1, "spaceConsumed": size,
                                   "spaceQuota": -1, "typeQuota": {}}}

    # ---------------------------------------------------------------- creation

    def _new_meta(self, pc: PermissionChecker, parent: Path, perm: int, is_dir: bool) -> Meta:
        parent_meta = self.store.get(parent)
        meta = Meta(owner=pc.user, group=parent_meta.group, perm=perm)
        acl.inherit(parent_meta, meta, is_dir)
        return meta

    def _check_ancestor_write(self, pc: PermissionChecker, hdfs_path: str) -> None:
        """Traverse to, and WRITE on, the nearest existing ancestor of *hdfs_path*."""
        chain = self.chain(hdfs_path)
        depth = len(_parts(hdfs_path)) + 1
        ancestors = chain[:-1] if len(chain) == depth else chain
        if not ancestors:
            return
        try:
            pc.traverse(ancestors[:-1])
        except PermissionDenied as exc:
            fail("AccessControlException", str(exc))
        nearest = ancestors[-1]
        if not nearest.is_dir:
            fail("ParentNotDirectoryException", f"{nearest.path} (is not a directory)")
        self._check(pc, nearest, WRITE)

    def _ensure_dirs(self, pc: PermissionChecker, hdfs_path: str, permission: int, *,
                     implicit: bool) -> None:
        """``mkdir -p`` of *hdfs_path*, component by component (403 when a component is a file).
        Created parents get ``u+wx`` added, as HDFS's implicit parents do."""
        parts = _parts(hdfs_path)
        walked = ""
        for i, part in enumerate(parts):
            walked += "/" + part
            current = self._live(walked)
            if current.is_dir():
                continue
            mode = permission if (i == len(parts) - 1 and not implicit) else permission | 0o300
            with self._mkdir_lock:  # one creator at a time; readers see the directory complete
                if current.is_dir():
                    continue
                if current.exists() or current.is_symlink():
                    fail("ParentNotDirectoryException", f"{walked} (is not a directory)")
                tmp = current.parent / f".{part[:100]}.{uuid.uuid4().hex[:12]}._MKDIR_"
                tmp.mkdir()
                try:
                    if i == 0 and part in SHARED_TOP_DIRS:
                        meta = Meta(owner=self.superuser, group=SUPERGROUP, perm=0o1777)
                    else:
                        meta = self._new_meta(pc, current.parent, mode, True)
                    self.store.put(tmp, meta)
                    os.rename(tmp, current)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise

    def mkdirs(self, pc: PermissionChecker, hdfs_path: str, permission: int) -> bool:
        target = self.writable(hdfs_path)
        if target.exists() and not target.is_dir():
            fail("FileAlreadyExistsException", f"Path is not a directory: {hdfs_path}")
        if target.is_dir():
            self._traverse_to(pc, hdfs_path)
            return True
        self._check_ancestor_write(pc, hdfs_path)
        self._ensure_dirs(pc, hdfs_path, permission, implicit=False)
        return True

    def prepare_create(self, pc: PermissionChecker, hdfs_path: str, overwrite: bool) -> tuple[Path, Path]:
        """Check and create parents; return (target, a fresh temporary sibling)."""
        if hdfs_path == "/":
            fail("FileAlreadyExistsException", "/ already exists as a directory")
        target = self.writable(hdfs_path)
        if target.is_dir():
            fail("FileAlreadyExistsException", f"{hdfs_path} already exists as a directory")
        exists = target.exists()
        if exists and not overwrite:
            fail("FileAlreadyExistsException", f"{hdfs_path} for client 127.0.0.1 already exists")
        self._check_ancestor_write(pc, hdfs_path)
        if exists:
            node = self.node(hdfs_path, target)
            if node is not None:
                self._check(pc, node, WRITE)
        self._ensure_dirs(pc, _parent(hdfs_path), 0o755, implicit=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:100]}.", suffix="._COPYING_", dir=target.parent)
        os.close(fd)
        return target, Path(tmp)

    def commit_create(self, pc: PermissionChecker, hdfs_path: str, tmp: Path, target: Path, overwrite: bool,
                      permission: int, replication: int | None, block_size: int | None) -> None:
        try:
            meta = self._new_meta(pc, target.parent, permission, False)
            meta.replication = replication
            meta.block_size = block_size
            self.store.put(tmp, meta)
            if target.is_dir():
                fail("FileAlreadyExistsException", f"{hdfs_path} already exists as a directory")
            if overwrite:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)
                except FileExistsError:
                    fail("FileAlreadyExistsException", f"{hdfs_path} for client 127.0.0.1 already exists")
        finally:
            tmp.unlink(missing_ok=True)

    def readable_file(self, pc: PermissionChecker, hdfs_path: str) -> Path:
        """The local file for OPEN / GETFILECHECKSUM after HDFS's READ check."""
        target = self.resolve(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        local = target.local
        if target.kind == "snapdir" or not local.exists():
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        if not local.is_file():
            fail("FileNotFoundException", f"Path is not a file: {hdfs_path}")
        if target.kind == "snapshot":
            node = self.node(hdfs_path, local)
        if node is not None:
            self._check(pc, node, READ)
        return local

    def appendable_file(self, pc: PermissionChecker, hdfs_path: str) -> Path:
        local = self.writable(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if not local.exists():
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        if not local.is_file():
            fail("FileNotFoundException", f"Path is not a file: {hdfs_path}")
        if node is not None:
            self._check(pc, node, WRITE)
        return local

    def checksum(self, pc: PermissionChecker, hdfs_path: str) -> dict[str, object]:
        local = self.readable_file(pc, hdfs_path)
        return file_checksum(local, self.store.get(local).block_size or BLOCK_SIZE)

    # ---------------------------------------------------------------- delete / rename

    def _parent_write(self, pc: PermissionChecker, hdfs_path: str, node: Node) -> None:
        parent_path = _parent(hdfs_path)
        parent = self.node(parent_path, self._live(parent_path))
        if parent is None:
            return
        try:
            pc.sticky(parent, node)
        except PermissionDenied as exc:
            fail("AccessControlException", str(exc))
        self._check(pc, parent, WRITE)

    def _refuse_snapshotted(self, hdfs_path: str, local: Path) -> None:
        if not local.is_dir():
            return
        for top, dirs, _files in os.walk(local):
            top_path = Path(top)
            if self.store.get(top_path).snapshots:
                rel = top_path.relative_to(local).as_posix()
                path = hdfs_path if rel == "." else f"{hdfs_path.rstrip('/')}/{rel}"
                fail("SnapshotException", f"The directory {path} cannot be deleted since {path} is "
                     "snapshottable and already has snapshots")
            if top_path == self.root:
                dirs[:] = [d for d in dirs if d != RESERVED]

    def delete(self, pc: PermissionChecker, hdfs_path: str, recursive: bool) -> bool:
        if hdfs_path == "/":
            return False  # HDFS refuses to delete the root, with false
        target = self.writable(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if node is None or not target.exists():
            return False
        self._parent_write(pc, hdfs_path, node)
        if target.is_dir():
            if any(os.scandir(target)):
                if not recursive:
                    fail("PathIsNotEmptyDirectoryException",
                         f"`{hdfs_path} is non empty': Directory is not empty")
                self._subtree_access(pc, hdfs_path, target, ALL, True)
                self._refuse_snapshotted(hdfs_path, target)
                shutil.rmtree(target)
            else:
                self._refuse_snapshotted(hdfs_path, target)
                self.store.forget(target)
                target.rmdir()
        else:
            self.store.forget(target)
            target.unlink()
        return True

    def rename(self, pc: PermissionChecker, src: str, dst: str) -> bool:
        if src == "/":
            return False
        source = self.writable(src)
        destination = self.writable(dst)
        _, node = self._traverse_to(pc, src)
        if node is None or not source.exists():
            return False
        if dst == src:
            return True
        if destination.is_dir():
            destination = destination / source.name
            dst = dst.rstrip("/") + "/" + source.name
        if destination.exists() or not destination.parent.is_dir():
            return False
        if source.is_dir() and contained(source, destination):
            return False  # into itself
        self._parent_write(pc, src, node)
        self._check_ancestor_write(pc, dst)
        os.rename(source, destination)
        return True

    # ---------------------------------------------------------------- metadata

    def _existing(self, pc: PermissionChecker, hdfs_path: str) -> tuple[Path, Node]:
        local = self.writable(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if node is None or not local.exists():
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        return local, node

    def set_permission(self, pc: PermissionChecker, hdfs_path: str, permission: int) -> None:
        local, node = self._existing(pc, hdfs_path)
        self._owner(pc, node)
        node.meta.perm = permission
        self.store.put(local, node.meta)

    def set_owner(self, pc: PermissionChecker, hdfs_path: str, owner: str | None, group: str | None) -> None:
        if not owner and not group:
            fail("IllegalArgumentException", "Both owner and group are empty.")
        local, node = self._existing(pc, hdfs_path)
        self._owner(pc, node)
        if not pc.is_super:
            if owner and owner != pc.user:
                fail("AccessControlException",
                     f"User {pc.user} is not a super user (non-super user cannot change owner).")
            if group and group not in pc.groups:
                fail("AccessControlException", f"User {pc.user} does not belong to {group}")
        if owner:
            node.meta.owner = owner
        if group:
            node.meta.group = group
        self.store.put(local, node.meta)

    def set_times(self, pc: PermissionChecker, hdfs_path: str, mtime: int | None, atime: int | None) -> None:
        local, node = self._existing(pc, hdfs_path)
        self._check(pc, node, WRITE)
        st = local.stat()
        if atime is not None and atime != -1:
            node.meta.atime = atime
            self.store.put(local, node.meta)
        new_atime = atime / 1000 if atime is not None and atime != -1 else st.st_atime
        new_mtime = mtime / 1000 if mtime is not None and mtime != -1 else st.st_mtime
        os.utime(local, (new_atime, new_mtime))

    def set_replication(self, pc: PermissionChecker, hdfs_path: str, replication: int) -> bool:
        if replication < 1:
            fail("IOException", f"Requested replication factor of {replication} is less than the required "
                 f"minimum of 1 for {hdfs_path}")
        if replication > MAX_REPLICATION:
            fail("IOException", f"Requested replication factor of {replication} exceeds maximum of "
                 f"{MAX_REPLICATION} for {hdfs_path}")
        local = self.writable(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if node is None or not local.exists():
            return False
        self._check(pc, node, WRITE)
        if node.is_dir:
            return False
        node.meta.replication = replication
        self.store.put(local, node.meta)
        return True

    def check_access(self, pc: PermissionChecker, hdfs_path: str, access: int) -> None:
        target = self.resolve(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if target.kind == "snapshot":
            node = self.node(hdfs_path, target.local)
        if node is None:
            fail("FileNotFoundException", f"Path not found: {hdfs_path}")
        self._check(pc, node, access)

    # ---------------------------------------------------------------- ACLs

    def acl_status(self, pc: PermissionChecker, hdfs_path: str) -> dict[str, object]:
        target = self.resolve(hdfs_path)
        _, node = self._traverse_to(pc, hdfs_path)
        if target.kind == "snapshot":
            node = self.node(hdfs_path, target.local)
        if node is None:
            fail("FileNotFoundException", f"File does not exist: {hdfs_path}")
        meta = node.meta
        return {"AclStatus": {"entries": list(meta.acl), "group": meta.group, "owner": meta.owner,
                              "permission": format(meta.perm & 0o1777, "o"),
                              "stickyBit": bool(meta.perm & 0o1000)}}

    def change_acl(self, pc: PermissionChecker, hdfs_path: str, op: str, spec: str | None) -> None:
        local, node = self._existing(pc, hdfs_path)
        self._owner(pc, node)
        meta = node.meta
        entries: list[acl.AclEntry] = []
        if op in ("SETACL", "MODIFYACLENTRIES", "REMOVEACLENTRIES"):
            try:  # AclPermissionParam's pattern: a malformed spec never reaches the NameNode
                entries = acl.parse_acl_spec(spec or "", with_perm=op != "REMOVEACLENTRIES")
            except ValueError:
                fail("IllegalArgumentException", f'Invalid value for webhdfs parameter "aclspec": '
                     f'Invalid value: "{spec}" does not belong to the domain {ACL_SPEC_PATTERN}')
        try:
            if op == "SETACL":
                acl.set_acl(meta, entries)
            elif op == "MODIFYACLENTRIES":
                acl.modify_acl(meta, entries)
            elif op == "REMOVEACLENTRIES":
                acl.remove_acl_entries(meta, entries)
            elif op == "REMOVEDEFAULTACL":
                acl.remove_default_acl(meta)
            else:
                acl.remove_acl(meta)
        except ValueError as exc:
            fail("HadoopIllegalArgumentException", str(exc))
        if meta.acl and not node.is_dir and any(e.startswith("default:") for e in meta.acl):
            fail("HadoopIllegalArgumentException", "Invalid ACL: only directories may have a default ACL.")
        self.store.put(local, meta)

    # ---------------------------------------------------------------- snapshots

    def _snapshottable(self, pc: PermissionChecker, hdfs_path: str) -> tuple[Path, Node]:
        local, node = self._existing(pc, hdfs_path)
        if not node.is_dir:
            fail("SnapshotException", f"Directory is not a snapshottable directory: {hdfs_path}")
        if not node.meta.snapshottable:
            fail("SnapshotException", f"Directory is not a snapshottable directory: {hdfs_path}")
        return local, node

    def allow_snapshot(self, pc: PermissionChecker, hdfs_path: str, allow: bool) -> None:
        try:
            pc.superuser()
        except PermissionDenied as exc:
            fail("AccessControlException", str(exc))
        local = self.writable(hdfs_path)
        node = self.node(hdfs_path, local)
        if node is None:
            fail("FileNotFoundException", f"Directory does not exist: {hdfs_path}")
        if not node.is_dir:
            fail("PathIsNotDirectoryException", f"Path is not a directory: {hdfs_path}")
        if not allow:
            if node.meta.snapshots:
                fail("SnapshotException", f"The directory {hdfs_path} has snapshot(s). Please redo the "
                     "operation after removing all the snapshots.")
            node.meta.snapshottable = False
            self.store.put(local, node.meta)
            return
        if node.meta.snapshottable:
            return
        for ancestor in self.chain(_parent(hdfs_path)) if hdfs_path != "/" else []:
            if ancestor.meta.snapshottable:
                fail("SnapshotException", f"Nested snapshottable directories not allowed: path={hdfs_path}, "
                     f"the ancestor {ancestor.path} is already a snapshottable directory.")
        for top, dirs, _ in os.walk(local):
            top_path = Path(top)
            if top_path == self.root:
                dirs[:] = [d for d in dirs if d != RESERVED]
            if top_path != local and self.store.get(top_path).snapshottable:
                rel = top_path.relative_to(local).as_posix()
                fail("SnapshotException", f"Nested snapshottable directories not allowed: path={hdfs_path}, "
                     f"the subdirectory {hdfs_path.rstrip('/')}/{rel} is already a snapshottable directory.")
        node.meta.snapshottable = True
        self.store.put(local, node.meta)

    def create_snapshot(self, pc: PermissionChecker, hdfs_path: str, name: str | None) -> dict[str, object]:
        local, node = self._snapshottable(pc, hdfs_path)
        self._owner(pc, node)
        now = time.time()
        if not name:
            name = time.strftime("s%Y%m%d-%H%M%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
        _valid_snapshot_name(name)
        if name in node.meta.snapshots:
            fail("SnapshotException", f'Failed to add snapshot: there is already a snapshot with the same '
                 f'name "{name}".')
        snap_id = uuid.uuid4().hex
        self.snapshot_dir.mkdir(parents=True, exist_ok=True)
        copy = self.snapshot_dir / snap_id
        shutil.copytree(local, copy, symlinks=True)
        # The copy's root is a plain directory as it was (its record may point at the live
        # directory's sidecar file: never share it).
        with contextlib.suppress(OSError):
            os.removexattr(copy, XATTR)
        self.store.put(copy, Meta(owner=node.meta.owner, group=node.meta.group, perm=node.meta.perm,
                                  atime=node.meta.atime, acl=list(node.meta.acl)))
        node.meta.snapshots[name] = {"id": snap_id, "time": int(now * 1000)}
        self.store.put(local, node.meta)
        return {"Path": f"{hdfs_path.rstrip('/')}/{DOT_SNAPSHOT}/{name}"}

    def delete_snapshot(self, pc: PermissionChecker, hdfs_path: str, name: str | None) -> None:
        local, node = self._snapshottable(pc, hdfs_path)
        self._owner(pc, node)
        info = node.meta.snapshots.pop(name or "", None)
        if info is None:
            fail("SnapshotException", f"Cannot delete snapshot {name} from path {hdfs_path}: the snapshot "
                 "does not exist.")
        self.store.put(local, node.meta)
        shutil.rmtree(self.snapshot_dir / str(info["id"]), ignore_errors=True)

    def rename_snapshot(self, pc: PermissionChecker, hdfs_path: str, old: str | None,
                        new: str | None) -> None:
        local, node = self._snapshottable(pc, hdfs_path)
        self._owner(pc, node)
        snaps = node.meta.snapshots
        if not old or old not in snaps:
            fail("SnapshotException", f"The snapshot {old} does not exist for directory {hdfs_path}")
        if not new:
            fail("IllegalArgumentException", 'Invalid value for webhdfs parameter "snapshotname": null')
        _valid_snapshot_name(new)
        if new == old:
            return
        if new in snaps:
            fail("SnapshotException", f"The snapshot {new} already exists for directory {hdfs_path}")
        snaps[new] = snaps.pop(old)
        self.store.put(local, node.meta)


def _valid_snapshot_name(name: str) -> None:
    if "/" in name or name in (".", "..", DOT_SNAPSHOT):
        fail("HadoopIllegalArgumentException", f'"{name}" is not a valid snapshot name.')
