"""A practice set up from the browser, on a live server, in both languages: a person signs up
(or, in English, signs in), creates a practice whose city comes from the bundled list of French
places, is led to set up the second factor (QR code, the secret as text, a code, the recovery
codes shown once), then adds a practitioner, a visit type and weekly hours with the settings
components and goes on towards the members page. The practice then shows in public search with
the place's coordinates and time zone; in Martinique (no summer time, four hours behind UTC) its
first slot is at 09:00 there. axe-core finds no serious violation at any step, and the page
never loads anything from another origin (the map is a link to a new tab)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx2
import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from colloque.accounts.demo import do_create_demo_login
from colloque.clock import SettableClock
from colloque.scheduling.models import Practice
from colloque.worker import run_cycle
from tests.browser.conftest import AXE, serious_violations
from tests.browser.scene import Scene
from tests.browser.signup import sign_up
from tests.functional.keys.conftest import LOG, PASSWORD
from tests.web_login import sign_in_browser

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Words:
    locale: str
    create_link: str
    name: str
    address: str
    city: str
    postcode: str
    timezone: str
    create: str
    set_up: str
    totp_title: str
    password: str
    turn_on: str
    qr: str
    code: str
    confirm: str
    go_on: str
    new_practitioner: str
    first_name: str
    last_name: str
    new_visit_type: str
    label: str
    new_opening: str
    save: str
    monday: str
    members: str


FR = Words(
    "fr-FR",
    "Créer un cabinet",
    "Nom du cabinet",
    "Adresse (numéro et rue)",
    "Ville",
    "Code postal",
    "Fuseau horaire",
    "Créer le cabinet",
    "Activer la double authentification",
    "Double authentification (TOTP)",
    "Mot de passe actuel",
    "Activer",
    "QR code à scanner avec votre application d'authentification",
    "Code de l'application d'authentification",
    "Confirmer",
    "Continuer vers le cabinet",
    "Nouveau praticien",
    "Prénom",
    "Nom",
    "Nouveau motif",
    "Libellé",
    "Nouvel horaire",
    "Enregistrer",
    "lundi",
    "Étape suivante : les membres et les clés du cabinet",
)
EN = Words(
    "en-GB",
    "Create a practice",
    "Practice name",
    "Address (number and street)",
    "City",
    "Postcode",
    "Time zone",
    "Create the practice",
    "Turn on two-factor authentication",
    "Two-factor authentication (TOTP)",
    "Current password",
    "Turn on",
    "QR code to scan with your authenticator app",
    "Authenticator app code",
    "Confirm",
    "Continue to the practice",
    "New practitioner",
    "First name",
    "Last name",
    "New visit type",
    "Label",
    "New opening",
    "Save",
    "Monday",
    "Next step: members and the practice's keys",
)


@dataclass(frozen=True)
class Town:
    typed: str
    name: str
    postcode: str
    timezone: str
    latitude: float
    longitude: float


FORT_DE_FRANCE = Town("fort-de-fr", "Fort-de-France", "97200", "America/Martinique", 14.60, -61.07)
LYON = Town("lyon", "Lyon", "69001", "Europe/Paris", 45.75, 4.85)


def _no_serious_violations(page: Page) -> None:
    found = serious_violations(page)
    assert not found, [(v["id"], v["help"]) for v in found]


def _founder_signs_up(browser: Browser, scene: Scene, email: str, words: Words) -> BrowserContext:
    context = scene.new_context(browser, locale=words.locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(scene.url + "/signup?next=/account")
    sign_up(page, scene.inbox, email)
    expect(page).to_have_url(scene.url + "/account")
    page.close()
    return context


def _founder_signs_in(
    browser: Browser, scene: Scene, clock: SettableClock, email: str, words: Words
) -> BrowserContext:
    with scene.db.write() as session:
        do_create_demo_login(
            session, now=clock.now(), email=email, display_name="Ana", password=PASSWORD, log=LOG
        )
    context = scene.new_context(browser, locale=words.locale)
    sign_in_browser(context, scene.url, email)
    return context


def _create_practice(page: Page, scene: Scene, words: Words, town: Town) -> str:
    page.goto(f"{scene.url}/account?lang={words.locale[:2]}")
    page.get_by_role("link", name=words.create_link).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words.create_link)
    _no_serious_violations(page)
    page.get_by_label(words.name).fill("Cabinet du Parc")
    page.get_by_label(words.address).fill("3 rue des Palmiers")
    city = page.get_by_role("combobox", name=words.city)
    city.press_sequentially(town.typed)
    first = page.get_by_role("option").first
    expect(first).to_contain_text(town.name)
    _no_serious_violations(page)
    city.press("ArrowDown")
    expect(first).to_have_attribute("aria-selected", "true")
    city.press("Enter")
    expect(city).to_have_value(town.name)
    expect(page.get_by_label(words.postcode)).to_have_value(town.postcode)
    expect(page.get_by_label(words.timezone)).to_have_value(town.timezone)
    # The map: a link to OpenStreetMap in a new tab, at the place's coordinates.
    map_link = page.get_by_test_id("practice-map")
    expect(map_link).to_have_attribute("target", "_blank")
    expect(map_link).to_have_attribute("rel", "noopener noreferrer")
    href = map_link.get_attribute("href") or ""
    assert href.startswith("https://www.openstreetmap.org/?mlat=")
    position = parse_qs(urlsplit(href).query)
    assert abs(float(position["mlat"][0]) - town.latitude) < 0.05, href
    assert abs(float(position["mlon"][0]) - town.longitude) < 0.05, href
    _no_serious_violations(page)
    page.get_by_role("button", name=words.create).click()
    page.wait_for_url("**/settings?setup=true")
    return page.url.split("/practice/")[1].split("/")[0]


def _set_up_totp(page: Page, clock: SettableClock, words: Words) -> None:
    """The practice page waits for the second factor: its set-up on the account page."""
    expect(page.get_by_role("heading", level=1)).not_to_have_text("")
    _no_serious_violations(page)
    page.get_by_role("link", name=words.set_up).click()
    # The account page puts the second factor first.
    expect(page.locator("#account-island section h2").first).to_have_text(words.totp_title)
    section = page.get_by_role("region", name=words.totp_title)
    section.get_by_label(words.password).fill(PASSWORD)
    section.get_by_role("button", name=words.turn_on, exact=True).click()
    expect(section.get_by_role("img", name=words.qr)).to_be_visible()
    secret = section.get_by_test_id("totp-secret").inner_text().strip()
    _no_serious_violations(page)
    section.get_by_label(words.code).fill(pyotp.TOTP(secret).at(clock.now()))
    section.get_by_role("button", name=words.confirm).click()
    expect(section.locator(".backup-codes li")).to_have_count(10)
    _no_serious_violations(page)
    section.get_by_role("link", name=words.go_on).click()


def _fill_settings(page: Page, words: Words) -> None:
    practitioner = page.get_by_role("form", name=words.new_practitioner)
    practitioner.get_by_label(words.first_name, exact=True).fill("Lucie")
    practitioner.get_by_label(words.last_name, exact=True).fill("Bernard")
    practitioner.get_by_role("button", name=words.save).click()
    visit_type = page.get_by_role("form", name=words.new_visit_type)
    visit_type.get_by_label(words.label, exact=True).fill("Consultation")
    visit_type.get_by_role("button", name=words.save).click()
    expect(page.get_by_role("form", name="Consultation", exact=True)).to_be_visible()
    opening = page.get_by_role("form", name=words.new_opening)
    opening.get_by_role("checkbox", name="Consultation").check()
    opening.get_by_role("button", name=words.save).click()
    expect(page.get_by_role("form", name=f"{words.monday} 09:00\u201312:00")).to_be_visible()
    _no_serious_violations(page)


def _local_slots(scene: Scene, practice_id: str, town: Town) -> list[datetime]:
    """The practice's hit in public search, checked against the place; its slots in its zone."""
    answer = httpx2.get(scene.url + "/api/v1/search", params={"postcode": town.postcode})
    answer.raise_for_status()
    [hit] = [h for h in answer.json()["results"] if h["practice"]["practice_id"] == practice_id]
    practice = hit["practice"]
    assert (practice["city"], practice["postcode"], practice["timezone"]) == (
        town.name,
        town.postcode,
        town.timezone,
    )
    assert abs(practice["latitude"] - town.latitude) < 0.05
    assert abs(practice["longitude"] - town.longitude) < 0.05
    zone = ZoneInfo(town.timezone)
    starts = [hit["earliest_slot"], *(slot["starts_at"] for slot in hit["next_slots"])]
    return [datetime.fromisoformat(start).astimezone(zone) for start in starts]


