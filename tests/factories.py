"""Test data built with the real service functions, so tests cannot drift from the app.

``build_world`` makes one practice in Paris with a GP whose agenda is Monday to Friday,
09:00-12:00 and 14:00-18:00, 15-minute slots, and the people around it: the practice admin, a
secretary, the GP's own login, a patient holder with a child, and a stranger patient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.accounts.invitations import do_accept_invitation, do_invite
from colloque.accounts.models import Account
from colloque.accounts.services import (
    do_add_member,
    do_create_account,
    do_issue_token,
    principal_for_account,
)
from colloque.booking.models import Appointment
from colloque.booking.rules import Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.clock import SettableClock
from colloque.crypto.transparency import KeyBinding, KeyPurpose, SubjectKind
from colloque.ids import new_id
from colloque.keydirectory.services import proven_current
from colloque.patients.registry import remember_patient
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Principal, Role
from colloque.scheduling.domain import PatientKind, VisitMode
from colloque.scheduling.models import (
    OpeningRange,
    OpeningRangeVisitType,
)
from colloque.scheduling.services import (
    AgendaRulesInput,
    definition_changed,
    do_add_practitioner,
    do_create_practice,
    do_update_agenda_rules,
)
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import do_add_break, do_add_opening_range, do_add_visit_type
from colloque.storage.engine import Database

#: The world's GP's own login (make_person's address for "Doctor Claire").
DOCTOR_EMAIL = "doctor.claire@example.test"


@dataclass
class Person:
    account_id: UUID
    token: str

    def principal(self, db: Database) -> Principal:
        with db.read() as session:
            account = session.get(Account, self.account_id)
            assert account is not None
            return principal_for_account(session, account)


@dataclass
class World:
    practice_id: UUID
    practitioner_id: UUID
    consultation_id: UUID  # 20 min, any patient, online
    first_visit_id: UUID  # 30 min, new patients only
    follow_up_id: UUID  # 15 min, known patients only
    video_id: UUID  # 15 min, video
    urgent_id: UUID  # 15 min, practice only
    admin: Person
    secretary: Person
    doctor: Person
    holder: Person
    holder_patient_id: UUID
    child_patient_id: UUID
    stranger: Person
    stranger_patient_id: UUID


def make_person(db: Database, clock: SettableClock, name: str) -> Person:
    with db.write() as session:
        account = do_create_account(
            session,
            now=clock.now(),
            display_name=name,
            email=f"{name.lower().replace(' ', '.')}@example.test",
        )
        token = do_issue_token(
            session,
            now=clock.now(),
            account_id=account.account_id,
            lifetime=timedelta(days=3650),
            integration=True,  # tests move the clock by days: no idle timeout
        )
        return Person(account_id=account.account_id, token=token)


def make_patient(
    db: Database,
    clock: SettableClock,
    person: Person,
    first: str,
    last: str,
    relationship: Relationship = Relationship.SELF,
    birth: date = date(1985, 5, 17),
) -> UUID:
    with db.write() as session:
        patient = do_add_patient(
            session,
            now=clock.now(),
            principal=person.principal(db),
            first_name=first,
            last_name=last,
            birth_date=birth,
            relationship=relationship,
        )
        return patient.patient_id


def build_world(
    db: Database,
    clock: SettableClock,
    *,
    rules: AgendaRulesInput | None = None,
    timezone: str = "Europe/Paris",
) -> World:
    admin = make_person(db, clock, "Admin Alice")
    now = clock.now()
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=now,
            principal=admin.principal(db),
            name="Cabinet du Test",
            address="12 rue de la Paix",
            postcode="75002",
            city="Paris",
            latitude=48.8686,
            longitude=2.3314,
            timezone=timezone,
        )
        practice_id = practice.practice_id
    admin_principal = admin.principal(db)
    with db.write() as session:
        gp = do_add_practitioner(
            session,
            now=now,
            principal=admin_principal,
            practice_id=practice_id,
            first_name="Claire",
            last_name="Martin",
            title="Dr",
            specialty=Specialty.GENERAL_PRACTICE,
            languages=["fr", "en"],
            rules=rules
            or AgendaRulesInput(slot_step_minutes=15, min_notice_minutes=60, max_horizon_days=60),
        )
        practitioner_id = gp.practitioner_id
        types = {}
        for key, label, minutes, kind, online, mode in (
            ("consultation", "Consultation", 20, PatientKind.ANY, True, VisitMode.IN_PERSON),
            ("first", "Première consultation", 30, PatientKind.NEW_ONLY, True, VisitMode.IN_PERSON),
            ("follow_up", "Suivi", 15, PatientKind.KNOWN_ONLY, True, VisitMode.IN_PERSON),
            ("video", "Téléconsultation", 15, PatientKind.ANY, True, VisitMode.VIDEO),
            ("urgent", "Urgence", 15, PatientKind.ANY, False, VisitMode.IN_PERSON),
        ):
            types[key] = do_add_visit_type(
                session,
                now=now,
                principal=admin_principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
                label=label,
                duration_minutes=minutes,
                online_bookable=online,
                patient_kind=kind,
                mode=mode,
            ).visit_type_id
        session.flush()
        in_person = [types["consultation"], types["first"], types["follow_up"], types["urgent"]]
        for weekday in range(5):
            do_add_opening_range(
                session,
                now=now,
                principal=admin_principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
                weekday=weekday,
                start_minute=9 * 60,
                end_minute=12 * 60,
                visit_type_ids=in_person,
            )
            do_add_opening_range(
                session,
                now=now,
                principal=admin_principal,
                practice_id=practice_id,
                practitioner_id=practitioner_id,
                weekday=weekday,
                start_minute=14 * 60,
                end_minute=18 * 60,
                visit_type_ids=[*in_person, types["video"]],
            )
        do_add_break(
            session,
            now=now,
            principal=admin_principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            weekday=2,
            start_minute=16 * 60,
            end_minute=16 * 60 + 30,
        )
    secretary = make_person(db, clock, "Secretary Sam")
    doctor = make_person(db, clock, "Doctor Claire")
    with db.write() as session:
        do_add_member(
            session, practice_id=practice_id, account_id=secretary.account_id, role=Role.SECRETARY
        )
        do_add_member(
            session,
            practice_id=practice_id,
            account_id=doctor.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=practitioner_id,
        )
    holder = make_person(db, clock, "Holder Hugo")
    holder_patient_id = make_patient(db, clock, holder, "Hugo", "Bernard")
    child_patient_id = make_patient(
        db, clock, holder, "Lina", "Bernard", Relationship.CHILD, date(2018, 9, 1)
    )
    stranger = make_person(db, clock, "Stranger Sophie")
    stranger_patient_id = make_patient(db, clock, stranger, "Sophie", "Petit")
    return World(
        practice_id=practice_id,
        practitioner_id=practitioner_id,
        consultation_id=types["consultation"],
        first_visit_id=types["first"],
        follow_up_id=types["follow_up"],
        video_id=types["video"],
        urgent_id=types["urgent"],
        admin=admin,
        secretary=secretary,
        doctor=doctor,
        holder=holder,
        holder_patient_id=holder_patient_id,
        child_patient_id=child_patient_id,
        stranger=stranger,
        stranger_patient_id=stranger_patient_id,
    )


def book(
    db: Database,
    clock: SettableClock,
    world: World,
    starts_at: datetime,
    *,
    person: Person | None = None,
    patient_id: UUID | None = None,
    duration_minutes: int = 20,
    source: Source = Source.ONLINE,
) -> Appointment:
    with db.write() as session:
        return do_book_appointment(
            session,
            now=clock.now(),
            principal=(person or world.holder).principal(db),
            request=BookingRequest(
                practice_id=world.practice_id,
                practitioner_id=world.practitioner_id,
                patient_id=patient_id or world.holder_patient_id,
                starts_at=starts_at,
                duration_minutes=duration_minutes,
            ),
            source=source,
        )


@dataclass
class SecondPractice:
    """Another practice where the world's GP also works, run by the world's admin."""

    practice_id: UUID
    consultation_id: UUID  # 20 min, any patient, online


def add_second_practice(
    db: Database, clock: SettableClock, world: World, *, overlapping: bool
) -> SecondPractice:
    """The world's GP also works at "Cabinet Bis", with a 20-minute consultation.

    Its hours are Saturday 09:00-12:00, or, ``overlapping``, Monday to Friday 09:00-12:00 over
    the GP's hours at the first practice. The timetable refuses such hours (a person is in one
    place at a time), so they are written as rows here: hours can still come to overlap (time
    off at one practice withdrawn after an extra opening at the other), and a practice may book
    outside its hours; the busy ledger must hold whatever the hours say. The GP joins as they
    would: the admin invites them as practising elsewhere, their own login accepts (so they are
    a member of both practices), and the admin sets the agenda's rules.
    """
    admin = world.admin.principal(db)
    now = clock.now()
    with db.write() as session:
        practice = do_create_practice(
            session,
            now=now,
            principal=admin,
            name="Cabinet Bis",
            address="3 rue du Bac",
            postcode="75007",
            city="Paris",
            latitude=48.8566,
            longitude=2.3253,
        )
        practice_id = practice.practice_id
    admin = world.admin.principal(db)
    with db.write() as session:
        _, mail = do_invite(
            session,
            now=now,
            principal=admin,
            practice_id=practice_id,
            email=DOCTOR_EMAIL,
            role=Role.PRACTITIONER,
            practitioner_id=None,
            practises_elsewhere=True,
        )
    token = re.search(r"(?m)^([A-Za-z0-9_-]{64})$", mail.text)
    assert token is not None
    with db.write() as session:
        do_accept_invitation(
            session, now=now, principal=world.doctor.principal(db), token=token.group(1)
        )
    with db.write() as session:
        row = do_update_agenda_rules(
            session,
            now=now,
            principal=admin,
            practice_id=practice_id,
            practitioner_id=world.practitioner_id,
            rules=AgendaRulesInput(
                slot_step_minutes=15, min_notice_minutes=60, max_horizon_days=60
            ),
        )
        consultation_id = do_add_visit_type(
            session,
            now=now,
            principal=admin,
            practice_id=practice_id,
            practitioner_id=world.practitioner_id,
            label="Consultation",
            duration_minutes=20,
        ).visit_type_id
        session.flush()
        if not overlapping:
            do_add_opening_range(
                session,
                now=now,
                principal=admin,
                practice_id=practice_id,
                practitioner_id=world.practitioner_id,
                weekday=5,
                start_minute=9 * 60,
                end_minute=12 * 60,
                visit_type_ids=[consultation_id],
            )
        else:
            for weekday in range(5):
                opening = OpeningRange(
                    practice_id=practice_id,
                    opening_id=new_id(),
                    practitioner_id=world.practitioner_id,
                    weekday=weekday,
                    start_minute=9 * 60,
                    end_minute=12 * 60,
                )
                session.add(opening)
                session.flush()
                session.add(
                    OpeningRangeVisitType(
                        practice_id=practice_id,
                        opening_id=opening.opening_id,
                        visit_type_id=consultation_id,
                    )
                )
            definition_changed(session, row)
    return SecondPractice(practice_id=practice_id, consultation_id=consultation_id)


def register_at_practice(
    db: Database, clock: SettableClock, world: World, patient_id: UUID
) -> None:
    """Make a patient known to the world's practice (as a first online booking would)."""
    with db.write() as session:
        remember_patient(
            session, practice_id=world.practice_id, patient_id=patient_id, now=clock.now()
        )


