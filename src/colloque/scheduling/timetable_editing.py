"""Reading, replacing and removing an agenda's weekly openings, breaks and date overrides.

As in editing.py: members read, the agenda's managers change (time off also its own practitioner:
timetable.require_override_rights), every object carries a version
(versions.py) and every replacement or removal names the version it was based on. A replacement
is checked exactly like a creation (timetable.py), so an opening refused as "overlaps another
opening" can be found in the list and moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import TypeVar
from uuid import UUID

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import NotFound
from colloque.principal import Principal
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.elsewhere import check_opened_time
from colloque.scheduling.models import (
    AgendaBreak,
    AgendaOverride,
    OpeningRange,
    OpeningRangeVisitType,
    OverrideVisitType,
)
from colloque.scheduling.services import audit_agenda, definition_changed, get_agenda_row
from colloque.scheduling.timetable import (
    check_opening,
    check_override,
    check_weekly,
    require_override_rights,
)
from colloque.scheduling.versions import check_version, version_of

Part = TypeVar("Part", OpeningRange, AgendaBreak, AgendaOverride)


def opening_version(opening: OpeningRange, visit_type_ids: Iterable[UUID]) -> str:
    return version_of(
        opening.weekday, opening.start_minute, opening.end_minute, sorted(visit_type_ids)
    )


def break_version(pause: AgendaBreak) -> str:
    return version_of(pause.weekday, pause.start_minute, pause.end_minute)


def override_version(override: AgendaOverride, visit_type_ids: Iterable[UUID]) -> str:
    return version_of(
        override.kind,
        override.first_day,
        override.last_day,
        override.start_minute,
        override.end_minute,
        sorted(visit_type_ids),
    )


def _may_view(principal: Principal, practice_id: UUID) -> None:
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what="practice")


def _may_manage(principal: Principal, practice_id: UUID) -> None:
    require(principal, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(practice_id), what="practice")


def _one(
    session: Session, kind: type[Part], practice_id: UUID, part_id: UUID, *, for_update: bool
) -> Part:
    part = session.get(kind, (practice_id, part_id), with_for_update=for_update)
    if part is None:
        raise NotFound(f"{_WHAT[kind]} not found")
    return part


_WHAT: dict[type, str] = {OpeningRange: "opening", AgendaBreak: "break", AgendaOverride: "override"}


def _changed(
    session: Session, now: datetime, principal: Principal, practice_id: UUID, practitioner_id: UUID
) -> None:
    definition_changed(
        session, get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    )
    audit_agenda(session, now, principal, practice_id, practitioner_id)


def _opened(
    session: Session,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    *,
    days: tuple[date, date] | None = None,
    field: str | None = None,
) -> None:
    """The change may have opened time: flushed, then checked against the practitioner's hours
    at other practices (``elsewhere.check_opened_time``)."""
    session.flush()
    check_opened_time(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        days=days,
        field=field,
    )


# --- weekly openings ----------------------------------------------------------------------------


def _opening_types(
    session: Session, practice_id: UUID, opening_ids: Iterable[UUID]
) -> dict[UUID, list[UUID]]:
    types: dict[UUID, list[UUID]] = defaultdict(list)
    for link in session.scalars(
        select(OpeningRangeVisitType).where(
            OpeningRangeVisitType.practice_id == practice_id,
            OpeningRangeVisitType.opening_id.in_(list(opening_ids)),
        )
    ):
        types[link.opening_id].append(link.visit_type_id)
    return types


def list_openings(
    session: Session, *, principal: Principal, practice_id: UUID, practitioner_id: UUID
) -> list[tuple[OpeningRange, list[UUID]]]:
    """The agenda's weekly openings in week order, each with its visit types: two queries."""
    _may_view(principal, practice_id)
    get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    openings = session.scalars(
        select(OpeningRange)
        .where(
            OpeningRange.practice_id == practice_id,
            OpeningRange.practitioner_id == practitioner_id,
        )
        .order_by(OpeningRange.weekday, OpeningRange.start_minute)
    ).all()
    types = _opening_types(session, practice_id, (o.opening_id for o in openings))
    return [(opening, sorted(types[opening.opening_id])) for opening in openings]


