"""HTTP routes of practices, practitioners and agendas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from pydantic import Field, TypeAdapter
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from colloque import places
from colloque.api.deps import DB, ClockDep, CurrentPrincipal, SettingsDep
from colloque.api.schemas import Body, Day, InstantOrDay, Out
from colloque.containment.canaries import do_plant_canaries
from colloque.scheduling import services, timetable
from colloque.scheduling.domain import OverrideKind, PatientKind, Slot, VisitMode
from colloque.scheduling.models import Practice, Practitioner, VisitType
from colloque.scheduling.specialties import SPECIALTY_LABELS, Specialty
from colloque.search import availability
from colloque.storage.engine import Database

router = APIRouter(prefix="/api/v1", tags=["practices"])

MAX_SLOT_WINDOW_DAYS = 31


class SpecialtyOut(Out):
    code: Specialty
    label_en: str
    label_fr: str


@router.get(
    "/specialties",
    response_model=list[SpecialtyOut],
    description=(
        "Public. The reference list of specialties that search and practitioner profiles use."
    ),
)
def list_specialties() -> list[SpecialtyOut]:
    return [
        SpecialtyOut(code=code, label_en=en, label_fr=fr)
        for code, (en, fr) in SPECIALTY_LABELS.items()
    ]


class PlaceOut(Out):
    insee_code: str
    name: str
    postcodes: list[str]
    latitude: float
    longitude: float
    timezone: str


@router.get(
    "/places",
    response_model=list[PlaceOut],
    description=(
        "Public. French communes whose name or postcode starts with q (accents and case aside), "
        "the most populated first: the bundled list a practice picks its city from, with the "
        "coordinates and time zone that come with it."
    ),
)
def list_places(
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=places.MAX_SUGGESTIONS)] = 10,
) -> list[PlaceOut]:
    return [
        PlaceOut(
            insee_code=place.insee_code,
            name=place.name,
            postcodes=list(place.postcodes),
            latitude=place.latitude,
            longitude=place.longitude,
            timezone=place.timezone,
        )
        for place in places.search(q, limit=limit)
    ]


class PracticeOut(Out):
    practice_id: UUID
    name: str
    address: str
    postcode: str
    city: str
    latitude: float
    longitude: float
    timezone: str


class PracticeSettingsOut(PracticeOut):
    cancel_cutoff_minutes: int
    anti_hoarding_days: int
    hold_minutes: int


class VisitTypeOut(Out):
    visit_type_id: UUID
    label: str
    duration_minutes: int
    online_bookable: bool
    patient_kind: PatientKind
    mode: VisitMode
    #: The practice's reminder policy for this type: the booking client sends it as the
    #: appointment's ``reminders_wanted`` (the server never learns the type).
    reminders: bool = True


class PractitionerOut(Out):
    practitioner_id: UUID
    title: str
    first_name: str
    last_name: str
    specialty: Specialty
    languages: list[str]
    accepts_new_patients: bool

    @classmethod
    def of(cls, practitioner: Practitioner) -> PractitionerOut:
        return cls(
            practitioner_id=practitioner.practitioner_id,
            title=practitioner.title,
            first_name=practitioner.first_name,
            last_name=practitioner.last_name,
            specialty=Specialty(practitioner.specialty),
            languages=[code for code in practitioner.languages.split(",") if code],
            accepts_new_patients=practitioner.accepts_new_patients,
        )


class AgendaOut(Out):
    practitioner: PractitionerOut
    visit_types: list[VisitTypeOut]


@router.get(
    "/practices/{practice_id}",
    response_model=PracticeOut,
    description=(
        "Public. A practice's public page: name, address and visit modes. 404 when there is no such"
        " practice."
    ),
)
def get_practice(practice_id: UUID, db: DB) -> Practice:
    with db.read() as session:
        return services.get_practice(session, practice_id=practice_id)


@router.get(
    "/practices/{practice_id}/practitioners",
    response_model=list[AgendaOut],
    description=(
        "Public. The practitioners of a practice with their bookable visit types. 404 when there is"
        " no such practice."
    ),
)
def list_practice_practitioners(practice_id: UUID, db: DB) -> list[AgendaOut]:
    with db.read() as session:
        return [
            AgendaOut(
                practitioner=PractitionerOut.of(practitioner),
                visit_types=[VisitTypeOut.model_validate(vt) for vt in visit_types],
            )
            for practitioner, visit_types in timetable.list_practice_agendas(
                session, practice_id=practice_id
            )
        ]


class SlotOut(Out):
    starts_at: datetime
    ends_at: datetime


class _SlotJson(TypedDict):
    """:class:`SlotOut` as the answer is written: the same fields, serialized by the same
    pydantic-core without a model per slot (a week holds a hundred)."""

    starts_at: datetime
    ends_at: datetime


_SLOTS_JSON = TypeAdapter(list[_SlotJson])


@router.get(
    "/practices/{practice_id}/practitioners/{practitioner_id}/slots",
    response_model=list[SlotOut],
    summary="Free slots of one visit type, or of any online visit type of one length",
    description=(
        "Public. Give `visit_type_id`, or `duration_minutes` so that the server does not learn "
        "which visit type the patient is looking for (the booking itself sends only the length). "
        "`from` is an instant with its offset, or a plain local day (`2027-01-04`) of the "
        "practice: then the window starts at that day's first instant in the practice's time zone "
        "and holds `days` whole local days. Without `from`, from now. Every `starts_at` and "
        "`ends_at` carries the practice's UTC offset at that instant "
        "(`2027-01-04T09:00:00+01:00`); the zone's name is the practice's `timezone`. 404 for an "
        "unknown practice, practitioner or visit type; 422 for a window beyond two years."
    ),
)
async def list_slots(
    practice_id: UUID,
    practitioner_id: UUID,
    db: DB,
    clock: ClockDep,
    visit_type_id: UUID | None = None,
    duration_minutes: Annotated[int | None, Query(ge=5, le=480)] = None,
    start: Annotated[InstantOrDay | None, Query(alias="from")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_SLOT_WINDOW_DAYS)] = 7,
) -> Response:
    # The page a patient opens, so the hottest read: async, so that it makes one trip to the
    # thread pool for its transaction, where a sync route makes another for its answer's check.
    slots = await run_in_threadpool(
        _free_slots,
        db,
        now=clock.now(),
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        visit_type_id=visit_type_id,
        duration_minutes=duration_minutes,
        start=start,
        days=days,
    )
    return Response(
        _SLOTS_JSON.dump_json([{"starts_at": s.start, "ends_at": s.end} for s in slots]),
        media_type="application/json",
    )


def _free_slots(
    db: Database,
    *,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    visit_type_id: UUID | None,
    duration_minutes: int | None,
    start: datetime | date | None,
    days: int,
) -> list[Slot]:
    # Public data, no audit event: its two statements need not share one snapshot.
    with db.read_statements() as session:
        return availability.list_free_slots(
            session,
            now=now,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            visit_type_id=visit_type_id,
            duration_minutes=duration_minutes,
            start=start,
            days=days,
        )


# --- practice management ----------------------------------------------------------------------


class PracticeIn(Body):
    name: str = Field(min_length=2, max_length=200)
    address: str = Field(min_length=2, max_length=300)
    postcode: str = Field(min_length=3, max_length=10)
    city: str = Field(min_length=1, max_length=100)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    timezone: str = Field(default="Europe/Paris", max_length=64)


@router.post(
    "/practices",
    response_model=PracticeSettingsOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "Any signed-in account may create a practice and becomes its first admin. 422 for invalid "
        "details."
    ),
)
def create_practice(
    body: PracticeIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> Practice:
    with db.write() as session:
        practice = services.do_create_practice(
            session, now=clock.now(), principal=principal, **body.model_dump()
        )
        do_plant_canaries(
            session,
            now=clock.now(),
            practice_id=practice.practice_id,
            key=settings.server_keys.canary_tag,
        )
        return practice


class RulesIn(Body):
    slot_step_minutes: int = Field(default=15, ge=5, le=240)
    min_notice_minutes: int = Field(default=120, ge=0, le=60 * 24 * 60)
    max_horizon_days: int = Field(default=90, ge=1, le=730)
    buffer_after_minutes: int = Field(default=0, ge=0, le=240)
    daily_cap: int | None = Field(default=None, ge=1, le=500)


class PractitionerIn(Body):
    title: str = Field(default="", max_length=20)
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    specialty: Specialty
    languages: list[str] = Field(default_factory=lambda: ["fr"], min_length=1, max_length=20)
    accepts_new_patients: bool = True
    rules: RulesIn = Field(default_factory=RulesIn)


@router.post(
    "/practices/{practice_id}/practitioners",
    response_model=PractitionerOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "Practice admins add a practitioner to the practice. 403 for a lower role, 404 when the "
        "practice is not yours."
    ),
)
def add_practitioner(
    practice_id: UUID,
    body: PractitionerIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
) -> PractitionerOut:
    with db.write() as session:
        practitioner = services.do_add_practitioner(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            title=body.title,
            first_name=body.first_name,
            last_name=body.last_name,
            specialty=body.specialty,
            languages=body.languages,
            accepts_new_patients=body.accepts_new_patients,
            rules=services.AgendaRulesInput(**body.rules.model_dump()),
        )
        # The new agenda gets its decoys (docs/containment.md).
        do_plant_canaries(
            session, now=clock.now(), practice_id=practice_id, key=settings.server_keys.canary_tag
        )
        return PractitionerOut.of(practitioner)


class VisitTypeIn(Body):
    label: str = Field(min_length=1, max_length=120)
    duration_minutes: int = Field(ge=5, le=480)
    online_bookable: bool = True
    patient_kind: PatientKind = PatientKind.ANY
    mode: VisitMode = VisitMode.IN_PERSON
    reminders: bool = True


@router.post(
    "/practices/{practice_id}/practitioners/{practitioner_id}/visit-types",
    response_model=VisitTypeOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "Practice admins or the practitioner add a visit type (length, mode, new patients or not). "
        "403 for a lower role, 404 when not yours."
    ),
)
def add_visit_type(
    practice_id: UUID,
    practitioner_id: UUID,
    body: VisitTypeIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> VisitType:
    with db.write() as session:
        return timetable.do_add_visit_type(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            **body.model_dump(),
        )


class TimeRangeIn(Body):
    weekday: int = Field(ge=0, le=6, description="0 is Monday")
    start_minute: int = Field(ge=0, lt=24 * 60, description="minutes after local midnight")
    end_minute: int = Field(gt=0, le=24 * 60)


class OpeningIn(TimeRangeIn):
    visit_type_ids: list[UUID] = Field(min_length=1, max_length=50)


class CreatedOut(Out):
    id: UUID


@router.post(
    "/practices/{practice_id}/practitioners/{practitioner_id}/openings",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "Practice admins or the practitioner add a weekly opening (weekday, start and end minute, "
        "local time). 422 for an overlap or an invalid range."
    ),
)
def add_opening(
    practice_id: UUID,
    practitioner_id: UUID,
    body: OpeningIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> CreatedOut:
    with db.write() as session:
        opening = timetable.do_add_opening_range(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            **body.model_dump(),
        )
        return CreatedOut(id=opening.opening_id)


@router.post(
    "/practices/{practice_id}/practitioners/{practitioner_id}/breaks",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    description=(
        "Practice admins or the practitioner add an absence between two instants; booked "
        "appointments stay. 422 for an invalid range."
    ),
)
def add_break(
    practice_id: UUID,
    practitioner_id: UUID,
    body: TimeRangeIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> CreatedOut:
    with db.write() as session:
        pause = timetable.do_add_break(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            **body.model_dump(),
        )
        return CreatedOut(id=pause.break_id)


class OverrideIn(Body):
    kind: OverrideKind
    first_day: Day
    last_day: Day
    start_minute: int | None = Field(default=None, ge=0, lt=24 * 60)
    end_minute: int | None = Field(default=None, gt=0, le=24 * 60)
    visit_type_ids: list[UUID] = Field(default_factory=list, max_length=50)
