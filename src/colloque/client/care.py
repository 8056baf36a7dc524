"""The account holder's side of care: their patients (their own record, relatives), changing an
appointment, and the waitlist with its offers of freed time.

Accepting an offer seals the visit reason for the held appointment's id, as booking does, for
this account and the practice's current key proven in the key directory (``client.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from uuid import UUID

from colloque.client.accounts import Accounts
from colloque.client.appointments import sealed_booking_fields
from colloque.client.http import Json, with_query
from colloque.crypto.transparency import KeyBinding


class Care(Accounts):
    """Patients, cancel and reschedule, the waitlist: the holder's calls of
    :class:`~colloque.client.ColloqueClient`."""

    #: The practice's current key, proven in the key directory (None before it has one): the
    #: client's (``client.py``).
    _practice_key_if_any: Callable[[UUID], KeyBinding | None]
    _visit_type_reminders: Callable[[UUID, UUID, UUID], bool]

    # Patients ----------------------------------------------------------------------------------

    def my_patients(self) -> list[Json]:
        """This account's own record first, then the relatives it manages."""
        out: list[Json] = self._request("GET", "/api/v1/me/patients")
        return out

    def own_patient_id(self) -> UUID:
        """The id of this account holder's own patient record (made at sign-up)."""
        for patient in self.my_patients():
            if patient["relationship"] == "self":
                return UUID(patient["patient_id"])
        raise LookupError("this account has no patient record of its own")

    def add_patient(
        self, *, first_name: str, last_name: str, birth_date: date, relationship: str
    ) -> Json:
        """A relative this account manages (``child``, ``parent``, ...); with ``self``, complete
        the holder's own record (its names and birth date), which sign-up made."""
        out: Json = self._request(
            "POST",
            "/api/v1/me/patients",
            json={
                "first_name": first_name,
                "last_name": last_name,
                "birth_date": birth_date.isoformat(),
                "relationship": relationship,
            },
        )
        return out

    # Free slots and changing an appointment -------------------------------------------------------------------

    def free_slots(
        self,
        *,
        practice_id: UUID,
        practitioner_id: UUID,
        visit_type_id: UUID,
        start: datetime | date | None = None,
        days: int = 7,
    ) -> list[datetime]:
        """The start of each free slot of an online visit type, from ``start`` (default: now)
        for ``days`` days (at most 31). ``start`` may be an aware datetime or a plain date, a
        local day of the practice; the starts carry the practice's UTC offset."""
        path = f"/api/v1/practices/{practice_id}/practitioners/{practitioner_id}/slots"
        since = {"from": None if start is None else start.isoformat()}
        query = with_query(path, visit_type_id=visit_type_id, days=days, **since)
        answer: list[Json] = self._request("GET", query)
        return [datetime.fromisoformat(slot["starts_at"]) for slot in answer]

    @staticmethod
    def _appointment_path(appointment: Json, action: str) -> str:
        return (
            f"/api/v1/practices/{appointment['practice_id']}"
            f"/appointments/{appointment['appointment_id']}/{action}"
        )

    def cancel(self, appointment: Json, *, reason: str = "patient_unavailable") -> Json:
        """Cancel an appointment (as returned by :meth:`book` or :meth:`my_appointments`);
        ``reason`` is a code (``patient_unavailable``, ``no_longer_needed``, ...), never free text."""
        out: Json = self._request(
            "POST", self._appointment_path(appointment, "cancel"), json={"reason": reason}
        )
        return out

    def reschedule(self, appointment: Json, *, starts_at: datetime) -> Json:
        """Move an appointment to another free slot of the same agenda; its sealed reason stays."""
        out: Json = self._request(
            "POST",
            self._appointment_path(appointment, "reschedule"),
            json={"starts_at": starts_at.isoformat()},
        )
        return out

    # The waitlist ------------------------------------------------------------------------------

    def join_waitlist(
        self,
        *,
        practice_id: UUID,
        practitioner_id: UUID,
        patient_id: UUID,
        duration_minutes: int,
        first_day: date,
        last_day: date,
    ) -> Json:
        """Ask for freed time of this length with this practitioner between two local days."""
        out: Json = self._request(
            "POST",
            "/api/v1/waitlist",
            json={
                "practice_id": str(practice_id),
                "practitioner_id": str(practitioner_id),
                "patient_id": str(patient_id),
                "duration_minutes": duration_minutes,
                "first_day": first_day.isoformat(),
                "last_day": last_day.isoformat(),
            },
        )
        return out

    def my_waitlist(self) -> list[Json]:
        """This account's entries; an entry offered freed time carries its ``pending_offer``."""
        out: list[Json] = self._request("GET", "/api/v1/me/waitlist")
        return out

    def leave_waitlist(self, entry: Json) -> Json:
        out: Json = self._request(
            "DELETE", f"/api/v1/practices/{entry['practice_id']}/waitlist/{entry['entry_id']}"
        )
        return out

    def accept_offer(self, entry: Json, *, visit_type_id: UUID, reason: str = "") -> Json:
        """Take the freed slot offered to ``entry`` (from :meth:`my_waitlist`): the held
        appointment becomes booked, with its reason and visit type sealed here as at booking, and
        the visit type's reminder policy."""
        offer = self._pending_offer(entry)
        practice_id = UUID(entry["practice_id"])
        keys = self.unlocked_keys
        sealed = sealed_booking_fields(
            author=keys,
            visit_type_id=visit_type_id,
            reason=reason,
            patient_key=keys.encryption_binding(),
            practice_key=self._practice_key_if_any(practice_id),
            appointment_id=UUID(offer["appointment_id"]),
        )
        reminders = self._visit_type_reminders(
            practice_id, UUID(entry["practitioner_id"]), visit_type_id
        )
        body = {"accept": True, "sealed_reason": sealed["sealed_reason"]}
        return self._decide(entry, offer, {**body, "reminders_wanted": reminders})

    def decline_offer(self, entry: Json) -> Json:
        """Let the freed slot go to the next in line; the entry waits for the next one."""
        return self._decide(entry, self._pending_offer(entry), {"accept": False})

    @staticmethod
    def _pending_offer(entry: Json) -> Json:
        offer: Json | None = entry.get("pending_offer")
        if offer is None:
            raise LookupError("this waitlist entry has no pending offer")
        return offer

    def _decide(self, entry: Json, offer: Json, body: Json) -> Json:
        out: Json = self._request(
            "POST",
            f"/api/v1/practices/{entry['practice_id']}/waitlist-offers/{offer['offer_id']}/decision",
            json=body,
        )
        return out
