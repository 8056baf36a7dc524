"""Notes about a patient and the messages between a patient and a practice.

Notes are clinical: practitioners write and read them; the patient's holder reads them. Secretaries
and admins do not: notes are sealed to the practitioners' key group, which no other member's key
opens, and the server refuses them the ciphertext as well (docs/authorization.md). Notes written
before that group existed were sealed to the practice group; practitioners get those wraps too. Messages are one conversation per practice and
patient (its id is derived: ``crypto.items.conversation_id``), written by the holder or any staff.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PatientTarget, PracticeTarget, require
from colloque.crypto.groups import clinical_group_id
from colloque.crypto.items import conversation_id
from colloque.errors import NotFound, Unauthenticated
from colloque.notifications.services import Template, enqueue
from colloque.patients.models import Patient, PracticePatient
from colloque.patients.registry import get_registered_patient
from colloque.patients.services import held
from colloque.principal import Principal
from colloque.records.models import SealedItemRow
from colloque.records.services import ItemWithWraps, Recipient, list_items, store_sealed_item
from colloque.scheduling.models import Practice

NOTE = "note"
MESSAGE = "message"
DOCUMENT = "document"


def _context(kind: str, practice_id: UUID, patient_id: UUID) -> UUID:
    if kind in (NOTE, DOCUMENT):
        return patient_id
    return conversation_id(practice_id=practice_id, patient_id=patient_id)


def staff_patient(
    session: Session, principal: Principal, action: Action, practice_id: UUID, patient_id: UUID
) -> Patient:
    require(principal, action, PracticeTarget(practice_id), what="practice")
    return get_registered_patient(session, practice_id=practice_id, patient_id=patient_id)


def held_patient(
    session: Session,
    principal: Principal,
    action: Action,
    practice_id: UUID,
    patient_id: UUID,
    *,
    known_there: bool,
) -> Patient:
    """A patient the principal holds (and, if ``known_there``, in the practice's registry, so that
    nobody writes to a practice that never saw them); anything else is not found.

    One query filtered by holder (``patients.held``), with the practice's registry row beside
    it: somebody else's patient is not even loaded, and costs what a missing one does."""
    row = session.execute(
        select(Patient, PracticePatient.practice_id)
        .outerjoin(
            PracticePatient,
            (PracticePatient.patient_id == Patient.patient_id)
            & (PracticePatient.practice_id == practice_id),
        )
        .where(Patient.patient_id == patient_id, held(principal, action))
    ).one_or_none()
    if row is None:
        raise NotFound("patient not found", field="patient_id")
    patient: Patient = row.Patient
    registered_at: UUID | None = row.practice_id
    # What the filter found is allowed; the decision is still the policy's.
    require(
        principal,
        action,
        PatientTarget(patient.holder_account_id),
        what="patient",
        field="patient_id",
    )
    if known_there and registered_at is None:
        raise NotFound("practice not found", field="practice_id")
    return patient


@dataclass(frozen=True, slots=True)
class Place:
    """A practice that knows a patient the principal holds: where their messages and documents
    with that practice are."""

    practice_id: UUID
    practice_name: str
    patient: Patient


def list_places(session: Session, *, now: datetime, principal: Principal) -> list[Place]:
    """Every practice that knows a patient the principal holds, by practice name, the holder's
    own record before their relatives'. Audited, naming each patient."""
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    rows = session.execute(
        select(Practice.practice_id, Practice.name, Patient)
        .join(PracticePatient, PracticePatient.practice_id == Practice.practice_id)
        .join(Patient, Patient.patient_id == PracticePatient.patient_id)
        .where(Patient.holder_account_id == principal.account_id)
        .order_by(Practice.name, Patient.relationship != "self", Patient.first_name)
    ).all()
    for _, _, patient in rows:
        require(
            principal,
            Action.PATIENT_RECORDS_VIEW,
            PatientTarget(patient.holder_account_id),
            what="patient",
            field="patient_id",
        )
    _audit_places(session, now, principal, [patient.patient_id for _, _, patient in rows])
    return [Place(practice_id, name, patient) for practice_id, name, patient in rows]


