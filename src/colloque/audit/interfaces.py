"""Contracts of the audit log's side effects: who signs its checkpoints, who witnesses them, who
watches what credentials read.

The witness contracts serve the key directory too (``keydirectory.interfaces`` re-exports them):
both logs' checkpoints go to the same witnesses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.principal import Principal


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


class WitnessConflict(Exception):
    """The witness last cosigned another size than the one submitted as old (HTTP 409)."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness is at size {size}")
        self.size = size


class WitnessUnavailable(Exception):
    """The witness did not cosign: unreachable, or it refused (its reason in the message)."""


class Witness(Protocol):
    """A witness (C2SP tlog-witness): its name and key, which clients pin, and its
    ``add-checkpoint`` call."""

    @property
    def name(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def add_checkpoint(self, *, old_size: int, proof: Sequence[bytes], signed_note: str) -> str:
        """The witness's cosignature line(s) over ``signed_note``; raises WitnessConflict or
        WitnessUnavailable."""
        ...


class ReadObserver(Protocol):
    """Told of every event a credential's request records, in that request's transaction: the
    anomaly counters (``colloque.containment``) sit here, where every id a read returned is
    already known. It may raise to refuse the request (a decoy was touched)."""

    def observe(
        self,
        session: Session,
        *,
        at: datetime,
        action: str,
        principal: Principal,
        practice_id: UUID | None,
        refs: Mapping[ObjectKind, frozenset[UUID]],
        span: tuple[datetime, datetime] | None,
    ) -> None: ...
