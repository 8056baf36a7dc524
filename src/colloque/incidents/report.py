"""The incident report: what the suspect's events touched, resolved into what the server holds.

Administrative data is in clear on the server: an appointment's times and status, a patient's
name, birth date and the contact details a practice or the holder's account keeps. Sealed items
(notes, messages, documents, visit reasons) are end-to-end encrypted: the server holds ciphertext
only, so an attacker who went through the server got nothing intelligible of them (GDPR article
34(3)(a)); the report lists them apart, by kind and date.

Each patient concerned is listed under every practice whose data about them was touched: the
appointment's practice, the sealed item's, or the practice an event read the patient in. A
patient read outside any practice (an account's own records) is listed under the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from colloque.accounts.models import Account
from colloque.audit.objects import ObjectKind
from colloque.booking.models import Appointment
from colloque.incidents.scan import Suspect, Touched, scan
from colloque.incidents.services import AUTHORITY_DEADLINE, IncidentRecord, get_incident
from colloque.patients.models import Patient, PracticePatient
from colloque.records.models import SealedItemRow
from colloque.scheduling.models import Practice

#: Ids per ``IN (...)`` list: under every database's limit on bound parameters.
CHUNK = 1_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AppointmentFact:
    appointment_id: UUID
    practice_id: UUID
    patient_id: UUID
    practitioner_id: UUID
    starts_at: datetime
    ends_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class SealedFact:
    item_id: UUID
    practice_id: UUID
    patient_id: UUID
    kind: str
    created_at: datetime
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Person:
    patient_id: UUID
    first_name: str
    last_name: str
    birth_date: date | None
    relationship: str
    #: The holder account's email and language, when the patient has one.
    email: str | None
    language: str


@dataclass(frozen=True, slots=True)
class Contact:
    """What one practice keeps to reach a patient."""

    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class PracticeFacts:
    practice_id: UUID
    name: str
    address: str
    postcode: str
    city: str
    timezone: str
    patients: tuple[UUID, ...]
    appointments: tuple[UUID, ...]
    items: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    suspect: Suspect
    #: When the breach was detected: the incident's, or as given for a report without one.
    detected_at: datetime
    incident: IncidentRecord | None
    touched: Touched
    appointments: tuple[AppointmentFact, ...]
    items: tuple[SealedFact, ...]
    persons: dict[UUID, Person]
    contacts: dict[tuple[UUID, UUID], Contact]
    practices: tuple[PracticeFacts, ...]
    #: Patients touched outside any practice (an account's own records and relatives).
    without_practice: tuple[UUID, ...]
    #: Ids the events name that the database no longer holds (deleted since).
    gone: dict[ObjectKind, tuple[UUID, ...]]

    @property
    def authority_deadline(self) -> datetime:
        return self.detected_at + AUTHORITY_DEADLINE


def _chunks(values: Iterable[T]) -> Iterator[list[T]]:
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _appointments(session: Session, ids: set[UUID]) -> list[AppointmentFact]:
    columns = (
        Appointment.appointment_id,
        Appointment.practice_id,
        Appointment.patient_id,
        Appointment.practitioner_id,
        Appointment.starts_at,
        Appointment.ends_at,
        Appointment.status,
    )
    return [AppointmentFact(*row) for row in _rows_of(session, columns, ids)]


def _items(session: Session, ids: set[UUID]) -> list[SealedFact]:
    columns = (
        SealedItemRow.item_id,
        SealedItemRow.practice_id,
        SealedItemRow.patient_id,
        SealedItemRow.kind,
        SealedItemRow.created_at,
        SealedItemRow.size_bytes,
    )
    return [SealedFact(*row) for row in _rows_of(session, columns, ids)]


def _rows_of(
    session: Session, columns: tuple[InstrumentedAttribute[Any], ...], ids: set[UUID]
) -> Iterator[Sequence[Any]]:
    """The rows whose first column (their id) is in ``ids``, looked up a chunk at a time."""
    for chunk in _chunks(sorted(ids)):
        yield from session.execute(select(*columns).where(columns[0].in_(chunk)))


def _persons(session: Session, ids: set[UUID]) -> dict[UUID, Person]:
    found: dict[UUID, Person] = {}
    for chunk in _chunks(sorted(ids)):
        rows = session.execute(
            select(
                Patient.patient_id,
                Patient.first_name,
                Patient.last_name,
                Patient.birth_date,
                Patient.relationship,
                Account.email,
                Account.language,
            )
            .outerjoin(Account, Account.account_id == Patient.holder_account_id)
            .where(Patient.patient_id.in_(chunk))
        )
        for patient_id, first, last, born, relationship, email, language in rows:
            found[patient_id] = Person(
                patient_id=patient_id,
                first_name=first,
                last_name=last,
                birth_date=born,
                relationship=relationship,
                email=email,
                language=language or "fr",
            )
    return found


def _contacts(session: Session, pairs: set[tuple[UUID, UUID]]) -> dict[tuple[UUID, UUID], Contact]:
    found: dict[tuple[UUID, UUID], Contact] = {}
    for chunk in _chunks(sorted(pairs)):
        rows = session.execute(
            select(
                PracticePatient.practice_id,
                PracticePatient.patient_id,
                PracticePatient.phone,
                PracticePatient.email,
            ).where(tuple_(PracticePatient.practice_id, PracticePatient.patient_id).in_(chunk))
        )
        for practice_id, patient_id, phone, email in rows:
            found[(practice_id, patient_id)] = Contact(phone=phone, email=email)
    return found


def _practices(session: Session, ids: set[UUID]) -> dict[UUID, Practice]:
    found: dict[UUID, Practice] = {}
    for chunk in _chunks(sorted(ids)):
        for practice in session.scalars(select(Practice).where(Practice.practice_id.in_(chunk))):
            found[practice.practice_id] = practice
    return found


def build_report(
    session: Session,
    *,
    now: datetime,
    suspect: Suspect,
    incident_id: UUID | None = None,
    detected_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Scan the suspect's events and resolve what they touched. Reads only."""
    incident = None if incident_id is None else get_incident(session, incident_id=incident_id)
    touched = scan(session, suspect, progress=progress)
    appointments = _appointments(session, touched.appointments)
    items = _items(session, touched.items)
    concerned: set[tuple[UUID | None, UUID]] = set(touched.patients)
    concerned.update((a.practice_id, a.patient_id) for a in appointments)
    concerned.update((i.practice_id, i.patient_id) for i in items)
    persons = _persons(session, {patient for _, patient in concerned})
    in_practice = {(practice, patient) for practice, patient in concerned if practice is not None}
    contacts = _contacts(session, in_practice)
    practices = _practices(session, {practice for practice, _ in in_practice})
    facts = []
    for practice_id in sorted(practices):
        practice = practices[practice_id]
        facts.append(
            PracticeFacts(
                practice_id=practice_id,
                name=practice.name,
                address=practice.address,
                postcode=practice.postcode,
                city=practice.city,
                timezone=practice.timezone,
                patients=tuple(
                    sorted(
                        patient
                        for practice_key, patient in in_practice
                        if practice_key == practice_id and patient in persons
                    )
                ),
                appointments=tuple(
                    sorted(a.appointment_id for a in appointments if a.practice_id == practice_id)
                ),
                items=tuple(sorted(i.item_id for i in items if i.practice_id == practice_id)),
            )
        )
    gone = {
        ObjectKind.APPOINTMENT: touched.appointments - {a.appointment_id for a in appointments},
        ObjectKind.ITEM: touched.items - {i.item_id for i in items},
        ObjectKind.PATIENT: {patient for _, patient in concerned} - set(persons),
    }
    return Report(
        generated_at=now,
        suspect=suspect,
        detected_at=(incident.detected_at if incident is not None else (detected_at or now)),
        incident=incident,
        touched=touched,
        appointments=tuple(sorted(appointments, key=lambda a: (a.starts_at, a.appointment_id))),
        items=tuple(sorted(items, key=lambda i: (i.created_at, i.item_id))),
        persons=persons,
        contacts=contacts,
        practices=tuple(facts),
        without_practice=tuple(
            sorted(
                patient
                for practice, patient in concerned
                if practice is None and patient in persons
            )
        ),
        gone={kind: tuple(sorted(ids)) for kind, ids in gone.items() if ids},
    )
