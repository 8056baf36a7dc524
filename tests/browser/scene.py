"""A practice that seals: the world's practice with an admin whose Python client made its key
group (signed memberships, as every group is now), a patient at the real floor cost (the browser
refuses weaker Argon2id parameters), the server mailing to a real SMTP inbox. Shared by the
booking tests and the full journey."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid4

import httpx2
import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import inspect, select, text

from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.models import Account
from colloque.accounts.services import do_add_member, principal_for_account
from colloque.booking.models import Appointment
from colloque.client import ColloqueClient
from colloque.client.appointments import sealed_booking_fields
from colloque.clock import SettableClock
from colloque.config import KdfCost, MailBackend, Settings
from colloque.crypto import statements
from colloque.crypto.groups import create_group
from colloque.crypto.items import seal_visit_reason
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.keydirectory.models import KeyDirectoryLeaf
from colloque.keydirectory.services import publish_bindings
from colloque.patients.models import Patient
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Role
from colloque.records.models import ItemKeyWrap, SealedItemRow
from colloque.storage.engine import Database
from colloque.web.app import create_app
from colloque.worker import run_cycle
from tests.factories import World, build_world
from tests.functional.keys.conftest import LOG, PASSWORD, SETTINGS, Keyed, add, keyed
from tests.server import running_server
from tests.smtp import Inbox
from tests.web_login import sign_in_browser

PATIENT_EMAIL = "ines@booking.example.test"


def scene_settings(inbox: Inbox) -> Settings:
    """The key tests' settings, but sign-ups at the floor cost (the browser makes their keys and
    refuses the test cost) and mail to ``inbox``."""
    return SETTINGS.model_copy(
        update={
            "kdf_cost": KdfCost.MINIMUM,
            "mail_backend": MailBackend.SMTP,
            "smtp_host": "127.0.0.1",
            "smtp_port": inbox.port,
        }
    )


@dataclass
class Scene:
    url: str
    db: Database
    world: World
    admin: Keyed
    patient_id: UUID
    inbox: Inbox
    requests: list[str] = field(default_factory=list)

    @property
    def practitioner_path(self) -> str:
        return f"/practitioners/{self.world.practice_id}/{self.world.practitioner_id}"

    def new_context(
        self,
        browser: Browser,
        *,
        signed_in_as: str | None = None,
        locale: str = "fr-FR",
        totp: str | None = None,
    ) -> BrowserContext:
        """A browser (French unless ``locale``) in another zone than the practice's (the pages
        must show the practice's times), its requests recorded, signed in with a cookie login if
        asked (``totp``: the code of an account with TOTP on, as a practice member has)."""
        context = browser.new_context(locale=locale, timezone_id="America/New_York")
        context.on("request", lambda request: self.requests.append(request.url))
        if signed_in_as is not None:
            sign_in_browser(context, self.url, signed_in_as, PASSWORD, totp=totp)
        return context

    def staff(self, person: Keyed | None = None, *, totp: str | None = None) -> ColloqueClient:
        """A member (the practice's admin by default) on a device of their own, with the Python
        client; ``totp``: the code of a member with TOTP on, whose login then satisfies it."""
        person = person or self.admin
        client = ColloqueClient(self.url, insecure_allow_weak_cost=True)
        client.log_in(person.email, PASSWORD, totp=totp)
        if totp is None:
            client._token = person.token  # MFA-satisfied, as practice actions need
        client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
        return client

    def slots(self) -> list[str]:
        path = (
            f"/api/v1/practices/{self.world.practice_id}/practitioners/"
            f"{self.world.practitioner_id}/slots"
        )
        answer = httpx2.get(
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


def make_patient(db: Database, now: datetime) -> UUID:
    """Inès, who holds her own patient record; at the real floor cost."""
    with db.write() as session:
        account, _token = do_create_demo_login(
            session,
            now=now,
            email=PATIENT_EMAIL,
            display_name="Inès",
            password=PASSWORD,
            log=LOG,
        )
        principal = principal_for_account(session, session.get_one(Account, account.account_id))
        return do_add_patient(
            session,
            now=now,
            principal=principal,
            first_name="Inès",
            last_name="Genou",
            birth_date=date(1984, 2, 3),
            relationship=Relationship.SELF,
        ).patient_id


def add_relative(db: Database, now: datetime, first_name: str, last_name: str) -> UUID:
    """A child of Inès's, whom she books for."""
    with db.write() as session:
        account = session.scalars(select(Account).where(Account.email == PATIENT_EMAIL)).one()
        return do_add_patient(
            session,
            now=now,
            principal=principal_for_account(session, account),
            first_name=first_name,
            last_name=last_name,
            birth_date=date(2015, 6, 1),
            relationship=Relationship.CHILD,
        ).patient_id


def database_holds(db: Database, needle: str | bytes) -> list[str]:
    """``table.column`` once for every row of every table whose text or bytes contain
    ``needle``: every table the database has, so that a new one is searched too."""
    found = []
    raw = needle if isinstance(needle, bytes) else needle.encode()
    word = needle if isinstance(needle, str) else None
    with db.read() as session:
        for table in inspect(session.get_bind()).get_table_names():
            for row in session.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    if (word is not None and isinstance(value, str) and word in value) or (
                        isinstance(value, bytes) and raw in value
                    ):
                        found.append(f"{table}.{column}")
    return found


@contextmanager
def open_scene(
    db: Database,
    clock: SettableClock,
    inbox: Inbox,
    *,
    signed: bool = True,
    with_group: bool = True,
) -> Iterator[Scene]:
    """The world, its search cache, the server; then the practice's admin makes its key group
    (signed, as every group is now), unless ``signed`` is false: then the log holds a group key
    no admin signed, as a practice made before signed memberships does until an admin re-keys
    it; or ``with_group`` is false: then the practice has no key group at all."""
    world = build_world(db, clock)
    run_cycle(db, clock, batch=100)
    app = create_app(scene_settings(inbox), database=db, clock=clock)
    with running_server(app) as url:
        admin = keyed(db, clock, "admin")
        add(db, world.practice_id, admin, Role.ADMIN)
        scene = Scene(url, db, world, admin, make_patient(db, clock.now()), inbox)
        if not with_group:
            pass
        elif signed:
            with scene.staff() as staff:
                staff.practice_keys.create_group(world.practice_id)
        else:
            unsigned = create_group(world.practice_id, members=[]).group_key.public_key
            binding = KeyBinding(
                SubjectKind.GROUP, world.practice_id, KeyPurpose.ENCRYPTION, 1, unsigned
            )
            with db.write() as session:
                publish_bindings(session, bindings=[binding], now=clock.now(), log=LOG)
        yield scene


def open_page(
    browser: Browser,
    scene: Scene,
    contexts: list[BrowserContext],
    path: str,
    *,
    locale: str = "fr-FR",
) -> Page:
    """The signed-in patient's browser on ``path``; the context is closed after the test."""
    context = scene.new_context(browser, signed_in_as=PATIENT_EMAIL, locale=locale)
    contexts.append(context)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(scene.url + path)
    return page


def unlock(page: Page) -> None:
    """The booking page's unlock form, then the reason field it reveals. The page names the
    signed-in account: only the password is typed."""
    email = page.get_by_label("Adresse e-mail")
    expect(email).to_have_value(PATIENT_EMAIL)
    expect(email).not_to_be_editable()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Déverrouiller").click()
    expect(page.get_by_label("Raison de la visite (facultatif)")).to_be_visible()


def book(page: Page, reason: str) -> None:
    page.get_by_label("Motif de consultation").select_option(label="Consultation (20 min)")
    page.get_by_label("Raison de la visite (facultatif)").fill(reason)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()


def attest_a_secretary(scene: Scene, clock: SettableClock) -> None:
    """A secretary joins the practice and its admin attests them: a chain of two links, so that
    its last one is not the genesis (the admin attesting themselves, which has one form only)."""
    secretary = keyed(scene.db, clock, "secretary")
    add(scene.db, scene.world.practice_id, secretary, Role.SECRETARY)
    with scene.staff() as staff:
        staff.practice_keys.attest_member(
            scene.world.practice_id, secretary.account_id, statements.Role.SECRETARY
        )


def operator_forks_memberships(
    db: Database,
    clock: SettableClock,
    practice_id: UUID,
    admin: UserKeys,
    *,
    serve_honest: bool,
) -> bytes:
    """The operator (database in hand) appends another link at the sequence of the practice's
    last one, signed by its admin (a signature the operator got, or an admin fooled into it), so
    that only the head differs; the forged leaf. The log stays append-only and consistent: the
    honest row keeps its leaf and leaf hash, and the server's own one-statement-per-sequence check
    is passed by filing it under another sequence (still served), or unless ``serve_honest``
    under another subject (the server then serves the forged chain alone)."""
    with db.write() as session:
        row = session.scalars(
            select(KeyDirectoryLeaf)
            .where(
                KeyDirectoryLeaf.subject_id == practice_id,
                KeyDirectoryLeaf.purpose == statements.MEMBERSHIP_TYPE,
            )
            .order_by(KeyDirectoryLeaf.leaf_index.desc())
            .limit(1)
        ).one()
        link = statements.MembershipStatement.from_leaf(row.leaf)
        role = statements.Role.SECRETARY
        if link.role == role:
            role = statements.Role.PRACTITIONER
        forged = statements.sign_membership(
            group_id=link.group_id,
            sequence=link.sequence,
            previous=link.previous,
            member_id=link.member_id,
            role=role,
            signer=admin,
        )
        if serve_honest:
            row.epoch = 0
        else:
            row.subject_id = uuid4()
        session.flush()
        publish_bindings(session, bindings=[forged], now=clock.now(), log=LOG)
    return forged.to_leaf()


@dataclass
class Authenticator:
    totp: pyotp.TOTP
    clock: SettableClock
    backup_codes: list[str]

    def code(self) -> str:
        # The server's clock; a code is never accepted twice, so each use takes the next step.
        self.clock.advance(timedelta(seconds=30))
        return self.totp.at(self.clock.now())

    def wrong_code(self) -> str:
        """Six digits the server refuses now: none of the steps its drift window accepts."""
        now = self.clock.now()
        window = {self.totp.at(now + timedelta(seconds=30 * step)) for step in (-1, 0, 1)}
        return next(code for code in ("000000", "111111", "222222", "333333") if code not in window)


def turn_on_totp(scene: Scene, clock: SettableClock, email: str = PATIENT_EMAIL) -> Authenticator:
    """TOTP on for the patient (or the account ``email``), from a Python client of theirs (its
    login is the fresh proof of the password that set-up needs)."""
    with ColloqueClient(scene.url, insecure_allow_weak_cost=True) as client:
        client.log_in(email, PASSWORD)
        app = Authenticator(pyotp.TOTP(client.begin_totp()), clock, [])
        app.backup_codes = client.confirm_totp(app.code())
    return app


@dataclass
class Member:
    """A practice member who works in the browser: keys at the floor cost (the browser refuses
    weaker ones), attested in the practice's signed chain, holding the group key, TOTP on."""

    person: Keyed
    authenticator: Authenticator

    @property
    def email(self) -> str:
        return self.person.email

    def sign_in(self, scene: Scene, browser: Browser, *, locale: str = "fr-FR") -> BrowserContext:
        """A browser of theirs, signed in with a cookie login and its second factor."""
        context = scene.new_context(browser, locale=locale)
        sign_in_browser(context, scene.url, self.email, PASSWORD, totp=self.authenticator.code())
        return context

    def client(self, scene: Scene) -> ColloqueClient:
        """Their own Python client, logged in with their second factor."""
        return scene.staff(self.person, totp=self.authenticator.code())

    def unlock(self, page: Page, *, lang: str = "fr") -> None:
        """The unlock form of a practice page: the password, then their second factor."""
        unlock, password, code = UNLOCK_LABELS[lang]
        page.get_by_label(password).fill(PASSWORD)
        page.get_by_role("button", name=unlock).click()
        page.get_by_label(code).fill(self.authenticator.code())
        page.get_by_role("button", name=unlock).click()


#: The unlock form's button, password and code labels, per language.
UNLOCK_LABELS = {
    "fr": ("Déverrouiller", "Mot de passe", "Code à 6 chiffres ou code de secours"),
    "en": ("Unlock", "Password", "6-digit code or backup code"),
}


def make_member(
    scene: Scene,
    clock: SettableClock,
    name: str,
    role: Role,
    *,
    share_key: bool = True,
    attest: bool = True,
) -> Member:
    """``share_key`` false: attested, but no wrap of the group key (a practice without one);
    ``attest`` false: not in the signed chain either (a practice nobody signed for yet)."""
    email = f"{name}@practice.example.test"
    with scene.db.write() as session:
        account, token = do_create_demo_login(
            session,
            now=clock.now(),
            email=email,
            display_name=name.title(),
            password=PASSWORD,
            log=LOG,
        )
    person = Keyed(account.account_id, email, token)
    with scene.db.write() as session:
        do_add_member(
            session,
            practice_id=scene.world.practice_id,
            account_id=person.account_id,
            role=role,
            practitioner_id=scene.world.practitioner_id if role is Role.PRACTITIONER else None,
        )
    group_role = {
        Role.ADMIN: statements.Role.ADMIN,
        Role.PRACTITIONER: statements.Role.PRACTITIONER,
        Role.SECRETARY: statements.Role.SECRETARY,
    }[role]
    with scene.staff() as admin:
        if attest:
            admin.practice_keys.attest_member(
                scene.world.practice_id, person.account_id, group_role
            )
        if attest and share_key:
            admin.practice_keys.wrap_for_pending(scene.world.practice_id)
    return Member(person, turn_on_totp(scene, clock, email))


def holder_account(scene: Scene) -> UUID:
    with scene.db.read() as session:
        holder = session.get_one(Patient, scene.patient_id).holder_account_id
    assert holder is not None
    return holder


def phone_booking(
    scene: Scene, desk: ColloqueClient, reason: str, starts_at: str | None = None
) -> dict[str, Any]:
    """The desk books a free slot (the last one unless ``starts_at``) for the patient, the reason
    sealed by the desk's own keys for the patient's holder and the practice, both proven in the
    key directory."""
    practice = scene.world.practice_id
    directory = desk.key_directory
    fields = sealed_booking_fields(
        author=desk.unlocked_keys,
        visit_type_id=scene.world.consultation_id,
        reason=reason,
        patient_key=directory.user_keys(holder_account(scene)).bindings[KeyPurpose.ENCRYPTION],
        practice_key=directory.practice_key(practice),
    )
    booked: dict[str, Any] = desk._request(
        "POST",
        f"/api/v1/practices/{practice}/appointments",
        json={
            "practitioner_id": str(scene.world.practitioner_id),
            "patient_id": str(scene.patient_id),
            "starts_at": starts_at or scene.slots()[-1],
            "duration_minutes": 20,
            **fields,
        },
    )
    return booked


def operator_swaps_reason(
    scene: Scene, booked: dict[str, Any], clock: SettableClock, text: str
) -> None:
    """An account of the operator's, with properly published keys, signs another reason for the
    same appointment and item, wrapped for the same recipients, and the operator stores it."""
    mallory = keyed(scene.db, clock, "mallory")
    with ColloqueClient(scene.url, insecure_allow_weak_cost=True) as client:
        client.log_in(mallory.email, PASSWORD)
        author = client.unlocked_keys
    item_id = UUID(booked["sealed_reason"]["item_id"])
    with scene.staff() as admin:
        recipients = [
            admin.key_directory.user_keys(holder_account(scene)).bindings[KeyPurpose.ENCRYPTION],
            admin.key_directory.practice_key(scene.world.practice_id),
        ]
    forged = seal_visit_reason(
        item_id=item_id,
        appointment_id=UUID(booked["appointment_id"]),
        visit_type_id=scene.world.consultation_id,
        reason=text,
        author=author,
        recipients=recipients,
    )
    with scene.db.write() as session:
        row = session.scalars(select(SealedItemRow).where(SealedItemRow.item_id == item_id)).one()
        row.envelope, row.author_account_id = forged.envelope, author.user_id
        stored = sorted(
            session.scalars(select(ItemKeyWrap).where(ItemKeyWrap.item_id == item_id)).all(),
            key=lambda wrap: wrap.recipient_kind != "user",
        )
        for wrap, replacement in zip(stored, forged.wraps, strict=True):
            wrap.wrap = replacement


DESK_EMAIL = "sam@practice.example.test"


def desk_secretary(scene: Scene, clock: SettableClock) -> Authenticator:
    """Sam, the practice's secretary, who books by phone in the browser (:func:`make_member`)."""
    return make_member(scene, clock, "sam", Role.SECRETARY).authenticator
