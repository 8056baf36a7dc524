"""Documents up to 100 MiB: a libsodium secretstream in 64 KiB chunks, bytes in and bytes out as iterators.

:func:`encrypt_document` yields the 46-byte header, then one ciphertext chunk per 64 KiB, the last one
tagged FINAL and padded to 4 KiB. :func:`decrypt_document` accepts the ciphertext cut anywhere and yields
plaintext. Truncation, reordering, a chunk from another document and any flipped bit raise CryptoError.
The document key is an :class:`~colloque.crypto.items.ItemKey`, wrapped with
:func:`~colloque.crypto.items.wrap_item_key_for` (item id = document id). Format: docs/crypto.md,
section 5.3.

Plaintext is yielded as soon as each chunk authenticates, before the end of the stream is known to be
intact: act on a document only once the iterator finished without raising.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import DecryptionFailed, MalformedEnvelope, WrongContext
from colloque.crypto.items import ItemKey, new_item_key

CHUNK_BYTES = 65_536
FINAL_PAD_BLOCK = 4_096
MAX_DOCUMENT_BYTES = 100 * 1024 * 1024
HEADER_BYTES = 46
CIPHERTEXT_CHUNK_BYTES = CHUNK_BYTES + _sodium.STREAM_OVERHEAD
_MAX_CHUNKS = MAX_DOCUMENT_BYTES // CHUNK_BYTES + 1


class DocumentTooLarge(ValueError):
    """The plaintext given to encrypt_document is over MAX_DOCUMENT_BYTES."""


def new_document_key() -> ItemKey:
    return new_item_key()


def encrypt_document(
    chunks: Iterable[bytes], *, document_id: UUID, key: ItemKey
) -> Iterator[bytes]:
    """Yield the header, then the ciphertext chunks. ``chunks`` may be cut anywhere."""
    stream = _sodium.StreamPush(key.secret)
    header = prefix(EnvelopeType.DOCUMENT) + document_id.bytes + u32(CHUNK_BYTES) + stream.header
    yield header
    pending = bytearray()
    total = 0
    for piece in chunks:
        total += len(piece)
        if total > MAX_DOCUMENT_BYTES:
            raise DocumentTooLarge("documents are limited to 100 MiB")
        view = memoryview(piece)
        if pending:
            taken = CHUNK_BYTES - len(pending)
            pending += view[:taken]
            view = view[taken:]
            if len(pending) == CHUNK_BYTES:
                yield stream.push(bytes(pending), header, final=False)
                pending.clear()
        while len(view) >= CHUNK_BYTES:
            yield stream.push(bytes(view[:CHUNK_BYTES]), header, final=False)
            view = view[CHUNK_BYTES:]
        pending += view
    yield stream.push(_sodium.pad(bytes(pending), FINAL_PAD_BLOCK), header, final=True)


class _Decryptor:
    def __init__(self, header: bytes, document_id: UUID, key: ItemKey) -> None:
        reader = Reader(header, EnvelopeType.DOCUMENT)
        if reader.uuid() != document_id:
            raise WrongContext("the stream of another document")
        if reader.u32() != CHUNK_BYTES:
            raise MalformedEnvelope("unsupported chunk size")
        self._stream = _sodium.StreamPull(reader.take(_sodium.STREAM_HEADER_BYTES), key.secret)
        self._header = header
        self._chunks = 0
        self.finished = False

    def pull(self, ciphertext: bytes) -> bytes:
        self._chunks += 1
        if self._chunks > _MAX_CHUNKS:
            raise MalformedEnvelope("document is over 100 MiB")
        plaintext, tag = self._stream.pull(ciphertext, self._header)
        if tag == _sodium.STREAM_TAG_FINAL:
            self.finished = True
            if len(plaintext) % FINAL_PAD_BLOCK:
                raise MalformedEnvelope("bad final chunk")
            return _sodium.unpad(plaintext, FINAL_PAD_BLOCK)
        if tag != _sodium.STREAM_TAG_MESSAGE or len(plaintext) != CHUNK_BYTES:
            raise MalformedEnvelope("unexpected chunk")
        return plaintext


def decrypt_document(
    chunks: Iterable[bytes], *, document_id: UUID, key: ItemKey
) -> Iterator[bytes]:
    """Yield the plaintext. Raises CryptoError on truncation, reordering, splicing or tampering."""
    pending = bytearray()
    decryptor: _Decryptor | None = None
    for piece in chunks:
        pending += piece
        if decryptor is None:
            if len(pending) < HEADER_BYTES:
                continue
            decryptor = _Decryptor(bytes(pending[:HEADER_BYTES]), document_id, key)
            del pending[:HEADER_BYTES]
        start = 0
        while len(pending) - start >= CIPHERTEXT_CHUNK_BYTES and not decryptor.finished:
            end = start + CIPHERTEXT_CHUNK_BYTES
            # One copy (the memoryview is released at once); PyNaCl wants bytes.
            plaintext = decryptor.pull(bytes(memoryview(pending)[start:end]))
            start = end
            yield plaintext  # a full-size chunk is never empty
        del pending[:start]
        if decryptor.finished and pending:
            raise MalformedEnvelope("data after the end of the document")
    if decryptor is None:
        raise MalformedEnvelope("document is too short")
    if not decryptor.finished:
        if not pending:
            raise DecryptionFailed("document is truncated")
        # Shorter than a full chunk, so it can only be the FINAL one: pull() raises otherwise.
        plaintext = decryptor.pull(bytes(pending))
        if plaintext:
            yield plaintext