def get_opening(
    session: Session, *, principal: Principal, practice_id: UUID, opening_id: UUID
) -> tuple[OpeningRange, list[UUID]]:
    _may_view(principal, practice_id)
    opening = _one(session, OpeningRange, practice_id, opening_id, for_update=False)
    return opening, sorted(_opening_types(session, practice_id, [opening_id])[opening_id])


def do_replace_opening(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    opening_id: UUID,
    expected_version: str,
    weekday: int,
    start_minute: int,
    end_minute: int,
    visit_type_ids: Iterable[UUID],
) -> tuple[OpeningRange, list[UUID]]:
    _may_manage(principal, practice_id)
    opening = _one(session, OpeningRange, practice_id, opening_id, for_update=True)
    current = _opening_types(session, practice_id, [opening_id])[opening_id]
    check_version(opening_version(opening, current), expected_version, what="opening")
    ids = check_opening(
        session,
        practice_id=practice_id,
        practitioner_id=opening.practitioner_id,
        weekday=weekday,
        start_minute=start_minute,
        end_minute=end_minute,
        visit_type_ids=visit_type_ids,
        replacing=opening_id,
    )
    opening.weekday, opening.start_minute, opening.end_minute = weekday, start_minute, end_minute
    session.execute(
        delete(OpeningRangeVisitType).where(
            OpeningRangeVisitType.practice_id == practice_id,
            OpeningRangeVisitType.opening_id == opening_id,
        )
    )
    session.add_all(
        OpeningRangeVisitType(practice_id=practice_id, opening_id=opening_id, visit_type_id=vt)
        for vt in ids
    )
    _changed(session, now, principal, practice_id, opening.practitioner_id)
    _opened(session, now, practice_id, opening.practitioner_id, field="start_minute")
    return opening, ids


def do_remove_opening(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    opening_id: UUID,
    expected_version: str,
) -> None:
    """Booked appointments stay."""
    _may_manage(principal, practice_id)
    opening = _one(session, OpeningRange, practice_id, opening_id, for_update=True)
    current = _opening_types(session, practice_id, [opening_id])[opening_id]
    check_version(opening_version(opening, current), expected_version, what="opening")
    _changed(session, now, principal, practice_id, opening.practitioner_id)
    session.delete(opening)


# --- weekly breaks ------------------------------------------------------------------------------


def list_breaks(
    session: Session, *, principal: Principal, practice_id: UUID, practitioner_id: UUID
) -> list[AgendaBreak]:
    _may_view(principal, practice_id)
    get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    return list(
        session.scalars(
            select(AgendaBreak)
            .where(
                AgendaBreak.practice_id == practice_id,
                AgendaBreak.practitioner_id == practitioner_id,
            )
            .order_by(AgendaBreak.weekday, AgendaBreak.start_minute)
        )
    )


def get_break(
    session: Session, *, principal: Principal, practice_id: UUID, break_id: UUID
) -> AgendaBreak:
    _may_view(principal, practice_id)
    return _one(session, AgendaBreak, practice_id, break_id, for_update=False)


def do_replace_break(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    break_id: UUID,
    expected_version: str,
    weekday: int,
    start_minute: int,
    end_minute: int,
) -> AgendaBreak:
    _may_manage(principal, practice_id)
    pause = _one(session, AgendaBreak, practice_id, break_id, for_update=True)
    check_version(break_version(pause), expected_version, what="break")
    check_weekly(weekday, start_minute, end_minute)
    pause.weekday, pause.start_minute, pause.end_minute = weekday, start_minute, end_minute
    _changed(session, now, principal, practice_id, pause.practitioner_id)
    _opened(session, now, practice_id, pause.practitioner_id, field="start_minute")
    return pause


def do_remove_break(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    break_id: UUID,
    expected_version: str,
) -> None:
    _may_manage(principal, practice_id)
    pause = _one(session, AgendaBreak, practice_id, break_id, for_update=True)
    check_version(break_version(pause), expected_version, what="break")
    _changed(session, now, principal, practice_id, pause.practitioner_id)
    session.delete(pause)
    _opened(session, now, practice_id, pause.practitioner_id)


# --- date overrides (absences, holidays, extra openings) ------------------------------------------


