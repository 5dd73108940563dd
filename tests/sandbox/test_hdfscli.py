"""Conformance: HdfsCLI (PyPI ``hdfs``, a WebHDFS client nobody here wrote) against the sandbox.

HdfsCLI resolves relative paths through GETHOMEDIRECTORY, does CREATE/APPEND in two steps with
redirects off, detects "not a directory" from a one-entry LISTSTATUS with an empty pathSuffix,
matches ``does not exist`` in RemoteException messages while uploading, and reads ``boolean``
from DELETE (livy-rest.md 18.5). These tests run it against ``python -m livyd.sandbox``, direct
and behind the Knox-like gateway.
"""

from __future__ import annotations

import getpass
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hdfs import HdfsError, InsecureClient  # type: ignore[import-untyped]
from support import SandboxProcess


def _client(base_url: str, user: str, headers: dict[str, str] | None = None) -> Any:
    client = InsecureClient(base_url, user=user, timeout=20)
    client._session.headers.update(headers or {})
    return client


def _round_trip(client: Any, local: Path, root: str, data_dir_root: Path) -> None:
    """Upload a file and a tree, list, read, append, rename and delete them through HdfsCLI."""
    c = client
    src = local / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "main.py").write_text("print('hi')\n")
    (src / "pkg" / "__init__.py").write_text("X = 1\n")
    (src / "pkg" / "big.bin").write_bytes(bytes(range(256)) * 4096)
    single = local / "one.txt"
    single.write_text("one\n")

    assert c.upload(f"{root}/one.txt", str(single)) == f"{root}/one.txt"
    assert (data_dir_root / "one.txt").read_text() == "one\n"
    with pytest.raises(HdfsError, match="already exists"):
        c.upload(f"{root}/one.txt", str(single))
    single.write_text("two\n")
    c.upload(f"{root}/one.txt", str(single), overwrite=True)
    assert (data_dir_root / "one.txt").read_text() == "two\n"

    c.upload(f"{root}/tree", str(src), n_threads=2)
    assert sorted(c.list(f"{root}/tree")) == ["main.py", "pkg"]
    listing = dict(c.list(f"{root}/tree/pkg", status=True))
    assert listing["big.bin"]["length"] == 256 * 4096 and listing["big.bin"]["type"] == "FILE"
    with pytest.raises(HdfsError, match="is not a directory"):
        c.list(f"{root}/tree/main.py")
    with pytest.raises(HdfsError, match="does not exist"):
        c.list(f"{root}/nothing")
    assert c.status(f"{root}/nothing", strict=False) is None
    assert c.status(f"{root}/tree")["type"] == "DIRECTORY"
    assert c.content(f"{root}/tree")["fileCount"] == 3
    walked = sorted(path for path, _dirs, _files in c.walk(f"{root}/tree"))
    assert walked == [f"{root}/tree", f"{root}/tree/pkg"]

    with c.read(f"{root}/tree/pkg/big.bin") as reader:
        assert reader.read() == bytes(range(256)) * 4096
    with c.read(f"{root}/tree/main.py", offset=6, length=4) as reader:
        assert reader.read() == b"'hi'"
    downloaded = local / "down"
    c.download(f"{root}/tree", str(downloaded), n_threads=2)
    assert (downloaded / "pkg" / "__init__.py").read_text() == "X = 1\n"

    c.write(f"{root}/log.txt", data="a\n", encoding="utf-8")
    c.write(f"{root}/log.txt", data="b\n", encoding="utf-8", append=True)
    with c.read(f"{root}/log.txt", encoding="utf-8") as reader:
        assert reader.read() == "a\nb\n"
    c.rename(f"{root}/log.txt", f"{root}/log2.txt")
    assert c.status(f"{root}/log.txt", strict=False) is None
    c.makedirs(f"{root}/made/here", permission="700")
    assert c.status(f"{root}/made/here")["permission"] == "700"

    with pytest.raises(HdfsError, match="non empty"):
        c.delete(f"{root}/tree")
    assert c.delete(f"{root}/tree", recursive=True) is True
    assert c.delete(f"{root}/tree", recursive=True) is False
    assert not (data_dir_root / "tree").exists()
    assert not list(data_dir_root.rglob("*_COPYING_"))


