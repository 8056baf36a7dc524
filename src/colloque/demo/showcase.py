"""The showcase practice in Paris, built through the real service functions so that it exercises
the real rules: three practitioners, their agendas, demo logins and a patient's family with past
and future appointments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from colloque.accounts.demo import do_create_demo_login
from colloque.accounts.models import Account
from colloque.accounts.services import (
    do_add_member,
    do_issue_token,
    principal_for_account,
)
from colloque.booking.changes import do_cancel_appointment, do_mark_appointment
from colloque.booking.queries import busy_between
from colloque.booking.rules import CancelReason, Source, Status
from colloque.booking.services import BookingRequest, do_book_appointment
from colloque.crypto.groups import GroupKey
from colloque.crypto.keys import UserKeys
from colloque.crypto.statements import Role as GroupRole
from colloque.demo.network import EMAIL_DOMAIN
from colloque.demo.places import SHOWCASE_PLACE
from colloque.demo.plans import AgendaPlan
from colloque.demo.showcase_agendas import DENTIST, GP, PHYSIO, showcase_plans
from colloque.demo.showcase_keys import (
    make_clinical_group,
    make_practice_group,
    seal_reason,
    unlock,
)
from colloque.errors import Conflict
from colloque.notifications.models import OutboxMessage
from colloque.patients.models import Patient
from colloque.patients.services import Relationship, do_add_patient
from colloque.principal import Principal, Role
from colloque.scheduling.loading import load_agenda
from colloque.scheduling.services import AgendaRulesInput, do_add_practitioner, do_create_practice
from colloque.scheduling.slots import free_slots
from colloque.scheduling.specialties import Specialty
from colloque.scheduling.timetable import (
    do_add_break,
    do_add_opening_range,
    do_add_override,
    do_add_visit_type,
)
from colloque.storage.engine import Database

SHOWCASE_NAME = "Cabinet médical Colloque démo"
SHOWCASE_ADDRESS = "24 rue de la Roquette"
#: Demo tokens stay valid this long after generation.
DEMO_TOKEN_LIFETIME = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    role: str
    display_name: str
    email: str
    #: A real password: logging in with it goes through the end-to-end login (docs/accounts.md).
    password: str
    #: A bearer token for API calls (curl), valid for the demo's lifetime.
    token: str


@dataclass(frozen=True, slots=True)
class Showcase:
    practice_id: UUID
    secretary_account_id: UUID
    logins: tuple[DemoLogin, ...]
    agendas: tuple[AgendaPlan, ...]


@dataclass(frozen=True, slots=True)
class _Person:
    first_name: str
    last_name: str
    title: str = ""

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)


_PRACTITIONERS = (
    (_Person("Hélène", "Marchand", "Dr"), Specialty.GENERAL_PRACTICE, ("fr", "en")),
    (_Person("Julien", "Roux", "Dr"), Specialty.DENTISTRY, ("fr", "es")),
    (_Person("Sophie", "Garnier"), Specialty.PHYSIOTHERAPY, ("fr",)),
)
_ADMIN = _Person("Marc", "Dubois")
_SECRETARY = _Person("Nadia", "Benali")
_PATIENT = _Person("Léa", "Martin")


def build_showcase(db: Database, *, new_id: Callable[[], UUID], now: datetime) -> Showcase:
    """Create the showcase through the services. Refuses a database that already has it."""
    tz = ZoneInfo(SHOWCASE_PLACE.timezone)
    today = now.astimezone(tz).date()
    opened = now - timedelta(days=400)
    setup = now - timedelta(days=90)
    with db.write() as session:
        taken = select(Account.account_id).where(Account.email == f"admin@{EMAIL_DOMAIN}")
        if session.scalar(taken) is not None:
            raise Conflict("the database already holds the demo data")
        admin = _account(session, new_id, _ADMIN, "admin", opened)
        practice = do_create_practice(
            session,
            now=opened,
            principal=principal_for_account(session, admin),
            name=SHOWCASE_NAME,
            address=SHOWCASE_ADDRESS,
            postcode=SHOWCASE_PLACE.postcode,
            city=SHOWCASE_PLACE.city,
            latitude=48.8553,
            longitude=2.3731,
            timezone=SHOWCASE_PLACE.timezone,
            practice_id=new_id(),
        )
        practice_id = practice.practice_id
        admin_principal = principal_for_account(session, admin)
        plans = showcase_plans(new_id, practice_id, today)
        for plan, (person, _, languages) in zip(plans, _PRACTITIONERS, strict=True):
            _apply_plan(session, admin_principal, plan, person, languages, opened, setup)
        secretary = _account(session, new_id, _SECRETARY, "secretary", opened)
        do_add_member(
            session, practice_id=practice_id, account_id=secretary.account_id, role=Role.SECRETARY
        )
        doctor = _account(session, new_id, _PRACTITIONERS[GP][0], "practitioner", opened)
        do_add_member(
            session,
            practice_id=practice_id,
            account_id=doctor.account_id,
            role=Role.PRACTITIONER,
            practitioner_id=plans[GP].practitioner_id,
        )
        holder = _account(session, new_id, _PATIENT, "patient", now - timedelta(days=200))
        keys = {
            role: unlock(session, account, DEMO_PASSWORDS[role])
            for role, account in (
                ("patient", holder),
                ("secretary", secretary),
                ("practitioner", doctor),
                ("admin", admin),
            )
        }
        group = make_practice_group(
            session,
            now=setup,
            practice_id=practice_id,
            creator=principal_for_account(session, admin),
            admin=keys["admin"],
            members=[
                (keys["admin"], GroupRole.ADMIN),
                (keys["secretary"], GroupRole.SECRETARY),
                (keys["practitioner"], GroupRole.PRACTITIONER),
            ],
        )
        make_clinical_group(
            session,
            now=setup,
            practice_id=practice_id,
            creator=principal_for_account(session, doctor),
            practitioner=keys["practitioner"],
            practitioners=[keys["practitioner"]],
        )
        logins = tuple(
            DemoLogin(
                role=role,
                display_name=account.display_name,
                email=account.email or "",
                password=DEMO_PASSWORDS[role],
                token=do_issue_token(
                    session, now=now, account_id=account.account_id, lifetime=DEMO_TOKEN_LIFETIME
                ),
            )
            for role, account in (
                ("patient", holder),
                ("secretary", secretary),
                ("practitioner", doctor),
                ("admin", admin),
            )
        )
    with db.write() as session:
        family = _family(session, new_id, holder, now)
        _book_family(
            session,
            plans=plans,
            family=family,
            patient=principal_for_account(session, holder),
            desk=principal_for_account(session, secretary),
            now=now,
            today=today,
            sealing=_Sealing(keys["patient"], keys["secretary"], group),
        )
        # Messages about these appointments belong to the past: do not send them now.
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.practice_id == practice_id)
            .values(status="sent", attempts=1)
        )
    return Showcase(
        practice_id=practice_id,
        secretary_account_id=secretary.account_id,
        logins=logins,
        agendas=tuple(plans),
    )


#: Public demo passwords, strong enough for the clients' strength check. Demo data only.
DEMO_PASSWORDS = {
    "patient": "tilleul-marmotte-horizon-patient",
    "secretary": "agenda-lavande-comptoir-secretaire",
    "practitioner": "stethoscope-glycine-aurore-docteur",
    "admin": "cabinet-orchidee-registre-admin",
}


def _account(
    session: Session, new_id: Callable[[], UUID], person: _Person, role: str, at: datetime
) -> Account:
    """A real sign-up, back at ``at``, with the role's demo password."""
    del new_id  # the account id comes from the sign-up itself
    account, _old_token = do_create_demo_login(
        session,
        now=at,
        email=f"{role}@{EMAIL_DOMAIN}",
        display_name=person.display_name,
        password=DEMO_PASSWORDS[role],
        token_lifetime=DEMO_TOKEN_LIFETIME,
    )
    return account


