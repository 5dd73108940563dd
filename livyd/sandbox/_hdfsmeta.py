"""HDFS inode metadata for the sandbox's WebHDFS: owner, group, permission, ACL, replication,
times, snapshots -- stored, and enforced the way the NameNode's permission checker enforces them.

Facts carried over from apache/hadoop (FSPermissionChecker, FSDirAttrOp, AclTransformation,
AclStorage, JsonUtil); no code of theirs:

* **Where it lives.** Each file or directory of the data directory carries one JSON record in the
  extended attribute ``user.livyd.hdfs`` (a record too big for the inode's xattr space goes to
  ``.reserved/meta/<key>.json`` and the xattr names it): it moves with renames, vanishes with deletes, and is
  copied with a snapshot's copy (``shutil.copy2`` copies xattrs). On a file system without user
  xattrs the records live in memory, keyed by inode, for the server's lifetime. A path with no
  record (put there by something else) is owned by the superuser, group ``supergroup``, with its
  local mode bits; the root directory is ``777`` so that every user may create top-level
  directories (a sandbox, not a cluster's locked-down ``/``).
* **Who.** The superuser is the user the sandbox runs as (and members of ``supergroup``); a user's
  groups are its operating-system groups (HDFS's default shell-based mapping), none when the
  system does not know the name. A new inode's owner is the requesting user and its group is the
  parent directory's group (HDFS's BSD rule).
* **Checks** (``PermissionChecker``): EXECUTE on every ancestor (traverse), then the access the
  operation needs on the ancestor/parent/path/subtree, the sticky bit on a parent before a delete
  or rename, ownership for SETPERMISSION/SETOWNER/ACLs/snapshots; the superuser skips them all.
  An ACL's named user and group entries are masked by the group bits (which hold the mask when
  an ACL exists), exactly as ``hasAclPermission`` does. Denials are 403 ``AccessControlException``
  with HDFS's messages
  (``Permission denied: user=bob, access=WRITE, inode="/a":alice:supergroup:drwxr-xr-x``).
"""

from __future__ import annotations

import contextlib
import errno
import grp
import json
import os
import pwd
import re
import stat
import threading
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["AclEntry", "Meta", "MetaStore", "PermissionDenied", "format_mode", "parse_acl_spec"]

XATTR = "user.livyd.hdfs"
_SIDECAR_MARK = b"@sidecar:"
SUPERGROUP = "supergroup"

READ, WRITE, EXECUTE = 4, 2, 1
ALL = 7
_ACTION_NAMES = {0: "NONE", 1: "EXECUTE", 2: "WRITE", 3: "WRITE_EXECUTE", 4: "READ", 5: "READ_EXECUTE",
                 6: "READ_WRITE", 7: "ALL"}


class PermissionDenied(Exception):
    """An AccessControlException with HDFS's message."""


def symbolic(perm: int) -> str:
    return ("r" if perm & 4 else "-") + ("w" if perm & 2 else "-") + ("x" if perm & 1 else "-")


def format_mode(mode: int, is_dir: bool) -> str:
    """``drwxr-xr-t`` as FsPermission prints it after the type letter (sticky bit as t/T)."""
    text = symbolic(mode >> 6 & 7) + symbolic(mode >> 3 & 7) + symbolic(mode & 7)
    if mode & 0o1000:
        text = text[:8] + ("t" if mode & 1 else "T")
    return ("d" if is_dir else "-") + text


# --------------------------------------------------------------------------- ACL entries


_TYPES = ("user", "group", "mask", "other")
_PERM_RE = re.compile(r"^[r-][w-][x-]$")


