"""Contracts of the key directory: who signs the log's checkpoints, who witnesses them."""

from __future__ import annotations

from collections.abc import Sequence
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


class WitnessConflict(Exception):
    """The witness last cosigned another size than the one submitted as old (HTTP 409)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness is at size {size}")
        self.size = size


class WitnessUnavailable(Exception):
    """The witness did not cosign: unreachable, or it refused (its reason in the message)."""


class Witness(Protocol):
    """A key directory witness (C2SP tlog-witness): its name and key, which clients pin, and
    its ``add-checkpoint`` call."""

    @property
    def name(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
        """The witness's cosignature line(s) over ``signed_note``; raises WitnessConflict or
        WitnessUnavailable."""
        ...
