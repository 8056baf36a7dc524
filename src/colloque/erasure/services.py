"""Deleting an account (its owner, re-authenticated) and disabling one (an operator).

Deletion keeps what practices must keep: a patient record that has appointments (or that a
practice keeps otherwise, in its patient registry) stays, without its holder. Everything else
personal goes: the address and name, keys, credentials, sessions, MFA, and the records of relatives
no practice keeps (with their waitlist entries).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from colloque.accounts import throttling
from colloque.accounts.config import AccountsConfig
from colloque.accounts.login import email_throttle_key
from colloque.accounts.mailing import account_deleted
from colloque.accounts.models import Account
from colloque.accounts.sessions import (
    ResolvedSession,
    end_all_sessions,
    load_memberships,
    require_recent_reauth,
)
from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import PLATFORM, Action, authorize
from colloque.booking.models import Appointment
from colloque.booking.waitlist.models import WaitlistEntry
from colloque.booking.waitlist.services import do_leave_waitlist
from colloque.errors import Conflict, Forbidden, NotFound
from colloque.notifications.interfaces import MailMessage
from colloque.notifications.models import OutboxMessage
from colloque.patients.models import Patient
from colloque.principal import Principal


def do_delete_account(
    session: Session, *, now: datetime, resolved: ResolvedSession, config: AccountsConfig
) -> MailMessage:
    """Delete the caller's own account; returns the goodbye notice for its address."""
    require_recent_reauth(resolved, now=now)
    account_id = resolved.account_id
    principal = resolved.principal
    if load_memberships(session, account_id):
        raise Conflict("practice members must be removed from their practices first")
    account = session.get_one(Account, account_id)
    email = account.email
    assert email is not None  # re-authenticated, so it has credentials, so an address
    patients = list(session.scalars(select(Patient).where(Patient.holder_account_id == account_id)))
    patient_ids = [p.patient_id for p in patients]
    for entry in session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.patient_id.in_(patient_ids),
            WaitlistEntry.status.in_(("waiting", "offered")),
        )
    ).all():
        do_leave_waitlist(
            session,
            now=now,
            principal=principal,
            practice_id=entry.practice_id,
            entry_id=entry.entry_id,
        )
    with_appointments = set(
        session.scalars(
            select(Appointment.patient_id).where(Appointment.patient_id.in_(patient_ids))
        )
    )
    for patient in patients:
        record(
            session,
            at=now,
            action=AuditAction.RELATIVE_CHANGED,
            principal=principal,
            subject_id=patient.patient_id,
            object_kind="patient",
            object_id=patient.patient_id,
        )
        if patient.patient_id in with_appointments or not _delete_unreferenced(session, patient):
            patient.holder_account_id = None
    throttling.clear(session, email_throttle_key(config, email))
    record(
        session,
        at=now,
        action=AuditAction.ACCOUNT_DELETED,
        principal=principal,
        object_kind="account",
        object_id=account_id,
    )
    session.flush()
    # Its inbox goes: the practices keep their messages' delivery state, no longer whom they
    # reached (a distributed table has no foreign key to accounts; account mail's is SET NULL).
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient_account_id == account_id)
        .values(recipient_account_id=None)
    )
    # Credentials, keys, sessions, MFA, challenges and grants go with it (ON DELETE CASCADE);
    # appointments and waitlist entries it booked keep their rows without it (SET NULL).
    session.delete(account)
    return account_deleted(email)


def _delete_unreferenced(session: Session, patient: Patient) -> bool:
    """Delete a relative's record (and its old waitlist entries) unless something a practice
    keeps still refers to it (its patient registry, say): then it stays, and False."""
    try:
        with session.begin_nested():
            session.execute(
                delete(WaitlistEntry).where(WaitlistEntry.patient_id == patient.patient_id)
            )
            session.execute(delete(Patient).where(Patient.patient_id == patient.patient_id))
    except IntegrityError:
        return False
    session.expunge(patient)
    return True


def do_disable_account(
    session: Session, *, now: datetime, principal: Principal, account_id: UUID
) -> None:
    """An operator disables an account: every session ends and none can open."""
    if not authorize(principal, Action.PLATFORM_ACCOUNT_DISABLE, PLATFORM):
        raise Forbidden("only operators disable accounts")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("account not found")
    account.disabled = True
    end_all_sessions(session, account_id=account_id)
    record(
        session,
        at=now,
        action=AuditAction.ACCOUNT_DISABLED,
        principal=principal,
        object_kind="account",
        object_id=account_id,
    )
