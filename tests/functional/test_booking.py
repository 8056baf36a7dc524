"""Booking use cases against a SQLite file and the real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from colloque.audit.models import AuditEvent
from colloque.booking.access import get_appointment, list_my_appointments, list_practice_agenda
from colloque.booking.changes import (
    do_cancel_appointment,
    do_mark_appointment,
    do_reschedule_appointment,
)
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.rules import CancelReason, Source, Status
from colloque.clock import SettableClock
from colloque.errors import Forbidden, NotFound, RuleViolation, SlotTaken, Unauthenticated
from colloque.notifications.models import OutboxMessage
from colloque.patients.registry import do_register_patient, find_practice_patients
from colloque.principal import ANONYMOUS
from colloque.scheduling.domain import OverrideKind
from colloque.scheduling.services import do_update_practice_settings
from colloque.scheduling.timetable import do_add_override
from colloque.storage.engine import Database
from tests.factories import (
    World,
    book,
    build_world,
    make_patient,
    make_person,
    register_at_practice,
)

# T0 is Monday 2026-03-02 08:00 in Paris (UTC+1). Opening: 09:00-12:00 and 14:00-18:00.
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = MON_0900 + timedelta(days=1)


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def _count(db: Database, model: type, **where: object) -> int:
    with db.read() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query) or 0


def test_book_writes_appointment_history_audit_and_outbox(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, MON_0900)
    assert appointment.status == Status.BOOKED
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=20)
    assert appointment.booked_by_account_id == world.holder.account_id
    assert appointment.appointment_id.version == 4
    assert _count(db, AppointmentEvent, appointment_id=appointment.appointment_id) == 1
    assert _count(db, AuditEvent, object_id=appointment.appointment_id) == 1
    assert _count(db, OutboxMessage, appointment_id=appointment.appointment_id) == 1


def test_relative_booking_records_patient_and_booker(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, MON_0900, patient_id=world.child_patient_id)
    assert appointment.patient_id == world.child_patient_id
    assert appointment.booked_by_account_id == world.holder.account_id


def test_same_slot_twice_is_a_conflict(db: Database, clock: SettableClock, world: World) -> None:
    book(db, clock, world, MON_0900)
    with pytest.raises(SlotTaken):
        book(
            db,
            clock,
            world,
            MON_0900 + timedelta(minutes=15),
            person=world.stranger,
            patient_id=world.stranger_patient_id,
        )
    assert _count(db, Appointment) == 1


@pytest.mark.parametrize(
    ("starts_at", "rule"),
    [
        (MON_0900 + timedelta(minutes=7), "not_aligned"),
        (MON_0900 - timedelta(hours=1), "too_soon"),
        (MON_0900 + timedelta(days=70), "too_far"),
        (MON_0900 + timedelta(hours=4), "closed"),  # 13:00, lunch
        (datetime(2026, 3, 7, 9, 0, tzinfo=UTC), "closed"),  # Saturday
        (MON_0900 + timedelta(hours=2, minutes=45), "closed"),  # 11:45 + 20 min runs past noon
    ],
)
def test_agenda_rules_refuse_with_the_rule_named(
    db: Database, clock: SettableClock, world: World, starts_at: datetime, rule: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, starts_at)
    assert caught.value.rule == rule
    assert caught.value.field == "starts_at"
    assert _count(db, Appointment) == 0


def test_visit_type_restricted_to_its_openings(
    db: Database, clock: SettableClock, world: World
) -> None:
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, MON_0900, duration_minutes=15)  # video only afternoons
    assert caught.value.rule == "visit_type_not_offered"
    afternoon = MON_0900 + timedelta(hours=5)
    assert book(db, clock, world, afternoon, duration_minutes=15).status == Status.BOOKED


def test_absence_refuses(db: Database, clock: SettableClock, world: World) -> None:
    with db.write() as session:
        do_add_override(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            kind=OverrideKind.ABSENCE,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 3),
        )
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, TUE_0900)
    assert caught.value.rule == "absent"


def test_practice_only_length_is_booked_by_the_practice(
    db: Database, clock: SettableClock, world: World
) -> None:
    # 15 minutes online at 09:00 could be a follow-up (known patients only) or a video visit
    # (afternoons only): neither fits a new patient in the morning.
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, MON_0900, duration_minutes=15)
    assert caught.value.rule == "visit_type_not_offered"
    # The practice may also book it as the practice-only emergency slot, which fits.
    register_at_practice(db, clock, world, world.holder_patient_id)
    by_phone = book(
        db,
        clock,
        world,
        MON_0900,
        duration_minutes=15,
        person=world.secretary,
        source=Source.PRACTICE,
    )
    assert by_phone.source == Source.PRACTICE


def test_practice_booking_skips_notice(db: Database, clock: SettableClock, world: World) -> None:
    soon = MON_0900 - timedelta(minutes=0)
    clock.set(soon - timedelta(minutes=10))
    with pytest.raises(RuleViolation):
        book(db, clock, world, soon)
    register_at_practice(db, clock, world, world.holder_patient_id)
    assert (
        book(db, clock, world, soon, person=world.secretary, source=Source.PRACTICE).status
        == Status.BOOKED
    )


def test_patient_kind_rules(db: Database, clock: SettableClock, world: World) -> None:
    # 15 minutes in the morning is a follow-up only, and this patient is new.
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, MON_0900, duration_minutes=15)
    assert caught.value.rule == "visit_type_not_offered"
    first = book(db, clock, world, MON_0900, duration_minutes=30)
    clock.set(first.ends_at + timedelta(minutes=5))
    with db.write() as session:
        do_mark_appointment(
            session,
            now=clock.now(),
            principal=world.doctor.principal(db),
            practice_id=world.practice_id,
            appointment_id=first.appointment_id,
            outcome=Status.DONE,
        )
    later = MON_0900 + timedelta(days=8)
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, later, duration_minutes=30)
    assert caught.value.rule == "new_patients_only"
    assert book(db, clock, world, later, duration_minutes=15).status == Status.BOOKED


def test_anti_hoarding(db: Database, clock: SettableClock, world: World) -> None:
    book(db, clock, world, MON_0900)
    with pytest.raises(RuleViolation) as caught:
        book(db, clock, world, MON_0900 + timedelta(days=4))
    assert caught.value.rule == "anti_hoarding"
    # The relative is another patient; and six days later is allowed.
    book(db, clock, world, MON_0900 + timedelta(days=1), patient_id=world.child_patient_id)
    book(db, clock, world, MON_0900 + timedelta(days=7))
    with db.write() as session:
        do_update_practice_settings(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            anti_hoarding_days=0,
        )
    book(db, clock, world, MON_0900 + timedelta(days=2))


def test_cancel_by_patient_respects_cutoff(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    clock.set(TUE_0900 - timedelta(hours=3))
    with pytest.raises(RuleViolation) as caught, db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            reason=CancelReason.PATIENT_UNAVAILABLE,
        )
    assert caught.value.rule == "cancellation_cutoff"
    with db.write() as session:
        cancelled = do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    assert cancelled.appointment.status == Status.CANCELLED_BY_PRACTICE
    # The freed slot can be booked again.
    assert (
        book(
            db, clock, world, TUE_0900, person=world.stranger, patient_id=world.stranger_patient_id
        ).status
        == Status.BOOKED
    )


def test_cancel_by_patient_before_cutoff(db: Database, clock: SettableClock, world: World) -> None:
    appointment = book(db, clock, world, TUE_0900)
    with db.write() as session:
        cancelled = do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            reason=CancelReason.NO_LONGER_NEEDED,
        )
    assert cancelled.appointment.status == Status.CANCELLED_BY_PATIENT
    assert cancelled.appointment.cancel_reason == CancelReason.NO_LONGER_NEEDED


def test_reschedule_moves_and_frees(db: Database, clock: SettableClock, world: World) -> None:
    appointment = book(db, clock, world, TUE_0900)
    new_time = TUE_0900 + timedelta(hours=1)
    with db.write() as session:
        moved = do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            new_starts_at=new_time,
        )
    assert moved.appointment.starts_at == new_time
    assert moved.appointment.ends_at == new_time + timedelta(minutes=20)
    # Old slot free, new one taken.
    book(db, clock, world, TUE_0900, person=world.stranger, patient_id=world.stranger_patient_id)
    with pytest.raises(SlotTaken):
        book(
            db, clock, world, new_time, person=world.stranger, patient_id=world.stranger_patient_id
        )
    with db.read() as session:
        kinds = list(
            session.scalars(
                select(AppointmentEvent.kind)
                .where(AppointmentEvent.appointment_id == appointment.appointment_id)
                .order_by(AppointmentEvent.at, AppointmentEvent.kind)
            )
        )
    assert sorted(kinds) == ["booked", "rescheduled"]


def test_reschedule_to_overlapping_own_time_is_allowed(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    with db.write() as session:
        moved = do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            new_starts_at=TUE_0900 + timedelta(minutes=15),
        )
    assert moved.appointment.starts_at == TUE_0900 + timedelta(minutes=15)


def test_failed_reschedule_changes_nothing(
    db: Database, clock: SettableClock, world: World
) -> None:
    mine = book(db, clock, world, TUE_0900)
    book(
        db,
        clock,
        world,
        TUE_0900 + timedelta(hours=1),
        person=world.stranger,
        patient_id=world.stranger_patient_id,
    )
    with pytest.raises(SlotTaken), db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=mine.appointment_id,
            new_starts_at=TUE_0900 + timedelta(hours=1),
        )
    with db.read() as session:
        still = session.get(Appointment, (world.practice_id, mine.appointment_id))
        assert still is not None
        assert still.starts_at == TUE_0900
    assert _count(db, AppointmentEvent, appointment_id=mine.appointment_id) == 1


def test_mark_no_show_only_after_start_and_only_by_practice(
    db: Database, clock: SettableClock, world: World
) -> None:
    appointment = book(db, clock, world, MON_0900)
    with pytest.raises(RuleViolation), db.write() as session:
        do_mark_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            outcome=Status.NO_SHOW,
        )
    clock.set(MON_0900 + timedelta(minutes=30))
    with pytest.raises(NotFound), db.write() as session:
        do_mark_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            outcome=Status.DONE,
        )
    with db.write() as session:
        marked = do_mark_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            outcome=Status.NO_SHOW,
        )
    assert marked.appointment.status == Status.NO_SHOW


def test_foreign_appointment_is_invisible(db: Database, clock: SettableClock, world: World) -> None:
    appointment = book(db, clock, world, MON_0900)
    outsider = make_person(db, clock, "Other Admin")
    for principal in (world.stranger.principal(db), outsider.principal(db)):
        with pytest.raises(NotFound) as caught, db.write() as session:
            get_appointment(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=world.practice_id,
                appointment_id=appointment.appointment_id,
            )
        assert caught.value.detail == "appointment not found"
        with pytest.raises(NotFound) as missing, db.write() as session:
            get_appointment(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=world.practice_id,
                appointment_id=world.practice_id,
            )
        assert missing.value.detail == caught.value.detail
        with pytest.raises(NotFound), db.write() as session:
            do_cancel_appointment(
                session,
                now=clock.now(),
                principal=principal,
                practice_id=world.practice_id,
                appointment_id=appointment.appointment_id,
                reason=CancelReason.OTHER,
            )
    with pytest.raises(Unauthenticated), db.write() as session:
        get_appointment(
            session,
            now=clock.now(),
            principal=ANONYMOUS,
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
        )


def test_booking_for_someone_elses_patient_is_not_found(
    db: Database, clock: SettableClock, world: World
) -> None:
    with pytest.raises(NotFound):
        book(db, clock, world, MON_0900, person=world.stranger, patient_id=world.child_patient_id)
    assert _count(db, Appointment) == 0


def test_lists(db: Database, clock: SettableClock, world: World) -> None:
    book(db, clock, world, MON_0900)
    book(db, clock, world, TUE_0900, patient_id=world.child_patient_id)
    book(
        db,
        clock,
        world,
        MON_0900 + timedelta(hours=1),
        person=world.stranger,
        patient_id=world.stranger_patient_id,
    )
    with db.write() as session:
        mine = list_my_appointments(session, now=clock.now(), principal=world.holder.principal(db))
        assert {row.patient.patient_id for row in mine} == {
            world.holder_patient_id,
            world.child_patient_id,
        }
        agenda = list_practice_agenda(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            start=MON_0900 - timedelta(hours=2),
            until=MON_0900 + timedelta(days=2),
        )
        assert len(agenda) == 3
    with pytest.raises(NotFound), db.write() as session:
        list_practice_agenda(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            start=MON_0900,
            until=MON_0900 + timedelta(days=1),
        )


def test_secretary_cannot_change_settings(db: Database, clock: SettableClock, world: World) -> None:
    with pytest.raises(Forbidden), db.write() as session:
        do_update_practice_settings(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            anti_hoarding_days=1,
        )


def test_relative_of_another_holder(db: Database, clock: SettableClock, world: World) -> None:
    other = make_person(db, clock, "Grand Parent")
    grandchild = make_patient(db, clock, other, "Tom", "Roux")
    with pytest.raises(NotFound):
        book(db, clock, world, MON_0900, patient_id=grandchild)


def test_practice_books_only_patients_it_knows(
    db: Database, clock: SettableClock, world: World
) -> None:
    """Knowing a patient's id is not enough for a practice to book them or read their name."""
    with pytest.raises(NotFound) as caught:
        book(
            db,
            clock,
            world,
            MON_0900,
            person=world.secretary,
            patient_id=world.stranger_patient_id,
            source=Source.PRACTICE,
        )
    assert caught.value.field == "patient_id"
    # Once the patient has booked online there, the practice knows them.
    book(db, clock, world, TUE_0900, person=world.stranger, patient_id=world.stranger_patient_id)
    by_phone = book(
        db,
        clock,
        world,
        TUE_0900 + timedelta(days=7),
        person=world.secretary,
        patient_id=world.stranger_patient_id,
        source=Source.PRACTICE,
    )
    assert by_phone.patient_id == world.stranger_patient_id


def test_practice_registers_and_finds_a_caller(
    db: Database, clock: SettableClock, world: World
) -> None:
    with db.write() as session:
        patient = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Élodie",
            last_name="Garçon",
            birth_date=date(1990, 4, 2),
        )
        patient_id = patient.patient_id
    assert patient.holder_account_id is None
    with db.write() as session:
        found = find_practice_patients(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            query="elodie garc",
        )
        assert [p.patient_id for p in found] == [patient_id]
    booked = book(
        db,
        clock,
        world,
        MON_0900,
        person=world.secretary,
        patient_id=patient_id,
        source=Source.PRACTICE,
    )
    assert booked.status == Status.BOOKED
    other = make_person(db, clock, "Other Admin")
    with pytest.raises(NotFound), db.write() as session:
        find_practice_patients(
            session,
            now=clock.now(),
            principal=other.principal(db),
            practice_id=world.practice_id,
            query="elodie",
        )
