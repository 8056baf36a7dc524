"""Signed out on a booking page: logging in or signing up inside the page, against a real server.

The forms open in place (each a chunk loaded on demand) and share the page's crypto worker, so the
keys the login or the sign-up unlocked are the ones the booking form seals with: the slot stays,
the password is typed once and the unlock form never shows. The practice then reads the reason
with ``colloque.client``. Without JavaScript, the page keeps its links to the full pages.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect
from sqlalchemy import select

from colloque.accounts.models import Account
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.patients.models import Patient
from tests.browser.conftest import serious_violations
from tests.browser.scene import PATIENT_EMAIL, Scene, turn_on_totp
from tests.browser.signup import sign_up
from tests.functional.keys.conftest import PASSWORD

pytestmark = pytest.mark.browser

NEWCOMER = "camille.inline@example.test"


def _signed_out_on(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    path: str,
    *,
    locale: str = "fr-FR",
) -> Page:
    context = scene.new_context(browser, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(scene.url + path)
    return page


def _auth_requests(scene: Scene) -> list[str]:
    """The requests that would mean a second Argon2id of the password: an unlock logs in again."""
    return [u for u in scene.requests if "/api/v1/auth/prelogin" in u or "/api/v1/auth/login" in u]


def _read_reason(scene: Scene, holder_email: str) -> str:
    """The practice's Python client opens the reason of the holder's one appointment."""
    with scene.db.read() as session:
        appointment_id = session.scalars(
            select(Appointment.appointment_id)
            .join(Patient, Patient.patient_id == Appointment.patient_id)
            .join(Account, Account.account_id == Patient.holder_account_id)
            .where(Account.email == holder_email)
        ).one()
    with scene.staff() as staff:
        opened = staff.read_reason(
            staff._get(f"/api/v1/practices/{scene.world.practice_id}/appointments/{appointment_id}")
        )
    return opened.reason


def test_a_newcomer_signs_up_inside_the_booking_page_and_books_without_typing_the_password_again(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    slot = scene.slots()[0]
    page = _signed_out_on(browser, scene, contexts, scene.booking_path(slot))
    booking = page.locator("#booking")

    # Keyboard only: the button opens the form in place and the focus goes to its heading.
    opener = booking.get_by_role("button", name="Créer un compte")
    opener.focus()
    page.keyboard.press("Enter")
    expect(booking.get_by_role("heading", name="Créer un compte", exact=True)).to_be_focused()
    # Its chunk came with the integrity the server gave, as the page's own script tags do.
    chunk = page.locator('link[rel=modulepreload][href^="/assets/Signup-"]')
    expect(chunk).to_have_attribute("integrity", re.compile("^sha256-"))
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]

    sign_up(page, scene.inbox, NEWCOMER, keyboard=True, within="#booking")

    # Straight to the booking form, the same slot: the keys made at sign-up are still unlocked.
    reason_field = page.get_by_label("Raison de la visite (facultatif)")
    expect(reason_field).to_be_visible()
    expect(page.locator(".summary time")).to_have_attribute("datetime", slot)
    expect(page.get_by_label("Pour qui ?")).to_contain_text("Moi-même")
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    reason_field.fill("Première visite, inscrite en chemin")
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.get_by_role("heading", name="Rendez-vous confirmé")).to_be_focused()

    # The password went through Argon2id once, at sign-up: no unlock, so no login at all.
    expect(page.get_by_role("button", name="Déverrouiller")).to_have_count(0)
    assert _auth_requests(scene) == []
    assert _read_reason(scene, NEWCOMER) == "Première visite, inscrite en chemin"


def test_a_patient_with_totp_logs_in_inside_the_booking_page_in_english_and_books(
    browser: Browser, scene: Scene, contexts: list[BrowserContext], clock: SettableClock
) -> None:
    app = turn_on_totp(scene, clock)
    # The last slot: each code moves the clock on, and the first could become too soon to book.
    slot = scene.slots()[-1]
    page = _signed_out_on(
        browser, scene, contexts, scene.booking_path(slot) + "&lang=en", locale="en-GB"
    )
    booking = page.locator("#booking")
    scene.requests.clear()

    # From sign-up to log in without leaving the page.
    booking.get_by_role("button", name="Sign up").click()
    expect(booking.get_by_role("heading", name="Sign up", exact=True)).to_be_focused()
    booking.get_by_role("button", name="Log in").click()
    expect(booking.get_by_role("heading", name="Log in", exact=True)).to_be_focused()
    page.get_by_label("Email address").fill(PATIENT_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    booking.get_by_role("button", name="Log in").click()

    code_field = page.get_by_label("6-digit code or backup code")
    expect(code_field).to_be_focused()
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]
    code_field.fill(app.code())
    page.keyboard.press("Enter")

    reason_field = page.get_by_label("Reason for the visit (optional)")
    expect(reason_field).to_be_visible()
    expect(page.locator(".summary time")).to_have_attribute("datetime", slot)
    reason_field.fill("Ankle check after a sprain")
    page.get_by_role("button", name="Confirm the appointment").click()
    expect(page.get_by_role("heading", name="Appointment confirmed")).to_be_focused()

    # One password, one Argon2id: one prelogin, then the login asked for the code and got it.
    expect(page.get_by_role("button", name="Unlock")).to_have_count(0)
    auth = _auth_requests(scene)
    assert [u.rsplit("/", 1)[-1] for u in auth] == ["prelogin", "login", "login"]
    assert _read_reason(scene, PATIENT_EMAIL) == "Ankle check after a sprain"


def test_without_javascript_the_booking_page_links_to_the_full_pages(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    path = scene.booking_path(scene.slots()[0])
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    contexts.append(context)
    page = context.new_page()
    page.goto(scene.url + path)
    for name, route in (("Se connecter", "/login"), ("Créer un compte", "/signup")):
        link = page.locator("#booking").get_by_role("link", name=name)
        expect(link).to_have_attribute("href", f"{route}?next={quote(path, safe='')}")


def test_a_form_chunk_changed_on_the_server_is_refused_and_its_full_page_opens_instead(
    browser: Browser, scene: Scene, contexts: list[BrowserContext]
) -> None:
    path = scene.booking_path(scene.slots()[0])
    page = _signed_out_on(browser, scene, contexts, path)

    def changed(route: Route) -> None:
        # Valid JavaScript, served with the right type: only its integrity can refuse it.
        body = "export default function Login() {}\n"
        route.fulfill(status=200, content_type="text/javascript", body=body)

    page.route(re.compile(r".*/assets/Login-[^/]+\.js$"), changed)
    page.locator("#booking").get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{scene.url}/login?next={quote(path, safe='')}")
