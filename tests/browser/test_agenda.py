"""The practice agenda in the browser, against a real server: a practitioner signed in with TOTP
unlocks their keys and reads the reason a patient sealed, then moves (keyboard only), cancels and
marks a no-show from the agenda; two members changing one appointment: the second is told it
changed and sees it reloaded; axe on the day, week, several-practitioner and list views, in
French and English.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from colloque.accounts import throttling
from colloque.accounts.sessions import SESSION_COOKIE, hash_token
from colloque.booking.models import Appointment
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.principal import Role, credential_id
from colloque.scheduling.services import do_add_practitioner
from colloque.scheduling.specialties import Specialty
from tests.browser.conftest import serious_violations
from tests.browser.scene import (
    PATIENT_EMAIL,
    Member,
    Scene,
    make_member,
    operator_swaps_reason,
    phone_booking,
)
from tests.factories import register_at_practice
from tests.functional.keys.conftest import LOG, PASSWORD

pytestmark = pytest.mark.browser

REASON = "Douleur au genou depuis la randonnée — 膝"
BY_PHONE = "Renouvellement, demandé au téléphone"
FORGED = "FORGED by the operator"
PARIS = ZoneInfo("Europe/Paris")
CODE_LABEL = "Code à 6 chiffres ou code de secours"


def _agenda_path(scene: Scene) -> str:
    return f"/practice/{scene.world.practice_id}/agenda"


def _book_online(scene: Scene, starts_at: str, reason: str) -> dict[str, Any]:
    """Inès books with her own Python client: the reason sealed on her device."""
    with ColloqueClient(scene.url, insecure_allow_weak_cost=True) as patient:
        patient.log_in(PATIENT_EMAIL, PASSWORD)
        patient.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
        return patient.book(
            practice_id=scene.world.practice_id,
            practitioner_id=scene.world.practitioner_id,
            patient_id=scene.patient_id,
            starts_at=datetime.fromisoformat(starts_at),
            visit_type_id=scene.world.consultation_id,
            duration_minutes=20,
            reason=reason,
        )


def _open_agenda(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    member: Member,
    *,
    locale: str = "fr-FR",
    query: str = "",
) -> Page:
    context = member.sign_in(scene, browser, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(scene.url + _agenda_path(scene) + query)
    return page


def _go_to(page: Page, clock: SettableClock, day: date) -> None:
    """Next day with the keyboard ("N"), from today in the practice, until ``day``."""
    today = clock.now().astimezone(PARIS).date()
    page.locator("body").focus()
    for _ in range((day - today).days):
        page.keyboard.press("n")


def _unlock(page: Page, member: Member) -> None:
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    page.get_by_label(CODE_LABEL).fill(member.authenticator.code())
    page.get_by_role("button", name="Déverrouiller").click()


def _button(page: Page, appointment: dict[str, Any]) -> Any:
    return page.locator(f"button[data-appointment='{appointment['appointment_id']}']")


def _starts_at(scene: Scene, appointment: dict[str, Any]) -> datetime:
    with scene.staff() as staff:
        read = staff._get(
            f"/api/v1/practices/{scene.world.practice_id}/appointments/"
            f"{appointment['appointment_id']}"
        )
    return datetime.fromisoformat(read["starts_at"])


def _time_passes(
    page: Page, clock: SettableClock, until: datetime, appointment: dict[str, Any]
) -> None:
    """The server's clock past ``until``, in steps shorter than a member's idle timeout (30
    minutes), the agenda read again after each, as a member at work keeps their session."""
    while clock.now() <= until:
        clock.advance(timedelta(minutes=25))
        page.reload()
        expect(_button(page, appointment)).to_be_visible()


def _fresh_slot_same_day(scene: Scene, day: date, taken: set[str]) -> str:
    return next(
        slot
        for slot in scene.slots()
        if datetime.fromisoformat(slot).astimezone(PARIS).date() == day and slot not in taken
    )


def test_a_practitioner_reads_the_reason_then_moves_cancels_and_marks_from_the_agenda(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    first = scene.slots()[0]
    online = _book_online(scene, first, REASON)
    day = datetime.fromisoformat(first).astimezone(PARIS).date()
    with scene.staff() as admin:
        phoned = phone_booking(scene, admin, BY_PHONE, _fresh_slot_same_day(scene, day, {first}))
        # One more, whose reason an account of the operator's then signs and swaps in.
        forged = phone_booking(
            scene, admin, "vrai", _fresh_slot_same_day(scene, day, {first, phoned["starts_at"]})
        )
    operator_swaps_reason(scene, forged, clock, FORGED)

    page = _open_agenda(browser, scene, contexts, doctor)
    _go_to(page, clock, day)
    # Before the keys are unlocked, the reason is said to be sealed; the page holds no plaintext.
    expect(_button(page, online)).to_have_accessible_name(
        re.compile(
            r"^\d\d:\d\d\u2013\d\d:\d\d, Inès Genou, motif chiffré, confirmé, en ligne, Dr Claire Martin$"
        )
    )
    assert REASON not in page.content()
    _unlock(page, doctor)
    expect(page.get_by_role("status")).to_have_text("2 motifs déchiffrés.")
    # The one the operator swapped is refused in the same batch, and nothing of it shown.
    page.get_by_role("radio", name="Liste").check()
    row = page.get_by_role("row").filter(has=page.get_by_role("button", name=re.compile(".")))
    expect(row.filter(has_text="Motif refusé : son auteur n'a pas pu être vérifié.")).to_have_count(
        1
    )
    expect(page.locator("body")).not_to_contain_text(FORGED)
    expect(page.locator("body")).not_to_contain_text("vrai")
    page.get_by_role("radio", name="Jour").check()
    expect(_button(page, online)).to_have_accessible_name(
        re.compile(r"Inès Genou, Consultation, confirmé, en ligne")
    )
    expect(_button(page, phoned)).to_have_accessible_name(
        re.compile(r"Inès Genou, Consultation, confirmé, téléphone ou accueil")
    )
    _button(page, online).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".reason")).to_have_text(REASON)
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]

    # Cancel with a reason.
    dialog.get_by_role("button", name="Annuler le rendez-vous").click()
    dialog.get_by_label("Raison de l'annulation").select_option("practitioner_unavailable")
    dialog.get_by_role("button", name="Confirmer l'annulation").click()
    expect(page.get_by_role("status")).to_have_text("Rendez-vous annulé.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(_button(page, online)).to_have_count(0)  # the grid shows what occupies time

    # Move with the keyboard only: the button focused, Enter, "Déplacer", the new time, Enter.
    target = _fresh_slot_same_day(scene, day, {phoned["starts_at"]})
    _button(page, phoned).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Déplacer", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Date")).to_be_focused()
    # A date field takes a Tab per part (day, month, year) before the next field.
    time_field = page.get_by_label("Heure de début")
    for _ in range(4):
        page.keyboard.press("Tab")
        if time_field.evaluate("field => field === document.activeElement"):
            break
    expect(time_field).to_be_focused()
    time_field.fill(datetime.fromisoformat(target).astimezone(PARIS).strftime("%H:%M"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Rendez-vous déplacé.")
    assert _starts_at(scene, phoned) == datetime.fromisoformat(target)
    # Focus goes back to the appointment's button.
    expect(_button(page, phoned)).to_be_focused()

    # Once it has started, the patient did not come: marked no-show.
    _time_passes(page, clock, datetime.fromisoformat(target), phoned)
    _button(page, phoned).click()
    page.get_by_role("dialog").get_by_role("button", name="Marquer absent").click()
    expect(page.get_by_role("status")).to_have_text("Rendez-vous marqué absent.")
    expect(_button(page, phoned)).to_have_accessible_name(re.compile(", absent, "))


def test_two_members_change_one_appointment_and_the_second_is_told(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    doctor = make_member(scene, clock, "docteur", Role.PRACTITIONER)
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    first = scene.slots()[0]
    day = datetime.fromisoformat(first).astimezone(PARIS).date()
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        phoned = phone_booking(scene, admin, BY_PHONE, first)

    pages = [_open_agenda(browser, scene, contexts, who) for who in (doctor, secretary)]
    for page in pages:
        _go_to(page, clock, day)
        _button(page, phoned).click()
    doctor_page, secretary_page = pages
    # The secretary cancels first.
    dialog = secretary_page.get_by_role("dialog")
    dialog.get_by_role("button", name="Annuler le rendez-vous").click()
    dialog.get_by_role("button", name="Confirmer l'annulation").click()
    expect(secretary_page.get_by_role("status")).to_have_text("Rendez-vous annulé.")

    # The doctor, whose screen still shows it booked, moves it: refused, said, reloaded.
    dialog = doctor_page.get_by_role("dialog")
    dialog.get_by_role("button", name="Déplacer", exact=True).click()
    target = datetime.fromisoformat(first) + timedelta(hours=1)
    dialog.get_by_label("Heure de début").fill(target.astimezone(PARIS).strftime("%H:%M"))
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Ce rendez-vous a été modifié par quelqu'un d'autre entre-temps. Il a été rechargé :"
        " vérifiez-le, puis recommencez si besoin."
    )
    expect(dialog).to_contain_text("annulé par le cabinet")
    expect(dialog.get_by_role("button", name="Déplacer", exact=True)).to_have_count(0)
    assert _starts_at(scene, phoned) == datetime.fromisoformat(first)
    found = serious_violations(doctor_page)
    assert not found, [(v["id"], v["help"]) for v in found]


@pytest.mark.parametrize(
    ("locale", "query", "labels"),
    [
        ("fr-FR", "", {"week": "Semaine", "list": "Liste", "help": "Raccourcis clavier"}),
        ("en-GB", "?lang=en", {"week": "Week", "list": "List", "help": "Keyboard shortcuts"}),
    ],
)
def test_the_agenda_views_have_no_serious_accessibility_violation(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    locale: str,
    query: str,
    labels: dict[str, str],
) -> None:
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    with scene.db.write() as session:
        for index in range(5):
            do_add_practitioner(
                session,
                now=clock.now(),
                principal=scene.admin.principal(scene.db),
                practice_id=scene.world.practice_id,
                first_name=f"Prénom{index}",
                last_name=f"Nom{index}",
                title="Dr",
                specialty=Specialty.GENERAL_PRACTICE,
            )
    first = scene.slots()[0]
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        phone_booking(scene, admin, BY_PHONE, first)
    page = _open_agenda(browser, scene, contexts, secretary, locale=locale, query=query)
    _go_to(page, clock, datetime.fromisoformat(first).astimezone(PARIS).date())
    # Six practitioners side by side, each a labelled column.
    expect(page.locator("section.column")).to_have_count(6)
    for view in ("day", "week", "list"):
        if view != "day":
            page.get_by_role("radio", name=labels[view]).check()
        if view == "week":
            expect(page.locator("section.column")).to_have_count(7)
        if view == "list":
            # The appointments' table (the page's other table is who can open what).
            expect(page.locator(".list-view").get_by_role("table")).to_be_visible()
        found = serious_violations(page)
        assert not found, (view, [(v["id"], v["help"]) for v in found])
    page.locator("body").focus()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name=labels["help"])).to_be_visible()
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]


def test_a_move_across_the_change_to_summer_time_lands_on_the_practice_clock(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    """From a winter Monday (UTC+1) to the Monday after Paris moves to summer time (UTC+2): the
    dialog's 09:00 is 09:00 on the practice's clock, 07:00 UTC, whatever the browser's own zone
    (New York, which changes on another date)."""
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    first = scene.slots()[0]
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        phoned = phone_booking(scene, admin, BY_PHONE, first)
    page = _open_agenda(browser, scene, contexts, secretary)
    _go_to(page, clock, datetime.fromisoformat(first).astimezone(PARIS).date())
    _button(page, phoned).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Déplacer", exact=True).click()
    dialog.get_by_label("Date").fill("2026-03-30")
    dialog.get_by_label("Heure de début").fill("09:00")
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    expect(page.get_by_role("status")).to_have_text("Rendez-vous déplacé.")
    assert _starts_at(scene, phoned) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # Four weeks on, in the week view, it shows at 09:00.
    page.get_by_role("radio", name="Semaine").check()
    for _ in range(4):
        page.keyboard.press("n")
    expect(_button(page, phoned)).to_have_accessible_name(re.compile(r"^09:00\u201309:20, "))


def test_a_move_outside_the_opening_hours_needs_the_members_word_and_is_recorded(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    """Lunch time is closed: the move is refused with the rule's message, then goes through once
    the member ticks the extra appointment box, and the server records it as such."""
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    first = scene.slots()[0]
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        phoned = phone_booking(scene, admin, BY_PHONE, first)
    day = datetime.fromisoformat(first).astimezone(PARIS).date()
    page = _open_agenda(browser, scene, contexts, secretary)
    _go_to(page, clock, day)
    _button(page, phoned).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Déplacer", exact=True).click()
    dialog.get_by_label("Heure de début").fill("13:00")
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    assert _starts_at(scene, phoned) == datetime.fromisoformat(first)
    dialog.get_by_role("button", name="Déplacer", exact=True).click()
    dialog.get_by_label("Heure de début").fill("13:00")
    dialog.get_by_label(re.compile("En dehors des heures d'ouverture")).check()
    dialog.get_by_role("button", name="Déplacer le rendez-vous").click()
    expect(page.get_by_role("status")).to_have_text("Rendez-vous déplacé.")
    lunch = datetime.combine(day, datetime.min.time(), PARIS).replace(hour=13)
    assert _starts_at(scene, phoned) == lunch
    with scene.db.read() as session:
        moved = session.get_one(
            Appointment, (scene.world.practice_id, UUID(phoned["appointment_id"]))
        )
        assert moved.outside_hours


def test_the_agenda_shows_another_members_change_by_itself(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    """Polling with the window's ETag: empty 304s while nothing changes, then the change another
    member made shows without a reload."""
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    first = scene.slots()[0]
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        phoned = phone_booking(scene, admin, BY_PHONE, first)
    page = _open_agenda(browser, scene, contexts, secretary)
    _go_to(page, clock, datetime.fromisoformat(first).astimezone(PARIS).date())
    expect(_button(page, phoned)).to_be_visible()
    # The next poll of this window: nothing changed, an empty 304.
    with page.expect_response(
        lambda response: "/agenda?" in response.url and response.status == 304, timeout=15_000
    ):
        pass
    with scene.staff() as admin:
        admin._request(
            "POST",
            f"/api/v1/practices/{scene.world.practice_id}/appointments/"
            f"{phoned['appointment_id']}/cancel",
            json={"reason": "practice_closed"},
        )
    expect(_button(page, phoned)).to_have_count(0, timeout=15_000)
    page.get_by_role("radio", name="Liste").check()
    expect(page.get_by_role("row").filter(has_text="annulé par le cabinet")).to_have_count(1)


def test_past_twenty_changes_the_agenda_asks_to_confirm_then_goes_on(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    secretary = make_member(scene, clock, "accueil", Role.SECRETARY)
    first = scene.slots()[0]
    day = datetime.fromisoformat(first).astimezone(PARIS).date()
    register_at_practice(scene.db, clock, scene.world, scene.patient_id)
    with scene.staff() as admin:
        phoned = phone_booking(scene, admin, BY_PHONE, first)
    page = _open_agenda(browser, scene, contexts, secretary)
    _go_to(page, clock, day)
    # This session has just cancelled or moved 20 appointments (its counter says so).
    cookie = next(c for c in page.context.cookies() if c.get("name") == SESSION_COOKIE)
    credential = credential_id(hash_token(cookie.get("value", "")))
    with scene.db.write() as session:
        row = throttling.row_for_update(session, f"changes:{credential}", clock.now())
        row.count = 20

    _button(page, phoned).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Annuler le rendez-vous").click()
    dialog.get_by_role("button", name="Confirmer l'annulation").click()
    expect(dialog.get_by_role("heading", name="Confirmer ces changements")).to_be_visible()
    expect(dialog).to_contain_text("Vous avez annulé ou déplacé 20 rendez-vous")
    expect(dialog.get_by_label("Mot de passe")).to_be_focused()
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    dialog.get_by_label("Mot de passe").fill(PASSWORD)
    dialog.get_by_label("Code de double authentification").fill(secretary.authenticator.code())
    dialog.get_by_role("button", name="Confirmer et continuer").click()
    # Confirmed: the same cancellation goes through.
    expect(page.get_by_role("status")).to_have_text("Rendez-vous annulé.")
    expect(_button(page, phoned)).to_have_count(0)
