"""HTTP routes that read and edit an agenda's visit types, booking rules and practice settings.

Every object answers with its version as an ``ETag`` header and a ``version`` field; every edit or
delete must send it back as ``If-Match``: 428 without it, 412 when the object changed since
(docs/scheduling.md, "Editing with versions").
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Response
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Body, Out
from colloque.errors import PreconditionRequired
from colloque.scheduling import editing, services
from colloque.scheduling.domain import PatientKind, VisitMode
from colloque.scheduling.models import Practice, PracticePractitioner, VisitType

router = APIRouter(prefix="/api/v1", tags=["practices"])

AGENDA = "/practices/{practice_id}/practitioners/{practitioner_id}"
VERSIONED = (
    " The answer's `ETag` header (and `version` field) is the version to send back as `If-Match`"
    " to edit or delete it."
)
IF_MATCH = (
    " Send the version you read as `If-Match`: 428 without it, 412 when it changed since (read it"
    " again)."
)


#: Module level, not in the closure below: FastAPI reads the annotations as strings (PEP 563),
#: so they may name only this module's globals.
IfMatchHeader = Annotated[
    str | None, Header(description="The version (the ETag) you read, to edit or delete it")
]


def if_match(what: str) -> Any:
    def read(_principal: CurrentPrincipal, if_match: IfMatchHeader = None) -> str:
        # The principal first: an anonymous request is a 401 whatever it sends.
        if if_match is None or not if_match.strip():
            raise PreconditionRequired(
                f"changing the {what} needs the version you read, as If-Match", field="If-Match"
            )
        return if_match.strip().removeprefix("W/").strip('"')

    return Depends(read)


VisitTypeVersion = Annotated[str, if_match("visit type")]
RulesVersion = Annotated[str, if_match("agenda rules")]
SettingsVersion = Annotated[str, if_match("practice settings")]


_ETAG = {
    "headers": {
        "ETag": {"description": "The version, to send as `If-Match`", "schema": {"type": "string"}}
    }
}
#: The answers of a read (its version) and of an edit (its version checked, then the new one).
READ_RESPONSES: dict[int | str, dict[str, Any]] = {200: _ETAG}
EDIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _ETAG,
    412: {"description": "It changed since you read it (`If-Match` is stale): read it again"},
    428: {"description": "`If-Match` is missing: send the version you read"},
}


def tag(response: Response, version: str) -> str:
    response.headers["ETag"] = f'"{version}"'
    return version


# --- practice settings --------------------------------------------------------------------------


class SettingsOut(Out):
    practice_id: UUID
    cancel_cutoff_minutes: int
    anti_hoarding_days: int
    hold_minutes: int
    version: str

    @classmethod
    def of(cls, practice: Practice, response: Response) -> SettingsOut:
        return cls(
            practice_id=practice.practice_id,
            cancel_cutoff_minutes=practice.cancel_cutoff_minutes,
            anti_hoarding_days=practice.anti_hoarding_days,
            hold_minutes=practice.hold_minutes,
            version=tag(response, services.settings_version(practice)),
        )


@router.get(
    "/practices/{practice_id}/settings",
    response_model=SettingsOut,
    responses=READ_RESPONSES,
    description="Practice members read the practice's settings." + VERSIONED,
)
def get_settings(
    practice_id: UUID, response: Response, db: DB, principal: CurrentPrincipal
) -> SettingsOut:
    with db.read() as session:
        practice = editing.get_practice_settings(
            session, principal=principal, practice_id=practice_id
        )
        return SettingsOut.of(practice, response)


class PracticeSettingsIn(Body):
    cancel_cutoff_minutes: int | None = Field(default=None, ge=0, le=7 * 24 * 60)
    anti_hoarding_days: int | None = Field(default=None, ge=0, le=365)
    hold_minutes: int | None = Field(default=None, ge=1, le=24 * 60)


@router.patch(
    "/practices/{practice_id}/settings",
    response_model=SettingsOut,
    responses=EDIT_RESPONSES,
    description=(
        "Practice admins change the practice's settings; the fields left out keep their value. "
        "403 for a lower role, 404 when the practice is not yours." + IF_MATCH
    ),
)
def update_practice_settings(
    practice_id: UUID,
    body: PracticeSettingsIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: SettingsVersion,
) -> SettingsOut:
    with db.write() as session:
        practice = services.do_update_practice_settings(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            expected_version=version,
            **body.model_dump(),
        )
        return SettingsOut.of(practice, response)


# --- booking rules ------------------------------------------------------------------------------


class AgendaRulesIn(Body):
    """Every field is required: a rule left out is an error, never a silent reset to a default."""

    slot_step_minutes: int = Field(ge=5, le=240)
    min_notice_minutes: int = Field(ge=0, le=60 * 24 * 60)
    max_horizon_days: int = Field(ge=1, le=730)
    buffer_after_minutes: int = Field(ge=0, le=240)
    daily_cap: int | None = Field(ge=1, le=500, description="null for no cap")


class AgendaRulesOut(Out):
    slot_step_minutes: int
    min_notice_minutes: int
    max_horizon_days: int
    buffer_after_minutes: int
    daily_cap: int | None
    version: str

    @classmethod
    def of(cls, row: PracticePractitioner, response: Response) -> AgendaRulesOut:
        return cls(
            slot_step_minutes=row.slot_step_minutes,
            min_notice_minutes=row.min_notice_minutes,
            max_horizon_days=row.max_horizon_days,
            buffer_after_minutes=row.buffer_after_minutes,
            daily_cap=row.daily_cap,
            version=tag(response, services.rules_version(row)),
        )


@router.get(
    AGENDA + "/rules",
    response_model=AgendaRulesOut,
    responses=READ_RESPONSES,
    description="Practice members read the agenda's booking rules." + VERSIONED,
)
def get_rules(
    practice_id: UUID,
    practitioner_id: UUID,
    response: Response,
    db: DB,
    principal: CurrentPrincipal,
) -> AgendaRulesOut:
    with db.read() as session:
        row = editing.get_agenda_rules(
            session, principal=principal, practice_id=practice_id, practitioner_id=practitioner_id
        )
        return AgendaRulesOut.of(row, response)


@router.put(
    AGENDA + "/rules",
    response_model=AgendaRulesOut,
    responses=EDIT_RESPONSES,
    description=(
        "Practice admins and secretaries replace the booking rules (notice, horizon, buffers, daily"
        " cap): every field is required, so 422 names the one left out. 403 for a lower role, 404"
        " when not yours." + IF_MATCH
    ),
)
def update_rules(
    practice_id: UUID,
    practitioner_id: UUID,
    body: AgendaRulesIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: RulesVersion,
) -> AgendaRulesOut:
    with db.write() as session:
        row = services.do_update_agenda_rules(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            rules=services.AgendaRulesInput(**body.model_dump()),
            expected_version=version,
        )
        return AgendaRulesOut.of(row, response)


# --- visit types --------------------------------------------------------------------------------


class VisitTypeDetailOut(Out):
    visit_type_id: UUID
    practitioner_id: UUID
    label: str
    duration_minutes: int
    online_bookable: bool
    patient_kind: PatientKind
    mode: VisitMode
    #: Whether its appointments get reminders (docs/notifications.md, "Reminders").
    reminders: bool
    version: str

    @classmethod
    def of(cls, visit_type: VisitType) -> VisitTypeDetailOut:
        return cls(
            visit_type_id=visit_type.visit_type_id,
            practitioner_id=visit_type.practitioner_id,
            label=visit_type.label,
            duration_minutes=visit_type.duration_minutes,
            online_bookable=visit_type.online_bookable,
            patient_kind=PatientKind(visit_type.patient_kind),
            mode=VisitMode(visit_type.mode),
            reminders=visit_type.reminders,
            version=editing.visit_type_version(visit_type),
        )


@router.get(
    AGENDA + "/visit-types",
    response_model=list[VisitTypeDetailOut],
    description=(
        "Practice members list the agenda's visit types, offered online or not, each with its"
        " version. 404 when the agenda is not yours."
    ),
)
def list_visit_types(
    practice_id: UUID, practitioner_id: UUID, db: DB, principal: CurrentPrincipal
) -> list[VisitTypeDetailOut]:
    with db.read() as session:
        return [
            VisitTypeDetailOut.of(visit_type)
            for visit_type in editing.list_agenda_visit_types(
                session,
                principal=principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
            )
        ]


VISIT_TYPE = "/practices/{practice_id}/visit-types/{visit_type_id}"


def _tagged(visit_type: VisitType, response: Response) -> VisitTypeDetailOut:
    out = VisitTypeDetailOut.of(visit_type)
    tag(response, out.version)
    return out


@router.get(
    VISIT_TYPE,
    response_model=VisitTypeDetailOut,
    responses=READ_RESPONSES,
    description="Practice members read one visit type. 404 when it is not yours." + VERSIONED,
)
def get_visit_type(
    practice_id: UUID, visit_type_id: UUID, response: Response, db: DB, principal: CurrentPrincipal
) -> VisitTypeDetailOut:
    with db.read() as session:
        visit_type = editing.get_visit_type(
            session, principal=principal, practice_id=practice_id, visit_type_id=visit_type_id
        )
        return _tagged(visit_type, response)


class VisitTypeChangesIn(Body):
    """The fields to change; those left out keep their value."""

    label: str | None = Field(default=None, min_length=1, max_length=120)
    duration_minutes: int | None = Field(default=None, ge=5, le=480)
    online_bookable: bool | None = None
    patient_kind: PatientKind | None = None
    mode: VisitMode | None = None
    reminders: bool | None = None


@router.patch(
    VISIT_TYPE,
    response_model=VisitTypeDetailOut,
    responses=EDIT_RESPONSES,
    description=(
        "Practice admins and secretaries change a visit type; booked appointments keep their"
        " length. 403 for a lower role, 404 when it is not yours." + IF_MATCH
    ),
)
def edit_visit_type(
    practice_id: UUID,
    visit_type_id: UUID,
    body: VisitTypeChangesIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: VisitTypeVersion,
) -> VisitTypeDetailOut:
    with db.write() as session:
        visit_type = editing.do_edit_visit_type(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            visit_type_id=visit_type_id,
            expected_version=version,
            changes=editing.VisitTypeChanges(**body.model_dump()),
        )
        return _tagged(visit_type, response)


class RetiredOut(Out):
    visit_type_id: UUID
    outcome: str = Field(description="always `retired`: the row stays, out of every agenda")
    why: str


@router.delete(
    VISIT_TYPE,
    response_model=RetiredOut,
    responses={k: v for k, v in EDIT_RESPONSES.items() if k != 200},
    description=(
        "Practice admins and secretaries remove a visit type. It is retired, never deleted:"
        " appointments keep their visit type sealed with the reason, so the server cannot tell"
        " whether one was booked with it. It leaves the openings and search at once; booked"
        " appointments stay. 403 for a lower role, 404 when it is not yours." + IF_MATCH
    ),
)
def retire_visit_type(
    practice_id: UUID,
    visit_type_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: VisitTypeVersion,
) -> RetiredOut:
    with db.write() as session:
        editing.do_retire_visit_type(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            visit_type_id=visit_type_id,
            expected_version=version,
        )
    return RetiredOut(
        visit_type_id=visit_type_id,
        outcome="retired",
        why=(
            "appointments name their visit type only inside their sealed reason, so the server"
            " cannot know whether any was booked with it; it keeps the row and offers it no more"
        ),
    )
