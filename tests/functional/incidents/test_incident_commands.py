"""``colloque incident``: open, contain, record notifications, show, and the report's files, on
a small world (SQLite and PostgreSQL). The exactness of the report at scale is
test_report_exactness.py."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner, Result

from colloque.accounts.sessions import hash_token
from colloque.audit.models import AuditEvent
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.cli.main import app as cli
from colloque.clock import SettableClock
from colloque.ids import new_id
from colloque.principal import Principal, credential_id
from colloque.records.models import SealedItemRow
from colloque.storage.engine import Database
from tests.conftest import T0
from tests.factories import World, book, build_world
from tests.functional.http import app_client, bearer

MONDAY_0900 = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)


def run(db: Database, *args: str) -> Result:
    url = db.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli, [*args, "--database-url", url])


def succeeded(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def failed(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.output
    # Rich wraps the message at the terminal's width.
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def open_incident(db: Database) -> UUID:
    output = succeeded(
        run(
            db,
            "incident",
            "open",
            "--summary",
            "desk token used from abroad",
            "--detected-at",
            "2026-03-02T10:00:00+01:00",
        )
    )
    assert "notify the authority by 2026-03-05T09:00:00+00:00" in output
    return UUID(output.split()[1])


def test_an_incident_is_opened_contained_and_notified_each_step_with_its_time(
    db: Database, clock: SettableClock, world: World
) -> None:
    incident = open_incident(db)
    stolen = credential_id(hash_token(world.secretary.token))
    output = succeeded(
        run(
            db,
            "incident",
            "contain",
            str(incident),
            "--credential",
            str(stolen),
            "--account",
            str(world.doctor.account_id),
        )
    )
    assert output.strip() == "2 sessions and tokens ended"
    with app_client(db, clock) as client:
        for person in (world.secretary, world.doctor):
            assert client.get("/api/v1/me", headers=bearer(person)).status_code == 401
        assert client.get("/api/v1/me", headers=bearer(world.admin)).status_code == 200
    succeeded(run(db, "incident", "notified", str(incident), "--authority", "--note", "CNIL 42"))
    succeeded(run(db, "incident", "notified", str(incident), "--patients"))
    shown = succeeded(run(db, "incident", "show", str(incident))).splitlines()
    assert shown[0] == f"incident {incident}: desk token used from abroad"
    assert shown[2] == "authority deadline 2026-03-05T09:00:00+00:00"
    steps = [line.split(" ", 1)[1] for line in shown[3:]]
    assert steps[0] == "opened: detected at 2026-03-02T09:00:00+00:00"
    assert sorted(steps[1:3]) == sorted(
        [
            f"contained: credential {stolen}: 1 session(s) ended",
            f"contained: account {world.doctor.account_id}: 1 session(s) and token(s) ended",
        ]
    )
    assert steps[3:] == ["authority_notified: CNIL 42", "patients_notified: patients notified"]
    with db.read() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_kind == ObjectKind.INCIDENT.value,
                AuditEvent.object_id == incident,
            )
        ).all()
    assert sorted(actions) == sorted(
        [
            AuditAction.INCIDENT_OPENED,
            AuditAction.INCIDENT_CONTAINED,
            AuditAction.INCIDENT_CONTAINED,
            AuditAction.INCIDENT_NOTIFIED,
            AuditAction.INCIDENT_NOTIFIED,
        ]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["open", "--summary", " "], "the summary is 1 to 500 characters"),
        (
            ["open", "--summary", "x", "--detected-at", "2026-03-02T10:00:00"],
            "needs its UTC offset",
        ),
        (["open", "--summary", "x", "--detected-at", "yesterday"], "must be an ISO 8601 instant"),
        (
            ["open", "--summary", "x", "--detected-at", "2999-01-01T00:00:00Z"],
            "cannot be in the future",
        ),
        (["contain", "nope", "--account", str(uuid4())], "INCIDENT_ID must be a UUID"),
        (["contain", str(uuid4()), "--account", str(uuid4())], "incident not found"),
        (["notified", str(uuid4()), "--authority"], "incident not found"),
        (["notified", str(uuid4())], "exactly one of --authority and --patients"),
        (["show", str(uuid4())], "incident not found"),
        (["report", "--output", "{tmp}/out"], "name an account, a credential"),
        (["report", "--output", "{tmp}/out", "--credential", "x"], "--credential must be a UUID"),
        (["report", "--output", "{tmp}/out", "--address", "host"], "not an IP address"),
        (
            [
                "report",
                "--output",
                "{tmp}/out",
                "--since",
                "2026-03-02T00:00:00Z",
                "--until",
                "2026-03-01T00:00:00Z",
            ],
            "the window's start must come before its end",
        ),
        (["report", "--output", "{tmp}", "--prefix", "10.0.0.0/24"], "is not an empty directory"),
        (
            [
                "report",
                "--output",
                "{tmp}/out",
                "--prefix",
                "10.0.0.0/24",
                "--incident",
                str(uuid4()),
            ],
            "incident not found",
        ),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    db: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "already-here").write_text("")
    failed(run(db, "incident", *[a.replace("{tmp}", str(tmp_path)) for a in args]), message)


def test_containing_needs_something_to_contain(db: Database) -> None:
    incident = open_incident(db)
    failed(run(db, "incident", "contain", str(incident)), "name a credential or an account")


def _sealed_item(db: Database, world: World, patient_id: UUID) -> UUID:
    item_id = new_id()
    with db.write() as session:
        session.execute(
            insert(SealedItemRow).values(
                practice_id=world.practice_id,
                item_id=item_id,
                kind="note",
                patient_id=patient_id,
                context_id=new_id(),
                author_account_id=world.doctor.account_id,
                envelope=b"\x01ciphertext",
                size_bytes=11,
                created_at=T0,
            )
        )
    return item_id


def test_the_report_names_what_the_suspect_read_and_writes_every_file(
    db: Database, clock: SettableClock, world: World, tmp_path: Path
) -> None:
    appointment = book(db, clock, world, MONDAY_0900).appointment_id
    other = book(
        db, clock, world, MONDAY_0900 + timedelta(hours=1), patient_id=world.child_patient_id
    )
    stolen = credential_id(hash_token(world.secretary.token))
    clock.advance(timedelta(minutes=5))
    with app_client(db, clock) as client:
        url = f"/api/v1/practices/{world.practice_id}/appointments"
        assert (
            client.get(f"{url}/{appointment}", headers=bearer(world.secretary)).status_code == 200
        )
        assert client.get(f"{url}/{uuid4()}", headers=bearer(world.secretary)).status_code == 404
        # The account's owner reads the other appointment with another session: not the suspect's.
        assert (
            client.get(f"{url}/{other.appointment_id}", headers=bearer(world.doctor)).status_code
            == 200
        )
    item = _sealed_item(db, world, world.stranger_patient_id)
    gone = uuid4()
    thief = Principal(account_id=world.secretary.account_id, credential_id=stolen)
    with db.write() as session:
        record(
            session,
            at=clock.now(),
            action=AuditAction.SEALED_ITEMS_READ,
            principal=thief,
            practice_id=world.practice_id,
            object_kind="item",
            object_id=None,
            objects=[(ObjectKind.ITEM, item), (ObjectKind.APPOINTMENT, gone)],
        )
        # An event from before migration 0023: its main object and patient only, no `objects`.
        session.execute(
            insert(AuditEvent).values(
                event_id=new_id(),
                at=clock.now(),
                action=AuditAction.PRACTICE_PATIENT_VIEWED.value,
                actor_account_id=world.secretary.account_id,
                actor_role="secretary",
                credential_id=stolen,
                practice_id=None,
                subject_id=world.holder_patient_id,
                object_kind="patient",
                object_id=world.holder_patient_id,
                objects=None,
            )
        )
    incident = open_incident(db)
    output = tmp_path / "report"
    printed = succeeded(
        run(
            db,
            "incident",
            "report",
            "--credential",
            str(stolen),
            "--incident",
            str(incident),
            "--since",
            "2026-03-01T00:00:00Z",
            "--output",
            str(output),
        )
    )
    assert "4 events, 1 practices, 2 people, 1 appointments, 1 sealed items" in printed
    report = json.loads((output / "report.json").read_text())
    assert report["criteria"] == {
        "credential_id": str(stolen),
        "since": "2026-03-01T00:00:00+00:00",
    }
    assert report["authority_deadline"] == "2026-03-05T09:00:00+00:00"
    assert [step["step"] for step in report["incident"]["timeline"]] == ["opened"]
    assert report["events"]["matched"] == 4
    assert report["events"]["denied"] == 1
    assert report["events"]["denied_reasons"] == {"not-found": 1}
    assert report["events"]["credentials"] == [str(stolen)]
    [practice] = report["practices"]
    assert practice["practice_id"] == str(world.practice_id)
    assert practice["appointments"] == [str(appointment)]
    assert practice["sealed_items"] == [str(item)]
    assert sorted(practice["patients"]) == sorted(
        [str(world.holder_patient_id), str(world.stranger_patient_id)]
    )
    assert report["without_practice"] == [str(world.holder_patient_id)]
    assert [a["appointment_id"] for a in report["administrative"]["appointments"]] == [
        str(appointment)
    ]
    names = {(p["first_name"], p["last_name"]) for p in report["administrative"]["patients"]}
    assert names == {("Hugo", "Bernard"), ("Sophie", "Petit")}
    assert [i["item_id"] for i in report["sealed"]["items"]] == [str(item)]
    assert set(report["denied_attempts"]) == {"appointment", "practice"}
    assert report["no_longer_stored"] == {"appointment": [str(gone)]}
    folder = output / "practices" / str(world.practice_id)
    with (folder / "patients.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [
        (row["last_name"], row["appointments_read"], row["sealed_item_kinds"]) for row in rows
    ] == [
        ("Bernard", "1", ""),
        ("Petit", "0", "note"),
    ]
    hugo = world.holder_patient_id
    french = (folder / "letters" / f"{hugo}.fr.html").read_text()
    english = (folder / "letters" / f"{hugo}.en.html").read_text()
    assert "lundi 9 mars 2026 à 09:00" in french
    assert "Monday, 9 March 2026 at 09:00" in english
    assert (output / "practices" / "platform" / "letters" / f"{hugo}.en.html").exists()
    authority = (output / "authority-notification.fr.html").read_text()
    assert "article 34(3)(a)" in authority
    assert "jeudi 5 mars 2026" in authority
    assert "Hugo" not in authority
    html = (output / "report.html").read_text()
    assert "@page" in html
    assert str(appointment) in html
    assert (output / "report.json").stat().st_mode & 0o077 == 0
    assert output.stat().st_mode & 0o077 == 0
    shown = succeeded(run(db, "incident", "show", str(incident)))
    assert "reported: 4 events, 1 practices, 2 people" in shown
