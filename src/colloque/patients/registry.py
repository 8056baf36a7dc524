"""The practice patient registry: which patients a practice may book and look up."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import Duplicate, InvalidInput, NotFound
from colloque.ids import new_id
from colloque.patients.models import Patient, PracticePatient
from colloque.principal import Principal
from colloque.text import search_key

MAX_RESULTS = 50


def remember_patient(
    session: Session, *, practice_id: UUID, patient_id: UUID, now: datetime
) -> None:
    """Add the patient to the practice's registry, once (one statement, no read first)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(PracticePatient)
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
    confirm_duplicate: bool = False,
) -> Patient:
    """The practice registers a patient who called (no account yet); it manages the record.

    A patient of the practice's registry with the same name and birth date is likely the same
    person: the answer is a 409 naming the existing record, unless ``confirm_duplicate`` says
    this is another person (twins with one name happen; homonyms born the same day too)."""
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
    remember_patient(session, practice_id=practice_id, patient_id=patient.patient_id, now=now)
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
    return patient


def find_practice_patients(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, query: str
) -> list[Patient]:
    """Look a patient up by name in the practice's registry (the desk answering the phone)."""
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what="practice")
    terms = search_key(query).split()
    if not terms:
        raise InvalidInput("give part of a name", field="query")
    statement = (
        select(Patient)
        .join(PracticePatient, PracticePatient.patient_id == Patient.patient_id)
        .where(
            PracticePatient.practice_id == practice_id,
            *(Patient.name_key.contains(term, autoescape=True) for term in terms),
        )
        .order_by(Patient.last_name, Patient.first_name)
        .limit(MAX_RESULTS)
    )
    found = list(session.scalars(statement))
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENTS_SEARCHED,
        principal=principal,
        practice_id=practice_id,
        object_kind="patient_list",
        object_id=None,
    )
    return found
