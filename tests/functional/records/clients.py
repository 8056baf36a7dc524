"""Signed-in ColloqueClients on the real app: a practitioner and a secretary with TOTP, a holder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx2
import pyotp
from fastapi import FastAPI
from fastapi.testclient import TestClient

from colloque.accounts.config import TEST_COST
from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.services import do_add_member
from colloque.api.app import create_app
from colloque.client import ColloqueClient
from colloque.clock import SettableClock
from colloque.config import KdfCost, Settings
from colloque.crypto.authorship import Standing, author_standing
from colloque.crypto.groups import GroupKey
from colloque.crypto.items import ItemKind
from colloque.crypto.statements import MembershipChain
from colloque.crypto.statements import Role as StatementRole
from colloque.crypto.transparency import KeyBinding
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import Person, World, build_world, make_patient, register_at_practice
from tests.functional.records.helpers import make_group
from tests.server import running_server

PASSWORD = "vR7#kq2!Lm9@zP-long enough"
Http = TestClient | httpx2.Client


@dataclass
class Scene:
    world: World
    http: Http
    doctor: ColloqueClient
    secretary: ColloqueClient
    holder: ColloqueClient
    patient_id: UUID
    group: GroupKey
    #: The practitioners' group (the doctor's): notes are sealed to it.
    clinical: GroupKey

    def recipients(self) -> list[KeyBinding]:
        """A message's: the holder and the practice group."""
        return [self.holder.unlocked_keys.encryption_binding(), self.group.encryption_binding()]

    def note_recipients(self) -> list[KeyBinding]:
        """A note's: the holder and the practitioners' group."""
        return [self.holder.unlocked_keys.encryption_binding(), self.clinical.encryption_binding()]

    def authors(self, account_id: UUID) -> KeyBinding:
        """What the key directory would prove: the signing key of each account of the scene."""
        for client in (self.doctor, self.secretary, self.holder):
            if client.account_id == account_id:
                return client.unlocked_keys.signing_binding()
        raise LookupError(account_id)

    def standing(self, kind: ItemKind, author_id: UUID) -> Standing:
        """What the client decides against a verified chain attesting the doctor and secretary."""
        chain = MembershipChain(
            self.world.practice_id,
            {
                self.doctor.unlocked_keys.user_id: ((1, StatementRole.PRACTITIONER),),
                self.secretary.unlocked_keys.user_id: ((2, StatementRole.SECRETARY),),
            },
            2,
            bytes(32),
        )
        return author_standing(
            kind, author_id, holder_id=self.holder.unlocked_keys.user_id, chain=chain
        )


@contextmanager
def _http(app: FastAPI, server: bool) -> Iterator[Http]:
    if not server:
        with TestClient(app, base_url="https://testserver") as client:
            yield client
        return
    with running_server(app) as url, httpx2.Client(base_url=url, timeout=300) as client:
        yield client


def _login(db: Database, clock: SettableClock, http: Http, email: str) -> ColloqueClient:
    with db.write() as session:
        do_create_demo_login(
            session,
            now=clock.now(),
            email=email,
            display_name="Records Person",
            password=PASSWORD,
            kdf_cost=TEST_COST,
            insecure_allow_weak_cost=True,
        )
    client = ColloqueClient(http=http, insecure_allow_weak_cost=True)
    client.log_in(email, PASSWORD)
    return client


def _member(
    db: Database,
    clock: SettableClock,
    http: Http,
    world: World,
    email: str,
    role: Role,
) -> ColloqueClient:
    client = _login(db, clock, http, email)
    with db.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=client.account_id,
            role=role,
            practitioner_id=world.practitioner_id if role is Role.PRACTITIONER else None,
        )
    client.reauthenticate(PASSWORD)
    secret = client.begin_totp()
    client.confirm_totp(pyotp.TOTP(secret).at(clock.now()))
    return client


def scene(
    db: Database, clock: SettableClock, data_dir: Path, *, server: bool = False
) -> Iterator[Scene]:
    """The scene over FastAPI's TestClient, or over a real uvicorn server and httpx2 (``server``)."""
    world = build_world(db, clock)
    settings = Settings(run_refresher=False, kdf_cost=KdfCost.TEST, data_dir=data_dir)
    app = create_app(settings, database=db, clock=clock)
    with _http(app, server) as http:
        doctor = _member(db, clock, http, world, "doc.records@example.test", Role.PRACTITIONER)
        secretary = _member(db, clock, http, world, "desk.records@example.test", Role.SECRETARY)
        holder = _login(db, clock, http, "holder.records@example.test")
        patient_id = make_patient(db, clock, Person(holder.account_id, ""), "Rita", "Record")
        register_at_practice(db, clock, world, patient_id)
        group = make_group(
            db, clock, world.practice_id, [doctor.unlocked_keys, secretary.unlocked_keys]
        )
        clinical = make_group(db, clock, world.practice_id, [doctor.unlocked_keys], clinical=True)
        yield Scene(world, http, doctor, secretary, holder, patient_id, group, clinical)
