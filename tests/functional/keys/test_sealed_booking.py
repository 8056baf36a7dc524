"""Bookings carry the visit reason and visit type sealed for the patient and the practice.

People are real accounts with keys (tests.functional.keys.conftest); the practice makes its key
group through the API; the patient books through the Python client, which seals on the device.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from colloque.accounts.services import do_add_member
from colloque.api.schemas import b64
from colloque.booking.changes import do_cancel_appointment
from colloque.booking.models import Appointment
from colloque.booking.rules import CancelReason
from colloque.client import ApiError, ColloqueClient
from colloque.client.appointments import open_booking_reason, sealed_booking_fields
from colloque.clock import SettableClock
from colloque.crypto.errors import WrongContext
from colloque.crypto.items import seal_visit_reason
from colloque.crypto.statements import Role as GroupRole
from colloque.crypto.statements import sign_membership
from colloque.patients.registry import do_register_patient
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Role
from colloque.records.models import SealedItemRow
from colloque.storage.engine import Database
from tests.factories import World, book, build_world
from tests.functional.keys.conftest import Keyed, add, keyed

MON_0900 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
REASON = "Douleur au genou depuis la chute"


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)


def _self_patient(db: Database, clock: SettableClock, person: Keyed) -> UUID:
    with db.write() as session:
        return do_add_patient(
            session,
            now=clock.now(),
            principal=person.principal(db),
            first_name="Paul",
            last_name="Genou",
            birth_date=date(1980, 5, 6),
            relationship=Relationship.SELF,
        ).patient_id


@pytest.fixture
def team(db: Database, clock: SettableClock, world: World, http: TestClient) -> dict[str, Any]:
    desk = keyed(db, clock, "desk")
    add(db, world.practice_id, desk, Role.SECRETARY)
    desk_client = desk.client(http)
    # Only an admin signs the group's statements; the desk is attested with its key.
    head = keyed(db, clock, "head")
    add(db, world.practice_id, head, Role.ADMIN)
    head_client = head.client(http)
    head_client.practice_keys.create_group(world.practice_id)
    patient = keyed(db, clock, "patient")
    return {
        "head": head_client,
        "desk": desk_client,
        "patient": patient.client(http),
        "patient_id": _self_patient(db, clock, patient),
    }


def _book(client: ColloqueClient, world: World, patient_id: UUID, at: datetime) -> dict[str, Any]:
    return client.book(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=patient_id,
        starts_at=at,
        visit_type_id=world.consultation_id,
        duration_minutes=20,
        reason=REASON,
    )


def test_patient_and_practice_open_what_the_server_cannot(
    db: Database, world: World, team: dict[str, Any], http: TestClient
) -> None:
    booked = _book(team["patient"], world, team["patient_id"], MON_0900)
    assert "visit_type_id" not in booked
    assert [w["recipient_kind"] for w in booked["sealed_reason"]["wraps"]] == ["user"]
    mine = team["patient"].read_reason(booked)
    assert (mine.reason, mine.visit_type_id) == (REASON, world.consultation_id)

    desk: ColloqueClient = team["desk"]
    agenda = http.get(
        f"/api/v1/practices/{world.practice_id}/agenda",
        params={"from": "2026-03-02T00:00:00+01:00", "until": "2026-03-03T00:00:00+01:00"},
        headers={"Authorization": f"Bearer {desk.token}"},
    ).json()
    [seen] = agenda
    assert [w["recipient_kind"] for w in seen["sealed_reason"]["wraps"]] == ["practice"]
    theirs = desk.read_reason(seen)
    assert (theirs.reason, theirs.visit_type_id) == (REASON, world.consultation_id)

    with db.read() as session:
        stored = session.scalars(select(SealedItemRow.envelope)).one()
        columns = session.get_one(Appointment, (world.practice_id, UUID(booked["appointment_id"])))
    assert REASON.encode() not in stored
    assert not hasattr(columns, "visit_type_id")
    assert columns.ends_at - columns.starts_at == timedelta(minutes=20)


def test_a_reason_moved_onto_another_appointment_is_refused_and_detected(
    db: Database, world: World, team: dict[str, Any], http: TestClient
) -> None:
    patient: ColloqueClient = team["patient"]
    first = _book(patient, world, team["patient_id"], MON_0900)
    # The server refuses an envelope sealed for another appointment id.
    replay = {
        "practice_id": str(world.practice_id),
        "practitioner_id": str(world.practitioner_id),
        "patient_id": str(team["patient_id"]),
        "starts_at": (MON_0900 + timedelta(days=14)).isoformat(),
        "duration_minutes": 20,
        "appointment_id": str(uuid4()),
        "sealed_reason": {
            "envelope": first["sealed_reason"]["envelope"],
            "wraps": [w["wrap"] for w in first["sealed_reason"]["wraps"]],
        },
    }
    refused = http.post(
        "/api/v1/appointments",
        json=replay,
        headers={"Authorization": f"Bearer {patient.token}"},
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"].startswith("sealed_reason")
    # A server that moves the ciphertext itself is caught when the patient opens it.
    second = patient.book(
        practice_id=world.practice_id,
        practitioner_id=world.practitioner_id,
        patient_id=team["patient_id"],
        starts_at=MON_0900 + timedelta(days=7),
        visit_type_id=world.consultation_id,
        duration_minutes=20,
        reason="autre chose",
    )
    with db.write() as session:
        session.execute(
            update(SealedItemRow)
            .where(SealedItemRow.context_id == UUID(first["appointment_id"]))
            .values(context_id=UUID(second["appointment_id"]))
        )
        session.execute(
            update(SealedItemRow)
            .where(SealedItemRow.item_id == UUID(second["sealed_reason"]["item_id"]))
            .values(context_id=UUID(first["appointment_id"]))
        )
    moved = {a["appointment_id"]: a for a in patient.my_appointments()}
    with pytest.raises(WrongContext):
        patient.read_reason(moved[second["appointment_id"]])


def test_the_wraps_must_reach_exactly_the_patient_and_the_practice(
    db: Database, clock: SettableClock, world: World, team: dict[str, Any], http: TestClient
) -> None:
    patient: ColloqueClient = team["patient"]
    # A client that skips the practice's key is refused: the practice could not read the reason.
    keys = patient.unlocked_keys
    fields = sealed_booking_fields(
        author=keys,
        visit_type_id=world.consultation_id,
        reason=REASON,
        patient_key=keys.encryption_binding(),
        practice_key=None,
    )
    body = {
        "practice_id": str(world.practice_id),
        "practitioner_id": str(world.practitioner_id),
        "patient_id": str(team["patient_id"]),
        "starts_at": MON_0900.isoformat(),
        "duration_minutes": 20,
        **fields,
    }
    answer = http.post(
        "/api/v1/appointments", json=body, headers={"Authorization": f"Bearer {patient.token}"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"].startswith("sealed_reason")
    with db.read() as session:
        assert session.scalars(select(Appointment)).all() == []
    # Without a sealed reason, an appointment id must not be sent (nothing names it).
    with pytest.raises(ApiError) as caught:
        patient._request(
            "POST",
            "/api/v1/appointments",
            json={**body, "sealed_reason": None, "appointment_id": str(uuid4()) + "x"},
        )
    assert caught.value.field == "appointment_id"


def test_nothing_is_sealed_for_a_key_a_removed_member_still_holds(
    db: Database, clock: SettableClock, world: World, team: dict[str, Any], http: TestClient
) -> None:
    leaver = keyed(db, clock, "leaver")
    add(db, world.practice_id, leaver, Role.SECRETARY)
    desk: ColloqueClient = team["desk"]
    head: ColloqueClient = team["head"]
    head.practice_keys.attest_member(world.practice_id, leaver.account_id, GroupRole.SECRETARY)
    assert head.practice_keys.wrap_for_pending(world.practice_id) == 1
    # The admin signs the removal without rotating (a client that stopped half-way).
    chain = head.key_directory.membership_chain(world.practice_id)
    assert chain is not None
    removal = sign_membership(
        group_id=world.practice_id,
        sequence=chain.sequence + 1,
        previous=chain.head,
        member_id=leaver.account_id,
        role=GroupRole.REMOVED,
        signer=head.unlocked_keys,
    )
    removed = http.post(
        f"/api/v1/practices/{world.practice_id}/key-group/memberships",
        json={"statements": [b64(removal.to_leaf())]},
        headers={"Authorization": f"Bearer {head.token}"},
    )
    assert removed.status_code < 300, removed.text
    with pytest.raises(ApiError) as caught:
        _book(team["patient"], world, team["patient_id"], MON_0900)
    assert (caught.value.status, caught.value.field) == (409, "sealed_reason.wraps")
    with db.read() as session:
        assert session.scalars(select(Appointment)).all() == []
    # Once an admin's client rotates, booking works, sealed for the new epoch only.
    new_key = head.practice_keys.rotate(world.practice_id)
    booked = _book(team["patient"], world, team["patient_id"], MON_0900)
    agenda = http.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{booked['appointment_id']}",
        headers={"Authorization": f"Bearer {desk.token}"},
    ).json()
    assert [w["epoch"] for w in agenda["sealed_reason"]["wraps"]] == [new_key.epoch]
    assert desk.read_reason(agenda).reason == REASON


def test_accepting_a_waitlist_offer_attaches_a_sealed_reason(
    db: Database, clock: SettableClock, world: World, team: dict[str, Any], http: TestClient
) -> None:
    taken = book(db, clock, world, TUE_0900)
    patient: ColloqueClient = team["patient"]
    auth = {"Authorization": f"Bearer {patient.token}"}
    joined = http.post(
        "/api/v1/waitlist",
        json={
            "practice_id": str(world.practice_id),
            "practitioner_id": str(world.practitioner_id),
            "duration_minutes": 20,
            "patient_id": str(team["patient_id"]),
            "first_day": "2026-03-03",
            "last_day": "2026-03-03",
        },
        headers=auth,
    )
    assert joined.status_code == 201, joined.text
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.NO_LONGER_NEEDED,
        )
    [entry] = http.get("/api/v1/me/waitlist", headers=auth).json()
    offer = entry["pending_offer"]
    keys = patient.unlocked_keys
    sealed = seal_visit_reason(
        item_id=uuid4(),
        appointment_id=UUID(offer["appointment_id"]),
        visit_type_id=world.consultation_id,
        reason=REASON,
        author=keys,
        recipients=[
            keys.encryption_binding(),
            patient.key_directory.practice_key(world.practice_id),
        ],
    )
    accepted = http.post(
        f"/api/v1/practices/{world.practice_id}/waitlist-offers/{offer['offer_id']}/decision",
        json={
            "accept": True,
            "sealed_reason": {
                "envelope": b64(sealed.envelope),
                "wraps": [b64(wrap) for wrap in sealed.wraps],
            },
        },
        headers=auth,
    )
    assert accepted.status_code == 200, accepted.text
    mine = {a["appointment_id"]: a for a in patient.my_appointments()}
    assert patient.read_reason(mine[offer["appointment_id"]]).reason == REASON


def test_the_client_says_what_it_cannot_open(
    db: Database, clock: SettableClock, world: World, team: dict[str, Any], http: TestClient
) -> None:
    patient: ColloqueClient = team["patient"]
    desk: ColloqueClient = team["desk"]
    booked = _book(patient, world, team["patient_id"], MON_0900)
    with pytest.raises(LookupError, match="no sealed reason"):
        patient.read_reason({**booked, "sealed_reason": None})
    # A wrap for someone else: nothing these keys can open.
    with pytest.raises(LookupError, match="addressed"):
        open_booking_reason(
            booked, holder=desk.unlocked_keys, author=patient.unlocked_keys.signing_binding()
        )
    # Staff holding no group key of the wrap's epoch.
    seen = http.get(
        f"/api/v1/practices/{world.practice_id}/appointments/{booked['appointment_id']}",
        headers={"Authorization": f"Bearer {desk.token}"},
    ).json()
    for wrap in seen["sealed_reason"]["wraps"]:
        wrap["epoch"] = 99
    with pytest.raises(LookupError, match="epoch"):
        desk.read_reason(seen)
    # A directory that cannot answer stops the booking before anything is sent.
    patient._token = "not-a-token"
    with pytest.raises(ApiError) as caught:
        _book(patient, world, team["patient_id"], MON_0900 + timedelta(days=7))
    assert caught.value.status == 401
    with db.read() as session:
        assert len(session.scalars(select(Appointment)).all()) == 1


def test_notes_messages_and_offers_through_the_client(
    db: Database,
    clock: SettableClock,
    world: World,
    team: dict[str, Any],
    http: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The client works out the recipients (holder and practice group) from the key directory."""
    practice = world.practice_id
    doctor = keyed(db, clock, "doctor")
    with db.write() as session:
        do_add_member(
            session,
            practice_id=practice,
            account_id=doctor.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=world.practitioner_id,
        )
    desk: ColloqueClient = team["desk"]
    head: ColloqueClient = team["head"]
    head.practice_keys.attest_member(practice, doctor.account_id, GroupRole.PRACTITIONER)
    head.practice_keys.wrap_for_pending(practice)
    doc = doctor.client(http)
    patient: ColloqueClient = team["patient"]
    me = patient.own_patient_id()  # made at sign-up, completed by _self_patient
    assert me == team["patient_id"]
    booked = _book(patient, world, me, TUE_0900)  # the practice now knows the patient

    doc.write_note(practice_id=practice, patient_id=me, text="Allergie: pénicilline")
    for reader, as_holder in ((doc, False), (patient, True)):
        [note] = reader.read_notes(practice_id=practice, patient_id=me, as_holder=as_holder)
        assert note.text == "Allergie: pénicilline"
    desk.send_message(practice_id=practice, patient_id=me, text="Venez à jeun", as_holder=False)
    patient.send_message(practice_id=practice, patient_id=me, text="D'accord", as_holder=True)
    for reader, as_holder in ((desk, False), (patient, True)):
        thread = reader.read_messages(practice_id=practice, patient_id=me, as_holder=as_holder)
        assert sorted(m.text for m in thread) == ["D'accord", "Venez à jeun"]
    # A patient nobody holds: sealed for the practice only.
    with db.write() as session:
        walk_in = do_register_patient(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=practice,
            first_name="Jean",
            last_name="Sanscompte",
            birth_date=date(1950, 1, 1),
        ).patient_id
    desk.send_message(practice_id=practice, patient_id=walk_in, text="Rappel", as_holder=False)
    [sent] = desk.read_messages(practice_id=practice, patient_id=walk_in, as_holder=False)
    assert sent.text == "Rappel"

    child = patient.add_patient(
        first_name="Lou", last_name="Genou", birth_date=date(2018, 4, 5), relationship="child"
    )
    entry = patient.join_waitlist(
        practice_id=practice,
        practitioner_id=world.practitioner_id,
        patient_id=UUID(child["patient_id"]),
        duration_minutes=20,
        first_day=date(2026, 3, 3),
        last_day=date(2026, 3, 3),
    )
    with pytest.raises(LookupError, match="no pending offer"):
        patient.decline_offer(entry)
    patient.cancel(booked)
    [offered] = [e for e in patient.my_waitlist() if e["pending_offer"]]
    assert patient.decline_offer(offered)["outcome"] == "declined"
    relatives_only = [p for p in patient.my_patients() if p["relationship"] != "self"]
    assert relatives_only
    monkeypatch.setattr(patient, "my_patients", lambda: relatives_only)
    with pytest.raises(LookupError, match="no patient record of its own"):
        patient.own_patient_id()
