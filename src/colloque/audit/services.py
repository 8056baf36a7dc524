"""Writing audit events. Called by service functions inside their own transaction."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Executable, Table, Uuid, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from colloque.audit.addresses import SALT_BYTES, commitment, prefix_of
from colloque.audit.context import current, observer
from colloque.audit.models import (
    GLOBAL_LOG,
    AuditClientAddress,
    AuditEvent,
    AuditEventSubject,
    AuditPending,
)
from colloque.audit.objects import ObjectKind, collect, pack
from colloque.ids import new_id
from colloque.principal import Principal
from colloque.storage.base import Base
from colloque.storage.types import UTCDateTime


class AuditAction(enum.StrEnum):
    APPOINTMENT_BOOKED = "booking:appointment:book"
    APPOINTMENT_CANCELLED = "booking:appointment:cancel"
    APPOINTMENT_RESCHEDULED = "booking:appointment:reschedule"
    APPOINTMENT_MARKED = "booking:appointment:mark"
    APPOINTMENT_VIEWED = "booking:appointment:view"
    APPOINTMENTS_LISTED = "booking:appointment:list"
    AGENDA_VIEWED = "scheduling:agenda:view"
    AGENDA_CHANGED = "scheduling:agenda:change"
    PRACTICE_CHANGED = "scheduling:practice:change"
    RELATIVE_CHANGED = "patients:relative:change"
    #: An account holder's own record and relatives, read.
    PATIENTS_LISTED = "patients:patient:list"
    PRACTICE_PATIENT_REGISTERED = "patients:practice_patient:register"
    PRACTICE_PATIENTS_SEARCHED = "patients:practice_patient:search"
    PRACTICE_PATIENT_VIEWED = "patients:practice_patient:view"
    PRACTICE_PATIENT_CHANGED = "patients:practice_patient:change"
    #: A practice member forced a booking or a move outside the opening hours (with the
    #: booking's or the move's own event).
    APPOINTMENT_OUTSIDE_HOURS = "booking:appointment:outside-hours"
    WAITLIST_CHANGED = "waitlist:entry:change"
    WAITLIST_LISTED = "waitlist:entry:list"
    WAITLIST_OFFERED = "waitlist:offer:create"
    WAITLIST_OFFER_DECIDED = "waitlist:offer:decide"
    OPERATOR_ACCESS_GRANTED = "security:operator_access:grant"
    OPERATOR_GRANTS_LISTED = "security:operator_access:list"
    OPERATOR_ACCESS_REVOKED = "security:operator_access:revoke"
    PROBING_SLOWED = "security:probing:slowed"
    PROBING_LOCKED = "security:probing:locked"
    #: A session or token suspended by the anomaly counters or a decoy (``colloque.containment``).
    CREDENTIAL_SUSPENDED = "security:credential:suspend"
    #: A request the policy refused, or that named an object not there or not the caller's
    #: (``audit.denials``); the route's own action is not known where the refusal is rendered.
    ACCESS_DENIED = "security:access:denied"
    # A personal data breach's own record (``colloque.incidents``).
    INCIDENT_OPENED = "security:incident:open"
    INCIDENT_CONTAINED = "security:incident:contain"
    INCIDENT_NOTIFIED = "security:incident:notify"
    INCIDENT_REPORTED = "security:incident:report"
    ACCOUNT_CREATED = "accounts:account:create"
    ACCOUNT_DELETED = "accounts:account:delete"
    ACCOUNT_DISABLED = "accounts:account:disable"
    ACCOUNT_LOCKED = "accounts:account:lock"
    EMAIL_CHANGED = "accounts:email:change"
    #: Reminders turned off (a reminder's one-click unsubscribe) or back on (the account).
    REMINDERS_CHANGED = "accounts:reminders:change"
    #: The same for a patient without an account, by their reminder's unsubscribe link.
    PATIENT_REMINDERS_CHANGED = "patients:reminders:change"
    PASSWORD_CHANGED = "accounts:password:change"  # noqa: S105 - an audit tag
    PASSWORD_RECOVERED = "accounts:password:recover"  # noqa: S105 - an audit tag
    KEYS_RESET = "accounts:keys:reset"
    LOGIN_SUCCEEDED = "accounts:session:login"
    LOGIN_FAILED = "accounts:session:login-failed"
    LOGGED_OUT = "accounts:session:logout"
    LOGGED_OUT_ELSEWHERE = "accounts:session:logout-others"
    REAUTHENTICATED = "accounts:session:reauth"
    #: One of the account's sessions ended by its owner (from the list of its sessions).
    SESSION_ENDED = "accounts:session:end"
    #: A practice admin read, or ended, every session of a member (a lost or stolen device).
    MEMBER_SESSIONS_LISTED = "accounts:member-sessions:list"
    MEMBER_SESSIONS_ENDED = "accounts:member-sessions:end"
    MFA_ENABLED = "accounts:mfa:enable"
    MFA_DISABLED = "accounts:mfa:disable"
    MFA_CODES_RENEWED = "accounts:mfa:renew-codes"
    MFA_CODE_USED = "accounts:mfa:use-code"
    RECOVERY_CODE_USED = "accounts:recovery-code:use"
    RECOVERY_CODE_RENEWED = "accounts:recovery-code:renew"
    INVITATION_CREATED = "accounts:invitation:create"
    INVITATIONS_LISTED = "accounts:invitation:list"
    INVITATION_ACCEPTED = "accounts:invitation:accept"
    INVITATION_REVOKED = "accounts:invitation:revoke"
    MEMBER_REMOVED = "accounts:member:remove"
    MEMBER_ROLE_CHANGED = "accounts:member:change"
    NOTIFICATIONS_LISTED = "accounts:notification:list"
    NOTIFICATION_CHECKED = "accounts:notification:check"
    #: The worker read a patient's contact to address a message to them.
    NOTIFICATION_COMPOSED = "notifications:message:compose"
    # Reading the audit log is an access too: a patient's access history, a practice's log.
    ACCESS_HISTORY_VIEWED = "audit:access_history:view"
    PRACTICE_AUDIT_VIEWED = "audit:practice_log:view"
    # The mass-change breaker's held messages, let go or dropped by a practice admin.
    OUTBOX_PAUSES_LISTED = "notifications:pause:list"
    OUTBOX_FAILED_LISTED = "notifications:failed:list"
    OUTBOX_PAUSE_RELEASED = "notifications:pause:release"
    OUTBOX_PAUSE_DISCARDED = "notifications:pause:discard"
    PRACTICE_KEY_GROUP_CREATED = "keys:practice_group:create"
    PRACTICE_KEY_GROUP_WRAPPED = "keys:practice_group:wrap"
    PRACTICE_KEY_GROUP_ROTATED = "keys:practice_group:rotate"
    PRACTICE_KEY_GROUP_ATTESTED = "keys:practice_group:attest"
    # The practitioners' key group (notes): made, shared and rotated by practitioners only.
    CLINICAL_KEY_GROUP_CREATED = "keys:clinical_group:create"
    CLINICAL_KEY_GROUP_WRAPPED = "keys:clinical_group:wrap"
    CLINICAL_KEY_GROUP_ROTATED = "keys:clinical_group:rotate"
    # Sealed records (notes, messages, documents, their key wraps)
    SEALED_ITEM_STORED = "records:item:store"
    SEALED_ITEMS_READ = "records:item:read"
    ITEM_KEYS_REWRAPPED = "records:item_key:rewrap"
    ITEM_KEYS_RESHARED = "records:item_key:reshare"


class Outcome(enum.StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


def actor_role(principal: Principal, practice_id: UUID | None) -> str:
    if principal.account_id is None:
        return "anonymous"
    if practice_id is not None:
        role = principal.role_in(practice_id)
        if role is not None:
            return role.value
    return "operator" if principal.is_operator else "patient"


def record(
    session: Session,
    *,
    at: datetime,
    action: AuditAction,
    principal: Principal,
    object_kind: str,
    object_id: UUID | None,
    practice_id: UUID | None = None,
    subject_id: UUID | None = None,
    objects: Iterable[tuple[ObjectKind, UUID]] = (),
    outcome: Outcome = Outcome.ALLOWED,
    reason: str | None = None,
    span: tuple[datetime, datetime] | None = None,
) -> UUID:
    """Write one event in the caller's transaction, at once (not at flush), so that a read whose
    event cannot be written fails before it returns anything.

    ``objects`` names everything the action touched or returned; the main object
    (``object_kind``/``object_id``) and ``subject_id`` (a patient) are added to it. Every patient
    named gets a row in ``audit_event_subjects``, which their access history reads.

    ``span`` is the time window a read covered (an agenda's), for the anomaly counters: a
    bound observer (``audit.context.observed``) is told of every event a credential records.
    """
    if (outcome is Outcome.DENIED) != (reason is not None):
        raise ValueError("a denied event says why, an allowed one does not")
    refs = list(objects)
    if object_id is not None and object_kind in _KIND_VALUES:
        refs.append((ObjectKind(object_kind), object_id))
    if subject_id is not None:
        refs.append((ObjectKind.PATIENT, subject_id))
    grouped = collect(refs)
    context = current()
    event_id = new_id()
    address = None if context.client_address is None else context.client_address[:64]
    salt = secrets.token_bytes(SALT_BYTES)
    event = {
        "event_id": event_id,
        "at": at,
        "action": action.value,
        "actor_account_id": principal.account_id,
        "actor_role": actor_role(principal, practice_id),
        "credential_id": principal.credential_id,
        "interface": context.interface.value,
        "request_id": context.request_id,
        "client_prefix": None if address is None else prefix_of(address),
        "client_commitment": None if address is None else commitment(salt, address),
        "practice_id": practice_id,
        "subject_id": subject_id,
        "object_kind": object_kind,
        "object_id": object_id,
        "objects": pack(grouped),
        "outcome": outcome.value,
        "reason": reason,
    }
    log_id = practice_id if practice_id is not None else GLOBAL_LOG
    patients = sorted(grouped.get(ObjectKind.PATIENT, frozenset()))
    if session.get_bind().dialect.name == "postgresql":
        # One round trip: a read's event is on the hot path of every agenda and list, and four
        # statements (one row per patient, sent one by one by executemany) cost more than the read.
        session.execute(
            _ONE_STATEMENT[address is not None],
            event | {"log_id": log_id, "address": address, "salt": salt, "patients": patients},
        )
    else:
        _insert_one_by_one(
            session, event, log_id=log_id, address=address, salt=salt, patients=patients
        )
    watcher = observer()
    if watcher is not None and principal.credential_id is not None:
        watcher.observe(
            session,
            at=at,
            action=action.value,
            principal=principal,
            practice_id=practice_id,
            refs=grouped,
            span=span,
        )
    return event_id


def _insert_one_by_one(
    session: Session,
    event: dict[str, Any],
    *,
    log_id: UUID,
    address: str | None,
    salt: bytes,
    patients: list[UUID],
) -> None:
    event_id, at = event["event_id"], event["at"]
    session.execute(insert(AuditEvent).values(event))
    session.execute(insert(AuditPending).values(event_id=event_id, log_id=log_id, queued_at=at))
    if address is not None:
        session.execute(
            insert(AuditClientAddress).values(event_id=event_id, at=at, address=address, salt=salt)
        )
    for start in range(0, len(patients), _ROWS_PER_INSERT):
        session.execute(
            insert(AuditEventSubject).values(
                [
                    {"event_id": event_id, "subject_id": patient, "at": at}
                    for patient in patients[start : start + _ROWS_PER_INSERT]
                ]
            )
        )


_KIND_VALUES = frozenset(kind.value for kind in ObjectKind)
#: SQLite takes at most 32,766 parameters per statement; three per row.
_ROWS_PER_INSERT = 1_000


def _table(model: type[Base]) -> Table:
    return model.metadata.tables[model.__tablename__]


def _postgres_statement(*, with_address: bool) -> Executable:
    """The event, its queue row, its client address and its patients' rows in one statement
    (data-modifying CTEs), on PostgreSQL. Core tables: the ORM's bulk insert would send the
    patients' rows one by one."""
    event_id, at = bindparam("event_id", type_=Uuid()), bindparam("at", type_=UTCDateTime())
    ctes = [
        insert(_table(AuditEvent))
        .values(
            {
                column.name: event_id
                if column.name == "event_id"
                else at
                if column.name == "at"
                else bindparam(column.name, type_=column.type)
                for column in _table(AuditEvent).columns
            }
        )
        .cte("event"),
        insert(_table(AuditPending))
        .values(event_id=event_id, log_id=bindparam("log_id", type_=Uuid()), queued_at=at)
        .cte("pending"),
    ]
    if with_address:
        ctes.append(
            insert(_table(AuditClientAddress))
            .values(event_id=event_id, at=at, address=bindparam("address"), salt=bindparam("salt"))
            .cte("address")
        )
    patients = func.unnest(bindparam("patients", type_=postgresql.ARRAY(Uuid()))).alias("patient")
    return (
        insert(_table(AuditEventSubject))
        .from_select(
            ["event_id", "subject_id", "at"],
            select(event_id, patients.column, at),
        )
        .add_cte(*ctes)
    )


_ONE_STATEMENT = {
    with_address: _postgres_statement(with_address=with_address) for with_address in (False, True)
}
