"""Blob storage for document ciphertext: opaque bytes under a key, written atomically, read as a stream.

The database holds the envelope that describes a document; its chunks (up to about 100 MB) live
here. :class:`FilesystemBlobStore` keeps them under ``<data_dir>/blobs``: a write goes to a temporary
file in the same directory and is renamed into place on commit, so a reader never sees half a blob
and a failed upload leaves nothing behind. Another store (object storage) implements the Protocol.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

READ_CHUNK_BYTES = 65_536
#: Keys are built from UUIDs by the records area: a few path segments of safe characters.
_KEY = re.compile(r"[a-z]+(/[0-9a-f-]{36}){1,3}")


class BlobMissing(LookupError):
    """No blob under this key."""


class BlobWriter(Protocol):
    def write(self, data: bytes) -> None: ...

    def commit(self) -> int:
        """Make the blob visible under its key (replacing any older one); returns its size."""
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

    def delete(self, key: str) -> None: ...


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
            descriptor, name = tempfile.mkstemp(dir=self._target.parent, prefix=".upload-")
            self._file = os.fdopen(descriptor, "wb")
            self._temp = Path(name)
        self._file.write(data)
        self._size += len(data)

    def commit(self) -> int:
        if self._file is None:
            raise ValueError("an empty blob")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
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

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(READ_CHUNK_BYTES):
            yield piece
