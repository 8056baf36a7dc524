"""Use cases of an agenda's timetable: visit types, weekly openings, breaks and date overrides.

As in services.py, each checks the principal with the one policy, makes one change with its audit
event and marks the agenda changed, so that the slot engine's cache and search see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from colloque.authorization.policy import Action, AgendaTarget, PracticeTarget, require
from colloque.errors import InvalidInput
from colloque.ids import new_id
from colloque.principal import Principal
from colloque.scheduling.domain import (
    DateOverride,
    OverrideKind,
    PatientKind,
    VisitMode,
    check_horizon,
)
from colloque.scheduling.elsewhere import check_extra_opening, check_opened_time
from colloque.scheduling.loading import minute_to_time
from colloque.scheduling.models import (
    AgendaBreak,
    AgendaOverride,
    OpeningRange,
    OpeningRangeVisitType,
    OverrideVisitType,
    PracticePractitioner,
    Practitioner,
    VisitType,
)
from colloque.scheduling.services import (
    audit_agenda,
    definition_changed,
    get_agenda_row,
    get_practice,
)


def do_add_visit_type(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    label: str,
    duration_minutes: int,
    online_bookable: bool = True,
    patient_kind: PatientKind = PatientKind.ANY,
    mode: VisitMode = VisitMode.IN_PERSON,
    visit_type_id: UUID | None = None,
    reminders: bool = True,
) -> VisitType:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if not 5 <= duration_minutes <= 480:
        raise InvalidInput("duration must be 5 to 480 minutes", field="duration_minutes")
    if not label.strip():
        raise InvalidInput("label is required", field="label")
    visit_type = VisitType(
        practice_id=practice_id,
        visit_type_id=visit_type_id or new_id(),
        practitioner_id=practitioner_id,
        label=label.strip(),
        duration_minutes=duration_minutes,
        online_bookable=online_bookable,
        patient_kind=patient_kind.value,
        mode=mode.value,
        active=True,
        reminders=reminders,
    )
    session.add(visit_type)
    definition_changed(session, row)
    audit_agenda(session, now, principal, practice_id, practitioner_id)
    return visit_type


def list_visit_types(
    session: Session, *, practice_id: UUID, practitioner_id: UUID
) -> list[VisitType]:
    return list(
        session.scalars(
            select(VisitType)
            .where(
                VisitType.practice_id == practice_id,
                VisitType.practitioner_id == practitioner_id,
                VisitType.active.is_(True),
            )
            .order_by(VisitType.duration_minutes, VisitType.label)
        )
    )


def list_practice_agendas(
    session: Session, *, practice_id: UUID, online_only: bool = True
) -> list[tuple[Practitioner, list[VisitType]]]:
    """The practice's practitioners with their online visit types (every active one for the
    desk, ``online_only=False``): two queries, whatever the size."""
    get_practice(session, practice_id=practice_id)
    practitioners = session.scalars(
        select(Practitioner)
        .join(
            PracticePractitioner,
            PracticePractitioner.practitioner_id == Practitioner.practitioner_id,
        )
        .where(PracticePractitioner.practice_id == practice_id)
        .order_by(Practitioner.last_name, Practitioner.first_name)
    ).all()
    types: dict[UUID, list[VisitType]] = defaultdict(list)
    query = select(VisitType).where(
        VisitType.practice_id == practice_id, VisitType.active.is_(True)
    )
    if online_only:
        query = query.where(VisitType.online_bookable.is_(True))
    for visit_type in session.scalars(query.order_by(VisitType.duration_minutes, VisitType.label)):
        types[visit_type.practitioner_id].append(visit_type)
    return [(p, types[p.practitioner_id]) for p in practitioners]


# --- weekly openings, breaks, overrides ---------------------------------------------------------


def _check_minutes(start_minute: int, end_minute: int) -> None:
    if not 0 <= start_minute < end_minute <= 24 * 60:
        raise InvalidInput("times must satisfy 00:00 <= start < end <= 24:00", field="start_minute")


def _check_visit_types(
    session: Session, practice_id: UUID, practitioner_id: UUID, visit_type_ids: Iterable[UUID]
) -> list[UUID]:
    ids = sorted(set(visit_type_ids))
    if not ids:
        raise InvalidInput("an opening needs at least one visit type", field="visit_type_ids")
    known = {
        vt.visit_type_id
        for vt in list_visit_types(
            session, practice_id=practice_id, practitioner_id=practitioner_id
        )
    }
    if not set(ids) <= known:
        raise InvalidInput("a visit type does not belong to this agenda", field="visit_type_ids")
    return ids


def check_weekly(weekday: int, start_minute: int, end_minute: int) -> None:
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday must be 0 (Monday) to 6 (Sunday)", field="weekday")
    _check_minutes(start_minute, end_minute)


def check_opening(
    session: Session,
    *,
    practice_id: UUID,
    practitioner_id: UUID,
    weekday: int,
    start_minute: int,
    end_minute: int,
    visit_type_ids: Iterable[UUID],
    replacing: UUID | None = None,
) -> list[UUID]:
    """The opening's visit types, once checked. Refused if it overlaps another opening of the
    same practitioner on that weekday, here or at another practice (not the one it replaces):
    a person cannot be in two places at once."""
    check_weekly(weekday, start_minute, end_minute)
    ids = _check_visit_types(session, practice_id, practitioner_id, visit_type_ids)
    clash = session.scalar(
        select(OpeningRange.opening_id).where(
            OpeningRange.practitioner_id == practitioner_id,
            OpeningRange.weekday == weekday,
            OpeningRange.start_minute < end_minute,
            OpeningRange.end_minute > start_minute,
            OpeningRange.opening_id != replacing if replacing is not None else true(),
        )
    )
    if clash is not None:
        raise InvalidInput(
            "this opening overlaps another opening of the practitioner", field="start_minute"
        )
    return ids


def do_add_opening_range(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    weekday: int,
    start_minute: int,
    end_minute: int,
    visit_type_ids: Iterable[UUID],
) -> OpeningRange:
    """Add a weekly opening, refused if it overlaps another (:func:`check_opening`)."""
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    ids = check_opening(
        session,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        weekday=weekday,
        start_minute=start_minute,
        end_minute=end_minute,
        visit_type_ids=visit_type_ids,
    )
    opening = OpeningRange(
        practice_id=practice_id,
        opening_id=new_id(),
        practitioner_id=practitioner_id,
        weekday=weekday,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(opening)
    session.flush()
    session.add_all(
        OpeningRangeVisitType(
            practice_id=practice_id, opening_id=opening.opening_id, visit_type_id=vt
        )
        for vt in ids
    )
    definition_changed(session, row)
    session.flush()
    check_opened_time(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        days=None,
        field="start_minute",
    )
    audit_agenda(session, now, principal, practice_id, practitioner_id)
    return opening


def do_add_break(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    weekday: int,
    start_minute: int,
    end_minute: int,
) -> AgendaBreak:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    check_weekly(weekday, start_minute, end_minute)
    pause = AgendaBreak(
        practice_id=practice_id,
        break_id=new_id(),
        practitioner_id=practitioner_id,
        weekday=weekday,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(pause)
    definition_changed(session, row)
    audit_agenda(session, now, principal, practice_id, practitioner_id)
    return pause


def require_override_rights(
    principal: Principal, practice_id: UUID, practitioner_id: UUID, kinds: Iterable[OverrideKind]
) -> None:
    """Time off (absences, holidays) closes time: the agenda's managers set it, and so does the
    agenda's own practitioner. An extra opening adds bookable time: managers only."""
    if OverrideKind.EXTRA_OPENING in kinds:
        require(
            principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice"
        )
    else:
        require(
            principal,
            Action.PRACTICE_TIME_OFF_MANAGE,
            AgendaTarget(practice_id, practitioner_id),
            what="practice",
        )


