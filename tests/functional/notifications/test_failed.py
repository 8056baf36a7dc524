"""Failed messages are visible to the practice's admins (the API) and to the operator (the CLI):
ids, templates and error categories, never a recipient or a content. And the server delivers
the outbox itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from pydantic import SecretStr

from colloque.api.app import create_app
from colloque.booking.rules import Source
from colloque.clock import SettableClock
from colloque.config import KdfCost, MailBackend, Settings
from colloque.delivery.outbox import OutboxDelivery
from colloque.patients.registry import do_register_patient
from colloque.storage.engine import Database
from tests.factories import World, book
from tests.smtp import Inbox

TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def _contactless_booking(db: Database, clock: SettableClock, world: World) -> None:
    with db.write() as session:
        registered = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            first_name="Paul",
            last_name="Durand",
            birth_date=date(1950, 1, 1),
        )
    book(
        db,
        clock,
        world,
        TUE_0900,
        person=world.secretary,
        patient_id=registered.patient.patient_id,
        source=Source.PRACTICE,
    )


def test_admins_and_the_operator_see_failed_messages(
    db: Database, clock: SettableClock, world: World, delivery: OutboxDelivery
) -> None:
    _contactless_booking(db, clock, world)
    assert delivery.run_until_idle().failed == 1
    settings = Settings(run_refresher=False, secret_key=SecretStr("x" * 40), kdf_cost=KdfCost.TEST)
    with TestClient(create_app(settings, database=db, clock=clock)) as http:
        path = f"/api/v1/practices/{world.practice_id}/outbox/failed"
        answer = http.get(path, headers={"Authorization": f"Bearer {world.admin.token}"})
        assert answer.status_code == 200
        [failed] = answer.json()
        assert failed["template"] == "appointment_confirmed"
        assert failed["last_error"] == "no_contact"
        assert failed["attempts"] == 1
        assert "Paul" not in answer.text
        # A secretary is told that the role does not allow it.
        refused = http.get(path, headers={"Authorization": f"Bearer {world.secretary.token}"})
        assert refused.status_code == 403
    listing = subprocess.run(
        [sys.executable, "-m", "colloque.cli", "outbox", "failed"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLLOQUE_DATABASE_URL": db.url.render_as_string(hide_password=False)},
        check=True,
    )
    assert f"message {failed['message_id']} appointment_confirmed" in listing.stdout
    assert "error=no_contact" in listing.stdout
    assert "1 failed messages, 0 failed account mails" in listing.stdout


def test_the_server_delivers_the_outbox_in_process(
    db: Database, clock: SettableClock, world: World, inbox: Inbox
) -> None:
    settings = Settings(
        run_refresher=False,
        run_outbox_worker=True,
        outbox_interval_seconds=0.05,
        secret_key=SecretStr("x" * 40),
        kdf_cost=KdfCost.TEST,
        mail_backend=MailBackend.SMTP,
        smtp_host="127.0.0.1",
        smtp_port=inbox.port,
    )
    with TestClient(create_app(settings, database=db, clock=clock)):
        book(db, clock, world, TUE_0900)
        deadline = time.monotonic() + 30
        while not inbox.to("holder.hugo@example.test"):
            assert time.monotonic() < deadline, "the in-process worker sent nothing"
            time.sleep(0.02)
