"""Answers that tell nothing: a client-chosen id that is already used, by anyone, answers byte for
byte like a malformed one, and counts as a probing miss (docs/threat-model.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.accounts.sessions import hash_token
from colloque.api.schemas import b64
from colloque.authorization.models import ProbingCounter
from colloque.clock import SettableClock
from colloque.crypto.items import SealedItem, conversation_id, seal_message, seal_note
from colloque.principal import credential_id
from colloque.records.services import store_sealed_item
from colloque.storage.engine import Database
from tests.factories import Person, World, book, register_at_practice
from tests.functional.authorization.conftest import auth, make_app
from tests.functional.records.helpers import give_keys, make_group
from tests.problems import blank_request_id

#: The headers two answers must share to look the same (the rest are the request's own).
COMPARED = ("content-type", "content-length", "cache-control", "retry-after")


def fingerprint(answer: httpx.Response) -> tuple[int, tuple[str | None, ...], bytes]:
    return (
        answer.status_code,
        tuple(answer.headers.get(name) for name in COMPARED),
        blank_request_id(answer.content),
    )


def misses(db: Database, person: Person) -> int:
    with db.read() as session:
        count = session.scalar(
            select(ProbingCounter.misses).where(
                ProbingCounter.key == f"credential:{credential_id(hash_token(person.token))}"
            )
        )
    return count or 0


def test_a_used_appointment_id_answers_like_a_malformed_one(
    db: Database, clock: SettableClock, world: World
) -> None:
    starts_at = clock.now() + timedelta(days=3)
    somebody_elses = book(db, clock, world, starts_at.replace(hour=9, minute=0, second=0))
    app, _sleeps = make_app(db, clock)

    def attempt(client: TestClient, appointment_id: uuid.UUID) -> httpx.Response:
        return client.post(
            "/api/v1/appointments",
            json={
                "practice_id": str(world.practice_id),
                "practitioner_id": str(world.practitioner_id),
                "patient_id": str(world.stranger_patient_id),
                "starts_at": starts_at.replace(hour=10, minute=0, second=0).isoformat(),
                "duration_minutes": 20,
                "appointment_id": str(appointment_id),
            },
            headers=auth(world.stranger),
        )

    with TestClient(app) as client:
        used = attempt(client, somebody_elses.appointment_id)
        malformed = attempt(client, uuid.uuid1())
        assert used.status_code == 422
        assert used.json()["field"] == "appointment_id"
        assert fingerprint(used) == fingerprint(malformed)
        assert misses(db, world.stranger) == 2
        # The same request with a fresh id is good: only the id refused it.
        assert attempt(client, uuid.uuid4()).status_code == 201
    assert misses(db, world.stranger) == 2


def test_an_envelope_naming_a_used_item_id_answers_like_a_malformed_one(
    db: Database, clock: SettableClock, world: World
) -> None:
    for patient_id in (world.holder_patient_id, world.stranger_patient_id):
        register_at_practice(db, clock, world, patient_id)
    doctor = give_keys(db, clock, world.doctor.account_id)
    holder = give_keys(db, clock, world.holder.account_id)
    stranger = give_keys(db, clock, world.stranger.account_id)
    group = make_group(db, clock, world.practice_id, [doctor])
    clinical = make_group(db, clock, world.practice_id, [doctor], clinical=True)
    # The stranger's note: an item the holder has no business knowing of.
    theirs = seal_note(
        item_id=uuid.uuid4(),
        patient_id=world.stranger_patient_id,
        text="Tension 12/8",
        author=doctor,
        recipients=[stranger.encryption_binding(), clinical.encryption_binding()],
    )
    with db.write() as session:
        store_sealed_item(
            session,
            principal=world.doctor.principal(db),
            practice_id=world.practice_id,
            patient_id=world.stranger_patient_id,
            kind="note",
            context_id=world.stranger_patient_id,
            envelope=theirs.envelope,
            wraps=theirs.wraps,
            now=clock.now(),
        )
    conversation = conversation_id(
        practice_id=world.practice_id, patient_id=world.holder_patient_id
    )

    def message(item_id: uuid.UUID) -> SealedItem:
        return seal_message(
            item_id=item_id,
            conversation_id=conversation,
            text="Bonjour",
            author=holder,
            recipients=[holder.encryption_binding(), group.encryption_binding()],
        )

    app, _sleeps = make_app(db, clock)
    url = f"/api/v1/me/patients/{world.holder_patient_id}/practices/{world.practice_id}/messages"

    def send(client: TestClient, sealed: SealedItem) -> httpx.Response:
        body = {"envelope": b64(sealed.envelope), "wraps": [b64(w) for w in sealed.wraps]}
        return client.post(url, json=body, headers=auth(world.holder))

    with TestClient(app) as client:
        used = send(client, message(theirs.item_id))
        malformed = send(client, message(uuid.uuid1()))
        assert used.status_code == 422
        assert used.json()["field"] == "envelope"
        assert fingerprint(used) == fingerprint(malformed)
        assert misses(db, world.holder) == 2
        assert send(client, message(uuid.uuid4())).status_code == 201
