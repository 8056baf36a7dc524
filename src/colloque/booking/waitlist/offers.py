"""The offer of freed time: holds, their acceptance or refusal, and their lapse.

When time frees up, the earliest waiting entry whose days and visit length fit gets a hold: a
'held' appointment that blocks the slot for everyone else until it is accepted, declined or
lapses. The offer is recorded; its delivery by mail or SMS goes through the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PatientTarget, require
from colloque.booking import ledger, queries
from colloque.booking.history import record_event
from colloque.booking.models import Appointment
from colloque.booking.reasons import SealedReason, store_reason
from colloque.booking.rules import (
    Source,
    Status,
    check_anti_hoarding,
    closest_slot_problem,
    fitting_visit_types,
)
from colloque.booking.waitlist.models import WaitlistEntry, WaitlistOffer
from colloque.errors import InvalidInput, NotFound, RuleViolation
from colloque.ids import new_id
from colloque.notifications.services import Template, enqueue
from colloque.patients.models import Patient
from colloque.patients.services import held
from colloque.principal import Principal
from colloque.scheduling.loading import load_agenda
from colloque.scheduling.slots import check_slot


def audit_waitlist(
    session: Session,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    patient_id: UUID,
    main: tuple[ObjectKind, UUID],
    action: AuditAction,
    *,
    also: Iterable[tuple[ObjectKind, UUID]] = (),
) -> None:
    """An event about a waitlist entry or offer (``main``), naming its patient and, for an
    offer, the appointment held for it (``also``)."""
    kind, object_id = main
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        practice_id=practice_id,
        subject_id=patient_id,
        object_kind=kind.value,
        object_id=object_id,
        objects=also,
    )


_MANAGE = Action.PATIENT_WAITLIST_MANAGE


def reach_entry(
    session: Session, *, principal: Principal, practice_id: UUID, entry_id: UUID
) -> tuple[WaitlistEntry, Patient]:
    """A waitlist entry of a patient the principal manages; anything else, somebody else's
    included, is not found after the same one query (filtered by holder: ``patients.held``)."""
    row = session.execute(
        select(WaitlistEntry, Patient)
        .join(Patient, Patient.patient_id == WaitlistEntry.patient_id)
        .where(
            WaitlistEntry.practice_id == practice_id,
            WaitlistEntry.entry_id == entry_id,
            held(principal, _MANAGE),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("waitlist entry not found")
    _confirm(principal, row.Patient, what="waitlist entry")
    return row.WaitlistEntry, row.Patient


def reach_offer(
    session: Session, *, principal: Principal, practice_id: UUID, offer_id: UUID
) -> tuple[WaitlistOffer, WaitlistEntry]:
    """An offer made to a patient the principal manages, with its entry. As for an entry, one
    query filtered by holder: somebody else's offer costs what a missing one does, and answers
    the same (naming the offer, never its entry)."""
    row = session.execute(
        select(WaitlistOffer, WaitlistEntry, Patient)
        .join(
            WaitlistEntry,
            (WaitlistEntry.practice_id == WaitlistOffer.practice_id)
            & (WaitlistEntry.entry_id == WaitlistOffer.entry_id),
        )
        .join(Patient, Patient.patient_id == WaitlistEntry.patient_id)
        .where(
            WaitlistOffer.practice_id == practice_id,
            WaitlistOffer.offer_id == offer_id,
            held(principal, _MANAGE),
        )
    ).one_or_none()
    if row is None:
        raise NotFound("offer not found")
    _confirm(principal, row.Patient, what="offer")
    return row.WaitlistOffer, row.WaitlistEntry


def _confirm(principal: Principal, patient: Patient, *, what: str) -> None:
    """What the filter found is allowed; the decision is still the policy's."""
    require(principal, _MANAGE, PatientTarget(patient.holder_account_id), what=what)


def pending_offer(session: Session, entry: WaitlistEntry) -> WaitlistOffer | None:
    return session.scalar(
        select(WaitlistOffer).where(
            WaitlistOffer.practice_id == entry.practice_id,
            WaitlistOffer.entry_id == entry.entry_id,
            WaitlistOffer.outcome == "pending",
        )
    )


