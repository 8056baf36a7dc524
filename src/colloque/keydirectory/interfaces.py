"""Contracts of the key directory: who signs the log's checkpoints."""

from __future__ import annotations

from typing import Protocol

from colloque.crypto.transparency import Checkpoint


class LogSigner(Protocol):
    """The log's identity: its origin and Ed25519 key, which clients pin, and its signature."""

    @property
    def origin(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def sign(self, checkpoint: Checkpoint) -> str:
        """The checkpoint as a C2SP signed note."""
        ...
