"""The sandbox's WebHDFS as real HDFS over raw HTTP: owners, permissions enforced for other users,
ACLs, snapshots, HDFS's file checksum, trash root, times and replication, unsupported operations,
and paths decoded exactly once (apache/hadoop's WebHDFS.md, JsonUtil, FSPermissionChecker).

The server runs as the superuser ``hdfs``; ``alice`` and ``bob`` are ordinary users with no
groups (unknown to the operating system), so every check below is decided by owner/other bits
and ACL entries alone.
"""

from __future__ import annotations

import hashlib
import re
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import crc32c
import httpx
import pytest
from test_webhdfs import remote, serve

from livyd.sandbox._webhdfs import create_webhdfs_app

SUPER = "hdfs"


@pytest.fixture(scope="module")
def hdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("webhdfs-hdfs")
    with serve(create_webhdfs_app(data, user=SUPER)) as origin:
        yield origin + "/webhdfs/v1", data


class As:
    """WebHDFS calls as one user (``user.name``)."""

    def __init__(self, base: str, user: str) -> None:
        self.base, self.user = base, user
        self.http = httpx.Client(timeout=20, follow_redirects=False)

    def call(self, method: str, path: str, op: str, **params: str) -> httpx.Response:
        return self.http.request(method, f"{self.base}{path}",
                                 params={"op": op, "user.name": self.user, **params})

    def get(self, path: str, op: str, **params: str) -> httpx.Response:
        return self.call("GET", path, op, **params)

    def put(self, path: str, op: str, **params: str) -> httpx.Response:
        return self.call("PUT", path, op, **params)

    def status(self, path: str) -> dict[str, Any]:
        answer = self.get(path, "GETFILESTATUS")
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["FileStatus"])

    def write(self, path: str, data: bytes, **params: str) -> httpx.Response:
        step1 = self.put(path, "CREATE", **params)
        assert step1.status_code == 307, step1.text
        return self.http.put(step1.headers["location"], content=data)

    def read(self, path: str) -> httpx.Response:
        step1 = self.get(path, "OPEN")
        if step1.status_code != 307:
            return step1
        return self.http.get(step1.headers["location"])

    def mkdirs(self, path: str, **params: str) -> httpx.Response:
        return self.put(path, "MKDIRS", **params)


@pytest.fixture
def users(hdfs: tuple[str, Path]) -> Iterator[tuple[As, As, As]]:
    base, _ = hdfs
    clients = (As(base, SUPER), As(base, "alice"), As(base, "bob"))
    yield clients
    for c in clients:
        c.http.close()