def offer_freed_time(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    practitioner_id: UUID,
    starts_at: datetime,
) -> WaitlistOffer | None:
    """Offer the slot starting at ``starts_at`` to the earliest waiting entry it fits, if any.

    Entries already offered this very slot (and that let it go) are skipped.
    """
    if starts_at <= now:
        return None
    loaded = load_agenda(session, practice_id=practice_id, practitioner_id=practitioner_id)
    local_day = starts_at.astimezone(loaded.agenda.timezone).date()
    already_offered = (
        select(WaitlistOffer.entry_id)
        .join(
            Appointment,
            (Appointment.practice_id == WaitlistOffer.practice_id)
            & (Appointment.appointment_id == WaitlistOffer.appointment_id),
        )
        .where(
            WaitlistOffer.practice_id == practice_id,
            Appointment.practitioner_id == practitioner_id,
            Appointment.starts_at == starts_at,
        )
    )
    candidates = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.practice_id == practice_id,
            WaitlistEntry.practitioner_id == practitioner_id,
            WaitlistEntry.status == "waiting",
            WaitlistEntry.first_day <= local_day,
            WaitlistEntry.last_day >= local_day,
            WaitlistEntry.entry_id.not_in(already_offered),
        )
        .order_by(WaitlistEntry.created_at)
        .limit(50)
    ).all()
    specialty = loaded.practitioner.specialty
    for entry in candidates:
        history = queries.patient_history(
            session,
            patient_id=entry.patient_id,
            practice_id=practice_id,
            practitioner_id=practitioner_id,
            specialty=specialty,
            now=now,
        )
        duration = timedelta(minutes=entry.duration_minutes)
        blocked_until = starts_at + duration + loaded.agenda.rules.buffer_after
        nearby = queries.time_nearby(
            session,
            practice_ids=loaded.practitioner_practice_ids,
            practitioner_id=practitioner_id,
            start=starts_at,
            until=blocked_until,
            now=now,
        )
        try:
            fitting = fitting_visit_types(
                loaded.visit_types.values(),
                duration_minutes=entry.duration_minutes,
                is_known=history.is_known,
                accepts_new_patients=loaded.practitioner.accepts_new_patients,
                by_practice=False,
            )
            check_anti_hoarding(
                starts_at=starts_at,
                other_starts=history.future_starts_in_specialty,
                min_gap_days=loaded.practice.anti_hoarding_days,
            )
        except (InvalidInput, RuleViolation):
            continue
        problem = closest_slot_problem(
            check_slot(loaded.agenda, vt.spec(), start=starts_at, now=now, busy=nearby.busy)
            for vt in fitting
        )
        if problem is not None:
            continue
        if nearby.expired_holds:
            queries.lapse_holds(
                session, practitioner_id=practitioner_id, holds=nearby.expired_holds, now=now
            )
        return _make_offer(
            session,
            now=now,
            principal=principal,
            entry=entry,
            specialty=specialty,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            blocked_until=blocked_until,
            hold=timedelta(minutes=loaded.practice.hold_minutes),
        )
    return None


