"""GETFILECHECKSUM the way HDFS computes it: MD5 of the per-block MD5s of the per-chunk CRC32Cs.

HDFS (dfs.checksum.type CRC32C, dfs.bytes-per-checksum 512) keeps a CRC32C of every 512-byte
chunk of a block; a DataNode answers a block's checksum with the MD5 of those CRCs (4 bytes
each, big-endian), and the client's file checksum is the MD5 of the block MD5s concatenated
(``MD5MD5CRC32CastagnoliFileChecksum``). ``crcPerBlock`` is the first block's chunk count when
the file has more than one block, else 0. The checksum's bytes are ``int bytesPerCRC``, ``long
crcPerBlock`` and the 16-byte MD5 (28 bytes, hex in JSON). Two quirks are reproduced because a
checksum must equal a real cluster's for the same bytes and block size: the MD5 of the block
MD5s is taken over the client's whole buffer (a Java ByteArrayOutputStream: 32 bytes at first,
doubling), zero padding included, and a file with no blocks answers the legacy
``MD5-of-0MD5-of-0CRC32`` over that empty 32-byte buffer.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import crc32c

__all__ = ["file_checksum"]

BYTES_PER_CRC = 512
_READ = 1 << 20  # a multiple of BYTES_PER_CRC


_INITIAL_CAPACITY = 32  # java.io.ByteArrayOutputStream()


def _grown(buffer: bytearray, capacity: int, extra: int) -> int:
    """ByteArrayOutputStream's growth rule: max(double, needed)."""
    needed = len(buffer) + extra
    return max(capacity << 1, needed) if needed > capacity else capacity


def file_checksum(path: Path, block_size: int) -> dict[str, object]:
    """``{"FileChecksum": {"algorithm", "bytes", "length"}}`` for the file at *path*."""
    size = path.stat().st_size
    if size == 0:
        digest = hashlib.md5(b"\0" * _INITIAL_CAPACITY).digest()
        raw = struct.pack(">iq", 0, 0) + digest
        return _json("MD5-of-0MD5-of-0CRC32", raw)
    block_md5s = bytearray()
    capacity = _INITIAL_CAPACITY
    first_block_crcs = 0
    blocks = 0
    with path.open("rb") as f:
        remaining = size
        while remaining > 0:
            in_block = min(block_size, remaining)
            crcs = bytearray()
            left = in_block
            while left > 0:
                data = f.read(min(_READ, left))
                if not data:
                    break
                left -= len(data)
                for start in range(0, len(data), BYTES_PER_CRC):
                    crcs += struct.pack(">I", crc32c.crc32c(data[start:start + BYTES_PER_CRC]))
            remaining -= in_block
            if blocks == 0:
                first_block_crcs = len(crcs) // 4
            blocks += 1
            md5 = hashlib.md5(bytes(crcs)).digest()
            capacity = _grown(block_md5s, capacity, len(md5))
            block_md5s += md5
    crc_per_block = first_block_crcs if blocks > 1 else 0
    padded = bytes(block_md5s) + b"\0" * (capacity - len(block_md5s))
    digest = hashlib.md5(padded).digest()
    raw = struct.pack(">iq", BYTES_PER_CRC, crc_per_block) + digest
    return _json(f"MD5-of-{crc_per_block}MD5-of-{BYTES_PER_CRC}CRC32C", raw)


def _json(algorithm: str, raw: bytes) -> dict[str, object]:
    return {"FileChecksum": {"algorithm": algorithm, "bytes": raw.hex(), "length": len(raw)}}
