"""HTTP routes of the audit log as people see it: a patient's access history and a practice's
log for its admins (docs/audit-access.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from colloque.accesslog.history import Access, list_access_history
from colloque.accesslog.paging import MAX_PAGE
from colloque.accesslog.practice_log import LogFilter, list_practice_log
from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Instant, Out
from colloque.audit.services import AuditAction

router = APIRouter(prefix="/api/v1", tags=["audit"])

_CURSOR = Query(max_length=120, description="The previous page's ``next_before``.")


class AccessOut(Out):
    at: datetime
    #: Which of the account's patients was accessed: its own record or a relative's.
    patient_id: UUID
    #: ``you``, or the role the person acted in: ``practitioner``, ``secretary``, ``admin``,
    #: ``operator`` (the platform's support, under the practice's grant), ``anonymous``.
    actor: str
    #: The audit action (``booking:appointment:view``, ``scheduling:agenda:view``...).
    action: str
    #: What kinds of object the action named (``appointment``, ``patient``, ``item``...).
    object_kinds: list[str]
    #: ``allowed``, or ``denied`` (an attempt the server refused).
    outcome: str
    practice_id: UUID | None
    practice_name: str | None
    #: The practice's time zone (``Europe/Paris``).
    practice_timezone: str | None
    #: The practitioner who acted, by the public name the search shows; null for other roles.
    practitioner_name: str | None

    @classmethod
    def of(cls, access: Access) -> AccessOut:
        return cls(
            at=access.at,
            patient_id=access.patient_id,
            actor=access.actor,
            action=access.action,
            object_kinds=list(access.object_kinds),
            outcome=access.outcome,
            practice_id=access.practice_id,
            practice_name=access.practice_name,
            practice_timezone=access.practice_timezone,
            practitioner_name=access.practitioner_name,
        )


class HeldPatientOut(Out):
    patient_id: UUID
    first_name: str
    last_name: str


class AccessPageOut(Out):
    items: list[AccessOut]
    #: Pass as ``before`` for the next (older) page; None at the end.
    next_before: str | None
    #: The account's patients (its own record first, then its relatives): what ``patient_id``
    #: may name.
    patients: list[HeldPatientOut]


@router.get(
    "/me/access-history",
    response_model=AccessPageOut,
    summary="Who accessed the records of this account's patients, newest first",
    description=(
        "Every access the audit log recorded to the signed-in account's own patient record and "
        "to its relatives' (or to ``patient_id``, one of them): when, which practice, which "
        "role, what action on which kinds of object, allowed or denied. The account's own "
        "actions show as ``you``. Never a credential, an address or another object's id. A "
        "``patient_id`` that is not the account's answers 404 like an unknown one; 422 naming "
        "``before`` for a cursor this server did not give."
    ),
    responses={404: {"description": "No patient of this account has this id"}},
)
def my_access_history(
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    patient_id: UUID | None = None,
    before: Annotated[str | None, _CURSOR] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> AccessPageOut:
    # A write transaction: reading the log is itself an audited access.
    with db.write() as session:
        page = list_access_history(
            session,
            now=clock.now(),
            principal=principal,
            patient_id=patient_id,
            before=before,
            limit=limit,
        )
    return AccessPageOut(
        items=[AccessOut.of(access) for access in page.accesses],
        next_before=page.next_before,
        patients=[
            HeldPatientOut(
                patient_id=patient.patient_id,
                first_name=patient.first_name,
                last_name=patient.last_name,
            )
            for patient in page.patients
        ],
    )


class LoggedEventOut(Out):
    event_id: UUID
    at: datetime
    #: The account that acted; null for an anonymous visitor or the system.
    member_id: UUID | None
    member_name: str | None
    role: str
    action: str
    outcome: str
    #: Why it was denied (a problem type such as ``not-found``); null when allowed.
    reason: str | None
    #: ``api``, ``web``, ``cli``, ``worker`` or ``internal``.
    interface: str
    #: The session or token the request came with.
    credential_id: UUID | None
    #: The client's network (/24 or /48), never its full address.
    client_prefix: str | None
    request_id: str | None
    #: Every object the event named: kind -> ids.
    objects: dict[str, list[UUID]]


class LogPageOut(Out):
    items: list[LoggedEventOut]
    next_before: str | None


@router.get(
    "/practices/{practice_id}/audit",
    response_model=LogPageOut,
    summary="The practice's audit log, newest first (admins)",
    description=(
        "Who in the practice (members, and operators under its grant) did what: each event's "
        "time, member, role, action, outcome, objects (kinds and ids), credential and client "
        "network. Filtered by ``member_id``, ``patient_id`` (events naming that patient), "
        "``action`` and the window ``[from, to)`` (instants with their offset; 422 naming "
        "``to`` when it is not after ``from``). Reading it is itself logged."
    ),
    responses={404: {"description": "No practice with this id where the caller is a member"}},
)
def practice_audit(
    practice_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    member_id: UUID | None = None,
    patient_id: UUID | None = None,
    action: AuditAction | None = None,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
    before: Annotated[str | None, _CURSOR] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> LogPageOut:
    where = LogFilter(
        member_id=member_id, patient_id=patient_id, action=action, start=start, end=end
    )
    with db.write() as session:
        page = list_practice_log(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            where=where,
            before=before,
            limit=limit,
        )
    return LogPageOut(
        items=[LoggedEventOut.model_validate(event) for event in page.events],
        next_before=page.next_before,
    )
