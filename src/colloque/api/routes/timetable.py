"""HTTP routes that read, replace and remove an agenda's weekly openings, breaks and overrides.

Versions as in agenda_settings.py: each read answers an ``ETag`` (and a ``version`` field);
each replacement or removal needs it back as ``If-Match`` (428 without, 412 when stale).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Response, status

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.routes.agenda_settings import (
    AGENDA,
    EDIT_RESPONSES,
    IF_MATCH,
    READ_RESPONSES,
    VERSIONED,
    if_match,
    tag,
)
from colloque.api.routes.scheduling import OpeningIn, TimeRangeIn
from colloque.api.routes.time_off import AFFECTED_409, TimeOffIn, time_off_of
from colloque.api.schemas import Day, Out
from colloque.booking import absences
from colloque.scheduling import timetable_editing as editing
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.models import AgendaBreak, AgendaOverride, OpeningRange

router = APIRouter(prefix="/api/v1", tags=["practices"])

OpeningVersion = Annotated[str, if_match("opening")]
BreakVersion = Annotated[str, if_match("break")]
OverrideVersion = Annotated[str, if_match("override")]
REMOVE_RESPONSES = {code: text for code, text in EDIT_RESPONSES.items() if code != 200}
ELSEWHERE_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "The time freed would meet the practitioner's hours at another practice."}
}

# --- weekly openings ----------------------------------------------------------------------------


class OpeningOut(Out):
    opening_id: UUID
    practitioner_id: UUID
    weekday: int
    start_minute: int
    end_minute: int
    visit_type_ids: list[UUID]
    version: str

    @classmethod
    def of(cls, opening: OpeningRange, visit_type_ids: list[UUID]) -> OpeningOut:
        return cls(
            opening_id=opening.opening_id,
            practitioner_id=opening.practitioner_id,
            weekday=opening.weekday,
            start_minute=opening.start_minute,
            end_minute=opening.end_minute,
            visit_type_ids=visit_type_ids,
            version=editing.opening_version(opening, visit_type_ids),
        )


OPENING = "/practices/{practice_id}/openings/{opening_id}"


@router.get(
    AGENDA + "/openings",
    response_model=list[OpeningOut],
    description=(
        "Practice members list the agenda's weekly openings in week order, each with its visit"
        " types and version. 404 when the agenda is not yours."
    ),
)
def list_openings(
    practice_id: UUID, practitioner_id: UUID, db: DB, principal: CurrentPrincipal
) -> list[OpeningOut]:
    with db.read() as session:
        return [
            OpeningOut.of(opening, ids)
            for opening, ids in editing.list_openings(
                session,
                principal=principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
            )
        ]


@router.get(
    OPENING,
    response_model=OpeningOut,
    responses=READ_RESPONSES,
    description="Practice members read one weekly opening. 404 when it is not yours." + VERSIONED,
)
def get_opening(
    practice_id: UUID, opening_id: UUID, response: Response, db: DB, principal: CurrentPrincipal
) -> OpeningOut:
    with db.read() as session:
        out = OpeningOut.of(
            *editing.get_opening(
                session, principal=principal, practice_id=practice_id, opening_id=opening_id
            )
        )
    tag(response, out.version)
    return out


@router.put(
    OPENING,
    response_model=OpeningOut,
    responses=EDIT_RESPONSES,
    description=(
        "Practice admins and secretaries replace a weekly opening, checked like a new one: 422 for"
        " an overlap (with another opening, not itself) or an invalid range. Booked appointments"
        " stay. 404 when it is not yours." + IF_MATCH
    ),
)
def replace_opening(
    practice_id: UUID,
    opening_id: UUID,
    body: OpeningIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: OpeningVersion,
) -> OpeningOut:
    with db.write() as session:
        out = OpeningOut.of(
            *editing.do_replace_opening(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=practice_id,
                opening_id=opening_id,
                expected_version=version,
                **body.model_dump(),
            )
        )
    tag(response, out.version)
    return out


@router.delete(
    OPENING,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=REMOVE_RESPONSES,
    description=(
        "Practice admins and secretaries remove a weekly opening; booked appointments stay. 404"
        " when it is not there or not yours." + IF_MATCH
    ),
)
def remove_opening(
    practice_id: UUID,
    opening_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: OpeningVersion,
) -> None:
    with db.write() as session:
        editing.do_remove_opening(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            opening_id=opening_id,
            expected_version=version,
        )


# --- weekly breaks ------------------------------------------------------------------------------


class BreakOut(Out):
    break_id: UUID
    practitioner_id: UUID
    weekday: int
    start_minute: int
    end_minute: int
    version: str

    @classmethod
    def of(cls, pause: AgendaBreak) -> BreakOut:
        return cls(
            break_id=pause.break_id,
            practitioner_id=pause.practitioner_id,
            weekday=pause.weekday,
            start_minute=pause.start_minute,
            end_minute=pause.end_minute,
            version=editing.break_version(pause),
        )


BREAK = "/practices/{practice_id}/breaks/{break_id}"


@router.get(
    AGENDA + "/breaks",
    response_model=list[BreakOut],
    description=(
        "Practice members list the agenda's weekly breaks in week order, each with its version."
        " 404 when the agenda is not yours."
    ),
)
def list_breaks(
    practice_id: UUID, practitioner_id: UUID, db: DB, principal: CurrentPrincipal
) -> list[BreakOut]:
    with db.read() as session:
        return [
            BreakOut.of(pause)
            for pause in editing.list_breaks(
                session,
                principal=principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
            )
        ]


@router.get(
    BREAK,
    response_model=BreakOut,
    responses=READ_RESPONSES,
    description="Practice members read one weekly break. 404 when it is not yours." + VERSIONED,
)
def get_break(
    practice_id: UUID, break_id: UUID, response: Response, db: DB, principal: CurrentPrincipal
) -> BreakOut:
    with db.read() as session:
        out = BreakOut.of(
            editing.get_break(
                session, principal=principal, practice_id=practice_id, break_id=break_id
            )
        )
    tag(response, out.version)
    return out


@router.put(
    BREAK,
    response_model=BreakOut,
    responses=EDIT_RESPONSES,
    description=(
        "Practice admins and secretaries replace a weekly break; booked appointments stay. 422"
        " for an invalid range, 404 when it is not yours." + IF_MATCH
    ),
)
def replace_break(
    practice_id: UUID,
    break_id: UUID,
    body: TimeRangeIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: BreakVersion,
) -> BreakOut:
    with db.write() as session:
        out = BreakOut.of(
            editing.do_replace_break(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=practice_id,
                break_id=break_id,
                expected_version=version,
                **body.model_dump(),
            )
        )
    tag(response, out.version)
    return out


@router.delete(
    BREAK,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**REMOVE_RESPONSES, **ELSEWHERE_409},
    description=(
        "Practice admins and secretaries remove a weekly break. 404 when it is not there or not"
        " yours. 409 when the time it frees would meet the practitioner's hours at another"
        " practice (an extra opening there)." + IF_MATCH
    ),
)
def remove_break(
    practice_id: UUID,
    break_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: BreakVersion,
) -> None:
    with db.write() as session:
        editing.do_remove_break(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            break_id=break_id,
            expected_version=version,
        )


# --- date overrides -----------------------------------------------------------------------------


class OverrideOut(Out):
    override_id: UUID
    practitioner_id: UUID
    kind: OverrideKind
    first_day: date
    last_day: date
    start_minute: int | None
    end_minute: int | None
    visit_type_ids: list[UUID]
    version: str

    @classmethod
    def of(cls, override: AgendaOverride, visit_type_ids: list[UUID]) -> OverrideOut:
        return cls(
            override_id=override.override_id,
            practitioner_id=override.practitioner_id,
            kind=OverrideKind(override.kind),
            first_day=override.first_day,
            last_day=override.last_day,
            start_minute=override.start_minute,
            end_minute=override.end_minute,
            visit_type_ids=visit_type_ids,
            version=editing.override_version(override, visit_type_ids),
        )


OVERRIDE = "/practices/{practice_id}/overrides/{override_id}"


@router.get(
    AGENDA + "/overrides",
    response_model=list[OverrideOut],
    description=(
        "Practice members list the agenda's absences, holidays and extra openings in date order,"
        " each with its version; with `since` (a local day), only those that end on or after it."
        " 404 when the agenda is not yours."
    ),
)
def list_overrides(
    practice_id: UUID,
    practitioner_id: UUID,
    db: DB,
    principal: CurrentPrincipal,
    since: Day | None = None,
) -> list[OverrideOut]:
    with db.read() as session:
        return [
            OverrideOut.of(override, ids)
            for override, ids in editing.list_overrides(
                session,
                principal=principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
                since=since,
            )
        ]


@router.get(
    OVERRIDE,
    response_model=OverrideOut,
    responses=READ_RESPONSES,
    description="Practice members read one date override. 404 when it is not yours." + VERSIONED,
)
def get_override(
    practice_id: UUID, override_id: UUID, response: Response, db: DB, principal: CurrentPrincipal
) -> OverrideOut:
    with db.read() as session:
        out = OverrideOut.of(
            *editing.get_override(
                session, principal=principal, practice_id=practice_id, override_id=override_id
            )
        )
    tag(response, out.version)
    return out


class ReplacedOverrideOut(OverrideOut):
    #: How many appointments the replacement cancelled (time off widened over them).
    cancelled: int


@router.put(
    OVERRIDE,
    response_model=ReplacedOverrideOut,
    responses={
        **EDIT_RESPONSES,
        409: {
            "description": "The time off would cancel appointments not confirmed, or the time"
            " it frees would meet the practitioner's hours at another practice."
        },
    },
    description=(
        "Practice admins and secretaries replace a date override, checked like a new one (422"
        " naming the field); a practitioner replaces an absence or holiday of their own agenda"
        " with another (403 otherwise). 404 when it is not yours."
        + AFFECTED_409
        + " Only what the replacement newly closes counts."
        + IF_MATCH
    ),
)
def replace_override(
    practice_id: UUID,
    override_id: UUID,
    body: TimeOffIn,
    response: Response,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: OverrideVersion,
) -> ReplacedOverrideOut:
    with db.write() as session:
        override, ids, cancelled = absences.do_replace_time_off(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            override_id=override_id,
            expected_version=version,
            time_off=time_off_of(body),
            cancel_appointment_ids=body.cancel_appointment_ids,
        )
        out = ReplacedOverrideOut(**OverrideOut.of(override, ids).model_dump(), cancelled=cancelled)
    tag(response, out.version)
    return out


@router.delete(
    OVERRIDE,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**REMOVE_RESPONSES, **ELSEWHERE_409},
    description=(
        "Practice admins and secretaries remove a date override; a practitioner an absence or"
        " holiday of their own agenda (403 otherwise). 404 when it is not there or not yours."
        " 409 when the time off ended would meet the practitioner's hours at another practice"
        " (an extra opening there)." + IF_MATCH
    ),
)
def remove_override(
    practice_id: UUID,
    override_id: UUID,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    version: OverrideVersion,
) -> None:
    with db.write() as session:
        editing.do_remove_override(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            override_id=override_id,
            expected_version=version,
        )
