"""The filesystem blob store: atomic writes, streamed reads, safe keys."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from colloque.clock import SystemClock
from colloque.storage.blobs import BlobInfo, BlobMissing, BlobStore, FilesystemBlobStore

KEY = f"documents/{uuid.uuid4()}/{uuid.uuid4()}"
AT = datetime(2026, 3, 2, 7, 0, 0, 123_456, tzinfo=UTC)


def test_a_blob_appears_only_when_committed(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    writer = store.create(KEY)
    writer.write(b"a" * 70_000)
    assert store.size(KEY) is None
    assert writer.commit(at=AT) == 70_000
    assert store.stat(KEY) == BlobInfo(KEY, 70_000, AT)
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
        store.create(KEY).commit(at=AT)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "documents/x", "Documents/2e62aa0e-ec23-44ad-9c0d-b45acc603140", ""]
)
def test_keys_are_ids_only(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="blob key"):
        FilesystemBlobStore(tmp_path).size(key)


def _put(store: FilesystemBlobStore, key: str, at: datetime, data: bytes = b"x") -> None:
    writer = store.create(key)
    writer.write(data)
    writer.commit(at=at)


def _age(path: Path, at: datetime) -> None:
    os.utime(path, (at.timestamp(), at.timestamp()))


def test_the_filesystem_store_is_a_blob_store(tmp_path: Path) -> None:
    store: BlobStore = FilesystemBlobStore(tmp_path)
    assert store.stat(KEY) is None


def test_scan_lists_committed_blobs_with_their_stamps(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    assert list(store.scan("documents")) == []
    other = f"documents/{uuid.uuid4()}/{uuid.uuid4()}"
    _put(store, KEY, AT, b"abc")
    _put(store, other, AT + timedelta(hours=1))
    _put(store, f"avatars/{uuid.uuid4()}", AT)
    in_progress = store.create(f"documents/{uuid.uuid4()}/{uuid.uuid4()}")
    in_progress.write(b"half")
    (tmp_path / "documents" / "stray.txt").write_bytes(b"not a key")
    found = sorted(store.scan("documents"), key=lambda info: info.committed_at)
    assert found == [BlobInfo(KEY, 3, AT), BlobInfo(other, 1, AT + timedelta(hours=1))]
    in_progress.abort()
    with pytest.raises(ValueError, match="prefix"):
        list(store.scan("../documents"))


def test_a_conditional_delete_spares_a_blob_committed_again(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    assert not store.delete_if_committed_before(KEY, AT)  # nothing there
    _put(store, KEY, AT)
    assert not store.delete_if_committed_before(KEY, AT)  # not before the cutoff
    assert store.stat(KEY) == BlobInfo(KEY, 1, AT)
    assert store.delete_if_committed_before(KEY, AT + timedelta(microseconds=1))
    assert store.stat(KEY) is None
    _put(store, KEY, AT + timedelta(days=2), b"new")
    assert not store.delete_if_committed_before(KEY, AT + timedelta(days=1))
    assert store.stat(KEY) == BlobInfo(KEY, 3, AT + timedelta(days=2))
    assert sorted(p.name for p in (tmp_path / KEY).parent.iterdir()) == [(tmp_path / KEY).name]


def test_stale_temporaries_are_removed_and_fresh_ones_kept(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    now = SystemClock().now()
    _put(store, KEY, now - timedelta(days=30))  # an old blob is not a temporary
    stale, fresh = store.create(KEY), store.create(KEY)
    stale.write(b"died mid-upload")
    fresh.write(b"still coming")
    directory = (tmp_path / KEY).parent
    temporaries = sorted(p for p in directory.iterdir() if p.name.startswith(".upload-"))
    assert len(temporaries) == 2
    _age(temporaries[0], now - timedelta(days=2))
    _age(temporaries[1], now - timedelta(hours=1))
    aside = directory / ".swept-0123456789abcdef"  # a sweep that died between its two steps
    aside.write_bytes(b"x")
    _age(aside, now - timedelta(days=2))
    assert store.remove_stale_temporaries(now - timedelta(days=1)) == 2
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [(tmp_path / KEY).name, temporaries[1].name]
    )
    stale.abort()
    fresh.abort()
    assert store.remove_stale_temporaries(now) == 0


def test_stamps_must_be_aware(tmp_path: Path) -> None:
    writer = FilesystemBlobStore(tmp_path).create(KEY)
    writer.write(b"x")
    with pytest.raises(ValueError, match="naive"):
        writer.commit(at=datetime(2026, 3, 2, 7, 0))
    writer.abort()
