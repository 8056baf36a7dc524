"""Booking rules that are pure decisions: no I/O, inputs in, a verdict out."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from colloque.errors import InvalidInput, RuleViolation, SlotTaken
from colloque.scheduling.domain import Busy, PatientKind, SlotProblem, VisitTypeInfo


class Source(enum.StrEnum):
    ONLINE = "online"
    PRACTICE = "practice"
    INTEGRATION = "integration"
    WAITLIST = "waitlist"


class Status(enum.StrEnum):
    HELD = "held"
    BOOKED = "booked"
    CANCELLED_BY_PATIENT = "cancelled_by_patient"
    CANCELLED_BY_PRACTICE = "cancelled_by_practice"
    NO_SHOW = "no_show"
    DONE = "done"
    HOLD_LAPSED = "hold_lapsed"


class CancelReason(enum.StrEnum):
    """Reasons are codes, never free text: a cancellation note could carry health data."""

    PATIENT_UNAVAILABLE = "patient_unavailable"
    NO_LONGER_NEEDED = "no_longer_needed"
    BOOKED_ELSEWHERE = "booked_elsewhere"
    PRACTITIONER_UNAVAILABLE = "practitioner_unavailable"
    PRACTICE_CLOSED = "practice_closed"
    BOOKED_BY_MISTAKE = "booked_by_mistake"
    OTHER = "other"


#: Reasons only the practice gives: a patient cannot say the practice closed. The practice may
#: give any reason, since patients also cancel by calling the desk.
PRACTICE_ONLY_CANCEL_REASONS = frozenset(
    {CancelReason.PRACTITIONER_UNAVAILABLE, CancelReason.PRACTICE_CLOSED}
)


def check_cancel_reason(reason: CancelReason, *, by_practice: bool) -> None:
    """A patient (or whoever manages them) cancels with a patient's reason."""
    if not by_practice and reason in PRACTICE_ONLY_CANCEL_REASONS:
        raise RuleViolation(
            f"{reason.value} is a reason the practice gives, not the patient",
            rule="practice_only_reason",
            field="reason",
        )


SLOT_PROBLEM_MESSAGES: dict[SlotProblem, str] = {
    SlotProblem.NOT_ALIGNED: "this time is not one of the agenda's slot times",
    SlotProblem.TOO_SOON: "this slot is too soon to book online",
    SlotProblem.TOO_FAR: "this slot is beyond the booking horizon",
    SlotProblem.CLOSED: "the practitioner does not see patients at this time",
    SlotProblem.ABSENT: "the practitioner is absent at this time",
    SlotProblem.VISIT_TYPE_NOT_OFFERED: "this visit type is not offered at this time",
    SlotProblem.TAKEN: "this slot was just taken",
    SlotProblem.DAY_FULL: "the practitioner's day is full",
}


def raise_for_slot_problem(
    problem: SlotProblem | None,
    *,
    outside_hours_confirmed: bool = False,
    busy: Sequence[Busy] = (),
    starts_at: datetime | None = None,
    blocked_until: datetime | None = None,
) -> bool:
    """Raise for the problem; answer whether the time is forced outside the opening hours.

    A practice member who confirmed (``outside_hours_confirmed``) may book or move an
    appointment to a time the agenda is closed: an extra appointment. The other problems still
    stand, and so does another appointment's time (``busy``), checked here since the slot
    check stops at "closed" before it looks at the taken time."""
    if problem is None:
        return False
    if problem is SlotProblem.CLOSED and outside_hours_confirmed:
        if starts_at is None or blocked_until is None:
            raise ValueError("a forced time needs its start and end")
        if any(b.start < blocked_until and starts_at < b.until for b in busy):
            raise SlotTaken(SLOT_PROBLEM_MESSAGES[SlotProblem.TAKEN], field="starts_at")
        return True
    message = SLOT_PROBLEM_MESSAGES[problem]
    if problem is SlotProblem.TAKEN:
        raise SlotTaken(message, field="starts_at")
    raise RuleViolation(message, rule=problem.value, field="starts_at")


