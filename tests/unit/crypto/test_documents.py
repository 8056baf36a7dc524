"""Documents: streaming encryption, and every way a stream can be damaged."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Iterator

import pytest
from nacl import bindings

from colloque.crypto import _sodium, documents
from colloque.crypto.documents import (
    CHUNK_BYTES,
    CIPHERTEXT_CHUNK_BYTES,
    HEADER_BYTES,
    DocumentTooLarge,
)
from colloque.crypto.errors import CryptoError, DecryptionFailed, MalformedEnvelope, WrongContext
from colloque.crypto.items import ItemKey
from tests.unit.crypto.helpers import flip

DOC = uuid.uuid4()
KEY = documents.new_document_key()


def encrypt(
    data: bytes, *, pieces: int = 1, doc: uuid.UUID = DOC, key: ItemKey = KEY
) -> list[bytes]:
    return list(documents.encrypt_document(split(data, pieces), document_id=doc, key=key))


def decrypt(stream: list[bytes] | bytes, *, doc: uuid.UUID = DOC, key: ItemKey = KEY) -> bytes:
    parts = [stream] if isinstance(stream, bytes) else stream
    return b"".join(documents.decrypt_document(parts, document_id=doc, key=key))


def split(data: bytes, pieces: int) -> Iterator[bytes]:
    """``data`` cut at ``pieces - 1`` reproducible random places (empty pieces included)."""
    chooser = random.Random(len(data) * 31 + pieces)
    cuts = sorted(chooser.randint(0, len(data)) for _ in range(pieces - 1))
    for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True):
        yield data[start:end]


@pytest.mark.parametrize(
    "size", [0, 1, 4095, 4096, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 5]
)
@pytest.mark.parametrize("pieces", [1, 7])
def test_round_trip(size: int, pieces: int) -> None:
    data = os.urandom(size)
    stream = encrypt(data, pieces=pieces)
    assert len(stream[0]) == HEADER_BYTES
    assert all(len(chunk) == CIPHERTEXT_CHUNK_BYTES for chunk in stream[1:-1])
    full, rest = divmod(size, CHUNK_BYTES)
    final = (rest // 4096 + 1) * 4096
    assert len(b"".join(stream)) == HEADER_BYTES + full * CIPHERTEXT_CHUNK_BYTES + final + 17
    assert decrypt(stream) == data
    assert decrypt(list(split(b"".join(stream), 9))) == data


def test_round_trip_fed_byte_by_byte() -> None:
    data = os.urandom(5000)
    stream = b"".join(encrypt(data))
    assert decrypt([stream[i : i + 1] for i in range(len(stream))]) == data


def test_big_pieces_in_and_out() -> None:
    data = os.urandom(2 * CHUNK_BYTES + 100)
    stream = encrypt(data, pieces=1)
    assert len(stream) == 4  # header, two full chunks, final
    assert decrypt(b"".join(stream)) == data


def test_truncation_is_detected() -> None:
    stream = encrypt(os.urandom(2 * CHUNK_BYTES + 10))
    with pytest.raises(DecryptionFailed):
        decrypt(stream[:-1])  # the final chunk dropped: the stream ends on a MESSAGE chunk
    with pytest.raises(DecryptionFailed):
        decrypt(stream[:-2])
    with pytest.raises(DecryptionFailed):
        decrypt(b"".join(stream)[:-5])  # cut inside the final chunk
    with pytest.raises(DecryptionFailed):
        decrypt(stream[:1])  # the header alone
    with pytest.raises(MalformedEnvelope):
        decrypt(stream[0][:-1])
    with pytest.raises(MalformedEnvelope):
        decrypt([])


def test_reordering_is_detected() -> None:
    stream = encrypt(os.urandom(3 * CHUNK_BYTES + 10))
    swapped = [stream[0], stream[2], stream[1], *stream[3:]]
    with pytest.raises(DecryptionFailed):
        decrypt(swapped)


def test_chunk_swap_between_two_documents_is_detected() -> None:
    other_doc, other_key = uuid.uuid4(), documents.new_document_key()
    mine = encrypt(os.urandom(2 * CHUNK_BYTES + 10))
    theirs = encrypt(os.urandom(2 * CHUNK_BYTES + 10), doc=other_doc, key=other_key)
    with pytest.raises(DecryptionFailed):
        decrypt([mine[0], mine[1], theirs[2], mine[3]])
    # Even under the same key (which never happens: keys are per document), the header is the AD.
    same_key = encrypt(os.urandom(2 * CHUNK_BYTES + 10), doc=other_doc)
    with pytest.raises(DecryptionFailed):
        decrypt([mine[0], same_key[1], mine[2], mine[3]])
    with pytest.raises(WrongContext):
        decrypt(same_key)  # the stream of another document
    with pytest.raises(DecryptionFailed):
        decrypt(mine, key=other_key)


@pytest.mark.parametrize(
    ("index", "error"),
    [
        (0, MalformedEnvelope),  # version
        (1, MalformedEnvelope),  # type
        (5, WrongContext),  # document id
        (20, MalformedEnvelope),  # chunk size
        (30, DecryptionFailed),  # secretstream header
        (HEADER_BYTES + 3, DecryptionFailed),  # first chunk
        (HEADER_BYTES + CIPHERTEXT_CHUNK_BYTES + 70, DecryptionFailed),  # final chunk
        (-1, DecryptionFailed),  # final MAC
    ],
)
def test_bit_flips_are_detected(index: int, error: type[CryptoError]) -> None:
    stream = b"".join(encrypt(os.urandom(CHUNK_BYTES + 10)))
    with pytest.raises(error):
        decrypt(flip(stream, index))


def test_data_after_the_final_chunk_is_refused() -> None:
    stream = encrypt(os.urandom(100))
    with pytest.raises(DecryptionFailed):
        decrypt([*stream, b"x"])  # a short final chunk cannot be told apart: its MAC fails
    full = encrypt(os.urandom(CHUNK_BYTES - 10))  # the final chunk is full-size
    with pytest.raises(MalformedEnvelope):
        decrypt([*full, full[1]])


def _crafted(chunks: list[tuple[bytes, int]]) -> bytes:
    """A stream made with arbitrary tags and chunk contents, bypassing encrypt_document's rules."""
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    header = (
        b"\x01\x06"
        + DOC.bytes
        + CHUNK_BYTES.to_bytes(4, "big")
        + bindings.crypto_secretstream_xchacha20poly1305_init_push(state, KEY.secret)
    )
    body = b"".join(
        bindings.crypto_secretstream_xchacha20poly1305_push(state, m, header, tag)
        for m, tag in chunks
    )
    return header + body


