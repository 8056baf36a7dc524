"""Contracts of the audit log's side effects: who signs its checkpoints, where they are exported."""

from __future__ import annotations

from typing import Protocol


class CheckpointSigner(Protocol):
    """The audit log's Ed25519 key, held outside the database and apart from
    ``COLLOQUE_SECRET_KEY``: a key file, or a PKCS#11 token that never lets the key out."""

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key, which verifiers and witnesses pin."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...