def fitting_visit_types(
    visit_types: Iterable[VisitTypeInfo],
    *,
    duration_minutes: int,
    is_known: bool,
    accepts_new_patients: bool,
    by_practice: bool,
) -> list[VisitTypeInfo]:
    """The visit types a booking of this length could be, for this patient and this channel.

    The server never learns which visit type was chosen (it travels sealed with the reason), so
    a booking is accepted when at least one visit type fits. When none does, the error names the
    rule that removed the last candidates, so the patient reads the same reason as before.
    """
    if not is_known and not accepts_new_patients and not by_practice:
        raise RuleViolation(
            "the practitioner does not accept new patients online",
            rule="not_accepting_new_patients",
            field="practitioner_id",
        )
    candidates = [vt for vt in visit_types if vt.duration_minutes == duration_minutes]
    if not candidates:
        raise InvalidInput(
            f"no visit type of this practitioner lasts {duration_minutes} minutes",
            field="duration_minutes",
        )
    if not by_practice:
        candidates = [vt for vt in candidates if vt.online_bookable]
        if not candidates:
            raise RuleViolation(
                "this visit type is booked by the practice only; please call them",
                rule="practice_only",
                field="duration_minutes",
            )
    kinds = {vt.patient_kind for vt in candidates}
    candidates = [vt for vt in candidates if _kind_allows(vt.patient_kind, is_known=is_known)]
    if not candidates:
        if PatientKind.NEW_ONLY in kinds:
            raise RuleViolation(
                "this visit type is for new patients",
                rule="new_patients_only",
                field="duration_minutes",
            )
        raise RuleViolation(
            "this visit type is for the practitioner's existing patients",
            rule="known_patients_only",
            field="duration_minutes",
        )
    return candidates


def _kind_allows(kind: PatientKind, *, is_known: bool) -> bool:
    if kind is PatientKind.NEW_ONLY:
        return not is_known
    if kind is PatientKind.KNOWN_ONLY:
        return is_known
    return True


def closest_slot_problem(problems: Iterable[SlotProblem | None]) -> SlotProblem | None:
    """None if any candidate visit type fits the slot; else the problem of the candidate that
    passed the most checks (problems are listed in the order the checks run)."""
    order = list(SlotProblem)
    seen = list(problems)
    if not seen:
        raise ValueError("no candidate visit type was checked")
    if None in seen:
        return None
    return max((p for p in seen if p is not None), key=order.index)


def check_anti_hoarding(
    *, starts_at: datetime, other_starts: Iterable[datetime], min_gap_days: int
) -> None:
    """One patient may not hold two future appointments in a specialty less than N days apart."""
    if min_gap_days <= 0:
        return
    gap = timedelta(days=min_gap_days)
    for other in other_starts:
        if abs(other - starts_at) < gap:
            raise RuleViolation(
                f"you already have an appointment in this specialty less than {min_gap_days} days "
                "from this one",
                rule="anti_hoarding",
                field="starts_at",
            )


def check_patient_cutoff(*, starts_at: datetime, now: datetime, cutoff_minutes: int) -> None:
    if starts_at - now < timedelta(minutes=cutoff_minutes):
        hours = cutoff_minutes / 60
        raise RuleViolation(
            f"appointments cannot be changed online less than {hours:g} hours before they start; "
            "please call the practice",
            rule="cancellation_cutoff",
        )


def check_changeable(*, status: Status, starts_at: datetime, now: datetime, change: str) -> None:
    """Cancel and reschedule (``change``: "cancelled", "moved"): only a booked appointment that
    has not started."""
    if status is not Status.BOOKED:
        raise RuleViolation(f"only a booked appointment can be {change}", rule="not_booked")
    if starts_at <= now:
        raise RuleViolation("this appointment has already started", rule="in_the_past")


def check_markable(*, status: Status, starts_at: datetime, now: datetime) -> None:
    """Done or no-show: only a booked appointment that has started."""
    if status is not Status.BOOKED:
        raise RuleViolation("only a booked appointment can be marked", rule="not_booked")
    if starts_at > now:
        raise RuleViolation("this appointment has not started yet", rule="in_the_future")
