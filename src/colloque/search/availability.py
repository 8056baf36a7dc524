"""The free slots of one practitioner's agenda, as a patient looks for them before booking.

Unlike search, which reads the precomputed ``next_slots``, this runs the slot engine over the
agenda and its busy time, so it is exact for the window asked.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.booking.queries import busy_between
from colloque.errors import InvalidInput, NotFound
from colloque.scheduling.domain import Slot
from colloque.scheduling.loading import load_agenda
from colloque.scheduling.slots import free_slots
from colloque.scheduling.timeline import window_start

#: How far ahead a patient may look: no agenda is planned further, and far-off instants would
#: overflow the calendar arithmetic.
MAX_LOOKAHEAD = timedelta(days=2 * 366)


def list_free_slots(
    session: Session,
    *,
    now: datetime,
    practice_id: UUID,
    practitioner_id: UUID,
    visit_type_id: UUID | None,
    duration_minutes: int | None,
    start: datetime | date | None,
    days: int,
) -> list[Slot]:
    """Free slots of one online visit type, or of every online visit type of one length (so that
    the server need not learn which type the patient wants), from ``start`` for ``days``.

    ``start`` is an instant, or a local day of the practice: then the window starts at that day's
    first instant and holds ``days`` whole local days (a DST change makes one 23 or 25 hours).
    Each slot is given in the practice's time zone, so that it carries the practice's offset.
    """
    if (visit_type_id is None) == (duration_minutes is None):
        raise InvalidInput("give either visit_type_id or duration_minutes", field="visit_type_id")
    loaded = load_agenda(session, practice_id=practice_id, practitioner_id=practitioner_id)
    zone = loaded.agenda.timezone
    first = None if start is None else window_start(start, zone)
    if first is not None and first - now > MAX_LOOKAHEAD:
        raise InvalidInput("from must be within two years", field="from")
    window_begin = max(first, now) if first is not None else now
    if isinstance(start, date) and not isinstance(start, datetime):
        window_until = window_start(start + timedelta(days=days), zone)
    else:
        window_until = window_begin + timedelta(days=days)
    online = [vt for vt in loaded.visit_types.values() if vt.online_bookable]
    if visit_type_id is not None:
        wanted = [vt for vt in online if vt.visit_type_id == visit_type_id]
        if not wanted:
            raise NotFound("visit type not found", field="visit_type_id")
    else:
        wanted = [vt for vt in online if vt.duration_minutes == duration_minutes]
        if not wanted:
            raise NotFound("no visit type lasts this long", field="duration_minutes")
    busy = busy_between(
        session,
        practice_ids=loaded.practitioner_practice_ids,
        practitioner_id=practitioner_id,
        start=window_begin - timedelta(days=1),
        until=window_until + timedelta(days=1),
        now=now,
    )
    slots = {
        slot
        for vt in wanted
        for slot in free_slots(
            loaded.agenda,
            vt.spec(),
            window_start=window_begin,
            window_end=window_until,
            now=now,
            busy=busy,
        )
    }
    # Deduplicated and sorted in UTC, as the engine gives them, and only then put in the
    # practice's zone: two datetimes sharing a zone compare by their wall clocks, so a fall-back
    # would make 02:30 CEST and 02:30 CET equal.
    return [Slot(slot.start.astimezone(zone), slot.end.astimezone(zone)) for slot in sorted(slots)]
