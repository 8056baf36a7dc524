"""The audit log's checkpoint signer from a key file: an Ed25519 seed, outside the database.

The file holds the 32-byte seed in hex. It is made (0600, exclusively) at first start when
absent, and refused when other users may read it: whoever reads it can sign checkpoints for a
rewritten log. It is separate from ``COLLOQUE_SECRET_KEY`` and from the key directory's key, so
rotating either leaves the audit log's key alone (docs/audit.md, "Signing key").
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from colloque.audit.hsm import HsmError, Pkcs11Signer, token_key_from_settings
from colloque.audit.interfaces import CheckpointSigner
from colloque.config import Settings
from colloque.crypto import transparency

SEED_BYTES = 32


class SigningKeyError(Exception):
    """The key file cannot be read, made, or trusted; the message says which and why."""


@dataclass(frozen=True)
class _KeyFileSigner:
    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_key", transparency.log_public_key(self.seed))

    def sign(self, message: bytes) -> bytes:
        return transparency.sign_with_seed(message, seed=self.seed)


def _create(path: Path) -> bytes | None:
    """A new seed written to ``path``, or None when the file already exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SigningKeyError(f"cannot make the audit signing key {path}: {error}") from None
    try:
        # O_EXCL: two processes starting at once never overwrite each other's key.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None
    except OSError as error:
        raise SigningKeyError(f"cannot make the audit signing key {path}: {error}") from None
    seed = transparency.new_log_seed()
    with os.fdopen(handle, "w", encoding="ascii") as out:
        out.write(seed.hex() + "\n")
    return seed


def _read(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {error}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(f"the audit signing key {path} is open to other users: chmod 600 it")
    try:
        seed = bytes.fromhex(text)
    except ValueError:
        seed = b""
    if len(seed) != SEED_BYTES:
        raise SigningKeyError(f"the audit signing key {path} is not {SEED_BYTES} bytes in hex")
    return seed


def load_key_file_signer(path: Path) -> CheckpointSigner:
    """The signer of the seed in ``path``, made there first if the file does not exist."""
    seed = _create(path) or _read(path)
    return _KeyFileSigner(seed)


def signer_from_settings(settings: Settings) -> CheckpointSigner:
    """The token's signer when ``COLLOQUE_AUDIT_PKCS11_MODULE`` is set, else the key file's.
    Raises SigningKeyError when the key cannot be used."""
    try:
        token_key = token_key_from_settings(settings)
        if token_key is not None:
            return Pkcs11Signer(token_key)
    except HsmError as error:
        raise SigningKeyError(str(error)) from None
    return load_key_file_signer(settings.effective_audit_signing_key_file)
