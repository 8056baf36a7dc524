"""Hazardous primitives: thin wrappers over libsodium (PyNaCl) for the recipes in this package.

Nothing outside ``colloque.crypto`` may import this module. Each wrapper maps libsodium's failures to
this package's exceptions, so that the recipes never see a PyNaCl exception. Lengths are checked by the
callers (the envelope parsers); a wrong length reaching libsodium is a bug and surfaces as ValueError.
"""

from __future__ import annotations

import hashlib
import hmac

from nacl import bindings as _b
from nacl import hashlib as _nacl_hashlib
from nacl.exceptions import CryptoError as _NaclCryptoError

from colloque.crypto.errors import (
    DecryptionFailed,
    InvalidPublicKey,
    MalformedEnvelope,
    SignatureInvalid,
)

KEY_BYTES = 32
NONCE_BYTES = _b.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
TAG_BYTES = _b.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
SEAL_OVERHEAD = _b.crypto_box_SEALBYTES  # 48: ephemeral public key + MAC
SIGNATURE_BYTES = _b.crypto_sign_BYTES  # 64
PUBLIC_KEY_BYTES = 32
STREAM_HEADER_BYTES = _b.crypto_secretstream_xchacha20poly1305_HEADERBYTES  # 24
STREAM_OVERHEAD = _b.crypto_secretstream_xchacha20poly1305_ABYTES  # 17
STREAM_TAG_MESSAGE = _b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE  # 0
STREAM_TAG_FINAL = _b.crypto_secretstream_xchacha20poly1305_TAG_FINAL  # 3
ARGON2ID13 = _b.crypto_pwhash_ALG_ARGON2ID13  # 2


def random_bytes(size: int) -> bytes:
    return _b.randombytes(size)


def equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison, for secrets and values derived from them."""
    return hmac.compare_digest(a, b)


# Symmetric ------------------------------------------------------------------------------------------


def aead_encrypt(plaintext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    return _b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)


def aead_decrypt(ciphertext: bytes, ad: bytes, nonce: bytes, key: bytes) -> bytes:
    try:
        return _b.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)
    except _NaclCryptoError:
        raise DecryptionFailed("decryption failed") from None


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 7816-4 padding to a multiple of ``block`` (always adds at least one byte)."""
    return _b.sodium_pad(data, block)


def unpad(data: bytes, block: int) -> bytes:
    try:
        return _b.sodium_unpad(data, block)
    except (_NaclCryptoError, ValueError):
        raise MalformedEnvelope("bad padding") from None


# Hashing and key derivation -------------------------------------------------------------------------


def blake2b(message: bytes, *, length: int, key: bytes = b"") -> bytes:
    """``crypto_generichash``: BLAKE2b with an optional key."""
    return _b.crypto_generichash_blake2b_salt_personal(message, digest_size=length, key=key)


class Blake2bStream:
    """``crypto_generichash`` fed piece by piece (PyNaCl's libsodium-backed incremental state)."""

    def __init__(self, length: int) -> None:
        self._state = _nacl_hashlib.blake2b(digest_size=length)

    def update(self, data: bytes) -> None:
        self._state.update(data)

    def digest(self) -> bytes:
        return self._state.digest()


def kdf_derive(key: bytes, subkey_id: int, context: bytes, length: int = KEY_BYTES) -> bytes:
    """libsodium's ``crypto_kdf_derive_from_key`` (PyNaCl does not expose it; this is its definition).

    BLAKE2b keyed with ``key``, salt = subkey id as u64 little-endian then 8 zero bytes, personal =
    the 8-byte context then 8 zero bytes, empty message. Checked against libsodium's kdf.exp.
    """
    if len(context) != 8 or len(key) != KEY_BYTES or not 16 <= length <= 64:
        raise ValueError("crypto_kdf needs an 8-byte context, a 32-byte key and 16..64 bytes out")
    return _b.crypto_generichash_blake2b_salt_personal(
        b"",
        digest_size=length,
        key=key,
        salt=subkey_id.to_bytes(8, "little") + bytes(8),
        person=context + bytes(8),
    )


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def argon2id(password: bytes, salt: bytes, opslimit: int, memlimit: int, length: int = 32) -> bytes:
    """``crypto_pwhash`` with Argon2id v1.3 (one lane)."""
    return _b.crypto_pwhash_alg(length, password, salt, opslimit, memlimit, ARGON2ID13)


