"""Small helpers shared by the crypto tests."""

from __future__ import annotations

import uuid

from colloque.crypto import _sodium, keys
from colloque.crypto.login import Argon2Cost

#: libsodium's minimum Argon2id cost: only ever with insecure_allow_weak_cost=True.
CHEAP = Argon2Cost(opslimit=1, memlimit=8192)


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    """``data`` with one bit flipped at ``index`` (negative indexes count from the end)."""
    mutable = bytearray(data)
    mutable[index] ^= mask
    return bytes(mutable)


def new_user(user_id: uuid.UUID | None = None) -> keys.UserKeys:
    """Random user keys without any Argon2id (as create_key_bundle makes them)."""
    return keys._keys_from_secrets(
        user_id or uuid.uuid4(), 1, _sodium.random_bytes(32), _sodium.random_bytes(32)
    )
