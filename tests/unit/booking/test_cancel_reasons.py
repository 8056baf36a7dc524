"""Which side gives which cancel reason (booking.rules.check_cancel_reason)."""

from __future__ import annotations

import pytest

from colloque.booking.rules import PRACTICE_ONLY_CANCEL_REASONS, CancelReason, check_cancel_reason
from colloque.errors import RuleViolation


@pytest.mark.parametrize("reason", list(CancelReason))
def test_the_practice_gives_any_reason(reason: CancelReason) -> None:
    check_cancel_reason(reason, by_practice=True)


@pytest.mark.parametrize("reason", list(CancelReason))
def test_a_patient_gives_only_a_patients_reason(reason: CancelReason) -> None:
    if reason in PRACTICE_ONLY_CANCEL_REASONS:
        with pytest.raises(RuleViolation) as caught:
            check_cancel_reason(reason, by_practice=False)
        assert (caught.value.rule, caught.value.field) == ("practice_only_reason", "reason")
    else:
        check_cancel_reason(reason, by_practice=False)


def test_the_practice_only_reasons() -> None:
    assert {
        CancelReason.PRACTICE_CLOSED,
        CancelReason.PRACTITIONER_UNAVAILABLE,
    } == PRACTICE_ONLY_CANCEL_REASONS