@pytest.mark.parametrize(
    ("words", "town", "arrive"),
    [(FR, FORT_DE_FRANCE, "sign_up"), (EN, LYON, "sign_in")],
    ids=["fr-martinique", "en-lyon"],
)
def test_a_practice_set_up_from_the_browser(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    clock: SettableClock,
    words: Words,
    town: Town,
    arrive: str,
) -> None:
    email = f"fondatrice-{words.locale}@cabinet.example.test"
    arrivals: dict[str, Callable[[], BrowserContext]] = {
        "sign_up": lambda: _founder_signs_up(browser, scene, email, words),
        "sign_in": lambda: _founder_signs_in(browser, scene, clock, email, words),
    }
    context = arrivals[arrive]()
    contexts.append(context)
    context.add_init_script(path=AXE)
    page = context.new_page()
    page.set_default_timeout(30_000)

    practice_id = _create_practice(page, scene, words, town)
    with scene.db.read() as session:
        practice = session.scalars(select(Practice).where(Practice.name == "Cabinet du Parc")).one()
        assert str(practice.practice_id) == practice_id
        assert (practice.timezone, practice.postcode) == (town.timezone, town.postcode)

    _set_up_totp(page, clock, words)
    page.wait_for_url(f"**/practice/{practice_id}/settings?setup=true")
    _fill_settings(page, words)
    members = page.get_by_role("link", name=words.members)
    expect(members).to_have_attribute("href", f"/practice/{practice_id}/members")

    # The agenda opens too, now that the second factor is set up.
    page.goto(f"{scene.url}/practice/{practice_id}/agenda")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cabinet du Parc")
    _no_serious_violations(page)

    run_cycle(scene.db, clock, batch=100)
    # The opening is 09:00-12:00 on Mondays in the practice's own zone (Martinique: UTC-4 all
    # year, while Paris changes its clocks), whatever the browser's zone (New York here).
    slots = _local_slots(scene, practice_id, town)
    assert slots
    assert all(slot.weekday() == 0 and 9 <= slot.hour < 12 for slot in slots), slots