def _audit_places(
    session: Session, now: datetime, principal: Principal, patient_ids: list[UUID]
) -> None:
    record(
        session,
        at=now,
        action=AuditAction.PATIENTS_LISTED,
        principal=principal,
        object_kind="patient_list",
        object_id=None,
        objects=[(ObjectKind.PATIENT, patient_id) for patient_id in patient_ids],
    )


def get_place(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, patient_id: UUID
) -> Place:
    """One of :func:`list_places`; anything else, someone else's included, is not found.
    Audited, naming the patient."""
    patient = held_patient(
        session, principal, Action.PATIENT_RECORDS_VIEW, practice_id, patient_id, known_there=True
    )
    # The registry row held_patient found references the practice: it exists.
    practice = session.get_one(Practice, practice_id)
    _audit_places(session, now, principal, [patient.patient_id])
    return Place(practice.practice_id, practice.name, patient)


def get_holder(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, patient_id: UUID
) -> UUID | None:
    """The account holding a patient of the practice (None: nobody holds them): a staff
    client seals notes and messages for that account's key (from the key directory) and the
    practice group's. Audited as a read of the patient (it links them to an account)."""
    patient = staff_patient(
        session, principal, Action.PRACTICE_MESSAGE_SEND, practice_id, patient_id
    )
    holder = patient.holder_account_id
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENT_VIEWED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind="patient",
        object_id=patient_id,
        objects=[] if holder is None else [(ObjectKind.ACCOUNT, holder)],
    )
    return holder


def do_write_item(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    kind: str,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    envelope: bytes,
    wraps: Sequence[bytes],
) -> SealedItemRow:
    """A practitioner's note, or a message from staff (``as_holder`` False) or the holder."""
    if as_holder:
        patient = held_patient(
            session,
            principal,
            Action.PATIENT_MESSAGE_SEND,
            practice_id,
            patient_id,
            known_there=True,
        )
    else:
        action = Action.PRACTICE_MESSAGE_SEND if kind == MESSAGE else Action.PRACTICE_CLINICAL_WRITE
        patient = staff_patient(session, principal, action, practice_id, patient_id)
    row = store_sealed_item(
        session,
        principal=principal,
        practice_id=practice_id,
        patient_id=patient_id,
        kind=kind,
        context_id=_context(kind, practice_id, patient_id),
        envelope=envelope,
        wraps=wraps,
        now=now,
    )
    if kind == MESSAGE and not as_holder:
        # Ids and a template only: the mail says a message is waiting, never what it says.
        enqueue(
            session,
            at=now,
            practice_id=practice_id,
            template=Template.MESSAGE_RECEIVED,
            patient_id=patient.patient_id,
        )
    return row


def read_items(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    kind: str,
    as_holder: bool,
    practice_id: UUID,
    patient_id: UUID,
    before: UUID | None,
    limit: int,
) -> list[ItemWithWraps]:
    """Notes or messages, newest first, each with the wraps the reader can open. Audited."""
    if as_holder:
        held_patient(
            session,
            principal,
            Action.PATIENT_RECORDS_VIEW,
            practice_id,
            patient_id,
            known_there=False,
        )
        assert principal.account_id is not None  # checked by held_patient (the policy's 401)
        reader = Recipient("user", principal.account_id, 0)
    else:
        action = Action.PRACTICE_MESSAGE_READ if kind == MESSAGE else Action.PRACTICE_CLINICAL_READ
        staff_patient(session, principal, action, practice_id, patient_id)
        reader = Recipient("practice", practice_id, 0)
    found = list_items(
        session,
        practice_id=practice_id,
        kind=kind,
        context_id=_context(kind, practice_id, patient_id),
        reader=reader,
        before=before,
        limit=limit,
        also=clinical_group_id(practice_id) if kind == NOTE and not as_holder else None,
    )
    record(
        session,
        at=now,
        action=AuditAction.SEALED_ITEMS_READ,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind=kind,
        object_id=None,
        objects=[(ObjectKind.ITEM, found_item.item.item_id) for found_item in found],
    )
    return found
