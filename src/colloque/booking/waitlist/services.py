"""Use cases of the waitlist entries: join, leave, list (the offers of freed time: offers.py).

When time frees up, the earliest waiting entry whose days and visit length fit gets a hold: a
'held' appointment that blocks the slot for everyone else until it is accepted, declined or
lapses. The offer is recorded; its delivery by mail or SMS goes through the outbox.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action
from colloque.booking.models import Appointment
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.booking.waitlist.offers import (
    audit_waitlist,
    close_offer,
    offer_freed_time,
    pending_offer,
    reach_entry,
)
from colloque.errors import Duplicate, InvalidInput, RuleViolation, Unauthenticated
from colloque.ids import new_id
from colloque.patients.models import Patient
from colloque.patients.services import reach_held_patient
from colloque.principal import Principal
from colloque.scheduling.domain import check_horizon
from colloque.scheduling.loading import load_agenda

MAX_WAITLIST_SPAN_DAYS = 120
MAX_OPEN_ENTRIES_PER_PATIENT = 5


def do_join_waitlist(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    duration_minutes: int,
    patient_id: UUID,
    first_day: date,
    last_day: date,
) -> WaitlistEntry:
    reach_held_patient(
        session, principal=principal, action=Action.PATIENT_WAITLIST_MANAGE, patient_id=patient_id
    )
    loaded = load_agenda(session, practice_id=practice_id, practitioner_id=practitioner_id)
    if not any(
        vt.online_bookable and vt.duration_minutes == duration_minutes
        for vt in loaded.visit_types.values()
    ):
        raise InvalidInput(
            f"no visit type of this practitioner lasts {duration_minutes} minutes",
            field="duration_minutes",
        )
    check_horizon(first_day, now=now, field="first_day")
    check_horizon(last_day, now=now, field="last_day")
    if first_day > last_day:
        raise InvalidInput("first_day must not be after last_day", field="last_day")
    if last_day < now.date():
        raise InvalidInput("last_day is in the past", field="last_day")
    if (last_day - first_day).days > MAX_WAITLIST_SPAN_DAYS:
        raise InvalidInput(
            f"a waitlist entry spans at most {MAX_WAITLIST_SPAN_DAYS} days", field="last_day"
        )
    open_entries = session.execute(
        select(
            WaitlistEntry.entry_id,
            WaitlistEntry.practice_id,
            WaitlistEntry.practitioner_id,
            WaitlistEntry.first_day,
            WaitlistEntry.last_day,
            WaitlistEntry.duration_minutes,
        ).where(
            WaitlistEntry.patient_id == patient_id,
            WaitlistEntry.status.in_(("waiting", "offered")),
        )
    ).all()
    wanted = (practice_id, practitioner_id, first_day, last_day, duration_minutes)
    for entry_id, *same in open_entries:
        if tuple(same) == wanted:
            raise Duplicate(
                "this patient is already waiting for this practitioner on these days",
                existing_id=entry_id,
            )
    if len(open_entries) >= MAX_OPEN_ENTRIES_PER_PATIENT:
        raise RuleViolation(
            f"a patient may wait on at most {MAX_OPEN_ENTRIES_PER_PATIENT} lists at once",
            rule="waitlist_limit",
        )
    entry = WaitlistEntry(
        practice_id=practice_id,
        entry_id=new_id(),
        practitioner_id=practitioner_id,
        duration_minutes=duration_minutes,
        patient_id=patient_id,
        account_id=principal.account_id,
        first_day=first_day,
        last_day=last_day,
        status="waiting",
        created_at=now,
    )
    session.add(entry)
    audit_waitlist(
        session,
        now,
        principal,
        practice_id,
        patient_id,
        (ObjectKind.WAITLIST_ENTRY, entry.entry_id),
        AuditAction.WAITLIST_CHANGED,
    )
    return entry


def do_leave_waitlist(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, entry_id: UUID
) -> WaitlistEntry:
    entry, patient = reach_entry(
        session, principal=principal, practice_id=practice_id, entry_id=entry_id
    )
    if entry.status not in ("waiting", "offered"):
        raise RuleViolation("this entry is no longer waiting", rule="not_waiting")
    pending = pending_offer(session, entry)
    if pending is not None:
        close_offer(session, pending, now=now, principal=principal, outcome="declined")
    entry.status = "withdrawn"
    audit_waitlist(
        session,
        now,
        principal,
        practice_id,
        patient.patient_id,
        (ObjectKind.WAITLIST_ENTRY, entry_id),
        AuditAction.WAITLIST_CHANGED,
    )
    if pending is not None:
        # The held time is free again: as for a declined offer, the next in line gets it.
        hold = session.get(Appointment, (practice_id, pending.appointment_id))
        assert hold is not None
        offer_freed_time(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=hold.practitioner_id,
            starts_at=hold.starts_at,
        )
    return entry


Waitlist = list[tuple[WaitlistEntry, WaitlistOffer | None]]


def find_my_waitlist(session: Session, *, principal: Principal) -> Waitlist:
    """The entries of the account's patients and their pending offers, not audited: for a
    reader that records one event for all it shows (the "my appointments" page)."""
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    entries = session.scalars(
        select(WaitlistEntry)
        .join(Patient, Patient.patient_id == WaitlistEntry.patient_id)
        .where(Patient.holder_account_id == principal.account_id)
        .order_by(WaitlistEntry.created_at)
    ).all()
    return [(entry, pending_offer(session, entry)) for entry in entries]


def waitlist_refs(found: Waitlist) -> list[tuple[ObjectKind, UUID]]:
    """What showing these names in an audit event: each entry, offer, held appointment and
    patient."""
    refs: list[tuple[ObjectKind, UUID]] = []
    for entry, offer in found:
        refs += [
            (ObjectKind.WAITLIST_ENTRY, entry.entry_id),
            (ObjectKind.PATIENT, entry.patient_id),
        ]
        if offer is not None:
            refs += [
                (ObjectKind.WAITLIST_OFFER, offer.offer_id),
                (ObjectKind.APPOINTMENT, offer.appointment_id),
            ]
    return refs


def list_my_waitlist(session: Session, *, now: datetime, principal: Principal) -> Waitlist:
    """:func:`find_my_waitlist`, audited."""
    found = find_my_waitlist(session, principal=principal)
    record(
        session,
        at=now,
        action=AuditAction.WAITLIST_LISTED,
        principal=principal,
        object_kind="waitlist_list",
        object_id=None,
        objects=waitlist_refs(found),
    )
    return found
