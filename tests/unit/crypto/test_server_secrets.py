"""Server-side secrets sealed at rest (TOTP seeds)."""

from __future__ import annotations

import uuid

import pytest

from colloque.crypto import CryptoError
from colloque.crypto.server_secrets import open_server_secret, seal_server_secret

KEY = bytes(range(32))
ACCOUNT = uuid.UUID("00000000-0000-4000-8000-000000000001")


def test_round_trip_and_binding() -> None:
    sealed = seal_server_secret(
        b"JBSWY3DPEHPK3PXP", key=KEY, purpose="totp-seed", subject_id=ACCOUNT
    )
    assert sealed[:2] == b"\x01\x09"
    assert b"JBSWY3DPEHPK3PXP" not in sealed
    assert (
        open_server_secret(sealed, key=KEY, purpose="totp-seed", subject_id=ACCOUNT)
        == b"JBSWY3DPEHPK3PXP"
    )
    with pytest.raises(CryptoError):
        open_server_secret(sealed, key=bytes(32), purpose="totp-seed", subject_id=ACCOUNT)
    with pytest.raises(CryptoError):
        open_server_secret(sealed, key=KEY, purpose="other", subject_id=ACCOUNT)
    with pytest.raises(CryptoError):
        open_server_secret(sealed, key=KEY, purpose="totp-seed", subject_id=uuid.uuid4())
    tampered = sealed[:-1] + bytes((sealed[-1] ^ 1,))
    with pytest.raises(CryptoError):
        open_server_secret(tampered, key=KEY, purpose="totp-seed", subject_id=ACCOUNT)
    # The header is associated data: rewriting the subject in place fails too.
    moved = sealed[:18] + uuid.uuid4().bytes + sealed[34:]
    with pytest.raises(CryptoError):
        open_server_secret(
            moved, key=KEY, purpose="totp-seed", subject_id=uuid.UUID(bytes=moved[18:34])
        )


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal_server_secret(b"x", key=b"short", purpose="totp-seed", subject_id=ACCOUNT)
    with pytest.raises(ValueError, match="purpose"):
        seal_server_secret(b"x", key=KEY, purpose="", subject_id=ACCOUNT)
    with pytest.raises(ValueError, match="purpose"):
        seal_server_secret(b"x", key=KEY, purpose="x" * 17, subject_id=ACCOUNT)
    with pytest.raises(ValueError, match="purpose"):
        seal_server_secret(b"x", key=KEY, purpose="totp\x00", subject_id=ACCOUNT)