# Key pairs and signatures ---------------------------------------------------------------------------


def x25519_public_from_secret(secret: bytes) -> bytes:
    return _b.crypto_scalarmult_base(secret)


def ed25519_keypair_from_seed(seed: bytes) -> tuple[bytes, bytes]:
    """(public key, 64-byte libsodium secret key) from a 32-byte seed."""
    return _b.crypto_sign_seed_keypair(seed)


def ed25519_sign(message: bytes, secret: bytes) -> bytes:
    return _b.crypto_sign(message, secret)[:SIGNATURE_BYTES]


def ed25519_verify(signature: bytes, message: bytes, public: bytes) -> None:
    """Raises unless ``signature`` is a valid, canonical signature of ``message`` by ``public``.

    libsodium refuses non-canonical S values and small-order R and public keys.
    """
    if len(signature) != SIGNATURE_BYTES or len(public) != PUBLIC_KEY_BYTES:
        raise SignatureInvalid("signature does not verify")
    try:
        _b.crypto_sign_open(signature + message, public)
    except _NaclCryptoError:
        raise SignatureInvalid("signature does not verify") from None


# Sealed boxes ---------------------------------------------------------------------------------------


def seal(message: bytes, public: bytes) -> bytes:
    """``crypto_box_seal``: anonymous public-key encryption (ephemeral X25519 + XSalsa20-Poly1305)."""
    if len(public) != PUBLIC_KEY_BYTES:
        raise InvalidPublicKey("not an X25519 public key")
    try:
        return _b.crypto_box_seal(message, public)
    except _NaclCryptoError:
        raise InvalidPublicKey("public key refused (low order)") from None


def seal_with_ephemeral_seed(message: bytes, public: bytes, seed: bytes) -> bytes:
    """``crypto_box_seal`` with the ephemeral key pair made from ``seed``: TEST VECTORS ONLY.

    Follows libsodium's construction: nonce = BLAKE2b-192(epk || pk), then crypto_box_easy with the
    ephemeral secret key, output epk || box. Reusing a seed destroys confidentiality.
    """
    if len(public) != PUBLIC_KEY_BYTES:
        raise InvalidPublicKey("not an X25519 public key")
    ephemeral_public, ephemeral_secret = _b.crypto_box_seed_keypair(seed)
    nonce = blake2b(ephemeral_public + public, length=_b.crypto_box_NONCEBYTES)
    try:
        box = _b.crypto_box_easy(message, nonce, public, ephemeral_secret)
    except _NaclCryptoError:
        raise InvalidPublicKey("public key refused (low order)") from None
    return ephemeral_public + box


def seal_open(ciphertext: bytes, public: bytes, secret: bytes) -> bytes:
    try:
        return _b.crypto_box_seal_open(ciphertext, public, secret)
    except _NaclCryptoError:
        raise DecryptionFailed("decryption failed") from None


# Secretstream ---------------------------------------------------------------------------------------


class StreamPush:
    """The sending half of ``crypto_secretstream_xchacha20poly1305``."""

    def __init__(self, key: bytes) -> None:
        self._state = _b.crypto_secretstream_xchacha20poly1305_state()
        self.header = _b.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)

    def push(self, message: bytes, ad: bytes, *, final: bool) -> bytes:
        tag = STREAM_TAG_FINAL if final else STREAM_TAG_MESSAGE
        return _b.crypto_secretstream_xchacha20poly1305_push(self._state, message, ad, tag)


class StreamPull:
    """The receiving half of ``crypto_secretstream_xchacha20poly1305``."""

    def __init__(self, header: bytes, key: bytes) -> None:
        self._state = _b.crypto_secretstream_xchacha20poly1305_state()
        # libsodium's init_pull cannot fail: a wrong header or key shows at the first pull.
        _b.crypto_secretstream_xchacha20poly1305_init_pull(self._state, header, key)

    def pull(self, ciphertext: bytes, ad: bytes) -> tuple[bytes, int]:
        try:
            return _b.crypto_secretstream_xchacha20poly1305_pull(self._state, ciphertext, ad)
        except _NaclCryptoError:
            raise DecryptionFailed("decryption failed") from None
