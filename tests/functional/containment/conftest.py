"""A practice of 2,000 patients, built with bulk inserts, and the app in-process."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from colloque.api.app import create_app
from colloque.booking.models import Appointment
from colloque.clock import SettableClock
from colloque.config import Settings
from colloque.containment.models import CredentialSuspension
from colloque.ids import new_id
from colloque.notifications.models import AccountMail
from colloque.patients.models import Patient, PracticePatient
from colloque.storage.engine import Database
from colloque.text import search_key
from tests.factories import World, build_world

PATIENTS = 2_000
#: One practitioner's weekdays: 12 appointments of 20 minutes every half hour from 08:00 UTC.
PER_DAY = 12
FIRST = ("Anne", "Paul", "Marie", "Louis", "Claire", "Hugo", "Emma", "Jules", "Léa", "Noah")
SYLLABLES = ("ber", "mar", "tin", "dur", "ro", "lan", "che", "vel", "gar", "nou", "pi", "sa")


def make_app(db: Database, clock: SettableClock) -> FastAPI:
    return create_app(Settings(run_refresher=False), database=db, clock=clock)


def canary_key(app: FastAPI) -> bytes:
    settings: Settings = app.state.settings
    return settings.server_keys.canary_tag


def populate(db: Database, clock: SettableClock, world: World) -> list[UUID]:
    """2,000 registry patients, and the practitioner's appointments from two years back to one
    year ahead (past ones done). Returns the patients' ids."""
    rng = random.Random(15)
    now = clock.now()
    patients: list[dict[str, object]] = []
    contacts = []
    ids: list[UUID] = []
    for _ in range(PATIENTS):
        first = rng.choice(FIRST)
        last = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
        patient_id = new_id()
        ids.append(patient_id)
        patients.append(
            {
                "patient_id": patient_id,
                "holder_account_id": None,
                "relationship": "self",
                "first_name": first,
                "last_name": last,
                "name_key": search_key(f"{first} {last}"),
                "birth_date": date(1940 + rng.randrange(70), 1 + rng.randrange(12), 1),
                "created_at": now,
                "reminders": False,
            }
        )
        contacts.append(
            {"practice_id": world.practice_id, "patient_id": patient_id, "added_at": now}
        )
    appointments = []
    day = now.replace(hour=0, minute=0) - timedelta(days=730)
    while day < now + timedelta(days=365):
        if day.weekday() < 5:
            for slot in range(PER_DAY):
                starts_at = day + timedelta(hours=8, minutes=30 * slot)
                appointments.append(
                    {
                        "practice_id": world.practice_id,
                        "appointment_id": new_id(),
                        "practitioner_id": world.practitioner_id,
                        "patient_id": rng.choice(ids),
                        "specialty": "general_practice",
                        "starts_at": starts_at,
                        "ends_at": starts_at + timedelta(minutes=20),
                        "blocked_until": starts_at + timedelta(minutes=20),
                        "status": "done" if starts_at < now else "booked",
                        "source": "practice",
                        "reminders_wanted": False,
                        "outside_hours": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        day += timedelta(days=1)
    with db.write() as session:
        session.execute(insert(Patient), patients)
        session.execute(insert(PracticePatient), contacts)
        session.execute(insert(Appointment), appointments)
    return ids


def suspensions(db: Database) -> list[CredentialSuspension]:
    with db.read() as session:
        return list(session.scalars(select(CredentialSuspension)))


def mails(db: Database, kind: str) -> set[UUID | None]:
    with db.read() as session:
        return set(session.scalars(select(AccountMail.account_id).where(AccountMail.kind == kind)))


def week(start: datetime) -> dict[str, str]:
    return {
        "from": start.date().isoformat(),
        "until": (start + timedelta(days=6)).date().isoformat(),
    }


@pytest.fixture
def world(db: Database, clock: SettableClock) -> World:
    return build_world(db, clock)
