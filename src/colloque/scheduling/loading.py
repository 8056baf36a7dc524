"""Reading an agenda into its pure form for the slot engine, with a per-process cache.

An agenda's definition (openings, breaks, overrides, visit types, rules, the practice's settings)
changes rarely and is read on every booking. Each process keeps the last snapshot it read of each
agenda, keyed by the agenda's ``agenda_version``, which every change bumps in the same
transaction. A booking then costs one indexed read of that version instead of seven queries, and a
snapshot can never be older than the version the booking's own transaction sees.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.errors import NotFound
from colloque.scheduling.domain import (
    Agenda,
    BookingRules,
    DateOverride,
    OverrideKind,
    PatientKind,
    VisitMode,
    VisitTypeInfo,
    VisitTypeSpec,
    WeeklyBreak,
    WeeklyRange,
)
from colloque.scheduling.models import (
    AgendaBreak,
    AgendaOverride,
    OpeningRange,
    OpeningRangeVisitType,
    OverrideVisitType,
    Practice,
    PracticePractitioner,
    Practitioner,
    VisitType,
)

CACHE_SIZE = 20_000


def minute_to_time(minute: int) -> time:
    """Minutes after midnight to a time; 1440 (end of day) becomes 23:59:59.999999."""
    if minute >= 24 * 60:
        return time(23, 59, 59, 999999)
    return time(minute // 60, minute % 60)


@dataclass(frozen=True, slots=True)
class PracticeSettings:
    timezone: str
    city_key: str
    cancel_cutoff_minutes: int
    anti_hoarding_days: int
    hold_minutes: int


@dataclass(frozen=True, slots=True)
class PractitionerInfo:
    specialty: str
    accepts_new_patients: bool


@dataclass(frozen=True, slots=True)
class LoadedAgenda:
    """One practitioner's agenda at one practice, as plain immutable values."""

    practice_id: UUID
    practitioner_id: UUID
    version: int
    practice: PracticeSettings
    practitioner: PractitionerInfo
    visit_types: dict[UUID, VisitTypeInfo]
    agenda: Agenda
    #: Every practice the practitioner works at: their time is one, wherever it is booked.
    practitioner_practice_ids: tuple[UUID, ...]

    def spec(self, visit_type_id: UUID) -> VisitTypeSpec:
        visit_type = self.visit_types[visit_type_id]
        return VisitTypeSpec(
            id=visit_type_id, duration=timedelta(minutes=visit_type.duration_minutes)
        )


class AgendaCache:
    """A bounded, thread-safe map from agenda to its last snapshot."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, UUID, UUID], LoadedAgenda] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, UUID, UUID], version: int) -> LoadedAgenda | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, database: str, entry: LoadedAgenda) -> None:
        with self._lock:
            key = (database, entry.practice_id, entry.practitioner_id)
            current = self._entries.get(key)
            if current is not None and current.version > entry.version:
                return
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


AGENDAS = AgendaCache()


def load_agenda(session: Session, *, practice_id: UUID, practitioner_id: UUID) -> LoadedAgenda:
    """The agenda as this transaction sees it: cached when its version has not moved."""
    version = session.scalar(
        select(PracticePractitioner.agenda_version).where(
            PracticePractitioner.practice_id == practice_id,
            PracticePractitioner.practitioner_id == practitioner_id,
        )
    )
    if version is None:
        raise NotFound("practitioner not found at this practice")
    database = _database_key(session)
    cached = AGENDAS.get((database, practice_id, practitioner_id), version)
    if cached is not None:
        return cached
    loaded = _read_agenda(
        session, practice_id=practice_id, practitioner_id=practitioner_id, version=version
    )
    AGENDAS.put(database, loaded)
    return loaded


def _database_key(session: Session) -> str:
    """Which database a snapshot came from, so that one process may use several."""
    return session.get_bind().engine.url.render_as_string(hide_password=True)


def _read_agenda(
    session: Session, *, practice_id: UUID, practitioner_id: UUID, version: int
) -> LoadedAgenda:
    practice = session.get(Practice, practice_id)
    row = session.get(PracticePractitioner, (practice_id, practitioner_id))
    practitioner = session.get(Practitioner, practitioner_id)
    if (
        practice is None or row is None or practitioner is None
    ):  # pragma: no cover - checked by version
        raise NotFound("practitioner not found at this practice")
    visit_types = _visit_types(session, practice_id=practice_id, practitioner_id=practitioner_id)
    practice_ids = tuple(
        session.scalars(
            select(PracticePractitioner.practice_id)
            .where(PracticePractitioner.practitioner_id == practitioner_id)
            .order_by(PracticePractitioner.practice_id)
        )
    )
    return LoadedAgenda(
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        version=version,
        practice=PracticeSettings(
            timezone=practice.timezone,
            city_key=practice.city_key,
            cancel_cutoff_minutes=practice.cancel_cutoff_minutes,
            anti_hoarding_days=practice.anti_hoarding_days,
            hold_minutes=practice.hold_minutes,
        ),
        practitioner=PractitionerInfo(
            specialty=practitioner.specialty, accepts_new_patients=practitioner.accepts_new_patients
        ),
        visit_types=visit_types,
        agenda=Agenda(
            timezone=ZoneInfo(practice.timezone),
            weekly=_weekly_ranges(session, row=row, known_types=visit_types.keys()),
            breaks=_weekly_breaks(session, row=row),
            overrides=_date_overrides(session, row=row, known_types=visit_types.keys()),
            rules=BookingRules(
                slot_step=timedelta(minutes=row.slot_step_minutes),
                min_notice=timedelta(minutes=row.min_notice_minutes),
                max_horizon=timedelta(days=row.max_horizon_days),
                buffer_after=timedelta(minutes=row.buffer_after_minutes),
                daily_cap=row.daily_cap,
            ),
        ),
        practitioner_practice_ids=practice_ids,
    )


def _visit_types(
    session: Session, *, practice_id: UUID, practitioner_id: UUID
) -> dict[UUID, VisitTypeInfo]:
    """The agenda's active visit types, by id."""
    return {
        vt.visit_type_id: VisitTypeInfo(
            visit_type_id=vt.visit_type_id,
            label=vt.label,
            duration_minutes=vt.duration_minutes,
            online_bookable=vt.online_bookable,
            patient_kind=PatientKind(vt.patient_kind),
            mode=VisitMode(vt.mode),
            reminders=vt.reminders,
        )
        for vt in session.scalars(
            select(VisitType).where(
                VisitType.practice_id == practice_id,
                VisitType.practitioner_id == practitioner_id,
                VisitType.active.is_(True),
            )
        )
    }


