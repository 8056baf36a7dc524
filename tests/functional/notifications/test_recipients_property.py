"""A property over random sequences of changes: every message reaches only the person whose
appointment it describes, and every change is told exactly once.

Hypothesis draws bookings, moves, cancellations, days of absence (confirmed with the list the
server gives) and places on the waitlist (a freed time is then offered), by patients, a relative's
holder, the desk and the admin,
over four patients: the holder, the holder's child (whose mail goes to the holder), a stranger with
an account of her own, and a patient the desk registered by phone with only a recorded address.
Operations the rules refuse (a taken slot, a move into the past...) change nothing and must tell
nobody. Then the real worker delivers to a real SMTP server on loopback, and the clock runs on over
the days of the appointments so that the reminder planner reminds each appointment still booked.
What each address received is compared with what each change (and each reminder) should have told:
the same multiset, exactly.

Each example starts from a copy of one prepared SQLite file (a fresh database per example is what
makes the property about a sequence and not about leftovers). The run is deterministic
(``derandomize``), so a failure reproduces.
"""

from __future__ import annotations

import contextlib
import random
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from colloque.booking.absences import TimeOff, do_add_time_off, preview_time_off
from colloque.booking.changes import do_cancel_appointment, do_reschedule_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Source, Status
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.outbox import OutboxDelivery
from colloque.delivery.reminders import ReminderPlanner
from colloque.errors import ColloqueError
from colloque.notifications.models import OutboxMessage
from colloque.notifications.services import Template
from colloque.patients.registry import do_register_patient
from colloque.scheduling.domain import OverrideKind
from colloque.storage.engine import Database
from tests.conftest import T0
from tests.factories import Person, World, book, build_world, register_at_practice
from tests.functional.notifications.conftest import MAIL, SECRET_KEY, smtp_to
from tests.smtp import Inbox, running_inbox

HOLDER = "holder.hugo@example.test"
STRANGER = "stranger.sophie@example.test"
BY_PHONE = "paul.durand@example.test"
#: Tuesday 2026-03-03 09:00 in Paris; 20-minute appointments on the agenda's grid, half an hour
#: apart (so that only the same slot clashes), six a morning, four mornings.
FIRST_SLOT = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
SLOTS = 24
PARIS = ZoneInfo("Europe/Paris")


def slot(index: int) -> datetime:
    day, step = divmod(index, 6)
    return FIRST_SLOT + timedelta(days=day, minutes=30 * step)


@dataclass(frozen=True)
class Prepared:
    path: Path
    world: World
    by_phone_patient_id: UUID


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Prepared:
    path = tmp_path_factory.mktemp("property") / "world.sqlite3"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    clock = SettableClock(T0)
    world = build_world(database, clock)
    with database.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(database),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            phone="+33612345678",
            email=BY_PHONE,
        )
        by_phone = registered.patient.patient_id
    for patient_id in (world.holder_patient_id, world.child_patient_id, world.stranger_patient_id):
        # Known to the practice, as after a first online booking, so that the desk may book them.
        register_at_practice(database, clock, world, patient_id)
    database.dispose()
    return Prepared(path=path, world=world, by_phone_patient_id=by_phone)


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with running_inbox() as box:
        yield box


@dataclass(frozen=True)
class Book:
    patient: int
    slot: int
    by_desk: bool


@dataclass(frozen=True)
class Move:
    appointment: int
    slot: int
    by_desk: bool


@dataclass(frozen=True)
class Cancel:
    appointment: int
    by_desk: bool


@dataclass(frozen=True)
class Absence:
    """A day off entered by the desk (or the admin) over that day's appointments, confirmed
    with the list the server gave."""

    day: int
    by_admin: bool


@dataclass(frozen=True)
class Wait:
    """A patient with an account joins the waitlist for a day: a time freed on it is offered."""

    patient: int
    day: int


Operation = Book | Move | Cancel | Absence | Wait

