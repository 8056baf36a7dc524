"""One practitioner, one place: changes that open time at one practice are refused where they
would meet the practitioner's extra opening at another.

An extra opening at "Cabinet Bis" is allowed where the first practice is closed (a break, time
off, a day without hours). Removing or moving what closed it there must not put the two
practices' hours over each other: the change is refused and nothing of it is saved.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest
from sqlalchemy import func, select

from colloque.clock import SettableClock
from colloque.errors import Conflict, InvalidInput
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.models import AgendaBreak, AgendaOverride, OpeningRange
from colloque.scheduling.timetable import do_add_opening_range, do_add_override
from colloque.scheduling.timetable_editing import (
    break_version,
    do_remove_break,
    do_remove_override,
    do_replace_break,
    do_replace_opening,
    do_replace_override,
    list_breaks,
    list_openings,
    opening_version,
    override_version,
)
from colloque.storage.engine import Database
from tests.factories import SecondPractice, World, add_second_practice, build_world

SUNDAY = date(2026, 3, 15)
MONDAY = date(2026, 3, 16)
WEDNESDAY = date(2026, 3, 11)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def bis(db: Database, clock: SettableClock, world: World) -> SecondPractice:
    """Cabinet Bis: Saturday mornings only, so its extra openings have weekdays to meet."""
    return add_second_practice(db, clock, world, overlapping=False)


def add_override(
    db: Database,
    clock: SettableClock,
    world: World,
    practice_id: UUID,
    kind: OverrideKind,
    day: date,
    minutes: tuple[int, int] | None = None,
    visit_type_id: UUID | None = None,
) -> UUID:
    with db.write() as session:
        override = do_add_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=practice_id,
            practitioner_id=world.practitioner_id,
            kind=kind,
            first_day=day,
            last_day=day,
            start_minute=None if minutes is None else minutes[0],
            end_minute=None if minutes is None else minutes[1],
            visit_type_ids=[] if visit_type_id is None else [visit_type_id],
        )
        return override.override_id


def remove_time_off(db: Database, clock: SettableClock, world: World, override_id: UUID) -> None:
    """The first practice's admin removes one of its time off, as it stands now."""
    with db.write() as session:
        row = session.get(AgendaOverride, (world.practice_id, override_id))
        assert row is not None
        do_remove_override(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            override_id=override_id,
            expected_version=override_version(row, []),
        )


def test_time_off_under_an_extra_opening_elsewhere_stays(
    db: Database, clock: SettableClock, world: World, bis: SecondPractice
) -> None:
    absence = add_override(db, clock, world, world.practice_id, OverrideKind.ABSENCE, MONDAY)
    extra = add_override(
        db,
        clock,
        world,
        bis.practice_id,
        OverrideKind.EXTRA_OPENING,
        MONDAY,
        (540, 600),
        bis.consultation_id,
    )
    admin = world.admin.principal(db)
    # Moving an extra opening reopens no time off: only its own new hours are checked.
    with db.write() as session:
        row = session.get(AgendaOverride, (bis.practice_id, extra))
        assert row is not None
        do_replace_override(
            session,
            now=clock.now(),
            principal=admin,
            practice_id=bis.practice_id,
            override_id=extra,
            expected_version=override_version(row, [bis.consultation_id]),
            kind=OverrideKind.EXTRA_OPENING,
            first_day=MONDAY,
            last_day=MONDAY,
            start_minute=600,
            end_minute=660,
            visit_type_ids=[bis.consultation_id],
        )
    with db.read() as session:
        row = session.get(AgendaOverride, (world.practice_id, absence))
        assert row is not None
        version = override_version(row, [])
    with pytest.raises(Conflict) as caught:
        remove_time_off(db, clock, world, absence)
    assert "another practice on 2026-03-16" in str(caught.value)
    # Moved to the next day, it reopens the Monday all the same.
    with pytest.raises(Conflict), db.write() as session:
        do_replace_override(
            session,
            now=clock.now(),
            principal=admin,
            practice_id=world.practice_id,
            override_id=absence,
            expected_version=version,
            kind=OverrideKind.ABSENCE,
            first_day=date(2026, 3, 17),
            last_day=date(2026, 3, 17),
        )
    with db.read() as session:
        kept = session.get(AgendaOverride, (world.practice_id, absence))
        assert kept is not None
        assert (kept.first_day, kept.last_day) == (MONDAY, MONDAY)
    # Other time off, clear of anything elsewhere, comes and goes; past time off too.
    other = add_override(
        db, clock, world, world.practice_id, OverrideKind.ABSENCE, date(2026, 3, 18)
    )
    past = add_override(db, clock, world, world.practice_id, OverrideKind.ABSENCE, date(2026, 3, 9))
    clock.advance(timedelta(days=8))
    remove_time_off(db, clock, world, past)
    remove_time_off(db, clock, world, other)


