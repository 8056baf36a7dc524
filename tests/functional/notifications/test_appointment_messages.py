"""Appointment messages: rendered at delivery from current data, sent to the appointment's own
patient only, in their language, with the practice's local times, and nothing about the visit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from uuid import UUID

import icalendar
from sqlalchemy import select

from colloque.accounts.models import Account
from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind, unpack
from colloque.audit.services import AuditAction
from colloque.booking.changes import (
    do_cancel_appointment,
    do_mark_appointment,
    do_reschedule_appointment,
)
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Source, Status
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.outbox import OutboxDelivery, RetryPolicy
from colloque.notifications.models import OutboxMessage
from colloque.patients.registry import do_register_patient
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.functional.notifications.conftest import delivery_for, smtp_to
from tests.smtp import Inbox

# Monday 2026-03-02 09:00 in Paris (UTC+1).
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = MON_0900 + timedelta(days=1)
HOLDER = "holder.hugo@example.test"


def _mail(inbox: Inbox, address: str) -> list[EmailMessage]:
    """The mail to ``address``, parsed with decoded headers."""
    parsed = []
    for message in inbox.to(address):
        reparsed = message_from_bytes(message.as_bytes(), policy=default)
        assert isinstance(reparsed, EmailMessage)
        parsed.append(reparsed)
    return parsed


def _parts(message: Message) -> dict[str, list[Message]]:
    found: dict[str, list[Message]] = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), []).append(part)
    return found


def _text(message: Message) -> str:
    payload = _parts(message)["text/plain"][0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _statuses(db: Database) -> list[tuple[str, str, str | None]]:
    with db.read() as session:
        return [
            (row.template, row.status, row.last_error)
            for row in session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at))
        ]


def test_a_booking_is_confirmed_with_an_ics_and_nothing_about_the_visit(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    appointment = book(db, clock, world, MON_0900)
    report = delivery.run_until_idle()
    assert (report.sent, report.failed) == (1, 0)
    [message] = _mail(inbox, HOLDER)
    assert message["Subject"] == "Rendez-vous confirmé : lundi 2 mars 2026 à 09:00"
    assert message["Message-ID"] == (f"<{_only_row(db).message_id}@mail.colloque.test>")
    text = _text(message)
    assert "lundi 2 mars 2026 à 09:00" in text
    assert "Dr Claire Martin" in text
    assert "Cabinet du Test, 12 rue de la Paix, 75002 Paris" in text
    assert "https://colloque.test/me/appointments" in text
    parts = _parts(message)
    assert "text/html" in parts
    [ics_part] = parts["text/calendar"]
    payload = ics_part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    [event] = icalendar.Calendar.from_ical(payload).walk("VEVENT")
    assert str(event["uid"]) == f"{appointment.appointment_id}@colloque.test"
    assert event.decoded("dtstart") == MON_0900
    assert event.decoded("dtend") == MON_0900 + timedelta(minutes=20)
    everything = message.as_string() + payload.decode()
    # The visit is never named: not its type, not the specialty, not whom it is for.
    for secret in ("Consultation", "general", "médecine", "Hugo", "Bernard"):
        assert secret not in everything
    assert _statuses(db) == [("appointment_confirmed", "sent", None)]


def test_a_relative_s_appointment_is_told_to_the_managing_account_in_its_language(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    with db.write() as session:
        account = session.get(Account, world.holder.account_id)
        assert account is not None
        account.language = "en"
    book(db, clock, world, MON_0900, patient_id=world.child_patient_id)
    delivery.run_until_idle()
    [message] = _mail(inbox, HOLDER)
    assert message["Subject"] == "Appointment confirmed: Monday, 2 March 2026 at 09:00"
    assert "Lina" not in message.as_string()


def test_a_cancellation_says_who_cancelled(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    mine = book(db, clock, world, TUE_0900)
    theirs = book(
        db, clock, world, TUE_0900 + timedelta(hours=1), patient_id=world.child_patient_id
    )
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=mine.appointment_id,
            reason=CancelReason.PATIENT_UNAVAILABLE,
        )
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=theirs.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    delivery.run_until_idle()
    texts = {m["Subject"]: _text(m) for m in _mail(inbox, HOLDER)}
    assert "à votre demande" in texts["Rendez-vous annulé : mardi 3 mars 2026 à 09:00"]
    assert "Le cabinet a annulé" in texts["Rendez-vous annulé : mardi 3 mars 2026 à 10:00"]
    # The reason code is the practice's business: never in the message.
    assert all("unavailable" not in text for text in texts.values())


def test_a_move_gives_the_old_and_the_new_time(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    appointment = book(db, clock, world, TUE_0900)
    with db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            new_starts_at=TUE_0900 + timedelta(days=1, hours=5),
        )
    delivery.run_until_idle()
    moved = [m for m in _mail(inbox, HOLDER) if m["Subject"].startswith("Rendez-vous déplacé")]
    [message] = moved
    assert message["Subject"] == "Rendez-vous déplacé au mercredi 4 mars 2026 à 14:00"
    text = _text(message)
    assert "Ancien horaire : mardi 3 mars 2026 à 09:00" in text
    assert "Nouvel horaire : mercredi 4 mars 2026 à 14:00" in text


def test_a_patient_registered_by_phone_gets_mail_at_the_address_the_practice_recorded(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            phone="+33612345678",
            email="paul.durand@example.test",
        )
    book(
        db,
        clock,
        world,
        MON_0900,
        person=world.secretary,
        patient_id=registered.patient.patient_id,
        source=Source.PRACTICE,
    )
    delivery.run_until_idle()
    assert len(inbox.to("paul.durand@example.test")) == 1
    assert [rcpt for rcpt, _ in inbox.messages] == [["paul.durand@example.test"]]


def test_a_patient_with_no_contact_is_a_failed_message_not_a_guess(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
        )
    book(
        db,
        clock,
        world,
        MON_0900,
        person=world.secretary,
        patient_id=registered.patient.patient_id,
        source=Source.PRACTICE,
    )
    report = delivery.run_until_idle()
    assert (report.sent, report.failed) == (0, 1)
    assert inbox.messages == []
    assert _statuses(db) == [("appointment_confirmed", "failed", "no_contact")]


def test_a_row_naming_another_patient_than_the_appointment_s_is_refused(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    book(db, clock, world, MON_0900)
    with db.write() as session:
        row = session.scalars(select(OutboxMessage)).one()
        row.patient_id = world.stranger_patient_id
    delivery.run_until_idle()
    assert inbox.messages == []
    assert _statuses(db) == [("appointment_confirmed", "failed", "misaddressed")]


def test_names_and_address_are_read_at_delivery(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    from colloque.scheduling.models import Practice

    book(db, clock, world, MON_0900)
    with db.write() as session:
        practice = session.get(Practice, world.practice_id)
        assert practice is not None
        practice.address = "3 place Neuve"
    delivery.run_until_idle()
    [message] = _mail(inbox, HOLDER)
    assert "3 place Neuve" in _text(message)


def test_a_failing_server_is_retried_with_growing_delays_then_the_message_fails(
    db: Database, clock: SettableClock, world: World, inbox: Inbox
) -> None:
    from colloque.notifications.mail import SmtpMailSender
    from tests.server import free_port

    book(db, clock, world, MON_0900)
    down = SmtpMailSender(host="127.0.0.1", port=free_port(), sender="noreply@colloque.test")
    delivery = delivery_for(
        db,
        clock,
        Channels(email=down),
        policy=RetryPolicy(max_attempts=4, base=timedelta(seconds=60)),
    )
    delays = []
    for _ in range(3):
        assert delivery.run_round().retried == 1
        with db.read() as session:
            row = session.scalars(select(OutboxMessage)).one()
            assert row.due_at is not None
            assert row.status == "pending"
            delays.append((row.due_at - clock.now()).total_seconds())
        assert delivery.run_round().handled == 0  # not due yet
        clock.set(row.due_at)
    # Jittered in the upper half of 60, 120, 240 seconds.
    assert 30 <= delays[0] <= 60
    assert 60 <= delays[1] <= 120
    assert 120 <= delays[2] <= 240
    assert delivery.run_round().failed == 1
    assert _statuses(db) == [("appointment_confirmed", "failed", "smtp_unavailable")]
    # A server that is back does not resurrect a failed message.
    up = delivery_for(db, clock, Channels(email=smtp_to(inbox)))
    assert up.run_until_idle().handled == 0


def _only_row(db: Database) -> OutboxMessage:
    with db.read() as session:
        return session.scalars(select(OutboxMessage)).one()


def test_every_message_reaches_only_the_patient_of_its_appointment(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    """Bookings, moves and cancellations by patients, a relative's holder and the desk, across
    three patients of two accounts: each change is told once, to its own patient's account."""
    holder_own = book(db, clock, world, TUE_0900)
    child = book(db, clock, world, TUE_0900 + timedelta(hours=1), patient_id=world.child_patient_id)
    stranger = book(
        db,
        clock,
        world,
        TUE_0900 + timedelta(hours=2),
        person=world.stranger,
        patient_id=world.stranger_patient_id,
    )
    with db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=child.appointment_id,
            new_starts_at=TUE_0900 + timedelta(days=1, hours=6),
        )
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=stranger.appointment_id,
            reason=CancelReason.PRACTICE_CLOSED,
        )
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=holder_own.appointment_id,
            reason=CancelReason.NO_LONGER_NEEDED,
        )
    assert delivery.run_until_idle().sent == 6
    owner = {
        holder_own.appointment_id: HOLDER,
        child.appointment_id: HOLDER,
        stranger.appointment_id: "stranger.sophie@example.test",
    }
    with db.read() as session:
        rows = {
            f"<{row.message_id}@mail.colloque.test>": row
            for row in session.scalars(select(OutboxMessage))
        }
    received = [(rcpt, message["Message-ID"]) for rcpt, message in inbox.messages]
    assert len(received) == len(rows) == 6
    assert {message_id for _, message_id in received} == set(rows)
    for recipients, message_id in received:
        row = rows[message_id]
        assert row.appointment_id is not None
        assert recipients == [owner[row.appointment_id]]


