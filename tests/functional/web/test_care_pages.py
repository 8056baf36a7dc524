"""My appointments and Relatives through the whole app: a real cookie login, both languages,
no-store, the way to the login page, and the .ics file (no health data, right across a change of
daylight saving time, the same 404 for a bad id as for someone else's appointment)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from colloque.booking.changes import do_cancel_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason, Status
from colloque.patients.services import Relationship, do_add_patient
from colloque.search import availability
from colloque.web import appointments_page, i18n, relatives_page
from colloque.web.i18n import Language
from colloque.web.security import CONTENT_SECURITY_POLICY
from tests.factories import Person, book
from tests.functional.web.conftest import Site
from tests.web_login import cookie_login, make_patient_account, own_patient_id

EMAIL = "lea.martin@example.test"
PARIS = ZoneInfo("Europe/Paris")


def care_pages_keys() -> set[str]:
    """The message ids these pages build from values (``'status.' ~ item.status``) or use in
    Python, for the catalogue test of test_pages.py."""
    keys = {f"status.{status.value}" for status in Status}
    keys |= {f"relationship.{kind.value}" for kind in Relationship}
    keys |= {f"appointments.done.{done}" for done in appointments_page.DONE}
    keys |= {f"relatives.done.{done}" for done in relatives_page.DONE}
    for module in Path(i18n.__file__).parent.glob("*.py"):
        keys |= set(re.findall(r'\bt\("([a-z_.]+)"', module.read_text()))
    return keys


@dataclass
class Patient:
    person: Person
    own_id: UUID
    child_id: UUID


@pytest.fixture
def patient(site: Site) -> Patient:
    person = make_patient_account(site.db, site.clock, EMAIL)
    cookie_login(site.client, EMAIL)
    with site.db.write() as session:
        child = do_add_patient(
            session,
            now=site.clock.now(),
            principal=person.principal(site.db),
            first_name="Noé",
            last_name="Martin",
            birth_date=date(2018, 6, 1),
            relationship=Relationship.CHILD,
        )
        child_id = child.patient_id
    return Patient(person, own_patient_id(site.db, person.account_id), child_id)


def _free(site: Site, day: date) -> datetime:
    with site.db.read() as session:
        slots = availability.list_free_slots(
            session,
            now=site.clock.now(),
            practice_id=site.world.practice_id,
            practitioner_id=site.world.practitioner_id,
            visit_type_id=site.world.consultation_id,
            duration_minutes=None,
            start=day,
            days=7,
        )
    return slots[0].start


def _book(site: Site, patient: Patient, day: date, *, child: bool = False) -> Appointment:
    return book(
        site.db,
        site.clock,
        site.world,
        _free(site, day),
        person=patient.person,
        patient_id=patient.child_id if child else patient.own_id,
    )


@pytest.mark.parametrize("language", list(Language))
def test_both_pages_in_both_languages_never_stored(
    site: Site, patient: Patient, language: Language
) -> None:
    upcoming = _book(site, patient, date(2026, 3, 16))
    for_child = _book(site, patient, date(2026, 3, 23), child=True)
    with site.db.write() as session:
        do_cancel_appointment(
            session,
            now=site.clock.now(),
            principal=patient.person.principal(site.db),
            practice_id=site.world.practice_id,
            appointment_id=for_child.appointment_id,
            reason=CancelReason.NO_LONGER_NEEDED,
        )
    for path in ("/me/appointments", "/me/relatives", "/me/appointments?done=cancelled"):
        response = site.client.get(f"{path}{'&' if '?' in path else '?'}lang={language.value}")
        assert response.status_code == 200, path
        assert f'<html lang="{language.value}">' in response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        for tag in re.findall(r"<script[^>]*>", response.text):
            assert 'type="application/json"' in tag or ("src=" in tag and "integrity=" in tag)
    page = site.client.get(f"/me/appointments?lang={language.value}").text
    assert "Dr Claire Martin" in page
    assert "Cabinet du Test" in page
    assert "Noé Martin" in page  # who it is for
    assert upcoming.starts_at.astimezone(PARIS).strftime("%H:%M") in page
    assert f'id="actions-{upcoming.appointment_id}"' in page
    # The cancelled one is listed, with no action and no calendar link.
    assert f'id="appointment-{for_child.appointment_id}"' in page
    assert f'id="actions-{for_child.appointment_id}"' not in page
    relatives = site.client.get(f"/me/relatives?lang={language.value}").text
    assert f'id="relative-actions-{patient.child_id}"' in relatives
    # Every signed-in page leads to the others; the one shown is marked as the current one.
    assert '<a href="/me/appointments">' in relatives
    assert '<a href="/me/relatives" aria-current="page">' in relatives


def test_the_cut_off_is_explained_and_the_actions_go(site: Site, patient: Patient) -> None:
    soon = _book(site, patient, date(2026, 3, 2))  # today, an hour or two ahead
    assert soon.starts_at - site.clock.now() < timedelta(hours=4)
    page = site.client.get("/me/appointments?lang=en").text
    assert "can no longer be cancelled or moved online" in page
    assert f'id="actions-{soon.appointment_id}"' not in page


@pytest.mark.parametrize("path", ["/me/appointments", "/me/relatives", "/me/appointments/a/b.ics"])
def test_signed_out_goes_to_the_login_page_and_back(site: Site, path: str) -> None:
    response = site.client.get(path + "?lang=en", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}%3Flang%3Den"
    assert response.headers["cache-control"] == "no-store"


def _ics(site: Site, appointment: Appointment) -> str:
    response = site.client.get(
        f"/me/appointments/{appointment.practice_id}/{appointment.appointment_id}.ics"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    return response.text


def test_the_calendar_file_holds_time_practitioner_place_and_nothing_else(
    site: Site, patient: Patient
) -> None:
    # Paris leaves winter time on 29 March 2026: one visit each side of the change.
    before = _book(site, patient, date(2026, 3, 23), child=True)
    after = _book(site, patient, date(2026, 3, 30))
    for appointment, offset in ((before, 1), (after, 2)):
        text = _ics(site, appointment)
        event = Calendar.from_ical(text).walk("VEVENT")[0]
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert start == appointment.starts_at
        assert end == appointment.ends_at
        assert re.search(r"^DTSTART:\d{8}T\d{6}Z\r?$", text, re.MULTILINE)  # UTC, no zone to lose
        assert start.astimezone(PARIS).utcoffset() == timedelta(hours=offset)
        assert str(event["uid"]) == f"{appointment.appointment_id}@testserver"
        assert "Dr Claire Martin" in str(event["summary"])
        assert "12 rue de la Paix" in str(event["location"])
        # No reason, no visit type, no one's name but the practitioner's.
        assert "DESCRIPTION" not in text
        for health_or_person in ("Consultation", "Noé", "Léa", "reason", "motif"):
            assert health_or_person not in text
    # The same appointment gives the same file: a calendar updates its event, never doubles it.
    assert _ics(site, before) == _ics(site, before)


def test_a_bad_id_answers_exactly_as_someone_elses_appointment(
    site: Site, patient: Patient
) -> None:
    theirs = book(
        site.db,
        site.clock,
        site.world,
        _free(site, date(2026, 3, 16)),
        person=site.world.stranger,
        patient_id=site.world.stranger_patient_id,
    )
    practice = site.world.practice_id
    paths = [
        f"/me/appointments/{practice}/{theirs.appointment_id}.ics",
        f"/me/appointments/{practice}/{uuid4()}.ics",
        f"/me/appointments/{uuid4()}/{uuid4()}.ics",
        f"/me/appointments/{practice}/not-an-id.ics",
    ]
    answers = []
    for path in paths:
        response = site.client.get(path)
        answers.append(
            (
                response.status_code,
                response.headers["content-type"],
                response.headers["cache-control"],
                response.text.replace(path, "PATH"),
            )
        )
    assert answers[0][0] == 404
    assert all(answer == answers[0] for answer in answers)
