"""The waitlist section of "My appointments", as the server renders it: the held offer with its
time and hold in the practice's zone, the open entries of the account's patients (nobody else's),
and for the browser the ids and the visit types of the offer's length, never another's."""

from __future__ import annotations

import json
import re
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select

from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind, unpack
from colloque.booking.changes import do_cancel_appointment
from colloque.booking.rules import CancelReason
from colloque.booking.waitlist.models import WaitlistOffer
from colloque.booking.waitlist.services import do_join_waitlist, do_leave_waitlist
from colloque.patients.services import Relationship, do_add_patient
from colloque.search import availability
from tests.factories import Person, book
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account, own_patient_id

PARIS = ZoneInfo("Europe/Paris")


def _join(site: Site, person: Person, patient_id: UUID, minutes: int = 20) -> UUID:
    with site.db.write() as session:
        return do_join_waitlist(
            session,
            now=site.clock.now(),
            principal=person.principal(site.db),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            duration_minutes=minutes,
            patient_id=patient_id,
            first_day=date(2026, 3, 1),
            last_day=date(2026, 3, 31),
        ).entry_id


def _island(page: str) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="appointments-data">(.*?)</script>', page, re.S
    )
    assert found is not None
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


def test_the_offer_and_the_open_entries_are_listed_for_the_holder_only(site: Site) -> None:
    person = make_patient_account(site.db, site.clock, "wl.holder@example.test")
    cookie_login(site.client, "wl.holder@example.test")
    own = own_patient_id(site.db, person.account_id)
    with site.db.write() as session:
        child = do_add_patient(
            session,
            now=site.clock.now(),
            principal=person.principal(site.db),
            first_name="Noé",
            last_name="Martin",
            birth_date=date(2018, 6, 1),
            relationship=Relationship.CHILD,
        ).patient_id
    own_entry = _join(site, person, own)
    child_entry = _join(site, person, child, minutes=15)
    left = _join(site, site.world.stranger, site.world.stranger_patient_id)
    with site.db.write() as session:
        # Someone else's entry is never listed; a left one is over.
        do_leave_waitlist(
            session,
            now=site.clock.now(),
            principal=site.world.stranger.principal(site.db),
            practice_id=site.world.practice_id,
            entry_id=left,
        )
    with site.db.read() as session:
        start = availability.list_free_slots(
            session,
            now=site.clock.now(),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            visit_type_id=site.world.consultation_id,
            duration_minutes=None,
            start=date(2026, 3, 9),
            days=7,
        )[0].start
    taken = book(site.db, site.clock, site.world, start)
    with site.db.write() as session:
        do_cancel_appointment(
            session,
            now=site.clock.now(),
            principal=site.world.secretary.principal(site.db),
            practice_id=site.world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    with site.db.read() as session:
        offer = session.scalars(select(WaitlistOffer)).one()
    answer = site.client.get("/me/appointments?lang=en")
    page = answer.text
    with site.db.read() as session:
        # One event for the page: its appointments and its waitlist together.
        (named,) = session.scalars(
            select(AuditEvent.objects).where(
                AuditEvent.request_id == answer.headers["x-request-id"]
            )
        )
    refs = unpack(named or b"")
    assert refs[ObjectKind.WAITLIST_ENTRY] == {own_entry, child_entry}
    assert refs[ObjectKind.WAITLIST_OFFER] == {offer.offer_id}
    assert offer.appointment_id in refs[ObjectKind.APPOINTMENT]
    assert "Offers from the waitlist" in page
    assert f'id="offer-{offer.offer_id}"' in page
    assert f'id="offer-actions-{offer.offer_id}"' in page
    assert start.astimezone(PARIS).strftime("%H:%M") in page
    assert offer.expires_at.astimezone(PARIS).strftime("%H:%M") in page
    assert "Held for you until" in page
    assert f'id="entry-{own_entry}"' in page
    assert f'id="entry-{child_entry}"' in page
    assert "a 15-minute visit" in page
    assert f'id="entry-{left}"' not in page
    island = _island(page)
    assert island["offers"] == [
        {
            "id": str(offer.offer_id),
            "practiceId": str(site.world.practice_id),
            "appointmentId": str(offer.appointment_id),
            # The practitioner's online types of the offer's length only: 20 minutes.
            "visitTypes": [
                {
                    "id": str(site.world.consultation_id),
                    "label": "Consultation",
                    "durationMinutes": 20,
                    "reminders": True,
                }
            ],
        }
    ]
    assert island["entries"] == [
        {"id": str(own_entry), "practiceId": str(site.world.practice_id)},
        {"id": str(child_entry), "practiceId": str(site.world.practice_id)},
    ]
    french = site.client.get("/me/appointments?lang=fr&done=accepted").text
    assert "Offres de la liste d" in french
    assert "le rendez-vous est à vous" in french
