"""Use cases of account holders and their relatives."""

from __future__ import annotations

import enum
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PatientTarget, require
from colloque.errors import InvalidInput, NotFound, Unauthenticated
from colloque.ids import new_id
from colloque.patients.models import Patient
from colloque.principal import Principal
from colloque.text import search_key


class Relationship(enum.StrEnum):
    SELF = "self"
    CHILD = "child"
    PARENT = "parent"
    PARTNER = "partner"
    SIBLING = "sibling"
    DEPENDANT = "dependant"
    OTHER = "other"


def _check_person(first_name: str, last_name: str, birth_date: date, today: date) -> None:
    if not first_name.strip():
        raise InvalidInput("first name is required", field="first_name")
    if not last_name.strip():
        raise InvalidInput("last name is required", field="last_name")
    if birth_date > today:
        raise InvalidInput("birth date is in the future", field="birth_date")
    if birth_date.year < today.year - 130:
        raise InvalidInput("birth date is too far in the past", field="birth_date")


def do_add_patient(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    first_name: str,
    last_name: str,
    birth_date: date,
    relationship: Relationship,
    patient_id: UUID | None = None,
) -> Patient:
    """Add the holder themself (``SELF``, once) or a relative they manage."""
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    _check_person(first_name, last_name, birth_date, now.date())
    if relationship is Relationship.SELF:
        existing = session.scalar(
            select(Patient.patient_id).where(
                Patient.holder_account_id == principal.account_id, Patient.relationship == "self"
            )
        )
        if existing is not None:
            raise InvalidInput(
                "this account already has its own patient record", field="relationship"
            )
    patient = Patient(
        patient_id=patient_id or new_id(),
        holder_account_id=principal.account_id,
        relationship=relationship.value,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        name_key=search_key(f"{first_name} {last_name}"),
        birth_date=birth_date,
        created_at=now,
    )
    session.add(patient)
    record(
        session,
        at=now,
        action=AuditAction.RELATIVE_CHANGED,
        principal=principal,
        subject_id=patient.patient_id,
        object_kind="patient",
        object_id=patient.patient_id,
    )
    return patient


def get_patient_for_holder(session: Session, *, principal: Principal, patient_id: UUID) -> Patient:
    """A patient the principal manages; anything else is not found."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("patient not found", field="patient_id")
    require(
        principal,
        Action.PATIENT_RELATIVE_MANAGE,
        PatientTarget(patient.holder_account_id),
        what="patient",
        field="patient_id",
    )
    return patient


def list_patients(session: Session, *, principal: Principal) -> list[Patient]:
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    return list(
        session.scalars(
            select(Patient)
            .where(Patient.holder_account_id == principal.account_id)
            .order_by(Patient.relationship != "self", Patient.birth_date)
        )
    )


def do_remove_relative(
    session: Session, *, now: datetime, principal: Principal, patient_id: UUID
) -> None:
    """Stop managing a relative. Their appointments stay with the practices."""
    patient = get_patient_for_holder(session, principal=principal, patient_id=patient_id)
    if patient.relationship == Relationship.SELF:
        raise InvalidInput("your own record goes with the account", field="patient_id")
    patient.holder_account_id = None
    record(
        session,
        at=now,
        action=AuditAction.RELATIVE_CHANGED,
        principal=principal,
        subject_id=patient.patient_id,
        object_kind="patient",
        object_id=patient.patient_id,
    )
