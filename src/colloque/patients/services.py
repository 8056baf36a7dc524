"""Use cases of account holders and their relatives."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PatientTarget, reachable_holder, require
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
    _check_birth_date(birth_date, today)


def _check_birth_date(birth_date: date, today: date) -> None:
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
    """Add a relative the holder manages, or complete the holder's own record (``SELF``).

    Sign-up makes the holder's own record (:func:`do_create_own_record`); asking for ``SELF``
    again sets its names and birth date and returns it, so the call is idempotent (an account
    made without sign-up gets its own record here, once).
    """
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    _check_person(first_name, last_name, birth_date, now.date())
    if relationship is Relationship.SELF:
        own = session.scalars(
            select(Patient).where(
                Patient.holder_account_id == principal.account_id, Patient.relationship == "self"
            )
        ).one_or_none()
        if own is not None:
            _set_person(own, first_name, last_name, birth_date)
            _record_change(session, now, principal, own.patient_id)
            return own
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
    _record_change(session, now, principal, patient.patient_id)
    return patient


def _set_person(patient: Patient, first_name: str, last_name: str, birth_date: date | None) -> None:
    patient.first_name = first_name.strip()
    patient.last_name = last_name.strip()
    patient.name_key = search_key(f"{patient.first_name} {patient.last_name}")
    patient.birth_date = birth_date


def _record_change(session: Session, now: datetime, principal: Principal, patient_id: UUID) -> None:
    record(
        session,
        at=now,
        action=AuditAction.RELATIVE_CHANGED,
        principal=principal,
        subject_id=patient_id,
        object_kind="patient",
        object_id=patient_id,
    )


@dataclass(frozen=True)
class OwnDetails:
    """What a sign-up may say of the holder as a patient; each part optional."""

    first_name: str | None = None
    last_name: str | None = None
    birth_date: date | None = None


#: Longest first or last name a patient record holds.
NAME_LENGTH = 100


def _names_from(display_name: str) -> tuple[str, str]:
    """First and last name from a display name: the last word is the last name ("Léa Martin");
    a single word is the first name, the last name left for the holder to give."""
    words = display_name.split()
    if len(words) < 2:
        return display_name.strip()[:NAME_LENGTH], ""
    return " ".join(words[:-1])[:NAME_LENGTH], words[-1][:NAME_LENGTH]


def do_create_own_record(
    session: Session,
    *,
    now: datetime,
    account_id: UUID,
    display_name: str,
    details: OwnDetails = OwnDetails(),
) -> Patient:
    """The new account holder's own patient record (``SELF``), made in the sign-up transaction.

    Names the sign-up did not give come from the display name; the birth date may be missing
    (NULL) until the holder completes their record with :func:`do_add_patient`. Given parts are
    checked as :func:`do_add_patient` checks them.
    """
    guessed_first, guessed_last = _names_from(display_name)
    first_name = details.first_name if details.first_name is not None else guessed_first
    last_name = details.last_name if details.last_name is not None else guessed_last
    if details.first_name is not None and not first_name.strip():
        raise InvalidInput("first name is required", field="first_name")
    if details.last_name is not None and not last_name.strip():
        raise InvalidInput("last name is required", field="last_name")
    if details.birth_date is not None:
        _check_birth_date(details.birth_date, now.date())
    patient = Patient(
        patient_id=new_id(),
        holder_account_id=account_id,
        relationship=Relationship.SELF.value,
        created_at=now,
    )
    _set_person(patient, first_name, last_name, details.birth_date)
    session.add(patient)
    _record_change(session, now, Principal(account_id=account_id), patient.patient_id)
    return patient


def held(principal: Principal, action: Action) -> ColumnElement[bool]:
    """The policy's patient rule as a WHERE clause (``policy.reachable_holder``): the patients
    ``action`` lets the principal reach. A lookup by id filtered by it (of a patient, or of an
    appointment, waitlist entry or offer joined to its patient) finds somebody else's no more
    than a missing one: the same query, the same work, the same 404."""
    return Patient.holder_account_id == reachable_holder(principal, action)


def reach_held_patient(
    session: Session, *, principal: Principal, action: Action, patient_id: UUID
) -> Patient:
    """A patient the principal manages, for ``action`` (a patient action); anything else,
    somebody else's included, is not found after the same one query."""
    patient = session.scalar(
        select(Patient).where(Patient.patient_id == patient_id, held(principal, action))
    )
    if patient is None:
        raise NotFound("patient not found", field="patient_id")
    # What the filter found is allowed; the decision is still the policy's.
    require(
        principal,
        action,
        PatientTarget(patient.holder_account_id),
        what="patient",
        field="patient_id",
    )
    return patient


def list_patients(session: Session, *, now: datetime, principal: Principal) -> list[Patient]:
    """The account's own record and its relatives; the read is audited, naming each of them."""
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    found = list(
        session.scalars(
            select(Patient)
            .where(Patient.holder_account_id == principal.account_id)
            .order_by(Patient.relationship != "self", Patient.birth_date)
        )
    )
    record(
        session,
        at=now,
        action=AuditAction.PATIENTS_LISTED,
        principal=principal,
        object_kind="patient_list",
        object_id=None,
        objects=[(ObjectKind.PATIENT, patient.patient_id) for patient in found],
    )
    return found


def do_update_relative(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    patient_id: UUID,
    first_name: str,
    last_name: str,
    birth_date: date,
    relationship: Relationship,
) -> Patient:
    """Correct a relative's names, birth date or relationship.

    The holder's own record is completed with :func:`do_add_patient` (``SELF``) instead, and no
    relative may become ``SELF``: an account has exactly one record of its own.
    """
    patient = reach_held_patient(
        session, principal=principal, action=Action.PATIENT_RELATIVE_MANAGE, patient_id=patient_id
    )
    if patient.relationship == Relationship.SELF:
        raise InvalidInput("your own record is changed with relationship self", field="patient_id")
    if relationship is Relationship.SELF:
        raise InvalidInput("a relative cannot become your own record", field="relationship")
    _check_person(first_name, last_name, birth_date, now.date())
    _set_person(patient, first_name, last_name, birth_date)
    patient.relationship = relationship.value
    _record_change(session, now, principal, patient.patient_id)
    return patient


def do_remove_relative(
    session: Session, *, now: datetime, principal: Principal, patient_id: UUID
) -> None:
    """Stop managing a relative. Their appointments stay with the practices."""
    patient = reach_held_patient(
        session, principal=principal, action=Action.PATIENT_RELATIVE_MANAGE, patient_id=patient_id
    )
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