def test_hdfscli_round_trip_direct(sandbox: SandboxProcess, tmp_path: Path) -> None:
    base = sandbox.webhdfs_url.removesuffix("/webhdfs/v1")
    client = _client(base, "hdfscli")
    assert client.resolve("rel/x") == "/user/hdfscli/rel/x"
    root = f"/conformance/{uuid.uuid4().hex}"
    _round_trip(client, tmp_path, root, sandbox.data_dir.resolve() / root.lstrip("/"))
    # relative paths land in the home directory
    client.write("relative.txt", data=b"home")
    assert (sandbox.data_dir / "user/hdfscli/relative.txt").read_bytes() == b"home"


def test_hdfscli_round_trip_through_the_gateway(sandbox_factory: Callable[..., SandboxProcess],
                                                tmp_path: Path) -> None:
    gateway = sandbox_factory("--gateway", "/gateway/sandbox", "--gateway-user", "alice")
    base = gateway.webhdfs_url.removesuffix("/webhdfs/v1")
    assert base.endswith("/gateway/sandbox")
    without_xsrf = _client(base, "ignored")
    with pytest.raises(HdfsError):
        without_xsrf.makedirs("/refused")
    assert not (gateway.data_dir / "refused").exists()
    client = _client(base, "ignored", {"X-XSRF-Header": "hdfscli"})
    assert client.resolve("x") == "/user/alice/x"
    root = f"/conformance/{uuid.uuid4().hex}"
    _round_trip(client, tmp_path, root, gateway.data_dir.resolve() / root.lstrip("/"))


def test_hdfscli_metadata_acls_snapshots_and_checksums(sandbox: SandboxProcess) -> None:
    """HdfsCLI's own metadata calls (the ones its integration suite makes against a cluster)."""
    base = sandbox.webhdfs_url.removesuffix("/webhdfs/v1")
    admin = _client(base, getpass.getuser())  # the user the sandbox runs as: HDFS's superuser
    user = _client(base, "hdfscli-meta")
    other = _client(base, "hdfscli-other")
    root = f"/meta/{uuid.uuid4().hex}"
    user.write(f"{root}/f", data=b"hello")
    assert user.status(f"{root}/f")["owner"] == "hdfscli-meta"
    with pytest.raises(HdfsError, match="non-super user cannot change owner"):
        user.set_owner(f"{root}/f", "someone")
    admin.set_owner(f"{root}/f", "newowner", "newgroup")
    assert (user.status(f"{root}/f")["owner"], user.status(f"{root}/f")["group"]) == ("newowner", "newgroup")

    user.makedirs(f"{root}/d")
    user.set_times(f"{root}/d", access_time=1234, modification_time=12345)
    assert (user.status(f"{root}/d")["accessTime"], user.status(f"{root}/d")["modificationTime"]) == \
        (1234, 12345)
    user.write(f"{root}/g", data=b"hello")
    user.set_replication(f"{root}/g", 3)
    assert user.status(f"{root}/g")["replication"] == 3
    with pytest.raises(HdfsError, match="is not a file"):
        user.set_replication(f"{root}/d", 2)
    with pytest.raises(HdfsError, match="Invalid parameter range: replication = 0 < 1"):
        user.set_replication(f"{root}/g", 0)
    assert user.checksum(f"{root}/g") == user.checksum(f"{root}/f")
    assert user.checksum(f"{root}/g")["algorithm"] == "MD5-of-0MD5-of-512CRC32C"
    with pytest.raises(HdfsError, match="Path is not a file"):
        user.checksum(f"{root}/d")

    user.set_permission(f"{root}/g", "600")
    with pytest.raises(HdfsError, match="Permission denied: user=hdfscli-other, access=READ"), \
            other.read(f"{root}/g") as reader:
        reader.read()
    user.set_acl(f"{root}/g", "user:hdfscli-other:r--", clear=False)
    assert user.acl_status(f"{root}/g")["entries"] == ["user:hdfscli-other:r--", "group::---"]
    assert user.status(f"{root}/g")["aclBit"] is True
    with other.read(f"{root}/g") as reader:
        assert reader.read() == b"hello"
    user.remove_acl(f"{root}/g")
    assert user.acl_status(f"{root}/g")["entries"] == []

    admin.allow_snapshot(root)
    assert user.create_snapshot(root, "s1") == f"{root}/.snapshot/s1"
    user.write(f"{root}/g", data=b"changed", overwrite=True)
    with user.read(f"{root}/.snapshot/s1/g") as reader:
        assert reader.read() == b"hello"
    assert sorted(user.list(f"{root}/.snapshot")) == ["s1"]
    user.rename_snapshot(root, "s1", "before")
    user.delete_snapshot(root, "before")
    admin.disallow_snapshot(root)
    assert user.delete(root, recursive=True) is True
