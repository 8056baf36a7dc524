"""Waitlist offers are delivered: to the first waiting patient only, with the time, the practice
and until when it is held; a lapsed offer is told to its patient and passes, told, to the next.
An offer closed before its turn to be sent is not sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from uuid import UUID

from sqlalchemy import select

from colloque.booking.changes import do_cancel_appointment
from colloque.booking.rules import CancelReason
from colloque.booking.waitlist.models import WaitlistOffer
from colloque.booking.waitlist.offers import do_decide_offer, lapse_due_offers
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.delivery.outbox import OutboxDelivery
from colloque.notifications.models import OutboxMessage
from colloque.notifications.rendering import reference_code
from colloque.principal import ANONYMOUS
from colloque.storage.engine import Database
from tests.factories import Person, World, book, make_patient, make_person
from tests.smtp import Inbox

# Tuesday 2026-03-03 09:00 in Paris (UTC+1).
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
WENDY = "waiting.wendy@example.test"
SOPHIE = "stranger.sophie@example.test"
HUGO = "holder.hugo@example.test"


def _text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def _mail(inbox: Inbox, address: str) -> list[EmailMessage]:
    """The mail to ``address``, parsed with decoded headers."""
    parsed = []
    for message in inbox.to(address):
        reparsed = message_from_bytes(message.as_bytes(), policy=default)
        assert isinstance(reparsed, EmailMessage)
        parsed.append(reparsed)
    return parsed


def _subjects(inbox: Inbox, address: str) -> list[str]:
    return [str(m["Subject"]) for m in _mail(inbox, address)]


def _join(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    patient_id: UUID,
    last_day: date = date(2026, 3, 20),
) -> None:
    with db.write() as session:
        do_join_waitlist(
            session,
            now=clock.now(),
            principal=person.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=patient_id,
            first_day=date(2026, 3, 1),
            last_day=last_day,
        )
    clock.advance(timedelta(seconds=1))


def _two_waiting_and_a_freed_time(db: Database, clock: SettableClock, world: World) -> Person:
    """Wendy waits first, Sophie second; Hugo's appointment is cancelled by the practice."""
    taken = book(db, clock, world, TUE_0900)
    wendy = make_person(db, clock, "Waiting Wendy")
    _join(db, clock, world, wendy, make_patient(db, clock, wendy, "Wendy", "Blanc"))
    _join(db, clock, world, world.stranger, world.stranger_patient_id)
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    return wendy


def _pending_offer(db: Database) -> WaitlistOffer:
    with db.read() as session:
        offer = session.scalar(select(WaitlistOffer).where(WaitlistOffer.outcome == "pending"))
    assert offer is not None
    return offer


def test_an_offer_goes_to_the_first_waiting_patient_only(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    _two_waiting_and_a_freed_time(db, clock, world)
    offer = _pending_offer(db)
    delivery.run_until_idle()
    [message] = _mail(inbox, WENDY)
    assert message["Subject"] == "Un créneau vous est proposé : mardi 3 mars 2026 à 09:00"
    text = _text(message)
    assert "Dr Claire Martin" in text
    assert "Cabinet du Test, 12 rue de la Paix, 75002 Paris" in text
    # Held until the hold's expiry (30 minutes from now, 07:00 UTC), in the practice's time zone.
    assert offer.expires_at.astimezone(UTC).strftime("%H:%M") == "07:30"
    assert "réservé jusqu'au lundi 2 mars 2026 à 08:30" in text
    assert "https://colloque.test/me/appointments" in text
    assert "https://colloque.test/me/notifications" in text
    for secret in ("Consultation", "general", "médecine"):
        assert secret not in message.as_string()
    assert inbox.to(SOPHIE) == []
    assert _subjects(inbox, HUGO) == [
        "Rendez-vous confirmé : mardi 3 mars 2026 à 09:00",
        "Rendez-vous annulé : mardi 3 mars 2026 à 09:00",
    ]


def test_a_lapsed_offer_is_told_and_the_next_patient_gets_theirs(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    _two_waiting_and_a_freed_time(db, clock, world)
    delivery.run_until_idle()
    first = _pending_offer(db)
    clock.set(first.expires_at + timedelta(seconds=1))
    with db.write() as session:
        assert lapse_due_offers(session, now=clock.now(), principal=ANONYMOUS) == 1
    delivery.run_until_idle()
    assert _subjects(inbox, WENDY) == [
        "Un créneau vous est proposé : mardi 3 mars 2026 à 09:00",
        "Proposition expirée : mardi 3 mars 2026 à 09:00",
    ]
    assert "Vous restez sur la liste d'attente" in _text(inbox.to(WENDY)[1])
    assert _subjects(inbox, SOPHIE) == ["Un créneau vous est proposé : mardi 3 mars 2026 à 09:00"]
    with db.read() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)).all()
        assert {row.status for row in rows} == {"sent"}
    # Each names its own reference, the one the recipient's inbox lists. The lapse and the next
    # offer are written in one transaction at one instant, so creation time does not order them.
    (sophie_row,) = [row for row in rows if row.recipient_account_id == world.stranger.account_id]
    assert sophie_row.template == "waitlist_offer"
    assert reference_code(sophie_row.message_id) in _text(inbox.to(SOPHIE)[0])


def test_an_offer_closed_before_it_is_sent_is_not_sent(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    wendy = _two_waiting_and_a_freed_time(db, clock, world)
    with db.write() as session:
        do_decide_offer(
            session,
            now=clock.now(),
            principal=wendy.principal(db),
            practice_id=world.practice_id,
            offer_id=_pending_offer(db).offer_id,
            accept=False,
        )
    # Sophie's offer is past its hold by the time the worker runs (it was down), not yet lapsed.
    clock.set(_pending_offer(db).expires_at)
    delivery.run_until_idle()
    assert inbox.to(WENDY) == []
    assert inbox.to(SOPHIE) == []
    with db.read() as session:
        offers = session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "waitlist_offer")
        ).all()
    assert [(row.status, row.last_error, row.recipient_account_id) for row in offers] == [
        ("failed", "offer_closed", None),
        ("failed", "offer_closed", None),
    ]


def test_an_offer_lapsing_after_the_entry_s_last_day_tells_no_waiting(
    db: Database, clock: SettableClock, world: World, inbox: Inbox, delivery: OutboxDelivery
) -> None:
    """The entry is over by the time the lapse is noticed (the upkeep was down): nobody is told
    they are still waiting."""
    taken = book(db, clock, world, TUE_0900)
    wendy = make_person(db, clock, "Waiting Wendy")
    wendy_patient = make_patient(db, clock, wendy, "Wendy", "Blanc")
    _join(db, clock, world, wendy, wendy_patient, last_day=date(2026, 3, 3))
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    clock.set(datetime(2026, 3, 4, 8, 0, tzinfo=UTC))
    with db.write() as session:
        assert lapse_due_offers(session, now=clock.now(), principal=ANONYMOUS) == 1
        templates = session.scalars(select(OutboxMessage.template)).all()
    assert "waitlist_offer_expired" not in templates
    delivery.run_until_idle()
    # The offer itself was never sent in time: its hold had ended.
    assert inbox.to(WENDY) == []
