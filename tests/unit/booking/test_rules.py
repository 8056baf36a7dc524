"""Pure booking rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from colloque.booking.rules import (
    SLOT_PROBLEM_MESSAGES,
    check_anti_hoarding,
    check_patient_cutoff,
    check_patient_kind,
    raise_for_slot_problem,
)
from colloque.errors import RuleViolation, SlotTaken
from colloque.scheduling.domain import PatientKind, SlotProblem

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
def test_patient_kind(
    kind: PatientKind, known: bool, accepts: bool, by_practice: bool, rule: str | None
) -> None:
    if rule is None:
        check_patient_kind(
            kind=kind, is_known=known, accepts_new_patients=accepts, by_practice=by_practice
        )
        return
    with pytest.raises(RuleViolation) as caught:
        check_patient_kind(
            kind=kind, is_known=known, accepts_new_patients=accepts, by_practice=by_practice
        )
    assert caught.value.rule == rule


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
