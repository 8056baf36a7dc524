"""Demo logins and the Python client against a real server, at the real key-derivation costs."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx2
import pytest
from sqlalchemy import select

from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.models import Credentials
from colloque.accounts.services import do_add_member
from colloque.api.app import create_app
from colloque.client import ColloqueClient, NotLoggedIn, WeakPassword
from colloque.clock import SettableClock
from colloque.config import KdfCost
from colloque.crypto.login import ASVS_MINIMUM_COST, INTERACTIVE_COST, KdfParams
from colloque.errors import InvalidInput
from colloque.keydirectory.config import LogKey
from colloque.principal import Role
from colloque.storage.engine import Database
from tests.factories import build_world
from tests.functional.accounts.conftest import (
    PASSWORD,
    make_settings,
)
from tests.server import running_server
from tests.smtp import Inbox

TUESDAY_10 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def _polling_reader(inbox: Inbox) -> Callable[[str], str]:
    def read_code(email: str) -> str:
        deadline = time.monotonic() + 10
        while not inbox.to(email):
            assert time.monotonic() < deadline, "the code did not arrive"
            time.sleep(0.02)
        return inbox.code(email)

    return read_code


def test_demo_login_works_for_a_real_login(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int]
) -> None:
    world = build_world(db, clock)
    with db.write() as session:
        account, token = do_create_demo_login(
            session,
            now=clock.now(),
            email="Secretariat@demo.colloque.test",
            display_name="Secrétariat démo",
            password=PASSWORD,
        )
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=account.account_id,
            role=Role.SECRETARY,
        )
    with db.read() as session:
        stored = session.get_one(Credentials, account.account_id)
    assert KdfParams.from_bytes(stored.kdf_params).cost == ASVS_MINIMUM_COST
    app = create_app(make_settings(smtp[1], kdf_cost=KdfCost.MINIMUM), database=db, clock=clock)
    with running_server(app) as url, ColloqueClient(url) as client:
        answer = client.log_in("secretariat@demo.colloque.test", PASSWORD)
        assert answer["mfa"] == {"enabled": False, "required": True}
        assert client.me()["mfa_satisfied"] is False
        # The printed bearer token acts at once, as the demo's logins always did.
        agenda = httpx2.get(
            f"{url}/api/v1/practices/{world.practice_id}/agenda",
            params={"from": "2026-03-03T00:00:00+01:00", "until": "2026-03-04T00:00:00+01:00"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert agenda.status_code == 200, agenda.text


def test_demo_login_checks_its_input(db: Database, clock: SettableClock) -> None:
    with pytest.raises(WeakPassword), db.write() as session:
        do_create_demo_login(
            session, now=clock.now(), email="a@demo.test", display_name="A", password="demo"
        )
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        do_create_demo_login(
            session, now=clock.now(), email="a@demo.test", display_name="  ", password=PASSWORD
        )
    assert caught.value.field == "display_name"


def test_client_end_to_end_at_the_interactive_cost(
    db: Database, clock: SettableClock, smtp: tuple[Inbox, int]
) -> None:
    """The one test at the production cost: sign up, log in, find a slot, book it, list it."""
    inbox, port = smtp
    world = build_world(db, clock)
    settings = make_settings(port, kdf_cost=KdfCost.INTERACTIVE)
    log = LogKey.from_settings(settings)
    app = create_app(settings, database=db, clock=clock)
    with running_server(app) as url, ColloqueClient(url) as client:
        client.pin_key_directory(origin=log.origin, log_public_key=log.public_key)
        with pytest.raises(NotLoggedIn):
            _ = client.unlocked_keys
        recovery_code = client.sign_up(
            "patient@example.test", PASSWORD, "Pat Ient", read_code=_polling_reader(inbox)
        )
        assert recovery_code
        with db.read() as session:
            stored = session.scalars(select(Credentials.kdf_params)).one()
        assert KdfParams.from_bytes(stored).cost == INTERACTIVE_COST
        patient = httpx2.post(
            f"{url}/api/v1/me/patients",
            json={
                "first_name": "Pat",
                "last_name": "Ient",
                "birth_date": "1990-02-03",
                "relationship": "self",
            },
            headers={"Authorization": f"Bearer {client.token}"},
        )
        assert patient.status_code == 201, patient.text
        found = client.search(specialty="general_practice", city="Paris")
        assert found["results"]
        booked = client.book(
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            visit_type_id=world.consultation_id,
            duration_minutes=20,
            reason="Toux depuis trois semaines",
            patient_id=UUID(patient.json()["patient_id"]),
            starts_at=TUESDAY_10,
        )
        assert booked["status"] == "booked"
        assert "visit_type_id" not in booked
        assert booked["duration_minutes"] == 20
        keys = client.unlocked_keys
        client.log_out()
        with pytest.raises(NotLoggedIn):
            client.my_appointments()
    with running_server(app) as url, ColloqueClient(url) as again:
        again.log_in("patient@example.test", PASSWORD)
        assert again.unlocked_keys.encryption_secret == keys.encryption_secret
        [mine] = again.my_appointments()
        assert mine["appointment_id"] == booked["appointment_id"]
        reason = again.read_reason(mine)
        assert reason.reason == "Toux depuis trois semaines"
        assert reason.visit_type_id == world.consultation_id
        clock.advance(timedelta(minutes=1))
        again.reauthenticate(PASSWORD)
