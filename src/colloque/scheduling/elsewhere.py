"""One practitioner, one place at a time: an agenda's hours against the same practitioner's
agendas at other practices.

The busy ledger (``booking.ledger``) makes a double booking impossible whatever the hours say;
these checks keep the hours themselves honest, so that no practice offers time the practitioner
spends at another. A new extra opening is compared as it is (:func:`check_extra_opening`). Any
other change that can open time (a weekly opening added or moved, a break or time off removed or
moved) is made and flushed first, then the agenda as it then stands is compared on the days the
change can matter (:func:`check_opened_time`); a refusal rolls the whole transaction back.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.errors import Conflict, InvalidInput
from colloque.scheduling.domain import Agenda, DateOverride, OverrideKind
from colloque.scheduling.loading import load_agenda, load_agendas
from colloque.scheduling.models import PracticePractitioner
from colloque.scheduling.services import get_practice
from colloque.scheduling.slots import first_clash


def _other_agendas(session: Session, practice_id: UUID, practitioner_id: UUID) -> list[Agenda]:
    elsewhere = session.scalars(
        select(PracticePractitioner.practice_id).where(
            PracticePractitioner.practitioner_id == practitioner_id,
            PracticePractitioner.practice_id != practice_id,
        )
    ).all()
    if not elsewhere:
        return []
    loaded = load_agendas(session, [(other, practitioner_id) for other in elsewhere])
    return [agenda.agenda for agenda in loaded.values()]


def check_extra_opening(
    session: Session, *, practice_id: UUID, practitioner_id: UUID, extra: DateOverride
) -> None:
    """Refuse an extra opening over the practitioner's hours at another practice, as
    ``timetable.check_opening`` refuses a weekly one: hours there as they stand on those days
    (time off there frees them), compared as instants, whatever the two practices' time zones."""
    others = _other_agendas(session, practice_id, practitioner_id)
    if not others:
        return
    practice = get_practice(session, practice_id=practice_id)
    own = Agenda(timezone=ZoneInfo(practice.timezone), weekly=(), overrides=(extra,))
    if first_clash(own, others, first_day=extra.first_day, last_day=extra.last_day) is not None:
        raise InvalidInput(
            "this opening overlaps the practitioner's hours at another practice",
            field="start_minute",
        )


def check_opened_time(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    days: tuple[date, date] | None,
    field: str | None,
) -> None:
    """After a change that can open time at this agenda, flushed: refuse it if the agenda as it
    now stands is open while the practitioner's agenda at another practice is.

    ``days`` are those the change reopened (time off's); without them (a weekly change), every
    day from today to the last extra opening elsewhere: weekly hours against weekly hours are
    refused by ``check_opening``'s own comparison, so only the extra openings are left to meet.
    ``field`` names the request's field the refusal is about (422); without one (a removal) it
    is a 409."""
    others = _other_agendas(session, practice_id, practitioner_id)
    if not others:
        return
    # Not from the process's cache: this version is not committed and may be rolled back.
    own = load_agenda(
        session, practice_id=practice_id, practitioner_id=practitioner_id, cached=False
    ).agenda
    today = now.astimezone(own.timezone).date()
    if days is None:
        ends = [
            override.last_day
            for other in others
            for override in other.overrides
            if override.kind is OverrideKind.EXTRA_OPENING and override.last_day >= today
        ]
        if not ends:
            return
        first_day, last_day = today, max(ends)
    else:
        first_day, last_day = max(days[0], today), days[1]
        if first_day > last_day:
            return
    clash = first_clash(own, others, first_day=first_day, last_day=last_day)
    if clash is None:
        return
    detail = (
        "the practitioner's hours here would overlap their hours at another practice "
        f"on {clash.isoformat()}"
    )
    if field is not None:
        raise InvalidInput(detail, field=field)
    raise Conflict(detail)
