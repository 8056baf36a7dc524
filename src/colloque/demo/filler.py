"""Placing many appointments on agendas' real grids, fast, and turning them into table rows.

An appointment starts on the agenda's grid (an opening's start plus a whole number of steps),
fits inside an opening minus breaks and absences, offers its visit type there, and never overlaps
another appointment of the practitioner, buffer included. Days are local calendar days; the UTC
offset of a day is taken at noon, which is right for every daytime opening.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from colloque.booking.rules import CancelReason, Source, Status
from colloque.demo.plans import AgendaPlan
from colloque.scheduling.domain import OverrideKind, PatientKind
from colloque.scheduling.specialties import Specialty

Row = dict[str, Any]
Piece = tuple[int, int]

#: Give up on an agenda after this many placements in a row failed: it is as full as it gets.
MAX_CONSECUTIVE_MISSES = 300
#: The filler never books more than this share of an agenda's open time.
MAX_FILL = 0.6

_PATIENT_CANCEL_REASONS = (
    CancelReason.PATIENT_UNAVAILABLE,
    CancelReason.NO_LONGER_NEEDED,
    CancelReason.BOOKED_ELSEWHERE,
    CancelReason.OTHER,
)
_PRACTICE_CANCEL_REASONS = (
    CancelReason.PRACTITIONER_UNAVAILABLE,
    CancelReason.PRACTICE_CLOSED,
    CancelReason.BOOKED_BY_MISTAKE,
)


@dataclass(frozen=True, slots=True)
class _Opening:
    start: int
    end: int
    #: Where appointments fit: the opening minus breaks and absences.
    pieces: tuple[Piece, ...]
    #: Indexes of the visit types offered, and their cumulative booking weights.
    kinds: tuple[int, ...]
    cum_weights: tuple[float, ...]
    grid_size: int


class AgendaGrid:
    """The open days of one agenda between two local dates, ready for placing appointments."""

    def __init__(self, plan: AgendaPlan, first_day: date, last_day: date) -> None:
        self.plan = plan
        self.step = plan.rules.step
        self.buffer = plan.rules.buffer_minutes
        self.durations = [v.duration for v in plan.visit_types]
        index = {v.visit_type_id: i for i, v in enumerate(plan.visit_types)}
        weights = [v.weight for v in plan.visit_types]

        def opening(start: int, end: int, ids: Sequence[UUID], holes: Sequence[Piece]) -> _Opening:
            kinds = tuple(index[i] for i in ids)
            cumulative: list[float] = []
            total = 0.0
            for kind in kinds:
                total += weights[kind]
                cumulative.append(total)
            return _Opening(
                start=start,
                end=end,
                pieces=_subtract(((start, end),), holes),
                kinds=kinds,
                cum_weights=tuple(cumulative),
                grid_size=(end - start + self.step - 1) // self.step,
            )

        weekly: list[list[_Opening]] = [[] for _ in range(7)]
        for r in plan.ranges:
            holes = [(b.start, b.end) for b in plan.breaks if b.weekday == r.weekday]
            weekly[r.weekday].append(opening(r.start, r.end, r.visit_type_ids, holes))
        closed: set[date] = set()
        absences: dict[date, list[Piece]] = {}
        extras: dict[date, list[_Opening]] = {}
        for o in plan.overrides:
            day = max(o.first_day, first_day)
            while day <= min(o.last_day, last_day):
                if o.kind is OverrideKind.HOLIDAY or (
                    o.kind is OverrideKind.ABSENCE and o.start is None
                ):
                    closed.add(day)
                elif o.kind is OverrideKind.ABSENCE and o.start is not None and o.end is not None:
                    absences.setdefault(day, []).append((o.start, o.end))
                elif o.start is not None and o.end is not None:
                    extras.setdefault(day, []).append(opening(o.start, o.end, o.visit_type_ids, ()))
                day += timedelta(days=1)

        self.days: list[tuple[date, tuple[_Opening, ...]]] = []
        open_minutes = 0
        day = first_day
        while day <= last_day:
            if day not in closed:
                openings = weekly[day.weekday()] + extras.get(day, [])
                if day in absences:
                    openings = [_without(o, absences[day]) for o in openings]
                openings = [o for o in openings if o.pieces and o.kinds]
                if openings:
                    self.days.append((day, tuple(openings)))
                    open_minutes += sum(e - s for o in openings for s, e in o.pieces)
            day += timedelta(days=1)
        #: How many appointments would fill the window's open time.
        self.capacity = open_minutes / plan.mean_duration()

    def place(
        self, rng: random.Random, count: int, busy: dict[date, list[Piece]]
    ) -> list[tuple[date, int, int]]:
        """Up to ``count`` appointments as (local day, start minute, visit type index), by
        random draws on the grid. ``busy`` holds the agenda's taken time and is updated."""
        placed: list[tuple[date, int, int]] = []
        days = self.days
        if not days:
            return placed
        step, buffer, durations = self.step, self.buffer, self.durations
        randrange, uniform = rng.randrange, rng.random
        misses = 0
        while len(placed) < count and misses < MAX_CONSECUTIVE_MISSES:
            day, openings = days[randrange(len(days))]
            o = openings[randrange(len(openings))] if len(openings) > 1 else openings[0]
            cum = o.cum_weights
            kind = o.kinds[bisect_right(cum, uniform() * cum[-1])] if len(cum) > 1 else o.kinds[0]
            start = o.start + randrange(o.grid_size) * step
            end = start + durations[kind]
            if not any(s <= start and end <= e for s, e in o.pieces):
                misses += 1
                continue
            until = end + buffer
            taken = busy.get(day)
            if taken is None:
                busy[day] = [(start, until)]
            elif any(s < until and start < e for s, e in taken):
                misses += 1
                continue
            else:
                taken.append((start, until))
            placed.append((day, start, kind))
            misses = 0
        return placed