def test_a_break_under_an_extra_opening_elsewhere_stays(
    db: Database, clock: SettableClock, world: World, bis: SecondPractice
) -> None:
    # The first practice's Wednesday break is 16:00-16:30: Cabinet Bis may open then.
    add_override(
        db,
        clock,
        world,
        bis.practice_id,
        OverrideKind.EXTRA_OPENING,
        WEDNESDAY,
        (960, 990),
        bis.consultation_id,
    )
    admin = world.admin.principal(db)
    with db.read() as session:
        (pause,) = list_breaks(
            session,
            principal=admin,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
        )
        break_id, version = pause.break_id, break_version(pause)
    with pytest.raises(Conflict), db.write() as session:
        do_remove_break(
            session,
            now=clock.now(),
            principal=admin,
            practice_id=world.practice_id,
            break_id=break_id,
            expected_version=version,
        )
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_replace_break(
            session,
            now=clock.now(),
            principal=admin,
            practice_id=world.practice_id,
            break_id=break_id,
            expected_version=version,
            weekday=2,
            start_minute=17 * 60,
            end_minute=17 * 60 + 30,
        )
    assert caught.value.field == "start_minute"
    with db.read() as session:
        kept = session.get(AgendaBreak, (world.practice_id, break_id))
        assert kept is not None
        assert (kept.start_minute, kept.end_minute) == (960, 990)


def test_weekly_hours_over_an_extra_opening_elsewhere_are_refused(
    db: Database, clock: SettableClock, world: World, bis: SecondPractice
) -> None:
    add_override(
        db,
        clock,
        world,
        bis.practice_id,
        OverrideKind.EXTRA_OPENING,
        SUNDAY,
        (600, 660),
        bis.consultation_id,
    )
    admin = world.admin.principal(db)

    def sunday_opening(start_minute: int, end_minute: int) -> None:
        with db.write() as session:
            do_add_opening_range(
                session,
                now=clock.now(),
                principal=admin,
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                weekday=6,
                start_minute=start_minute,
                end_minute=end_minute,
                visit_type_ids=[world.consultation_id],
            )

    # Before Cabinet Bis opens on Sundays, nothing there to meet.
    sunday_opening(16 * 60, 17 * 60)
    add_override(
        db,
        clock,
        world,
        bis.practice_id,
        OverrideKind.EXTRA_OPENING,
        SUNDAY,
        (600, 660),
        bis.consultation_id,
    )
    with pytest.raises(InvalidInput) as caught:
        sunday_opening(9 * 60, 12 * 60)
    assert caught.value.field == "start_minute"
    assert "another practice on 2026-03-15" in str(caught.value)
    with db.read() as session:
        openings = list_openings(
            session,
            principal=admin,
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
        )
        sundays = session.scalar(
            select(func.count()).select_from(OpeningRange).where(OpeningRange.weekday == 6)
        )
    assert sundays == 1
    # Moving a weekday's morning to Sunday is the same.
    opening, types = openings[0]
    with pytest.raises(InvalidInput), db.write() as session:
        do_replace_opening(
            session,
            now=clock.now(),
            principal=admin,
            practice_id=world.practice_id,
            opening_id=opening.opening_id,
            expected_version=opening_version(opening, types),
            weekday=6,
            start_minute=10 * 60,
            end_minute=11 * 60,
            visit_type_ids=types,
        )
    # Sunday afternoon is clear of it.
    sunday_opening(13 * 60, 14 * 60)