def raw_request(base: str, method: str, raw_path: str) -> tuple[int, dict[str, str], bytes]:
    """Send a request line exactly as given (no client-side quoting)."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port)) as conn:
        conn.sendall(f"{method} {raw_path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: 0\r\n"
                     "Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


# --------------------------------------------------------------------------- paths


def test_paths_are_decoded_once_from_the_raw_request_path(hdfs: tuple[str, Path]) -> None:
    base, data = hdfs
    prefix = urlsplit(base).path
    status, _, body = raw_request(base, "PUT", f"{prefix}/p/q%3Fr%23s?op=MKDIRS&user.name=alice")
    assert status == 200, body
    assert (data / "p" / "q?r#s").is_dir(), "%3F and %23 are a ? and a # in the name"
    status, _, body = raw_request(base, "PUT", f"{prefix}/p/a%253Fb?op=MKDIRS&user.name=alice")
    assert status == 200 and (data / "p" / "a%3Fb").is_dir(), "%253F is the literal text %3F"
    status, headers, _ = raw_request(base, "PUT", f"{prefix}/p/a%253Fb/f%2523.txt?op=CREATE&user.name=alice")
    assert status == 307
    location = headers["location"]
    assert urlsplit(location).path == f"{prefix}/p/a%253Fb/f%2523.txt", "the redirect encodes % again"
    assert httpx.put(location, content=b"x").status_code == 201
    assert (data / "p" / "a%3Fb" / "f%23.txt").read_bytes() == b"x"
    status, _, body = raw_request(base, "GET", f"{prefix}/p?op=LISTSTATUS")
    names = [e["pathSuffix"] for e in httpx.Response(200, content=body).json()["FileStatuses"]["FileStatus"]]
    assert names == ["a%3Fb", "q?r#s"]
    status, headers, _ = raw_request(base, "PUT", f"{prefix}/p/q%3Fr%23s/g?op=CREATE")
    assert urlsplit(headers["location"]).path == f"{prefix}/p/q%3Fr%23s/g"
    with httpx.Client() as client:  # httpx quotes ? and # itself: the same names come back
        st = client.get(f"{base}/p/q%3Fr%23s", params={"op": "GETFILESTATUS"}).json()["FileStatus"]
        assert st["type"] == "DIRECTORY"


# --------------------------------------------------------------------------- owners and permissions


def test_owner_is_the_requesting_user_and_group_comes_from_the_parent(users: tuple[As, As, As]) -> None:
    root, alice, _ = users
    assert alice.write("/own/a.txt", b"a").status_code == 201
    st = alice.status("/own/a.txt")
    assert (st["owner"], st["group"], st["permission"]) == ("alice", "supergroup", "644")
    assert alice.status("/own")["owner"] == "alice", "parents created by CREATE belong to the creator"
    assert root.put("/own", "SETOWNER", group="analysts").status_code == 200
    assert alice.write("/own/b.txt", b"b").status_code == 201
    assert alice.status("/own/b.txt")["group"] == "analysts", "a new inode takes its parent's group"
    assert root.status("/")["owner"] == SUPER


def test_setowner_is_for_the_superuser(users: tuple[As, As, As]) -> None:
    root, alice, bob = users
    assert alice.write("/chown/f", b"f").status_code == 201
    refused = alice.put("/chown/f", "SETOWNER", owner="bob")
    assert remote(refused, 403, "AccessControlException") == \
        "User alice is not a super user (non-super user cannot change owner)."
    not_member = alice.put("/chown/f", "SETOWNER", group="wheel-of-nobody")
    assert remote(not_member, 403, "AccessControlException") == \
        "User alice does not belong to wheel-of-nobody"
    not_owner = bob.put("/chown/f", "SETOWNER", owner="bob")
    assert remote(not_owner, 403, "AccessControlException") == \
        "Permission denied. user=bob is not the owner of inode=/chown/f"
    assert root.put("/chown/f", "SETOWNER", owner="carol", group="etl").status_code == 200
    st = root.status("/chown/f")
    assert (st["owner"], st["group"]) == ("carol", "etl")
    assert '"Both owner and group are empty."' in root.put("/chown/f", "SETOWNER").text
    missing = root.put("/chown/none", "SETOWNER", owner="x")
    assert remote(missing, 404, "FileNotFoundException") == "File does not exist: /chown/none"


def test_setpermission_is_enforced_for_other_users(users: tuple[As, As, As]) -> None:
    root, alice, bob = users
    assert alice.write("/perm/private.txt", b"secret").status_code == 201
    assert bob.read("/perm/private.txt").content == b"secret", "644: others may read"
    assert alice.put("/perm/private.txt", "SETPERMISSION", permission="600").status_code == 200
    denied = bob.read("/perm/private.txt")
    assert remote(denied, 403, "AccessControlException") == \
        'Permission denied: user=bob, access=READ, inode="/perm/private.txt":alice:supergroup:-rw-------'
    assert alice.read("/perm/private.txt").content == b"secret"
    assert root.read("/perm/private.txt").content == b"secret", "the superuser is never checked"
    append = bob.call("POST", "/perm/private.txt", "APPEND")
    assert "access=WRITE" in remote(append, 403, "AccessControlException")
    by_bob = bob.put("/perm/private.txt", "SETPERMISSION", permission="777")
    assert "is not the owner of inode=/perm/private.txt" in remote(by_bob, 403, "AccessControlException")
    # the directory: bob cannot create in alice's 755 directory, nor delete from it
    refused = bob.write("/perm/bobs.txt", b"b")
    assert remote(refused, 403, "AccessControlException") == \
        'Permission denied: user=bob, access=WRITE, inode="/perm":alice:supergroup:drwxr-xr-x'
    assert "access=WRITE" in remote(bob.mkdirs("/perm/sub"), 403, "AccessControlException")
    assert "access=WRITE" in remote(bob.call("DELETE", "/perm/private.txt", "DELETE"), 403,
                                    "AccessControlException")
    rename = bob.put("/perm/private.txt", "RENAME", destination="/elsewhere.txt")
    assert "access=WRITE" in remote(rename, 403, "AccessControlException")
    # traverse: without x on the directory, nothing below it can even be looked at
    assert alice.put("/perm", "SETPERMISSION", permission="700").status_code == 200
    hidden = bob.get("/perm/private.txt", "GETFILESTATUS")
    assert remote(hidden, 403, "AccessControlException") == \
        'Permission denied: user=bob, access=EXECUTE, inode="/perm":alice:supergroup:drwx------'
    listing = bob.get("/perm", "LISTSTATUS")
    assert "access=READ_EXECUTE" in remote(listing, 403, "AccessControlException")
    assert alice.put("/perm", "SETPERMISSION", permission="777").status_code == 200
    assert bob.write("/perm/bobs.txt", b"b").status_code == 201
    assert bob.status("/perm/bobs.txt")["owner"] == "bob"


def test_the_sticky_bit_protects_other_users_files(users: tuple[As, As, As]) -> None:
    root, alice, bob = users
    assert root.mkdirs("/shared", permission="1777").json() == {"boolean": True}
    assert root.status("/shared")["permission"] == "1777"
    assert alice.write("/shared/alice.txt", b"a").status_code == 201
    refused = bob.call("DELETE", "/shared/alice.txt", "DELETE")
    message = remote(refused, 403, "AccessControlException")
    assert message.startswith("Permission denied by sticky bit: user=bob, path=\"/shared/alice.txt\"")
    assert alice.call("DELETE", "/shared/alice.txt", "DELETE").json() == {"boolean": True}


def test_settimes_works_on_directories_and_files(users: tuple[As, As, As]) -> None:
    _, alice, _ = users
    assert alice.write("/times/d/f", b"t").status_code == 201
    for path in ("/times/d", "/times/d/f"):
        assert alice.put(path, "SETTIMES", accesstime="1234").status_code == 200
        assert alice.status(path)["accessTime"] == 1234
        assert alice.put(path, "SETTIMES", modificationtime="12345").status_code == 200
        st = alice.status(path)
        assert (st["accessTime"], st["modificationTime"]) == (1234, 12345)
        assert alice.put(path, "SETTIMES", accesstime="1", modificationtime="-1").status_code == 200
        assert (alice.status(path)["accessTime"], alice.status(path)["modificationTime"]) == (1, 12345)
    bad = alice.put("/times/d", "SETTIMES", accesstime="-5")
    assert "accesstime = -5 < -1" in remote(bad, 400, "IllegalArgumentException")


def test_setreplication_is_stored_and_read_back(users: tuple[As, As, As]) -> None:
    _, alice, bob = users
    assert alice.write("/repl/f", b"r", replication="2").status_code == 201
    assert alice.status("/repl/f")["replication"] == 2
    assert alice.put("/repl/f", "SETREPLICATION", replication="5").json() == {"boolean": True}
    assert alice.status("/repl/f")["replication"] == 5
    assert alice.put("/repl", "SETREPLICATION", replication="2").json() == {"boolean": False}
    assert alice.status("/repl")["replication"] == 0
    assert alice.put("/repl/none", "SETREPLICATION", replication="2").json() == {"boolean": False}
    zero = alice.put("/repl/f", "SETREPLICATION", replication="0")
    assert remote(zero, 400, "IllegalArgumentException") == \
        'Invalid value for webhdfs parameter "replication": Invalid parameter range: replication = 0 < 1'
    too_many = alice.put("/repl/f", "SETREPLICATION", replication="600")
    assert remote(too_many, 403, "IOException") == \
        "Requested replication factor of 600 exceeds maximum of 512 for /repl/f"
    assert "access=WRITE" in remote(bob.put("/repl/f", "SETREPLICATION", replication="1"), 403,
                                    "AccessControlException")


# --------------------------------------------------------------------------- ACLs


def test_acls_are_stored_reported_and_enforced(users: tuple[As, As, As]) -> None:
    root, alice, bob = users
    assert alice.write("/acl/data.csv", b"a,b\n", permission="600").status_code == 201
    assert remote(bob.read("/acl/data.csv"), 403, "AccessControlException")
    assert "aclBit" not in alice.status("/acl/data.csv")
    assert alice.put("/acl/data.csv", "MODIFYACLENTRIES", aclspec="user:bob:r--").status_code == 200
    st = alice.status("/acl/data.csv")
    assert st["aclBit"] is True and st["permission"] == "640", "the group bits now hold the mask"
    assert list(st) == sorted(st)
    acl = alice.get("/acl/data.csv", "GETACLSTATUS").json()
    assert acl == {"AclStatus": {"entries": ["user:bob:r--", "group::---"], "group": "supergroup",
                                 "owner": "alice", "permission": "640", "stickyBit": False}}
    assert bob.read("/acl/data.csv").content == b"a,b\n", "bob's named entry grants READ"
    assert remote(As(bob.base, "carol").read("/acl/data.csv"), 403, "AccessControlException")
    # the mask limits named entries
    assert alice.put("/acl/data.csv", "MODIFYACLENTRIES", aclspec="mask::---").status_code == 200
    assert remote(bob.read("/acl/data.csv"), 403, "AccessControlException")
    assert alice.put("/acl/data.csv", "REMOVEACLENTRIES", aclspec="user:bob").status_code == 200
    assert alice.get("/acl/data.csv", "GETACLSTATUS").json()["AclStatus"]["entries"] == []
    assert "aclBit" not in alice.status("/acl/data.csv")
    # SETACL replaces the whole ACL; a bad spec and a non-owner are refused
    spec = "user::rw-,user:bob:rw-,group::r--,other::---"
    assert alice.put("/acl/data.csv", "SETACL", aclspec=spec).status_code == 200
    status = alice.get("/acl/data.csv", "GETACLSTATUS").json()["AclStatus"]
    assert status["entries"] == ["user:bob:rw-", "group::r--"] and status["permission"] == "660"
    step = bob.call("POST", "/acl/data.csv", "APPEND")
    assert bob.http.post(step.headers["location"], content=b"by bob\n").status_code == 200
    overwrite = bob.write("/acl/data.csv", b"x", overwrite="true")
    assert 'inode="/acl":alice' in remote(overwrite, 403, "AccessControlException"), \
        "replacing a file needs WRITE on its directory too"
    assert "is not the owner" in remote(bob.put("/acl/data.csv", "SETACL", aclspec=spec), 403,
                                        "AccessControlException")
    assert alice.write("/acl/f2", b"x").status_code == 201
    invalid = alice.put("/acl/f2", "SETACL", aclspec="user:bob:rwz")
    assert remote(invalid, 400, "IllegalArgumentException").startswith(
        'Invalid value for webhdfs parameter "aclspec": Invalid value: "user:bob:rwz" does not belong')
    no_owner_entry = alice.put("/acl/f2", "SETACL", aclspec="user:bob:r--,group::r--,other::---")
    assert remote(no_owner_entry, 400, "HadoopIllegalArgumentException") == \
        "Invalid ACL: the user, group and other entries are required."
    # REMOVEACL restores plain permission bits
    assert alice.write("/acl/f3", b"x", permission="640").status_code == 201
    assert alice.put("/acl/f3", "MODIFYACLENTRIES", aclspec="user:bob:rwx").status_code == 200
    assert alice.status("/acl/f3")["permission"] == "670"
    assert alice.put("/acl/f3", "REMOVEACL").status_code == 200
    st = alice.status("/acl/f3")
    assert st["permission"] == "640" and "aclBit" not in st
    assert root.get("/acl/none", "GETACLSTATUS").status_code == 404


def test_default_acls_are_inherited_by_new_children(users: tuple[As, As, As]) -> None:
    _, alice, bob = users
    assert alice.mkdirs("/dacl").json() == {"boolean": True}
    assert alice.mkdirs("/dacl/in", permission="700").json() == {"boolean": True}
    assert alice.put("/dacl/in", "SETACL",
                     aclspec="user::rwx,group::---,other::---,user:bob:r-x,"
                             "default:user::rwx,default:user:bob:r-x,default:group::---,"
                             "default:mask::r-x,default:other::---").status_code == 200
    entries = alice.get("/dacl/in", "GETACLSTATUS").json()["AclStatus"]["entries"]
    assert "default:user:bob:r-x" in entries and "default:mask::r-x" in entries
    assert alice.write("/dacl/in/new.txt", b"n", permission="640").status_code == 201
    child = alice.get("/dacl/in/new.txt", "GETACLSTATUS").json()["AclStatus"]
    assert child["entries"] == ["user:bob:r-x", "group::---"]
    assert child["permission"] == "640"
    assert bob.read("/dacl/in/new.txt").content == b"n", "bob inherited r (masked by r--)"
    assert alice.mkdirs("/dacl/in/sub").json() == {"boolean": True}
    sub = alice.get("/dacl/in/sub", "GETACLSTATUS").json()["AclStatus"]["entries"]
    assert "default:user:bob:r-x" in sub, "a new directory inherits the default ACL as its own"
    assert alice.put("/dacl/in", "REMOVEDEFAULTACL").status_code == 200
    assert not any(e.startswith("default:") for e in
                   alice.get("/dacl/in", "GETACLSTATUS").json()["AclStatus"]["entries"])
    assert alice.write("/dacl/in/later.txt", b"l").status_code == 201
    assert "aclBit" not in alice.status("/dacl/in/later.txt")


def test_checkaccess(users: tuple[As, As, As]) -> None:
    _, alice, bob = users
    assert alice.write("/ca/f", b"x", permission="640").status_code == 201
    assert bob.get("/ca/f", "CHECKACCESS", fsaction="r--").status_code == 403
    assert alice.get("/ca/f", "CHECKACCESS", fsaction="rw-").status_code == 200
    assert bob.get("/ca/f", "CHECKACCESS", fsaction="bad").status_code == 400


# --------------------------------------------------------------------------- snapshots


def test_snapshots_keep_the_past_and_are_read_only(users: tuple[As, As, As], hdfs: tuple[str, Path]) -> None:
    root, alice, bob = users
    assert alice.write("/snap/data/v.txt", b"version 1").status_code == 201
    refused = alice.put("/snap", "ALLOWSNAPSHOT")
    assert remote(refused, 403, "AccessControlException") == \
        "Access denied for user alice. Superuser privilege is required"
    not_yet = alice.put("/snap", "CREATESNAPSHOT", snapshotname="s0")
    assert remote(not_yet, 403, "SnapshotException") == "Directory is not a snapshottable directory: /snap"
    assert root.put("/snap", "ALLOWSNAPSHOT").status_code == 200
    assert root.status("/snap")["snapshotEnabled"] is True
    nested = root.put("/snap/data", "ALLOWSNAPSHOT")
    assert "Nested snapshottable directories not allowed" in remote(nested, 403, "SnapshotException")
    assert alice.put("/snap", "CREATESNAPSHOT", snapshotname="s1").json() == {"Path": "/snap/.snapshot/s1"}
    dup = alice.put("/snap", "CREATESNAPSHOT", snapshotname="s1")
    assert remote(dup, 403, "SnapshotException") == \
        'Failed to add snapshot: there is already a snapshot with the same name "s1".'
    assert "not the owner" in remote(bob.put("/snap", "CREATESNAPSHOT", snapshotname="b"), 403,
                                     "AccessControlException")
    # the live tree moves on; the snapshot does not
    assert alice.write("/snap/data/v.txt", b"version 2", overwrite="true").status_code == 201
    step = alice.call("POST", "/snap/data/v.txt", "APPEND")
    assert alice.http.post(step.headers["location"], content=b" + more").status_code == 200
    assert alice.write("/snap/data/new.txt", b"new").status_code == 201
    assert alice.read("/snap/.snapshot/s1/data/v.txt").content == b"version 1"
    assert alice.read("/snap/data/v.txt").content == b"version 2 + more"
    names = [e["pathSuffix"] for e in
             alice.get("/snap/.snapshot/s1/data", "LISTSTATUS").json()["FileStatuses"]["FileStatus"]]
    assert names == ["v.txt"]
    default = alice.put("/snap", "CREATESNAPSHOT").json()["Path"]
    assert re.fullmatch(r"/snap/\.snapshot/s\d{8}-\d{6}\.\d{3}", default)
    listing = alice.get("/snap/.snapshot", "LISTSTATUS").json()["FileStatuses"]["FileStatus"]
    assert [e["pathSuffix"] for e in listing] == sorted(["s1", default.rsplit("/", 1)[1]])
    assert all(e["type"] == "DIRECTORY" for e in listing)
    assert alice.get("/snap/.snapshot", "GETFILESTATUS").json()["FileStatus"]["type"] == "DIRECTORY"
    # read-only
    for answer in (alice.write("/snap/.snapshot/s1/data/x", b"x"),
                   alice.mkdirs("/snap/.snapshot/s1/new"),
                   alice.call("DELETE", "/snap/.snapshot/s1/data/v.txt", "DELETE")):
        assert remote(answer, 403, "SnapshotAccessControlException") == \
            "Modification on a read-only snapshot is disallowed"
    reserved = alice.mkdirs("/snap/data/.snapshot")
    assert remote(reserved, 400, "HadoopIllegalArgumentException") == '".snapshot" is a reserved name.'
    assert remote(alice.get("/snap/data/.snapshot", "GETFILESTATUS"), 404, "FileNotFoundException")
    # rename, delete; a directory with snapshots can neither be deleted nor disallowed
    assert alice.put("/snap", "RENAMESNAPSHOT", oldsnapshotname="s1", snapshotname="first").status_code == 200
    assert alice.read("/snap/.snapshot/first/data/v.txt").content == b"version 1"
    gone = alice.put("/snap", "RENAMESNAPSHOT", oldsnapshotname="s1", snapshotname="x")
    assert remote(gone, 403, "SnapshotException") == "The snapshot s1 does not exist for directory /snap"
    held = root.call("DELETE", "/snap", "DELETE", recursive="true")
    assert "cannot be deleted since /snap is snapshottable and already has snapshots" in \
        remote(held, 403, "SnapshotException")
    disallow = root.put("/snap", "DISALLOWSNAPSHOT")
    assert "has snapshot(s)" in remote(disallow, 403, "SnapshotException")
    for name in ("first", default.rsplit("/", 1)[1]):
        assert alice.call("DELETE", "/snap", "DELETESNAPSHOT", snapshotname=name).status_code == 200
    missing = alice.call("DELETE", "/snap", "DELETESNAPSHOT", snapshotname="first")
    assert remote(missing, 403, "SnapshotException") == \
        "Cannot delete snapshot first from path /snap: the snapshot does not exist."
    _, data = hdfs
    assert not any((data / ".reserved" / "snapshots").iterdir()), "deleted snapshots free their copies"
    assert ".reserved" not in [e["pathSuffix"] for e in
                               root.get("/", "LISTSTATUS").json()["FileStatuses"]["FileStatus"]]
    assert root.put("/snap", "DISALLOWSNAPSHOT").status_code == 200
    assert "snapshotEnabled" not in root.status("/snap")
    assert root.call("DELETE", "/snap", "DELETE", recursive="true").json() == {"boolean": True}


# --------------------------------------------------------------------------- checksum, trash, the rest


def _hdfs_md5_md5_crc32c(data: bytes, block_size: int = 134217728) -> str:
    """An independent rendering of HDFS's MD5-of-MD5-of-CRC32C (512-byte chunks)."""
    blocks = [data[i:i + block_size] for i in range(0, len(data), block_size)]
    md5s = b"".join(hashlib.md5(b"".join(struct.pack(">I", crc32c.crc32c(b[j:j + 512]))
                                         for j in range(0, len(b), 512))).digest() for b in blocks)
    capacity = 32
    while capacity < len(md5s):
        capacity *= 2
    crc_per_block = block_size // 512 if len(blocks) > 1 else 0
    return (struct.pack(">iq", 512, crc_per_block) + hashlib.md5(md5s.ljust(capacity, b"\0")).digest()).hex()