def _make_offer(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    entry: WaitlistEntry,
    specialty: str,
    starts_at: datetime,
    ends_at: datetime,
    blocked_until: datetime,
    hold: timedelta,
) -> WaitlistOffer | None:
    """The hold and its offer; none when the practitioner's time was taken meanwhile at another
    practice (the busy ledger refuses it): the freed time then is not free, and the change that
    freed it goes on without an offer."""
    expires_at = min(now + hold, starts_at)
    hold_row = Appointment(
        practice_id=entry.practice_id,
        appointment_id=new_id(),
        practitioner_id=entry.practitioner_id,
        patient_id=entry.patient_id,
        booked_by_account_id=entry.account_id,
        specialty=specialty,
        starts_at=starts_at,
        ends_at=ends_at,
        blocked_until=blocked_until,
        status=Status.HELD.value,
        source=Source.WAITLIST.value,
        cancel_reason=None,
        hold_expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    if not ledger.try_add(session, hold_row):
        return None
    offer = WaitlistOffer(
        practice_id=entry.practice_id,
        offer_id=new_id(),
        entry_id=entry.entry_id,
        appointment_id=hold_row.appointment_id,
        offered_at=now,
        expires_at=expires_at,
        outcome="pending",
        decided_at=None,
    )
    session.add(offer)
    entry.status = "offered"
    session.flush()
    event_id = record_event(session, hold_row, now=now, principal=principal, kind="offered")
    audit_waitlist(
        session,
        now,
        principal,
        entry.practice_id,
        entry.patient_id,
        (ObjectKind.WAITLIST_OFFER, offer.offer_id),
        AuditAction.WAITLIST_OFFERED,
        also=[(ObjectKind.APPOINTMENT, offer.appointment_id)],
    )
    enqueue(
        session,
        at=now,
        practice_id=entry.practice_id,
        template=Template.WAITLIST_OFFER,
        patient_id=entry.patient_id,
        appointment_id=hold_row.appointment_id,
        event_id=event_id,
    )
    return offer


@dataclass(frozen=True, slots=True)
class OfferDecision:
    offer: WaitlistOffer
    appointment: Appointment


def do_decide_offer(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    offer_id: UUID,
    accept: bool,
    reason_envelope: bytes | None = None,
    reason_wraps: Sequence[bytes] = (),
    reminders_wanted: bool = True,
) -> OfferDecision:
    """The patient takes the held slot (it becomes a booked appointment) or lets it go.

    On accepting, the patient's client may attach the visit reason, sealed for the held
    appointment's id (crypto.items.seal_visit_reason), as at booking, and the reminder policy
    of the visit type it seals (``appointments.reminders_wanted``).
    """
    offer, entry = reach_offer(
        session, principal=principal, practice_id=practice_id, offer_id=offer_id
    )
    # Locked: a booking elsewhere may be lapsing this very hold (queries.lapse_holds); then the
    # hold is no longer there to take, whatever the offer row said when it was read.
    appointment = session.get(
        Appointment, (practice_id, offer.appointment_id), with_for_update=True
    )
    assert appointment is not None
    if offer.outcome != "pending" or appointment.status != Status.HELD:
        raise RuleViolation("this offer is no longer open", rule="offer_closed")
    if offer.expires_at <= now:
        # The upkeep worker closes it and passes the slot on (see lapse_due_offers).
        raise RuleViolation("this offer has expired", rule="offer_expired")
    if not accept:
        close_offer(session, offer, now=now, principal=principal, outcome="declined")
        entry.status = "waiting"
        offer_freed_time(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            practitioner_id=appointment.practitioner_id,
            starts_at=appointment.starts_at,
        )
        return OfferDecision(offer=offer, appointment=appointment)
    offer.outcome = "accepted"
    offer.decided_at = now
    entry.status = "booked"
    appointment.status = Status.BOOKED.value
    appointment.hold_expires_at = None
    appointment.booked_by_account_id = principal.account_id
    appointment.reminders_wanted = reminders_wanted
    appointment.updated_at = now
    if reason_envelope is not None:
        store_reason(
            session,
            principal=principal,
            appointment=appointment,
            reason=SealedReason(envelope=reason_envelope, wraps=tuple(reason_wraps)),
            now=now,
        )
    event_id = record_event(
        session, appointment, now=now, principal=principal, kind="offer_accepted"
    )
    audit_waitlist(
        session,
        now,
        principal,
        practice_id,
        appointment.patient_id,
        (ObjectKind.WAITLIST_OFFER, offer_id),
        AuditAction.WAITLIST_OFFER_DECIDED,
        also=[(ObjectKind.APPOINTMENT, appointment.appointment_id)],
    )
    enqueue(
        session,
        at=now,
        practice_id=practice_id,
        template=Template.APPOINTMENT_CONFIRMED,
        patient_id=appointment.patient_id,
        appointment_id=appointment.appointment_id,
        event_id=event_id,
    )
    return OfferDecision(offer=offer, appointment=appointment)


def close_offer(
    session: Session, offer: WaitlistOffer, *, now: datetime, principal: Principal, outcome: str
) -> None:
    offer.outcome = outcome
    offer.decided_at = now
    appointment = session.get(Appointment, (offer.practice_id, offer.appointment_id))
    assert appointment is not None
    appointment.status = Status.HOLD_LAPSED.value
    appointment.hold_expires_at = None
    appointment.updated_at = now
    ledger.release(session, appointment)
    record_event(
        session,
        appointment,
        now=now,
        principal=principal,
        kind="offer_declined" if outcome == "declined" else "hold_lapsed",
    )
    audit_waitlist(
        session,
        now,
        principal,
        offer.practice_id,
        appointment.patient_id,
        (ObjectKind.WAITLIST_OFFER, offer.offer_id),
        AuditAction.WAITLIST_OFFER_DECIDED,
        also=[(ObjectKind.APPOINTMENT, appointment.appointment_id)],
    )


def lapse_due_offers(
    session: Session, *, now: datetime, principal: Principal, limit: int = 200
) -> int:
    """Close offers whose hold expired and pass the slot to the next entry. Run periodically."""
    due = session.scalars(
        select(WaitlistOffer)
        .where(WaitlistOffer.outcome == "pending", WaitlistOffer.expires_at <= now)
        .order_by(WaitlistOffer.expires_at)
        .limit(limit)
    ).all()
    for offer in due:
        appointment = session.get(Appointment, (offer.practice_id, offer.appointment_id))
        entry = session.get(WaitlistEntry, (offer.practice_id, offer.entry_id))
        assert appointment is not None
        assert entry is not None
        close_offer(session, offer, now=now, principal=principal, outcome="lapsed")
        entry.status = "waiting" if entry.last_day >= now.date() else "expired"
        if entry.status == "waiting":
            # Told that the offer went, so that its silence is not read as "still yours".
            enqueue(
                session,
                at=now,
                practice_id=offer.practice_id,
                template=Template.WAITLIST_OFFER_EXPIRED,
                patient_id=entry.patient_id,
                appointment_id=appointment.appointment_id,
            )
        session.flush()
        offer_freed_time(
            session,
            now=now,
            principal=principal,
            practice_id=offer.practice_id,
            practitioner_id=appointment.practitioner_id,
            starts_at=appointment.starts_at,
        )
    return len(due)
