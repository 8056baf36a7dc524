"""Reaching appointments and reading them: who may see which, and the lists.

Every read of personal data is audited in the caller's transaction. An appointment that exists but
is not the principal's answers exactly like a missing one. Reads answer with
:class:`AppointmentView`: the appointment as this reader may see it, its sealed reason carrying
only the key wraps the reader can open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import (
    Action,
    PatientTarget,
    PracticeTarget,
    authorize,
    hides_target,
    require,
)
from colloque.booking import queries
from colloque.booking.models import Appointment, AppointmentEvent
from colloque.booking.rules import Status
from colloque.booking.versions import appointment_version, window_version
from colloque.errors import InvalidInput, NotFound, Unauthenticated
from colloque.patients.models import Patient
from colloque.patients.registry import RegisteredPatient, reach_practice_patient
from colloque.patients.services import held
from colloque.principal import Principal
from colloque.scheduling.domain import check_horizon
from colloque.scheduling.models import Practice
from colloque.scheduling.timeline import window_end, window_start
from colloque.scheduling.versions import check_version


def audit_appointment(
    session: Session,
    appointment: Appointment,
    *,
    now: datetime,
    principal: Principal,
    action: AuditAction,
    also: Iterable[tuple[ObjectKind, UUID]] = (),
) -> None:
    """An event about one appointment (and its patient); ``also`` names what else the action
    showed or touched, such as the sealed reason it returned."""
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        practice_id=appointment.practice_id,
        subject_id=appointment.patient_id,
        object_kind="appointment",
        object_id=appointment.appointment_id,
        objects=also,
    )


@dataclass(frozen=True, slots=True)
class PatientAppointmentRow:
    appointment: Appointment
    patient: Patient


def appointment_refs(appointments: Iterable[Appointment]) -> list[tuple[ObjectKind, UUID]]:
    """What a read of these appointments names in its audit event: each one and its patient."""
    refs: list[tuple[ObjectKind, UUID]] = []
    for appointment in appointments:
        refs.append((ObjectKind.APPOINTMENT, appointment.appointment_id))
        refs.append((ObjectKind.PATIENT, appointment.patient_id))
    return refs


def view_refs(views: Iterable[AppointmentView]) -> list[tuple[ObjectKind, UUID]]:
    """The same for appointments as shown: with the sealed reason each one carries."""
    shown = list(views)
    refs = appointment_refs(view.appointment for view in shown)
    refs += [(ObjectKind.ITEM, view.reason.item_id) for view in shown if view.reason is not None]
    return refs


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment as one reader sees it. ``reason`` holds the wraps that reader can open:
    the practice's for its key holders, the account's own for a patient's manager, and no reason
    at all for an operator reading an agenda under a grant."""

    appointment: Appointment
    patient: Patient
    reason: queries.SealedReasonCopy | None
    history: tuple[AppointmentEvent, ...] = ()
    #: The practice's time zone when the reading gives instants as the practice's local time
    #: (the practice agenda); otherwise instants stay as stored, in UTC.
    zone: ZoneInfo | None = None

    def local(self, instant: datetime) -> datetime:
        """An instant of this appointment as the reader is given it: with the practice's offset
        when the view has its zone. (A new datetime: the stored row is never touched.)"""
        return instant if self.zone is None else instant.astimezone(self.zone)


def practice_views(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    rows: list[PatientAppointmentRow],
    zone: ZoneInfo | None = None,
) -> list[AppointmentView]:
    """Rows of one practice, read for the practice: reasons only for its key holders."""
    holds_key = authorize(principal, Action.PRACTICE_SEALED_WRAPS_READ, PracticeTarget(practice_id))
    reasons = (
        queries.sealed_reasons(
            session, appointments=[r.appointment for r in rows], recipient_kind="practice"
        )
        if holds_key
        else {}
    )
    return [
        AppointmentView(
            r.appointment, r.patient, reasons.get(r.appointment.appointment_id), zone=zone
        )
        for r in rows
    ]


def holder_views(
    session: Session, *, principal: Principal, rows: list[PatientAppointmentRow]
) -> list[AppointmentView]:
    """Rows read by the patients' manager: reasons with the wraps made for their account."""
    reasons = queries.sealed_reasons(
        session,
        appointments=[r.appointment for r in rows],
        recipient_kind="user",
        recipient_id=principal.account_id,
    )
    return [
        AppointmentView(r.appointment, r.patient, reasons.get(r.appointment.appointment_id))
        for r in rows
    ]


def view_appointment(
    session: Session, *, principal: Principal, appointment: Appointment, as_practice: bool
) -> AppointmentView:
    """One appointment the principal just reached or changed, read as the practice or as the
    patient's manager."""
    # The appointment's foreign key guarantees its patient: nothing to answer if it were missing.
    patient = session.get_one(Patient, appointment.patient_id)
    rows = [PatientAppointmentRow(appointment, patient)]
    if as_practice:
        return practice_views(
            session, principal=principal, practice_id=appointment.practice_id, rows=rows
        )[0]
    return holder_views(session, principal=principal, rows=rows)[0]