def test_getfilechecksum_is_hdfs_md5_of_md5_of_crc32c(users: tuple[As, As, As]) -> None:
    _, alice, bob = users
    payload = bytes(range(256)) * 40 + b"tail"
    assert alice.write("/sum/a", payload).status_code == 201
    assert alice.write("/sum/b", payload).status_code == 201
    assert alice.write("/sum/c", payload + b"!").status_code == 201
    assert alice.write("/sum/empty", b"").status_code == 201
    step1 = alice.get("/sum/a", "GETFILECHECKSUM")
    assert step1.status_code == 307, "the NameNode redirects to a DataNode"
    answer = alice.http.get(step1.headers["location"])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body == {"FileChecksum": {"algorithm": "MD5-of-0MD5-of-512CRC32C",
                                     "bytes": _hdfs_md5_md5_crc32c(payload), "length": 28}}

    def checksum(path: str) -> dict[str, Any]:
        with httpx.Client(follow_redirects=True) as client:
            return dict(client.get(f"{alice.base}{path}", params={"op": "GETFILECHECKSUM"}).json())

    assert checksum("/sum/b") == body, "equal bytes, equal checksums"
    assert checksum("/sum/c") != body
    assert checksum("/sum/empty") == {"FileChecksum": {
        "algorithm": "MD5-of-0MD5-of-0CRC32", "length": 28,
        "bytes": "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51"}}
    # three blocks (a small block size): crcPerBlock and the padded buffer, as HDFS has them
    big = bytes(range(251)) * 20
    assert alice.write("/sum/blocks", big, blocksize="2048").status_code == 201
    assert checksum("/sum/blocks")["FileChecksum"] == {
        "algorithm": "MD5-of-4MD5-of-512CRC32C", "bytes": _hdfs_md5_md5_crc32c(big, 2048), "length": 28}
    assert remote(alice.get("/sum", "GETFILECHECKSUM"), 404, "FileNotFoundException") == \
        "Path is not a file: /sum"
    assert remote(alice.get("/sum/none", "GETFILECHECKSUM"), 404, "FileNotFoundException")
    assert alice.put("/sum/a", "SETPERMISSION", permission="600").status_code == 200
    assert "access=READ" in remote(bob.get("/sum/a", "GETFILECHECKSUM"), 403, "AccessControlException")


