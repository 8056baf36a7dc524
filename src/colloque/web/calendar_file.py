"""An appointment as an iCalendar file (RFC 5545), for a patient's own calendar.

Calendars get synced to phones, laptops and third-party clouds, so the file says only when, with
whom and where: no reason, no visit type, not even whom the visit is for. Times are written in UTC
(``...Z``), which every calendar places right whatever its own zone and across a change of
daylight saving time, with no VTIMEZONE to get wrong. The UID is the appointment's own id, so
importing the file again after a reschedule updates the event rather than adding a second one.
"""

from __future__ import annotations

from datetime import UTC
from uuid import UUID

from icalendar import Calendar, Event

from colloque.booking.models import Appointment
from colloque.booking.rules import Status
from colloque.scheduling.models import Practice
from colloque.web.i18n import Language, Translator

_STATUS = {
    Status.HELD: "TENTATIVE",
    Status.CANCELLED_BY_PATIENT: "CANCELLED",
    Status.CANCELLED_BY_PRACTICE: "CANCELLED",
    Status.HOLD_LAPSED: "CANCELLED",
}


def url(practice_id: UUID, appointment_id: UUID) -> str:
    return f"/me/appointments/{practice_id}/{appointment_id}.ics"


def event(
    appointment: Appointment,
    *,
    practice: Practice,
    practitioner: str,
    language: Language,
    host: str,
) -> bytes:
    t = Translator(language)
    calendar = Calendar()
    calendar.add("prodid", "-//Colloque//Appointments//" + language.value.upper())
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    item = Event()
    item.add("uid", f"{appointment.appointment_id}@{host}")
    # When the appointment last changed rather than when the file was made: the same state gives
    # the same file, and a calendar keeps the newest version of an event by these two.
    item.add("dtstamp", appointment.updated_at.astimezone(UTC))
    item.add("last-modified", appointment.updated_at.astimezone(UTC))
    item.add("dtstart", appointment.starts_at.astimezone(UTC))
    item.add("dtend", appointment.ends_at.astimezone(UTC))
    item.add("summary", t("calendar.summary", practitioner=practitioner))
    item.add(
        "location", f"{practice.name}, {practice.address}, {practice.postcode} {practice.city}"
    )
    item.add("status", _STATUS.get(Status(appointment.status), "CONFIRMED"))
    item.add("transp", "OPAQUE")
    calendar.add_component(item)
    ical: bytes = calendar.to_ical()
    return ical
