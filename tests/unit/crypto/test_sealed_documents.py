"""Documents as sealed items: the signed description of a stream, and what a server can check."""

from __future__ import annotations

import uuid

import pytest

from colloque.crypto import groups, items
from colloque.crypto.documents import (
    CHUNK_BYTES,
    CIPHERTEXT_CHUNK_BYTES,
    HEADER_BYTES,
    MAX_DOCUMENT_BYTES,
    encrypt_document,
    new_document_key,
)
from colloque.crypto.errors import DecryptionFailed, MalformedEnvelope, WrongContext
from colloque.crypto.items import ItemKind
from colloque.crypto.sealed_documents import (
    MAX_STREAM_BYTES,
    DocumentInfo,
    StreamDigest,
    check_digest,
    check_stream_size,
    open_document,
    read_stream_header,
    seal_document,
)
from tests.unit.crypto.helpers import new_user

DOCTOR = new_user()
PATIENT_KEYS = new_user()
GROUP = groups.create_group(uuid.uuid4(), members=[DOCTOR.encryption_binding()]).group_key
RECIPIENTS = [PATIENT_KEYS.encryption_binding(), GROUP.encryption_binding()]


def encrypted(document_id: uuid.UUID, size: int) -> tuple[list[bytes], DocumentInfo]:
    key = new_document_key()
    digest = StreamDigest()
    stream = list(encrypt_document([bytes(size)], document_id=document_id, key=key))
    for piece in stream:
        digest.update(piece)
    info = DocumentInfo("compte-rendu é.pdf", "application/pdf", digest.digest(), key)
    return stream, info


def test_round_trip_name_type_key_and_digest() -> None:
    document_id, patient_id = uuid.uuid4(), uuid.uuid4()
    stream, info = encrypted(document_id, 70_000)
    sealed = seal_document(
        document_id=document_id,
        patient_id=patient_id,
        info=info,
        author=DOCTOR,
        recipients=RECIPIENTS,
    )
    assert items.read_item_header(sealed.envelope).kind is ItemKind.DOCUMENT
    item_key = items.unwrap_item_key(sealed.wraps[0], item_id=document_id, holder=PATIENT_KEYS)
    opened = open_document(
        sealed.envelope,
        item_key=item_key,
        document_id=document_id,
        patient_id=patient_id,
        author=DOCTOR.signing_binding(),
    )
    assert opened == info
    received = StreamDigest()
    for piece in stream:
        received.update(piece)
    check_digest(received, opened)
    assert received.size == sum(map(len, stream))
    check_stream_size(received.size)
    assert read_stream_header(stream[0]) == document_id
    received.update(b"x")
    with pytest.raises(DecryptionFailed):
        check_digest(received, opened)
    with pytest.raises(WrongContext):
        open_document(
            sealed.envelope,
            item_key=item_key,
            document_id=document_id,
            patient_id=uuid.uuid4(),
            author=DOCTOR.signing_binding(),
        )


def test_sealing_refuses_misuse() -> None:
    _, info = encrypted(uuid.uuid4(), 1)
    for bad in (
        DocumentInfo("n" * 1025, "text/plain", info.digest, info.stream_key),
        DocumentInfo("n", "t" * 256, info.digest, info.stream_key),
        DocumentInfo("n", "text/plain", b"short", info.stream_key),
    ):
        with pytest.raises(ValueError, match=r"long|32 bytes"):
            seal_document(
                document_id=uuid.uuid4(),
                patient_id=uuid.uuid4(),
                info=bad,
                author=DOCTOR,
                recipients=RECIPIENTS,
            )


@pytest.mark.parametrize(
    "body",
    [
        b"\x00" * 65,
        bytes(64) + b"\x00\x09abc",
        bytes(64) + b"\x00\x01\xff",
        bytes(64) + b"\x00\x00\xff",
        bytes(64) + (1025).to_bytes(2, "big") + b"n" * 1025 + b"text/plain",
        bytes(64) + b"\x00\x01n" + b"t" * 256,
    ],
)
def test_malformed_descriptions_are_refused(body: bytes) -> None:
    document_id, patient_id = uuid.uuid4(), uuid.uuid4()
    sealed = items._seal_random(
        ItemKind.DOCUMENT, document_id, patient_id, body, DOCTOR, RECIPIENTS
    )
    with pytest.raises(MalformedEnvelope):
        open_document(
            sealed.envelope,
            item_key=sealed.item_key,
            document_id=document_id,
            patient_id=patient_id,
            author=DOCTOR.signing_binding(),
        )


def test_stream_sizes_the_server_accepts() -> None:
    final_min = 4096 + 17
    for size in (
        HEADER_BYTES + final_min,
        HEADER_BYTES + CIPHERTEXT_CHUNK_BYTES,  # one full final chunk
        HEADER_BYTES + 3 * CIPHERTEXT_CHUNK_BYTES + 8192 + 17,
        MAX_STREAM_BYTES,
    ):
        check_stream_size(size)
    for size in (
        0,
        HEADER_BYTES,
        HEADER_BYTES + 17,
        HEADER_BYTES + final_min + 1,
        HEADER_BYTES + CIPHERTEXT_CHUNK_BYTES + 100,
        MAX_STREAM_BYTES + CIPHERTEXT_CHUNK_BYTES,
    ):
        with pytest.raises(MalformedEnvelope):
            check_stream_size(size)
    assert MAX_STREAM_BYTES > MAX_DOCUMENT_BYTES + CHUNK_BYTES


def test_stream_headers_the_server_accepts() -> None:
    stream, _ = encrypted(uuid.uuid4(), 10)
    header = stream[0]
    with pytest.raises(MalformedEnvelope, match="chunk size"):
        read_stream_header(header[:18] + (4096).to_bytes(4, "big") + header[22:])
    with pytest.raises(MalformedEnvelope):
        read_stream_header(header + b"\x00")