def test_trash_root_and_unsupported_operations(users: tuple[As, As, As]) -> None:
    _, alice, _ = users
    assert alice.get("/any/where", "GETTRASHROOT").json() == {"Path": "/user/alice/.Trash"}
    for method, op in (("GET", "GETXATTRS"), ("PUT", "SETXATTR"), ("GET", "GETSNAPSHOTDIFF"),
                       ("PUT", "SETQUOTA"), ("POST", "CONCAT"), ("GET", "GETSTATUS")):
        answer = alice.call(method, "/", op)
        assert remote(answer, 400, "UnsupportedOperationException") == f"{op} is not supported", op
    unknown = alice.get("/", "NOSUCHOP")
    assert "No enum constant" in remote(unknown, 400, "IllegalArgumentException")


def test_user_and_tmp_are_shared_like_on_a_cluster(users: tuple[As, As, As]) -> None:
    root, alice, bob = users
    assert alice.write("/user/alice/a.txt", b"a").status_code == 201
    assert bob.write("/user/bob/b.txt", b"b").status_code == 201, "a second user gets a home too"
    top = root.status("/user")
    assert (top["owner"], top["permission"]) == (SUPER, "1777")
    assert alice.status("/user/alice")["owner"] == "alice"
    assert "sticky bit" in remote(bob.call("DELETE", "/user/alice", "DELETE", recursive="true"), 403,
                                  "AccessControlException")
    assert "access=WRITE" in remote(bob.write("/user/alice/x", b"x"), 403, "AccessControlException")
    assert bob.mkdirs("/tmp/bob-scratch").json() == {"boolean": True}
    assert root.status("/tmp")["permission"] == "1777"


