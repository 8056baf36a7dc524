"""The waitlist in the browser against a real server: a patient joins it on the practitioner's
page, for herself and her child (the same list twice is refused plainly); on "My appointments"
the offer the mail links to is shown with its time and hold, declined (it passes to the next person waiting, here a
child of the same account), then accepted with a reason that the browser seals under the held
appointment's id; the appointment is then listed as booked, and its reason opens on the holder's
keys. An offer past its hold says so; an entry is left. Axe finds no serious violation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from colloque.booking.changes import do_cancel_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from tests.browser.conftest import serious_violations
from tests.browser.scene import (
    PATIENT_EMAIL,
    Scene,
    add_relative,
    database_holds,
    open_page,
)
from tests.factories import book
from tests.functional.keys.conftest import PASSWORD

pytestmark = pytest.mark.browser

#: The world's practice's zone (tests/factories.py).
PARIS = ZoneInfo("Europe/Paris")
REASON = "Douleur au genou depuis deux semaines"


def _join(scene: Scene, patient_id: UUID) -> dict[str, Any]:
    """The patient's own client joins the waitlist through the API."""
    with ColloqueClient(scene.url, insecure_allow_weak_cost=True) as client:
        client.log_in(PATIENT_EMAIL, PASSWORD)
        joined: dict[str, Any] = client._request(
            "POST",
            "/api/v1/waitlist",
            json={
                "practice_id": str(scene.world.practice_id),
                "practitioner_id": str(scene.world.practitioner_id),
                "duration_minutes": 20,
                "patient_id": str(patient_id),
                "first_day": date(2026, 3, 1).isoformat(),
                "last_day": date(2026, 3, 31).isoformat(),
            },
        )
    return joined


def _join_on_the_page(page: Page, whom: str, *, expect_joined: bool = True) -> None:
    """The practitioner page's waitlist form, for ``whom``, with its days as they come."""
    form = page.locator(".waitlist-join")
    form.get_by_label("Pour qui").select_option(label=whom)
    form.get_by_label("Type de consultation").select_option(label="Consultation (20 min)")
    expect(form.get_by_label("À partir du")).to_have_value("2026-03-02")
    form.get_by_role("button", name="M'inscrire sur la liste d'attente").click()
    if expect_joined:
        expect(form.get_by_role("status")).to_contain_text("Vous êtes sur la liste d'attente")


def _free_a_time(scene: Scene, clock: SettableClock) -> datetime:
    """Another patient's appointment at the first free time, then the desk cancels it."""
    starts = datetime.fromisoformat(scene.slots()[0]).astimezone(UTC)
    taken = book(scene.db, clock, scene.world, starts)
    with scene.db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=scene.world.secretary.principal(scene.db),
            practice_id=scene.world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    return starts


def _pending(scene: Scene) -> WaitlistOffer:
    with scene.db.read() as session:
        offer = session.scalar(select(WaitlistOffer).where(WaitlistOffer.outcome == "pending"))
    assert offer is not None
    return offer


def _offer_card(page: Page, offer: WaitlistOffer) -> Any:
    return page.locator(f"#offer-{offer.offer_id}")


