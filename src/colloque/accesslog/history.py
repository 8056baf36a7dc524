"""A patient's access history: who accessed the records of the account's own patient and of its
relatives, newest first (docs/audit-access.md).

It reads ``audit_event_subjects`` by its index (patient, time) and joins the events. A row says
when, which practice, which role, what action on which kinds of object, and whether it was
allowed; never a credential, an address or another object's id. The acting member is named only
when a practitioner, by the public name the search already shows; a secretary or an admin is
their role. The account's own actions show as its own ("you"), except its reads of this very
history, which would otherwise fill it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, not_, or_, select
from sqlalchemy.orm import Session

from colloque.accesslog.paging import Cursor
from colloque.audit.models import AuditEvent, AuditEventSubject
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action
from colloque.errors import Unauthenticated
from colloque.patients.models import Patient
from colloque.patients.services import reach_held_patient
from colloque.principal import Principal
from colloque.scheduling.models import Practice, PracticeMember, Practitioner

#: Who acted, as a patient reads it: the account itself, or the role it acted in.
YOU = "you"

_Row = Row[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class Access:
    event_id: UUID
    at: datetime
    #: Which of the account's patients the event names (its own record or a relative).
    patient_id: UUID
    #: ``you``, or the role: ``practitioner``, ``secretary``, ``admin``, ``operator``, ``patient``
    #: (another account), ``anonymous`` (a reminder's unsubscribe link).
    actor: str
    action: str
    #: The kinds of object the event names (``appointment``, ``item``...), sorted; not their ids.
    object_kinds: tuple[str, ...]
    outcome: str
    practice_id: UUID | None
    practice_name: str | None
    #: The practice's time zone, to show the time as the practice lived it.
    practice_timezone: str | None
    #: The acting practitioner's public name (title, first and last name), when one acted.
    practitioner_name: str | None


@dataclass(frozen=True, slots=True)
class HeldPatient:
    """One of the account's patients, whose history it may ask for."""

    patient_id: UUID
    first_name: str
    last_name: str


@dataclass(frozen=True, slots=True)
class AccessPage:
    accesses: list[Access]
    #: Pass as ``before`` for the next (older) page; None at the end.
    next_before: str | None
    #: The account's own record first, then its relatives: the choices of ``patient_id``.
    patients: list[HeldPatient]


def list_access_history(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    patient_id: UUID | None = None,
    before: str | None = None,
    limit: int = 50,
) -> AccessPage:
    """The accesses to the account's patients (or to ``patient_id``, one of them), newest first.
    A patient that is not the account's answers exactly like an unknown one (404)."""
    account_id = principal.account_id
    if account_id is None:
        raise Unauthenticated("sign in to do this")
    held = _held(session, account_id)
    if patient_id is not None:
        reach_held_patient(
            session,
            principal=principal,
            action=Action.PATIENT_ACCESS_HISTORY_VIEW,
            patient_id=patient_id,
        )
    subjects = [patient_id] if patient_id else [patient.patient_id for patient in held]
    cursor = Cursor.decode(before, with_subject=True) if before is not None else None
    rows = _rows(session, account_id, subjects, cursor, limit + 1)
    shown = rows[:limit]
    practices = _practices(session, {row.practice_id for row in shown})
    practitioners = _practitioner_names(session, shown)
    accesses = [_access(row, account_id, practices, practitioners) for row in shown]
    record(
        session,
        at=now,
        action=AuditAction.ACCESS_HISTORY_VIEWED,
        principal=principal,
        object_kind=ObjectKind.ACCOUNT,
        object_id=account_id,
        # What the answer shows: every patient of the account (the choices), the practices.
        objects=[(ObjectKind.PATIENT, patient.patient_id) for patient in held]
        + [(ObjectKind.PRACTICE, practice) for practice in practices],
    )
    last = shown[-1] if shown else None
    next_before = (
        Cursor(last.at, last.event_id, last.subject_id).encode()
        if len(rows) > limit and last is not None
        else None
    )
    return AccessPage(accesses=accesses, next_before=next_before, patients=held)


