"""The audit log's tamper evidence against both databases: events written the real way
(``audit.services.record``), sealed by the real sequencer, signer and file witness."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from colloque.audit import verify as checks
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, Outcome, record
from colloque.audit.signing import load_key_file_signer
from colloque.audit.upkeep import Sealing
from colloque.audit.witnesses import FileWitness
from colloque.clock import SettableClock
from colloque.principal import ANONYMOUS
from colloque.storage.engine import Database

ORIGIN = "colloque.test/audit"
PRACTICE_A = UUID("aaaaaaaa-0000-4000-8000-000000000001")
PRACTICE_B = UUID("bbbbbbbb-0000-4000-8000-000000000002")
BOUND = timedelta(hours=1)
_APPEND_ONLY = ("audit_events", "audit_log_leaves", "audit_log_heads", "audit_checkpoints")


def write_events(
    db: Database, clock: SettableClock, count: int, practices: Sequence[UUID | None]
) -> list[UUID]:
    """``count`` events, one per transaction, spread over ``practices`` in turn."""
    ids = []
    for number in range(count):
        practice = practices[number % len(practices)]
        with db.write() as session:
            ids.append(
                record(
                    session,
                    at=clock.now(),
                    action=AuditAction.APPOINTMENT_VIEWED,
                    principal=ANONYMOUS,
                    object_kind=ObjectKind.APPOINTMENT.value,
                    object_id=UUID(int=number + 1),
                    practice_id=practice,
                    objects=[(ObjectKind.PATIENT, UUID(int=10_000 + number))],
                    outcome=Outcome.DENIED if number % 5 == 4 else Outcome.ALLOWED,
                    reason="not-found" if number % 5 == 4 else None,
                )
            )
        clock.advance(timedelta(seconds=1))
    return ids


@pytest.fixture
def sealing(tmp_path: Path) -> Sealing:
    return Sealing(
        signer=load_key_file_signer(tmp_path / "audit-signing-key"),
        origin=ORIGIN,
        cadence=timedelta(minutes=1),
        batch=3,
        round_limit=1_000,
        file_witness=FileWitness(tmp_path / "witness"),
    )


def verify(db: Database, sealing: Sealing, clock: SettableClock) -> checks.VerifyReport:
    return checks.verify(
        db,
        expected=checks.Expected(sealing.origin, sealing.signer.public_key),
        now=clock.now(),
        bound=BOUND,
        witness=sealing.file_witness,
    )


def first_inconsistency(db: Database, sealing: Sealing, clock: SettableClock) -> str:
    with pytest.raises(checks.VerificationFailed) as failed:
        verify(db, sealing, clock)
    return str(failed.value)


@contextmanager
def tampering(db: Database) -> Iterator[Session]:
    """A transaction that the append-only triggers let through, as an attacker with the
    database's superuser (PostgreSQL) or the file (SQLite) has."""
    with db.write() as session:
        if db.is_postgres:
            session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in _APPEND_ONLY:
                for verb in ("update", "delete"):
                    session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
        yield session
