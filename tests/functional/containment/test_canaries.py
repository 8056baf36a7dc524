"""The canary drill: a decoy read suspends the credential at once; decoys never show up in a
real query, a count, a reminder, and cannot be booked."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from colloque.booking.models import Appointment, PractitionerBusy
from colloque.clock import SettableClock
from colloque.containment.canaries import (
    PATIENTS_PER_PRACTICE,
    do_plant_canaries,
    is_canary,
    real_patient_count,
)
from colloque.containment.models import Canary
from colloque.delivery.reminders import ReminderPlanner
from colloque.ids import new_id
from colloque.incidents.models import IncidentStep
from colloque.notifications.models import OutboxMessage
from colloque.patients.models import Patient, PracticePatient
from colloque.storage.engine import Database
from colloque.text import search_key
from tests.factories import World
from tests.functional.containment.conftest import canary_key, mails, make_app, suspensions, week

REAL = (("Jeanne", "Moreau"), ("Marcel", "Girard"), ("Simone", "Blanc"))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_decoys_trip_at_once_and_stay_out_of_everything_else(
    db: Database, clock: SettableClock, world: World
) -> None:
    app = make_app(db, clock)
    key = canary_key(app)
    now = clock.now()
    with db.write() as session:
        # Real patients who share the decoys' common names.
        for first, last in REAL:
            patient_id = new_id()
            session.execute(
                insert(Patient).values(
                    patient_id=patient_id,
                    relationship="self",
                    first_name=first,
                    last_name=last,
                    name_key=search_key(f"{first} {last}"),
                    created_at=now,
                )
            )
            session.execute(
                insert(PracticePatient).values(
                    practice_id=world.practice_id, patient_id=patient_id, added_at=now
                )
            )
        assert do_plant_canaries(session, now=now, practice_id=world.practice_id, key=key) == 4
        assert do_plant_canaries(session, now=now, practice_id=world.practice_id, key=key) == 0
        decoys = session.execute(select(Canary.object_id, Canary.kind)).all()
        assert all(is_canary(key, object_id) for object_id, _ in decoys)
        patients = [object_id for object_id, kind in decoys if kind == "patient"]
        assert len(patients) == PATIENTS_PER_PRACTICE
        # Counts leave them out.
        assert real_patient_count(session, practice_id=world.practice_id) == len(REAL)
        ahead = session.scalars(
            select(Appointment).where(
                Appointment.appointment_id.in_([d for d, _ in decoys]),
                Appointment.starts_at > now,
            )
        ).one()
        decoy_patient = session.get(Patient, ahead.patient_id)
        assert decoy_patient is not None
        its_decoys = session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.patient_id == decoy_patient.patient_id)
        )

    base = f"/api/v1/practices/{world.practice_id}"
    with TestClient(app) as client:
        # Real queries, by name (even the decoys' own names), by a phone: no decoy.
        for query in (
            "Moreau",
            "jeanne moreau",
            "Girard",
            "Blanc",
            decoy_patient.last_name,
            "0612",
        ):
            found = client.get(
                f"{base}/patients", params={"query": query}, headers=bearer(world.secretary.token)
            )
            assert found.status_code == 200, found.text
            assert not any(is_canary(key, UUID(row["patient_id"])) for row in found.json())
        # The usual screens: this week and the next months.
        for weeks in range(12):
            start = now + timedelta(weeks=weeks)
            shown = client.get(
                f"{base}/agenda", params=week(start), headers=bearer(world.doctor.token)
            )
            assert shown.status_code == 200
        assert suspensions(db) == []

        # A sweep reaching the decoy's window years ahead: refused, suspended, incident opened.
        start = ahead.starts_at - timedelta(days=3)
        swept = client.get(
            f"{base}/agenda", params=week(start), headers=bearer(world.secretary.token)
        )
        assert swept.status_code == 401
        assert swept.json()["type"].endswith("/credential-suspended")
        assert str(ahead.appointment_id) not in swept.text
        (suspension,) = suspensions(db)
        assert (suspension.reason, suspension.account_id) == ("canary", world.secretary.account_id)
        assert mails(db, "credential_suspended") == {
            world.secretary.account_id,
            world.admin.account_id,
        }

        # Booking a decoy patient (an id only a sweep finds) is refused the same way.
        booking = client.post(
            f"{base}/appointments",
            json={
                "practitioner_id": str(world.practitioner_id),
                "patient_id": str(decoy_patient.patient_id),
                "starts_at": (now + timedelta(days=3, hours=9)).isoformat(),
                "duration_minutes": 20,
                "outside_hours_confirmed": True,
            },
            headers=bearer(world.admin.token),
        )
        assert booking.status_code == 401
        assert booking.json()["type"].endswith("/credential-suspended")

    with db.write() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Appointment)
                .where(Appointment.patient_id == decoy_patient.patient_id)
            )
            == its_decoys
        )
        steps = session.scalars(select(IncidentStep.kind)).all()
        assert sorted(steps) == ["contained", "contained", "opened", "opened"]
        # No reminder ever: the planner's round on the decoy's eve queues nothing for it.
        planner = ReminderPlanner(sms=False, phone_key=b"p" * 32)
        planner.plan(session, now=ahead.starts_at - timedelta(hours=20))
        planner.plan(session, now=ahead.starts_at - timedelta(days=6))
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.patient_id.in_(patients))
            )
            == 0
        )


def test_a_booked_decoy_never_takes_time_taken_elsewhere(
    db: Database, clock: SettableClock, world: World
) -> None:
    """The booked decoy takes the practitioner's time in the busy ledger like any booking; where
    that night is taken (at another practice), only the past decoy is planted."""
    key = canary_key(make_app(db, clock))
    now = clock.now()
    with db.write() as session:
        session.execute(
            insert(PractitionerBusy).values(
                practitioner_id=world.practitioner_id,
                appointment_id=new_id(),
                practice_id=new_id(),
                starts_at=now + timedelta(days=3 * 365 - 1),
                blocked_until=now + timedelta(days=8 * 365 + 1),
            )
        )
    with db.write() as session:
        assert do_plant_canaries(session, now=now, practice_id=world.practice_id, key=key) == (
            PATIENTS_PER_PRACTICE + 1
        )
        decoys = session.scalars(
            select(Appointment.status).where(Appointment.practitioner_id == world.practitioner_id)
        ).all()
        assert decoys == ["done"]
        assert session.scalar(select(func.count()).select_from(PractitionerBusy)) == 1