def _access(
    row: _Row,
    account_id: UUID,
    practices: dict[UUID, tuple[str, str]],
    practitioners: dict[tuple[UUID | None, UUID | None], str],
) -> Access:
    name, timezone = practices.get(row.practice_id, (None, None))
    return Access(
        event_id=row.event_id,
        at=row.at,
        patient_id=row.subject_id,
        actor=YOU if row.actor_account_id == account_id else row.actor_role,
        action=row.action,
        object_kinds=_kinds(row.objects, row.object_kind),
        outcome=row.outcome,
        practice_id=row.practice_id,
        practice_name=name,
        practice_timezone=timezone,
        practitioner_name=practitioners.get((row.practice_id, row.actor_account_id)),
    )


def _held(session: Session, account_id: UUID) -> list[HeldPatient]:
    rows = session.execute(
        select(Patient.patient_id, Patient.first_name, Patient.last_name)
        .where(Patient.holder_account_id == account_id)
        .order_by(Patient.relationship != "self", Patient.birth_date, Patient.patient_id)
    )
    return [HeldPatient(row.patient_id, row.first_name, row.last_name) for row in rows]


def _rows(
    session: Session,
    account_id: UUID,
    patients: Sequence[UUID],
    cursor: Cursor | None,
    limit: int,
) -> Sequence[_Row]:
    subject = AuditEventSubject
    query = (
        select(
            subject.subject_id,
            AuditEvent.event_id,
            AuditEvent.at,
            AuditEvent.action,
            AuditEvent.actor_account_id,
            AuditEvent.actor_role,
            AuditEvent.practice_id,
            AuditEvent.object_kind,
            AuditEvent.objects,
            AuditEvent.outcome,
        )
        .join(AuditEvent, AuditEvent.event_id == subject.event_id)
        .where(
            subject.subject_id.in_(patients),
            not_(
                and_(
                    AuditEvent.action == AuditAction.ACCESS_HISTORY_VIEWED.value,
                    AuditEvent.actor_account_id == account_id,
                )
            ),
        )
        .order_by(subject.at.desc(), subject.event_id.desc(), subject.subject_id.desc())
        .limit(limit)
    )
    if cursor is not None:
        query = query.where(cursor.older(subject.at, subject.event_id, subject.subject_id))
    return session.execute(query).all()


def _practices(
    session: Session, practice_ids: Iterable[UUID | None]
) -> dict[UUID, tuple[str, str]]:
    """Each practice's name and time zone."""
    wanted = [practice_id for practice_id in practice_ids if practice_id is not None]
    if not wanted:
        return {}
    rows = session.execute(
        select(Practice.practice_id, Practice.name, Practice.timezone).where(
            Practice.practice_id.in_(wanted)
        )
    )
    return {row.practice_id: (row.name, row.timezone) for row in rows}


def _practitioner_names(
    session: Session, rows: Sequence[_Row]
) -> dict[tuple[UUID | None, UUID | None], str]:
    """The public name of each practitioner who acted, by (practice, account): as the practice
    lists its members today (a member who left is their role alone)."""
    pairs = {
        (row.practice_id, row.actor_account_id)
        for row in rows
        if row.actor_role == "practitioner" and row.practice_id and row.actor_account_id
    }
    if not pairs:
        return {}
    found = session.execute(
        select(
            PracticeMember.practice_id,
            PracticeMember.account_id,
            Practitioner.title,
            Practitioner.first_name,
            Practitioner.last_name,
        )
        .join(Practitioner, Practitioner.practitioner_id == PracticeMember.practitioner_id)
        .where(
            or_(
                *(
                    and_(
                        PracticeMember.practice_id == practice, PracticeMember.account_id == account
                    )
                    for practice, account in pairs
                )
            )
        )
    )
    return {
        (practice, account): " ".join(part for part in (title, first, last) if part)
        for practice, account, title, first, last in found
    }


def _kinds(objects: bytes | None, object_kind: str) -> tuple[str, ...]:
    """The kinds of object an event named; an event from before the objects column, its one."""
    if not objects:
        return (object_kind,)
    return tuple(sorted(kind.value for kind in unpack(objects)))
