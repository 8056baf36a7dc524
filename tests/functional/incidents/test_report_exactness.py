"""The incident report is exact: a stolen desk token reads a known set of 500 appointments among
50,000 over HTTP (appointment details, a patient's list on the desk page, an agenda window, a
patient search) and makes refused probes; the report by its credential, or by its client
address, lists exactly those appointments, their practice and their patients, no more and no
less. The account's owner, reading with their own session in the same minutes, and a colleague,
are not in it (SQLite and PostgreSQL).

The 50,000 appointments are bulk inserted (two practices, 25,000 each, one every 20 minutes,
each of 2,500 registry patients having 10), so that which requests return which appointments is
known by construction:

- agenda: the window of appointments 0..149 of practice A;
- details: appointments 10,000..10,199, one request each;
- the desk page of patients 2,400..2,414 lists their 10 appointments each (150);
- a search by a name that patients 2,450..2,469 share (persons only).

Patient ``i`` has appointments ``i, i + 2,500, ...``: the three sets are disjoint, 500 in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import insert

from colloque.accounts.services import do_issue_token
from colloque.accounts.sessions import SESSION_COOKIE, hash_token
from colloque.audit.objects import ObjectKind
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.incidents.report import build_report
from colloque.incidents.scan import Suspect
from colloque.patients.models import Patient, PracticePatient
from colloque.principal import credential_id
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner, do_create_practice
from colloque.scheduling.specialties import Specialty
from colloque.storage.engine import Database
from colloque.text import search_key
from colloque.web.app import create_app
from tests.factories import Person, World, build_world, make_person

PER_PRACTICE = 25_000
PATIENTS = 2_500
SPACING = timedelta(minutes=20)
FIRST = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
AGENDA = range(150)
DETAILS = range(10_000, 10_200)
LISTED_PATIENTS = range(2_400, 2_415)
SEARCHED_PATIENTS = range(2_450, 2_470)
SHARED_NAME = "Zylberstein"
ATTACKER_ADDRESS = "203.0.113.9"


@dataclass
class Practice:
    practice_id: UUID
    practitioner_id: UUID
    appointments: list[UUID]
    patients: list[UUID]

    def patient_of(self, index: int) -> UUID:
        return self.patients[index % PATIENTS]


def _second_practice(db: Database, clock: SettableClock) -> tuple[UUID, UUID]:
    admin = make_person(db, clock, "Admin Bastien")
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            name="Cabinet Voisin",
            address="3 place du Marché",
            postcode="69001",
            city="Lyon",
            latitude=45.767,
            longitude=4.834,
            timezone="Europe/Paris",
        )
        practice_id = practice.practice_id
    with db.write() as session:
        gp = do_add_practitioner(
            session,
            now=clock.now(),
            principal=admin.principal(db),
            practice_id=practice_id,
            first_name="Marc",
            last_name="Durand",
            specialty=Specialty.GENERAL_PRACTICE,
            rules=AgendaRulesInput(slot_step_minutes=20, min_notice_minutes=0),
        )
        return practice_id, gp.practitioner_id


def _fill(db: Database, clock: SettableClock, practice_id: UUID, practitioner_id: UUID) -> Practice:
    now = clock.now()
    patients = [uuid4() for _ in range(PATIENTS)]
    appointments = [uuid4() for _ in range(PER_PRACTICE)]
    with db.write() as session:
        session.execute(
            insert(Patient),
            [
                {
                    "patient_id": patient,
                    "holder_account_id": None,
                    "relationship": "self",
                    "first_name": f"Prénom{index:04d}",
                    "last_name": SHARED_NAME if index in SEARCHED_PATIENTS else f"Nom{index:04d}",
                    "name_key": search_key(
                        f"Prénom{index:04d} "
                        + (SHARED_NAME if index in SEARCHED_PATIENTS else f"Nom{index:04d}")
                    ),
                    "birth_date": date(1980, 1, 1) + timedelta(days=index),
                    "created_at": now,
                }
                for index, patient in enumerate(patients)
            ],
        )
        session.execute(
            insert(PracticePatient),
            [
                {
                    "practice_id": practice_id,
                    "patient_id": patient,
                    "added_at": now,
                    "phone": f"+336{index:08d}",
                    "email": None,
                }
                for index, patient in enumerate(patients)
            ],
        )
        session.execute(
            insert(Appointment),
            [
                {
                    "practice_id": practice_id,
                    "appointment_id": appointment,
                    "practitioner_id": practitioner_id,
                    "patient_id": patients[index % PATIENTS],
                    "booked_by_account_id": None,
                    "specialty": Specialty.GENERAL_PRACTICE.value,
                    "starts_at": FIRST + index * SPACING,
                    "ends_at": FIRST + (index + 1) * SPACING,
                    "blocked_until": FIRST + (index + 1) * SPACING,
                    "status": "booked",
                    "source": "practice",
                    "created_at": now,
                    "updated_at": now,
                }
                for index, appointment in enumerate(appointments)
            ],
        )
    return Practice(practice_id, practitioner_id, appointments, patients)


@dataclass
class Scene:
    world: World
    a: Practice
    b: Practice
    #: The desk account's other session: its owner's, not the thief's.
    owner: Person


@pytest.fixture
def scene(db: Database, clock: SettableClock) -> Scene:
    world = build_world(db, clock)
    b_practice, b_practitioner = _second_practice(db, clock)
    a = _fill(db, clock, world.practice_id, world.practitioner_id)
    b = _fill(db, clock, b_practice, b_practitioner)
    with db.write() as session:
        token = do_issue_token(session, now=clock.now(), account_id=world.secretary.account_id)
    return Scene(world, a, b, Person(world.secretary.account_id, token))


@pytest.fixture
def app(db: Database, clock: SettableClock) -> FastAPI:
    # The thief here reads 500 appointments: the anomaly counters (docs/containment.md) would
    # stop it well before; this test is about the report of what it did read.
    return create_app(
        Settings(run_refresher=False, containment_enabled=False), database=db, clock=clock
    )


def _client(app: FastAPI, person: Person, address: str) -> TestClient:
    client = TestClient(app, client=(address, 40_000))
    client.headers["Authorization"] = f"Bearer {person.token}"
    client.cookies.set(SESSION_COOKIE, person.token)
    return client


def _ids(response: Response) -> set[UUID]:
    assert response.status_code == 200, response.text
    return {UUID(found["appointment_id"]) for found in response.json()}


def _window(indexes: range) -> dict[str, str]:
    return {
        "from": (FIRST + indexes.start * SPACING).isoformat(),
        "until": (FIRST + indexes.stop * SPACING).isoformat(),
    }


def test_the_report_lists_exactly_what_the_stolen_credential_read(
    db: Database, clock: SettableClock, scene: Scene, app: FastAPI
) -> None:
    world, a, b = scene.world, scene.a, scene.b
    api = f"/api/v1/practices/{a.practice_id}"
    clock.advance(timedelta(minutes=1))
    start = clock.now()
    thief = _client(app, world.secretary, ATTACKER_ADDRESS)
    owner = _client(app, scene.owner, "198.51.100.7")
    colleague = _client(app, world.doctor, "198.51.100.8")

    by_agenda = _ids(thief.get(f"{api}/agenda", params=_window(AGENDA)))
    assert by_agenda == {a.appointments[i] for i in AGENDA}
    by_detail: set[UUID] = set()
    for index in DETAILS:
        answer = thief.get(f"{api}/appointments/{a.appointments[index]}")
        assert answer.status_code == 200, answer.text
        by_detail.add(UUID(answer.json()["appointment_id"]))
    assert by_detail == {a.appointments[i] for i in DETAILS}
    by_list: set[UUID] = set()
    for index in LISTED_PATIENTS:
        page = thief.get(f"/practice/{a.practice_id}/patients/{a.patients[index]}")
        assert page.status_code == 200, page.text
        # The page shows each appointment's time, not its id: 10 rows.
        assert page.text.count("<td><time datetime=") == PER_PRACTICE // PATIENTS
        by_list |= {a.appointments[i] for i in range(index, PER_PRACTICE, PATIENTS)}
    searched = thief.get(f"{api}/patients", params={"query": SHARED_NAME})
    assert {UUID(p["patient_id"]) for p in searched.json()} == {
        a.patients[i] for i in SEARCHED_PATIENTS
    }
    # Probes: another practice's agenda and appointment, an id that does not exist.
    probes = [
        thief.get(f"/api/v1/practices/{b.practice_id}/agenda", params=_window(AGENDA)),
        thief.get(f"/api/v1/practices/{b.practice_id}/appointments/{b.appointments[7]}"),
        thief.get(f"{api}/appointments/{uuid4()}"),
    ]
    assert [probe.status_code for probe in probes] == [404, 404, 404]
    # The owner and a colleague read other appointments of A in the same minutes.
    owner_read = _ids(owner.get(f"{api}/agenda", params=_window(range(300, 400))))
    for index in range(20_000, 20_050):
        answer = owner.get(f"{api}/appointments/{a.appointments[index]}")
        assert answer.status_code == 200, answer.text
        owner_read.add(a.appointments[index])
    colleague_read = _ids(colleague.get(f"{api}/agenda", params=_window(range(500, 560))))
    sources = {"agenda": by_agenda, "detail": by_detail, "desk patient list": by_list}
    expected = by_agenda | by_detail | by_list
    assert len(expected) == 500
    assert not (owner_read | colleague_read) & expected

    patients = {a.patient_of(i) for i in (*AGENDA, *DETAILS, *LISTED_PATIENTS)}
    patients |= {a.patients[i] for i in SEARCHED_PATIENTS}
    stolen = credential_id(hash_token(world.secretary.token))
    for suspect in (
        Suspect(credential_id=stolen),
        Suspect(address=ATTACKER_ADDRESS, since=start),
        Suspect(account_id=world.secretary.account_id, prefix="203.0.113.0/24"),
    ):
        with db.read() as session:
            report = build_report(session, now=clock.now(), suspect=suspect)
        found = {found.appointment_id for found in report.appointments}
        # Which read endpoint's event fails to name what it returned, if one does.
        assert {name: len(ids - found) for name, ids in sources.items()} == dict.fromkeys(
            sources, 0
        ), suspect
        assert found == expected, suspect
        [practice] = report.practices
        assert practice.practice_id == a.practice_id
        assert set(practice.appointments) == expected
        assert {
            "searched": len({a.patients[i] for i in SEARCHED_PATIENTS} - set(practice.patients))
        } == {"searched": 0}
        assert set(practice.patients) == patients
        assert set(report.persons) == patients
        assert report.without_practice == ()
        assert report.touched.denied == len(probes)
        assert b.appointments[7] in report.touched.tried[ObjectKind.APPOINTMENT]
        assert report.touched.credentials == {stolen}
