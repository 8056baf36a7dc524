"""The demo generator: counts, determinism, the booking invariants, logins, the search cache."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import func, select

from colloque.accounts.models import Account
from colloque.accounts.sessions import resolve_session
from colloque.booking.models import ACTIVE_STATUSES, Appointment, AppointmentEvent
from colloque.booking.rules import closest_slot_problem
from colloque.demo import search_cache
from colloque.demo.generator import (
    STAGE_APPOINTMENTS,
    STAGE_PATIENTS,
    STAGE_PRACTICES,
    STAGE_SEARCH,
    STAGE_SHOWCASE,
    generate_demo,
)
from colloque.demo.places import PLACES
from colloque.demo.plans import easter_sunday, french_public_holidays
from colloque.demo.showcase import SHOWCASE_NAME
from colloque.errors import Conflict
from colloque.patients.models import Patient
from colloque.practicekeys.memberships import stored_chain
from colloque.practicekeys.reading import epoch_members
from colloque.principal import Role
from colloque.scheduling.loading import LoadedAgenda, load_agenda
from colloque.scheduling.models import (
    AgendaBreak,
    AgendaOverride,
    NextSlot,
    Practice,
    PracticeMember,
    PracticePractitioner,
    Practitioner,
    VisitType,
)
from colloque.scheduling.slots import check_slot
from colloque.storage.engine import Database
from tests.unit.demo.support import (
    APPOINTMENTS,
    DEMO_NOW,
    DEMO_SEED,
    PATIENTS,
    PRACTITIONERS,
    Demo,
    make_demo,
)

SHOWCASE_PRACTITIONERS = 3
SHOWCASE_APPOINTMENTS = 12

#: (latitude range, longitude range, time zone) by postcode prefix; "" is metropolitan France
#: with Corsica.
BOUNDS: dict[str, tuple[tuple[float, float], tuple[float, float], str]] = {
    "971": ((15.8, 16.55), (-61.85, -61.0), "America/Guadeloupe"),
    "972": ((14.38, 14.9), (-61.25, -60.8), "America/Martinique"),
    "973": ((2.1, 5.8), (-54.6, -51.6), "America/Cayenne"),
    "974": ((-21.4, -20.85), (55.2, 55.85), "Indian/Reunion"),
    "": ((41.3, 51.1), (-5.2, 9.6), "Europe/Paris"),
}


def _bounds(postcode: str) -> tuple[tuple[float, float], tuple[float, float], str]:
    return BOUNDS.get(postcode[:3], BOUNDS[""])


def _count(db: Database, model: type[object]) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_counts_match_the_request_and_the_tables(demo: Demo) -> None:
    summary, db = demo.summary, demo.db
    assert summary.practitioners == PRACTITIONERS + SHOWCASE_PRACTITIONERS
    assert summary.appointments == APPOINTMENTS + SHOWCASE_APPOINTMENTS
    assert summary.practitioners == _count(db, Practitioner)
    assert summary.practices == _count(db, Practice)
    assert summary.agendas == _count(db, PracticePractitioner)
    assert summary.agendas >= summary.practitioners
    assert summary.patients == _count(db, Patient)
    assert summary.appointments == _count(db, Appointment)
    assert summary.appointment_events == _count(db, AppointmentEvent)
    assert summary.cached_slots == _count(db, NextSlot) > 0
    # Holders, the showcase's four logins, one secretariat per bulk practice.
    assert summary.accounts == _count(db, Account) == PATIENTS + 4 + summary.practices - 1
    # About a third of the holders manage relatives, plus the showcase family.
    assert PATIENTS + 3 < summary.patients < 3 * PATIENTS


def test_progress_reports_every_stage_to_completion(demo: Demo) -> None:
    stages = [stage for stage, _, _ in demo.progress]
    order = [STAGE_SHOWCASE, STAGE_PRACTICES, STAGE_PATIENTS, STAGE_APPOINTMENTS, STAGE_SEARCH]
    assert list(dict.fromkeys(stages)) == order
    for stage in order:
        calls = [(done, total) for s, done, total in demo.progress if s == stage]
        done, total = calls[-1]
        assert done == total > 0
        assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def _practitioners(db: Database) -> list[tuple[UUID, str, str, str]]:
    with db.read() as session:
        rows = session.execute(
            select(
                Practitioner.practitioner_id,
                Practitioner.first_name,
                Practitioner.last_name,
                Practitioner.specialty,
            ).order_by(Practitioner.practitioner_id)
        )
        return [(i, f, la, s) for i, f, la, s in rows]


def _appointment_starts(db: Database) -> list[tuple[UUID, datetime, str]]:
    with db.read() as session:
        rows = session.execute(
            select(Appointment.practitioner_id, Appointment.starts_at, Appointment.status)
        )
        return sorted((p, s, st) for p, s, st in rows)


def test_the_same_seed_gives_the_same_data(demo: Demo, tmp_path: Path) -> None:
    again = make_demo(tmp_path / "again.sqlite3")
    try:
        assert _practitioners(again.db) == _practitioners(demo.db)
        assert _appointment_starts(again.db) == _appointment_starts(demo.db)
        assert again.summary.showcase_practice_id == demo.summary.showcase_practice_id
        assert again.summary.cached_slots == demo.summary.cached_slots
    finally:
        again.db.dispose()
    other = make_demo(tmp_path / "other.sqlite3", seed=1)
    try:
        assert _practitioners(other.db) != _practitioners(demo.db)
    finally:
        other.db.dispose()


def test_active_appointments_never_overlap(demo: Demo) -> None:
    by_agenda: dict[tuple[UUID, UUID], list[tuple[datetime, datetime]]] = defaultdict(list)
    by_person: dict[UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    with demo.db.read() as session:
        for practice_id, practitioner_id, start, until in session.execute(
            select(
                Appointment.practice_id,
                Appointment.practitioner_id,
                Appointment.starts_at,
                Appointment.blocked_until,
            ).where(Appointment.status.in_(ACTIVE_STATUSES))
        ):
            by_agenda[(practice_id, practitioner_id)].append((start, until))
            by_person[practitioner_id].append((start, until))
    assert by_agenda
    for spans in [*by_agenda.values(), *by_person.values()]:
        spans.sort()
        for (_, until), (next_start, _) in itertools.pairwise(spans):
            assert until <= next_start


def test_appointments_sit_on_the_agendas_grids(demo: Demo) -> None:
    """Each start is a real slot of its agenda: aligned, open, not absent, offering the visit
    type (time taken by others is checked by the overlap test)."""
    loaded: dict[tuple[UUID, UUID], LoadedAgenda] = {}
    with demo.db.read() as session:
        appointments = list(session.scalars(select(Appointment)))
        for a in appointments:
            key = (a.practice_id, a.practitioner_id)
            if key not in loaded:
                loaded[key] = load_agenda(
                    session, practice_id=a.practice_id, practitioner_id=a.practitioner_id
                )
            agenda = loaded[key]
            as_if_booked_at = a.starts_at - agenda.agenda.rules.min_notice - timedelta(minutes=1)
            problem = closest_slot_problem(
                check_slot(
                    agenda.agenda, vt.spec(), start=a.starts_at, now=as_if_booked_at, busy=[]
                )
                for vt in agenda.visit_types.values()
                if vt.spec().duration == a.ends_at - a.starts_at
            )
            assert problem is None, (a.appointment_id, a.starts_at, problem)
    assert len(appointments) == demo.summary.appointments


def test_statuses_and_history_follow_the_clock(demo: Demo) -> None:
    with demo.db.read() as session:
        appointments = list(session.scalars(select(Appointment)))
        events = Counter(
            (appointment_id, kind)
            for appointment_id, kind in session.execute(
                select(AppointmentEvent.appointment_id, AppointmentEvent.kind)
            )
        )
    statuses: Counter[str] = Counter()
    for a in appointments:
        statuses[a.status] += 1
        assert a.created_at < a.starts_at
        assert a.created_at <= DEMO_NOW
        assert events[(a.appointment_id, "booked")] == 1
        if a.ends_at <= DEMO_NOW:
            assert a.status in {"done", "no_show", "cancelled_by_patient", "cancelled_by_practice"}
        elif a.starts_at > DEMO_NOW:
            assert a.status in {"booked", "cancelled_by_patient", "cancelled_by_practice"}
        if a.status == "done":
            assert events[(a.appointment_id, "marked_done")] == 1
        if a.status.startswith("cancelled"):
            assert events[(a.appointment_id, "cancelled")] == 1
            assert a.cancel_reason is not None
    assert statuses["done"] > statuses["no_show"] > 0
    assert statuses["booked"] > statuses["cancelled_by_patient"] > 0
    sources = Counter(a.source for a in appointments)
    assert sources["online"] > sources["practice"] > 0


def test_demo_logins_resolve_to_their_roles(demo: Demo) -> None:
    summary = demo.summary
    logins = {login.role: login for login in summary.logins}
    assert [login.role for login in summary.logins] == [
        "patient",
        "secretary",
        "practitioner",
        "admin",
    ]
    assert logins["patient"].email == "patient@demo.colloque.test"
    practice_id = summary.showcase_practice_id
    with demo.db.read() as session:
        for login in summary.logins:
            principal = resolve_session(session, now=DEMO_NOW, token=login.token).principal
            account = session.get(Account, principal.account_id)
            assert account is not None
            assert account.email == login.email
            assert account.display_name == login.display_name
        patient = resolve_session(session, now=DEMO_NOW, token=logins["patient"].token).principal
        family = Counter(
            session.scalars(
                select(Patient.relationship).where(Patient.holder_account_id == patient.account_id)
            )
        )
        assert family == Counter({"self": 1, "child": 1, "parent": 1})
        for role in (Role.SECRETARY, Role.PRACTITIONER, Role.ADMIN):
            principal = resolve_session(
                session, now=DEMO_NOW, token=logins[role.value].token
            ).principal
            assert principal.role_in(practice_id) is role
        doctor = resolve_session(
            session, now=DEMO_NOW, token=logins["practitioner"].token
        ).principal
        member = session.get(PracticeMember, (practice_id, doctor.account_id))
        assert member is not None
        practitioner = session.get(Practitioner, member.practitioner_id)
        assert practitioner is not None
        assert practitioner.specialty == "general_practice"


def test_the_showcase_practice_is_complete(demo: Demo) -> None:
    practice_id = demo.summary.showcase_practice_id
    with demo.db.read() as session:
        practice = session.get(Practice, practice_id)
        assert practice is not None
        assert practice.name == SHOWCASE_NAME
        assert practice.postcode.startswith("750")
        specialties = set(
            session.scalars(
                select(Practitioner.specialty)
                .join(
                    PracticePractitioner,
                    PracticePractitioner.practitioner_id == Practitioner.practitioner_id,
                )
                .where(PracticePractitioner.practice_id == practice_id)
            )
        )
        assert specialties == {"general_practice", "dentistry", "physiotherapy"}
        types = list(session.scalars(select(VisitType).where(VisitType.practice_id == practice_id)))
        assert {"new_only", "known_only", "any"} <= {t.patient_kind for t in types}
        assert any(t.mode == "video" for t in types)
        assert any(not t.online_bookable for t in types)
        kinds = set(
            session.scalars(
                select(AgendaOverride.kind).where(AgendaOverride.practice_id == practice_id)
            )
        )
        assert kinds == {"absence", "holiday", "extra_opening"}
        assert session.scalar(select(func.count()).where(AgendaBreak.practice_id == practice_id))
        patient = resolve_session(
            session, now=DEMO_NOW, token=demo.summary.logins[0].token
        ).principal
        family_statuses = Counter(
            session.scalars(
                select(Appointment.status)
                .join(Patient, Patient.patient_id == Appointment.patient_id)
                .where(Patient.holder_account_id == patient.account_id)
            )
        )
        assert family_statuses["done"] >= 4
        assert family_statuses["booked"] >= 4
        assert family_statuses["no_show"] == family_statuses["cancelled_by_patient"] == 1
        # Its key group signs its memberships: admin, secretary and practitioner attested, and
        # epoch 1 made for exactly them with a signed group epoch statement.
        chain = stored_chain(session, practice_id=practice_id)
        assert [s.role.name for s in chain] == ["ADMIN", "SECRETARY", "PRACTITIONER"]
        assert {m for m, _epoch in epoch_members(session, practice_id=practice_id)[1]} == {
            s.member_id for s in chain
        }


def test_every_agenda_has_cached_slots_and_the_showcase_too(demo: Demo) -> None:
    practice_id = demo.summary.showcase_practice_id
    with demo.db.read() as session:
        stale = session.scalar(
            select(func.count()).where(PracticePractitioner.slots_refreshed_at.is_(None))
        )
        assert stale == 0
        per_practitioner: dict[UUID, int] = dict(
            session.execute(
                select(NextSlot.practitioner_id, func.count())
                .where(NextSlot.practice_id == practice_id)
                .group_by(NextSlot.practitioner_id)
            ).all()
        )
        first = session.scalar(
            select(func.min(NextSlot.starts_at)).where(NextSlot.practice_id == practice_id)
        )
    assert len(per_practitioner) == SHOWCASE_PRACTITIONERS
    assert all(count > 0 for count in per_practitioner.values())
    assert first is not None
    assert first > DEMO_NOW


def test_practices_are_in_plausible_places(demo: Demo) -> None:
    with demo.db.read() as session:
        practices = list(session.scalars(select(Practice)))
    assert len(practices) == demo.summary.practices
    for practice in practices:
        (low_lat, high_lat), (low_lon, high_lon), timezone = _bounds(practice.postcode)
        assert practice.postcode.isdigit()
        assert len(practice.postcode) == 5
        assert low_lat <= practice.latitude <= high_lat, practice.city
        assert low_lon <= practice.longitude <= high_lon, practice.city
        assert practice.timezone == timezone


def test_the_place_list_is_real_france() -> None:
    assert len({place.city for place in PLACES}) >= 40
    assert len({p.postcode for p in PLACES if p.city == "Paris"}) == 20
    assert {"Lyon", "Marseille", "Saint-Denis", "Fort-de-France", "Ajaccio"} <= {
        p.city for p in PLACES
    }
    for place in PLACES:
        (low_lat, high_lat), (low_lon, high_lon), timezone = _bounds(place.postcode)
        assert place.postcode.isdigit()
        assert len(place.postcode) == 5
        assert low_lat <= place.latitude <= high_lat, place.city
        assert low_lon <= place.longitude <= high_lon, place.city
        assert place.timezone == timezone
    assert all(p.postcode.startswith("75") for p in PLACES if p.city == "Paris")
    assert all(p.postcode.startswith("690") for p in PLACES if p.city == "Lyon")
    assert all(p.postcode.startswith("130") for p in PLACES if p.city == "Marseille")


def test_a_second_run_on_the_same_database_is_refused(demo: Demo) -> None:
    with pytest.raises(Conflict):
        generate_demo(demo.db, seed=1, practitioners=1, patients=1, appointments=0, now=DEMO_NOW)
    assert _count(demo.db, Practitioner) == demo.summary.practitioners


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"now": datetime(2026, 3, 2, 9)}, "timezone-aware"),
        ({"patients": -1}, "negative"),
        ({"patients": 0}, "need patients"),
    ],
)
def test_bad_requests_are_refused_before_writing(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    arguments: dict[str, object] = {
        "seed": 1,
        "practitioners": 1,
        "patients": 1,
        "appointments": 1,
        "now": DEMO_NOW,
        **changes,
    }
    with pytest.raises(ValueError, match=message):
        generate_demo(db, **arguments)  # type: ignore[arg-type]
    db.dispose()


def test_easter_and_public_holidays() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2026) == date(2026, 4, 5)
    holidays = french_public_holidays(2026)
    assert len(holidays) == 11
    assert date(2026, 4, 6) in holidays  # Easter Monday
    assert date(2026, 5, 14) in holidays  # Ascension
    assert date(2026, 5, 25) in holidays  # Whit Monday


@pytest.mark.postgres
def test_postgres_bulk_copy_and_batched_refresh(
    postgres_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COPY in the binary format, the constraints rebuilt after (test_bulk_load.py); the search
    cache built in several batches."""
    monkeypatch.setattr(search_cache, "AGENDAS_PER_TRANSACTION", 10)
    summary = generate_demo(
        postgres_db,
        seed=DEMO_SEED,
        practitioners=PRACTITIONERS,
        patients=PATIENTS,
        appointments=APPOINTMENTS,
        now=DEMO_NOW,
    )
    assert summary.appointments == APPOINTMENTS + SHOWCASE_APPOINTMENTS
    assert summary.appointments == _count(postgres_db, Appointment)
    assert summary.appointment_events == _count(postgres_db, AppointmentEvent)
    with postgres_db.read() as session:
        stale = session.scalar(
            select(func.count()).where(PracticePractitioner.slots_refreshed_at.is_(None))
        )
        assert stale == 0
        patient = resolve_session(session, now=DEMO_NOW, token=summary.logins[0].token).principal
        assert patient.account_id is not None
    assert summary.cached_slots == _count(postgres_db, NextSlot) > 0
