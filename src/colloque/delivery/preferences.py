"""Whether a person receives reminders: off by a reminder's one-click unsubscribe link (no
login: the signed token names them), back on from the account. Each change is audited, in the
same transaction, like the account's other changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.audit.services import AuditAction, record
from colloque.errors import NotFound, Unauthenticated
from colloque.notifications.unsubscribe import Subscriber, Unsubscribe
from colloque.patients.models import Patient
from colloque.principal import ANONYMOUS, Principal


def do_unsubscribe(session: Session, *, now: datetime, who: Unsubscribe) -> None:
    """Turn reminders off for whom a verified token names. Repeating it changes nothing more;
    an id that no longer exists (an account deleted since) answers like a bad token."""
    if who.kind is Subscriber.ACCOUNT:
        account = session.get(Account, who.subject_id)
        if account is None:
            raise NotFound("link not found")
        if account.reminders:
            account.reminders = False
            _audit(session, now, ANONYMOUS, AuditAction.REMINDERS_CHANGED, "account", account)
        return
    patient = session.get(Patient, who.subject_id)
    if patient is None or patient.holder_account_id is not None:
        # A patient who has an account since: the account's setting decides, from the account.
        raise NotFound("link not found")
    if patient.reminders:
        patient.reminders = False
        _audit(session, now, ANONYMOUS, AuditAction.PATIENT_REMINDERS_CHANGED, "patient", patient)


def account_reminders(session: Session, *, principal: Principal) -> bool:
    return _own_account(session, principal).reminders


def do_set_account_reminders(
    session: Session, *, now: datetime, principal: Principal, enabled: bool
) -> bool:
    """The signed-in account turns its reminders on or off (its own setting only)."""
    account = _own_account(session, principal)
    if account.reminders != enabled:
        account.reminders = enabled
        _audit(session, now, principal, AuditAction.REMINDERS_CHANGED, "account", account)
    return account.reminders


def _own_account(session: Session, principal: Principal) -> Account:
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    account = session.get(Account, principal.account_id)
    if account is None:  # pragma: no cover - a principal's account exists while it is signed in
        raise Unauthenticated("sign in to do this")
    return account


def _audit(
    session: Session,
    now: datetime,
    principal: Principal,
    action: AuditAction,
    kind: str,
    target: Account | Patient,
) -> None:
    object_id = target.account_id if isinstance(target, Account) else target.patient_id
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        object_kind=kind,
        object_id=object_id,
        subject_id=object_id if isinstance(target, Patient) else None,
    )
