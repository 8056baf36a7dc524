"""The counters that watch each credential, and the suspension past their limit.

:class:`CredentialWatch` is the audit log's read observer (``audit.interfaces.ReadObserver``):
``audit.services.record`` tells it of every event a credential's request writes, in that
request's transaction, with every id the event names. It adds the persons and appointments to
the credential's sketches for the window (an hour) and for its day (one row per credential and
practice holds both, read for update and written back: two statements per event that named any)
and notes a trip when the points pass either limit. A decoy
(``containment.canaries``) trips at once and refuses the request. The HTTP layer
(``containment.http``) then runs :func:`do_suspend` in a transaction of its own: the credential
ends, an incident is opened and contained, the owner and the practice admins are mailed, and the
suspension is recorded, all or nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.booking.models import Appointment
from colloque.containment import sketch
from colloque.containment.alerts import suspended_notice
from colloque.containment.canaries import first_canary, real_patient_count
from colloque.containment.interfaces import CredentialSuspended
from colloque.containment.limits import APPOINTMENT_SHARE, ContainmentLimits
from colloque.containment.models import CredentialSuspension, CredentialWindow
from colloque.incidents.services import do_contain, do_open_incident
from colloque.notifications.account_mail import enqueue_account_mail
from colloque.principal import ANONYMOUS, Principal, Role
from colloque.scheduling.models import PracticeMember

#: Events that change appointments: each counts ``change_weight`` points.
CHANGES = frozenset(
    {
        AuditAction.APPOINTMENT_BOOKED.value,
        AuditAction.APPOINTMENT_CANCELLED.value,
        AuditAction.APPOINTMENT_RESCHEDULED.value,
        AuditAction.APPOINTMENT_MARKED.value,
        AuditAction.PRACTICE_PATIENT_CHANGED.value,
    }
)


class Reason(enum.StrEnum):
    THRESHOLD = "threshold"
    CANARY = "canary"


class Over(enum.StrEnum):
    """Which limit a threshold trip passed: the window's (an hour) or the day's."""

    WINDOW = "window"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class Trip:
    """A credential to suspend, and why."""

    credential_id: UUID
    account_id: UUID | None
    practice_id: UUID | None
    reason: Reason
    over: Over | None = None


@dataclass(frozen=True, slots=True)
class _Seen:
    """A credential's row as this process last read it, committed: its hour, its day's start and
    the hour's sketches. Within an hour the row only gains ids, so an event whose ids are all in
    this copy adds nothing to the row either: a desk reloading its day costs no statement."""

    window_start: datetime
    day_start: datetime
    persons: bytes
    appointments: bytes


_SEEN: dict[tuple[UUID, UUID], _Seen] = {}
#: 4 KB each: at most 8 MB per process.
_SEEN_KEPT = 2_048


class CredentialWatch:
    """One request's observer. ``trip`` is set when the request's credential must be suspended."""

    def __init__(self, limits: ContainmentLimits, canary_key: bytes) -> None:
        self.limits = limits
        self.canary_key = canary_key
        self.trip: Trip | None = None
        #: The rows this request changed: what it reads of them afterwards is not committed.
        self._changed: set[tuple[UUID, UUID]] = set()

    def observe(
        self,
        session: Session,
        *,
        at: datetime,
        action: str,
        principal: Principal,
        practice_id: UUID | None,
        refs: Mapping[ObjectKind, frozenset[UUID]],
        span: tuple[datetime, datetime] | None,
    ) -> None:
        assert principal.credential_id is not None  # record() tells credentials only
        persons = refs.get(ObjectKind.PATIENT, frozenset())
        appointments = refs.get(ObjectKind.APPOINTMENT, frozenset())
        if (
            first_canary(self.canary_key, persons) is not None
            or first_canary(self.canary_key, appointments) is not None
        ):
            self.trip = Trip(
                principal.credential_id, principal.account_id, practice_id, Reason.CANARY
            )
            raise CredentialSuspended
        if practice_id is None:
            return
        role = principal.role_in(practice_id)
        limit = None if role is None else self.limits.roles.get(role)
        changed = action in CHANGES
        if limit is None or not (persons or appointments or changed):
            return
        key = (principal.credential_id, practice_id)
        counts = _Counts(self.limits.weight(span, at), persons, appointments, changed)
        # Most reads of a credential's hour name nobody new (a desk reloads its day): then there
        # is nothing to write. What this process last read of the row may already say so;
        # otherwise a plain read does, with no row lock to take and log.
        seen = _SEEN.get(key)
        if seen is not None and self._adds_nothing(seen, counts, at):
            return
        if key in self._changed:
            # This request has written the row already: its own state, locked since, is the one
            # to add to (refreshing it would drop what is not flushed yet).
            window = session.get(CredentialWindow, key, with_for_update=True)
        else:
            # Read afresh (an earlier event of this transaction may have read the row before a
            # concurrent request changed it), and for update at once when the copy already says
            # the event adds something: two statements, not three.
            locked = seen is not None
            window = session.get(
                CredentialWindow, key, with_for_update=locked, populate_existing=True
            )
            if window is not None:
                _remember(key, window)
                if self._adds_nothing(window, counts, at):
                    self._check(window, principal, practice_id)
                    return
                if not locked:
                    window = session.get(
                        CredentialWindow, key, with_for_update=True, populate_existing=True
                    )
            self._changed.add(key)
        if window is None or at >= window.day_start + self.limits.day:
            # The credential's first counted event here, or its day is over (an integration's
            # token outlives a day): the limits for the practice as it is now.
            patients, weekly = _baseline(session, practice_id, self.limits.window_start(at), at)
            point_limit = self.limits.limit(limit, patients=patients, weekly_appointments=weekly)
            if window is None:
                window = self._open(key, at, point_limit)
                self._count(window, counts)
                if not _insert_window(session, window):
                    # A concurrent request of the credential opened the row first: add to it.
                    window = session.get(
                        CredentialWindow, key, with_for_update=True, populate_existing=True
                    )
                    assert window is not None
                    self._count(window, counts)
            else:
                self._new_day(window, at, point_limit)
                self._count(window, counts)
        else:
            start = self.limits.window_start(at)
            if start > window.window_start:
                # A new hour of the same day: its counters start again, under the day's limits.
                _reset_window(window, start)
            self._count(window, counts)
        self._check(window, principal, practice_id)

    def _adds_nothing(
        self, window: CredentialWindow | _Seen, counts: _Counts, at: datetime
    ) -> bool:
        """Whether the event leaves the row as it is: no change, within the row's hour and day,
        and nobody new to the hour (the hour's sketches are within the day's)."""
        return (
            not counts.changed
            and at < window.day_start + self.limits.day
            and self.limits.window_start(at) == window.window_start
            and not sketch.any_new(window.persons, counts.persons)
            and not sketch.any_new(window.appointments, counts.appointments)
        )

    def _check(self, window: CredentialWindow, principal: Principal, practice_id: UUID) -> None:
        assert principal.credential_id is not None
        hour_over = window.points >= window.point_limit
        if hour_over or window.day_points >= window.day_limit:
            # Refused, not only suspended for later: one agenda read can return hundreds of
            # persons, and the one that crosses the limit must not be the thief's best haul.
            self.trip = Trip(
                principal.credential_id,
                principal.account_id,
                practice_id,
                Reason.THRESHOLD,
                over=Over.WINDOW if hour_over else Over.DAY,
            )
            raise CredentialSuspended

    def _open(self, key: tuple[UUID, UUID], at: datetime, point_limit: float) -> CredentialWindow:
        window = CredentialWindow(credential_id=key[0], practice_id=key[1])
        self._new_day(window, at, point_limit)
        return window

    def _new_day(self, window: CredentialWindow, at: datetime, point_limit: float) -> None:
        _reset_window(window, self.limits.window_start(at))
        window.point_limit = point_limit
        window.day_start = at
        window.day_limit = self.limits.day_limit(point_limit)
        window.day_points = 0.0
        window.day_persons = sketch.empty()
        window.day_appointments = sketch.empty()
        window.day_changes = 0

    def _count(self, window: CredentialWindow, counts: _Counts) -> None:
        """Add the event to the window's counters and to the day's: each counts what is new
        to it (a person read this morning and again now is new to this hour, not to the day)."""
        window.persons, new_persons = sketch.add(window.persons, counts.persons)
        window.appointments, new_appointments = sketch.add(window.appointments, counts.appointments)
        window.changes += int(counts.changed)
        window.points += self._points(counts, new_persons, new_appointments)
        window.day_persons, new_persons = sketch.add(window.day_persons, counts.persons)
        window.day_appointments, new_appointments = sketch.add(
            window.day_appointments, counts.appointments
        )
        window.day_changes += int(counts.changed)
        window.day_points += self._points(counts, new_persons, new_appointments)

    def _points(self, counts: _Counts, new_persons: int, new_appointments: int) -> float:
        return counts.weight * (
            new_persons + APPOINTMENT_SHARE * new_appointments
        ) + self.limits.change_weight * int(counts.changed)


@dataclass(frozen=True, slots=True)
class _Counts:
    """What one event adds: its weight, the ids it names, whether it changed something."""

    weight: float
    persons: frozenset[UUID]
    appointments: frozenset[UUID]
    changed: bool


def _remember(key: tuple[UUID, UUID], window: CredentialWindow) -> None:
    if key not in _SEEN and len(_SEEN) >= _SEEN_KEPT:
        _SEEN.clear()
    _SEEN[key] = _Seen(window.window_start, window.day_start, window.persons, window.appointments)


def _reset_window(window: CredentialWindow, start: datetime) -> None:
    window.window_start = start
    window.points = 0.0
    window.persons = sketch.empty()
    window.appointments = sketch.empty()
    window.changes = 0


#: The limits' inputs per practice and hour, kept by the process: they only set a threshold, and
#: counting a practice's patients and coming week is most of what opening a window costs (every
#: credential's first read of the day, in every practice it reads).
_BASELINES: dict[tuple[UUID, datetime], tuple[int, int]] = {}
_BASELINES_KEPT = 4_096


def _baseline(session: Session, practice_id: UUID, hour: datetime, at: datetime) -> tuple[int, int]:
    """The practice's patients and its coming week's appointments, counted once an hour."""
    key = (practice_id, hour)
    kept = _BASELINES.get(key)
    if kept is None:
        kept = (
            real_patient_count(session, practice_id=practice_id),
            _coming_week(session, practice_id, at),
        )
        if len(_BASELINES) >= _BASELINES_KEPT:
            _BASELINES.clear()
        _BASELINES[key] = kept
    return kept


def _coming_week(session: Session, practice_id: UUID, at: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Appointment)
            .where(
                Appointment.practice_id == practice_id,
                Appointment.starts_at >= at,
                Appointment.starts_at < at + timedelta(days=7),
            )
        )
        or 0
    )


def _insert_window(session: Session, window: CredentialWindow) -> bool:
    """Insert the new window's row (not added to the session: this is its only write), unless
    a concurrent request of the credential just did. True when inserted."""
    values = {column.key: getattr(window, column.key) for column in CredentialWindow.__table__.c}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    inserted = session.execute(
        insert(CredentialWindow)
        .values(values)
        .on_conflict_do_nothing()
        .returning(CredentialWindow.credential_id)
    )
    return inserted.first() is not None


def do_suspend(
    session: Session, *, now: datetime, trip: Trip, mail_key: bytes, public_url: str
) -> UUID | None:
    """Suspend the credential: end it, open an incident contained on it, mail its owner and the
    practice's admins, and record it. Returns the incident, or None when the credential was
    already suspended (concurrent requests of a thief trip together)."""
    if session.get(CredentialSuspension, trip.credential_id) is not None:
        return None
    summary = (
        f"credential {trip.credential_id} suspended: "
        + _why(trip)
        + "; report: colloque incident report --credential "
        + str(trip.credential_id)
    )
    incident_id = do_open_incident(session, now=now, detected_at=now, summary=summary)
    do_contain(session, now=now, incident_id=incident_id, credentials=(trip.credential_id,))
    session.add(
        CredentialSuspension(
            credential_id=trip.credential_id,
            account_id=trip.account_id,
            practice_id=trip.practice_id,
            at=now,
            reason=trip.reason.value,
            incident_id=incident_id,
        )
    )
    record(
        session,
        at=now,
        action=AuditAction.CREDENTIAL_SUSPENDED,
        principal=ANONYMOUS,
        practice_id=trip.practice_id,
        object_kind=ObjectKind.INCIDENT.value,
        object_id=incident_id,
        objects=[] if trip.account_id is None else [(ObjectKind.ACCOUNT, trip.account_id)],
    )
    inbox = f"{public_url.rstrip('/')}/me/notifications"
    for account_id, email, language, owner in _recipients(session, trip):
        enqueue_account_mail(
            session,
            suspended_notice(email, account_id=account_id, language=language, owner=owner),
            at=now,
            kind="credential_suspended",
            key=mail_key,
            inbox_url=inbox,
        )
    return incident_id


def _why(trip: Trip) -> str:
    if trip.reason is Reason.CANARY:
        return "a decoy record was read"
    if trip.over is None:
        return "unusual reading volume"
    return f"unusual reading volume (its {trip.over.value}'s limit)"


def _recipients(session: Session, trip: Trip) -> list[tuple[UUID, str, str, bool]]:
    """The owner, and the admins of the practice where it happened (an admin owner once)."""
    accounts: dict[UUID, bool] = {}
    if trip.practice_id is not None:
        admins = session.scalars(
            select(PracticeMember.account_id).where(
                PracticeMember.practice_id == trip.practice_id,
                PracticeMember.role == Role.ADMIN.value,
            )
        )
        accounts.update((admin, False) for admin in admins)
    if trip.account_id is not None:
        accounts[trip.account_id] = True
    rows = session.execute(
        select(Account.account_id, Account.email, Account.language).where(
            Account.account_id.in_(accounts),
            Account.email.is_not(None),
            Account.disabled.is_(False),
        )
    ).all()
    return sorted(
        (account_id, str(email), language, accounts[account_id])
        for account_id, email, language in rows
    )


def suspension_of(session: Session, *, credential_id: UUID) -> CredentialSuspension | None:
    return session.get(CredentialSuspension, credential_id)


def purge_windows(session: Session, *, before: datetime) -> int:
    """Drop the counters of credentials whose day started before ``before`` (the upkeep; a
    credential still reading after its day has a new one, started later)."""
    result = session.execute(
        delete(CredentialWindow)
        .where(CredentialWindow.day_start < before)
        .returning(CredentialWindow.credential_id)
    )
    return len(result.all())