@dataclass(frozen=True)
class AclEntry:
    """One ACL entry (``[default:]type:name:perm``); ``perm`` None in REMOVEACLENTRIES specs."""

    default: bool
    type: str
    name: str
    perm: int | None

    def key(self) -> tuple[bool, str, str]:
        return (self.default, self.type, self.name)

    def sort_key(self) -> tuple[int, int, int, str]:
        # AclTransformation's order: access before default, user/group/mask/other, unnamed first
        return (int(self.default), _TYPES.index(self.type), int(bool(self.name)), self.name)

    def __str__(self) -> str:
        perm = "" if self.perm is None else ":" + symbolic(self.perm)
        return f"{'default:' if self.default else ''}{self.type}:{self.name}{perm}"

    @staticmethod
    def parse(text: str, *, with_perm: bool = True) -> AclEntry:
        parts = text.split(":")
        default = bool(parts) and parts[0] == "default"
        if default:
            parts = parts[1:]
        wanted = 3 if with_perm else 2
        if len(parts) == wanted - 1 and not with_perm:
            parts = [*parts, ""]
        if not parts or parts[0] not in _TYPES or len(parts) not in (wanted, 3):
            raise ValueError(f"Invalid <aclSpec> : {text}")
        type_, name = parts[0], parts[1]
        perm: int | None = None
        if with_perm:
            if len(parts) != 3 or not _PERM_RE.match(parts[2]):
                raise ValueError(f"Invalid permission in <aclSpec> : {text}")
            p = parts[2]
            perm = (4 if p[0] == "r" else 0) | (2 if p[1] == "w" else 0) | (1 if p[2] == "x" else 0)
        if type_ in ("mask", "other") and name:
            raise ValueError(f"Invalid ACL: the {type_} entry may not have a name: {text}")
        return AclEntry(default, type_, name, perm)


def parse_acl_spec(spec: str, *, with_perm: bool = True) -> list[AclEntry]:
    """An ``aclspec`` parameter (comma-separated entries); ValueError naming the bad entry."""
    entries = [AclEntry.parse(part.strip(), with_perm=with_perm) for part in spec.split(",") if part.strip()]
    if not entries:
        raise ValueError("Invalid <aclSpec> : (empty)")
    return entries


# --------------------------------------------------------------------------- the record