def _apply_plan(
    session: Session,
    principal: Principal,
    plan: AgendaPlan,
    person: _Person,
    languages: tuple[str, ...],
    opened: datetime,
    setup: datetime,
) -> None:
    practice_id, practitioner_id = plan.practice_id, plan.practitioner_id
    do_add_practitioner(
        session,
        now=opened,
        principal=principal,
        practice_id=practice_id,
        first_name=person.first_name,
        last_name=person.last_name,
        specialty=plan.specialty,
        languages=languages,
        title=person.title,
        rules=AgendaRulesInput(
            slot_step_minutes=plan.rules.step,
            min_notice_minutes=plan.rules.notice_minutes,
            max_horizon_days=plan.rules.horizon_days,
            buffer_after_minutes=plan.rules.buffer_minutes,
        ),
        practitioner_id=practitioner_id,
    )
    agenda = {"practice_id": practice_id, "practitioner_id": practitioner_id}
    for v in plan.visit_types:
        do_add_visit_type(
            session,
            now=opened,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            label=v.label,
            duration_minutes=v.duration,
            online_bookable=v.online_bookable,
            patient_kind=v.patient_kind,
            mode=v.mode,
            visit_type_id=v.visit_type_id,
        )
    for r in plan.ranges:
        do_add_opening_range(
            session,
            now=opened,
            principal=principal,
            **agenda,
            weekday=r.weekday,
            start_minute=r.start,
            end_minute=r.end,
            visit_type_ids=r.visit_type_ids,
        )
    for b in plan.breaks:
        do_add_break(
            session,
            now=opened,
            principal=principal,
            **agenda,
            weekday=b.weekday,
            start_minute=b.start,
            end_minute=b.end,
        )
    for o in plan.overrides:
        do_add_override(
            session,
            now=setup,
            principal=principal,
            **agenda,
            kind=o.kind,
            first_day=o.first_day,
            last_day=o.last_day,
            start_minute=o.start,
            end_minute=o.end,
            visit_type_ids=o.visit_type_ids,
        )


