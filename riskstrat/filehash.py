"""Content hashes of output files (the run manifest's `outputs`), and hashes taken where a file
was written, so the run does not read it back.

The list files (~1,600 at 1M, a third of them XLSX, whose hash unzips every part) are written by
worker processes (outreach/file_worker.py) beside the report; each worker hashes what it wrote
there and sends the hashes back (`stamp`, `remember`), and the run's manifest uses them
(`content_hash`) if the file is still the one hashed (same size, modification time and inode),
instead of reading every file again at the end of the run. This module imports nothing heavy:
the workers import it.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

#: Parts of an XLSX package that record when it was saved, not what it says.
XLSX_VOLATILE_PARTS = frozenset({"docProps/core.xml"})
#: (size, mtime_ns, inode, hash) of a file hashed where it was written, by absolute path.
Stamp = tuple[int, int, int, str]
_KNOWN: dict[str, Stamp] = {}


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _computed_hash(path: Path) -> str:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        return sha256_file(path)
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as package:
        for name in sorted(package.namelist()):
            if name not in XLSX_VOLATILE_PARTS:
                digest.update(name.encode() + b"\0" + package.read(name) + b"\0")
    return digest.hexdigest()


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def content_hash(path: Path) -> str:
    """sha256 of what a file says. For XLSX: of its parts, in name order, leaving out the zip
    entries' timestamps and docProps/core.xml (openpyxl stamps the save time there), so the same
    workbook written twice hashes the same. A hash `remember`ed for this very file (unchanged
    since) is used once instead of reading it again."""
    known = _KNOWN.pop(os.path.abspath(path), None)
    if known is not None and _identity(os.stat(path)) == known[:3]:
        return known[3]
    return _computed_hash(path)


def stamp(path: Path) -> Stamp:
    """The file's content_hash with what identifies this version of it (for `remember`)."""
    before = _identity(os.stat(path))
    digest = _computed_hash(path)
    if _identity(os.stat(path)) != before:  # written to meanwhile: a stamp that never matches
        return (-1, -1, -1, digest)
    return (*before, digest)


def remember(path: Path, stamped: Stamp) -> None:
    """Keep a hash taken elsewhere (a worker process) for this process's content_hash."""
    _KNOWN[os.path.abspath(path)] = stamped
