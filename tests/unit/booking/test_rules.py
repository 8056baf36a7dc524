"""Pure booking rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from colloque.booking.rules import (
    SLOT_PROBLEM_MESSAGES,
    check_anti_hoarding,
    check_patient_cutoff,
    closest_slot_problem,
    fitting_visit_types,
    raise_for_slot_problem,
)
from colloque.errors import InvalidInput, RuleViolation, SlotTaken
from colloque.scheduling.domain import Busy, PatientKind, SlotProblem, VisitMode, VisitTypeInfo

NOON = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def test_every_slot_problem_has_a_message() -> None:
    assert set(SLOT_PROBLEM_MESSAGES) == set(SlotProblem)


@pytest.mark.parametrize("problem", [p for p in SlotProblem if p is not SlotProblem.TAKEN])
def test_slot_problems_become_rule_violations(problem: SlotProblem) -> None:
    with pytest.raises(RuleViolation) as caught:
        raise_for_slot_problem(problem)
    assert caught.value.rule == problem.value
    assert caught.value.field == "starts_at"


def test_taken_is_a_conflict() -> None:
    with pytest.raises(SlotTaken):
        raise_for_slot_problem(SlotProblem.TAKEN)
    raise_for_slot_problem(None)


@pytest.mark.parametrize("problem", [p for p in SlotProblem if p is not SlotProblem.CLOSED])
def test_a_confirmation_lifts_only_the_closed_hours(problem: SlotProblem) -> None:
    with pytest.raises((RuleViolation, SlotTaken)):
        raise_for_slot_problem(
            problem, outside_hours_confirmed=True, starts_at=NOON, blocked_until=NOON
        )


def test_a_forced_time_is_outside_the_hours_unless_another_appointment_is_there() -> None:
    until = NOON + timedelta(minutes=20)
    assert raise_for_slot_problem(
        SlotProblem.CLOSED, outside_hours_confirmed=True, starts_at=NOON, blocked_until=until
    )
    assert not raise_for_slot_problem(None, outside_hours_confirmed=True)
    before = Busy(start=NOON - timedelta(minutes=20), until=NOON)  # ends as this one starts
    assert raise_for_slot_problem(
        SlotProblem.CLOSED,
        outside_hours_confirmed=True,
        busy=[before],
        starts_at=NOON,
        blocked_until=until,
    )
    overlapping = Busy(start=NOON + timedelta(minutes=10), until=NOON + timedelta(minutes=30))
    with pytest.raises(SlotTaken):
        raise_for_slot_problem(
            SlotProblem.CLOSED,
            outside_hours_confirmed=True,
            busy=[before, overlapping],
            starts_at=NOON,
            blocked_until=until,
        )
    with pytest.raises(RuleViolation):
        raise_for_slot_problem(SlotProblem.CLOSED, starts_at=NOON, blocked_until=until)


def _type(
    minutes: int, kind: PatientKind = PatientKind.ANY, *, online: bool = True
) -> VisitTypeInfo:
    return VisitTypeInfo(
        visit_type_id=uuid4(),
        label=f"{minutes} min",
        duration_minutes=minutes,
        online_bookable=online,
        patient_kind=kind,
        mode=VisitMode.IN_PERSON,
    )


@pytest.mark.parametrize(
    ("kind", "known", "accepts", "by_practice", "rule"),
    [
        (PatientKind.NEW_ONLY, True, True, False, "new_patients_only"),
        (PatientKind.KNOWN_ONLY, False, True, False, "known_patients_only"),
        (PatientKind.KNOWN_ONLY, False, True, True, "known_patients_only"),
        (PatientKind.ANY, False, False, False, "not_accepting_new_patients"),
        (PatientKind.ANY, False, False, True, None),
        (PatientKind.ANY, True, False, False, None),
        (PatientKind.NEW_ONLY, False, True, False, None),
    ],
)
def test_patient_kind_of_a_single_candidate(
    kind: PatientKind, known: bool, accepts: bool, by_practice: bool, rule: str | None
) -> None:
    only = _type(20, kind)

    def fit() -> list[VisitTypeInfo]:
        return fitting_visit_types(
            [only, _type(30)],
            duration_minutes=20,
            is_known=known,
            accepts_new_patients=accepts,
            by_practice=by_practice,
        )

    if rule is None:
        assert fit() == [only]
        return
    with pytest.raises(RuleViolation) as caught:
        fit()
    assert caught.value.rule == rule


def test_fitting_keeps_every_type_of_that_length_that_fits() -> None:
    follow_up = _type(15, PatientKind.KNOWN_ONLY)
    video = _type(15)
    urgent = _type(15, online=False)
    types = [follow_up, video, urgent, _type(30, PatientKind.NEW_ONLY)]

    def fit(*, known: bool, by_practice: bool) -> list[VisitTypeInfo]:
        return fitting_visit_types(
            types,
            duration_minutes=15,
            is_known=known,
            accepts_new_patients=True,
            by_practice=by_practice,
        )

    assert fit(known=False, by_practice=False) == [video]
    assert fit(known=True, by_practice=False) == [follow_up, video]
    assert fit(known=False, by_practice=True) == [video, urgent]


def test_no_type_of_that_length() -> None:
    with pytest.raises(InvalidInput) as caught:
        fitting_visit_types(
            [_type(20)],
            duration_minutes=25,
            is_known=False,
            accepts_new_patients=True,
            by_practice=False,
        )
    assert caught.value.field == "duration_minutes"


def test_only_practice_booked_types_of_that_length() -> None:
    with pytest.raises(RuleViolation) as caught:
        fitting_visit_types(
            [_type(15, online=False)],
            duration_minutes=15,
            is_known=False,
            accepts_new_patients=True,
            by_practice=False,
        )
    assert caught.value.rule == "practice_only"


def test_closest_problem_is_the_one_that_passed_most_checks() -> None:
    offered, taken = SlotProblem.VISIT_TYPE_NOT_OFFERED, SlotProblem.TAKEN
    assert closest_slot_problem([offered, taken]) is taken
    assert closest_slot_problem([taken, offered]) is taken
    assert closest_slot_problem([offered, None]) is None
    with pytest.raises(ValueError, match="no candidate"):
        closest_slot_problem([])


def test_anti_hoarding_gap_is_strict() -> None:
    check_anti_hoarding(starts_at=NOON, other_starts=[NOON + timedelta(days=6)], min_gap_days=6)
    check_anti_hoarding(starts_at=NOON, other_starts=[NOON], min_gap_days=0)
    with pytest.raises(RuleViolation):
        check_anti_hoarding(
            starts_at=NOON, other_starts=[NOON - timedelta(days=5, hours=23)], min_gap_days=6
        )


def test_cutoff() -> None:
    check_patient_cutoff(starts_at=NOON, now=NOON - timedelta(hours=4), cutoff_minutes=240)
    with pytest.raises(RuleViolation, match="4 hours"):
        check_patient_cutoff(
            starts_at=NOON, now=NOON - timedelta(hours=3, minutes=59), cutoff_minutes=240
        )


def test_a_forced_time_without_its_start_and_end_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="start and end"):
        raise_for_slot_problem(SlotProblem.CLOSED, outside_hours_confirmed=True)