FINAL = _sodium.STREAM_TAG_FINAL
MESSAGE = _sodium.STREAM_TAG_MESSAGE
PUSH = bindings.crypto_secretstream_xchacha20poly1305_TAG_PUSH


@pytest.mark.parametrize(
    "chunks",
    [
        [(bytes(CHUNK_BYTES), PUSH), (_sodium.pad(b"", 4096), FINAL)],  # a PUSH tag
        [(b"short", MESSAGE)],  # a stream ending on a short MESSAGE chunk
        [(b"\x80" + bytes(100), FINAL)],  # a final chunk not a multiple of 4 KiB
        [(bytes(4096), FINAL)],  # a final chunk without padding
        [(b"", FINAL)],  # an empty final chunk
    ],
)
def test_streams_breaking_the_chunking_rules_are_refused(chunks: list[tuple[bytes, int]]) -> None:
    with pytest.raises(MalformedEnvelope):
        decrypt(_crafted(chunks))


def test_a_short_message_chunk_inside_a_stream_breaks_the_framing() -> None:
    with pytest.raises(DecryptionFailed):
        decrypt(_crafted([(b"short", MESSAGE), (_sodium.pad(b"", 4096), FINAL)]))


def test_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_BYTES", 3 * CHUNK_BYTES)
    with pytest.raises(DocumentTooLarge):
        encrypt(os.urandom(3 * CHUNK_BYTES + 1), pieces=3)
    stream = encrypt(os.urandom(3 * CHUNK_BYTES))
    monkeypatch.setattr(documents, "_MAX_CHUNKS", 3)
    with pytest.raises(MalformedEnvelope):
        decrypt(stream)


def test_the_real_limit_is_100_mib() -> None:
    assert documents.MAX_DOCUMENT_BYTES == 100 * 1024 * 1024
    assert documents._MAX_CHUNKS == 1601
