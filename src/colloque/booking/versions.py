"""Versions of appointments and of agenda windows, for optimistic concurrency and cheap polling.

The scheme is the one agenda settings use (``colloque.scheduling.versions``, docs/scheduling.md):
a short hash of the state, no column and no migration. An appointment's version hashes what a
change can alter (status, practitioner, times, cancel reason, hold) and ``updated_at``, which
every change sets: an appointment moved away and back again has a new version, so an agenda that
read it before both moves is still refused. A window's version hashes its bounds, whether the
reader holds the practice key (which decides whether reasons come with it) and, for each
appointment, its version and the patient's name and birth date as shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from colloque.booking.models import Appointment
from colloque.patients.models import Patient
from colloque.scheduling.versions import version_of


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def appointment_version(appointment: Appointment) -> str:
    return version_of(
        appointment.status,
        appointment.practitioner_id,
        _instant(appointment.starts_at),
        _instant(appointment.ends_at),
        _instant(appointment.blocked_until),
        appointment.cancel_reason,
        _instant(appointment.hold_expires_at),
        _instant(appointment.updated_at),
    )


def window_version(
    *,
    start: datetime,
    until: datetime,
    practitioner_id: UUID | None,
    holds_key: bool,
    rows: Iterable[tuple[Appointment, Patient]],
) -> str:
    def shown(patient: Patient) -> tuple[str, str, date | None]:
        return (patient.first_name, patient.last_name, patient.birth_date)

    return version_of(
        _instant(start),
        _instant(until),
        practitioner_id,
        holds_key,
        tuple(
            (appointment.appointment_id, appointment_version(appointment), shown(patient))
            for appointment, patient in rows
        ),
    )