def _family(
    session: Session, new_id: Callable[[], UUID], holder: Account, now: datetime
) -> dict[str, Patient]:
    principal = principal_for_account(session, holder)
    today = now.date()
    people = (
        ("self", _PATIENT.first_name, date(today.year - 37, 4, 12), Relationship.SELF),
        ("child", "Noé", date(today.year - 8, 9, 3), Relationship.CHILD),
        ("parent", "Jacques", date(today.year - 71, 1, 22), Relationship.PARENT),
    )
    return {
        key: do_add_patient(
            session,
            now=now - timedelta(days=200),
            principal=principal,
            first_name=first_name,
            last_name=_PATIENT.last_name,
            birth_date=born,
            relationship=relationship,
            patient_id=new_id(),
        )
        for key, first_name, born, relationship in people
    }


#: (patient, agenda, visit type label, days from today, local hour, outcome, source)
_BOOKINGS: tuple[tuple[str, int, str, int, int, Status, Source], ...] = (
    ("self", GP, "Première consultation", -45, 10, Status.DONE, Source.ONLINE),
    ("child", GP, "Consultation", -26, 17, Status.DONE, Source.ONLINE),
    ("parent", PHYSIO, "Bilan kinésithérapique", -19, 9, Status.DONE, Source.ONLINE),
    ("parent", PHYSIO, "Séance de kinésithérapie", -12, 9, Status.DONE, Source.ONLINE),
    ("child", DENTIST, "Consultation de contrôle", -8, 16, Status.NO_SHOW, Source.ONLINE),
    ("parent", PHYSIO, "Séance de kinésithérapie", -5, 9, Status.DONE, Source.PRACTICE),
    ("parent", GP, "Urgence", 1, 11, Status.BOOKED, Source.PRACTICE),
    ("self", GP, "Suivi", 3, 18, Status.BOOKED, Source.ONLINE),
    ("parent", PHYSIO, "Séance de kinésithérapie", 4, 9, Status.BOOKED, Source.ONLINE),
    ("child", DENTIST, "Consultation de contrôle", 10, 16, Status.BOOKED, Source.ONLINE),
    ("self", GP, "Téléconsultation", 12, 18, Status.BOOKED, Source.ONLINE),
    ("self", DENTIST, "Détartrage", 20, 10, Status.CANCELLED_BY_PATIENT, Source.ONLINE),
)


