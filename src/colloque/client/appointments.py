"""The client's half of an encrypted booking: seal the visit reason and type, open them later.

The appointment id is chosen here, because the sealed reason's associated data names it: the
server cannot move the ciphertext onto another appointment without the open failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from colloque.client.encoding import b64, unb64
from colloque.crypto.authorship import Standing
from colloque.crypto.items import (
    KeyPairHolder,
    VisitReason,
    open_visit_reason,
    seal_visit_reason,
    unwrap_item_key,
)
from colloque.crypto.keys import UserKeys
from colloque.crypto.transparency import KeyBinding

Json = dict[str, Any]


@dataclass(frozen=True)
class OpenedReason:
    """An appointment's visit type and reason, with who wrote them and their standing then:
    ``author_standing`` is "holder", "member" (a phone booking by the desk) or "former member"."""

    visit_type_id: UUID
    reason: str
    author_id: UUID
    author_standing: Standing


def sealed_booking_fields(
    *,
    author: UserKeys,
    visit_type_id: UUID,
    reason: str,
    patient_key: KeyBinding | None,
    practice_key: KeyBinding | None,
    appointment_id: UUID | None = None,
) -> Json:
    """``appointment_id`` and ``sealed_reason`` of a booking request.

    ``patient_key`` is the encryption key of the patient's holder (None when the patient has no
    account); ``practice_key`` the practice group's current key (None when it has none yet). Both
    must come from the verified key directory. ``appointment_id``: a held appointment's (accepting
    a waitlist offer); by default a new one.
    """
    appointment_id = appointment_id or uuid4()
    recipients = [key for key in (patient_key, practice_key) if key is not None]
    sealed = seal_visit_reason(
        item_id=uuid4(),
        appointment_id=appointment_id,
        visit_type_id=visit_type_id,
        reason=reason,
        author=author,
        recipients=recipients,
    )
    return {
        "appointment_id": str(appointment_id),
        "sealed_reason": {
            "envelope": b64(sealed.envelope),
            "wraps": [b64(wrap) for wrap in sealed.wraps],
        },
    }


def sealed_part(appointment: Json) -> Json:
    """The appointment's ``sealed_reason``; LookupError when it was booked without one."""
    sealed: Json | None = appointment.get("sealed_reason")
    if sealed is None:
        raise LookupError("this appointment carries no sealed reason")
    return sealed


def open_booking_reason(
    appointment: Json, *, holder: KeyPairHolder, author: KeyBinding
) -> VisitReason:
    """Open an appointment's sealed reason with one of its wraps that ``holder`` can open.

    ``author`` is the booker's signing key from the verified key directory.
    """
    sealed = sealed_part(appointment)
    item_id = UUID(sealed["item_id"])
    mine = holder.encryption_binding()
    for wrap in sealed["wraps"]:
        if wrap["epoch"] == mine.epoch and UUID(wrap["recipient_id"]) == mine.subject_id:
            item_key = unwrap_item_key(unb64(wrap["wrap"]), item_id=item_id, holder=holder)
            return open_visit_reason(
                unb64(sealed["envelope"]),
                item_key=item_key,
                item_id=item_id,
                appointment_id=UUID(appointment["appointment_id"]),
                author=author,
            )
    raise LookupError("no wrap of this reason is addressed to these keys")
