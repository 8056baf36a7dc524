"""Refused requests in the audit log: a policy's 403 and a probe's 404 leave one event each.

The refused request's own transaction rolled back, so the event is written in a short transaction
of its own (``api/denials.py``), with the outcome ``denied`` and the problem type as the reason.
It names what the request tried: every id in the route's path whose parameter name says its kind
(``appointment_id``, ``patient_id``...). An incident report then finds a stolen credential's
probes, not only what it read.

The event goes to the practice's log only when the principal is a member of that practice (a
desk account asking for an appointment of its own practice that does not exist, or a role too
low): a stranger's guessed practice id stays in ``objects``, and in the global log, so that
random ids cannot make the sequencer open a log per guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, Outcome, record
from colloque.principal import Principal

#: Which kind of object a path parameter names. Parameters not listed (a notification's
#: ``reference``) name nothing the log knows.
PATH_KINDS: Mapping[str, ObjectKind] = {
    "practice_id": ObjectKind.PRACTICE,
    "practitioner_id": ObjectKind.PRACTITIONER,
    "appointment_id": ObjectKind.APPOINTMENT,
    "patient_id": ObjectKind.PATIENT,
    "document_id": ObjectKind.ITEM,
    "item_id": ObjectKind.ITEM,
    "account_id": ObjectKind.ACCOUNT,
    "entry_id": ObjectKind.WAITLIST_ENTRY,
    "offer_id": ObjectKind.WAITLIST_OFFER,
    "grant_id": ObjectKind.OPERATOR_GRANT,
    "invitation_id": ObjectKind.INVITATION,
    "pause_id": ObjectKind.OUTBOX_PAUSE,
}


@dataclass(frozen=True, slots=True)
class Tried:
    """What a refused request aimed at, read from its path."""

    objects: tuple[tuple[ObjectKind, UUID], ...]
    practice_id: UUID | None

    @property
    def main(self) -> tuple[str, UUID | None]:
        """The innermost object of the path (the appointment of a practice), as the event's
        ``object_kind`` and ``object_id``."""
        if not self.objects:
            return ("request", None)
        kind, object_id = self.objects[-1]
        return (kind.value, object_id)


def tried_in_path(path_params: Mapping[str, object]) -> Tried:
    """The ids of ``path_params`` whose kind is known, in the path's order; values that are not
    UUIDs are left out (the request would not have reached a refusal with them anyway)."""
    found: list[tuple[ObjectKind, UUID]] = []
    practice_id: UUID | None = None
    for name, value in path_params.items():
        kind = PATH_KINDS.get(name)
        if kind is None:
            continue
        try:
            object_id = value if isinstance(value, UUID) else UUID(str(value))
        except ValueError:
            continue
        found.append((kind, object_id))
        if kind is ObjectKind.PRACTICE:
            practice_id = object_id
    return Tried(objects=tuple(found), practice_id=practice_id)


def record_denied(
    session: Session, *, at: datetime, principal: Principal, reason: str, tried: Tried
) -> UUID:
    """Write the event of one refused request (in the caller's short transaction)."""
    own_practice = (
        tried.practice_id
        if tried.practice_id is not None and tried.practice_id in principal.memberships
        else None
    )
    object_kind, object_id = tried.main
    return record(
        session,
        at=at,
        action=AuditAction.ACCESS_DENIED,
        principal=principal,
        object_kind=object_kind,
        object_id=object_id,
        practice_id=own_practice,
        objects=tried.objects,
        outcome=Outcome.DENIED,
        reason=reason[:64],
    )