def newest_binding(
    session: Session, *, subject_kind: SubjectKind, subject_id: UUID, purpose: KeyPurpose
) -> KeyBinding | None:
    """The subject's current published binding for ``purpose``, if any."""
    proven = proven_current(session, subject_kind, [subject_id], [purpose])
    return proven[0].binding if proven else None


def add_gps(db: Database, clock: SettableClock, world: World, count: int) -> None:
    """More GPs in the world's practice, each opening at a different hour, so that search
    rankings differ; every fourth has no opening (no slots, ranked last)."""
    principal = world.admin.principal(db)
    now = clock.now()
    for index in range(count):
        with db.write() as session:
            gp = do_add_practitioner(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                first_name=f"Gp{index}",
                last_name=f"Doctor{index}",
                specialty=Specialty.GENERAL_PRACTICE,
                rules=AgendaRulesInput(slot_step_minutes=30, min_notice_minutes=60 * (index % 3)),
            )
            visit_type = do_add_visit_type(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                label="Consultation",
                duration_minutes=30,
                patient_kind=PatientKind.ANY,
            )
            session.flush()
            if index % 4 == 3:
                continue  # no opening at all: no slots, ranked last
            do_add_opening_range(
                session,
                now=now,
                principal=principal,
                practice_id=world.practice_id,
                practitioner_id=gp.practitioner_id,
                weekday=(index % 5),
                start_minute=8 * 60 + 30 * (index % 7),
                end_minute=19 * 60,
                visit_type_ids=[visit_type.visit_type_id],
            )
