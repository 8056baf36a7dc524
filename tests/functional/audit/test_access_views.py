"""The audit log as people see it: a patient's access history (their own record and their
relatives', nobody else's) and a practice's log for its admins, filtered and paged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from colloque.accesslog.history import list_access_history
from colloque.accesslog.practice_log import LogFilter, list_practice_log
from colloque.audit.context import RequestContext, bound
from colloque.audit.models import AuditEvent, AuditEventSubject
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.clock import SettableClock
from colloque.errors import InvalidInput, Unauthenticated
from colloque.principal import ANONYMOUS
from colloque.storage.engine import Database
from tests.factories import Person, World, book, build_world
from tests.functional.http import app_client, bearer, problem
from tests.problems import same_bytes_but_request_id

# Monday 2026-03-02 09:00 in Paris (UTC+1).
MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HISTORY = "/api/v1/me/access-history"


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


@pytest.fixture
def client(db: Database, clock: SettableClock) -> Iterator[TestClient]:
    with app_client(db, clock) as http:
        yield http


def _log(url: str) -> str:
    return url + "/audit"


def _practice_log(world: World) -> str:
    return f"/api/v1/practices/{world.practice_id}/audit"


def _read(
    db: Database,
    clock: SettableClock,
    world: World,
    person: Person,
    *,
    patients: list[UUID],
    appointments: Sequence[UUID] = (),
    action: AuditAction = AuditAction.AGENDA_VIEWED,
    address: str | None = None,
) -> UUID:
    """A read of the practice's data by ``person``, as an instrumented endpoint records it."""
    clock.advance(timedelta(seconds=1))
    with bound(RequestContext(client_address=address)), db.write() as session:
        return record(
            session,
            at=clock.now(),
            action=action,
            principal=person.principal(db),
            object_kind="agenda",
            object_id=None,
            practice_id=world.practice_id,
            objects=[(ObjectKind.PATIENT, p) for p in patients]
            + [(ObjectKind.APPOINTMENT, a) for a in appointments],
        )


def _book(db: Database, clock: SettableClock, world: World, day: int, **who: Any) -> Any:
    """A booking a second after whatever came before, so that the history's order is known."""
    clock.advance(timedelta(seconds=1))
    return book(db, clock, world, MON_0900 + timedelta(days=day), **who)


