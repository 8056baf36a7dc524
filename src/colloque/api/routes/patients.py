"""HTTP routes of the account holder and their relatives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
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
def list_patients(db: DB, principal: CurrentPrincipal) -> list[Patient]:
    with db.read() as session:
        return services.list_patients(session, principal=principal)


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


class PracticePatientIn(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: BirthDate
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


@router.post(
    "/practices/{practice_id}/patients",
    response_model=PracticePatientOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a patient who contacted the practice (no account needed)",
    description=(
        "Practice staff register a patient who has no account (phone or desk). 403 for a role that "
        "may not, 404 when the practice is not yours, 409 (with `existing_id`) when the practice "
        "already has a patient of this name and birth date and `confirm_duplicate` is not set."
    ),
    responses={409: {"description": "A patient of this name and birth date is registered"}},
)
def register_practice_patient(
    practice_id: UUID, body: PracticePatientIn, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> Patient:
    with db.write() as session:
        return registry.do_register_patient(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            **body.model_dump(),
        )


@router.get(
    "/practices/{practice_id}/patients",
    response_model=list[PracticePatientOut],
    summary="Find the practice's patients by name",
    description=(
        "Practice staff look up the practice registry by name. 403 for a role that may not, 404 "
        "when the practice is not yours."
    ),
)
def find_practice_patients(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    query: Annotated[Text, Query(min_length=2, max_length=100)],
) -> list[Patient]:
    with db.write() as session:
        return registry.find_practice_patients(
            session, now=clock.now(), principal=principal, practice_id=practice_id, query=query
        )
