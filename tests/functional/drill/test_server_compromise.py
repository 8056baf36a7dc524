"""The server-compromise drill.

Patients, appointments, notes, documents and messages are made through a real server process by
real clients, each carrying a unique canary string. Then everything the server side holds is taken,
as an intruder or a careless backup would: a pg_dump or the SQLite file, the server's logs (access
logs and debug level on), its blob storage and every mail it sent. None of the canaries may appear
in any of it, raw or encoded; the patients' administrative data, which the server does hold, must
(so the search is known to look at real data).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic, sleep
from zoneinfo import ZoneInfo

import httpx2
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text

from colloque.accounts.services import do_add_member, do_issue_token
from colloque.client import ColloqueClient
from colloque.clock import SettableClock, SystemClock
from colloque.crypto.transparency import KeyPurpose
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Role
from colloque.storage.engine import Database, normalise_url
from colloque.storage.migrate import upgrade
from tests.conftest import _postgres_admin_url
from tests.factories import World, build_world
from tests.functional.drill.harness import files_under, pg_dump, search, server_process
from tests.functional.keys.conftest import LOG, PASSWORD, SETTINGS, Keyed, add, keyed
from tests.server import free_port
from tests.smtp import Inbox

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Scene:
    url: str
    kind: str
    data_dir: Path
    database: Database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def scene(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scene]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'colloque.sqlite3'}"
        upgrade(url)
        database = Database(url)
        yield Scene(url, "sqlite", data_dir, database)
        database.dispose()
        return
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) without a server
    admin = create_engine(normalise_url(_postgres_admin_url()), isolation_level="AUTOCOMMIT")
    name = f"colloque_drill_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = (
        normalise_url(_postgres_admin_url())
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    upgrade(url)
    database = Database(url)
    try:
        yield Scene(url, "postgres", data_dir, database)
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _next_monday_nine(now: datetime) -> datetime:
    day = now.astimezone(PARIS).date() + timedelta(days=3)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return datetime.combine(day, time(9), tzinfo=PARIS).astimezone(UTC)


def _client(url: str, database: Database, person: Keyed) -> ColloqueClient:
    client = ColloqueClient(url, insecure_allow_weak_cost=True)
    client.log_in(person.email, PASSWORD)
    # A token issued now, MFA counted as satisfied, as practice actions need (the scene was
    # built on yesterday's clock, past a staff token's idle timeout).
    with database.write() as session:
        client._token = do_issue_token(
            session, now=SystemClock().now(), account_id=person.account_id
        )
    client.pin_key_directory(origin=LOG.origin, log_public_key=LOG.public_key)
    return client


def _canaries(run: str) -> dict[str, str]:
    return {
        kind: f"CANARY-{kind}-{run}-{uuid.uuid4().hex[:10]}"
        for kind in (
            "reason",
            "relative-reason",
            "note",
            "message-in",
            "message-out",
            "doc",
            "name",
        )
    }


def test_nothing_readable_is_left_behind(scene: Scene, tmp_path: Path) -> None:
    now = SystemClock().now()
    clock = SettableClock(now - timedelta(days=1))
    world: World = build_world(scene.database, clock)
    desk, doctor, holder = (
        keyed(scene.database, clock, name) for name in ("desk", "doctor", "holder")
    )
    add(scene.database, world.practice_id, desk, Role.ADMIN)  # only an admin makes the key group
    with scene.database.write() as session:
        do_add_member(
            session,
            practice_id=world.practice_id,
            account_id=doctor.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=world.practitioner_id,
        )
    with scene.database.write() as session:
        principal = holder.principal(scene.database)
        own, child = (
            do_add_patient(
                session,
                now=clock.now(),
                principal=principal,
                first_name=first,
                last_name="Témoin-Administratif",
                birth_date=born,
                relationship=relationship,
            ).patient_id
            for first, born, relationship in (
                ("Administratine", date(1984, 4, 4), Relationship.SELF),
                ("Petitadmin", date(2019, 9, 9), Relationship.CHILD),
            )
        )
    canaries = _canaries(scene.kind)
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    log_path = tmp_path / "server.log"
    env = {
        "COLLOQUE_ENVIRONMENT": "development",
        "COLLOQUE_DATABASE_URL": scene.url,
        "COLLOQUE_DATA_DIR": str(scene.data_dir),
        "COLLOQUE_SECRET_KEY": SETTINGS.secret_key.get_secret_value(),
        "COLLOQUE_KEY_DIRECTORY_ORIGIN": SETTINGS.key_directory_origin,
        "COLLOQUE_KDF_COST": "test",
        "COLLOQUE_MAIL_BACKEND": "smtp",
        "COLLOQUE_SMTP_HOST": "127.0.0.1",
        "COLLOQUE_SMTP_PORT": str(smtp_port),
        "COLLOQUE_RUN_REFRESHER": "true",
        "COLLOQUE_REFRESH_INTERVAL_SECONDS": "0.5",
    }
    monday = _next_monday_nine(now)
    try:
        with server_process(env, log_path) as url:
            staff, practitioner, patient = clients = [
                _client(url, scene.database, person) for person in (desk, doctor, holder)
            ]
            staff.practice_keys.create_group(world.practice_id)
            booked = [
                patient.book(
                    practice_id=world.practice_id,
                    practitioner_id=world.practitioner_id,
                    patient_id=patient_id,
                    starts_at=monday + timedelta(days=offset),
                    visit_type_id=world.consultation_id,
                    duration_minutes=20,
                    reason=canaries[kind],
                )
                for patient_id, offset, kind in ((own, 0, "reason"), (child, 1, "relative-reason"))
            ]
            group = practitioner.practice_keys.open_group_key(world.practice_id)
            holder_key = practitioner.key_directory.user_keys(holder.account_id).bindings[
                KeyPurpose.ENCRYPTION
            ]
            recipients = [holder_key, group.encryption_binding()]
            # Sealed for the holder and the practitioners' group, which this client makes first.
            practitioner.write_note(
                practice_id=world.practice_id, patient_id=own, text=canaries["note"]
            )
            patient.records.send_message(
                practice_id=world.practice_id,
                patient_id=own,
                text=canaries["message-in"],
                recipients=[
                    patient.unlocked_keys.encryption_binding(),
                    patient.key_directory.practice_key(world.practice_id),
                ],
                as_holder=True,
            )
            staff.records.send_message(
                practice_id=world.practice_id,
                patient_id=own,
                text=canaries["message-out"],
                recipients=recipients,
                as_holder=False,
            )
            content = (b"%PDF-1.7 " + canaries["doc"].encode() + b" ") * 2000
            practitioner.records.upload_document(
                practice_id=world.practice_id,
                patient_id=own,
                source=io.BytesIO(content),
                name=f"{canaries['name']}.pdf",
                media_type="application/pdf",
                recipients=recipients,
            )

            # What was stored is really there: each side opens it.
            staff_view = practitioner.records.read_messages(
                practice_id=world.practice_id,
                patient_id=own,
                authors=lambda a: practitioner.key_directory.user_keys(a).bindings[
                    KeyPurpose.SIGNING
                ],
                standing=practitioner.standing_check(world.practice_id, own, as_holder=False),
                group_keys={group.epoch: group},
            )
            assert {m.text for m in staff_view} == {canaries["message-in"], canaries["message-out"]}
            mine = {a["appointment_id"]: a for a in patient.my_appointments()}
            assert (
                patient.read_reason(mine[booked[0]["appointment_id"]]).reason == canaries["reason"]
            )
            [document] = patient.records.list_documents(
                practice_id=world.practice_id,
                patient_id=own,
                authors=lambda a: patient.key_directory.user_keys(a).bindings[KeyPurpose.SIGNING],
                standing=patient.standing_check(world.practice_id, own, as_holder=True),
            )
            opened = io.BytesIO()
            patient.records.download_document(
                practice_id=world.practice_id,
                patient_id=own,
                document=document,
                target=opened,
                as_holder=True,
            )
            assert opened.getvalue() == content
            assert document.info.name == f"{canaries['name']}.pdf"
            # A mail goes out too (a key-reset code): mail is part of what leaves the server.
            httpx2.post(f"{url}/api/v1/auth/keys/reset", json={"email": holder.email})
            deadline = monotonic() + 10
            while not inbox.messages and monotonic() < deadline:
                sleep(0.05)
            for client in clients:
                client.close()
    finally:
        controller.stop()

    artifacts: dict[str, bytes] = {"server.log": log_path.read_bytes()}
    artifacts |= files_under(scene.data_dir, "data_dir")  # SQLite file and WAL, documents
    if scene.kind == "postgres":
        artifacts["pg_dump.sql"] = pg_dump(scene.url)
    artifacts |= {
        f"mail/{n}": message.as_bytes() for n, (_to, message) in enumerate(inbox.messages)
    }
    # The leftovers are real: access logs with every request, the stored document, the database.
    assert b"POST /api/v1/appointments" in artifacts["server.log"]
    assert any(name.startswith("data_dir/blobs/") for name in artifacts)
    assert any(name.startswith("data_dir/colloque.sqlite3") for name in artifacts) == (
        scene.kind == "sqlite"
    )
    assert any(name.startswith("mail/") for name in artifacts)
    assert search(artifacts, canaries.values()) == []
    # The search does see real data: the administrative names are there (the server holds them).
    assert search(artifacts, ["Administratine"])
