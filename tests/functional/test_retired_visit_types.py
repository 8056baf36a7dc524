"""A visit type retired in the database (``active`` false: no route sets it yet, a data fix or a
later admin screen may) leaves the agenda at once: its openings stop offering it, and an
appointment of a length no active type has any more cannot be moved, only booked anew."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from colloque.booking.changes import do_reschedule_appointment
from colloque.clock import SettableClock
from colloque.errors import RuleViolation
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.loading import load_agenda
from colloque.scheduling.models import VisitType
from colloque.scheduling.services import definition_changed, get_agenda_row
from colloque.scheduling.timetable import do_add_override
from colloque.storage.engine import Database
from tests.factories import World, book, build_world

# Monday 2026-03-02 09:00 in Paris (UTC+1): the world's agenda is open.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _retire(db: Database, world: World, *visit_type_ids: object) -> None:
    with db.write() as session:
        session.execute(
            update(VisitType)
            .where(VisitType.practice_id == world.practice_id)
            .where(VisitType.visit_type_id.in_(visit_type_ids))
            .values(active=False)
        )
        definition_changed(
            session,
            get_agenda_row(
                session, practice_id=world.practice_id, practitioner_id=world.practitioner_id
            ),
        )


def test_a_retired_type_leaves_the_openings_and_overrides(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    saturday = date(2026, 3, 7)
    with db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.EXTRA_OPENING,
            first_day=saturday,
            last_day=saturday,
            start_minute=9 * 60,
            end_minute=12 * 60,
            visit_type_ids=[world.follow_up_id, world.consultation_id],
        )
    _retire(db, world, world.follow_up_id)
    with db.read() as session:
        loaded = load_agenda(
            session, practice_id=world.practice_id, practitioner_id=world.practitioner_id
        )
    assert world.follow_up_id not in loaded.visit_types
    weekly = {vt for r in loaded.agenda.weekly for vt in r.visit_type_ids}
    extra = {vt for o in loaded.agenda.overrides for vt in o.visit_type_ids}
    assert world.follow_up_id not in weekly | extra
    assert world.consultation_id in weekly
    assert extra == {world.consultation_id}


def test_an_appointment_whose_length_was_retired_cannot_be_moved(
    db: Database, clock: SettableClock
) -> None:
    world = build_world(db, clock)
    appointment = book(db, clock, world, MON_0900 + timedelta(days=1))
    _retire(db, world, world.consultation_id)
    with pytest.raises(RuleViolation) as caught, db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            new_starts_at=MON_0900 + timedelta(days=2),
        )
    assert caught.value.rule == "visit_type_retired"