def _without(o: _Opening, holes: Sequence[Piece]) -> _Opening:
    return _Opening(o.start, o.end, _subtract(o.pieces, holes), o.kinds, o.cum_weights, o.grid_size)


def _subtract(pieces: Sequence[Piece], holes: Sequence[Piece]) -> tuple[Piece, ...]:
    result = list(pieces)
    for hole_start, hole_end in holes:
        kept: list[Piece] = []
        for start, end in result:
            if hole_end <= start or end <= hole_start:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        result = kept
    return tuple(result)


# --- patients ---------------------------------------------------------------------------------


@dataclass(slots=True)
class PatientPool:
    """Every patient the filler may book for, with the account that manages them."""

    ids: list[UUID]
    holders: list[UUID]
    children: list[int]
    women: list[int]

    def pick(self, rng: random.Random, specialty: Specialty) -> int:
        pool: Sequence[int] | None = None
        if specialty in (Specialty.PAEDIATRICS, Specialty.ORTHODONTICS):
            pool = self.children
        elif specialty in (Specialty.GYNAECOLOGY, Specialty.MIDWIFERY):
            pool = self.women
        elif specialty is Specialty.SPEECH_THERAPY and rng.random() < 0.6:
            pool = self.children
        if pool:
            return pool[rng.randrange(len(pool))]
        return rng.randrange(len(self.ids))


# --- rows ---------------------------------------------------------------------------------------


#: Every minute of a day as a timedelta, built once.
_MINUTES = [timedelta(minutes=minute) for minute in range(24 * 60)]


