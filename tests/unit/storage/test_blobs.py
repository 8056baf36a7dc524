"""The filesystem blob store: atomic writes, streamed reads, safe keys."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from colloque.storage.blobs import BlobMissing, FilesystemBlobStore

KEY = f"documents/{uuid.uuid4()}/{uuid.uuid4()}"


def test_a_blob_appears_only_when_committed(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    writer = store.create(KEY)
    writer.write(b"a" * 70_000)
    assert store.size(KEY) is None
    assert writer.commit() == 70_000
    assert [len(piece) for piece in store.open(KEY)] == [65_536, 4_464]
    replacing = store.create(KEY)
    replacing.write(b"b")
    replacing.abort()
    assert store.size(KEY) == 70_000
    assert [p.name for p in (tmp_path / KEY).parent.iterdir()] == [(tmp_path / KEY).name]
    store.delete(KEY)
    store.delete(KEY)
    with pytest.raises(BlobMissing):
        store.open(KEY)


def test_nothing_is_written_for_an_empty_or_aborted_upload(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    writer = store.create(KEY)
    writer.abort()
    with pytest.raises(ValueError, match="empty"):
        store.create(KEY).commit()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "documents/x", f"Documents/{uuid.uuid4()}", ""])
def test_keys_are_ids_only(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        FilesystemBlobStore(tmp_path).size(key)
