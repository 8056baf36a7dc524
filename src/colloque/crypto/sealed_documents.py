"""A document as a sealed item: a signed item envelope (kind ``DOCUMENT``) describes a stream.

The stream (``crypto.documents``) is encrypted under its own random stream key. The item envelope,
under the item key like any item, carries that stream key, a BLAKE2b-256 digest of the whole
ciphertext stream (header and chunks), the file name and the media type. So the name and type are
encrypted; the author's signature covers the digest, so no recipient (who knows the stream key) can
swap the content; and moving the item key to new keys never touches the stream. Format:
docs/crypto.md, section 5.3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader
from colloque.crypto.documents import (
    CHUNK_BYTES,
    CIPHERTEXT_CHUNK_BYTES,
    FINAL_PAD_BLOCK,
    HEADER_BYTES,
    MAX_DOCUMENT_BYTES,
)
from colloque.crypto.errors import DecryptionFailed, MalformedEnvelope
from colloque.crypto.items import (
    ItemKey,
    ItemKind,
    SealedItem,
    _open,
    _seal_random,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding

DIGEST_BYTES = 32
MAX_NAME_BYTES = 1024
MAX_MEDIA_TYPE_BYTES = 255
#: The largest stream: the header, then every full chunk and a full final chunk.
MAX_STREAM_BYTES = HEADER_BYTES + (MAX_DOCUMENT_BYTES // CHUNK_BYTES + 1) * CIPHERTEXT_CHUNK_BYTES
_FINAL_OVERHEAD = CIPHERTEXT_CHUNK_BYTES - CHUNK_BYTES


@dataclass(frozen=True)
class DocumentInfo:
    """What the envelope of a document holds."""

    name: str
    media_type: str
    digest: bytes
    stream_key: ItemKey = field(repr=False)


class StreamDigest:
    """BLAKE2b-256 of a ciphertext stream, fed as it is produced or received."""

    def __init__(self) -> None:
        self._state = _sodium.Blake2bStream(DIGEST_BYTES)
        self.size = 0

    def update(self, data: bytes) -> None:
        self._state.update(data)
        self.size += len(data)

    def digest(self) -> bytes:
        return self._state.digest()


def seal_document(
    *,
    document_id: UUID,
    patient_id: UUID,
    info: DocumentInfo,
    author: UserKeys,
    recipients: Sequence[KeyBinding],
) -> SealedItem:
    """The envelope of a document already encrypted under ``info.stream_key`` (digest known)."""
    body = _document_body(info)
    return _seal_random(ItemKind.DOCUMENT, document_id, patient_id, body, author, recipients)


def open_document(
    envelope: bytes,
    *,
    item_key: ItemKey,
    document_id: UUID,
    patient_id: UUID,
    author: KeyBinding,
) -> DocumentInfo:
    """Verify and decrypt a document's envelope (then check the stream with :func:`check_digest`)."""
    body = _open(envelope, ItemKind.DOCUMENT, item_key, document_id, patient_id, author)
    if len(body) < 2 * _sodium.KEY_BYTES + 2:
        raise MalformedEnvelope("document description is too short")
    name_end = 2 * _sodium.KEY_BYTES + 2 + int.from_bytes(body[64:66], "big")
    if name_end > len(body):
        raise MalformedEnvelope("document name overruns its description")
    # The limits sealing applies, so that a signed but oversized description is refused too.
    if name_end - 66 > MAX_NAME_BYTES or len(body) - name_end > MAX_MEDIA_TYPE_BYTES:
        raise MalformedEnvelope("document name or media type too long")
    try:
        name = body[66:name_end].decode("utf-8")
        media_type = body[name_end:].decode("ascii")
    except UnicodeDecodeError:
        raise MalformedEnvelope("document name or media type is not text") from None
    return DocumentInfo(name, media_type, body[32:64], ItemKey(body[:32]))


def check_digest(digest: StreamDigest, info: DocumentInfo) -> None:
    """Raise unless the stream received is the one the author signed."""
    if not _sodium.equal(digest.digest(), info.digest):
        raise DecryptionFailed("the document is not the one its author signed")


def read_stream_header(header: bytes) -> UUID:
    """The document id of a stream's 46-byte header (version, type and chunk size checked)."""
    reader = Reader(header, EnvelopeType.DOCUMENT)
    document_id = reader.uuid()
    if reader.u32() != CHUNK_BYTES:
        raise MalformedEnvelope("unsupported chunk size")
    reader.take(_sodium.STREAM_HEADER_BYTES)
    reader.end()
    return document_id


def check_stream_size(size: int) -> None:
    """Raise unless ``size`` bytes can be a whole stream: full chunks, then a padded final one.

    What a server can check without the key: the framing of the ciphertext, not its content.
    """
    rest = size - HEADER_BYTES
    if rest <= 0 or size > MAX_STREAM_BYTES:
        raise MalformedEnvelope("impossible document size")
    final = rest % CIPHERTEXT_CHUNK_BYTES or CIPHERTEXT_CHUNK_BYTES
    padded = final - _FINAL_OVERHEAD
    if padded <= 0 or padded % FINAL_PAD_BLOCK:
        raise MalformedEnvelope("impossible document size")


def _document_body(info: DocumentInfo) -> bytes:
    """The item body describing a stream (apart so that test vectors can seal it deterministically)."""
    name = info.name.encode("utf-8")
    media_type = info.media_type.encode("ascii")
    if len(name) > MAX_NAME_BYTES or len(media_type) > MAX_MEDIA_TYPE_BYTES:
        raise ValueError("document name or media type too long")
    if len(info.digest) != DIGEST_BYTES:
        raise ValueError("a stream digest is 32 bytes")
    return info.stream_key.secret + info.digest + len(name).to_bytes(2, "big") + name + media_type
