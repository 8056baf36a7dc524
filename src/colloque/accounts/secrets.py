"""Secrets the server itself must read back, kept at rest: the TOTP seeds.

TODO(crypto): ``colloque.crypto`` has no recipe yet for sealing a value under a server key (an AEAD
under a key derived from COLLOQUE_SECRET_KEY, with the account id as associated data), and only
``colloque.crypto`` may talk to libsodium. Until it has one, seeds are stored with the format byte
``UNSEALED``: readable by whoever reads the database. Every stored value starts with its format
byte, so sealed values can be introduced later and old rows re-sealed when next used. The call
sites already pass the key and the context the recipe will need.
"""

from __future__ import annotations

from uuid import UUID

#: Format byte of a value stored as is (see the TODO above).
UNSEALED = 0x00


class UnreadableSecret(Exception):
    """A stored value in a format this version cannot read."""


def seal_server_secret(value: bytes, *, key: bytes, account_id: UUID) -> bytes:
    del key, account_id  # used by the sealing recipe, once colloque.crypto has it
    return bytes((UNSEALED,)) + value


def open_server_secret(stored: bytes, *, key: bytes, account_id: UUID) -> bytes:
    del key, account_id
    if not stored or stored[0] != UNSEALED:
        raise UnreadableSecret("stored secret in an unknown format")
    return stored[1:]
