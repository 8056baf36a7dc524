"""The counters that watch each credential, and the suspension past their limit.

:class:`CredentialWatch` is the audit log's read observer (``audit.interfaces.ReadObserver``):
``audit.services.record`` tells it of every event a credential's request writes, in that
request's transaction, with every id the event names. It adds the persons and appointments to
the credential's sketches for the window (an hour) and for its day (one row per credential and
practice holds both, ``containment.rows``: most events send no statement, one that adds somebody
one conditional update) and notes a trip when the points pass either limit. A decoy
(``containment.canaries``) trips at once and refuses the request. The HTTP layer
(``containment.http``) then runs :func:`do_suspend` in a transaction of its own: the credential
ends, an incident is opened and contained, the owner and the practice admins are mailed, and the
suspension is recorded, all or nothing.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.booking.models import Appointment
from colloque.containment import rows, sketch
from colloque.containment.alerts import suspended_notice
from colloque.containment.canaries import first_canary, real_patient_count
from colloque.containment.interfaces import CredentialSuspended
from colloque.containment.limits import APPOINTMENT_SHARE, ContainmentLimits, RoleLimit
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


class CredentialWatch:
    """One request's observer. ``trip`` is set when the request's credential must be suspended."""

    def __init__(self, limits: ContainmentLimits, canary_key: bytes) -> None:
        self.limits = limits
        self.canary_key = canary_key
        self.trip: Trip | None = None
        #: The rows this request wrote, as it wrote them (locked since): an event of the same
        #: request adds to that state, which is not committed and so not in ``rows.SEEN``.
        self._written: dict[tuple[UUID, UUID], rows.Row] = {}

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
        # is nothing to write. What this process last saw of the row may already say so;
        # otherwise a plain read does, with no row lock to take and log.
        seen = rows.SEEN.get(key)
        if seen is not None and self._adds_nothing(seen, counts, at):
            return
        row = self._written.get(key)
        if row is None and seen is not None:
            row = copy.copy(seen)
        elif row is None:
            row = rows.load(session, key, lock=False)
            if row is not None:
                rows.remember(key, row)
                if self._adds_nothing(row, counts, at):
                    self._check(row, principal, practice_id)
                    return
        missed = 0
        while (written := self._add(session, key, row, counts, at, limit)) is None:
            # The row changed since it was read or copied (another request of the credential,
            # often in another process, which may have added these very ids): read it as it is
            # now, and write nothing if the event adds nothing to it. A second miss reads it for
            # update, and then the write cannot miss; a row that was missing may have been
            # opened meanwhile (then the insert gave way), and is there to lock on the next turn.
            missed += 1
            row = rows.load(session, key, lock=missed > 1)
            if row is not None:
                rows.remember(key, row)
                if self._adds_nothing(row, counts, at):
                    self._check(row, principal, practice_id)
                    return
        self._written[key] = written
        rows.remember_when_committed(session, key, written)
        self._check(written, principal, practice_id)

    def _add(
        self,
        session: Session,
        key: tuple[UUID, UUID],
        row: rows.Row | None,
        counts: _Counts,
        at: datetime,
        limit: RoleLimit,
    ) -> rows.Row | None:
        """Add the event to ``row`` (None: the credential has none here yet) and write it,
        unless the row is no longer at ``row``'s revision; then None, and nothing written."""
        if row is None or at >= row.day_start + self.limits.day:
            # The credential's first counted event here, or its day is over (an integration's
            # token outlives a day): the limits for the practice as it is now.
            patients, weekly = _baseline(session, key[1], self.limits.window_start(at), at)
            point_limit = self.limits.limit(limit, patients=patients, weekly_appointments=weekly)
            if row is None:
                opened = self._open(key, at, point_limit)
                self._count(opened, counts)
                return opened if rows.insert(session, opened) else None
            before = rows.values(row)
            self._new_day(row, at, point_limit)
        else:
            before = rows.values(row)
            start = self.limits.window_start(at)
            if start > row.window_start:
                # A new hour of the same day: its counters start again, under the day's limits.
                _reset_window(row, start)
        self._count(row, counts)
        return row if rows.store(session, row, before) else None

    def _adds_nothing(self, window: rows.Row, counts: _Counts, at: datetime) -> bool:
        """Whether the event leaves the row as it is: no change, within the row's hour and day,
        and nobody new to the hour (the hour's sketches are within the day's)."""
        return (
            not counts.changed
            and at < window.day_start + self.limits.day
            and self.limits.window_start(at) == window.window_start
            and not sketch.any_new(window.persons, counts.persons)
            and not sketch.any_new(window.appointments, counts.appointments)
        )

    def _check(self, window: rows.Row, principal: Principal, practice_id: UUID) -> None:
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

    def _open(self, key: tuple[UUID, UUID], at: datetime, point_limit: float) -> rows.Row:
        start = self.limits.window_start(at)
        window = rows.Row(
            key[0],
            key[1],
            start,
            point_limit,
            0.0,
            b"",
            b"",
            0,
            at,
            0.0,
            0.0,
            b"",
            b"",
            0,
            rows.new_revision(),
        )
        self._new_day(window, at, point_limit)
        return window

    def _new_day(self, window: rows.Row, at: datetime, point_limit: float) -> None:
        _reset_window(window, self.limits.window_start(at))
        window.point_limit = point_limit
        window.day_start = at
        window.day_limit = self.limits.day_limit(point_limit)
        window.day_points = 0.0
        window.day_persons = sketch.empty()
        window.day_appointments = sketch.empty()
        window.day_changes = 0

    def _count(self, window: rows.Row, counts: _Counts) -> None:
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


def _reset_window(window: rows.Row, start: datetime) -> None:
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