# --------------------------------------------------------------------------- units (no HTTP)


def test_metadata_lives_in_memory_where_there_are_no_user_xattrs(tmp_path: Path) -> None:
    from livyd.sandbox._hdfsmeta import Meta, MetaStore

    store = MetaStore(tmp_path, SUPER)
    store._xattr = False  # as on a file system without user xattrs
    (tmp_path / "f").write_text("x")
    assert store.get(tmp_path / "f").owner == SUPER, "no record: the superuser's"
    store.put(tmp_path / "f", Meta(owner="alice", group="g", perm=0o640))
    (tmp_path / "f").rename(tmp_path / "g")
    moved = store.get(tmp_path / "g")
    assert (moved.owner, moved.group, moved.perm) == ("alice", "g", 0o640), "records follow the inode"
    store.forget(tmp_path / "g")
    assert store.get(tmp_path / "g").owner == SUPER
    assert store.get(tmp_path).perm == 0o777, "the root is world-writable"


def test_acl_transformations_follow_hdfs() -> None:
    from livyd.sandbox import _hdfsmeta as m

    meta = m.Meta(owner="alice", group="g", perm=0o750)
    m.modify_acl(meta, m.parse_acl_spec("user:bob:rwx,group:eng:r--"))
    assert meta.acl == ["user:bob:rwx", "group::r-x", "group:eng:r--"]
    assert meta.perm == 0o770, "the mask (union of the group class) lands in the group bits"
    m.modify_acl(meta, m.parse_acl_spec("mask::r-x"))
    assert meta.perm == 0o750
    checker = m.PermissionChecker("bob", SUPER)
    node = m.Node("/f", meta, False)
    assert checker.has(node, m.READ | m.EXECUTE) and not checker.has(node, m.WRITE), "masked to r-x"
    m.remove_acl_entries(meta, m.parse_acl_spec("user:bob,group:eng", with_perm=False))
    assert meta.acl == [] and meta.perm == 0o750, "only base entries left: no ACL"
    with pytest.raises(ValueError, match="user, group and other entries are required"):
        m.set_acl(meta, m.parse_acl_spec("user:bob:r--"))
    m.set_acl(meta, m.parse_acl_spec("default:user:bob:r-x"))
    assert meta.acl == ["default:user::rwx", "default:user:bob:r-x", "default:group::r-x",
                        "default:mask::r-x", "default:other::---"], "defaults completed from the access ACL"
    assert m.format_mode(0o1777, True) == "drwxrwxrwt" and m.format_mode(0o1644, False) == "-rw-r--r-T"