@dataclass(frozen=True, slots=True)
class Access:
    """How a principal reaches an appointment: as the patient's manager or as the practice."""

    appointment: Appointment
    patient: Patient
    as_practice: bool


def reach(
    session: Session,
    *,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
    practice_action: Action,
    patient_action: Action,
    for_update: bool = False,
) -> Access:
    """Find an appointment the principal may act on; otherwise the same 404 as a missing one.

    ``for_update`` locks its row until the commit (a change), so that two changes based on one
    version cannot both pass the version check (``check_expected_version``).
    """
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    as_practice = authorize(principal, practice_action, PracticeTarget(practice_id))
    # One query, the appointment with its patient, in every case. Whoever may not learn what
    # the practice holds asks only for appointments of patients they hold: somebody else's is
    # then not even loaded, and costs the same work as a missing one (same timing, same answer).
    statement = (
        select(Appointment, Patient)
        .join(Patient, Patient.patient_id == Appointment.patient_id)
        .where(Appointment.practice_id == practice_id, Appointment.appointment_id == appointment_id)
    )
    if hides_target(as_practice):
        statement = statement.where(held(principal, patient_action))
    if for_update:
        statement = statement.with_for_update(of=Appointment).execution_options(
            populate_existing=True
        )
    row = session.execute(statement).one_or_none()
    if row is not None and row.Appointment.status != Status.HOLD_LAPSED:
        appointment, patient = row.Appointment, row.Patient
        if as_practice:
            return Access(appointment=appointment, patient=patient, as_practice=True)
        if authorize(principal, patient_action, PatientTarget(patient.holder_account_id)):
            return Access(appointment=appointment, patient=patient, as_practice=False)
        # The policy answers as for the practice: a member whose role is too low gets a 403 (the
        # appointment's existence is no secret to them, its handling is), anybody else a 404.
        require(principal, practice_action, PracticeTarget(practice_id), what="appointment")
    raise NotFound("appointment not found")


def check_expected_version(appointment: Appointment, expected_version: str | None) -> None:
    """A change sent with the version it was based on (``If-Match``) is refused (412) when the
    appointment changed since. Without one it goes ahead: patients' pages and the Python client
    change appointments without reading versions; the practice agenda always sends it."""
    if expected_version is not None:
        check_version(appointment_version(appointment), expected_version, what="appointment")


def get_appointment(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    appointment_id: UUID,
) -> AppointmentView:
    """One appointment with its history, read as the practice or as the patient's manager."""
    access = reach(
        session,
        principal=principal,
        practice_id=practice_id,
        appointment_id=appointment_id,
        practice_action=Action.PRACTICE_AGENDA_VIEW,
        patient_action=Action.PATIENT_APPOINTMENT_VIEW,
    )
    view = view_appointment(
        session,
        principal=principal,
        appointment=access.appointment,
        as_practice=access.as_practice,
    )
    audit_appointment(
        session,
        access.appointment,
        now=now,
        principal=principal,
        action=AuditAction.APPOINTMENT_VIEWED,
        also=view_refs([view]),
    )
    history = _history(session, practice_id=practice_id, appointment_id=appointment_id)
    return AppointmentView(view.appointment, view.patient, view.reason, tuple(history))


def _history(
    session: Session, *, practice_id: UUID, appointment_id: UUID
) -> list[AppointmentEvent]:
    return list(
        session.scalars(
            select(AppointmentEvent)
            .where(
                AppointmentEvent.practice_id == practice_id,
                AppointmentEvent.appointment_id == appointment_id,
            )
            .order_by(AppointmentEvent.at)
        )
    )


def list_my_appointments(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    upcoming_only: bool = False,
    also: Iterable[tuple[ObjectKind, UUID]] = (),
) -> list[AppointmentView]:
    """Appointments of every patient the principal manages (themself and relatives). The read's
    event names them, and ``also`` what else the same page shows (its waitlist)."""
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    query = (
        select(Appointment, Patient)
        .join(Patient, Patient.patient_id == Appointment.patient_id)
        .where(
            Patient.holder_account_id == principal.account_id,
            Appointment.status != Status.HOLD_LAPSED,
        )
        .order_by(Appointment.starts_at)
    )
    if upcoming_only:
        query = query.where(Appointment.starts_at > now)
    rows = [PatientAppointmentRow(appointment=a, patient=p) for a, p in session.execute(query)]
    views = holder_views(session, principal=principal, rows=rows)
    record(
        session,
        at=now,
        action=AuditAction.APPOINTMENTS_LISTED,
        principal=principal,
        object_kind="appointment_list",
        object_id=None,
        objects=[*view_refs(views), *also],
    )
    return views


#: The longest agenda window: 31 days, or 31 local days.
MAX_AGENDA_DAYS = 31


