"""Blob storage for document ciphertext: opaque bytes under a key, written atomically, read as a stream.

The database holds the envelope that describes a document; its chunks (up to about 100 MB) live
here. :class:`FilesystemBlobStore` keeps them under ``<data_dir>/blobs``: a write goes to a temporary
file in the same directory and is renamed into place on commit, so a reader never sees half a blob
and a failed upload leaves nothing behind. Another store (object storage) implements the Protocol.

A blob carries the instant it was committed, given by the caller's clock (the file's modification
time here), so that the documents sweep and the description endpoint judge its age on the same
clock as the rest of the application. Temporary files left by a process that died mid-upload
are found by :meth:`BlobStore.remove_stale_temporaries`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

READ_CHUNK_BYTES = 65_536
#: Keys are built from UUIDs by the records area: a few path segments of safe characters.
_KEY = re.compile(r"[a-z]+(/[0-9a-f-]{36}){1,3}")
#: Names of files that are not blobs: uploads in progress, and blobs being swept.
_UPLOAD_PREFIX = ".upload-"
_SWEEP_PREFIX = ".swept-"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BlobMissing(LookupError):
    """No blob under this key."""


@dataclass(frozen=True, slots=True)
class BlobInfo:
    key: str
    size: int
    #: When it was committed, on the clock of whoever committed it.
    committed_at: datetime


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self, *, at: datetime) -> int:
        """Make the blob visible under its key (replacing any older one), stamped ``at``;
        returns its size."""
        ...

    def abort(self) -> None:
        """Drop what was written; the key keeps its previous blob, if any."""
        ...


class BlobStore(Protocol):
    def create(self, key: str) -> BlobWriter: ...

    def open(self, key: str) -> Iterator[bytes]:
        """The blob's bytes in pieces of at most 64 KiB; raises BlobMissing."""
        ...

    def size(self, key: str) -> int | None: ...

    def stat(self, key: str) -> BlobInfo | None: ...

    def delete(self, key: str) -> None: ...

    def scan(self, prefix: str) -> Iterator[BlobInfo]:
        """The committed blobs whose keys start with ``prefix`` (a key's first segment), in no
        particular order; never an upload in progress."""
        ...

    def delete_if_committed_before(self, key: str, cutoff: datetime) -> bool:
        """Remove the blob only if the one under the key now was committed before ``cutoff``,
        so that a blob committed again meanwhile survives; True if removed."""
        ...

    def remove_stale_temporaries(self, cutoff: datetime) -> int:
        """Remove what aborted uploads left behind, untouched since before ``cutoff``; returns
        how many."""
        ...


def _check(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError("not a blob key")
    return key


class _FileWriter:
    """Opens its temporary file at the first byte, so that an empty or refused upload touches
    nothing on disk."""

    def __init__(self, target: Path) -> None:
        self._target = target
        self._file: BinaryIO | None = None
        self._size = 0

    def write(self, data: bytes) -> None:
        if self._file is None:
            self._target.parent.mkdir(parents=True, exist_ok=True)
            descriptor, name = tempfile.mkstemp(dir=self._target.parent, prefix=_UPLOAD_PREFIX)
            self._file = os.fdopen(descriptor, "wb")
            self._temp = Path(name)
        self._file.write(data)
        self._size += len(data)

    def commit(self, *, at: datetime) -> int:
        if self._file is None:
            raise ValueError("an empty blob")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        stamp = _nanoseconds(at)
        os.utime(self._temp, ns=(stamp, stamp))
        os.replace(self._temp, self._target)
        return self._size

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._temp.unlink(missing_ok=True)


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        return self._root / _check(key)

    def create(self, key: str) -> BlobWriter:
        return _FileWriter(self._path(key))

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise BlobMissing(key)
        # Opened at the first read, inside the generator, so that a response never started (or
        # dropped by its client) leaves no file open.
        return _pieces(path)

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def stat(self, key: str) -> BlobInfo | None:
        try:
            found = self._path(key).stat()
        except FileNotFoundError:
            return None
        return BlobInfo(key, found.st_size, _instant(found.st_mtime_ns))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def scan(self, prefix: str) -> Iterator[BlobInfo]:
        if not re.fullmatch(r"[a-z]+", prefix):
            raise ValueError("not a blob key prefix")
        top = self._root / prefix
        for directory, _subdirectories, names in os.walk(top):
            for name in names:
                path = Path(directory) / name
                key = path.relative_to(self._root).as_posix()
                if name.startswith(".") or not _KEY.fullmatch(key):
                    continue
                try:
                    found = path.stat()
                except FileNotFoundError:  # removed meanwhile
                    continue
                yield BlobInfo(key, found.st_size, _instant(found.st_mtime_ns))

    def delete_if_committed_before(self, key: str, cutoff: datetime) -> bool:
        path = self._path(key)
        # A rename is atomic: whichever blob is under the key at that instant is set aside, then
        # judged by its own stamp. One committed again since the caller listed it goes back.
        aside = path.with_name(f"{_SWEEP_PREFIX}{secrets.token_hex(8)}")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime_ns < _nanoseconds(cutoff):
            aside.unlink()
            return True
        with contextlib.suppress(FileExistsError):  # committed yet again: the newest stays
            os.link(aside, path)
        aside.unlink()
        return False

    def remove_stale_temporaries(self, cutoff: datetime) -> int:
        limit = _nanoseconds(cutoff)
        removed = 0
        for directory, _subdirectories, names in os.walk(self._root):
            for name in names:
                if not name.startswith((_UPLOAD_PREFIX, _SWEEP_PREFIX)):
                    continue
                path = Path(directory) / name
                try:
                    if path.stat().st_mtime_ns >= limit:
                        continue
                    path.unlink()
                except FileNotFoundError:  # committed or removed meanwhile
                    continue
                removed += 1
        return removed


def _nanoseconds(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError("a naive datetime")
    # Whole microseconds, as datetimes have them: a stamp read back is the instant written.
    return (at - _EPOCH) // timedelta(microseconds=1) * 1_000


def _instant(nanoseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=nanoseconds // 1_000)


def _pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(READ_CHUNK_BYTES):
            yield piece