#: What each booking's patient wrote; sealed on the "device", never stored in clear.
_REASONS = (
    "Fatigue persistante depuis deux mois",
    "Fièvre et toux depuis trois jours",
    "Douleurs lombaires après un déménagement",
    "Rééducation du dos, deuxième séance",
    "Contrôle annuel",
    "Rééducation du dos",
    "Vertiges depuis ce matin (appel au secrétariat)",
    "Résultats de la prise de sang",
    "Rééducation du dos, suite",
    "Contrôle après le soin de la carie",
    "Renouvellement d'ordonnance",
    "Détartrage",
)


@dataclass(frozen=True)
class _Sealing:
    holder: UserKeys
    desk: UserKeys
    group: GroupKey


def _book_family(
    session: Session,
    *,
    plans: list[AgendaPlan],
    family: dict[str, Patient],
    patient: Principal,
    desk: Principal,
    now: datetime,
    today: date,
    sealing: _Sealing,
) -> None:
    """Book each appointment at the first free slot from the wished time, as it would have been
    booked back then, then record what happened."""
    for (who, index, label, days, hour, outcome, source), reason in zip(
        _BOOKINGS, _REASONS, strict=True
    ):
        plan = plans[index]
        visit_type = next(v for v in plan.visit_types if v.label == label)
        tz = ZoneInfo(plan.timezone)
        wished = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=tz)
        booked_at = wished - timedelta(days=7) if days < 0 else now - timedelta(hours=days + 2)
        starts_at = _first_free(session, plan, visit_type.visit_type_id, wished, booked_at)
        appointment_id, sealed = seal_reason(
            author=sealing.desk if source is Source.PRACTICE else sealing.holder,
            holder=sealing.holder,
            group=sealing.group,
            visit_type_id=visit_type.visit_type_id,
            reason=reason,
        )
        appointment = do_book_appointment(
            session,
            now=booked_at,
            principal=desk if source is Source.PRACTICE else patient,
            request=BookingRequest(
                practice_id=plan.practice_id,
                practitioner_id=plan.practitioner_id,
                patient_id=family[who].patient_id,
                starts_at=starts_at,
                duration_minutes=visit_type.duration,
                appointment_id=appointment_id,
                sealed_reason=sealed,
            ),
            source=source,
        )
        if outcome in (Status.DONE, Status.NO_SHOW):
            do_mark_appointment(
                session,
                now=appointment.ends_at + timedelta(minutes=20),
                principal=desk,
                practice_id=plan.practice_id,
                appointment_id=appointment.appointment_id,
                outcome=outcome,
            )
        elif outcome is Status.CANCELLED_BY_PATIENT:
            do_cancel_appointment(
                session,
                now=now - timedelta(hours=1),
                principal=patient,
                practice_id=plan.practice_id,
                appointment_id=appointment.appointment_id,
                reason=CancelReason.PATIENT_UNAVAILABLE,
            )


def _first_free(
    session: Session, plan: AgendaPlan, visit_type_id: UUID, wished: datetime, at: datetime
) -> datetime:
    loaded = load_agenda(
        session, practice_id=plan.practice_id, practitioner_id=plan.practitioner_id
    )
    until = wished + timedelta(days=21)
    slots = free_slots(
        loaded.agenda,
        loaded.spec(visit_type_id),
        window_start=wished,
        window_end=until,
        now=at,
        busy=busy_between(
            session,
            practice_ids=loaded.practitioner_practice_ids,
            practitioner_id=plan.practitioner_id,
            start=wished,
            until=until,
            now=at,
        ),
        limit=1,
    )
    if not slots:  # pragma: no cover - the showcase agendas are open most days
        raise RuntimeError("no free slot for a showcase appointment")
    return slots[0].start
