"""Contracts of the key directory: who signs the log's checkpoints, who witnesses them."""

from __future__ import annotations

from typing import Protocol

# The witness contracts are shared with the audit log, whose checkpoints go to the same witnesses.
from colloque.audit.interfaces import Witness, WitnessConflict, WitnessUnavailable
from colloque.crypto.transparency import Checkpoint

__all__ = ["LogSigner", "Witness", "WitnessConflict", "WitnessUnavailable"]


class LogSigner(Protocol):
    """The log's identity: its origin and Ed25519 key, which clients pin, and its signature."""

    @property
    def origin(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def sign(self, checkpoint: Checkpoint) -> str:
        """The checkpoint as a C2SP signed note."""
        ...
