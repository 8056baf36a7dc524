"""The history of an appointment: one event row per change, naming who made it and in what role."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.orm import Session

from colloque.booking.models import Appointment, AppointmentEvent
from colloque.ids import new_id
from colloque.principal import Principal


def record_event(
    session: Session,
    appointment: Appointment,
    *,
    now: datetime,
    principal: Principal,
    kind: str,
    previous_starts_at: datetime | None = None,
    new_starts_at: datetime | None = None,
    reason: str | None = None,
    outside_hours: bool = False,
) -> UUID:
    """Add the event; the actor's role is the principal's in the practice, else "patient" for a
    signed-in account, else "system" (the upkeep)."""
    role = principal.role_in(appointment.practice_id)
    event_id = new_id()
    session.add(
        AppointmentEvent(
            practice_id=appointment.practice_id,
            event_id=event_id,
            appointment_id=appointment.appointment_id,
            at=now,
            kind=kind,
            actor_account_id=principal.account_id,
            actor_role=role.value if role else ("patient" if principal.account_id else "system"),
            previous_starts_at=previous_starts_at,
            new_starts_at=new_starts_at,
            reason=reason,
            outside_hours=outside_hours,
        )
    )
    return event_id