class AppointmentWriter:
    """Turns placed appointments into ``appointments`` and ``appointment_events`` rows."""

    def __init__(
        self,
        *,
        rng: random.Random,
        new_id: Callable[[], UUID],
        now: datetime,
        patients: PatientPool,
        secretaries: dict[UUID, UUID],
    ) -> None:
        self._rng = rng
        self._new_id = new_id
        self._now = now
        self._patients = patients
        self._secretaries = secretaries
        self._day_bases: dict[tuple[str, date], datetime] = {}

    def day_base(self, timezone: str, day: date) -> datetime:
        """The UTC instant of local midnight, as if the day's noon offset held all day."""
        key = (timezone, day)
        base = self._day_bases.get(key)
        if base is None:
            noon = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(timezone))
            offset = noon.utcoffset() or timedelta(0)
            base = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
            self._day_bases[key] = base
        return base

    def rows(
        self, plan: AgendaPlan, placed: Sequence[tuple[date, int, int]]
    ) -> tuple[list[Row], list[Row]]:
        rng, now, patients = self._rng, self._now, self._patients
        secretary = self._secretaries[plan.practice_id]
        appointments: list[Row] = []
        events: list[Row] = []
        seen: list[int] = []
        seen_set: set[int] = set()
        # Looked up once per agenda, not per appointment: an enum member's lookup and a
        # timedelta's construction were a fifth of this loop at a million appointments.
        known_only, any_patient = PatientKind.KNOWN_ONLY, PatientKind.ANY
        durations = [timedelta(minutes=visit_type.duration) for visit_type in plan.visit_types]
        buffer = timedelta(minutes=plan.rules.buffer_minutes)
        for day, minute, kind in sorted(placed):
            visit_type = plan.visit_types[kind]
            starts_at = self.day_base(plan.timezone, day) + _MINUTES[minute]
            ends_at = starts_at + durations[kind]
            # The patient: someone the practitioner has seen, or someone new.
            wants_known = visit_type.patient_kind is known_only or (
                visit_type.patient_kind is any_patient and rng.random() < 0.5
            )
            if wants_known and seen:
                patient = seen[rng.randrange(len(seen))]
            else:
                patient = patients.pick(rng, plan.specialty)
                if patient not in seen_set:
                    seen_set.add(patient)
                    seen.append(patient)
            holder = patients.holders[patient]
            by_practice = not visit_type.online_bookable or rng.random() < 0.2
            source = Source.PRACTICE if by_practice else Source.ONLINE
            booker = secretary if by_practice else holder
            lead = timedelta(seconds=int(rng.expovariate(1 / 8) * 86_400) + 600)
            created_at = starts_at - lead
            if created_at > now:
                created_at = now - timedelta(seconds=rng.randint(60, 172_800))
            status, last_event = self._outcome(starts_at, ends_at, created_at)
            appointment_id = self._new_id()
            cancel_reason: str | None = None
            events.append(
                self._event(
                    plan.practice_id,
                    appointment_id,
                    created_at,
                    "booked",
                    booker,
                    "secretary" if by_practice else "patient",
                    new_starts_at=starts_at,
                )
            )
            if status in (Status.DONE, Status.NO_SHOW):
                events.append(
                    self._event(
                        plan.practice_id,
                        appointment_id,
                        last_event,
                        "marked_done" if status is Status.DONE else "marked_no_show",
                        secretary,
                        "secretary",
                    )
                )
            elif status is Status.CANCELLED_BY_PATIENT or status is Status.CANCELLED_BY_PRACTICE:
                by_patient = status is Status.CANCELLED_BY_PATIENT
                reason = rng.choice(
                    _PATIENT_CANCEL_REASONS if by_patient else _PRACTICE_CANCEL_REASONS
                )
                cancel_reason = reason.value
                events.append(
                    self._event(
                        plan.practice_id,
                        appointment_id,
                        last_event,
                        "cancelled",
                        holder if by_patient else secretary,
                        "patient" if by_patient else "secretary",
                        reason=cancel_reason,
                    )
                )
            elif starts_at > now and rng.random() < 0.03 and now - created_at > timedelta(hours=2):
                # Moved once since it was booked.
                moved_at = created_at + (now - created_at) * rng.random()
                events.append(
                    self._event(
                        plan.practice_id,
                        appointment_id,
                        moved_at,
                        "rescheduled",
                        holder,
                        "patient",
                        previous_starts_at=starts_at + timedelta(days=rng.choice((-7, -2, 1, 3))),
                        new_starts_at=starts_at,
                    )
                )
                last_event = moved_at
            appointments.append(
                {
                    "practice_id": plan.practice_id,
                    "appointment_id": appointment_id,
                    "practitioner_id": plan.practitioner_id,
                    "patient_id": patients.ids[patient],
                    "booked_by_account_id": booker,
                    "specialty": plan.specialty.value,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "blocked_until": ends_at + buffer,
                    "status": status.value,
                    "source": source.value,
                    "cancel_reason": cancel_reason,
                    "hold_expires_at": None,
                    "created_at": created_at,
                    "updated_at": last_event,
                }
            )
        return appointments, events

    def _outcome(
        self, starts_at: datetime, ends_at: datetime, created_at: datetime
    ) -> tuple[Status, datetime]:
        """The status, and when it was last changed."""
        rng, now = self._rng, self._now
        draw = rng.random()
        if ends_at <= now:
            if draw < 0.05 or draw >= 0.98:
                status = (
                    Status.CANCELLED_BY_PATIENT if draw < 0.05 else Status.CANCELLED_BY_PRACTICE
                )
                return status, created_at + (starts_at - created_at) * rng.random()
            marked = min(ends_at + timedelta(minutes=rng.randint(1, 240)), now)
            return (Status.NO_SHOW if draw < 0.09 else Status.DONE), marked
        if starts_at <= now or draw < 0.93:
            return Status.BOOKED, created_at
        status = Status.CANCELLED_BY_PATIENT if draw < 0.98 else Status.CANCELLED_BY_PRACTICE
        return status, created_at + (now - created_at) * rng.random()

    def _event(
        self,
        practice_id: UUID,
        appointment_id: UUID,
        at: datetime,
        kind: str,
        actor: UUID | None,
        role: str,
        *,
        previous_starts_at: datetime | None = None,
        new_starts_at: datetime | None = None,
        reason: str | None = None,
    ) -> Row:
        return {
            "practice_id": practice_id,
            "event_id": self._new_id(),
            "appointment_id": appointment_id,
            "at": at,
            "kind": kind,
            "actor_account_id": actor,
            "actor_role": role,
            "previous_starts_at": previous_starts_at,
            "new_starts_at": new_starts_at,
            "reason": reason,
        }