def _history(client: TestClient, person: Person, **params: Any) -> Any:
    answer = client.get(HISTORY, headers=bearer(person), params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_patient_sees_who_accessed_their_records_and_their_relatives(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    own = _book(db, clock, world, 1)
    child = _book(db, clock, world, 2, patient_id=world.child_patient_id)
    strangers = _book(
        db,
        clock,
        world,
        3,
        person=world.stranger,
        patient_id=world.stranger_patient_id,
    )
    _read(
        db,
        clock,
        world,
        world.doctor,
        patients=[world.child_patient_id],
        appointments=[child.appointment_id],
    )
    _read(
        db,
        clock,
        world,
        world.secretary,
        patients=[world.holder_patient_id, world.stranger_patient_id],
        appointments=[own.appointment_id, strangers.appointment_id],
    )

    page = _history(client, world.holder)
    assert page["next_before"] is None
    assert page["patients"] == [
        {"patient_id": str(world.holder_patient_id), "first_name": "Hugo", "last_name": "Bernard"},
        {"patient_id": str(world.child_patient_id), "first_name": "Lina", "last_name": "Bernard"},
    ]
    # The account made both records: its own changes, as everything it does, show as "you".
    made = [i for i in page["items"] if i["action"] == "patients:relative:change"]
    assert {(i["actor"], i["patient_id"]) for i in made} == {
        ("you", str(world.holder_patient_id)),
        ("you", str(world.child_patient_id)),
    }
    rows = [(i["actor"], i["patient_id"], i["action"]) for i in page["items"] if i not in made]
    assert rows == [
        ("secretary", str(world.holder_patient_id), "scheduling:agenda:view"),
        ("practitioner", str(world.child_patient_id), "scheduling:agenda:view"),
        ("you", str(world.child_patient_id), "booking:appointment:book"),
        ("you", str(world.holder_patient_id), "booking:appointment:book"),
    ]
    secretary, doctor, booked, _ = page["items"][:4]
    assert doctor["practitioner_name"] == "Dr Claire Martin"
    assert secretary["practitioner_name"] is None
    assert secretary["practice_name"] == "Cabinet du Test"
    assert secretary["practice_id"] == str(world.practice_id)
    assert secretary["object_kinds"] == ["appointment", "patient"]
    assert secretary["outcome"] == "allowed"
    assert booked["at"] == (clock.now() - timedelta(seconds=3)).isoformat().replace("+00:00", "Z")
    # Who among the staff, by account, how and from where: never.
    for hidden in (world.secretary, world.doctor, world.stranger):
        assert str(hidden.account_id) not in str(page)
    assert str(world.stranger_patient_id) not in str(page)
    assert str(strangers.appointment_id) not in str(page)
    assert not {"credential_id", "client_prefix", "member_id"} & set(secretary)

    # The stranger's history has the secretary's read, their booking and their record's making.
    theirs = _history(client, world.stranger)["items"]
    assert [(i["actor"], i["action"]) for i in theirs] == [
        ("secretary", "scheduling:agenda:view"),
        ("you", "booking:appointment:book"),
        ("you", "patients:relative:change"),
    ]


def test_the_history_filters_by_one_of_the_accounts_patients_and_nobody_elses(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    _read(db, clock, world, world.doctor, patients=[world.child_patient_id])
    _read(db, clock, world, world.doctor, patients=[world.holder_patient_id])
    child = _history(client, world.holder, patient_id=str(world.child_patient_id))["items"]
    assert [(i["patient_id"], i["actor"]) for i in child] == [
        (str(world.child_patient_id), "practitioner"),
        (str(world.child_patient_id), "you"),  # the record's making
    ]

    theirs = client.get(
        HISTORY, headers=bearer(world.holder), params={"patient_id": str(world.stranger_patient_id)}
    )
    unknown = client.get(HISTORY, headers=bearer(world.holder), params={"patient_id": str(uuid4())})
    problem(theirs, 404, field="patient_id")
    assert same_bytes_but_request_id(theirs.content, unknown.content)
    problem(client.get(HISTORY, params={"patient_id": "nope"}), 401)
    invalid = client.get(HISTORY, headers=bearer(world.holder), params={"patient_id": "nope"})
    problem(invalid, 422, field="patient_id")


def test_the_history_pages_newest_first_without_repeats_and_reading_it_is_logged(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    # One event naming both patients: two rows, one per patient, at the very same instant.
    _read(
        db, clock, world, world.doctor, patients=[world.holder_patient_id, world.child_patient_id]
    )
    for _ in range(3):
        _read(db, clock, world, world.secretary, patients=[world.child_patient_id])
    everything = _history(client, world.holder)["items"]
    assert len(everything) == 7  # and the making of both records
    paged: list[Any] = []
    before: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"before": before} if before else {})
        page = _history(client, world.holder, **params)
        paged += page["items"]
        before = page["next_before"]
        if before is None:
            break
    assert paged == everything
    problem(
        client.get(HISTORY, headers=bearer(world.holder), params={"before": "1_x"}),
        422,
        field="before",
    )
    problem(
        client.get(HISTORY, headers=bearer(world.holder), params={"before": "12"}),
        422,
        field="before",
    )
    with db.read() as session:
        viewed = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.ACCESS_HISTORY_VIEWED.value)
        ).all()
    # Each read is an event naming the patients it shows, and none of them fills the history.
    assert len(viewed) == 5  # everything, then four pages
    assert all(event.actor_account_id == world.holder.account_id for event in viewed)
    assert len(_history(client, world.holder)["items"]) == 7


