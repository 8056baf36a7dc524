"""HTTP routes that add date overrides and preview what time off would cancel.

Time off (an absence, a holiday) over booked appointments answers 409 ``appointments-affected``
with their ids and start times, unless the request names exactly those it cancels
(``cancel_appointment_ids``): booking/absences.py. The preview lists them first, with the
patients' names as the agenda shows them, writing nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import Field

from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.routes.scheduling import CreatedOut, OverrideIn
from colloque.api.schemas import Out
from colloque.booking import absences
from colloque.booking.rules import Status

router = APIRouter(prefix="/api/v1", tags=["practices"])

#: More than a year of a full agenda: a confirmation names every appointment it cancels.
MAX_CONFIRMED = 10_000
AGENDA_OVERRIDES = "/practices/{practice_id}/practitioners/{practitioner_id}/overrides"
AFFECTED_409 = (
    " Time off over booked (or held) appointments answers 409 `appointments-affected` with their"
    " `count` and `appointments` (ids and start times) unless `cancel_appointment_ids` names"
    " exactly them: then they are cancelled by the practice in the same transaction and each"
    " patient is told. A different set (one booked since the preview) is a 409 with the new list."
)


class TimeOffIn(OverrideIn):
    #: The appointments the client was shown and confirms cancelling.
    cancel_appointment_ids: list[UUID] | None = Field(default=None, max_length=MAX_CONFIRMED)


class TimeOffPreviewIn(OverrideIn):
    #: The override this one would replace (a preview of a replacement).
    replacing: UUID | None = None


def time_off_of(body: OverrideIn) -> absences.TimeOff:
    return absences.TimeOff(
        kind=body.kind,
        first_day=body.first_day,
        last_day=body.last_day,
        start_minute=body.start_minute,
        end_minute=body.end_minute,
        visit_type_ids=tuple(body.visit_type_ids),
    )


class TimeOffCreatedOut(CreatedOut):
    #: How many appointments the time off cancelled.
    cancelled: int


class AffectedOut(Out):
    appointment_id: UUID
    #: In the practice's time zone, with its offset.
    starts_at: datetime
    ends_at: datetime
    status: Status
    patient_first_name: str
    patient_last_name: str

    @classmethod
    def of(cls, item: absences.Affected) -> AffectedOut:
        return cls(
            appointment_id=item.appointment.appointment_id,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            status=Status(item.appointment.status),
            patient_first_name=item.patient.first_name,
            patient_last_name=item.patient.last_name,
        )


class TimeOffPreviewOut(Out):
    count: int
    appointments: list[AffectedOut]


CONFLICT_409: dict[int | str, dict[str, Any]] = {
    409: {"description": "The time off would cancel appointments not confirmed."}
}


@router.post(
    AGENDA_OVERRIDES,
    response_model=TimeOffCreatedOut,
    status_code=status.HTTP_201_CREATED,
    responses=CONFLICT_409,
    description=(
        "Practice admins and secretaries add an absence, a holiday or an extra opening; a"
        " practitioner adds an absence or holiday to their own agenda (403 otherwise)."
        " 422 for an invalid range." + AFFECTED_409
    ),
)
def add_override(
    practice_id: UUID,
    practitioner_id: UUID,
    body: TimeOffIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> TimeOffCreatedOut:
    with db.write() as session:
        override, cancelled = absences.do_add_time_off(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            time_off=time_off_of(body),
            cancel_appointment_ids=body.cancel_appointment_ids,
        )
        return TimeOffCreatedOut(id=override.override_id, cancelled=cancelled)


@router.post(
    AGENDA_OVERRIDES + "/preview",
    response_model=TimeOffPreviewOut,
    description=(
        "Those who may add (or, with `replacing`, replace) this override list the appointments"
        " it would cancel, with the patients' names as the agenda shows them; nothing is"
        " written. The same checks as adding it: 422 naming the field, 403, 404 when it is not"
        " yours."
    ),
)
def preview_override(
    practice_id: UUID,
    practitioner_id: UUID,
    body: TimeOffPreviewIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> TimeOffPreviewOut:
    # A write transaction: the read of patients' names is audited, as an agenda read is.
    with db.write() as session:
        affected = absences.preview_time_off(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            time_off=time_off_of(body),
            replacing_id=body.replacing,
        )
        return TimeOffPreviewOut(
            count=len(affected), appointments=[AffectedOut.of(a) for a in affected]
        )
