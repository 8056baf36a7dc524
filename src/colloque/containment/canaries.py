"""Decoy patients and appointments: a legitimate screen never shows one, a thief's sweep does.

Each practice holds two decoy patients in its registry, and for each practitioner one decoy
appointment years ahead and one years back, at night: no desk looks there, an agenda sweep over
years does. The decoys look like any row (the API has no flag for them). They are found by
their id alone, with no query: its last 64 bits are a keyed hash of its first 64
(``ServerKeys.canary_tag``), so checking what a read returned costs a hash per id. The table
``containment_canaries`` lists them too, for the counts that must leave them out.

They never come up for a real query: no name key (a search by name never finds them), no phone,
a birth date over a hundred years back; no holder account and no contact, so no message can
reach them; a booking, message or change naming one is refused by the counters
(``containment.services``), the credential suspended.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from colloque.booking import ledger
from colloque.booking.models import Appointment
from colloque.booking.rules import Status
from colloque.containment.models import Canary
from colloque.patients.models import Patient, PracticePatient
from colloque.scheduling.models import PracticePractitioner, Practitioner

PATIENTS_PER_PRACTICE = 2
_TAG_BYTES = 8

#: Plausible, common names: a decoy must not stand out in a sweep's loot.
_FIRST = ("Jeanne", "Marcel", "Odette", "Lucien", "Germaine", "René", "Simone", "Henri")
_LAST = ("Moreau", "Girard", "Lefèvre", "Roussel", "Fontaine", "Chevalier", "Mercier", "Blanc")


def _tag(key: bytes, head: bytes) -> bytes:
    digest = bytearray(hashlib.blake2b(head, key=key, digest_size=_TAG_BYTES).digest())
    digest[0] = (digest[0] & 0x3F) | 0x80  # the UUID variant bits, as in any version-4 id
    return bytes(digest)


def new_canary_id(key: bytes) -> UUID:
    """A random version-4 id whose second half is the keyed tag of its first."""
    head = bytearray(secrets.token_bytes(_TAG_BYTES))
    head[6] = (head[6] & 0x0F) | 0x40
    return UUID(bytes=bytes(head) + _tag(key, bytes(head)))


def is_canary(key: bytes, object_id: UUID) -> bool:
    raw = object_id.bytes
    return raw[_TAG_BYTES:] == _tag(key, raw[:_TAG_BYTES])


#: Ids this process found not to be decoys, for the one key it runs with. A desk's reloads name
#: the same persons and appointments again and again, and a keyed hash per id was most of what
#: the anomaly counters cost a read that adds nobody (docs/containment.md, "Cost"). A verdict
#: never changes for a key, so remembering it is safe; the set is cleared when full.
_REAL_MAX = 16_384
_real_key: bytes | None = None
#: Kept as integers: a UUID's hash is computed in Python, an integer's is not.
_real: set[int] = set()


def first_canary(key: bytes, ids: Iterable[UUID]) -> UUID | None:
    global _real_key
    if key != _real_key:
        _real.clear()
        _real_key = key
    for object_id in ids:
        number = object_id.int
        if number in _real:
            continue
        if is_canary(key, object_id):
            return object_id
        if len(_real) >= _REAL_MAX:
            _real.clear()
        _real.add(number)
    return None


def _days(low: int, high: int) -> timedelta:
    return timedelta(days=low + secrets.randbelow(high - low))


def do_plant_canaries(session: Session, *, now: datetime, practice_id: UUID, key: bytes) -> int:
    """Give the practice its decoys: the patients it lacks, and for each practitioner without
    them a decoy appointment 3 to 8 years ahead and one 4 to 10 years back. Idempotent; returns
    how many rows were planted. Run for a new practice, a new practitioner, by ``colloque
    canaries plant`` for existing practices, and by the demo."""
    planted = 0
    # Decoys planted under a rotated key are no longer recognised: they stay, new ones join them.
    patients = [
        patient_id
        for patient_id in session.scalars(
            select(Canary.object_id).where(
                Canary.practice_id == practice_id, Canary.kind == "patient"
            )
        )
        if is_canary(key, patient_id)
    ]
    while len(patients) < PATIENTS_PER_PRACTICE:
        patient_id = new_canary_id(key)
        born = date(now.year - 101 - secrets.randbelow(9), 1 + secrets.randbelow(12), 1)
        session.add(
            Patient(
                patient_id=patient_id,
                holder_account_id=None,
                relationship="self",
                first_name=secrets.choice(_FIRST),
                last_name=secrets.choice(_LAST),
                name_key="",
                birth_date=born + timedelta(days=secrets.randbelow(28)),
                created_at=now - _days(30, 900),
                reminders=False,
            )
        )
        session.flush()
        session.add(
            PracticePatient(
                practice_id=practice_id, patient_id=patient_id, added_at=now - _days(30, 900)
            )
        )
        _list(session, now, practice_id, patient_id, "patient")
        patients.append(patient_id)
        planted += 1
    covered = {
        practitioner_id
        for practitioner_id, appointment_id in session.execute(
            select(Appointment.practitioner_id, Appointment.appointment_id)
            .join(Canary, Canary.object_id == Appointment.appointment_id)
            .where(Appointment.practice_id == practice_id, Canary.practice_id == practice_id)
        )
        if is_canary(key, appointment_id)
    }
    practitioners = session.execute(
        select(PracticePractitioner.practitioner_id, Practitioner.specialty)
        .join(Practitioner, Practitioner.practitioner_id == PracticePractitioner.practitioner_id)
        .where(PracticePractitioner.practice_id == practice_id)
        .order_by(PracticePractitioner.practitioner_id)
    ).all()
    for practitioner_id, specialty in practitioners:
        if practitioner_id in covered:
            continue
        for offset, status in (
            (_days(3 * 365, 8 * 365), Status.BOOKED),
            (-_days(4 * 365, 10 * 365), Status.DONE),
        ):
            day = (now + offset).replace(hour=2, minute=15 * secrets.randbelow(4), second=0)
            starts_at = day.replace(microsecond=0)
            appointment_id = new_canary_id(key)
            decoy = Appointment(
                practice_id=practice_id,
                appointment_id=appointment_id,
                practitioner_id=practitioner_id,
                patient_id=secrets.choice(patients),
                booked_by_account_id=None,
                specialty=specialty,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=15),
                blocked_until=starts_at + timedelta(minutes=15),
                status=status.value,
                source="practice",
                reminders_wanted=False,
                created_at=min(now, starts_at) - _days(1, 60),
                updated_at=min(now, starts_at) - _days(0, 1),
            )
            # A booked decoy takes the practitioner's time like any booking (the busy ledger),
            # so that it looks like one. Should that night be taken at another practice, the
            # practitioner keeps only the past decoy: one is enough to trip a reader.
            if status is not Status.BOOKED:
                session.add(decoy)
            elif not ledger.try_add(session, decoy):
                continue
            _list(session, now, practice_id, appointment_id, "appointment")
            planted += 1
    session.flush()
    return planted


def _list(session: Session, now: datetime, practice_id: UUID, object_id: UUID, kind: str) -> None:
    session.add(Canary(practice_id=practice_id, object_id=object_id, kind=kind, created_at=now))


def real_patient_count(session: Session, *, practice_id: UUID) -> int:
    """The practice's registry size, decoys left out (the counters' limits follow it)."""
    decoys = select(Canary.object_id).where(Canary.practice_id == practice_id)
    return (
        session.scalar(
            select(func.count())
            .select_from(PracticePatient)
            .where(
                PracticePatient.practice_id == practice_id,
                PracticePatient.patient_id.not_in(decoys),
            )
        )
        or 0
    )
