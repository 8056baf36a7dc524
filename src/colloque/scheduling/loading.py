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
from functools import lru_cache
from typing import cast
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import URL, ColumnElement, Table, bindparam, select, tuple_
from sqlalchemy.orm import Session

from colloque.errors import Busy, NotFound
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
from colloque.storage.base import Base

CACHE_SIZE = 20_000


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The reads below select from the tables, not the mapped classes: the rows come back as plain
# rows, without the ORM's per-row loading, which was two thirds of the search caches' rebuild
# (docs/benchmarks.md, set-up). Their column names are the mapped attributes' names.
_AGENDAS = _table(PracticePractitioner)
_PRACTICES = _table(Practice)
_PRACTITIONERS = _table(Practitioner)
_VISIT_TYPES = _table(VisitType)
_OPENINGS = _table(OpeningRange)
_OPENING_TYPES = _table(OpeningRangeVisitType)
_BREAKS = _table(AgendaBreak)
_OVERRIDES = _table(AgendaOverride)
_OVERRIDE_TYPES = _table(OverrideVisitType)


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


AgendaKey = tuple[UUID, UUID]


#: One agenda's version, built once: the statement of every booking and every week of slots,
#: whose cache key SQLAlchemy would otherwise compute again on each call. Core columns, so that the
#: session runs it without the ORM's layer.
_VERSION = select(PracticePractitioner.__table__.c.agenda_version).where(
    PracticePractitioner.__table__.c.practice_id == bindparam("practice_id"),
    PracticePractitioner.__table__.c.practitioner_id == bindparam("practitioner_id"),
)


def load_agenda(
    session: Session, *, practice_id: UUID, practitioner_id: UUID, cached: bool = True
) -> LoadedAgenda:
    """The agenda as this transaction sees it: cached when its version has not moved.

    ``cached=False`` neither reads nor fills the process's cache: for an agenda this transaction
    changed, whose version may yet be rolled back and given to another change."""
    version = session.execute(
        _VERSION, {"practice_id": practice_id, "practitioner_id": practitioner_id}
    ).scalar()
    if version is None:
        raise NotFound("practitioner not found at this practice")
    key = (practice_id, practitioner_id)
    database = _database_key(session)
    hit = AGENDAS.get((database, *key), version) if cached else None
    if hit is not None:
        return hit
    if _per_statement(session):
        loaded = _read_consistently(session, key, version)
    else:
        (loaded,) = _read_agendas(session, {key: version})
    if cached:
        AGENDAS.put(database, loaded)
    return loaded


#: Reads of a definition changed under them before one of them is taken as it stands.
_CONSISTENT_READ_ATTEMPTS = 3


def _per_statement(session: Session) -> bool:
    """Whether each statement of ``session`` runs on its own (``Database.read_statements``)."""
    return session.get_bind().get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def _read_consistently(session: Session, key: AgendaKey, version: int) -> LoadedAgenda:
    """The agenda's definition read statement by statement, outside a transaction: each sees
    the database as it is when it runs. Every change of a definition moves its version in the
    same commit, so when the version read again afterwards is unchanged no change was committed
    in between and every statement saw that version. Otherwise the load starts again."""
    for _ in range(_CONSISTENT_READ_ATTEMPTS):
        (loaded,) = _read_agendas(session, {key: version})
        again = session.execute(
            _VERSION, {"practice_id": key[0], "practitioner_id": key[1]}
        ).scalar()
        if again == version:
            return loaded
        if again is None:
            raise NotFound("practitioner not found at this practice")
        version = again
        # Rows the session still holds from the last attempt would be handed back as they were:
        # expired, the next attempt's rows fill them afresh.
        session.expire_all()
    raise Busy("the agenda is being changed; try again")


def load_agendas(session: Session, keys: Collection[AgendaKey]) -> dict[AgendaKey, LoadedAgenda]:
    """Several agendas (practice, practitioner) as this transaction sees them, cached when their
    version has not moved; the ones that do not exist are left out. One query for the versions,
    and for those not cached the same ten queries however many there are: the search cache's
    rebuild reads thousands of agendas."""
    versions: dict[AgendaKey, int] = {
        (practice_id, practitioner_id): version
        for practice_id, practitioner_id, version in session.execute(
            select(
                _AGENDAS.c.practice_id, _AGENDAS.c.practitioner_id, _AGENDAS.c.agenda_version
            ).where(_one_of(_AGENDAS, keys))
        )
    }
    database = _database_key(session)
    found: dict[AgendaKey, LoadedAgenda] = {}
    missing: dict[AgendaKey, int] = {}
    for key, version in versions.items():
        hit = AGENDAS.get((database, *key), version)
        if hit is None:
            missing[key] = version
        else:
            found[key] = hit
    if missing:
        for loaded in _read_agendas(session, missing):
            AGENDAS.put(database, loaded)
            found[loaded.practice_id, loaded.practitioner_id] = loaded
    return found


