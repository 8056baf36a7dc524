"""Lookups by id that a caller may aim at somebody else's object, with a scene holding such
objects: shared by ``test_not_yours.py`` and ``bench/not_found_timing.py``."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import httpx2 as httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from colloque.booking.changes import do_cancel_appointment
from colloque.booking.rules import CancelReason
from colloque.booking.waitlist.models import WaitlistOffer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.crypto.items import ItemKey
from colloque.crypto.sealed_documents import DocumentInfo, seal_document
from colloque.records.services import store_sealed_item
from colloque.storage.engine import Database
from tests.factories import (
    Person,
    World,
    book,
    make_patient,
    make_person,
    register_at_practice,
)
from tests.functional.authorization.conftest import auth
from tests.functional.records.helpers import give_keys, make_group

TUE_0900 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
WED_1000 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
P = "/api/v1/practices"


@dataclass(frozen=True)
class Lookup:
    """One request, as ``who``, for an object id: somebody else's, or a random one."""

    who: Callable[[World], Person]
    request: Callable[[TestClient, Person, uuid.UUID], httpx.Response]
    status: int


@dataclass(frozen=True)
class Theirs:
    """The scene's objects that are not the asking person's."""

    appointment: uuid.UUID
    entry: uuid.UUID
    offer: uuid.UUID
    document: uuid.UUID
    unregistered_patient: uuid.UUID


def build_theirs(db: Database, clock: SettableClock, world: World) -> Theirs:
    appointment = book(db, clock, world, WED_1000)
    # The child waits; the stranger's appointment, cancelled, frees the time it waits for.
    taken = book(
        db, clock, world, TUE_0900, person=world.stranger, patient_id=world.stranger_patient_id
    )
    with db.write() as session:
        entry = do_join_waitlist(
            session,
            now=clock.now(),
            principal=world.holder.principal(db),
            practice_id=world.practice_id,
            practitioner_id=world.practitioner_id,
            duration_minutes=20,
            patient_id=world.child_patient_id,
            first_day=date(2026, 3, 3),
            last_day=date(2026, 3, 5),
        )
        entry_id = entry.entry_id
    with db.write() as session:
        do_cancel_appointment(
            session,
            now=clock.now(),
            principal=world.secretary.principal(db),
            practice_id=world.practice_id,
            appointment_id=taken.appointment_id,
            reason=CancelReason.PRACTITIONER_UNAVAILABLE,
        )
    with db.read() as session:
        offer_id = session.scalar(
            select(WaitlistOffer.offer_id).where(WaitlistOffer.entry_id == entry_id)
        )
    assert offer_id is not None
    # A document of the stranger's patient, which the holder has no business knowing of.
    register_at_practice(db, clock, world, world.stranger_patient_id)
    doctor = give_keys(db, clock, world.doctor.account_id)
    stranger = give_keys(db, clock, world.stranger.account_id)
    give_keys(db, clock, world.holder.account_id)
    group = make_group(db, clock, world.practice_id, [doctor])
    sealed = seal_document(
        document_id=uuid.uuid4(),
        patient_id=world.stranger_patient_id,
        info=DocumentInfo(
            "compte rendu.pdf", "application/pdf", bytes(32), ItemKey(secrets.token_bytes(32))
        ),
        author=doctor,
        recipients=[stranger.encryption_binding(), group.encryption_binding()],
    )
    with db.write() as session:
        document = store_sealed_item(
            session,
            principal=world.doctor.principal(db),
            practice_id=world.practice_id,
            patient_id=world.stranger_patient_id,
            kind="document",
            context_id=world.stranger_patient_id,
            envelope=sealed.envelope,
            wraps=sealed.wraps,
            now=clock.now(),
            size_bytes=1000,
        )
        document_id = document.item_id
    outsider = make_person(db, clock, "Outsider Oscar")
    return Theirs(
        appointment=appointment.appointment_id,
        entry=entry_id,
        offer=offer_id,
        document=document_id,
        unregistered_patient=make_patient(db, clock, outsider, "Oscar", "Dehors"),
    )


