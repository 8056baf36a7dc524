"""Secrets the server itself must read back, kept at rest: the TOTP seeds.

They are sealed with :mod:`colloque.crypto.server_secrets` under a key derived from
COLLOQUE_SECRET_KEY and bound to the account, so a stolen database or backup without the
deployment's secret does not yield them, and a seed cannot be moved to another account.
"""

from __future__ import annotations

from uuid import UUID

from colloque.crypto import server_secrets

TOTP_PURPOSE = "totp-seed"


def seal_server_secret(value: bytes, *, key: bytes, account_id: UUID) -> bytes:
    return server_secrets.seal_server_secret(
        value, key=key, purpose=TOTP_PURPOSE, subject_id=account_id
    )


def open_server_secret(stored: bytes, *, key: bytes, account_id: UUID) -> bytes:
    """Raise ``CryptoError`` for a value sealed under another key, for another account or altered."""
    return server_secrets.open_server_secret(
        stored, key=key, purpose=TOTP_PURPOSE, subject_id=account_id
    )
