"""The mass-change breaker: past the limit of cancellations or moves in the window, from one
practice or one account, their messages wait for a practice admin, who is alerted once and
releases or discards them. Counted at a real SMTP server on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select, text, update

from colloque.accounts.models import Account
from colloque.api.app import create_app
from colloque.audit.models import AuditEvent
from colloque.booking.changes import do_cancel_appointment, do_reschedule_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Source
from colloque.clock import SettableClock
from colloque.config import KdfCost, Settings
from colloque.delivery.outbox import OutboxDelivery
from colloque.delivery.pauses import do_discard_pause, do_release_pause, pauses
from colloque.errors import Conflict, Forbidden, NotFound
from colloque.notifications.breaker import LIMITS_KEY, MassChangeLimits
from colloque.notifications.models import AccountMail, OutboxMessage, OutboxPause
from colloque.notifications.services import Template, enqueue
from colloque.patients.registry import do_register_patient
from colloque.storage.engine import Database
from tests.factories import Person, World, book
from tests.smtp import Inbox

PATIENT = "paul.durand@example.test"
ADMIN = "admin.alice@example.test"
CANCELLED = "Rendez-vous annulé"


def _slots(count: int) -> Iterator[datetime]:
    """``count`` half-hour steps of the test GP's opening hours (09:00-12:00, 14:00-18:00
    Paris time, UTC+1 until the end of March; Wednesdays closed 16:00-16:30) from 3 March."""
    day = date(2026, 3, 3)
    made = 0
    while True:
        if day.weekday() < 5:
            for hour, minute in [(h, m) for h in (9, 10, 11, 14, 15, 16, 17) for m in (0, 30)]:
                if day.weekday() == 2 and hour == 16 and minute == 0:
                    continue
                if made == count:
                    return
                yield datetime(day.year, day.month, day.day, hour - 1, minute, tzinfo=UTC)
                made += 1
        day += timedelta(days=1)


def book_many(db: Database, clock: SettableClock, world: World, count: int) -> list[UUID]:
    """``count`` appointments booked by the desk for a patient it registered with an address;
    their confirmations are marked sent (they are not what this is about)."""
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
            email=PATIENT,
        )
    ids = [
        book(
            db,
            clock,
            world,
            starts_at,
            person=world.secretary,
            patient_id=registered.patient.patient_id,
            source=Source.PRACTICE,
        ).appointment_id
        for starts_at in _slots(count)
    ]
    with db.write() as session:
        session.execute(update(OutboxMessage).values(status="sent"))
    return ids


def cancel(
    db: Database, clock: SettableClock, world: World, appointment_id: UUID, by: Person
) -> None:
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=by.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )


def _limit(db: Database, limit: int) -> None:
    db.session_info[LIMITS_KEY] = MassChangeLimits(limit=limit, window=timedelta(minutes=10))


def _statuses(db: Database) -> dict[str, int]:
    with db.read() as session:
        counts: dict[str, int] = {}
        for status in session.scalars(
            select(OutboxMessage.status).where(
                OutboxMessage.template == Template.APPOINTMENT_CANCELLED.value
            )
        ):
            counts[status] = counts.get(status, 0) + 1
        return counts


def _cancellations_received(inbox: Inbox) -> int:
    subjects = [
        message_from_bytes(m.as_bytes(), policy=default)["Subject"] for m in inbox.to(PATIENT)
    ]
    return sum(1 for subject in subjects if str(subject).startswith(CANCELLED))


def test_200_cancellations_by_one_desk_account_send_no_more_than_the_limit(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    appointments = book_many(db, clock, world, 200)
    for n, appointment_id in enumerate(appointments, start=1):
        clock.advance(timedelta(seconds=1))
        cancel(db, clock, world, appointment_id, world.secretary)
        if n % 20 == 0:  # the worker comes round while the desk goes on
            delivery.run_round()
    delivery.run_until_idle()
    assert _cancellations_received(inbox) == 50
    assert _statuses(db) == {"sent": 50, "held": 150}
    with db.read() as session:
        [pause] = pauses(session, practice_id=world.practice_id)
    assert pause.principal_account_id == world.secretary.account_id
    assert (pause.held, pause.held_cancellations, pause.held_moves) == (150, 150, 0)
    # The practice's admin is told once, however many rounds pass; no patient in it.
    clock.advance(timedelta(minutes=1))
    delivery.run_until_idle()
    [alert] = inbox.to(ADMIN)
    payload = alert.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode()
    assert "Cabinet du Test" in text
    assert f"/practice/{world.practice_id}/outbox" in text
    assert "Paul" not in text
    assert "Durand" not in text
    assert inbox.to("secretary.sam@example.test") == []


def test_a_release_sends_the_held_messages_and_re_arms_the_breaker(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    _limit(db, 3)
    appointments = book_many(db, clock, world, 8)
    for appointment_id in appointments[:5]:
        cancel(db, clock, world, appointment_id, world.secretary)
    delivery.run_until_idle()
    assert _cancellations_received(inbox) == 3
    with db.read() as session:
        [pause] = pauses(session, practice_id=world.practice_id)
    with db.write() as session:
        released = do_release_pause(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            pause_id=pause.pause_id,
        )
    assert (released.status, released.resolved_count) == ("released", 2)
    assert released.resolved_by == world.admin.account_id
    delivery.run_until_idle()
    assert _cancellations_received(inbox) == 5
    with db.read() as session:
        audited = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == pause.pause_id)
        ).all()
    assert audited == ["notifications:pause:release"]
    # Released once: a second decision is a conflict.
    with pytest.raises(Conflict), db.write() as session:
        do_discard_pause(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            pause_id=pause.pause_id,
        )
    # The window starts again after the release: three more go (the old three no longer count).
    clock.advance(timedelta(seconds=1))
    for appointment_id in appointments[5:]:
        cancel(db, clock, world, appointment_id, world.secretary)
    delivery.run_until_idle()
    assert _cancellations_received(inbox) == 8
    assert _statuses(db) == {"sent": 8}


def test_a_discard_never_sends_and_is_visible_as_failed(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    _limit(db, 2)
    for appointment_id in book_many(db, clock, world, 5):
        cancel(db, clock, world, appointment_id, world.secretary)
    with db.read() as session:
        [pause] = pauses(session, practice_id=world.practice_id)
    with db.write() as session:
        discarded = do_discard_pause(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            pause_id=pause.pause_id,
        )
    assert (discarded.status, discarded.resolved_count) == ("discarded", 3)
    delivery.run_until_idle()
    assert _cancellations_received(inbox) == 2
    with db.read() as session:
        errors = session.scalars(
            select(OutboxMessage.last_error).where(OutboxMessage.status == "failed")
        ).all()
    assert errors == ["discarded"] * 3
    # The alert was never queued: the pause was decided before the worker came round.
    assert inbox.to(ADMIN) == []


def test_changes_by_several_accounts_trip_the_practice_and_moves_count(
    db: Database, clock: SettableClock, world: World, delivery: OutboxDelivery
) -> None:
    _limit(db, 3)
    appointments = book_many(db, clock, world, 4)
    cancel(db, clock, world, appointments[0], world.secretary)
    cancel(db, clock, world, appointments[1], world.doctor)
    with db.write() as session:
        do_reschedule_appointment(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            appointment_id=appointments[2],
            new_starts_at=datetime(2026, 4, 6, 8, tzinfo=UTC),
        )
    cancel(db, clock, world, appointments[3], world.doctor)
    with db.read() as session:
        [pause] = pauses(session, practice_id=world.practice_id)
        held = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "held")).all()
    # No one account passed the limit: the practice did, and its pause holds everyone's.
    assert pause.principal_account_id is None
    assert [row.caused_by for row in held] == [world.doctor.account_id]


def _enqueue(
    db: Database,
    clock: SettableClock,
    *,
    practice_id: UUID,
    by: UUID | None,
    approved: bool = False,
    count: int = 1,
) -> list[str]:
    statuses = []
    for _ in range(count):
        with db.write() as session:
            message_id = enqueue(
                session,
                at=clock.now(),
                practice_id=practice_id,
                template=Template.APPOINTMENT_CANCELLED,
                patient_id=uuid.uuid4(),
                caused_by=by,
                approved=approved,
            )
            session.flush()
            row = session.get(OutboxMessage, (practice_id, message_id))
            assert row is not None
            statuses.append(row.status)
    return statuses


def test_approved_messages_never_trip_nor_wait(db: Database, clock: SettableClock) -> None:
    _limit(db, 3)
    practice, admin = uuid.uuid4(), uuid.uuid4()
    assert _enqueue(db, clock, practice_id=practice, by=admin, approved=True, count=10) == (
        ["pending"] * 10
    )
    assert _enqueue(db, clock, practice_id=practice, by=admin, count=4) == (
        ["pending"] * 3 + ["held"]
    )
    # While the pause is open, an approved absence still goes.
    assert _enqueue(db, clock, practice_id=practice, by=admin, approved=True) == ["pending"]
    # Confirmations are not counted either.
    with db.write() as session:
        enqueue(
            session,
            at=clock.now(),
            practice_id=practice,
            template=Template.APPOINTMENT_CONFIRMED,
            patient_id=uuid.uuid4(),
            caused_by=admin,
        )
    with db.read() as session:
        statuses = session.scalars(
            select(OutboxMessage.status).where(
                OutboxMessage.template == Template.APPOINTMENT_CONFIRMED.value
            )
        ).all()
    assert statuses == ["pending"]


def test_one_account_across_practices_trips_for_itself_and_others_are_unaffected(
    db: Database, clock: SettableClock
) -> None:
    _limit(db, 3)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    busy, other = uuid.uuid4(), uuid.uuid4()
    assert _enqueue(db, clock, practice_id=first, by=busy, count=2) == ["pending"] * 2
    # Its third and fourth change elsewhere: the account passed the limit, not the practice.
    assert _enqueue(db, clock, practice_id=second, by=busy, count=2) == ["pending", "held"]
    with db.read() as session:
        [pause] = session.scalars(select(OutboxPause)).all()
    assert (pause.practice_id, pause.principal_account_id) == (second, busy)
    # Another account in that practice still sends (until the practice itself passes), and
    # another practice is untouched; the system's changes count for the practice only.
    assert _enqueue(db, clock, practice_id=second, by=other) == ["pending"]
    assert _enqueue(db, clock, practice_id=third, by=None, count=3) == ["pending"] * 3
    assert _enqueue(db, clock, practice_id=third, by=None) == ["held"]
    # Out of the window, the busy account starts afresh in the first practice.
    clock.advance(timedelta(minutes=11))
    assert _enqueue(db, clock, practice_id=first, by=busy) == ["pending"]
    # ... but its open pause in the second practice still holds its messages there.
    assert _enqueue(db, clock, practice_id=second, by=busy) == ["held"]


def test_only_the_practice_s_admins_decide(
    db: Database, clock: SettableClock, world: World
) -> None:
    _limit(db, 1)
    for appointment_id in book_many(db, clock, world, 2):
        cancel(db, clock, world, appointment_id, world.secretary)
    with db.read() as session:
        [pause] = pauses(session, practice_id=world.practice_id)
    for person in (world.secretary, world.doctor):
        with pytest.raises(Forbidden), db.write() as session:
            do_release_pause(
                session,
                now=clock.now(),
                principal=person.principal(db),
                practice_id=world.practice_id,
                pause_id=pause.pause_id,
            )
    # Another practice's admin (here, a stranger to it), or a pause of another practice: 404.
    with pytest.raises(NotFound), db.write() as session:
        do_release_pause(
            session,
            now=clock.now(),
            principal=world.stranger.principal(db),
            practice_id=world.practice_id,
            pause_id=pause.pause_id,
        )
    with pytest.raises(NotFound), db.write() as session:
        do_release_pause(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            pause_id=uuid.uuid4(),
        )


def test_the_api_lists_releases_and_discards(
    db: Database, clock: SettableClock, world: World
) -> None:
    settings = Settings(
        run_refresher=False,
        secret_key=SecretStr("x" * 40),
        kdf_cost=KdfCost.TEST,
        mass_change_limit=1,
    )
    with TestClient(create_app(settings, database=db, clock=clock)) as http:
        for appointment_id in book_many(db, clock, world, 3):
            cancel(db, clock, world, appointment_id, world.secretary)
        admin = {"Authorization": f"Bearer {world.admin.token}"}
        base = f"/api/v1/practices/{world.practice_id}/outbox/pauses"
        [listed] = http.get(base, headers=admin).json()
        assert (listed["held"], listed["held_cancellations"]) == (2, 2)
        assert listed["principal_account_id"] == str(world.secretary.account_id)
        # The operator sees it too: ids and counts.
        listing = subprocess.run(
            [sys.executable, "-m", "colloque.cli", "outbox", "held"],
            capture_output=True,
            text=True,
            timeout=120,
            env={
                **os.environ,
                "COLLOQUE_DATABASE_URL": db.url.render_as_string(hide_password=False),
            },
            check=True,
        )
        assert f"pause {listed['pause_id']} by account {world.secretary.account_id}" in (
            listing.stdout
        )
        assert "1 open pauses, 2 messages held" in listing.stdout
        secretary = {"Authorization": f"Bearer {world.secretary.token}"}
        refused = http.post(f"{base}/{listed['pause_id']}/release", headers=secretary)
        assert refused.status_code == 403
        released = http.post(f"{base}/{listed['pause_id']}/release", headers=admin)
        assert released.status_code == 200
        assert released.json()["resolved_count"] == 2
        again = http.post(f"{base}/{listed['pause_id']}/discard", headers=admin)
        assert again.status_code == 409
        assert http.get(base, headers=admin).json() == []
        [resolved] = http.get(base, headers=admin, params={"all": "true"}).json()
        assert resolved["status"] == "released"


def test_the_alert_goes_to_every_admin_once_in_their_language(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    _limit(db, 1)
    with db.write() as session:
        account = session.get(Account, world.admin.account_id)
        assert account is not None
        account.language = "en"
    for appointment_id in book_many(db, clock, world, 3):
        cancel(db, clock, world, appointment_id, world.secretary)
    delivery.run_until_idle()
    delivery.run_until_idle()
    [alert] = inbox.to(ADMIN)
    assert alert["Subject"] == "Colloque: messages held for your review"
    payload = alert.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert "2 message(s) are waiting" in payload.decode()
    with db.read() as session:
        kinds = session.scalars(select(AccountMail.kind)).all()
        [pause] = session.scalars(select(OutboxPause)).all()
        appointment_count = len(session.scalars(select(Appointment.appointment_id)).all())
    assert kinds == ["mass_change_held"]
    assert pause.alerted_at is not None
    assert appointment_count == 3


@pytest.mark.postgres
def test_two_changes_tripping_at_once_meet_in_one_pause(
    postgres_db: Database, clock: SettableClock
) -> None:
    """The second trips while the first's pause is not committed: PostgreSQL makes it wait on
    the open-pause index, then it joins the first's pause instead of failing."""
    db = postgres_db
    _limit(db, 1)
    practice = uuid.uuid4()
    assert _enqueue(db, clock, practice_id=practice, by=None) == ["pending"]
    started = threading.Event()
    second: list[str] = []

    def trip_second() -> None:
        started.wait()
        second.extend(_enqueue(db, clock, practice_id=practice, by=None))

    thread = threading.Thread(target=trip_second)
    thread.start()
    with db.write() as session:
        enqueue(
            session,
            at=clock.now(),
            practice_id=practice,
            template=Template.APPOINTMENT_CANCELLED,
            patient_id=uuid.uuid4(),
        )
        session.flush()
        started.set()
        _wait_for_a_lock_wait(db)
    thread.join(timeout=30)
    assert second == ["held"]
    with db.read() as session:
        opened = session.scalars(select(OutboxPause.pause_id)).all()
        held = session.scalars(
            select(OutboxMessage.pause_id).where(OutboxMessage.status == "held")
        ).all()
    assert len(opened) == 1
    assert held == [opened[0], opened[0]]


def _wait_for_a_lock_wait(db: Database) -> None:
    """Until another transaction of this database waits on a lock (the second's insert)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with db.read() as session:
            waiting = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the second change never waited on the first's pause")
