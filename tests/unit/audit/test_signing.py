"""The key file signer: made 0600 at first start, refused when unreadable, malformed or open."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from colloque.audit.signing import SigningKeyError, load_key_file_signer
from colloque.crypto import transparency
from colloque.crypto.errors import ProofInvalid


def test_made_once_then_read(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-signing-key"
    signer = load_key_file_signer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_key_file_signer(path)
    assert again.public_key == signer.public_key
    checkpoint = transparency.Checkpoint("example.test/audit", 1, b"\x03" * 32)
    note = transparency.signed_note(checkpoint, public_key=signer.public_key, sign=signer.sign)
    assert (
        transparency.verify_checkpoint(
            note, origin="example.test/audit", log_public_key=again.public_key
        )
        == checkpoint
    )
    assert "seed" not in repr(signer)


def test_a_signer_with_another_key_is_caught_when_signing(tmp_path: Path) -> None:
    signer = load_key_file_signer(tmp_path / "a")
    other = load_key_file_signer(tmp_path / "b")
    checkpoint = transparency.Checkpoint("example.test/audit", 1, b"\x03" * 32)
    with pytest.raises(ProofInvalid, match="does not verify"):
        transparency.signed_note(checkpoint, public_key=other.public_key, sign=signer.sign)


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / "audit-signing-key"
    path.write_text("not hex\n")
    path.chmod(0o600)
    with pytest.raises(SigningKeyError, match="is not 32 bytes in hex"):
        load_key_file_signer(path)
    path.write_text("ab" * 32)
    path.chmod(0o644)
    with pytest.raises(SigningKeyError, match="open to other users: chmod 600"):
        load_key_file_signer(path)
    path.chmod(0o600)
    assert len(load_key_file_signer(path).public_key) == 32
    path.unlink()
    path.mkdir()
    with pytest.raises(SigningKeyError, match="cannot read the audit signing key"):
        load_key_file_signer(path)
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    with pytest.raises(SigningKeyError, match="cannot make the audit signing key"):
        load_key_file_signer(not_a_directory / "key")
    with pytest.raises(SigningKeyError, match="cannot make the audit signing key"):
        load_key_file_signer(tmp_path / ("k" * 300))
