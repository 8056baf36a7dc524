"""The .ics attached to a confirmation (RFC 5545): when, with whom, where; nothing else.

No reason, no visit type, not whom the visit is for: calendars are synced to phones and third-party
clouds. The UID is ``<appointment id>@<host>``, the same as the appointments page's download
(``colloque.web.calendar_file``), so a calendar keeps one event per appointment. Times are in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from icalendar import Calendar, Event


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    appointment_id: UUID
    host: str
    starts_at: datetime
    ends_at: datetime
    #: When the appointment last changed: the same state gives the same file.
    changed_at: datetime
    summary: str
    location: str


def appointment_ics(entry: CalendarEntry) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Colloque//Notifications//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    item = Event()
    item.add("uid", f"{entry.appointment_id}@{entry.host}")
    item.add("dtstamp", entry.changed_at.astimezone(UTC))
    item.add("last-modified", entry.changed_at.astimezone(UTC))
    item.add("dtstart", entry.starts_at.astimezone(UTC))
    item.add("dtend", entry.ends_at.astimezone(UTC))
    item.add("summary", entry.summary)
    item.add("location", entry.location)
    item.add("status", "CONFIRMED")
    item.add("transp", "OPAQUE")
    calendar.add_component(item)
    ical: bytes = calendar.to_ical()
    return ical