def _one_of(table: Table, keys: Collection[AgendaKey]) -> ColumnElement[bool]:
    practice, practitioner = table.c.practice_id, table.c.practitioner_id
    if len(keys) == 1:
        ((practice_id, practitioner_id),) = keys
        return (practice == practice_id) & (practitioner == practitioner_id)
    return tuple_(practice, practitioner).in_(list(keys))


def _database_key(session: Session) -> str:
    """Which database a snapshot came from, so that one process may use several."""
    return _url_key(session.get_bind().engine.url)


@lru_cache(maxsize=16)
def _url_key(url: URL) -> str:
    # Rendering a URL costs more than the cached read it keys; URLs are immutable and hashable.
    return url.render_as_string(hide_password=True)


def _read_agendas(session: Session, versions: dict[AgendaKey, int]) -> list[LoadedAgenda]:
    keys = list(versions)
    agenda, practice, practitioner = _AGENDAS.c, _PRACTICES.c, _PRACTITIONERS.c
    rows = session.execute(
        select(
            agenda.practice_id,
            agenda.practitioner_id,
            agenda.slot_step_minutes,
            agenda.min_notice_minutes,
            agenda.max_horizon_days,
            agenda.buffer_after_minutes,
            agenda.daily_cap,
            practice.timezone,
            practice.city_key,
            practice.cancel_cutoff_minutes,
            practice.anti_hoarding_days,
            practice.hold_minutes,
            practitioner.specialty,
            practitioner.accepts_new_patients,
        )
        .join(_PRACTICES, practice.practice_id == agenda.practice_id)
        .join(_PRACTITIONERS, practitioner.practitioner_id == agenda.practitioner_id)
        .where(_one_of(_AGENDAS, keys))
    ).all()
    visit_types = _visit_types(session, keys)
    practice_ids: dict[UUID, list[UUID]] = defaultdict(list)
    for practice_id, practitioner_id in session.execute(
        select(agenda.practice_id, agenda.practitioner_id)
        .where(agenda.practitioner_id.in_({p for _, p in keys}))
        .order_by(agenda.practice_id)
    ):
        practice_ids[practitioner_id].append(practice_id)
    weekly = _weekly_ranges(session, keys, visit_types)
    breaks = _weekly_breaks(session, keys)
    overrides = _date_overrides(session, keys, visit_types)
    return [
        LoadedAgenda(
            practice_id=row.practice_id,
            practitioner_id=row.practitioner_id,
            version=versions[key],
            practice=PracticeSettings(
                timezone=row.timezone,
                city_key=row.city_key,
                cancel_cutoff_minutes=row.cancel_cutoff_minutes,
                anti_hoarding_days=row.anti_hoarding_days,
                hold_minutes=row.hold_minutes,
            ),
            practitioner=PractitionerInfo(
                specialty=row.specialty,
                accepts_new_patients=row.accepts_new_patients,
            ),
            visit_types=visit_types[key],
            agenda=Agenda(
                timezone=ZoneInfo(row.timezone),
                weekly=weekly[key],
                breaks=breaks[key],
                overrides=overrides[key],
                rules=BookingRules(
                    slot_step=timedelta(minutes=row.slot_step_minutes),
                    min_notice=timedelta(minutes=row.min_notice_minutes),
                    max_horizon=timedelta(days=row.max_horizon_days),
                    buffer_after=timedelta(minutes=row.buffer_after_minutes),
                    daily_cap=row.daily_cap,
                ),
            ),
            practitioner_practice_ids=tuple(practice_ids[row.practitioner_id]),
        )
        for row in rows
        for key in [(row.practice_id, row.practitioner_id)]
    ]


def _visit_types(
    session: Session, keys: Collection[AgendaKey]
) -> defaultdict[AgendaKey, dict[UUID, VisitTypeInfo]]:
    """Each agenda's active visit types, by id."""
    types: defaultdict[AgendaKey, dict[UUID, VisitTypeInfo]] = defaultdict(dict)
    for vt in session.execute(
        select(_VISIT_TYPES).where(_one_of(_VISIT_TYPES, keys), _VISIT_TYPES.c.active.is_(True))
    ):
        types[vt.practice_id, vt.practitioner_id][vt.visit_type_id] = VisitTypeInfo(
            visit_type_id=vt.visit_type_id,
            label=vt.label,
            duration_minutes=vt.duration_minutes,
            online_bookable=vt.online_bookable,
            patient_kind=PatientKind(vt.patient_kind),
            mode=VisitMode(vt.mode),
            reminders=vt.reminders,
        )
    return types


