"""HTTP routes of the account holder and their relatives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Body, Out
from colloque.patients import registry, services
from colloque.patients.models import Patient
from colloque.patients.services import Relationship

router = APIRouter(prefix="/api/v1", tags=["patients"])


class PatientIn(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    relationship: Relationship


class PatientOut(Out):
    patient_id: UUID
    first_name: str
    last_name: str
    #: Missing only on the holder's own record made at sign-up without one, until completed.
    birth_date: date | None
    relationship: Relationship
    created_at: datetime


@router.get("/me/patients", response_model=list[PatientOut])
def list_patients(db: DB, principal: CurrentPrincipal) -> list[Patient]:
    with db.read() as session:
        return services.list_patients(session, principal=principal)


@router.post("/me/patients", response_model=PatientOut, status_code=status.HTTP_201_CREATED)
def add_patient(body: PatientIn, db: DB, clock: ClockDep, principal: CurrentPrincipal) -> Patient:
    with db.write() as session:
        return services.do_add_patient(
            session, now=clock.now(), principal=principal, **body.model_dump()
        )


@router.delete("/me/patients/{patient_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_relative(patient_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal) -> None:
    with db.write() as session:
        services.do_remove_relative(
            session, now=clock.now(), principal=principal, patient_id=patient_id
        )


class PracticePatientIn(Body):
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    birth_date: date


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
)
def find_practice_patients(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    query: Annotated[str, Query(min_length=2, max_length=100)],
) -> list[Patient]:
    with db.write() as session:
        return registry.find_practice_patients(
            session, now=clock.now(), principal=principal, practice_id=practice_id, query=query
        )
