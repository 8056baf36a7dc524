"""Documents through the API: streamed up and down, checked by the server's framing, verified by
the client against truncation, reordering and substitution; 100 MB with bounded memory."""

from __future__ import annotations

import io
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from colloque.client import ApiError
from colloque.client.encoding import b64
from colloque.client.records import DocumentEntry, SealedRecords
from colloque.clock import SettableClock
from colloque.crypto.documents import (
    CIPHERTEXT_CHUNK_BYTES,
    HEADER_BYTES,
    encrypt_document,
    new_document_key,
)
from colloque.crypto.errors import CryptoError, DecryptionFailed
from colloque.crypto.items import seal_note
from colloque.storage.engine import Database
from tests.functional.records.clients import Scene, scene

MB = 1024 * 1024


@pytest.fixture
def s(db: Database, clock: SettableClock, tmp_path: Path) -> Iterator[Scene]:
    yield from scene(db, clock, tmp_path)


def upload(s: Scene, data: bytes, name: str = "radio thorax.pdf") -> uuid.UUID:
    return s.doctor.records.upload_document(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        source=io.BytesIO(data),
        name=name,
        media_type="application/pdf",
        recipients=s.recipients(),
    )


def listed(s: Scene, *, holder: bool = False) -> list[DocumentEntry]:
    reader = s.holder if holder else s.doctor
    return reader.records.list_documents(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        authors=s.authors,
        standing=s.standing,
        group_keys=None if holder else {1: s.group},
    )


def download(s: Scene, entry: DocumentEntry, *, holder: bool = False) -> bytes:
    sink = io.BytesIO()
    reader = s.holder if holder else s.doctor
    reader.records.download_document(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        document=entry,
        target=sink,
        as_holder=holder,
    )
    return sink.getvalue()


def blob(tmp_path: Path, s: Scene, document_id: uuid.UUID) -> Path:
    return tmp_path / "blobs" / "documents" / str(s.world.practice_id) / str(document_id)


def test_a_document_round_trip_for_practitioner_and_holder(s: Scene, tmp_path: Path) -> None:
    data = bytes(range(256)) * 700  # 179,200 bytes: two full chunks and a final one
    document_id = upload(s, data)
    for holder in (False, True):
        (entry,) = listed(s, holder=holder)
        assert entry.document_id == document_id
        assert (entry.info.name, entry.info.media_type) == ("radio thorax.pdf", "application/pdf")
        assert download(s, entry, holder=holder) == data
    stored = blob(tmp_path, s, document_id).read_bytes()
    assert b"radio thorax" not in stored
    assert len(stored) == HEADER_BYTES + 2 * CIPHERTEXT_CHUNK_BYTES + 49_152 + 17


def test_truncation_reordering_and_substitution_are_caught(s: Scene, tmp_path: Path) -> None:
    data = bytes(range(256)) * 800
    upload(s, data)
    (entry,) = listed(s)
    path = blob(tmp_path, s, entry.document_id)
    original = path.read_bytes()
    first = slice(HEADER_BYTES, HEADER_BYTES + CIPHERTEXT_CHUNK_BYTES)
    second = slice(first.stop, first.stop + CIPHERTEXT_CHUNK_BYTES)
    reordered = (
        original[: first.start] + original[second] + original[first] + original[second.stop :]
    )
    for tampered in (
        original[: second.stop],  # the final chunk dropped
        original[:-1],
        reordered,
    ):
        path.write_bytes(tampered)
        with pytest.raises(CryptoError):
            download(s, entry)
    # A recipient knows the stream key: a stream re-encrypted by them decrypts, but is not the
    # one the author signed.
    forged = b"".join(
        encrypt_document([b"forged"], document_id=entry.document_id, key=entry.info.stream_key)
    )
    path.write_bytes(forged)
    with pytest.raises(DecryptionFailed, match="signed"):
        download(s, entry)
    path.unlink()
    with pytest.raises(ApiError) as missing:
        download(s, entry)
    assert missing.value.status == 404


def put(s: Scene, document_id: uuid.UUID, content: bytes, **headers: str) -> int:
    path = (
        f"/api/v1/practices/{s.world.practice_id}/patients/{s.patient_id}"
        f"/documents/{document_id}/content"
    )
    auth = {"Authorization": f"Bearer {s.doctor.token}", **headers}
    response = s.http.request("PUT", path, content=content, headers=auth)
    return response.status_code


def test_the_server_checks_the_stream_framing(s: Scene, tmp_path: Path) -> None:
    document_id = uuid.uuid4()
    key_stream = list(
        encrypt_document([bytes(10)], document_id=uuid.uuid4(), key=new_document_key())
    )
    own = list(encrypt_document([bytes(10)], document_id=document_id, key=new_document_key()))
    assert put(s, document_id, b"".join(key_stream)) == 422  # another document's stream
    assert put(s, document_id, b"\x01\x06" + bytes(60)) == 422  # bad chunk size
    assert put(s, document_id, b"".join(own)[:-5]) == 422  # a size no stream has
    assert put(s, document_id, b"") == 422
    assert put(s, document_id, b"x", **{"Content-Length": str(200 * MB)}) == 413
    assert not blob(tmp_path, s, document_id).exists()
    assert put(s, document_id, b"".join(own)) == 204
    assert blob(tmp_path, s, document_id).exists()


