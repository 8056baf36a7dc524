"""Key directory and practice key groups against the real app, on both databases.

People are real accounts with keys, made the demo's way (an in-process sign-up at the test cost)
so that their bindings are in the key directory; each gets a client that has logged in (to
unlock its keys) and then acts with an issued token (MFA counted as satisfied, as the practice
actions require).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.models import Account, KeyBundleRow
from colloque.accounts.services import do_add_member, principal_for_account
from colloque.api.app import create_app
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.config import KdfCost, MailBackend, Settings
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import EndorsementKind, endorse_keys
from colloque.keydirectory import services as log_services
from colloque.keydirectory.config import LogKey
from colloque.principal import Principal, Role
from colloque.scheduling.services import do_add_practitioner, do_create_practice
from colloque.scheduling.specialties import Specialty
from colloque.storage.engine import Database
from tests.unit.crypto.helpers import new_user

PASSWORD = "vR7#kq2!Lm9@zP-long enough"
SETTINGS = Settings(
    run_refresher=False,
    secret_key=SecretStr("a-test-secret-key-of-at-least-32-characters"),
    mail_backend=MailBackend.CONSOLE,
    kdf_cost=KdfCost.TEST,
    key_directory_origin="colloque.test/key-directory",
)
LOG = LogKey.from_settings(SETTINGS)


@pytest.fixture
def app(db: Database, clock: SettableClock) -> FastAPI:
    return create_app(SETTINGS, database=db, clock=clock)


@pytest.fixture
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@dataclass
class Keyed:
    account_id: UUID
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def principal(self, db: Database) -> Principal:
        with db.read() as session:
            return principal_for_account(session, session.get_one(Account, self.account_id))

    def client(self, http: TestClient) -> ColloqueClient:
        """Logged in (keys unlocked), acting with the issued token, the directory pinned."""
        client = ColloqueClient(http=http, insecure_allow_weak_cost=True)
        client.log_in(self.email, PASSWORD)
        client._token = self.token  # MFA-satisfied, as practice actions need
        client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
        return client


def keyed(db: Database, clock: SettableClock, name: str) -> Keyed:
    email = f"{name}@keys.example.test"
    with db.write() as session:
        account, token = do_create_demo_login(
            session,
            now=clock.now(),
            email=email,
            display_name=name.title(),
            password=PASSWORD,
            kdf_cost=TEST_COST,
            insecure_allow_weak_cost=True,
            log=LOG,
        )
        return Keyed(account.account_id, email, token)


def new_practice(db: Database, clock: SettableClock, admin: Keyed) -> UUID:
    """A practice whose admin is ``admin``."""
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            name="Cabinet des Clés",
            address="1 rue des Clés",
            postcode="69001",
            city="Lyon",
            latitude=45.76,
            longitude=4.83,
        )
        return practice.practice_id


def add(db: Database, practice_id: UUID, person: Keyed, role: Role = Role.SECRETARY) -> None:
    with db.write() as session:
        do_add_member(session, practice_id=practice_id, account_id=person.account_id, role=role)


def new_agenda(
    db: Database, clock: SettableClock, practice: UUID, admin: Keyed, first_name: str
) -> UUID:
    """A practitioner's agenda in the practice (no account linked yet)."""
    with db.write() as session:
        return do_add_practitioner(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            practice_id=practice,
            first_name=first_name,
            last_name="Clinique",
            specialty=Specialty.GENERAL_PRACTICE,
        ).practitioner_id


def add_practitioner(
    db: Database, clock: SettableClock, practice: UUID, person: Keyed, admin: Keyed
) -> None:
    """``person`` joins as a practitioner with an agenda of their own."""
    agenda = new_agenda(db, clock, practice, admin, person.email.split("@")[0].title())
    with db.write() as session:
        do_add_member(
            session,
            practice_id=practice,
            account_id=person.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=agenda,
        )


def operator_mints(
    db: Database,
    clock: SettableClock,
    account_id: UUID,
    *,
    epoch: int = 2,
    endorse: bool,
    swap_bundle: bool = True,
) -> UserKeys:
    """New key pairs for ``account_id`` that the operator holds, appended to the log with the log
    key (and a reset endorsement signed by themselves when ``endorse``); with ``swap_bundle``
    the account's key bundle row names them too, so the server's own checks agree."""
    keys = dataclasses.replace(new_user(account_id), epoch=epoch)
    leaves: list[log_services.LogItem] = [keys.encryption_binding(), keys.signing_binding()]
    if endorse:
        leaves.append(
            endorse_keys(
                encryption=keys.encryption_binding(),
                signing=keys.signing_binding(),
                kind=EndorsementKind.RESET,
                signer=keys,
            )
        )
    with db.write() as session:
        log_services.publish_bindings(session, bindings=leaves, now=clock.now(), log=LOG)
        if swap_bundle:
            row = session.get_one(KeyBundleRow, account_id)
            row.epoch = epoch
            row.encryption_public = keys.encryption_public
            row.signing_public = keys.signing_public
    return keys
