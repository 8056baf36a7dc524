"""The world of the authorization matrix: two practices, nine roles, the objects they reach.

Practice A is ``tests.factories.build_world``'s (admin, secretary, practitioner, a holder with a
child, a stranger). Practice B has its own admin ("other_admin") and practitioner, and its
objects belong to an outsider patient that no role of the matrix manages. Two operators: one
without a grant, one ("granted") with a 72-hour grant on practice A.

A target names an object by whose it is: ``mine`` (the holder's, at A), ``theirs`` (the
stranger's, at A), ``elsewhere`` (the outsider's, at B); for practice-level operations ``here``
(A) and ``there`` (B). In each :class:`Mode` the scene hands out a shared static object, a fresh
disposable one (for a mutation that is expected to succeed), or a missing one (same practice,
random id) to compare a denial with. Every object it creates is registered, so that the matrix
can check that no response ever carries the id of something the role may not see.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select

from colloque.accounts.grants import do_grant_operator_access
from colloque.booking.changes import do_cancel_appointment
from colloque.booking.rules import CancelReason, Source
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.booking.waitlist.models import WaitlistOffer
from colloque.booking.waitlist.services import do_join_waitlist
from colloque.clock import SettableClock
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Principal
from colloque.scheduling.domain import OverrideKind, PatientKind
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner, do_create_practice
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import (
    do_add_break,
    do_add_opening_range,
    do_add_override,
    do_add_visit_type,
)
from colloque.storage.engine import Database
from tests.factories import Person, build_world, make_patient, make_person
from tests.functional.authorization.conftest import make_operator

ROLES = (
    "anonymous",
    "holder",
    "stranger",
    "secretary",
    "practitioner",
    "admin",
    "other_admin",
    "operator",
    "granted",
)
#: Who sees the practice-owned objects of each site, and who administers it.
VIEWERS = {"A": {"secretary", "practitioner", "admin", "granted"}, "B": {"other_admin"}}
ADMIN_OF = {"A": "admin", "B": "other_admin"}
#: Where each target lives, and who owns it.
SITE_OF = {"mine": "A", "theirs": "A", "elsewhere": "B", "here": "A", "there": "B"}
OWNER_OF = {"mine": "holder", "theirs": "stranger", "elsewhere": "outsider"}

PARIS = ZoneInfo("Europe/Paris")
RULES = AgendaRulesInput(slot_step_minutes=15, min_notice_minutes=60, max_horizon_days=60)
LOCAL_TIMES = [time(h, m) for h in (9, 10, 11, 14, 15) for m in (0, 30)]
#: A bookable time that is never handed out: the body of requests that must be refused anyway.
PLACEHOLDER_TIME = datetime(2026, 4, 3, 17, 0, tzinfo=PARIS).astimezone(UTC)


class Mode(enum.Enum):
    STATIC = "static"
    FRESH = "fresh"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    mode: Mode = Mode.STATIC

    @property
    def site(self) -> str:
        return SITE_OF[self.name]

    @property
    def owner(self) -> str:
        return OWNER_OF[self.name]


@dataclass(frozen=True, slots=True)
class Site:
    practice_id: UUID
    practitioner_id: UUID
    visit_type_id: UUID
    admin: str
    desk_patient_id: UUID


@dataclass(frozen=True, slots=True)
class Ref:
    """An object addressed under its practice."""

    practice_id: UUID
    id: UUID


@dataclass
class Known:
    kind: str
    id: UUID
    owner: str | None
    sites: set[str] = field(default_factory=set)


def weekdays(first: date, last: date) -> list[date]:
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return [d for d in days if d.weekday() < 5]


def slots(days: list[date]) -> Iterator[datetime]:
    for day in days:
        for at in LOCAL_TIMES:
            yield datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


class Scene:
    """Built once per database; hands out objects by target and mode."""

    def __init__(self, db: Database, clock: SettableClock) -> None:
        self.db = db
        self.now = clock.now()
        self.cases = 0
        self.requests = 0
        self.known: list[Known] = []
        world = build_world(db, clock)
        other_admin = make_person(db, clock, "Other Admin")
        outsider = make_person(db, clock, "Outsider Olivier")
        operator = make_operator(db, clock, "Operator Otto")
        granted = make_operator(db, clock, "Operator Grace")
        self.spare_operator = make_operator(db, clock, "Operator Spare")
        self.people: dict[str, Person | None] = {
            "anonymous": None,
            "holder": world.holder,
            "stranger": world.stranger,
            "secretary": world.secretary,
            "practitioner": world.doctor,
            "admin": world.admin,
            "other_admin": other_admin,
            "operator": operator,
            "granted": granted,
        }
        owners = {"holder": world.holder, "stranger": world.stranger, "outsider": outsider}
        self._principals = {
            name: person.principal(db)
            for name, person in {**self.people, **owners}.items()
            if person is not None
        }
        self.main_patient = {
            "holder": world.holder_patient_id,
            "stranger": world.stranger_patient_id,
            "outsider": make_patient(db, clock, outsider, "Olivier", "Dehors"),
        }
        filler = make_patient(db, clock, outsider, "Fanny", "Dehors", Relationship.OTHER)
        for owner, patient_id in self.main_patient.items():
            self._know("patient", patient_id, owner)
        self._know("patient", world.child_patient_id, "holder", "A")
        self._know("patient", filler, "outsider", "A", "B")
        b_practice, b_practitioner, b_visit_type = self._practice_b()
        self.sites = {
            "A": Site(
                world.practice_id,
                world.practitioner_id,
                world.consultation_id,
                "admin",
                world.child_patient_id,
            ),
            "B": Site(b_practice, b_practitioner, b_visit_type, "other_admin", filler),
        }
        self.filler = filler
        future = weekdays(date(2026, 3, 3), date(2026, 4, 2))
        past = weekdays(date(2026, 2, 23), date(2026, 2, 27))
        waiting = weekdays(date(2026, 4, 6), date(2026, 4, 30))
        self._future = {s: slots(future) for s in self.sites}
        self._past = {s: slots(past) for s in self.sites}
        #: One shared day per site for waiting entries; offers each get a day of their own.
        self.wait_day = dict.fromkeys(self.sites, waiting[0])
        self._offer_days = {s: iter(waiting[1:]) for s in self.sites}
        self._sunday_minutes = {s: iter(range(0, 22 * 60, 10)) for s in self.sites}
        with db.write() as session:
            do_grant_operator_access(
                session,
                now=self.now,
                principal=self._principals["admin"],
                practice_id=world.practice_id,
                operator_account_id=granted.account_id,
                duration=timedelta(hours=72),
            )
        self._appointments = {
            name: self.appointment(Target(name, Mode.FRESH), past=True)
            for name in ("mine", "theirs", "elsewhere")
        }
        self._entries = {n: self._entry(Target(n), fresh=False) for n in OWNER_OF}
        self._offers = {n: self._offer(Target(n), fresh=False) for n in OWNER_OF}
        self._relatives = {n: self._relative(n) for n in OWNER_OF}
        self._openings = {n: self._opening(n) for n in ("here", "there")}
        self._grants = {n: self._grant(n) for n in ("here", "there")}
        self._breaks = {n: self._break(n) for n in ("here", "there")}
        self._overrides = {n: self._override(n) for n in ("here", "there")}

    # --- who ---------------------------------------------------------------------------------

    def person(self, role: str) -> Person | None:
        return self.people[role]

    def principal(self, name: str) -> Principal:
        return self._principals[name]

    def secrets(self, role: str) -> list[str]:
        """Ids of everything the role must never be shown."""
        return [str(k.id) for k in self.known if not self._visible(role, k)]

    def _visible(self, role: str, known: Known) -> bool:
        if known.kind == "grant":
            return any(ADMIN_OF[site] == role for site in known.sites)
        if known.owner == role:
            return True
        return any(role in VIEWERS[site] for site in known.sites)

    def _know(self, kind: str, id_: UUID, owner: str | None, *sites: str) -> None:
        self.known.append(Known(kind, id_, owner, set(sites)))

    def _seen_at(self, patient_id: UUID, site: str) -> None:
        for known in self.known:
            if known.id == patient_id:
                known.sites.add(site)

    # --- where and when ----------------------------------------------------------------------

    def site(self, target: Target) -> Site:
        """The practice of the target; a missing one keeps the practitioner, not the practice."""
        site = self.sites[target.site]
        if target.mode is Mode.MISSING:
            return Site(
                uuid.uuid4(),
                site.practitioner_id,
                site.visit_type_id,
                site.admin,
                site.desk_patient_id,
            )
        return site

    def practice(self, target: Target) -> UUID:
        return self.site(target).practice_id

    def slot(self, target: Target) -> datetime:
        """A free bookable time for a fresh target, the placeholder for any other."""
        if target.mode is Mode.FRESH:
            return next(self._future[target.site])
        return PLACEHOLDER_TIME

    def sunday_range(self, target: Target) -> tuple[int, int]:
        if target.mode is Mode.FRESH:
            start = next(self._sunday_minutes[target.site])
            return start, start + 10
        return 23 * 60, 23 * 60 + 10

    # --- objects -----------------------------------------------------------------------------

    def patient(self, target: Target) -> UUID:
        """The patient of the target: its owner's main record, a fresh relative, or nobody."""
        if target.mode is Mode.MISSING:
            return uuid.uuid4()
        if target.mode is Mode.STATIC:
            return self.main_patient[target.owner]
        patient_id = self._new_patient(target.owner)
        self._seen_at(patient_id, target.site)
        return patient_id

    def relative(self, target: Target) -> UUID:
        """A relative (never the account's own record) the owner may stop managing."""
        if target.mode is Mode.MISSING:
            return uuid.uuid4()
        if target.mode is Mode.STATIC:
            return self._relatives[target.name]
        return self._relative(target.name)

    def appointment(self, target: Target, *, past: bool = False) -> Ref:
        site = self.sites[target.site]
        if target.mode is Mode.MISSING:
            return Ref(site.practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._appointments[target.name]
        patient_id = self._new_patient(target.owner)
        starts_at = next(self._past[target.site] if past else self._future[target.site])
        ref = self._book(target.site, patient_id, starts_at)
        self._know("appointment", ref.id, target.owner, target.site)
        self._seen_at(patient_id, target.site)
        return ref

    def entry(self, target: Target) -> Ref:
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._entries[target.name]
        return self._entry(target, fresh=True)

    def offer(self, target: Target) -> Ref:
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._offers[target.name]
        return self._offer(target, fresh=True)

    def opening(self, target: Target) -> Ref:
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._openings[target.name]
        return self._opening(target.name)

    def visit_type(self, target: Target) -> Ref:
        site = self.sites[target.site]
        if target.mode is Mode.MISSING:
            return Ref(site.practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return Ref(site.practice_id, site.visit_type_id)
        with self.db.write() as session:
            visit_type = do_add_visit_type(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                practice_id=site.practice_id,
                practitioner_id=site.practitioner_id,
                label="Visite jetable",
                duration_minutes=15,
            )
            return Ref(site.practice_id, visit_type.visit_type_id)

    def pause(self, target: Target) -> Ref:
        """A weekly break of the target's agenda (``break`` is a keyword)."""
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._breaks[target.name]
        return self._break(target.name)

    def override(self, target: Target) -> Ref:
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._overrides[target.name]
        return self._override(target.name)

    def grant(self, target: Target) -> Ref:
        if target.mode is Mode.MISSING:
            return Ref(self.sites[target.site].practice_id, uuid.uuid4())
        if target.mode is Mode.STATIC:
            return self._grants[target.name]
        return self._grant(target.name)

    # --- making them -------------------------------------------------------------------------

    def _practice_b(self) -> tuple[UUID, UUID, UUID]:
        admin = self.people["other_admin"]
        assert admin is not None
        with self.db.write() as session:
            practice = do_create_practice(
                session,
                now=self.now,
                principal=admin.principal(self.db),
                name="Cabinet d'Ailleurs",
                address="3 quai Saint-Antoine",
                postcode="69002",
                city="Lyon",
                latitude=45.7640,
                longitude=4.8357,
            )
            practice_id = practice.practice_id
        self._principals["other_admin"] = admin.principal(self.db)
        principal = self._principals["other_admin"]
        with self.db.write() as session:
            practitioner = do_add_practitioner(
                session,
                now=self.now,
                principal=principal,
                practice_id=practice_id,
                first_name="Bruno",
                last_name="Ailleurs",
                specialty=Specialty.GENERAL_PRACTICE,
                rules=RULES,
            )
            visit_type = do_add_visit_type(
                session,
                now=self.now,
                principal=principal,
                practice_id=practice_id,
                practitioner_id=practitioner.practitioner_id,
                label="Consultation",
                duration_minutes=20,
                patient_kind=PatientKind.ANY,
            )
            session.flush()
            for weekday in range(5):
                for start, end in ((9 * 60, 12 * 60), (14 * 60, 18 * 60)):
                    do_add_opening_range(
                        session,
                        now=self.now,
                        principal=principal,
                        practice_id=practice_id,
                        practitioner_id=practitioner.practitioner_id,
                        weekday=weekday,
                        start_minute=start,
                        end_minute=end,
                        visit_type_ids=[visit_type.visit_type_id],
                    )
            return practice_id, practitioner.practitioner_id, visit_type.visit_type_id

    def _new_patient(self, owner: str) -> UUID:
        with self.db.write() as session:
            patient = do_add_patient(
                session,
                now=self.now,
                principal=self._principals[owner],
                first_name="Matrix",
                last_name=owner.title(),
                birth_date=date(1990, 1, 1),
                relationship=Relationship.OTHER,
            )
            patient_id = patient.patient_id
        self._know("patient", patient_id, owner)
        return patient_id

    def _relative(self, name: str) -> UUID:
        return self._new_patient(OWNER_OF[name])

    def _book(self, site_name: str, patient_id: UUID, starts_at: datetime) -> Ref:
        site = self.sites[site_name]
        with self.db.write() as session:
            appointment = do_book_appointment(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                request=BookingRequest(
                    practice_id=site.practice_id,
                    practitioner_id=site.practitioner_id,
                    patient_id=patient_id,
                    starts_at=starts_at,
                    duration_minutes=20,
                ),
                source=Source.PRACTICE,
            )
            return Ref(site.practice_id, appointment.appointment_id)

    def _join(self, target: Target, patient_id: UUID, day: date) -> Ref:
        site = self.sites[target.site]
        with self.db.write() as session:
            entry = do_join_waitlist(
                session,
                now=self.now,
                principal=self._principals[target.owner],
                practice_id=site.practice_id,
                practitioner_id=site.practitioner_id,
                duration_minutes=20,
                patient_id=patient_id,
                first_day=day,
                last_day=day,
            )
            ref = Ref(site.practice_id, entry.entry_id)
        self._seen_at(patient_id, target.site)
        self._know("entry", ref.id, target.owner, target.site)
        return ref

    def _entry(self, target: Target, *, fresh: bool) -> Ref:
        patient_id = self._new_patient(target.owner) if fresh else self.main_patient[target.owner]
        return self._join(target, patient_id, self.wait_day[target.site])

    def _offer(self, target: Target, *, fresh: bool) -> Ref:
        """A waiting entry on a day of its own, then a cancellation that day: the freed time is
        offered to that entry (and to nobody else)."""
        patient_id = self._new_patient(target.owner) if fresh else self.main_patient[target.owner]
        day = next(self._offer_days[target.site])
        entry = self._join(target, patient_id, day)
        site = self.sites[target.site]
        starts_at = datetime.combine(day, time(10, 0), tzinfo=PARIS).astimezone(UTC)
        taken = self._book(target.site, self.filler, starts_at)
        with self.db.write() as session:
            do_cancel_appointment(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                practice_id=site.practice_id,
                appointment_id=taken.id,
                reason=CancelReason.PRACTICE_CLOSED,
            )
            offer_id = session.scalar(
                select(WaitlistOffer.offer_id).where(
                    WaitlistOffer.practice_id == site.practice_id,
                    WaitlistOffer.entry_id == entry.id,
                )
            )
        assert offer_id is not None, "the freed time went to another entry"
        self._know("offer", offer_id, target.owner, target.site)
        return Ref(site.practice_id, offer_id)

    def _opening(self, name: str) -> Ref:
        target = Target(name, Mode.FRESH)
        site = self.sites[target.site]
        start, end = self.sunday_range(target)
        with self.db.write() as session:
            opening = do_add_opening_range(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                practice_id=site.practice_id,
                practitioner_id=site.practitioner_id,
                weekday=6,
                start_minute=start,
                end_minute=end,
                visit_type_ids=[site.visit_type_id],
            )
            return Ref(site.practice_id, opening.opening_id)

    def _break(self, name: str) -> Ref:
        site = self.sites[SITE_OF[name]]
        with self.db.write() as session:
            pause = do_add_break(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                practice_id=site.practice_id,
                practitioner_id=site.practitioner_id,
                weekday=6,
                start_minute=0,
                end_minute=10,
            )
            return Ref(site.practice_id, pause.break_id)

    def _override(self, name: str) -> Ref:
        site = self.sites[SITE_OF[name]]
        with self.db.write() as session:
            override = do_add_override(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                practice_id=site.practice_id,
                practitioner_id=site.practitioner_id,
                kind=OverrideKind.HOLIDAY,
                first_day=date(2026, 12, 24),
                last_day=date(2026, 12, 25),
            )
            return Ref(site.practice_id, override.override_id)

    def _grant(self, name: str) -> Ref:
        site_name = SITE_OF[name]
        site = self.sites[site_name]
        with self.db.write() as session:
            grant = do_grant_operator_access(
                session,
                now=self.now,
                principal=self._principals[site.admin],
                practice_id=site.practice_id,
                operator_account_id=self.spare_operator.account_id,
                duration=timedelta(hours=1),
            )
            ref = Ref(site.practice_id, grant.grant_id)
        self._know("grant", ref.id, None, site_name)
        return ref
