"""The practice patient registry: which patients a practice may book and look up."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import Duplicate, InvalidInput, NotFound
from colloque.ids import new_id
from colloque.patients.contact import (
    ByBirthDate,
    ByName,
    ByPhone,
    PatientQuery,
    normalise_contact_email,
    normalise_phone,
    parse_patient_query,
)
from colloque.patients.models import Patient, PracticePatient
from colloque.principal import Principal
from colloque.storage.upsert import insert_on_conflict
from colloque.text import search_key
from colloque.versions import check_version, version_of

MAX_RESULTS = 50


def remember_patient(
    session: Session, *, practice_id: UUID, patient_id: UUID, now: datetime
) -> None:
    """Add the patient to the practice's registry, once (one statement, no read first)."""
    session.execute(
        insert_on_conflict(session, PracticePatient)
        .values(practice_id=practice_id, patient_id=patient_id, added_at=now)
        .on_conflict_do_nothing(index_elements=["practice_id", "patient_id"])
    )


def get_registered_patient(session: Session, *, practice_id: UUID, patient_id: UUID) -> Patient:
    """A patient of this practice's registry; any other id is not found, whether it exists or not."""
    patient = session.scalar(
        select(Patient)
        .join(PracticePatient, PracticePatient.patient_id == Patient.patient_id)
        .where(PracticePatient.practice_id == practice_id, Patient.patient_id == patient_id)
    )
    if patient is None:
        raise NotFound("patient not found", field="patient_id")
    return patient


def do_register_patient(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    first_name: str,
    last_name: str,
    birth_date: date,
    phone: str | None = None,
    email: str | None = None,
    confirm_duplicate: bool = False,
) -> RegisteredPatient:
    """The practice registers a patient who called (no account yet); it manages the record.

    A patient of the practice's registry with the same name and birth date is likely the same
    person: the answer is a 409 naming the existing record, unless ``confirm_duplicate`` says
    this is another person (twins with one name happen; homonyms born the same day too). The phone
    and email are optional; given, they must be valid (422 naming the field)."""
    require(
        principal, Action.PRACTICE_APPOINTMENT_BOOK, PracticeTarget(practice_id), what="practice"
    )
    if not first_name.strip():
        raise InvalidInput("first name is required", field="first_name")
    if not last_name.strip():
        raise InvalidInput("last name is required", field="last_name")
    if birth_date > now.date() or birth_date.year < now.year - 130:
        raise InvalidInput("birth date is not plausible", field="birth_date")
    name_key = search_key(f"{first_name} {last_name}")
    contact = PracticePatient(
        practice_id=practice_id,
        added_at=now,
        phone=None if phone is None else normalise_phone(phone),
        email=None if email is None else normalise_contact_email(email),
    )
    if not confirm_duplicate:
        existing = session.scalar(
            select(Patient.patient_id)
            .join(PracticePatient, PracticePatient.patient_id == Patient.patient_id)
            .where(
                PracticePatient.practice_id == practice_id,
                Patient.name_key == name_key,
                Patient.birth_date == birth_date,
            )
            .order_by(Patient.created_at)
            .limit(1)
        )
        if existing is not None:
            raise Duplicate(
                "the practice has a patient with this name and birth date; use that record, "
                "or send confirm_duplicate to register another person",
                existing_id=existing,
                field="confirm_duplicate",
            )
    patient = Patient(
        patient_id=new_id(),
        holder_account_id=None,
        relationship="self",
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        name_key=name_key,
        birth_date=birth_date,
        created_at=now,
    )
    session.add(patient)
    session.flush()
    # A new patient: no registry row can exist yet, so no upsert as in remember_patient.
    contact.patient_id = patient.patient_id
    session.add(contact)
    session.flush()
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENT_REGISTERED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient.patient_id,
        object_kind="patient",
        object_id=patient.patient_id,
    )
    return RegisteredPatient(patient=patient, contact=contact)