def test_decline_passes_the_offer_on_and_accepting_books_it_with_a_sealed_reason(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    child = add_relative(scene.db, clock.now(), "Léo", "Genou")
    page = open_page(browser, scene, contexts, scene.practitioner_path)
    _join_on_the_page(page, "Moi-même")
    assert serious_violations(page) == []
    # The same list on the same days again: said plainly, nothing added.
    page.reload()
    _join_on_the_page(page, "Moi-même", expect_joined=False)
    expect(page.locator(".waitlist-join").get_by_role("alert")).to_have_text(
        "Cette personne attend déjà ce praticien sur ces dates."
    )
    clock.advance(timedelta(seconds=1))
    page.reload()
    _join_on_the_page(page, "Léo Genou")
    with scene.db.read() as session:
        waiting = session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.created_at)).all()
    assert [(e.patient_id, e.duration_minutes) for e in waiting] == [
        (scene.patient_id, 20),
        (child, 20),
    ]
    # The days are the practice's, from the server's clock: today and 30 days on.
    assert (waiting[0].first_day, waiting[0].last_day) == (date(2026, 3, 2), date(2026, 4, 1))
    starts = _free_a_time(scene, clock)
    first = _pending(scene)

    page.goto(scene.url + "/me/appointments")
    expect(page.get_by_role("heading", name="Offres de la liste d'attente")).to_be_visible()
    card = _offer_card(page, first)
    expect(card).to_contain_text("Inès Genou")
    expect(card).to_contain_text("Cabinet du Test")
    expect(card).to_contain_text("Réservé pour vous jusqu'au")
    # The practice's time, not the browser's (New York).
    local = starts.astimezone(PARIS)
    expect(card.locator("time")).to_contain_text(local.strftime("%H:%M"))
    expect(page.locator(".waitlist-entry")).to_have_count(2)
    assert serious_violations(page) == []

    card.get_by_role("button", name="Refuser").click()
    expect(page.get_by_role("status")).to_have_text(
        "L'offre est refusée : le créneau passe à la personne suivante."
    )
    second = _pending(scene)
    assert second.offer_id != first.offer_id
    with scene.db.read() as session:
        entry = session.get_one(WaitlistEntry, (scene.world.practice_id, second.entry_id))
        assert entry.patient_id == child
    card = _offer_card(page, second)
    expect(card).to_contain_text("Léo Genou")

    card.get_by_role("button", name="Accepter ce créneau").click()
    # The keys seal the visit type and reason: the page asks for the password first.
    email = card.get_by_label("Adresse e-mail")
    expect(email).to_have_value(PATIENT_EMAIL)
    card.get_by_label("Mot de passe").fill(PASSWORD)
    card.get_by_role("button", name="Déverrouiller").click()
    expect(card.get_by_label("Type de consultation")).to_be_focused()
    card.get_by_label("Motif (facultatif)").fill(REASON)
    assert serious_violations(page) == []
    card.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("status").first).to_have_text(
        "L'offre est acceptée : le rendez-vous est à vous."
    )

    with scene.db.read() as session:
        booked = session.get_one(Appointment, (scene.world.practice_id, second.appointment_id))
        assert booked.status == "booked"
        assert booked.patient_id == child
    assert database_holds(scene.db, REASON) == []
    listed = page.locator(f"#appointment-{second.appointment_id}")
    expect(listed).to_contain_text("Léo Genou")
    expect(listed).to_contain_text("Confirmé")
    expect(page.locator(".offer")).to_have_count(0)

    # The reason was sealed for the held appointment's id: it opens on the holder's keys.
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    slot = page.locator(f"#reason-{second.appointment_id}")
    expect(slot.locator(".reason-text")).to_have_text(REASON)
    expect(slot.locator(".visit-type")).to_have_text("Type de consultation : Consultation")


def test_an_offer_past_its_hold_says_so_and_an_entry_is_left(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    joined = _join(scene, scene.patient_id)
    _free_a_time(scene, clock)
    offer = _pending(scene)
    page = open_page(browser, scene, contexts, "/me/appointments?lang=en")
    card = _offer_card(page, offer)
    expect(card.get_by_role("button", name="Decline")).to_be_visible()

    clock.set(offer.expires_at + timedelta(seconds=1))
    card.get_by_role("button", name="Decline").click()
    expect(card.get_by_role("alert")).to_have_text(
        "This offer has expired: the time is no longer held for you. You are still on the waitlist."
    )

    entry = page.locator(f"#entry-{joined['entry_id']}")
    entry.get_by_role("button", name="Leave the waitlist").click()
    expect(page.get_by_role("status")).to_have_text("You have left the waitlist.")
    expect(page.locator(".waitlist-entry")).to_have_count(0)
    with scene.db.read() as session:
        left = session.get_one(WaitlistEntry, (scene.world.practice_id, UUID(joined["entry_id"])))
        assert left.status == "withdrawn"
