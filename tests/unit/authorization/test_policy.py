"""The one policy: every action for every kind of principal and target."""

from __future__ import annotations

import uuid
from types import MappingProxyType

import pytest

from colloque.audit.services import actor_role
from colloque.authorization.policy import (
    PATIENT_ACTIONS,
    PRACTICE_ROLES,
    Action,
    Allowed,
    Denied,
    PatientTarget,
    PracticeTarget,
    Reason,
    authorize,
    require,
)
from colloque.errors import Forbidden, NotFound, Unauthenticated
from colloque.principal import (
    ANONYMOUS,
    MEMBER_ROLES,
    Membership,
    Principal,
    Role,
)

ME = uuid.uuid4()
OTHER = uuid.uuid4()
PRACTICE = uuid.uuid4()
OTHER_PRACTICE = uuid.uuid4()


def member(role: Role) -> Principal:
    """A member of PRACTICE; for the operator role, an operator account holding a grant there."""
    return Principal(
        account_id=ME,
        memberships=MappingProxyType({PRACTICE: Membership(role=role)}),
        is_operator=role is Role.OPERATOR,
    )


def test_every_action_is_classified() -> None:
    others = {Action.PERSON_KEYS_VIEW, Action.PLATFORM_ACCOUNT_DISABLE}
    assert set(Action) == PATIENT_ACTIONS | set(PRACTICE_ROLES) | others


@pytest.mark.parametrize("action", sorted(PATIENT_ACTIONS))
def test_patient_actions(action: Action) -> None:
    me = Principal(account_id=ME)
    assert authorize(me, action, PatientTarget(ME)) == Allowed()
    assert authorize(me, action, PatientTarget(OTHER)) == Denied(Reason.NOT_HOLDER)
    assert authorize(me, action, PatientTarget(None)) == Denied(Reason.NOT_HOLDER)
    assert authorize(me, action, PracticeTarget(PRACTICE)) == Denied(Reason.WRONG_TARGET)
    assert authorize(ANONYMOUS, action, PatientTarget(ME)) == Denied(Reason.ANONYMOUS)


@pytest.mark.parametrize("action", sorted(PRACTICE_ROLES))
@pytest.mark.parametrize("role", list(Role))
def test_practice_actions(action: Action, role: Role) -> None:
    principal = member(role)
    expected = Allowed() if role in PRACTICE_ROLES[action] else Denied(Reason.ROLE_TOO_LOW)
    assert authorize(principal, action, PracticeTarget(PRACTICE)) == expected
    assert authorize(principal, action, PracticeTarget(OTHER_PRACTICE)) == Denied(Reason.NOT_MEMBER)
    assert authorize(principal, action, PatientTarget(ME)) == Denied(Reason.WRONG_TARGET)


def test_operators_only_read_and_only_with_a_grant() -> None:
    granted = member(Role.OPERATOR)
    allowed = {a for a in PRACTICE_ROLES if authorize(granted, a, PracticeTarget(PRACTICE))}
    assert allowed == {Action.PRACTICE_AGENDA_VIEW}
    without_grant = Principal(account_id=ME, is_operator=True)
    decision = authorize(without_grant, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(PRACTICE))
    assert decision == Denied(Reason.NOT_MEMBER)


def test_an_operator_role_counts_only_for_operator_accounts() -> None:
    impostor = Principal(
        account_id=ME, memberships=MappingProxyType({PRACTICE: Membership(role=Role.OPERATOR)})
    )
    decision = authorize(impostor, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(PRACTICE))
    assert decision == Denied(Reason.NOT_OPERATOR)
    with pytest.raises(NotFound, match="practice not found"):
        require(impostor, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(PRACTICE), what="practice")


def test_member_roles_exclude_the_operator() -> None:
    assert set(Role) - MEMBER_ROLES == {Role.OPERATOR}


def test_members_without_mfa_are_denied_practice_actions() -> None:
    principal = Principal(
        account_id=ME,
        memberships=MappingProxyType({PRACTICE: Membership(role=Role.ADMIN)}),
        mfa_satisfied=False,
    )
    decision = authorize(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(PRACTICE))
    assert decision == Denied(Reason.MFA_REQUIRED)
    with pytest.raises(Forbidden, match="two-factor"):
        require(principal, Action.PRACTICE_AGENDA_VIEW, PracticeTarget(PRACTICE), what="practice")


def test_decisions_are_truthy_only_when_allowed() -> None:
    assert Allowed()
    assert not Denied(Reason.NOT_MEMBER)


def test_require_maps_denials() -> None:
    require(
        member(Role.ADMIN),
        Action.PRACTICE_SETTINGS_MANAGE,
        PracticeTarget(PRACTICE),
        what="practice",
    )
    with pytest.raises(Unauthenticated):
        require(ANONYMOUS, Action.PATIENT_APPOINTMENT_VIEW, PatientTarget(ME), what="appointment")
    with pytest.raises(Forbidden):
        require(
            member(Role.SECRETARY),
            Action.PRACTICE_SETTINGS_MANAGE,
            PracticeTarget(PRACTICE),
            what="practice",
        )
    with pytest.raises(NotFound, match="appointment not found") as caught:
        require(
            member(Role.ADMIN),
            Action.PRACTICE_AGENDA_VIEW,
            PracticeTarget(OTHER_PRACTICE),
            what="appointment",
        )
    assert caught.value.field is None


def test_require_names_the_field_like_the_missing_case() -> None:
    """A caller that says "patient not found" on patient_id for a missing patient says the same
    for somebody else's: the two answers must not differ by a single byte."""
    with pytest.raises(NotFound) as caught:
        require(
            Principal(account_id=ME),
            Action.PATIENT_APPOINTMENT_BOOK,
            PatientTarget(OTHER),
            what="patient",
            field="patient_id",
        )
    assert (caught.value.detail, caught.value.field) == ("patient not found", "patient_id")


def test_principal_helpers() -> None:
    assert not ANONYMOUS.is_authenticated
    assert member(Role.ADMIN).role_in(PRACTICE) is Role.ADMIN
    assert member(Role.ADMIN).role_in(OTHER_PRACTICE) is None


def test_actor_role_for_audit() -> None:
    assert actor_role(ANONYMOUS, PRACTICE) == "anonymous"
    assert actor_role(member(Role.SECRETARY), PRACTICE) == "secretary"
    assert actor_role(member(Role.SECRETARY), OTHER_PRACTICE) == "patient"
    assert actor_role(Principal(account_id=ME), None) == "patient"
    assert actor_role(Principal(account_id=ME, is_operator=True), None) == "operator"
    assert actor_role(member(Role.OPERATOR), PRACTICE) == "operator"
