"""Secrets the server itself must read back (TOTP seeds), sealed at rest under a server key.

Unlike health data these are not end-to-end: the server verifies TOTP codes, so it must be able
to open the seed. Sealing keeps them out of a stolen database or backup that lacks the server
secret (``COLLOQUE_SECRET_KEY``), which lives only in the deployment's environment.

Envelope (docs/crypto.md): ``01 09 | purpose (16 B, zero-padded ASCII) | subject id (16 B) |
nonce (24 B) | XChaCha20-Poly1305 ciphertext``. The associated data is everything before the
ciphertext, so a sealed value cannot be moved to another account or used for another purpose.
The 32-byte key is derived by the caller from the deployment secret, one key per purpose.
"""

from __future__ import annotations

from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix
from colloque.crypto.errors import MalformedEnvelope

PURPOSE_BYTES = 16
NONCE_BYTES = 24
KEY_BYTES = 32


def _purpose_field(purpose: str) -> bytes:
    raw = purpose.encode("ascii")
    # No NUL: the field is NUL-padded, so "a" and "a\0" would be the same purpose.
    if not raw or len(raw) > PURPOSE_BYTES or b"\x00" in raw:
        raise ValueError("purpose must be 1 to 16 ASCII characters, without NUL")
    return raw.ljust(PURPOSE_BYTES, b"\x00")


def seal_server_secret(value: bytes, *, key: bytes, purpose: str, subject_id: UUID) -> bytes:
    nonce = _sodium.random_bytes(NONCE_BYTES)
    return _seal(value, key=key, purpose=purpose, subject_id=subject_id, nonce=nonce)


def open_server_secret(sealed: bytes, *, key: bytes, purpose: str, subject_id: UUID) -> bytes:
    """Raise CryptoError unless ``sealed`` was sealed under ``key`` for this purpose and subject."""
    reader = Reader(sealed, EnvelopeType.SERVER_SECRET)
    if reader.take(PURPOSE_BYTES) != _purpose_field(purpose):
        raise MalformedEnvelope("sealed for another purpose")
    if reader.uuid() != subject_id:
        raise MalformedEnvelope("sealed for another subject")
    nonce = reader.take(NONCE_BYTES)
    header = reader.consumed()
    return _sodium.aead_decrypt(reader.rest(), header, nonce, key)


def _seal(value: bytes, *, key: bytes, purpose: str, subject_id: UUID, nonce: bytes) -> bytes:
    """Deterministic given its nonce: for test vectors only (a reused nonce breaks the AEAD)."""
    if len(key) != KEY_BYTES:
        raise ValueError("the sealing key must be 32 bytes")
    header = prefix(EnvelopeType.SERVER_SECRET) + _purpose_field(purpose) + subject_id.bytes
    return header + nonce + _sodium.aead_encrypt(value, header + nonce, nonce, key)