def _weekly_ranges(
    session: Session,
    keys: Collection[AgendaKey],
    visit_types: dict[AgendaKey, dict[UUID, VisitTypeInfo]],
) -> defaultdict[AgendaKey, tuple[WeeklyRange, ...]]:
    """Opening ranges in week order, each with the active visit types it offers."""
    range_types: dict[UUID, set[UUID]] = defaultdict(set)
    for opening_id, practitioner_id, practice_id, visit_type_id in session.execute(
        select(
            _OPENINGS.c.opening_id,
            _OPENINGS.c.practitioner_id,
            _OPENING_TYPES.c.practice_id,
            _OPENING_TYPES.c.visit_type_id,
        )
        .select_from(_OPENING_TYPES)
        .join(
            _OPENINGS,
            (_OPENINGS.c.practice_id == _OPENING_TYPES.c.practice_id)
            & (_OPENINGS.c.opening_id == _OPENING_TYPES.c.opening_id),
        )
        .where(_one_of(_OPENINGS, keys))
    ):
        if visit_type_id in visit_types[practice_id, practitioner_id]:
            range_types[opening_id].add(visit_type_id)
    ranges: defaultdict[AgendaKey, list[WeeklyRange]] = defaultdict(list)
    for o in session.execute(
        select(_OPENINGS)
        .where(_one_of(_OPENINGS, keys))
        .order_by(_OPENINGS.c.weekday, _OPENINGS.c.start_minute)
    ):
        ranges[o.practice_id, o.practitioner_id].append(
            WeeklyRange(
                weekday=o.weekday,
                start=minute_to_time(o.start_minute),
                end=minute_to_time(o.end_minute),
                visit_type_ids=frozenset(range_types[o.opening_id]),
            )
        )
    return defaultdict(tuple, {key: tuple(found) for key, found in ranges.items()})


def _weekly_breaks(
    session: Session, keys: Collection[AgendaKey]
) -> defaultdict[AgendaKey, tuple[WeeklyBreak, ...]]:
    breaks: defaultdict[AgendaKey, list[WeeklyBreak]] = defaultdict(list)
    for b in session.execute(select(_BREAKS).where(_one_of(_BREAKS, keys))):
        breaks[b.practice_id, b.practitioner_id].append(
            WeeklyBreak(
                weekday=b.weekday,
                start=minute_to_time(b.start_minute),
                end=minute_to_time(b.end_minute),
            )
        )
    return defaultdict(tuple, {key: tuple(found) for key, found in breaks.items()})


def _date_overrides(
    session: Session,
    keys: Collection[AgendaKey],
    visit_types: dict[AgendaKey, dict[UUID, VisitTypeInfo]],
) -> defaultdict[AgendaKey, tuple[DateOverride, ...]]:
    """Absences and extra openings; an extra opening with the active visit types it offers."""
    override_rows = session.execute(select(_OVERRIDES).where(_one_of(_OVERRIDES, keys))).all()
    override_types: dict[UUID, set[UUID]] = defaultdict(set)
    extras = [o for o in override_rows if o.kind == OverrideKind.EXTRA_OPENING]
    if extras:
        agenda_of = {o.override_id: (o.practice_id, o.practitioner_id) for o in extras}
        for override_id, visit_type_id in session.execute(
            select(_OVERRIDE_TYPES.c.override_id, _OVERRIDE_TYPES.c.visit_type_id).where(
                _OVERRIDE_TYPES.c.practice_id.in_({o.practice_id for o in extras}),
                _OVERRIDE_TYPES.c.override_id.in_(list(agenda_of)),
            )
        ):
            if visit_type_id in visit_types[agenda_of[override_id]]:
                override_types[override_id].add(visit_type_id)
    overrides: defaultdict[AgendaKey, list[DateOverride]] = defaultdict(list)
    for o in override_rows:
        overrides[o.practice_id, o.practitioner_id].append(
            DateOverride(
                kind=OverrideKind(o.kind),
                first_day=o.first_day,
                last_day=o.last_day,
                start=minute_to_time(o.start_minute) if o.start_minute is not None else None,
                end=minute_to_time(o.end_minute) if o.end_minute is not None else None,
                visit_type_ids=frozenset(override_types[o.override_id]),
            )
        )
    return defaultdict(tuple, {key: tuple(found) for key, found in overrides.items()})