@dataclass
class Meta:
    """What HDFS keeps for an inode and a local file system does not."""

    owner: str
    group: str
    perm: int  # 12 bits: sticky + rwxrwxrwx (group bits hold the mask when an ACL exists)
    replication: int | None = None  # files; None = the default (1)
    block_size: int | None = None
    atime: int | None = None  # ms; None = the local atime (files) / 0 (directories)
    acl: list[str] = field(default_factory=list)  # stored entries, AclStorage's "extended" form
    snapshottable: bool = False
    snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"id", "time"}

    def to_json(self) -> bytes:
        data: dict[str, Any] = {"owner": self.owner, "group": self.group, "perm": self.perm}
        for key in ("replication", "block_size", "atime"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.acl:
            data["acl"] = self.acl
        if self.snapshottable:
            data["snapshottable"] = True
            data["snapshots"] = self.snapshots
        return json.dumps(data, separators=(",", ":")).encode()

    @staticmethod
    def from_json(raw: bytes) -> Meta:
        data = json.loads(raw)
        return Meta(owner=str(data["owner"]), group=str(data["group"]), perm=int(data["perm"]),
                    replication=data.get("replication"), block_size=data.get("block_size"),
                    atime=data.get("atime"), acl=list(data.get("acl", [])),
                    snapshottable=bool(data.get("snapshottable", False)),
                    snapshots=dict(data.get("snapshots", {})))

    # ACL views
    def acl_entries(self) -> list[AclEntry]:
        return [AclEntry.parse(e) for e in self.acl]

    def has_access_acl(self) -> bool:
        return any(not e.startswith("default:") for e in self.acl)

    def default_acl(self) -> list[AclEntry]:
        return [e for e in self.acl_entries() if e.default]


class MetaStore:
    """Reads and writes :class:`Meta` records (xattr, or memory when xattrs are unavailable)."""

    def __init__(self, root: Path, superuser: str) -> None:
        self.root = root
        self.superuser = superuser
        self._memory: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()
        self._xattr = _xattrs_work(root)

    def default(self, path: Path, st: os.stat_result) -> Meta:
        mode = stat.S_IMODE(st.st_mode) & 0o1777
        if path == self.root:
            mode = 0o777
        return Meta(owner=self.superuser, group=SUPERGROUP, perm=mode)

    def get(self, path: Path, st: os.stat_result | None = None) -> Meta:
        if st is None:
            st = path.stat()
        raw: bytes | None = None
        if self._xattr:
            try:
                raw = os.getxattr(path, XATTR)
            except OSError as exc:
                if exc.errno not in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
        else:
            with self._lock:
                raw = self._memory.get((st.st_dev, st.st_ino))
        if raw and raw.startswith(_SIDECAR_MARK):
            try:
                raw = self._sidecar(raw[len(_SIDECAR_MARK):].decode()).read_bytes()
            except (OSError, UnicodeDecodeError):
                raw = None
        if raw:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                return Meta.from_json(raw)
        return self.default(path, st)

    def _sidecar_key(self, path: Path) -> str | None:
        try:
            raw = os.getxattr(path, XATTR)
        except OSError:
            return None
        return raw[len(_SIDECAR_MARK):].decode() if raw.startswith(_SIDECAR_MARK) else None

    def _sidecar(self, key: str) -> Path:
        return self.root / ".reserved" / "meta" / f"{key}.json"

    def put(self, path: Path, meta: Meta) -> None:
        raw = meta.to_json()
        if self._xattr:
            old_key = self._sidecar_key(path)
            try:
                os.setxattr(path, XATTR, raw)
            except OSError as exc:
                if exc.errno not in (errno.E2BIG, errno.ENOSPC, errno.ERANGE):
                    raise
                # Too big for the inode's xattr space (ext4 keeps ~4 KiB per inode: many
                # snapshots or ACL entries): the record goes to a file the xattr points to.
                key = old_key or uuid.uuid4().hex
                sidecar = self._sidecar(key)
                sidecar.parent.mkdir(parents=True, exist_ok=True)
                tmp = sidecar.with_suffix(".tmp")
                tmp.write_bytes(raw)
                os.replace(tmp, sidecar)
                os.setxattr(path, XATTR, _SIDECAR_MARK + key.encode())
            else:
                if old_key:
                    self._sidecar(old_key).unlink(missing_ok=True)
        else:
            st = path.stat()
            with self._lock:
                self._memory[(st.st_dev, st.st_ino)] = raw
        # the local mode mirrors HDFS's, but the sandbox's own user keeps access to serve the superuser
        keep = 0o700 if path.is_dir() else 0o600
        with contextlib.suppress(OSError):
            os.chmod(path, (meta.perm & 0o777) | keep)

    def forget(self, path: Path) -> None:
        if not self._xattr:
            with contextlib.suppress(OSError), self._lock:
                st = path.stat()
                self._memory.pop((st.st_dev, st.st_ino), None)


def _xattrs_work(root: Path) -> bool:
    try:
        os.setxattr(root, "user.livyd.probe", b"1")
        os.removexattr(root, "user.livyd.probe")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------- users and groups


@lru_cache(maxsize=256)
def groups_of(user: str) -> frozenset[str]:
    """The user's groups as HDFS's shell-based mapping sees them (the OS's), or none."""
    try:
        entry = pwd.getpwnam(user)
    except (KeyError, OSError):
        return frozenset()
    names = set()
    try:
        gids = os.getgrouplist(user, entry.pw_gid)
    except OSError:
        gids = [entry.pw_gid]
    for gid in gids:
        with contextlib.suppress(KeyError):
            names.add(grp.getgrgid(gid).gr_name)
    return frozenset(names)


# --------------------------------------------------------------------------- permission checks


@dataclass
class Node:
    """One resolved inode for a check: its HDFS path, metadata and kind."""

    path: str
    meta: Meta
    is_dir: bool


class PermissionChecker:
    """FSPermissionChecker for one request's user."""

    def __init__(self, user: str, superuser: str) -> None:
        self.user = user
        self.groups = groups_of(user)
        self.is_super = user == superuser or SUPERGROUP in self.groups

    def has(self, node: Node, access: int) -> bool:
        meta = node.meta
        mode = meta.perm
        if meta.has_access_acl():
            return self._has_acl(meta, access)
        if self.user == meta.owner:
            allowed = mode >> 6 & 7
        elif meta.group in self.groups:
            allowed = mode >> 3 & 7
        else:
            allowed = mode & 7
        return allowed & access == access

    def _has_acl(self, meta: Meta, access: int) -> bool:
        mode = meta.perm
        if self.user == meta.owner:
            return (mode >> 6 & 7) & access == access
        mask = mode >> 3 & 7
        matched = False
        for entry in meta.acl_entries():
            if entry.default:
                break
            perm = entry.perm or 0
            if entry.type == "user" and entry.name == self.user:
                return (perm & mask) & access == access
            if entry.type == "group":
                group = entry.name or meta.group
                if group in self.groups:
                    if (perm & mask) & access == access:
                        return True
                    matched = True
        return not matched and (mode & 7) & access == access

    def denied(self, node: Node, access: int) -> PermissionDenied:
        meta = node.meta
        text = format_mode(meta.perm, node.is_dir)
        return PermissionDenied(f"Permission denied: user={self.user}, access={_ACTION_NAMES[access]}, "
                                f'inode="{node.path}":{meta.owner}:{meta.group}:{text}')

    def check(self, node: Node, access: int) -> None:
        if not self.is_super and not self.has(node, access):
            raise self.denied(node, access)

    def traverse(self, ancestors: list[Node]) -> None:
        """EXECUTE on each existing ancestor directory."""
        if self.is_super:
            return
        for node in ancestors:
            if not node.is_dir:
                raise PermissionDenied(f"{node.path} (is not a directory)")
            self.check(node, EXECUTE)

    def owner(self, node: Node) -> None:
        if not self.is_super and self.user != node.meta.owner:
            raise PermissionDenied(f"Permission denied. user={self.user} is not the owner of "
                                   f"inode={node.path}")

    def superuser(self) -> None:
        if not self.is_super:
            raise PermissionDenied(f"Access denied for user {self.user}. Superuser privilege is required")

    def sticky(self, parent: Node, child: Node) -> None:
        if self.is_super or not parent.meta.perm & 0o1000:
            return
        if self.user in (parent.meta.owner, child.meta.owner):
            return
        raise PermissionDenied(
            f"Permission denied by sticky bit: user={self.user}, path=\"{child.path}\":{child.meta.owner}:"
            f"{child.meta.group}:{format_mode(child.meta.perm, child.is_dir)}, parent=\"{parent.path}\":"
            f"{parent.meta.owner}:{parent.meta.group}:{format_mode(parent.meta.perm, True)}")


# --------------------------------------------------------------------------- ACL transformation


def logical_acl(meta: Meta) -> list[AclEntry]:
    """The full ACL (base entries from the permission bits plus the stored ones), sorted."""
    mode = meta.perm
    stored = meta.acl_entries()
    access = [e for e in stored if not e.default]
    entries = [AclEntry(False, "user", "", mode >> 6 & 7), AclEntry(False, "other", "", mode & 7)]
    if access:
        entries += access  # named users, group::, named groups
        entries.append(AclEntry(False, "mask", "", mode >> 3 & 7))
    else:
        entries.append(AclEntry(False, "group", "", mode >> 3 & 7))
    entries += [e for e in stored if e.default]
    return sorted(entries, key=AclEntry.sort_key)


def _with_masks(entries: list[AclEntry], explicit_masks: set[bool]) -> list[AclEntry]:
    """Compute a missing mask (union of the group class) for each scope that needs one."""
    result = list(entries)
    for default in (False, True):
        scoped = [e for e in result if e.default == default]
        if not scoped:
            continue
        named = [e for e in scoped if e.type in ("user", "group") and e.name]
        has_mask = any(e.type == "mask" for e in scoped)
        if default in explicit_masks and has_mask:
            continue
        result = [e for e in result if not (e.default == default and e.type == "mask")]
        if named or (has_mask and default in explicit_masks):
            union = 0
            for e in scoped:
                if e.type == "group" or (e.type == "user" and e.name):
                    union |= e.perm or 0
            result.append(AclEntry(default, "mask", "", union))
    return result


def _complete_defaults(entries: list[AclEntry]) -> list[AclEntry]:
    """Default base entries missing from a default ACL are copied from the access entries."""
    defaults = [e for e in entries if e.default]
    if not defaults:
        return entries
    result = list(entries)
    present = {e.type for e in defaults if not e.name}
    for type_ in ("user", "group", "other"):
        if type_ not in present:
            access = next((e for e in entries if not e.default and e.type == type_ and not e.name), None)
            if access is not None:
                result.append(AclEntry(True, type_, "", access.perm))
    return result


def _validate(entries: list[AclEntry]) -> None:
    seen: set[tuple[bool, str, str]] = set()
    for e in entries:
        if e.key() in seen:
            raise ValueError(f"Invalid ACL: multiple entries with the same scope, type and name: {e}")
        seen.add(e.key())
    for default in (False, True):
        scoped = [e for e in entries if e.default == default]
        if not scoped:
            continue
        base = {e.type for e in scoped if not e.name}
        if not {"user", "group", "other"} <= base:
            raise ValueError(f"Invalid {'default ' if default else ''}ACL: the user, group and other "
                             "entries are required.")
        if any(e.name for e in scoped if e.type in ("user", "group")) and "mask" not in base:
            raise ValueError(f"Invalid {'default ' if default else ''}ACL: mask is required and "
                             "cannot be deleted if the ACL contains named entries.")


def apply_acl(meta: Meta, entries: list[AclEntry]) -> None:
    """Store a full (logical) ACL into *meta*: base entries into the permission bits, the rest
    into the stored list (AclStorage's layout; no stored ACL when only base entries remain)."""
    entries = sorted(entries, key=AclEntry.sort_key)
    _validate(entries)
    access = [e for e in entries if not e.default]
    defaults = [e for e in entries if e.default]
    user = next(e for e in access if e.type == "user" and not e.name)
    group = next(e for e in access if e.type == "group" and not e.name)
    other = next(e for e in access if e.type == "other")
    mask = next((e for e in access if e.type == "mask"), None)
    named = [e for e in access if e.name]
    sticky = meta.perm & 0o1000
    if named or mask is not None:
        group_bits = (mask.perm if mask is not None else group.perm) or 0
        stored = [*[e for e in named if e.type == "user"], group, *[e for e in named if e.type == "group"]]
    else:
        group_bits = group.perm or 0
        stored = []
    meta.perm = sticky | (user.perm or 0) << 6 | group_bits << 3 | (other.perm or 0)
    meta.acl = [str(e) for e in sorted(stored, key=AclEntry.sort_key) + defaults]


def set_acl(meta: Meta, spec: list[AclEntry]) -> None:
    explicit = {e.default for e in spec if e.type == "mask"}
    # SETACL replaces the access ACL; a spec of only default entries keeps the access base entries
    base = [] if any(not e.default for e in spec) else [e for e in logical_acl(meta) if not e.default]
    apply_acl(meta, _with_masks(_complete_defaults(base + spec), explicit))


def modify_acl(meta: Meta, spec: list[AclEntry]) -> None:
    explicit = {e.default for e in spec if e.type == "mask"}
    current = {e.key(): e for e in logical_acl(meta)}
    for e in spec:
        current[e.key()] = e
    apply_acl(meta, _with_masks(_complete_defaults(list(current.values())), explicit))


def remove_acl_entries(meta: Meta, spec: list[AclEntry]) -> None:
    drop = {e.key() for e in spec}
    kept = [e for e in logical_acl(meta) if e.key() not in drop]
    explicit = {e.default for e in kept if e.type == "mask" and (e.default, "mask", "") not in drop}
    apply_acl(meta, _with_masks(kept, explicit - {d for d, t, _ in drop if t != "mask"}))


def remove_default_acl(meta: Meta) -> None:
    meta.acl = [e for e in meta.acl if not e.startswith("default:")]


def remove_acl(meta: Meta) -> None:
    """Drop every extended entry; the group bits come back from the ``group::`` entry."""
    access = [e for e in meta.acl_entries() if not e.default]
    group = next((e for e in access if e.type == "group" and not e.name), None)
    if group is not None:
        meta.perm = (meta.perm & ~0o070) | (group.perm or 0) << 3
    meta.acl = []


def inherit(parent: Meta, child: Meta, is_dir: bool) -> None:
    """A new inode under a parent with a default ACL (FSDirectory.copyINodeDefaultAcl)."""
    defaults = parent.default_acl()
    if not defaults:
        return
    mode = child.perm
    access = [AclEntry(False, e.type, e.name, e.perm) for e in defaults]
    user = next(e for e in access if e.type == "user" and not e.name)
    other = next(e for e in access if e.type == "other")
    mask = next((e for e in access if e.type == "mask"), None)
    group = next(e for e in access if e.type == "group" and not e.name)
    group_class = mask if mask is not None else group
    new_mode = (mode & 0o1000) | ((user.perm or 0) & (mode >> 6 & 7)) << 6 \
        | ((group_class.perm or 0) & (mode >> 3 & 7)) << 3 | ((other.perm or 0) & (mode & 7))
    named = [e for e in access if e.name]
    if named or mask is not None:
        stored = sorted([*named, group], key=AclEntry.sort_key)
        child.acl = [str(e) for e in stored]
    child.perm = new_mode
    if is_dir:
        child.acl += [str(e) for e in defaults]
