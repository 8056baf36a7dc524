"""Reminders: queued by the planner when their moment comes, sent once, never for an appointment
cancelled or moved since, one SMS per phone and day, off by policy or by the one-click link.

Times: the practice is in Paris. Monday 16 March 2026 09:00 there is 08:00 UTC; its week
reminder is due on Monday 9 March 08:00 UTC, its day reminder on Sunday 15 March 10:00 Paris
(09:00 UTC). Summer time starts on Sunday 29 March 2026.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from uuid import UUID

import pytest
from sqlalchemy import select, text

from colloque.accounts.models import Account
from colloque.booking.changes import do_cancel_appointment, do_reschedule_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.delivery.channels import Channels
from colloque.delivery.compose import MailConfig
from colloque.delivery.outbox import OutboxDelivery
from colloque.delivery.queries import failed_messages
from colloque.delivery.reminders import ReminderPlanner, changed_scan, day_scan, week_scan
from colloque.notifications.models import OutboxMessage
from colloque.notifications.sms import HttpSmsProvider
from colloque.patients.registry import do_register_patient
from colloque.storage.engine import Database
from tests.conftest import QueryCount
from tests.factories import World, book, build_world
from tests.functional.notifications.conftest import SECRET_KEY, smtp_to
from tests.sms import SmsProvider, running_provider
from tests.smtp import Inbox

UNSUBSCRIBE_KEY = bytes(range(32, 64))
MAIL = MailConfig(
    domain="mail.colloque.test",
    public_url="https://colloque.test",
    unsubscribe_key=UNSUBSCRIBE_KEY,
)
HOLDER = "holder.hugo@example.test"
PAUL = "paul.durand@example.test"
PHONE = "+33612345678"
MON_16 = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)  # 09:00 in Paris
WEEK_MOMENT = MON_16 - timedelta(days=7)
DAY_MOMENT = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)  # Sunday 10:00 in Paris
SECOND = timedelta(seconds=1)
PLAN_A_DAY = {"sqlite": 12, "postgresql": 11}


@pytest.fixture
def provider() -> Iterator[SmsProvider]:
    with running_provider() as running:
        yield running


def _delivery(
    db: Database, clock: SettableClock, inbox: Inbox, provider: SmsProvider | None
) -> OutboxDelivery:
    sms = (
        None
        if provider is None
        else HttpSmsProvider(url=provider.url, token=provider.token, sender="Colloque")
    )
    return OutboxDelivery(
        db,
        clock,
        Channels(email=smtp_to(inbox), sms=sms),
        mail=MAIL,
        account_mail_key=SECRET_KEY,
        rng=random.Random(7),
        reminders=ReminderPlanner(sms=sms is not None, phone_key=b"p" * 32),
    )


@pytest.fixture
def delivery(
    db: Database, clock: SettableClock, inbox: Inbox, provider: SmsProvider
) -> OutboxDelivery:
    return _delivery(db, clock, inbox, provider)


def _at(clock: SettableClock, delivery: OutboxDelivery, instant: datetime) -> None:
    clock.set(instant)
    delivery.run_until_idle()


def _subjects(inbox: Inbox, address: str) -> list[str]:
    return [str(_parsed(m)["Subject"]) for m in inbox.to(address)]


def _parsed(message: Message) -> EmailMessage:
    raw = message.as_bytes()
    parsed = message_from_bytes(raw, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _phone_patient(
    db: Database, clock: SettableClock, world: World, *, email: str | None, name: str = "Paul"
) -> UUID:
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name=name,
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            phone=PHONE,
            email=email,
        )
        return registered.patient.patient_id


def _desk_book(
    db: Database,
    clock: SettableClock,
    world: World,
    starts_at: datetime,
    patient_id: UUID,
    *,
    reminders: bool = True,
) -> Appointment:
    with db.write() as session:
        return do_book_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            request=BookingRequest(
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                patient_id=patient_id,
                starts_at=starts_at,
                duration_minutes=20,
                reminders_wanted=reminders,
            ),
            source=Source.PRACTICE,
        )


def _reminders(db: Database) -> list[tuple[str, str, str | None]]:
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template.like("reminder%"))
            .order_by(OutboxMessage.created_at, OutboxMessage.template)
        )
        return [(row.template, row.status, row.last_error) for row in rows]


def test_the_three_reminders_go_at_their_moments_once_each(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    provider: SmsProvider,
    delivery: OutboxDelivery,
) -> None:
    paul = _phone_patient(db, clock, world, email=PAUL)
    _desk_book(db, clock, world, MON_16, paul)
    _at(clock, delivery, clock.now())
    assert _subjects(inbox, PAUL) == ["Rendez-vous confirmé : lundi 16 mars 2026 à 09:00"]
    _at(clock, delivery, WEEK_MOMENT - SECOND)
    assert len(inbox.to(PAUL)) == 1
    _at(clock, delivery, WEEK_MOMENT)
    assert _subjects(inbox, PAUL)[1:] == ["Rappel : rendez-vous le lundi 16 mars 2026 à 09:00"]
    _at(clock, delivery, DAY_MOMENT - SECOND)
    assert len(inbox.to(PAUL)) == 2
    assert provider.sent == []
    _at(clock, delivery, DAY_MOMENT)
    assert _subjects(inbox, PAUL)[2:] == ["Rappel : rendez-vous demain, lundi 16 mars 2026 à 09:00"]
    [(to, text, _key)] = provider.sent
    assert to == PHONE
    assert "rappel, RDV demain lundi 16 mars 2026 à 09:00" in text
    for later in (DAY_MOMENT + timedelta(hours=2), MON_16 - SECOND, MON_16 + timedelta(days=1)):
        _at(clock, delivery, later)
    assert len(inbox.to(PAUL)) == 3
    assert len(provider.sent) == 1
    assert _reminders(db) == [
        ("reminder_week", "sent", None),
        ("reminder_day", "sent", None),
        ("reminder_sms", "sent", None),
    ]
    # Nothing about the visit.
    everything = "".join(m.as_string() for m in inbox.to(PAUL)) + text
    for secret in ("Consultation", "general", "médecine"):
        assert secret not in everything


def test_the_unsubscribe_headers_are_on_reminders_only(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    book(db, clock, world, MON_16)
    _at(clock, delivery, clock.now())
    _at(clock, delivery, WEEK_MOMENT)
    confirmation, reminder = (_parsed(m) for m in inbox.to(HOLDER))
    assert confirmation["List-Unsubscribe"] is None
    assert confirmation["List-Unsubscribe-Post"] is None
    link = str(reminder["List-Unsubscribe"])
    assert link.startswith("<https://colloque.test/unsubscribe/")
    assert link.endswith(">")
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The link names nobody: no address, no name.
    assert "hugo" not in link.lower()
    assert "@" not in link


def test_a_cancelled_appointment_gets_no_reminder(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    provider: SmsProvider,
    delivery: OutboxDelivery,
) -> None:
    paul = _phone_patient(db, clock, world, email=PAUL)
    first = _desk_book(db, clock, world, MON_16, paul)
    second = _desk_book(db, clock, world, MON_16 + timedelta(days=1), paul)
    _at(clock, delivery, clock.now())
    _cancel(db, clock, world, first)
    _at(clock, delivery, DAY_MOMENT)
    # Queued, then cancelled before it went: checked at delivery.
    delivery.plan_reminders()
    _cancel(db, clock, world, second)
    _at(clock, delivery, DAY_MOMENT + timedelta(days=1))
    assert [s for s in _subjects(inbox, PAUL) if s.startswith("Rappel")] == []
    assert provider.sent == []
    assert {status for _t, status, _e in _reminders(db)} <= {"failed"}
    assert {error for _t, _s, error in _reminders(db)} <= {"not_booked"}


def _cancel(db: Database, clock: SettableClock, world: World, appointment: Appointment) -> None:
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )


def test_a_moved_appointment_is_reminded_of_its_new_time_once(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    appointment = book(db, clock, world, MON_16)
    _at(clock, delivery, WEEK_MOMENT)
    clock.set(WEEK_MOMENT + timedelta(days=1))
    with db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment.appointment_id,
            new_starts_at=MON_16 + timedelta(days=1),
        )
    for instant in (DAY_MOMENT, DAY_MOMENT + timedelta(days=1), MON_16 + timedelta(days=2)):
        _at(clock, delivery, instant)
    reminders = [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")]
    assert reminders == [
        "Rappel : rendez-vous le lundi 16 mars 2026 à 09:00",
        # Moved less than a week ahead: no second week reminder; the day before the new time.
        "Rappel : rendez-vous demain, mardi 17 mars 2026 à 09:00",
    ]


def test_the_week_reminder_is_skipped_when_booked_three_days_ahead(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    clock.set(MON_16 - timedelta(days=3))
    book(db, clock, world, MON_16)
    for instant in (WEEK_MOMENT + timedelta(days=3), DAY_MOMENT, MON_16 + SECOND):
        _at(clock, delivery, instant)
    assert [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")] == [
        "Rappel : rendez-vous demain, lundi 16 mars 2026 à 09:00"
    ]


def test_booked_after_ten_the_day_before_is_reminded_at_once_and_on_the_day_not_at_all(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    clock.set(DAY_MOMENT + timedelta(hours=5))
    book(db, clock, world, MON_16)
    _at(clock, delivery, clock.now())
    clock.set(MON_16 - timedelta(hours=2))  # 07:00 in Paris, on the day
    book(db, clock, world, MON_16 + timedelta(hours=1), patient_id=world.child_patient_id)
    _at(clock, delivery, clock.now())
    assert [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")] == [
        "Rappel : rendez-vous demain, lundi 16 mars 2026 à 09:00"
    ]


def test_one_sms_per_phone_and_day_naming_the_first_appointment(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    provider: SmsProvider,
    delivery: OutboxDelivery,
) -> None:
    paul = _phone_patient(db, clock, world, email=None)
    _desk_book(db, clock, world, MON_16 + timedelta(hours=2), paul)
    _desk_book(db, clock, world, MON_16, paul)
    _at(clock, delivery, clock.now())
    confirmations = len(provider.sent)
    _at(clock, delivery, DAY_MOMENT)
    _at(clock, delivery, DAY_MOMENT + timedelta(hours=3))
    reminders = provider.sent[confirmations:]
    assert len(reminders) == 1
    assert "lundi 16 mars 2026 à 09:00" in reminders[0][1]
    # A phone-only patient gets no email reminders, and the emails' rows were never queued.
    assert [t for t, _s, _e in _reminders(db)] == ["reminder_sms"]


def test_a_visit_type_without_reminders_gets_none(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    provider: SmsProvider,
    delivery: OutboxDelivery,
) -> None:
    paul = _phone_patient(db, clock, world, email=PAUL)
    _desk_book(db, clock, world, MON_16, paul, reminders=False)
    for instant in (clock.now(), WEEK_MOMENT, DAY_MOMENT, MON_16 - SECOND):
        _at(clock, delivery, instant)
    assert _subjects(inbox, PAUL) == ["Rendez-vous confirmé : lundi 16 mars 2026 à 09:00"]
    assert provider.sent == []
    assert _reminders(db) == []


def test_the_day_before_follows_the_practice_s_clock_across_summer_time(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    # Monday 30 March 09:00 in Paris is 07:00 UTC (summer time since Sunday 02:00): the day
    # before at 10:00 is Sunday 08:00 UTC, one hour earlier in UTC than a week before.
    monday = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    sunday_ten = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    clock.set(monday - timedelta(days=3))
    book(db, clock, world, monday)
    _at(clock, delivery, clock.now())
    _at(clock, delivery, sunday_ten - SECOND)
    assert [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")] == []
    _at(clock, delivery, sunday_ten)
    assert [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")] == [
        "Rappel : rendez-vous demain, lundi 30 mars 2026 à 09:00"
    ]


def test_an_unsubscribed_account_gets_no_reminders(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    book(db, clock, world, MON_16)
    _at(clock, delivery, WEEK_MOMENT)
    with db.write() as session:
        account = session.get(Account, world.holder.account_id)
        assert account is not None
        account.reminders = False
    _at(clock, delivery, DAY_MOMENT)
    assert [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")] == [
        "Rappel : rendez-vous le lundi 16 mars 2026 à 09:00"
    ]


@pytest.mark.parametrize("count", [2, 6])
def test_planning_a_day_reads_the_same_few_statements_however_many_appointments(
    db: Database,
    clock: SettableClock,
    world: World,
    inbox: Inbox,
    delivery: OutboxDelivery,
    assert_query_count: QueryCount,
    count: int,
) -> None:
    for index in range(count):
        paul = _phone_patient(
            db, clock, world, email=f"paul{index}@example.test", name=f"Paul{index}"
        )
        _desk_book(db, clock, world, MON_16 + index * timedelta(minutes=20), paul)
    delivery.plan_reminders()  # the planner's first round: its state row
    clock.set(DAY_MOMENT)
    # The state, the week slice, the zones, the day, the changed ones, patients, their recorded
    # contacts, the SMS keys already queued, one insert; and the transaction's own statements.
    with assert_query_count(PLAN_A_DAY):
        delivery.plan_reminders()
    assert len(_reminders(db)) == 2 * count - (count - 1)  # one SMS for the one phone


def test_a_reminder_queued_then_made_stale_is_not_sent(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    moved = book(db, clock, world, MON_16)
    quiet = book(db, clock, world, MON_16 + timedelta(hours=1), patient_id=world.child_patient_id)
    _at(clock, delivery, clock.now())
    clock.set(DAY_MOMENT)
    delivery.plan_reminders()
    with db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=moved.appointment_id,
            new_starts_at=MON_16 + timedelta(days=1),
        )
        stored = session.get(Appointment, (world.practice_id, quiet.appointment_id))
        assert stored is not None
        stored.reminders_wanted = False  # as if booked so: only the worker's check stops it
    delivery.run_until_idle()
    with db.read() as session:
        errors = sorted(
            row.last_error or ""
            for row in session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == "reminder_day")
            )
        )
    assert errors == ["moved", "reminders_off"]
    with db.read() as session:
        assert failed_messages(session, practice_id=world.practice_id) == []
    # The new time's own reminder, the day before it.
    _at(clock, delivery, DAY_MOMENT + timedelta(days=1))
    assert [s for s in _subjects(inbox, HOLDER) if s.startswith("Rappel")] == [
        "Rappel : rendez-vous demain, mardi 17 mars 2026 à 09:00"
    ]


@pytest.mark.postgres
def test_the_planner_s_scans_read_their_indexes(
    postgres_db: Database, clock: SettableClock
) -> None:
    """Each round's scans are index ranges on the appointments, never a pass over all of them:
    on 20,000 appointments over a year (half of them done), analysed, PostgreSQL reads each
    scan's slice through its index."""
    world = build_world(postgres_db, clock)
    with postgres_db.write() as session:
        session.execute(
            text(
                "INSERT INTO appointments (practice_id, appointment_id, practitioner_id,"
                " patient_id, specialty, starts_at, ends_at, blocked_until, status, source,"
                " reminders_wanted, outside_hours, created_at, updated_at)"
                " SELECT :practice, gen_random_uuid(), :practitioner, :patient, 'general_practice',"
                " t, t + interval '20 minutes', t + interval '20 minutes',"
                " CASE WHEN i % 2 = 0 THEN 'booked' ELSE 'done' END, 'online', true, false,"
                " t - interval '30 days', t - interval '30 days' + (i % 997) * interval '1 minute'"
                " FROM generate_series(1, 20000) AS i,"
                " LATERAL (SELECT timestamptz '2026-01-01' + i * interval '30 minutes' AS t) AS x"
            ),
            {
                "practice": world.practice_id,
                "practitioner": world.practitioner_id,
                "patient": world.holder_patient_id,
            },
        )
    with postgres_db.write() as session:
        session.execute(text("ANALYZE appointments"))
    since, now = DAY_MOMENT - timedelta(seconds=5), DAY_MOMENT
    scans = {
        "ix_appointments_status_start": [
            week_scan(since, now),
            day_scan("Europe/Paris", date(2026, 3, 16), now),
        ],
        "ix_appointments_status_updated": [changed_scan(since, now)],
    }
    with postgres_db.read() as session:
        for index, statements in scans.items():
            for statement in statements:
                compiled = statement.compile(
                    dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
                )
                plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
                assert index in plan, plan
                assert "Seq Scan on appointments" not in plan, plan