def lookups(world: World, theirs: Theirs) -> dict[str, tuple[Lookup, uuid.UUID]]:
    practice = f"{P}/{world.practice_id}"
    own_records = f"/api/v1/me/patients/{world.holder_patient_id}/practices/{world.practice_id}"
    desk_records = f"{practice}/patients/{world.holder_patient_id}"

    def stranger(w: World) -> Person:
        return w.stranger

    def holder(w: World) -> Person:
        return w.holder

    def get(
        path: Callable[[uuid.UUID], str], **params: Callable[[uuid.UUID], str]
    ) -> Callable[[TestClient, Person, uuid.UUID], httpx.Response]:
        def send(client: TestClient, person: Person, id_: uuid.UUID) -> httpx.Response:
            return client.get(
                path(id_), params={k: v(id_) for k, v in params.items()}, headers=auth(person)
            )

        return send

    def booking(client: TestClient, person: Person, id_: uuid.UUID) -> httpx.Response:
        return client.post(
            "/api/v1/appointments",
            json={
                "practice_id": str(world.practice_id),
                "practitioner_id": str(world.practitioner_id),
                "patient_id": str(id_),
                "starts_at": "2026-03-05T09:00:00+00:00",
                "duration_minutes": 20,
                "appointment_id": str(uuid.uuid4()),
            },
            headers=auth(person),
        )

    def joining(client: TestClient, person: Person, id_: uuid.UUID) -> httpx.Response:
        return client.post(
            "/api/v1/waitlist",
            json={
                "practice_id": str(world.practice_id),
                "practitioner_id": str(world.practitioner_id),
                "duration_minutes": 20,
                "patient_id": str(id_),
                "first_day": "2026-03-09",
                "last_day": "2026-03-13",
            },
            headers=auth(person),
        )

    def leaving(client: TestClient, person: Person, id_: uuid.UUID) -> httpx.Response:
        return client.delete(f"{practice}/waitlist/{id_}", headers=auth(person))

    def deciding(client: TestClient, person: Person, id_: uuid.UUID) -> httpx.Response:
        return client.post(
            f"{practice}/waitlist-offers/{id_}/decision",
            json={"accept": False},
            headers=auth(person),
        )

    def removing(client: TestClient, person: Person, id_: uuid.UUID) -> httpx.Response:
        return client.delete(f"/api/v1/me/patients/{id_}", headers=auth(person))

    def doctor(w: World) -> Person:
        return w.doctor

    def secretary(w: World) -> Person:
        return w.secretary

    return {
        "appointment": (
            Lookup(stranger, get(lambda i: f"{practice}/appointments/{i}"), 404),
            theirs.appointment,
        ),
        "online booking's patient": (Lookup(stranger, booking, 404), world.holder_patient_id),
        "waitlist's patient": (Lookup(stranger, joining, 404), world.holder_patient_id),
        "waitlist entry": (Lookup(stranger, leaving, 404), theirs.entry),
        "waitlist offer": (Lookup(stranger, deciding, 404), theirs.offer),
        "relative": (Lookup(stranger, removing, 404), world.child_patient_id),
        "messages' patient": (
            Lookup(
                stranger,
                get(lambda i: f"/api/v1/me/patients/{i}/practices/{world.practice_id}/messages"),
                404,
            ),
            world.holder_patient_id,
        ),
        "access history's patient": (
            Lookup(stranger, get(lambda _: "/api/v1/me/access-history", patient_id=str), 404),
            world.holder_patient_id,
        ),
        "holder's document": (
            Lookup(holder, get(lambda i: f"{own_records}/documents/{i}/content"), 404),
            theirs.document,
        ),
        "practitioner's document": (
            Lookup(doctor, get(lambda i: f"{desk_records}/documents/{i}/content"), 404),
            theirs.document,
        ),
        "messages' cursor": (
            Lookup(holder, get(lambda _: f"{own_records}/messages", before=str), 422),
            theirs.document,
        ),
        "registry patient": (
            Lookup(secretary, get(lambda i: f"{practice}/patients/{i}"), 404),
            theirs.unregistered_patient,
        ),
    }


#: Every lookup of :func:`lookups`, in a fixed order (test ids, the benchmark's table).
LOOKUP_NAMES = (
    "appointment",
    "online booking's patient",
    "waitlist's patient",
    "waitlist entry",
    "waitlist offer",
    "relative",
    "messages' patient",
    "access history's patient",
    "holder's document",
    "practitioner's document",
    "messages' cursor",
    "registry patient",
)