def test_an_event_from_before_the_objects_column_shows_its_one_object(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    event_id = uuid4()
    clock.advance(timedelta(seconds=1))
    with db.write() as session:
        session.execute(
            insert(AuditEvent).values(
                event_id=event_id,
                at=clock.now(),
                action=AuditAction.PRACTICE_PATIENT_VIEWED.value,
                actor_account_id=world.secretary.account_id,
                actor_role="secretary",
                practice_id=world.practice_id,
                subject_id=world.holder_patient_id,
                object_kind="patient",
                object_id=world.holder_patient_id,
                objects=None,
            )
        )
        session.execute(
            insert(AuditEventSubject).values(
                event_id=event_id, subject_id=world.holder_patient_id, at=clock.now()
            )
        )
        # An old event with no object at all.
        session.execute(
            insert(AuditEvent).values(
                event_id=uuid4(),
                at=clock.now(),
                action=AuditAction.AGENDA_VIEWED.value,
                actor_account_id=world.secretary.account_id,
                actor_role="secretary",
                practice_id=world.practice_id,
                object_kind="agenda",
                object_id=None,
                objects=None,
            )
        )
    old = _history(client, world.holder)["items"][0]
    assert (old["actor"], old["object_kinds"]) == ("secretary", ["patient"])
    log = client.get(
        _practice_log(world),
        headers=bearer(world.admin),
        params={"member_id": str(world.secretary.account_id)},
    ).json()["items"]
    objects = [event["objects"] for event in log]
    assert len(objects) == 2
    assert {"patient": [str(world.holder_patient_id)]} in objects
    assert {} in objects


def test_practice_admins_see_who_did_what_filtered_by_member_patient_action_and_time(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    booked = _book(db, clock, world, 1)
    start = clock.now()
    doctor_read = _read(
        db, clock, world, world.doctor, patients=[world.child_patient_id], address="203.0.113.9"
    )
    secretary_read = _read(
        db,
        clock,
        world,
        world.secretary,
        patients=[world.holder_patient_id],
        appointments=[booked.appointment_id],
        action=AuditAction.APPOINTMENT_VIEWED,
    )
    url = _practice_log(world)
    admin = bearer(world.admin)

    everything = client.get(url, headers=admin)
    assert everything.status_code == 200, everything.text
    items = everything.json()["items"]
    assert [i["event_id"] for i in items[:2]] == [str(secretary_read), str(doctor_read)]
    secretary, doctor = items[:2]
    assert secretary["member_id"] == str(world.secretary.account_id)
    assert secretary["member_name"] == "Secretary Sam"
    assert secretary["role"] == "secretary"
    assert secretary["action"] == "booking:appointment:view"
    assert secretary["outcome"] == "allowed"
    assert secretary["reason"] is None
    assert secretary["objects"] == {
        "appointment": [str(booked.appointment_id)],
        "patient": [str(world.holder_patient_id)],
    }
    assert doctor["client_prefix"] == "203.0.113.0/24"
    assert "203.0.113.9" not in everything.text
    assert {"credential_id", "interface", "request_id"} <= set(doctor)
    # The booking before them: the holder's own, in this practice.
    assert any(i["action"] == "booking:appointment:book" for i in items)

    def ids(**params: Any) -> list[str]:
        answer = client.get(url, headers=admin, params=params)
        assert answer.status_code == 200, answer.text
        return [
            i["event_id"]
            for i in answer.json()["items"]
            if i["action"] != AuditAction.PRACTICE_AUDIT_VIEWED.value
        ]

    assert ids(member_id=str(world.doctor.account_id)) == [str(doctor_read)]
    assert ids(patient_id=str(world.child_patient_id)) == [str(doctor_read)]
    assert ids(action="booking:appointment:view") == [str(secretary_read)]
    # [from, to): the doctor's read at its start is in, the secretary's at its end is not.
    window = {
        "from": (start + timedelta(seconds=1)).isoformat(),
        "to": (start + timedelta(seconds=2)).isoformat(),
    }
    assert ids(**window) == [str(doctor_read)]
    assert ids(member_id=str(world.doctor.account_id), action="booking:appointment:view") == []

    problem(
        client.get(url, headers=admin, params={"from": window["to"], "to": window["from"]}),
        422,
        field="to",
    )
    problem(
        client.get(url, headers=admin, params={"from": "2026-03-02T09:00:00"}), 422, field="from"
    )
    problem(
        client.get(url, headers=admin, params={"action": "no:such:action"}), 422, field="action"
    )
    problem(client.get(url, headers=admin, params={"before": "x"}), 422, field="before")

    # Reading the log is itself in the log, naming the filters' member and patient.
    with db.read() as session:
        reads = session.scalars(
            select(AuditEvent).where(AuditEvent.action == AuditAction.PRACTICE_AUDIT_VIEWED.value)
        ).all()
    assert len(reads) == 6
    assert {read.practice_id for read in reads} == {world.practice_id}
    filtered = [
        r
        for r in reads
        if r.subject_id is None and r.objects and world.child_patient_id.bytes in r.objects
    ]
    assert len(filtered) == 1


def test_only_the_practices_admins_read_its_log(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    url = _practice_log(world)
    problem(client.get(url, headers=bearer(world.secretary)), 403)
    problem(client.get(url, headers=bearer(world.doctor)), 403)
    theirs = client.get(url, headers=bearer(world.holder))
    unknown = client.get(f"/api/v1/practices/{uuid4()}/audit", headers=bearer(world.holder))
    problem(theirs, 404, field="practice_id")
    assert same_bytes_but_request_id(theirs.content, unknown.content)
    problem(client.get(url), 401)


def test_the_practice_log_pages_through_events_of_the_same_instant(
    db: Database, clock: SettableClock, world: World, client: TestClient
) -> None:
    with db.write() as session:
        for _ in range(5):
            record(
                session,
                at=clock.now(),
                action=AuditAction.AGENDA_VIEWED,
                principal=world.doctor.principal(db),
                object_kind="agenda",
                object_id=None,
                practice_id=world.practice_id,
            )
    url = _practice_log(world)
    first = client.get(
        url, headers=bearer(world.admin), params={"action": "scheduling:agenda:view"}
    )
    everything = [i["event_id"] for i in first.json()["items"]]
    assert len(everything) == 5
    paged: list[str] = []
    before: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "action": "scheduling:agenda:view"}
        if before:
            params["before"] = before
        page = client.get(url, headers=bearer(world.admin), params=params).json()
        paged += [i["event_id"] for i in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert paged == everything


def test_the_window_is_checked_by_the_service_too(
    db: Database, clock: SettableClock, world: World
) -> None:
    naive = datetime(2026, 3, 2, 9, 0)
    with db.write() as session, pytest.raises(InvalidInput) as refused:
        list_practice_log(
            session,
            now=clock.now(),
            principal=world.admin.principal(db),
            practice_id=world.practice_id,
            where=LogFilter(end=naive),
        )
    assert refused.value.field == "to"


def test_the_history_is_for_a_signed_in_account(db: Database, clock: SettableClock) -> None:
    with db.write() as session, pytest.raises(Unauthenticated):
        list_access_history(session, now=clock.now(), principal=ANONYMOUS)
