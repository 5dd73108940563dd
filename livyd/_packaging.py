"""Reproducible zips of Python packages: the same files give the same bytes, on any machine.

Entries are sorted, carry a fixed timestamp (1980-01-01, the zip epoch), fixed permissions
(``0644`` files) and no extra fields; compression is deflate level 9. So a package that did not
change zips to identical bytes (the upload cache then sends nothing) and a standalone build is
byte-for-byte reproducible. Files are chosen by :class:`livyd._project.Excluder`.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from livyd._project import Excluder

__all__ = ["PackageZip", "package_files", "zip_entries", "zip_package"]

_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class PackageZip:
    """A zipped package: its import name, the bytes, their SHA-256 and what went in."""

    name: str
    data: bytes
    sha256: str
    files: tuple[str, ...]

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]


def package_files(package_dir: Path, excluder: Excluder) -> list[tuple[str, Path]]:
    """``(archive name, file)`` for every deployable file of the package, sorted; the archive names
    start with the package's own name so the zip is importable from ``sys.path``."""
    base = package_dir.parent
    out = []
    for path in excluder.walk(package_dir):
        out.append((path.relative_to(base).as_posix(), path))
    return sorted(out)


def zip_entries(entries: list[tuple[str, bytes]]) -> bytes:
    """A reproducible zip of ``(archive name, content)`` pairs."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, content in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            zf.writestr(info, content, compresslevel=9)
    return buffer.getvalue()


def zip_package(package_dir: Path, excluder: Excluder) -> PackageZip:
    """Zip one package directory (blocking: run it in a worker thread from async code)."""
    files = package_files(package_dir, excluder)
    data = zip_entries([(name, path.read_bytes()) for name, path in files])
    return PackageZip(package_dir.name, data, hashlib.sha256(data).hexdigest(), tuple(n for n, _ in files))
