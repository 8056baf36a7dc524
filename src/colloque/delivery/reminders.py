"""The reminder planner: each round of the outbox worker queues the reminders whose moment came.

Three reminders per booked appointment whose reminder policy allows them
(``appointments.reminders_wanted``, docs/notifications.md "Reminders"):

* ``reminder_week``, an email 7 days before, only when the appointment was booked (or moved to
  its time) more than 7 days ahead;
* ``reminder_day``, an email the day before: from 10:00 on the previous calendar day in the
  practice's time zone, or at once when booked later than that (but not on the day itself);
* ``reminder_sms``, the day before, when an SMS channel is configured and the patient has a
  phone recorded by the practice (accounts have no phone): at most one per phone and local day,
  naming the person's first appointment of that day.

A row is queued once: its ``dedupe_key`` names what it reminds of (template, appointment and its
time; for the SMS a keyed hash of the phone and the day) and is unique per practice; the SMS's
key is also looked for in every practice. The worker composes a reminder only if the appointment
is still booked at that time (``delivery.compose``): a cancelled one gets nothing, a moved one
gets the reminders of its new time, under new keys.

What the planner reads stays small whatever the number of appointments. It remembers up to when
it planned (``reminder_planning``) and each round looks only at the moments passed since: the
week reminders of the appointments starting 7 days after that slice of time; the day reminders
of one local day, only in the round where 10:00 passes in that zone; and the appointments booked
or moved since the last round (``ix_appointments_status_updated``). Moments missed by more than
a day (a worker long down) are let go: a late "see you in a week" would be wrong.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.booking.models import Appointment
from colloque.booking.rules import Status
from colloque.ids import new_id
from colloque.notifications.models import OutboxMessage, ReminderPlanning
from colloque.notifications.services import Template
from colloque.patients.models import Patient, PracticePatient
from colloque.scheduling.models import Practice
from colloque.storage.upsert import insert_on_conflict

WEEK = timedelta(days=7)
#: The hour of the day before from which the day's reminders go, in the practice's zone.
DAY_BEFORE_AT = time(10, 0)
#: How late a reminder may still be planned after its moment.
GRACE = timedelta(days=1)
_PLANNER = "reminders"
_CHUNK = 200


def reminder_key(template: Template, appointment: Appointment) -> str:
    """What an email reminder reminds of: the appointment at its time (a move makes a new key)."""
    return f"{template.value}:{appointment.appointment_id}:{_stamp(appointment.starts_at)}"


def sms_key(phone_hash: str, day: date) -> str:
    return f"{Template.REMINDER_SMS.value}:{phone_hash}:{day.isoformat()}"


def sms_day(key: str) -> date:
    return date.fromisoformat(key.rsplit(":", 1)[1])


def local_day(instant: datetime, timezone: str) -> date:
    return instant.astimezone(ZoneInfo(timezone)).date()


def day_before_moment(day: date, timezone: str) -> datetime:
    """10:00 on the calendar day before ``day``, in the zone (a DST change moves it in UTC)."""
    before = day - timedelta(days=1)
    return datetime.combine(before, DAY_BEFORE_AT, tzinfo=ZoneInfo(timezone))


def _midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(timezone))


def _stamp(instant: datetime) -> str:
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True, slots=True)
class _Contact:
    email: bool
    phone: str | None


class ReminderPlanner:
    """Queues due reminders; ``sms`` says whether an SMS channel is configured, ``phone_key``
    names a phone in the SMS's key without writing the number."""

    def __init__(self, *, sms: bool, phone_key: bytes) -> None:
        self._sms = sms
        self._phone_key = phone_key

    def plan(self, session: Session, *, now: datetime) -> int:
        """Queue the reminders whose moment passed since the last round; return how many."""
        state = self._state(session, now)
        since = max(state.planned_until, now - GRACE)
        if since >= now:
            return 0
        found: dict[tuple[UUID, UUID], tuple[Appointment, str]] = {}
        for appointment, zone in self._week_candidates(session, since, now):
            found[(appointment.practice_id, appointment.appointment_id)] = (appointment, zone)
        for appointment, zone in self._day_candidates(session, since, now):
            found[(appointment.practice_id, appointment.appointment_id)] = (appointment, zone)
        for appointment, zone in self._changed(session, since, now):
            found[(appointment.practice_id, appointment.appointment_id)] = (appointment, zone)
        state.planned_until = now
        candidates = sorted(found.values(), key=lambda pair: pair[0].starts_at)
        return self._queue(session, candidates, since=since, now=now)

    # -- what to look at ---------------------------------------------------------------------

    def _state(self, session: Session, now: datetime) -> ReminderPlanning:
        # Created once; on PostgreSQL the row lock makes concurrent workers plan one at a time.
        _insert_ignoring_duplicates(
            session, ReminderPlanning, [{"name": _PLANNER, "planned_until": now - GRACE}]
        )
        state = session.get(ReminderPlanning, _PLANNER, with_for_update=True)
        if state is None:  # pragma: no cover - inserted just above
            raise LookupError(_PLANNER)
        return state

    def _week_candidates(
        self, session: Session, since: datetime, now: datetime
    ) -> Iterable[tuple[Appointment, str]]:
        yield from _pairs(session, week_scan(since, now))

    def _day_candidates(
        self, session: Session, since: datetime, now: datetime
    ) -> Iterable[tuple[Appointment, str]]:
        zones = session.scalars(select(Practice.timezone).distinct()).all()
        for zone in zones:
            for day in _days_whose_moment_passed(zone, since, now):
                yield from _pairs(session, day_scan(zone, day, now))

    def _changed(
        self, session: Session, since: datetime, now: datetime
    ) -> Iterable[tuple[Appointment, str]]:
        yield from _pairs(session, changed_scan(since, now))

    # -- what to queue -----------------------------------------------------------------------

    def _queue(
        self,
        session: Session,
        candidates: Sequence[tuple[Appointment, str]],
        *,
        since: datetime,
        now: datetime,
    ) -> int:
        contacts = self._contacts(session, [a for a, _ in candidates])
        rows: list[dict[str, Any]] = []
        # The first appointment of each phone's day: candidates come in time order.
        texts: dict[str, Appointment] = {}
        for appointment, zone in candidates:
            contact = contacts.get((appointment.practice_id, appointment.patient_id))
            if contact is None or appointment.starts_at <= now:
                continue
            if contact.email and _week_is_due(appointment, since=since, now=now):
                rows.append(_email_row(appointment, Template.REMINDER_WEEK, now))
            if not _day_is_due(appointment, zone, now=now):
                continue
            if contact.email:
                rows.append(_email_row(appointment, Template.REMINDER_DAY, now))
            if self._sms and contact.phone:
                day = local_day(appointment.starts_at, zone)
                texts.setdefault(sms_key(self._phone_hash(contact.phone), day), appointment)
        queued = _queued_anywhere(session, list(texts))
        for key, appointment in texts.items():
            if key not in queued:
                rows.append(_row(appointment, Template.REMINDER_SMS, now, key))
        return _insert_ignoring_duplicates(session, OutboxMessage, rows)

    def _contacts(
        self, session: Session, appointments: Sequence[Appointment]
    ) -> dict[tuple[UUID, UUID], _Contact]:
        """Who would receive each appointment's reminders, read in three queries: an account
        that wants them (email), else the contact the practice recorded for a patient who wants
        them (email and/or phone). The worker checks again when it sends."""
        if not appointments:
            return {}
        patient_ids = {a.patient_id for a in appointments}
        patients = {
            p.patient_id: p
            for p in session.scalars(select(Patient).where(Patient.patient_id.in_(patient_ids)))
        }
        account_ids = {p.holder_account_id for p in patients.values() if p.holder_account_id}
        accounts = (
            {
                a.account_id: a
                for a in session.scalars(select(Account).where(Account.account_id.in_(account_ids)))
            }
            if account_ids
            else {}
        )
        recorded = {
            (c.practice_id, c.patient_id): c
            for c in session.scalars(
                select(PracticePatient).where(PracticePatient.patient_id.in_(patient_ids))
            )
        }
        contacts: dict[tuple[UUID, UUID], _Contact] = {}
        for appointment in appointments:
            key = (appointment.practice_id, appointment.patient_id)
            patient = patients.get(appointment.patient_id)
            if patient is None:  # pragma: no cover - an appointment's patient always exists
                continue
            if patient.holder_account_id is not None:
                account = accounts.get(patient.holder_account_id)
                if account and account.reminders and account.email and not account.disabled:
                    contacts[key] = _Contact(email=True, phone=None)
                continue
            contact = recorded.get(key)
            if patient.reminders and contact is not None and (contact.email or contact.phone):
                contacts[key] = _Contact(email=bool(contact.email), phone=contact.phone)
        return contacts

    def _phone_hash(self, phone: str) -> str:
        return hmac.new(self._phone_key, phone.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def _booked() -> Select[Appointment, str]:
    return (
        select(Appointment, Practice.timezone)
        .join(Practice, Practice.practice_id == Appointment.practice_id)
        .where(Appointment.status == Status.BOOKED.value, Appointment.reminders_wanted)
    )


def week_scan(since: datetime, now: datetime) -> Select[Appointment, str]:
    """Booked appointments whose week moment passed in ``(since, now]``."""
    return _booked().where(
        Appointment.starts_at > since + WEEK, Appointment.starts_at <= now + WEEK
    )


def day_scan(zone: str, day: date, now: datetime) -> Select[Appointment, str]:
    """The booked appointments of one local day in the practices of one time zone."""
    return _booked().where(
        Practice.timezone == zone,
        Appointment.starts_at >= max(_midnight(day, zone), now),
        Appointment.starts_at < _midnight(day + timedelta(days=1), zone),
    )


def changed_scan(since: datetime, now: datetime) -> Select[Appointment, str]:
    """The appointments booked or moved since the last round."""
    return _booked().where(Appointment.updated_at > since, Appointment.updated_at <= now)


def _pairs(session: Session, statement: Select[Appointment, str]) -> list[tuple[Appointment, str]]:
    return [(appointment, zone) for appointment, zone in session.execute(statement)]


def _days_whose_moment_passed(zone: str, since: datetime, now: datetime) -> list[date]:
    """The local days whose day-before moment is in ``(since, now]``: usually none."""
    first = local_day(since, zone)
    last = local_day(now, zone) + timedelta(days=1)
    days = []
    day = first
    while day <= last:
        if since < day_before_moment(day, zone) <= now:
            days.append(day)
        day += timedelta(days=1)
    return days


def _week_is_due(appointment: Appointment, *, since: datetime, now: datetime) -> bool:
    moment = appointment.starts_at - WEEK
    # Booked (or moved to this time) after the moment: less than a week ahead, no such reminder.
    return since < moment <= now and appointment.updated_at <= moment


def _day_is_due(appointment: Appointment, zone: str, *, now: datetime) -> bool:
    day = local_day(appointment.starts_at, zone)
    # From 10:00 the day before until the day itself begins: booked on the day, no "tomorrow".
    return day_before_moment(day, zone) <= now < _midnight(day, zone)


def _queued_anywhere(session: Session, keys: list[str]) -> set[str]:
    """The SMS keys already queued, in any practice (another practice's appointment may have
    queued that phone's day): one query per chunk, led by the key's index."""
    found: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        statement = select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))
        found.update(key for key in session.scalars(statement) if key is not None)
    return found


def _email_row(appointment: Appointment, template: Template, now: datetime) -> dict[str, Any]:
    return _row(appointment, template, now, reminder_key(template, appointment))


def _row(appointment: Appointment, template: Template, now: datetime, key: str) -> dict[str, Any]:
    return {
        "practice_id": appointment.practice_id,
        "message_id": new_id(),
        "created_at": now,
        "template": template.value,
        "appointment_id": appointment.appointment_id,
        "patient_id": appointment.patient_id,
        "status": "pending",
        "attempts": 0,
        "due_at": now,
        "dedupe_key": key,
    }


def _insert_ignoring_duplicates(
    session: Session, model: type[Any], rows: list[dict[str, Any]]
) -> int:
    """Insert the rows a unique key does not already hold (two workers planning the same
    moment, a reminder queued in an earlier round)."""
    if not rows:
        return 0
    count = 0
    # In chunks: SQLite caps the parameters of one statement.
    for start in range(0, len(rows), _CHUNK):
        result = session.execute(
            insert_on_conflict(session, model)
            .values(rows[start : start + _CHUNK])
            .on_conflict_do_nothing()
        )
        count += max(getattr(result, "rowcount", 0), 0)
    return count
