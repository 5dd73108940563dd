"""Conformance: fsspec's WebHDFS filesystem (PyPI ``fsspec``, a client nobody here wrote; pandas,
Dask and PyArrow users reach HDFS through it) against the sandbox's WebHDFS.

fsspec builds ``http://host:port/webhdfs/v1`` itself, follows the two-step CREATE/APPEND/OPEN
redirects with ``requests``, reads ranges with OPEN offset/length, and maps RemoteException
names to Python errors. These tests run it against ``python -m livyd.sandbox``.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlparse

import pytest
from support import SandboxProcess

fsspec = pytest.importorskip("fsspec", reason="fsspec (pip install -e '.[test]')")


@pytest.fixture
def fs(sandbox: SandboxProcess) -> Any:
    url = urlparse(sandbox.webhdfs_url)
    return fsspec.filesystem("webhdfs", host=url.hostname, port=url.port, user="fsspec-user",
                             skip_instance_cache=True)


def test_write_read_list_move_delete(fs: Any, sandbox: SandboxProcess) -> None:
    root = f"/fsspec-{uuid.uuid4().hex[:8]}"
    fs.mkdir(f"{root}/dir")
    payload = bytes(range(256)) * 2048  # 512 KiB: more than one requests chunk
    with fs.open(f"{root}/dir/a.bin", "wb") as f:
        f.write(payload)
    # fsspec writes a file as CREATE (empty) + APPENDs, each in two steps. (Its own "ab" mode
    # never sets the upload location: an fsspec bug, so it is not exercised here.)
    payload += b"tail"
    with fs.open(f"{root}/dir/a.bin", "wb") as f:
        f.write(payload)
    assert fs.ls(f"{root}/dir", detail=False) == [f"{root}/dir/a.bin"]
    info = fs.info(f"{root}/dir/a.bin")
    assert (info["type"], info["size"]) == ("file", len(payload))
    assert fs.info(f"{root}/dir")["type"] == "directory"
    assert fs.cat(f"{root}/dir/a.bin") == payload
    with fs.open(f"{root}/dir/a.bin", "rb", block_size=1000) as f:  # ranged OPENs
        f.seek(300)
        assert f.read(10) == payload[300:310]
    assert (sandbox.data_dir / root.lstrip("/") / "dir" / "a.bin").stat().st_size == len(payload)
    fs.mv(f"{root}/dir/a.bin", f"{root}/dir/b.bin")
    assert not fs.exists(f"{root}/dir/a.bin") and fs.exists(f"{root}/dir/b.bin")
    assert fs.find(root) == [f"{root}/dir/b.bin"]
    assert fs.content_summary(root)["length"] == len(payload)
    fs.chmod(f"{root}/dir/b.bin", mod=640)  # fsspec sends str(mod): octal digits as an int
    assert fs.info(f"{root}/dir/b.bin")["permission"] == "640"
    assert fs.home_directory() == "/user/fsspec-user"
    fs.rm(root, recursive=True)
    assert not fs.exists(root)


def test_errors_come_back_as_python_errors(fs: Any) -> None:
    with pytest.raises(FileNotFoundError):
        fs.cat("/no/such/file")
    with pytest.raises(FileNotFoundError):
        fs.info("/no/such/dir")


def test_metadata_checksums_and_awkward_names(fs: Any, sandbox: SandboxProcess) -> None:
    root = f"/fsspec-meta-{uuid.uuid4().hex[:8]}"
    name = f"{root}/what?#%3F.txt"  # fsspec quotes ? and # (%3F, %23) and % (%25) once
    fs.pipe(name, b"odd name")
    assert (sandbox.data_dir / root.lstrip("/") / "what?#%3F.txt").read_bytes() == b"odd name"
    assert fs.cat(name) == b"odd name"
    assert fs.ls(root, detail=False) == [name]
    fs.pipe(f"{root}/same.txt", b"odd name")
    assert fs.ukey(name) == fs.ukey(f"{root}/same.txt")
    assert fs.ukey(name)["algorithm"] == "MD5-of-0MD5-of-512CRC32C"
    fs.set_replication(name, 2)
    assert fs.info(name)["replication"] == 2
    assert fs.info(name)["owner"] == "fsspec-user"
    with pytest.raises(PermissionError, match="non-super user cannot change owner"):
        fs.chown(name, owner="someone-else")
    fs.rm(root, recursive=True)
