""" "My appointments"' waitlist section: the held offers the account's patients may accept or
decline, and the entries still waiting, which they may leave.

The server renders each offer (practitioner, practice, time and hold in the practice's zone); the
island gets, for each, the ids the decision needs and the practitioner's online visit types of
the offer's length: the patient picks one, and the browser seals it with the reason for the held
appointment's id, as the booking page does. The server never learns which type was picked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from sqlalchemy.orm import Session

from colloque.booking.models import Appointment
from colloque.booking.waitlist import services
from colloque.patients.models import Patient
from colloque.scheduling import timetable
from colloque.scheduling.models import Practice, Practitioner, VisitType
from colloque.web.i18n import Language
from colloque.web.rendering import full_name

#: The entries a patient may still leave (a booked, withdrawn or expired one is over).
_OPEN = frozenset({"waiting", "offered"})


def waitlist_section(
    session: Session, *, found: services.Waitlist, language: Language
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The pending offers and the open entries, each as the template and the island read it."""
    offers: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    agendas: dict[UUID, list[tuple[Practitioner, list[VisitType]]]] = {}
    for entry, offer in found:
        if entry.status not in _OPEN:
            continue
        practice = session.get(Practice, entry.practice_id)
        practitioner = session.get(Practitioner, entry.practitioner_id)
        patient = session.get(Patient, entry.patient_id)
        # Foreign keys: each is there.
        assert practice is not None
        assert practitioner is not None
        assert patient is not None
        zone = ZoneInfo(practice.timezone)
        common = {
            "practice_id": str(entry.practice_id),
            "practitioner": full_name(practitioner),
            "practice": practice.name,
            "for_whom": f"{patient.first_name} {patient.last_name}".strip(),
        }
        entries.append(
            common
            | {
                "id": str(entry.entry_id),
                "minutes": entry.duration_minutes,
                "first_day": format_date(entry.first_day, format="long", locale=language.value),
                "last_day": format_date(entry.last_day, format="long", locale=language.value),
            }
        )
        if offer is None:
            continue
        hold = session.get(Appointment, (offer.practice_id, offer.appointment_id))
        assert hold is not None  # an offer's hold is its own row
        if entry.practice_id not in agendas:
            agendas[entry.practice_id] = timetable.list_practice_agendas(
                session, practice_id=entry.practice_id
            )
        types = next(
            (
                vts
                for p, vts in agendas[entry.practice_id]
                if p.practitioner_id == entry.practitioner_id
            ),
            [],
        )
        offers.append(
            common
            | {
                "id": str(offer.offer_id),
                "appointment_id": str(offer.appointment_id),
                "iso": hold.starts_at.astimezone(zone).isoformat(),
                "when": _when(hold.starts_at, zone, language),
                "until": _when(offer.expires_at, zone, language),
                "until_time": format_time(
                    offer.expires_at.astimezone(zone), format="HH:mm", locale=language.value
                ),
                "visit_types": [
                    {
                        "id": str(vt.visit_type_id),
                        "label": vt.label,
                        "durationMinutes": vt.duration_minutes,
                        "reminders": vt.reminders,
                    }
                    for vt in types
                    if vt.duration_minutes == entry.duration_minutes
                ],
            }
        )
    return offers, entries


def _when(instant: datetime, zone: ZoneInfo, language: Language) -> str:
    return format_datetime(
        instant.astimezone(zone), format="EEEE d MMMM y, HH:mm", locale=language.value
    )


def island_offers(offers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the decision component needs of each offer: ids and the visit types to seal."""
    return [
        {
            "id": o["id"],
            "practiceId": o["practice_id"],
            "appointmentId": o["appointment_id"],
            "visitTypes": o["visit_types"],
        }
        for o in offers
    ]


def island_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": e["id"], "practiceId": e["practice_id"]} for e in entries]