def test_a_record_too_big_for_the_inode_goes_to_a_sidecar_file(tmp_path: Path) -> None:
    from livyd.sandbox._hdfsmeta import Meta, MetaStore

    store = MetaStore(tmp_path, SUPER)
    (tmp_path / "d").mkdir()
    many = {f"s{i:04d}": {"id": f"{i:032x}", "time": 1_700_000_000_000 + i} for i in range(400)}
    meta = Meta(owner="alice", group="g", perm=0o755, snapshottable=True, snapshots=many)
    assert len(meta.to_json()) > 16384, "more than any file system keeps in one inode's xattrs"
    store.put(tmp_path / "d", meta)
    back = store.get(tmp_path / "d")
    assert back.snapshots == many and back.owner == "alice"
    assert len(list((tmp_path / ".reserved" / "meta").iterdir())) == 1, "kept in a sidecar file"
    meta.owner = "carol"
    store.put(tmp_path / "d", meta)
    assert store.get(tmp_path / "d").owner == "carol"
    assert len(list((tmp_path / ".reserved" / "meta").iterdir())) == 1, "the same sidecar, rewritten"
    store.put(tmp_path / "d", Meta(owner="bob", group="g", perm=0o700))
    assert store.get(tmp_path / "d").owner == "bob", "a small record goes back into the xattr"
    assert not list((tmp_path / ".reserved" / "meta").iterdir()), "and its sidecar is gone"
