"""The free slots of one practitioner's agenda, as a patient looks for them before booking.

Unlike search, which reads the precomputed ``next_slots``, this runs the slot engine over the
agenda and its busy time, so it is exact for the window asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.booking.queries import busy_between
from colloque.errors import InvalidInput, NotFound
from colloque.scheduling.domain import Slot
from colloque.scheduling.loading import load_agenda
from colloque.scheduling.slots import free_slots

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
    start: datetime | None,
    days: int,
) -> list[Slot]:
    """Free slots of one online visit type, or of every online visit type of one length (so that
    the server need not learn which type the patient wants), from ``start`` for ``days``."""
    if (visit_type_id is None) == (duration_minutes is None):
        raise InvalidInput("give either visit_type_id or duration_minutes", field="visit_type_id")
    if start is not None and start - now > MAX_LOOKAHEAD:
        raise InvalidInput("from must be within two years", field="from")
    window_start = max(start, now) if start is not None else now
    window_end = window_start + timedelta(days=days)
    loaded = load_agenda(session, practice_id=practice_id, practitioner_id=practitioner_id)
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
        start=window_start - timedelta(days=1),
        until=window_end + timedelta(days=1),
        now=now,
    )
    slots = {
        slot
        for vt in wanted
        for slot in free_slots(
            loaded.agenda,
            vt.spec(),
            window_start=window_start,
            window_end=window_end,
            now=now,
            busy=busy,
        )
    }
    return sorted(slots)
