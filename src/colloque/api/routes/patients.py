"""HTTP routes of the account holder and their relatives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.routes.agenda_settings import (
    EDIT_RESPONSES,
    IF_MATCH,
    READ_RESPONSES,
    VERSIONED,
    if_match,
    tag,
)
from colloque.api.schemas import BirthDate, Body, Out, Text
from colloque.patients import registry, services
from colloque.patients.models import Patient
from colloque.patients.services import Relationship

router = APIRouter(prefix="/api/v1", tags=["patients"])


class PatientIn(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: BirthDate
    relationship: Relationship


class PatientOut(Out):
    patient_id: UUID
    first_name: str
    last_name: str
    #: Missing only on the holder's own record made at sign-up without one, until completed.
    birth_date: date | None
    relationship: Relationship
    created_at: datetime


@router.get(
    "/me/patients",
    response_model=list[PatientOut],
    description="The signed-in account holder's own patient record and their relatives.",
)
def list_patients(db: DB, clock: ClockDep, principal: CurrentPrincipal) -> list[Patient]:
    with db.write() as session:
        return services.list_patients(session, now=clock.now(), principal=principal)


@router.post(
    "/me/patients",
    response_model=PatientOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "The account holder adds their own patient record (`relationship: self`) or a relative's. "
        "422 for invalid details."
    ),
)
def add_patient(body: PatientIn, db: DB, clock: ClockDep, principal: CurrentPrincipal) -> Patient:
    with db.write() as session:
        return services.do_add_patient(
            session, now=clock.now(), principal=principal, **body.model_dump()
        )


@router.put(
    "/me/patients/{patient_id}",
    response_model=PatientOut,
    description=(
        "The account holder corrects a relative's names, birth date or relationship. 404 when it is "
        "not there or not yours; 422 for invalid details, for the holder's own record (complete it "
        "with `POST /me/patients` and `relationship: self`) or to make a relative `self`."
    ),
)
def update_relative(
    patient_id: UUID, body: PatientIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> Patient:
    with db.write() as session:
        return services.do_update_relative(
            session,
            now=clock.now(),
            principal=principal,
            patient_id=patient_id,
            **body.model_dump(),
        )


@router.delete(
    "/me/patients/{patient_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    description="The account holder removes a relative. 404 when it is not there or not yours.",
)
def remove_relative(patient_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal) -> None:
    with db.write() as session:
        services.do_remove_relative(
            session, now=clock.now(), principal=principal, patient_id=patient_id
        )


#: The practice's contact details: optional; a phone in any common writing (French without a
#: country code), answered in E.164.
Phone = Annotated[Text, Field(min_length=3, max_length=40, examples=["06 12 34 56 78"])]
Email = Annotated[Text, Field(min_length=3, max_length=320)]


class PracticePatientIn(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: BirthDate
    phone: Phone | None = None
    email: Email | None = None
    confirm_duplicate: bool = Field(
        default=False,
        description="register even though the practice has a patient with this name and birth "
        "date (otherwise: 409 with the existing record's id in `existing_id`)",
    )


class PracticePatientOut(Out):
    patient_id: UUID
    first_name: str
    last_name: str
    birth_date: date | None
    phone: str | None = Field(description="E.164, as `+33612345678`")
    email: str | None
    holder_account_id: UUID | None = Field(
        description="the account that manages the patient (theirs or a relative's), whose key a "
        "sealed reason is for as well as the practice's; null for a patient without one"
    )
    version: str = Field(description="the contact details' version, to send as `If-Match`")

    @classmethod
    def of(cls, registered: registry.RegisteredPatient) -> PracticePatientOut:
        patient, contact = registered.patient, registered.contact
        return cls(
            patient_id=patient.patient_id,
            first_name=patient.first_name,
            last_name=patient.last_name,
            birth_date=patient.birth_date,
            phone=contact.phone,
            email=contact.email,
            holder_account_id=patient.holder_account_id,
            version=registered.version,
        )


@router.post(
    "/practices/{practice_id}/patients",
    response_model=PracticePatientOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a patient who contacted the practice (no account needed)",
    description=(
        "Practice staff register a patient who has no account (phone or desk), with an optional "
        "phone and email. 403 for a role that may not, 404 when the practice is not yours, 409 "
        "(with `existing_id`) when the practice already has a patient of this name and birth date "
        "and `confirm_duplicate` is not set, 422 naming `phone` or `email` when one is not valid."
    ),
    responses={409: {"description": "A patient of this name and birth date is registered"}},
)
def register_practice_patient(
    practice_id: UUID,
    body: PracticePatientIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> PracticePatientOut:
    with db.write() as session:
        registered = registry.do_register_patient(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            **body.model_dump(),
        )
        tag(response, registered.version)
        return PracticePatientOut.of(registered)


@router.get(
    "/practices/{practice_id}/patients",
    response_model=list[PracticePatientOut],
    summary="Find the practice's patients by name, phone or birth date",
    description=(
        "Practice staff look up the practice registry: `query` is words of a name (accents and "
        "case ignored), a phone number in any common writing (or its first digits, four at "
        "least) or a birth date (`31/12/1980` or `1980-12-31`). At most 50, by name. 403 for a "
        "role that may not, 404 when the practice is not yours."
    ),
)
def find_practice_patients(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    query: Annotated[Text, Query(min_length=2, max_length=100)],
) -> list[PracticePatientOut]:
    with db.write() as session:
        found = registry.find_practice_patients(
            session, now=clock.now(), principal=principal, practice_id=practice_id, query=query
        )
        return [PracticePatientOut.of(registered) for registered in found]


@router.get(
    "/practices/{practice_id}/patients/{patient_id}",
    response_model=PracticePatientOut,
    responses=READ_RESPONSES,
    summary="A patient of the practice's registry",
    description=(
        "Practice members read a patient's administrative record and the practice's contact "
        "details. 404 when the practice or the patient is not yours." + VERSIONED
    ),
)
def get_practice_patient(
    practice_id: UUID,
    patient_id: UUID,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> PracticePatientOut:
    with db.write() as session:
        registered = registry.get_practice_patient(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            patient_id=patient_id,
        )
        tag(response, registered.version)
        return PracticePatientOut.of(registered)


class ContactIn(Body):
    """The fields sent are set (null or an empty string clears one); the others are kept."""

    phone: Annotated[Text, Field(max_length=40)] | None = None
    email: Annotated[Text, Field(max_length=320)] | None = None


ContactVersion = Annotated[str, if_match("patient's contact details")]


@router.patch(
    "/practices/{practice_id}/patients/{patient_id}",
    response_model=PracticePatientOut,
    responses=EDIT_RESPONSES,
    summary="Edit the practice's contact details of a patient",
    description=(
        "Practice staff who may book set or clear a patient's phone and email. 404 when the "
        "practice or the patient is not yours, 422 naming `phone` or `email` when one is not "
        "valid." + IF_MATCH
    ),
)
def edit_practice_patient(
    practice_id: UUID,
    patient_id: UUID,
    body: ContactIn,
    expected: ContactVersion,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> PracticePatientOut:
    sent = body.model_fields_set
    with db.write() as session:
        registered = registry.do_edit_contact(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            patient_id=patient_id,
            expected_version=expected,
            phone=body.phone if "phone" in sent else registry.KEEP,
            email=body.email if "email" in sent else registry.KEEP,
        )
        tag(response, registered.version)
        return PracticePatientOut.of(registered)