def test_a_description_needs_its_stream_and_seals_the_document(s: Scene) -> None:
    base = f"/api/v1/practices/{s.world.practice_id}/patients/{s.patient_id}/documents"
    records: SealedRecords = s.doctor.records
    note = seal_note(
        item_id=uuid.uuid4(),
        patient_id=s.patient_id,
        text="pas un document",
        author=s.doctor.unlocked_keys,
        recipients=s.recipients(),
    )
    body = {"envelope": b64(note.envelope), "wraps": [b64(w) for w in note.wraps]}
    with pytest.raises(ApiError) as refused:
        s.doctor._request("POST", base, json=body)
    assert (refused.value.status, refused.value.field) == (422, "envelope")  # no stream
    assert (
        put(
            s,
            note.item_id,
            b"".join(encrypt_document([b"x"], document_id=note.item_id, key=new_document_key())),
        )
        == 204
    )
    with pytest.raises(ApiError) as refused:
        s.doctor._request("POST", base, json=body)
    assert (refused.value.status, refused.value.field) == (422, "envelope")  # a note's envelope
    with pytest.raises(ApiError) as garbage:
        s.doctor._request("POST", base, json={"envelope": b64(b"\x01"), "wraps": body["wraps"]})
    assert garbage.value.status == 422
    document_id = upload(s, b"contenu")
    assert put(s, document_id, b"") == 422  # described: its stream is final (id unusable)
    assert (
        records.list_documents(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            authors=s.authors,
            standing=s.standing,
            group_keys={1: s.group},
        )[0].document_id
        == document_id
    )
    with pytest.raises(ValueError, match="HTTP"):
        SealedRecords(s.doctor._request, s.doctor.unlocked_keys).upload_document(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            source=io.BytesIO(b""),
            name="x",
            media_type="text/plain",
            recipients=s.recipients(),
        )


def test_an_upload_refused_by_the_server_raises(s: Scene) -> None:
    with pytest.raises(ApiError) as refused:
        s.secretary.records.upload_document(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            source=io.BytesIO(b"x"),
            name="x",
            media_type="text/plain",
            recipients=s.recipients(),
        )
    assert refused.value.status == 403
    document_id = upload(s, b"compte-rendu")
    (entry,) = listed(s)
    with pytest.raises(ApiError) as not_yours:
        s.secretary.records.download_document(
            practice_id=s.world.practice_id,
            patient_id=s.patient_id,
            document=entry,
            target=io.BytesIO(),
        )
    assert not_yours.value.status == 403
    assert entry.document_id == document_id


class Zeros:
    """A 100 MB file that is never in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, size: int) -> bytes:
        piece = min(size, self.left)
        self.left -= piece
        return bytes(piece)


class Counting:
    def __init__(self) -> None:
        self.size = 0
        self.nonzero = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        self.nonzero = self.nonzero or any(data)
        return len(data)


def test_100_mb_stream_up_and_down_in_bounded_memory(
    sqlite_db: Database, clock: SettableClock, tmp_path: Path
) -> None:
    """Through a real server and httpx2, in this process: the peak stays far below the size.
    (SQLite only: the database holds only the envelope.)"""
    for live in scene(sqlite_db, clock, tmp_path, server=True):
        size = 100 * MB
        tracemalloc.start()
        try:
            document_id = live.doctor.records.upload_document(
                practice_id=live.world.practice_id,
                patient_id=live.patient_id,
                source=Zeros(size),
                name="IRM.dcm",
                media_type="application/dicom",
                recipients=live.recipients(),
            )
            (entry,) = listed(live)
            sink = Counting()
            live.doctor.records.download_document(
                practice_id=live.world.practice_id,
                patient_id=live.patient_id,
                document=entry,
                target=sink,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert entry.document_id == document_id
        assert (sink.size, sink.nonzero) == (size, False)
        assert peak < 8 * MB, f"peak {peak / MB:.1f} MB"


def test_the_holder_shares_a_document_the_practitioner_reads(s: Scene) -> None:
    data = bytes(range(256)) * 300
    document_id = s.holder.records.upload_document(
        practice_id=s.world.practice_id,
        patient_id=s.patient_id,
        source=io.BytesIO(data),
        name="ordonnance.png",
        media_type="image/png",
        recipients=s.recipients(),
        as_holder=True,
    )
    for holder in (False, True):
        (entry,) = listed(s, holder=holder)
        assert (entry.document_id, entry.author_account_id) == (document_id, s.holder.account_id)
        assert entry.author_standing == "holder"
        assert entry.info.name == "ordonnance.png"
        assert download(s, entry, holder=holder) == data


def test_a_holder_shares_only_with_a_practice_that_knows_the_patient(s: Scene) -> None:
    elsewhere = uuid.uuid4()
    with pytest.raises(ApiError) as refused:
        s.holder.records.upload_document(
            practice_id=elsewhere,
            patient_id=s.patient_id,
            source=io.BytesIO(b"x"),
            name="x.txt",
            media_type="text/plain",
            recipients=s.recipients(),
            as_holder=True,
        )
    assert (refused.value.status, refused.value.field) == (404, "practice_id")