bookings = st.builds(Book, st.integers(0, 3), st.integers(0, SLOTS - 1), st.booleans())
changes = st.one_of(
    bookings,
    st.builds(Move, st.integers(0, 20), st.integers(0, SLOTS - 1), st.booleans()),
    st.builds(Cancel, st.integers(0, 20), st.booleans()),
    st.builds(Absence, st.integers(0, SLOTS // 6 - 1), st.booleans()),
    st.builds(Wait, st.integers(0, 2), st.integers(0, SLOTS // 6 - 1)),
)
#: A few bookings first (a sequence of moves with nothing booked tells nothing), then any mix.
operations = st.tuples(
    st.lists(bookings, min_size=1, max_size=4), st.lists(changes, max_size=12)
).map(lambda drawn: [*drawn[0], *drawn[1]])


class Play:
    """One example: a fresh database, the changes applied, what each should tell recorded."""

    def __init__(self, prepared: Prepared, directory: Path) -> None:
        path = directory / "example.sqlite3"
        shutil.copyfile(prepared.path, path)
        self.db = Database(f"sqlite:///{path}")
        self.clock = SettableClock(T0)
        self.world = prepared.world
        world = prepared.world
        #: (patient, the account that acts for them or None for the desk only, their address)
        self.patients: list[tuple[UUID, Person | None, str]] = [
            (world.holder_patient_id, world.holder, HOLDER),
            (world.child_patient_id, world.holder, HOLDER),
            (world.stranger_patient_id, world.stranger, STRANGER),
            (prepared.by_phone_patient_id, None, BY_PHONE),
        ]
        #: Booked appointments, in booking order: (id, index into ``patients``).
        self.appointments: list[tuple[UUID, int]] = []
        self.expected: Counter[tuple[str, str, UUID]] = Counter()

    def actor(self, patient: int, by_desk: bool) -> Person:
        holder = self.patients[patient][1]
        return self.world.secretary if by_desk or holder is None else holder

    def apply(self, operation: Operation) -> None:
        # Refused by the rules: nothing changed, nobody is told.
        with contextlib.suppress(ColloqueError):
            self._apply(operation)

    def _apply(self, operation: Operation) -> None:
        if isinstance(operation, Book):
            patient_id, _, address = self.patients[operation.patient]
            by_desk = operation.by_desk or self.patients[operation.patient][1] is None
            appointment = book(
                self.db,
                self.clock,
                self.world,
                slot(operation.slot),
                person=self.actor(operation.patient, by_desk),
                patient_id=patient_id,
                source=Source.PRACTICE if by_desk else Source.ONLINE,
            )
            self.appointments.append((appointment.appointment_id, operation.patient))
            self.expected[
                (address, Template.APPOINTMENT_CONFIRMED, appointment.appointment_id)
            ] += 1
            return
        if isinstance(operation, Absence):
            self._absence(operation)
            return
        if isinstance(operation, Wait):
            patient_id, holder, _ = self.patients[operation.patient]
            assert holder is not None
            day = slot(operation.day * 6).astimezone(PARIS).date()
            with self.db.write() as session:
                do_join_waitlist(
                    session,
                    now=self.clock.now(),
                    principal=holder.principal(self.db),
                    practice_id=self.world.practice_id,
                    practitioner_id=self.world.practitioner_id,
                    duration_minutes=20,
                    patient_id=patient_id,
                    first_day=day,
                    last_day=day,
                )
            return
        if not self.appointments:
            return
        appointment_id, patient = self.appointments[operation.appointment % len(self.appointments)]
        address = self.patients[patient][2]
        principal = self.actor(patient, operation.by_desk).principal(self.db)
        if isinstance(operation, Move):
            with self.db.write() as session:
                do_reschedule_appointment(
                    session,
                    now=self.clock.now(),
                    principal=principal,
                    practice_id=self.world.practice_id,
                    appointment_id=appointment_id,
                    new_starts_at=slot(operation.slot),
                )
            self.expected[(address, Template.APPOINTMENT_MOVED, appointment_id)] += 1
            return
        with self.db.write() as session:
            do_cancel_appointment(
                session,
                now=self.clock.now(),
                principal=principal,
                practice_id=self.world.practice_id,
                appointment_id=appointment_id,
                reason=CancelReason.PRACTICE_CLOSED
                if operation.by_desk
                else CancelReason.NO_LONGER_NEEDED,
            )
        self.expected[(address, Template.APPOINTMENT_CANCELLED, appointment_id)] += 1

    def _absence(self, operation: Absence) -> None:
        day = slot(operation.day * 6).astimezone(PARIS).date()
        time_off = TimeOff(kind=OverrideKind.ABSENCE, first_day=day, last_day=day)
        actor = self.world.admin if operation.by_admin else self.world.secretary
        principal = actor.principal(self.db)
        where = {
            "practice_id": self.world.practice_id,
            "practitioner_id": self.world.practitioner_id,
        }
        with self.db.read() as session:
            listed = preview_time_off(
                session, now=self.clock.now(), principal=principal, time_off=time_off, **where
            )
        with self.db.write() as session:
            do_add_time_off(
                session,
                now=self.clock.now(),
                principal=principal,
                time_off=time_off,
                cancel_appointment_ids=[a.appointment.appointment_id for a in listed] or None,
                **where,
            )
        owners = dict(self.appointments)
        for affected in listed:
            address = self.patients[owners[affected.appointment.appointment_id]][2]
            key = (address, Template.APPOINTMENT_CANCELLED, affected.appointment.appointment_id)
            self.expected[key] += 1

    def expect_offers(self) -> None:
        """Each time offered to a waiting patient is told to that patient, once."""
        addresses = {patient_id: address for patient_id, _, address in self.patients}
        with self.db.read() as session:
            offers = session.execute(
                select(WaitlistOffer.appointment_id, WaitlistEntry.patient_id).join(
                    WaitlistEntry,
                    (WaitlistEntry.practice_id == WaitlistOffer.practice_id)
                    & (WaitlistEntry.entry_id == WaitlistOffer.entry_id),
                )
            ).all()
        for appointment_id, patient_id in offers:
            self.expected[(addresses[patient_id], Template.WAITLIST_OFFER, appointment_id)] += 1

    def expect_reminders(self) -> None:
        owners = dict(self.appointments)
        with self.db.read() as session:
            booked = session.scalars(
                select(Appointment.appointment_id).where(Appointment.status == Status.BOOKED.value)
            ).all()
        for appointment_id in booked:
            address = self.patients[owners[appointment_id]][2]
            self.expected[(address, Template.REMINDER_DAY, appointment_id)] += 1

    def received(self, inbox: Inbox) -> Counter[tuple[str, str, UUID]]:
        """What the SMTP server received, as (address, template, appointment) from each
        message's Message-ID (which names its outbox row)."""
        with self.db.read() as session:
            rows = {
                MAIL.message_id(row.message_id): row
                for row in session.scalars(select(OutboxMessage))
            }
        told: Counter[tuple[str, str, UUID]] = Counter()
        for recipients, message in inbox.messages:
            row = rows[message["Message-ID"]]
            assert row.appointment_id is not None
            assert len(recipients) == 1
            told[(recipients[0], row.template, row.appointment_id)] += 1
        return told


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=operations)
def test_each_change_is_told_once_and_only_to_its_own_patient(
    prepared: Prepared, inbox: Inbox, tmp_path: Path, changes: list[Operation]
) -> None:
    inbox.messages.clear()
    play = Play(prepared, tmp_path)
    try:
        sender = smtp_to(inbox)
        delivery = OutboxDelivery(
            play.db,
            play.clock,
            Channels(email=sender),
            mail=MAIL,
            account_mail_key=SECRET_KEY,
            rng=random.Random(7),
            reminders=ReminderPlanner(sms=False, phone_key=b"p" * 32),
        )
        try:
            report = delivery.run_until_idle()
            # Delivered as the changes come: an offer is told while its time is held for it.
            for change in changes:
                play.apply(change)
                report += delivery.run_until_idle()
            # Then the days go by, a worker round every six hours: each appointment still booked
            # is reminded the day before, once, to its own patient.
            while play.clock.now() < slot(SLOTS - 1):
                play.clock.advance(timedelta(hours=6))
                report += delivery.run_until_idle()
        finally:
            sender.close()
        assert report.failed == 0
        play.expect_offers()
        play.expect_reminders()
        assert play.received(inbox) == play.expected
    finally:
        play.db.dispose()
