"""The documents sweep in the upkeep cycle: streams never described go once past the grace
period (and its margin), described ones and young ones stay, and a description can never race it."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from colloque.api.app import create_app
from colloque.client import ApiError
from colloque.client.encoding import b64
from colloque.client.records import DocumentEntry
from colloque.clock import SettableClock
from colloque.config import KdfCost, Settings
from colloque.crypto.documents import encrypt_document, new_document_key
from colloque.crypto.sealed_documents import DocumentInfo, StreamDigest, seal_document
from colloque.records.documents import blob_key, parse_blob_key
from colloque.records.upkeep import COMMIT_MARGIN
from colloque.storage.blobs import FilesystemBlobStore
from colloque.storage.engine import Database
from colloque.worker import (
    DOCUMENT_SWEEP_INTERVAL,
    CycleReport,
    SweepSchedule,
    log_report,
    run_cycle,
)
from tests.functional.records.clients import Scene, scene

GRACE = timedelta(hours=24)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Fixed: test ids built from them must be the same in every pytest-xdist worker.
PRACTICE = uuid.UUID("b3a9565e-425f-4be0-af08-261d07db611a")
DOCUMENT = uuid.UUID("bfd2cf1c-5ced-4876-a149-de8af05d2b41")


@pytest.fixture
def s(db: Database, clock: SettableClock, tmp_path: Path) -> Iterator[Scene]:
    yield from scene(db, clock, tmp_path)


@dataclass
class Pending:
    """A stream uploaded, its description sealed but not yet posted."""

    document_id: uuid.UUID
    body: dict[str, Any]


def upload_only(s: Scene, document_id: uuid.UUID | None = None) -> Pending:
    """PUT a stream (stamped with the clock's now), then seal its description."""
    document_id = document_id or uuid.uuid4()
    key, digest = new_document_key(), StreamDigest()
    stream = b"".join(encrypt_document([b"compte-rendu"], document_id=document_id, key=key))
    digest.update(stream)
    response = s.http.request(
        "PUT",
        f"{base(s)}/{document_id}/content",
        content=stream,
        headers={"Authorization": f"Bearer {s.doctor.token}"},
    )
    assert response.status_code == 204
    sealed = seal_document(
        document_id=document_id,
        patient_id=s.patient_id,
        info=DocumentInfo("radio.pdf", "application/pdf", digest.digest(), key),
        author=s.doctor.unlocked_keys,
        recipients=s.recipients(),
    )
    body = {"envelope": b64(sealed.envelope), "wraps": [b64(w) for w in sealed.wraps]}
    return Pending(document_id, body)


def base(s: Scene) -> str:
    return f"/api/v1/practices/{s.world.practice_id}/patients/{s.patient_id}/documents"


def describe(s: Scene, pending: Pending) -> None:
    s.doctor._request("POST", base(s), json=pending.body)


def described(s: Scene) -> uuid.UUID:
    return s.doctor.records.upload_document(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        source=io.BytesIO(b"ordonnance"),
        name="ordonnance.pdf",
        media_type="application/pdf",
        recipients=s.recipients(),
    )


def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


def path(tmp_path: Path, s: Scene, document_id: uuid.UUID) -> Path:
    return tmp_path / "blobs" / blob_key(s.world.practice_id, document_id)


def cycle(db: Database, clock: SettableClock, blobs: FilesystemBlobStore) -> CycleReport:
    return run_cycle(db, clock, batch=50, blobs=blobs, document_upload_grace=GRACE)


def stamp(path: Path, at: datetime) -> None:
    """Set a file's modification time (a blob's commit stamp) to ``at``, to the microsecond:
    ageing files rather than moving the clock keeps the scene's sessions valid."""
    nanoseconds = (at - EPOCH) // timedelta(microseconds=1) * 1_000
    os.utime(path, ns=(nanoseconds, nanoseconds))


def left_temporary(s: Scene, tmp_path: Path, at: datetime) -> Path:
    """What a process killed mid-upload leaves: a temporary file (named as the store names
    them) last written ``at``."""
    temporary = (
        tmp_path / "blobs" / "documents" / str(s.world.practice_id) / f".upload-{uuid.uuid4().hex}"
    )
    temporary.write_bytes(b"half a stream")
    stamp(temporary, at)
    return temporary


def listed(s: Scene) -> list[DocumentEntry]:
    return s.doctor.records.list_documents(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        authors=s.authors,
        standing=s.standing,
        group_keys={1: s.group},
    )


def download(s: Scene, entry: DocumentEntry) -> bytes:
    sink = io.BytesIO()
    s.doctor.records.download_document(
        practice_id=s.world.practice_id, patient_id=s.patient_id, document=entry, target=sink
    )
    return sink.getvalue()


def test_the_sweep_removes_only_old_orphans_and_stale_temporaries(
    s: Scene, db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    blobs, now = store(tmp_path), clock.now()
    kept, orphan, young = described(s), upload_only(s), upload_only(s)
    stamp(path(tmp_path, s, kept), now - timedelta(days=3 * 365))
    stamp(path(tmp_path, s, orphan.document_id), now - GRACE - COMMIT_MARGIN - timedelta(seconds=1))
    stamp(path(tmp_path, s, young.document_id), now - GRACE - COMMIT_MARGIN + timedelta(seconds=1))
    stale_temp = left_temporary(s, tmp_path, now - GRACE - timedelta(seconds=1))
    fresh_temp = left_temporary(s, tmp_path, now - GRACE + timedelta(minutes=1))
    report = cycle(db, clock, blobs)
    assert (report.documents_swept, report.temporaries_removed) == (1, 1)
    assert not path(tmp_path, s, orphan.document_id).exists()
    assert not stale_temp.exists()
    assert path(tmp_path, s, young.document_id).exists()
    assert fresh_temp.exists()
    (entry,) = listed(s)
    assert (entry.document_id, download(s, entry)) == (kept, b"ordonnance")
    report = cycle(db, clock, blobs)
    assert (report.documents_swept, report.temporaries_removed) == (0, 0)
    # Without a store, the cycle sweeps nothing (as before the sweep existed).
    stamp(path(tmp_path, s, young.document_id), now - timedelta(days=30))
    assert run_cycle(db, clock, batch=50).documents_swept == 0
    assert path(tmp_path, s, young.document_id).exists()


def test_a_late_description_is_refused_and_a_swept_stream_too(
    s: Scene, db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    now = clock.now()
    on_time, late = upload_only(s), upload_only(s)
    stamp(path(tmp_path, s, on_time.document_id), now - GRACE)
    describe(s, on_time)  # the last instant of the grace period
    stamp(path(tmp_path, s, late.document_id), now - GRACE - timedelta(microseconds=1))
    with pytest.raises(ApiError) as refused:
        describe(s, late)
    assert (refused.value.status, refused.value.field) == (422, "envelope")
    assert "upload it again" in refused.value.problem["detail"]
    # Refused but within the margin: still there. Past it: swept; the described one stays.
    assert cycle(db, clock, store(tmp_path)).documents_swept == 0
    stamp(path(tmp_path, s, late.document_id), now - GRACE - COMMIT_MARGIN - timedelta(seconds=1))
    stamp(path(tmp_path, s, on_time.document_id), now - timedelta(days=400))
    assert cycle(db, clock, store(tmp_path)).documents_swept == 1
    assert path(tmp_path, s, on_time.document_id).exists()
    with pytest.raises(ApiError) as swept:
        describe(s, late)
    assert (swept.value.status, swept.value.field) == (422, "envelope")
    assert "upload the document's content first" in swept.value.problem["detail"]
    assert [entry.document_id for entry in listed(s)] == [on_time.document_id]
    # The client's way out: upload the stream again, then describe it.
    describe(s, upload_only(s, late.document_id))
    assert {entry.document_id for entry in listed(s)} == {on_time.document_id, late.document_id}


class Interleaving(FilesystemBlobStore):
    """The filesystem store, running ``between`` once just before its first removal."""

    def __init__(self, root: Path, between: Callable[[], None]) -> None:
        super().__init__(root)
        self._between: Callable[[], None] | None = between

    def delete_if_committed_before(self, key: str, cutoff: datetime) -> bool:
        if self._between is not None:
            between, self._between = self._between, None
            between()
        return super().delete_if_committed_before(key, cutoff)


def test_a_stream_uploaded_again_and_described_survives_a_sweep_in_flight(
    s: Scene, db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    """The sweep has listed an old orphan and found no row; before it removes the stream, the
    client uploads it again and describes it. The new stream must stay: its row needs it."""
    stale = upload_only(s)
    stamp(path(tmp_path, s, stale.document_id), clock.now() - timedelta(days=3))

    def upload_again_and_describe() -> None:
        describe(s, upload_only(s, stale.document_id))

    report = cycle(db, clock, Interleaving(tmp_path / "blobs", upload_again_and_describe))
    assert report.documents_swept == 0
    (entry,) = listed(s)
    assert (entry.document_id, download(s, entry)) == (stale.document_id, b"compte-rendu")


def test_keys_the_documents_area_never_makes_are_left_alone(
    s: Scene, db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    blobs = store(tmp_path)
    strange = [f"documents/{uuid.uuid4()}", f"documents/{'-' * 36}/{uuid.uuid4()}"]
    for key in strange:
        writer = blobs.create(key)
        writer.write(b"x")
        writer.commit(at=clock.now() - timedelta(days=30))
    assert cycle(db, clock, blobs).documents_swept == 0
    assert all(blobs.stat(key) is not None for key in strange)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (f"documents/{PRACTICE}/{DOCUMENT}", (PRACTICE, DOCUMENT)),
        (f"documents/{PRACTICE}", None),
        (f"avatars/{PRACTICE}/{DOCUMENT}", None),
        (f"documents/{'-' * 36}/{DOCUMENT}", None),
        (f"documents/{str(PRACTICE).replace('-', '')}/{DOCUMENT}", None),
    ],
)
def test_parse_blob_key(key: str, expected: tuple[uuid.UUID, uuid.UUID] | None) -> None:
    assert parse_blob_key(key) == expected


def test_an_upload_refused_after_several_batches_leaves_no_temporary_file(
    s: Scene, tmp_path: Path
) -> None:
    """Written to disk in batches through the thread pool, then refused at the end (a size no
    stream has): nothing stays, not even the temporary file."""
    document_id = uuid.uuid4()
    stream = b"".join(
        encrypt_document([bytes(3 * 1024 * 1024)], document_id=document_id, key=new_document_key())
    )[:-5]
    response = s.http.request(
        "PUT",
        f"{base(s)}/{document_id}/content",
        content=iter([stream[i : i + 65_536] for i in range(0, len(stream), 65_536)]),
        headers={"Authorization": f"Bearer {s.doctor.token}"},
    )
    assert response.status_code == 422
    directory = tmp_path / "blobs" / "documents" / str(s.world.practice_id)
    assert list(directory.iterdir()) == []


def test_the_cycle_logs_counts_only() -> None:
    with capture_logs() as logs:
        log_report(CycleReport(0, 0, 0, 0))
        log_report(CycleReport(0, 0, documents_swept=2, temporaries_removed=1))
    assert logs == [
        {
            "event": "upkeep_cycle",
            "log_level": "info",
            "agendas_refreshed": 0,
            "offers_lapsed": 0,
            "documents_swept": 2,
            "temporaries_removed": 1,
            "audit_integrated": 0,
            "audit_checkpoint": None,
        }
    ]


def test_the_sweep_runs_at_most_hourly(clock: SettableClock, tmp_path: Path) -> None:
    blobs = store(tmp_path)
    sweeps = SweepSchedule(blobs, clock)
    assert sweeps.due() is blobs
    clock.advance(DOCUMENT_SWEEP_INTERVAL - timedelta(seconds=1))
    assert sweeps.due() is None
    clock.advance(timedelta(seconds=1))
    assert sweeps.due() is blobs
    assert SweepSchedule(None, clock).due() is None


def test_the_servers_own_upkeep_sweeps_with_the_routes_store(
    db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    settings = Settings(kdf_cost=KdfCost.TEST, data_dir=tmp_path, refresh_interval_seconds=3600)
    app = create_app(settings, database=db, clock=clock)
    blobs: FilesystemBlobStore = app.state.blob_store
    key = blob_key(uuid.uuid4(), uuid.uuid4())
    writer = blobs.create(key)
    writer.write(b"never described")
    writer.commit(at=clock.now() - timedelta(days=3))
    with TestClient(app):  # starts the refresher, whose first cycle runs at once
        for _ in range(600):
            if blobs.stat(key) is None:
                break
            time.sleep(0.05)
    assert blobs.stat(key) is None
