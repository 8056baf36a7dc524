"""A user's key pairs and their two sealed copies: under the login KEK and under a recovery code.

At sign-up the client calls :func:`create_key_bundle`, sends the :class:`KeyBundle` to the server and
shows the recovery code once. At login it calls :func:`unlock_with_kek`; with a recovery code,
:func:`unlock_with_recovery_code`. A password change re-seals with :func:`rewrap_for_new_kek`.
Format: docs/crypto.md, section 5.1.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from uuid import UUID

from colloque.crypto import _sodium
from colloque.crypto._encoding import EnvelopeType, Reader, prefix, u32
from colloque.crypto.errors import DecryptionFailed, MalformedEnvelope, WrongContext
from colloque.crypto.login import (
    INTERACTIVE_COST,
    KDF_PARAMS_BYTES,
    SALT_BYTES,
    Argon2Cost,
    KdfParams,
    stretch,
)
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind

RECOVERY_CONTEXT = b"CQ-recov"
RECOVERY_KEY_ID = 1
RECOVERY_CODE_BYTES = 20
FIRST_EPOCH = 1
#: Epochs travel as u32 in the sealed headers and in key bindings.
MAX_EPOCH = 2**32 - 1
_PLAINTEXT_BYTES = 64


@dataclass(frozen=True)
class UserKeys:
    """A user's unlocked key pairs. Lives only in the client's memory."""

    user_id: UUID
    epoch: int
    encryption_public: bytes
    encryption_secret: bytes = field(repr=False)
    signing_public: bytes
    signing_seed: bytes = field(repr=False)
    signing_secret: bytes = field(repr=False)  # libsodium's 64-byte form, derived from the seed

    def encryption_binding(self) -> KeyBinding:
        return KeyBinding(
            SubjectKind.USER,
            self.user_id,
            KeyPurpose.ENCRYPTION,
            self.epoch,
            self.encryption_public,
        )

    def signing_binding(self) -> KeyBinding:
        return KeyBinding(
            SubjectKind.USER, self.user_id, KeyPurpose.SIGNING, self.epoch, self.signing_public
        )


@dataclass(frozen=True)
class KeyBundle:
    """What the server stores for a user: the public keys and the two sealed copies of the private keys."""

    user_id: UUID
    epoch: int
    encryption_public: bytes
    signing_public: bytes
    sealed_by_password: bytes
    sealed_by_recovery: bytes

    def bindings(self) -> tuple[KeyBinding, KeyBinding]:
        """The encryption and signing key bindings to append to the key directory."""
        return (
            KeyBinding(
                SubjectKind.USER,
                self.user_id,
                KeyPurpose.ENCRYPTION,
                self.epoch,
                self.encryption_public,
            ),
            KeyBinding(
                SubjectKind.USER, self.user_id, KeyPurpose.SIGNING, self.epoch, self.signing_public
            ),
        )


@dataclass(frozen=True)
class RecoveryCode:
    """A show-once recovery code: 20 random bytes, displayed as 8 groups of 4 base32 characters."""

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != RECOVERY_CODE_BYTES:
            raise ValueError("a recovery code is 20 bytes")

    @property
    def text(self) -> str:
        encoded = base64.b32encode(self.raw).decode("ascii")
        return "-".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))

    @classmethod
    def parse(cls, text: str) -> RecoveryCode:
        """Accepts any case, spaces and hyphens; raises MalformedEnvelope otherwise."""
        compact = "".join(text.split()).replace("-", "").upper()
        if len(compact) != 32:
            raise MalformedEnvelope("a recovery code has 32 characters")
        try:
            return cls(base64.b32decode(compact))
        except binascii.Error:
            raise MalformedEnvelope("not a recovery code") from None


@dataclass(frozen=True)
class NewKeyBundle:
    """The result of sign-up: the bundle for the server, the unlocked keys, the code to show once."""

    bundle: KeyBundle
    keys: UserKeys
    recovery_code: RecoveryCode


def create_key_bundle(
    user_id: UUID,
    kek: bytes,
    *,
    epoch: int = FIRST_EPOCH,
    recovery_cost: Argon2Cost = INTERACTIVE_COST,
    insecure_allow_weak_cost: bool = False,
) -> NewKeyBundle:
    """Sign-up: new X25519 and Ed25519 key pairs, sealed under ``kek`` and under a new recovery code.

    A key reset (docs/crypto.md, section 3.1) calls it again with the next ``epoch``: new pairs,
    so nothing sealed for an earlier epoch opens with them.
    """
    if not FIRST_EPOCH <= epoch <= MAX_EPOCH:
        raise ValueError("a key epoch is between 1 and 2**32 - 1")
    return _create_key_bundle(
        user_id,
        kek,
        epoch=epoch,
        encryption_secret=_sodium.random_bytes(32),
        signing_seed=_sodium.random_bytes(32),
        recovery_code=RecoveryCode(_sodium.random_bytes(RECOVERY_CODE_BYTES)),
        recovery_params=KdfParams(salt=_sodium.random_bytes(SALT_BYTES), cost=recovery_cost),
        login_nonce=_sodium.random_bytes(_sodium.NONCE_BYTES),
        recovery_nonce=_sodium.random_bytes(_sodium.NONCE_BYTES),
        insecure_allow_weak_cost=insecure_allow_weak_cost,
    )


def unlock_with_kek(sealed_by_password: bytes, *, user_id: UUID, kek: bytes) -> UserKeys:
    """Login: open the private keys sealed under the KEK. Raises CryptoError on any mismatch."""
    parsed = _parse(sealed_by_password, EnvelopeType.PRIVATE_KEYS_LOGIN, user_id)
    return _open(parsed, kek)


def unlock_with_recovery_code(
    sealed_by_recovery: bytes,
    *,
    user_id: UUID,
    recovery_code: RecoveryCode | str,
    insecure_allow_weak_cost: bool = False,
) -> UserKeys:
    """Recovery: open the private keys with the recovery code (text as typed, or parsed)."""
    if isinstance(recovery_code, str):
        recovery_code = RecoveryCode.parse(recovery_code)
    parsed = _parse(sealed_by_recovery, EnvelopeType.PRIVATE_KEYS_RECOVERY, user_id)
    assert parsed.kdf_params is not None  # the parser reads them for this type
    key = _recovery_key(recovery_code, parsed.kdf_params, insecure_allow_weak_cost)
    return _open(parsed, key)


def seal_for_kek(keys: UserKeys, kek: bytes) -> bytes:
    """Seal unlocked keys under a (new) KEK: after a recovery, or when setting a new password."""
    return _seal(keys, kek, EnvelopeType.PRIVATE_KEYS_LOGIN, None, _sodium.random_bytes(24))


def rewrap_for_new_kek(
    sealed_by_password: bytes, *, user_id: UUID, old_kek: bytes, new_kek: bytes
) -> bytes:
    """Password change: open under the old KEK and seal again under the new one."""
    return seal_for_kek(unlock_with_kek(sealed_by_password, user_id=user_id, kek=old_kek), new_kek)


def new_recovery_envelope(
    keys: UserKeys,
    *,
    cost: Argon2Cost = INTERACTIVE_COST,
    insecure_allow_weak_cost: bool = False,
) -> tuple[bytes, RecoveryCode]:
    """A fresh recovery code and the keys sealed under it (after a code was used or shown again)."""
    code = RecoveryCode(_sodium.random_bytes(RECOVERY_CODE_BYTES))
    params = KdfParams(salt=_sodium.random_bytes(SALT_BYTES), cost=cost)
    key = _recovery_key(code, params, insecure_allow_weak_cost)
    sealed = _seal(keys, key, EnvelopeType.PRIVATE_KEYS_RECOVERY, params, _sodium.random_bytes(24))
    return sealed, code


@dataclass(frozen=True)
class SealedKeysHeader:
    """The clear header of sealed private keys: what the server may check without any key."""

    epoch: int
    encryption_public: bytes
    signing_public: bytes


def read_sealed_keys_header(
    sealed: bytes, *, user_id: UUID, by_recovery: bool = False
) -> SealedKeysHeader:
    """Server side: parse the header of keys sealed under a KEK (or, ``by_recovery``, under a
    recovery code) for ``user_id``, so that a bundle whose copies disagree with its public keys or
    epoch is refused on arrival. Raises MalformedEnvelope or WrongContext."""
    envelope_type = (
        EnvelopeType.PRIVATE_KEYS_RECOVERY if by_recovery else EnvelopeType.PRIVATE_KEYS_LOGIN
    )
    parsed = _parse(sealed, envelope_type, user_id)
    return SealedKeysHeader(parsed.epoch, parsed.encryption_public, parsed.signing_public)


# Internals (deterministic when given their randomness: test vectors) -------------------------------


def _keys_from_secrets(
    user_id: UUID, epoch: int, encryption_secret: bytes, signing_seed: bytes
) -> UserKeys:
    signing_public, signing_secret = _sodium.ed25519_keypair_from_seed(signing_seed)
    return UserKeys(
        user_id=user_id,
        epoch=epoch,
        encryption_public=_sodium.x25519_public_from_secret(encryption_secret),
        encryption_secret=encryption_secret,
        signing_public=signing_public,
        signing_seed=signing_seed,
        signing_secret=signing_secret,
    )


def _recovery_key(code: RecoveryCode, params: KdfParams, insecure_allow_weak_cost: bool) -> bytes:
    master = stretch(code.raw, params, insecure_allow_weak_cost=insecure_allow_weak_cost)
    return _sodium.kdf_derive(master, RECOVERY_KEY_ID, RECOVERY_CONTEXT)


def _create_key_bundle(
    user_id: UUID,
    kek: bytes,
    *,
    epoch: int = FIRST_EPOCH,
    encryption_secret: bytes,
    signing_seed: bytes,
    recovery_code: RecoveryCode,
    recovery_params: KdfParams,
    login_nonce: bytes,
    recovery_nonce: bytes,
    insecure_allow_weak_cost: bool,
) -> NewKeyBundle:
    keys = _keys_from_secrets(user_id, epoch, encryption_secret, signing_seed)
    recovery_key = _recovery_key(recovery_code, recovery_params, insecure_allow_weak_cost)
    bundle = KeyBundle(
        user_id=user_id,
        epoch=keys.epoch,
        encryption_public=keys.encryption_public,
        signing_public=keys.signing_public,
        sealed_by_password=_seal(keys, kek, EnvelopeType.PRIVATE_KEYS_LOGIN, None, login_nonce),
        sealed_by_recovery=_seal(
            keys,
            recovery_key,
            EnvelopeType.PRIVATE_KEYS_RECOVERY,
            recovery_params,
            recovery_nonce,
        ),
    )
    return NewKeyBundle(bundle=bundle, keys=keys, recovery_code=recovery_code)


def _seal(
    keys: UserKeys,
    key: bytes,
    envelope_type: EnvelopeType,
    kdf_params: KdfParams | None,
    nonce: bytes,
) -> bytes:
    header = (
        prefix(envelope_type)
        + keys.user_id.bytes
        + u32(keys.epoch)
        + keys.encryption_public
        + keys.signing_public
        + (kdf_params.to_bytes() if kdf_params is not None else b"")
        + nonce
    )
    plaintext = keys.encryption_secret + keys.signing_seed
    return header + _sodium.aead_encrypt(plaintext, header, nonce, key)


@dataclass(frozen=True)
class _Parsed:
    user_id: UUID
    epoch: int
    encryption_public: bytes
    signing_public: bytes
    kdf_params: KdfParams | None
    nonce: bytes
    header: bytes
    ciphertext: bytes


def _parse(sealed: bytes, envelope_type: EnvelopeType, user_id: UUID) -> _Parsed:
    reader = Reader(sealed, envelope_type)
    sealed_for = reader.uuid()
    epoch = reader.u32()
    encryption_public = reader.take(32)
    signing_public = reader.take(32)
    kdf_params = None
    if envelope_type is EnvelopeType.PRIVATE_KEYS_RECOVERY:
        kdf_params = KdfParams.from_bytes(reader.take(KDF_PARAMS_BYTES))
    nonce = reader.take(_sodium.NONCE_BYTES)
    header = reader.consumed()
    ciphertext = reader.take(_PLAINTEXT_BYTES + _sodium.TAG_BYTES)
    reader.end()
    if sealed_for != user_id:
        raise WrongContext("these keys belong to another user")
    return _Parsed(
        user_id, epoch, encryption_public, signing_public, kdf_params, nonce, header, ciphertext
    )


def _open(parsed: _Parsed, key: bytes) -> UserKeys:
    plaintext = _sodium.aead_decrypt(parsed.ciphertext, parsed.header, parsed.nonce, key)
    keys = _keys_from_secrets(parsed.user_id, parsed.epoch, plaintext[:32], plaintext[32:])
    if (keys.encryption_public, keys.signing_public) != (
        parsed.encryption_public,
        parsed.signing_public,
    ):  # only whoever holds the key could have sealed such a mismatch
        raise DecryptionFailed("sealed keys do not match their public keys")
    return keys
