"""An appointment's visit reason and visit type, sealed on the booker's device.

Shared by booking and the waitlist (accepting an offer may attach one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from colloque.booking.models import Appointment
from colloque.errors import Conflict, InvalidInput
from colloque.principal import Principal
from colloque.records.services import store_sealed_item


@dataclass(frozen=True, slots=True)
class SealedReason:
    """The visit reason and visit type, sealed on the booker's device (crypto.items)."""

    envelope: bytes
    wraps: tuple[bytes, ...]


def store_reason(
    session: Session,
    *,
    principal: Principal,
    appointment: Appointment,
    reason: SealedReason,
    now: datetime,
) -> None:
    """Keep an appointment's sealed reason; its problems name the ``sealed_reason`` fields."""
    try:
        store_sealed_item(
            session,
            principal=principal,
            practice_id=appointment.practice_id,
            patient_id=appointment.patient_id,
            kind="visit_reason",
            context_id=appointment.appointment_id,
            envelope=reason.envelope,
            wraps=reason.wraps,
            now=now,
        )
    except (InvalidInput, Conflict) as problem:
        problem.field = f"sealed_reason.{problem.field or 'envelope'}"
        raise