@dataclass(frozen=True, slots=True)
class AgendaWindow:
    """An agenda window as one reader sees it, and its version (the ``ETag``)."""

    version: str
    #: None when the reader already holds this version (the 304 of a poll).
    views: list[AppointmentView] | None


def list_practice_agenda(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    start: datetime | date,
    until: datetime | date,
    practitioner_id: UUID | None = None,
) -> list[AppointmentView]:
    """The practice's appointments overlapping [``start``, ``until``) (see read_practice_agenda)."""
    window = read_practice_agenda(
        session,
        now=now,
        principal=principal,
        practice_id=practice_id,
        start=start,
        until=until,
        practitioner_id=practitioner_id,
    )
    return window.views or []


def read_practice_agenda(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    start: datetime | date,
    until: datetime | date,
    practitioner_id: UUID | None = None,
    known_version: str | None = None,
) -> AgendaWindow:
    """The practice's appointments overlapping [``start``, ``until``), at most 31 days.

    Each bound is an instant or a local day of the practice: ``start`` a day's first instant,
    ``until`` the end of its day (the next day's first instant). The views carry the practice's
    zone, so that their instants are given with the practice's offset.

    When ``known_version`` is the window's version, the answer has no views: nothing changed,
    the reasons are not read and no read is audited, since nothing new is disclosed (an agenda
    polls every few seconds; its first read and every changed one are audited).
    """
    require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(practice_id), what="practice")
    zone_name = session.scalar(select(Practice.timezone).where(Practice.practice_id == practice_id))
    if zone_name is None:
        raise NotFound("practice not found")
    zone = ZoneInfo(zone_name)
    # 31 local days may hold an hour more or less than 31 days: count days when both are days
    # (``until`` is the last day in the window).
    days_asked = (
        None
        if isinstance(start, datetime) or isinstance(until, datetime)
        else (until - start).days + 1
    )
    start, until = window_start(start, zone), window_end(until, zone)
    check_horizon(start, now=now, field="from")
    check_horizon(until, now=now, field="until")
    if days_asked is None:
        too_long = until - start > timedelta(days=MAX_AGENDA_DAYS)
    else:
        too_long = days_asked > MAX_AGENDA_DAYS
    if until <= start or too_long:
        raise InvalidInput("the window must be positive and at most 31 days", field="until")
    query = (
        select(Appointment, Patient)
        .join(Patient, Patient.patient_id == Appointment.patient_id)
        .where(
            Appointment.practice_id == practice_id,
            Appointment.starts_at < until,
            Appointment.ends_at > start,
            Appointment.status != Status.HOLD_LAPSED,
        )
        .order_by(Appointment.starts_at)
    )
    if practitioner_id is not None:
        query = query.where(Appointment.practitioner_id == practitioner_id)
    pairs = [(a, p) for a, p in session.execute(query)]
    holds_key = bool(
        authorize(principal, Action.PRACTICE_SEALED_WRAPS_READ, PracticeTarget(practice_id))
    )
    version = window_version(
        start=start,
        until=until,
        practitioner_id=practitioner_id,
        holds_key=holds_key,
        rows=pairs,
    )
    if version == known_version:
        return AgendaWindow(version=version, views=None)
    rows = [PatientAppointmentRow(appointment=a, patient=p) for a, p in pairs]
    views = practice_views(
        session, principal=principal, practice_id=practice_id, rows=rows, zone=zone
    )
    record(
        session,
        at=now,
        action=AuditAction.AGENDA_VIEWED,
        principal=principal,
        practice_id=practice_id,
        object_kind="agenda",
        object_id=practitioner_id,
        objects=view_refs(views),
        span=(start, until),
    )
    return AgendaWindow(version=version, views=views)


@dataclass(frozen=True, slots=True)
class RegistryPatientPage:
    registered: RegisteredPatient
    #: Latest first, as the practice reads them.
    views: list[AppointmentView]


def read_registry_patient(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, patient_id: UUID
) -> RegistryPatientPage:
    """A registry patient and their appointments at this practice, latest first (the desk's
    patient page); a patient outside the registry is not found. Lapsed holds never were
    appointments. One audited read names the patient, each appointment and each sealed reason."""
    registered = reach_practice_patient(
        session, principal=principal, practice_id=practice_id, patient_id=patient_id
    )
    found = session.scalars(
        select(Appointment)
        .where(
            Appointment.practice_id == practice_id,
            Appointment.patient_id == patient_id,
            Appointment.status != Status.HOLD_LAPSED,
        )
        .order_by(Appointment.starts_at.desc())
    )
    views = practice_views(
        session,
        principal=principal,
        practice_id=practice_id,
        rows=[PatientAppointmentRow(appointment, registered.patient) for appointment in found],
    )
    record(
        session,
        at=now,
        action=AuditAction.PRACTICE_PATIENT_VIEWED,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind="patient",
        object_id=patient_id,
        objects=view_refs(views),
    )
    return RegistryPatientPage(registered, views)