def _override_types(
    session: Session, practice_id: UUID, override_ids: Iterable[UUID]
) -> dict[UUID, list[UUID]]:
    types: dict[UUID, list[UUID]] = defaultdict(list)
    for link in session.scalars(
        select(OverrideVisitType).where(
            OverrideVisitType.practice_id == practice_id,
            OverrideVisitType.override_id.in_(list(override_ids)),
        )
    ):
        types[link.override_id].append(link.visit_type_id)
    return types


def list_overrides(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    since: date | None = None,
) -> list[tuple[AgendaOverride, list[UUID]]]:
    """The agenda's overrides in date order; with ``since``, those that end on or after it."""
    _may_view(principal, practice_id)
    get_agenda_row(session, practice_id=practice_id, practitioner_id=practitioner_id)
    query = select(AgendaOverride).where(
        AgendaOverride.practice_id == practice_id,
        AgendaOverride.practitioner_id == practitioner_id,
    )
    if since is not None:
        query = query.where(AgendaOverride.last_day >= since)
    overrides = session.scalars(
        query.order_by(AgendaOverride.first_day, AgendaOverride.start_minute)
    ).all()
    types = _override_types(session, practice_id, (o.override_id for o in overrides))
    return [(override, sorted(types[override.override_id])) for override in overrides]


def get_override(
    session: Session, *, principal: Principal, practice_id: UUID, override_id: UUID
) -> tuple[AgendaOverride, list[UUID]]:
    _may_view(principal, practice_id)
    override = _one(session, AgendaOverride, practice_id, override_id, for_update=False)
    return override, sorted(_override_types(session, practice_id, [override_id])[override_id])


def do_replace_override(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    override_id: UUID,
    expected_version: str,
    kind: OverrideKind,
    first_day: date,
    last_day: date,
    start_minute: int | None = None,
    end_minute: int | None = None,
    visit_type_ids: Iterable[UUID] = (),
) -> tuple[AgendaOverride, list[UUID]]:
    _may_view(principal, practice_id)
    override = _one(session, AgendaOverride, practice_id, override_id, for_update=True)
    require_override_rights(
        principal, practice_id, override.practitioner_id, [OverrideKind(override.kind), kind]
    )
    current = _override_types(session, practice_id, [override_id])[override_id]
    check_version(override_version(override, current), expected_version, what="override")
    reopened = _time_off_days(override)
    ids = check_override(
        session,
        now=now,
        practice_id=practice_id,
        practitioner_id=override.practitioner_id,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        start_minute=start_minute,
        end_minute=end_minute,
        visit_type_ids=visit_type_ids,
    )
    override.kind, override.first_day, override.last_day = kind.value, first_day, last_day
    override.start_minute, override.end_minute = start_minute, end_minute
    session.execute(
        delete(OverrideVisitType).where(
            OverrideVisitType.practice_id == practice_id,
            OverrideVisitType.override_id == override_id,
        )
    )
    session.add_all(
        OverrideVisitType(practice_id=practice_id, override_id=override_id, visit_type_id=vt)
        for vt in ids
    )
    _changed(session, now, principal, practice_id, override.practitioner_id)
    if reopened is not None:
        _opened(session, now, practice_id, override.practitioner_id, days=reopened)
    return override, ids


def do_remove_override(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    override_id: UUID,
    expected_version: str,
) -> None:
    _may_view(principal, practice_id)
    override = _one(session, AgendaOverride, practice_id, override_id, for_update=True)
    require_override_rights(
        principal, practice_id, override.practitioner_id, [OverrideKind(override.kind)]
    )
    current = _override_types(session, practice_id, [override_id])[override_id]
    check_version(override_version(override, current), expected_version, what="override")
    _changed(session, now, principal, practice_id, override.practitioner_id)
    session.delete(override)
    reopened = _time_off_days(override)
    if reopened is not None:
        _opened(session, now, practice_id, override.practitioner_id, days=reopened)


def _time_off_days(override: AgendaOverride) -> tuple[date, date] | None:
    """The days time off closed, which its removal or its move may open again."""
    if OverrideKind(override.kind) is OverrideKind.EXTRA_OPENING:
        return None
    return override.first_day, override.last_day