def test_nothing_is_said_about_an_appointment_already_begun(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    book(db, clock, world, MON_0900)
    clock.set(MON_0900)  # the worker was down until the appointment's time
    assert delivery.run_until_idle().failed == 1
    assert inbox.messages == []
    assert _statuses(db) == [("appointment_confirmed", "failed", "past")]


def _mark(
    db: Database, world: World, clock: SettableClock, appointment_id: UUID, outcome: Status
) -> None:
    with db.write() as session:
        do_mark_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment_id,
            outcome=outcome,
        )


def test_a_no_show_is_followed_by_a_word_to_book_again_and_a_visit_that_happened_by_nothing(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    missed = book(db, clock, world, TUE_0900)
    came = book(db, clock, world, TUE_0900 + timedelta(hours=1), patient_id=world.child_patient_id)
    delivery.run_until_idle()
    inbox.messages.clear()
    clock.set(TUE_0900 + timedelta(hours=3))
    _mark(db, world, clock, missed.appointment_id, Status.NO_SHOW)
    _mark(db, world, clock, came.appointment_id, Status.DONE)
    assert delivery.run_until_idle().sent == 1
    [message] = _mail(inbox, HOLDER)
    assert message["Subject"] == "Rendez-vous manqué : mardi 3 mars 2026 à 09:00"
    text = _text(message)
    assert "n'êtes pas venu(e) à votre rendez-vous du mardi 3 mars 2026 à 09:00" in text
    assert (
        f"https://colloque.test/practitioners/{world.practice_id}/{world.practitioner_id}" in text
    )
    assert [rcpt for rcpt, _ in inbox.messages] == [[HOLDER]]


def test_a_no_show_follow_up_is_not_sent_days_late(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    missed = book(db, clock, world, TUE_0900)
    delivery.run_until_idle()
    inbox.messages.clear()
    clock.set(TUE_0900 + timedelta(hours=1))
    _mark(db, world, clock, missed.appointment_id, Status.NO_SHOW)
    clock.set(TUE_0900 + timedelta(days=4))  # the worker was down
    assert delivery.run_until_idle().failed == 1
    assert inbox.messages == []
    assert ("no_show_follow_up", "failed", "past") in _statuses(db)


def test_a_no_show_follow_up_is_said_only_while_the_mark_stands(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    missed = book(db, clock, world, TUE_0900)
    delivery.run_until_idle()
    inbox.messages.clear()
    clock.set(TUE_0900 + timedelta(hours=1))
    _mark(db, world, clock, missed.appointment_id, Status.NO_SHOW)
    with db.write() as session:  # as a later correction of the mark would leave it
        session.get_one(Appointment, (world.practice_id, missed.appointment_id)).status = "done"
    assert delivery.run_until_idle().failed == 1
    assert inbox.messages == []
    assert ("no_show_follow_up", "failed", "no_longer_no_show") in _statuses(db)


def test_addressing_a_message_is_an_audited_read_of_the_patient(
    db: Database, clock: SettableClock, world: World, delivery: OutboxDelivery
) -> None:
    """The worker reads the patient's contact to address the message: one event, by no account,
    naming the message, the appointment and the patient."""
    appointment = book(db, clock, world, MON_0900)
    delivery.run_until_idle()
    with db.read() as session:
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.NOTIFICATION_COMPOSED.value)
        )
    assert (event.actor_account_id, event.subject_id) == (None, world.holder_patient_id)
    assert unpack(event.objects or b"") == {
        ObjectKind.NOTIFICATION: {_only_row(db).message_id},
        ObjectKind.APPOINTMENT: {appointment.appointment_id},
        ObjectKind.PATIENT: {world.holder_patient_id},
    }
