"""The booking scene of the browser tests: a real server on loopback, a practice whose admin made
its (signed) key group with the Python client, and a patient with keys at the real cost whose
browser gets its cookie session from an API login. The fixtures are in conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx2 as httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.models import Account
from colloque.accounts.services import principal_for_account
from colloque.booking.models import Appointment
from colloque.client import ColloqueClient
from colloque.client.encoding import b64, unb64
from colloque.clock import SettableClock
from colloque.crypto import login
from colloque.crypto.groups import create_group
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.keydirectory.services import publish_bindings
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Role
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.factories import World, build_world
from tests.functional.keys.conftest import LOG, PASSWORD, SETTINGS, Keyed, add, keyed
from tests.server import running_server

PATIENT_EMAIL = "ines@booking.example.test"


@dataclass
class Scene:
    url: str
    db: Database
    world: World
    admin: Keyed
    patient_id: UUID
    requests: list[str] = field(default_factory=list)

    def staff(self, person: Keyed | None = None) -> ColloqueClient:
        """A member (the practice's admin by default) on a device of their own, with the Python
        client."""
        person = person or self.admin
        client = ColloqueClient(self.url, insecure_allow_weak_cost=True)
        client.log_in(person.email, PASSWORD)
        client._token = person.token  # MFA-satisfied, as practice actions need
        client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
        return client

    def slots(self) -> list[str]:
        path = (
            f"/api/v1/practices/{self.world.practice_id}/practitioners/"
            f"{self.world.practitioner_id}/slots"
        )
        answer = httpx.get(
            self.url + path,
            params={"visit_type_id": str(self.world.consultation_id), "days": 28},
        )
        answer.raise_for_status()
        return [slot["starts_at"] for slot in answer.json()]

    def booking_path(self, slot: str) -> str:
        return (
            f"/book/{self.world.practice_id}/{self.world.practitioner_id}"
            f"?slot={quote(slot, safe='')}&visit_type={self.world.consultation_id}"
        )

    def appointments(self) -> int:
        with self.db.read() as session:
            return len(session.scalars(select(Appointment.appointment_id)).all())


@contextmanager
def running_scene(db: Database, clock: SettableClock, *, signed: bool = True) -> Iterator[Scene]:
    """The practice's admin makes its key group (signed, as every group is now), unless the test
    asks for ``signed=False``: then the log holds a group key no admin signed, as a practice made
    before signed memberships does until an admin re-keys it."""
    world = build_world(db, clock)
    run_cycle(db, clock, batch=100)
    app = create_app(SETTINGS, database=db, clock=clock)
    with running_server(app) as url:
        admin = keyed(db, clock, "admin")
        add(db, world.practice_id, admin, Role.ADMIN)
        scene = Scene(url, db, world, admin, patient_account(db, clock))
        if signed:
            with scene.staff() as staff:
                staff.practice_keys.create_group(world.practice_id)
        else:
            with db.write() as session:
                publish_bindings(
                    session,
                    bindings=[
                        KeyBinding(
                            SubjectKind.GROUP,
                            world.practice_id,
                            KeyPurpose.ENCRYPTION,
                            1,
                            create_group(world.practice_id, members=[]).group_key.public_key,
                        )
                    ],
                    now=clock.now(),
                    log=LOG,
                )
        yield scene


def patient_account(db: Database, clock: SettableClock) -> UUID:
    # At the real floor cost: the browser refuses weaker Argon2id parameters.
    with db.write() as session:
        account, _token = do_create_demo_login(
            session,
            now=clock.now(),
            email=PATIENT_EMAIL,
            display_name="Inès",
            password=PASSWORD,
            log=LOG,
        )
        return do_add_patient(
            session,
            now=clock.now(),
            principal=_principal(db, account.account_id, session),
            first_name="Inès",
            last_name="Genou",
            birth_date=date(1984, 2, 3),
            relationship=Relationship.SELF,
        ).patient_id


def _principal(db: Database, account_id: UUID, session: Any) -> Any:
    return principal_for_account(session, session.get_one(Account, account_id))


def cookie_login(url: str) -> list[Any]:
    """The patient's cookie session from an API login, as the log in page would get it."""
    with httpx.Client(base_url=url) as http:
        pre = http.post("/api/v1/auth/prelogin", json={"email": PATIENT_EMAIL}).json()
        params = login.KdfParams.from_bytes(unb64(pre["kdf_params"]))
        derived = login.derive_login_keys(PASSWORD, params)
        answer = http.post(
            "/api/v1/auth/login",
            json={
                "email": PATIENT_EMAIL,
                "auth_key": b64(derived.auth_key),
                "session": "cookie",
            },
        )
        answer.raise_for_status()
        return [{"name": c.name, "value": c.value, "url": url} for c in http.cookies.jar]


def new_context(
    browser: Browser, scene: Scene, *, signed_in: bool = True, locale: str = "fr-FR"
) -> BrowserContext:
    context = browser.new_context(locale=locale, timezone_id="America/New_York")
    context.on("request", lambda request: scene.requests.append(request.url))
    if signed_in:
        context.add_cookies(cookie_login(scene.url))
    return context


def open_page(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    path: str,
    *,
    locale: str = "fr-FR",
) -> Page:
    context = new_context(browser, scene, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(scene.url + path)
    return page


def unlock(page: Page) -> None:
    page.get_by_label("Adresse e-mail").fill(PATIENT_EMAIL)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_label("Raison de la visite (facultatif)")).to_be_visible()


def book(page: Page, reason: str) -> None:
    page.get_by_label("Motif de consultation").select_option(label="Consultation (20 min)")
    page.get_by_label("Raison de la visite (facultatif)").fill(reason)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()


WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def serious_violations(page: Page, axe_source: str, within: str = "document") -> list[str]:
    """axe-core's serious and critical violations in ``within`` (a selector, or the document),
    run through the DevTools protocol so that the page's CSP stays on."""
    page.evaluate(axe_source)
    context = "document" if within == "document" else f"document.querySelector({within!r})"
    result = page.evaluate(
        f"tags => axe.run({context}, {{ runOnly: {{ type: 'tag', values: tags }} }})", WCAG
    )
    assert result["passes"], "axe checked nothing: is it loaded?"
    return [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