def check_override(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    kind: OverrideKind,
    first_day: date,
    last_day: date,
    start_minute: int | None,
    end_minute: int | None,
    visit_type_ids: Iterable[UUID],
) -> list[UUID]:
    """The override's visit types (an extra opening's), once every field is checked."""
    check_horizon(first_day, now=now, field="first_day")
    check_horizon(last_day, now=now, field="last_day")
    if first_day > last_day:
        raise InvalidInput("first_day must not be after last_day", field="last_day")
    if (last_day - first_day).days > 366:
        raise InvalidInput("an override spans at most a year", field="last_day")
    if (start_minute is None) != (end_minute is None):
        raise InvalidInput("give both start and end times, or neither", field="end_minute")
    if start_minute is not None and end_minute is not None:
        _check_minutes(start_minute, end_minute)
    ids: list[UUID] = []
    if kind is OverrideKind.EXTRA_OPENING:
        if start_minute is None or end_minute is None:
            raise InvalidInput("an extra opening needs start and end times", field="start_minute")
        ids = _check_visit_types(session, practice_id, practitioner_id, visit_type_ids)
        check_extra_opening(
            session,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            extra=DateOverride(
                kind=kind,
                first_day=first_day,
                last_day=last_day,
                start=minute_to_time(start_minute),
                end=minute_to_time(end_minute),
                visit_type_ids=frozenset(ids),
            ),
        )
    elif kind is OverrideKind.HOLIDAY and start_minute is not None:
        raise InvalidInput("a holiday closes whole days; give no times", field="start_minute")
    return ids


def do_add_override(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    kind: OverrideKind,
    first_day: date,
    last_day: date,
    start_minute: int | None = None,
    end_minute: int | None = None,
    visit_type_ids: Iterable[UUID] = (),
) -> AgendaOverride:
    require_override_rights(principal, practice_id, practitioner_id, [kind])
    row = get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    ids = check_override(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        start_minute=start_minute,
        end_minute=end_minute,
        visit_type_ids=visit_type_ids,
    )
    override = AgendaOverride(
        practice_id=practice_id,
        override_id=new_id(),
        practitioner_id=practitioner_id,
        kind=kind.value,
        first_day=first_day,
        last_day=last_day,
        start_minute=start_minute,
        end_minute=end_minute,
    )
    session.add(override)
    session.flush()
    session.add_all(
        OverrideVisitType(
            practice_id=practice_id, override_id=override.override_id, visit_type_id=vt
        )
        for vt in ids
    )
    definition_changed(session, row)
    audit_agenda(session, now, principal, practice_id, practitioner_id)
    return override