@dataclass(frozen=True, slots=True)
class RegisteredPatient:
    """A patient as the practice knows them: the person and the practice's contact details."""

    patient: Patient
    contact: PracticePatient

    @property
    def patient_id(self) -> UUID:
        return self.patient.patient_id

    @property
    def holder_account_id(self) -> UUID | None:
        """The account that manages the patient (theirs, or a relative's); None without one."""
        return self.patient.holder_account_id

    @property
    def version(self) -> str:
        """The version of what the practice may edit (its contact details)."""
        return version_of(self.contact.phone, self.contact.email)


def _matching(query: PatientQuery) -> list[ColumnElement[bool]]:
    match query:
        case ByName(terms):
            return [Patient.name_key.contains(term, autoescape=True) for term in terms]
        case ByPhone(exact, digits):
            if exact is not None:
                return [PracticePatient.phone == exact]
            return [PracticePatient.phone.contains(digits, autoescape=True)]
        case ByBirthDate(birth_date):
            return [Patient.birth_date == birth_date]


def find_practice_patients(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, query: str
) -> list[RegisteredPatient]:
    """Look a patient up in the practice's registry by name, phone or birth date (the desk
    answering the phone): one query, whatever the number of patients found."""
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what="practice")
    statement = (
        select(Patient, PracticePatient)
        .join(PracticePatient, PracticePatient.patient_id == Patient.patient_id)
        .where(PracticePatient.practice_id == practice_id, *_matching(parse_patient_query(query)))
        .order_by(Patient.last_name, Patient.first_name, Patient.birth_date)
        .limit(MAX_RESULTS)
    )
    found = [
        RegisteredPatient(patient=patient, contact=contact)
        for patient, contact in session.execute(statement)
    ]
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENTS_SEARCHED,
        principal=principal,
        practice_id=practice_id,
        object_kind="patient_list",
        object_id=None,
        objects=[(ObjectKind.PATIENT, registered.patient_id) for registered in found],
    )
    return found


def _registered(
    session: Session, practice_id: UUID, patient_id: UUID, *, for_update: bool = False
) -> RegisteredPatient:
    statement = (
        select(Patient, PracticePatient)
        .join(PracticePatient, PracticePatient.patient_id == Patient.patient_id)
        .where(PracticePatient.practice_id == practice_id, Patient.patient_id == patient_id)
    )
    if for_update:
        statement = statement.with_for_update(of=PracticePatient)
    row = session.execute(statement).one_or_none()
    if row is None:
        raise NotFound("patient not found", field="patient_id")
    return RegisteredPatient(patient=row[0], contact=row[1])


def reach_practice_patient(
    session: Session, *, principal: Principal, practice_id: UUID, patient_id: UUID
) -> RegisteredPatient:
    """A patient of the practice's registry, for its members, not audited: for a reader that
    records one event for all it shows (``booking.access.read_registry_patient``)."""
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what="practice")
    return _registered(session, practice_id, patient_id)


def get_practice_patient(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, patient_id: UUID
) -> RegisteredPatient:
    """A patient of the practice's registry, for its members; read access is audited."""
    registered = reach_practice_patient(
        session, principal=principal, practice_id=practice_id, patient_id=patient_id
    )
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENT_VIEWED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind="patient",
        object_id=patient_id,
    )
    return registered


class Keep(enum.Enum):
    """A field a partial edit leaves as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def do_edit_contact(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    patient_id: UUID,
    expected_version: str,
    phone: str | Keep | None = KEEP,
    email: str | Keep | None = KEEP,
) -> RegisteredPatient:
    """Set or clear (None) the practice's phone and email for a patient of its registry.

    Optimistic concurrency as for agenda settings: the row is locked while the version read
    by the caller is compared, so two members editing from one read cannot both pass."""
    require(
        principal, Action.PRACTICE_APPOINTMENT_BOOK, PracticeTarget(practice_id), what="practice"
    )
    registered = _registered(session, practice_id, patient_id, for_update=True)
    check_version(registered.version, expected_version, what="patient's contact details")
    contact = registered.contact
    if phone is not KEEP:
        contact.phone = None if phone is None or not phone.strip() else normalise_phone(phone)
    if email is not KEEP:
        contact.email = (
            None if email is None or not email.strip() else normalise_contact_email(email)
        )
    session.flush()
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENT_CHANGED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind="patient",
        object_id=patient_id,
    )
    return registered