def _weekly_ranges(
    session: Session, *, row: PracticePractitioner, known_types: Collection[UUID]
) -> tuple[WeeklyRange, ...]:
    """Opening ranges in week order, each with the active visit types it offers."""
    range_types: dict[UUID, set[UUID]] = defaultdict(set)
    for opening_id, visit_type_id in session.execute(
        select(OpeningRangeVisitType.opening_id, OpeningRangeVisitType.visit_type_id)
        .join(
            OpeningRange,
            (OpeningRange.practice_id == OpeningRangeVisitType.practice_id)
            & (OpeningRange.opening_id == OpeningRangeVisitType.opening_id),
        )
        .where(
            OpeningRange.practice_id == row.practice_id,
            OpeningRange.practitioner_id == row.practitioner_id,
        )
    ):
        if visit_type_id in known_types:
            range_types[opening_id].add(visit_type_id)
    return tuple(
        WeeklyRange(
            weekday=o.weekday,
            start=minute_to_time(o.start_minute),
            end=minute_to_time(o.end_minute),
            visit_type_ids=frozenset(range_types[o.opening_id]),
        )
        for o in session.scalars(
            select(OpeningRange)
            .where(
                OpeningRange.practice_id == row.practice_id,
                OpeningRange.practitioner_id == row.practitioner_id,
            )
            .order_by(OpeningRange.weekday, OpeningRange.start_minute)
        )
    )


def _weekly_breaks(session: Session, *, row: PracticePractitioner) -> tuple[WeeklyBreak, ...]:
    return tuple(
        WeeklyBreak(
            weekday=b.weekday,
            start=minute_to_time(b.start_minute),
            end=minute_to_time(b.end_minute),
        )
        for b in session.scalars(
            select(AgendaBreak).where(
                AgendaBreak.practice_id == row.practice_id,
                AgendaBreak.practitioner_id == row.practitioner_id,
            )
        )
    )


def _date_overrides(
    session: Session, *, row: PracticePractitioner, known_types: Collection[UUID]
) -> tuple[DateOverride, ...]:
    """Absences and extra openings; an extra opening with the active visit types it offers."""
    override_rows = list(
        session.scalars(
            select(AgendaOverride).where(
                AgendaOverride.practice_id == row.practice_id,
                AgendaOverride.practitioner_id == row.practitioner_id,
            )
        )
    )
    override_types: dict[UUID, set[UUID]] = defaultdict(set)
    extra_ids = [o.override_id for o in override_rows if o.kind == OverrideKind.EXTRA_OPENING]
    if extra_ids:
        for override_id, visit_type_id in session.execute(
            select(OverrideVisitType.override_id, OverrideVisitType.visit_type_id).where(
                OverrideVisitType.practice_id == row.practice_id,
                OverrideVisitType.override_id.in_(extra_ids),
            )
        ):
            if visit_type_id in known_types:
                override_types[override_id].add(visit_type_id)
    return tuple(
        DateOverride(
            kind=OverrideKind(o.kind),
            first_day=o.first_day,
            last_day=o.last_day,
            start=minute_to_time(o.start_minute) if o.start_minute is not None else None,
            end=minute_to_time(o.end_minute) if o.end_minute is not None else None,
            visit_type_ids=frozenset(override_types[o.override_id]),
        )
        for o in override_rows
    )
