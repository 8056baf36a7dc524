"""The one policy, against a table written out by hand.

Nothing here is computed from ``PRACTICE_ROLES`` or ``PATIENT_ACTIONS``: each cell is the answer
docs/authorization.md promises, typed in. A wrong entry in the policy's role table, or a new
action nobody wrote a row for, fails this test.
"""

from __future__ import annotations

import uuid
from types import MappingProxyType

import pytest

from colloque.audit.services import actor_role
from colloque.authorization.policy import (
    PLATFORM,
    AccountTarget,
    Action,
    AgendaTarget,
    Allowed,
    Denied,
    PatientTarget,
    PersonTarget,
    PracticeTarget,
    Reason,
    Target,
    authorize,
    hides_target,
    may_reset_keys_by_mail_alone,
    reachable_holder,
    require,
)
from colloque.errors import ColloqueError, Forbidden, NotFound, Unauthenticated
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
#: The practitioner whose agenda the "practitioner" principal is (their membership's link).
MY_AGENDA = uuid.uuid4()
COLLEAGUE = uuid.uuid4()


def _member(
    role: Role,
    *,
    practice: uuid.UUID = PRACTICE,
    practitioner_id: uuid.UUID | None = None,
    is_operator: bool = False,
    mfa_satisfied: bool = True,
) -> Principal:
    return Principal(
        account_id=ME,
        memberships=MappingProxyType(
            {practice: Membership(role=role, practitioner_id=practitioner_id)}
        ),
        is_operator=is_operator,
        mfa_satisfied=mfa_satisfied,
    )


#: Who acts. Operators hold ``Role.OPERATOR`` in a practice only while a grant is active
#: (``accounts.grants.active_grants``); an impostor is an account that is no operator
#: but whose principal claims that role.
PRINCIPALS: dict[str, Principal] = {
    "practitioner": _member(Role.PRACTITIONER, practitioner_id=MY_AGENDA),
    "secretary": _member(Role.SECRETARY),
    "admin": _member(Role.ADMIN),
    "operator+grant": _member(Role.OPERATOR, is_operator=True),
    "operator": Principal(account_id=ME, is_operator=True),
    "elsewhere": _member(Role.ADMIN, practice=OTHER_PRACTICE),
    "stranger": Principal(account_id=ME),
    "no-mfa": _member(Role.ADMIN, mfa_satisfied=False),
    "impostor": _member(Role.OPERATOR),
    "anonymous": ANONYMOUS,
}

OK = "ok"
LOW = Reason.ROLE_TOO_LOW
OUT = Reason.NOT_MEMBER
MFA = Reason.MFA_REQUIRED
FAKE = Reason.NOT_OPERATOR
ANON = Reason.ANONYMOUS
NOT_HOLDER = Reason.NOT_HOLDER
WRONG = Reason.WRONG_TARGET
UNRELATED = Reason.UNRELATED
NOT_OWN = Reason.NOT_OWN_AGENDA
NOT_SELF = Reason.NOT_SELF

# fmt: off
#: Practice actions on PracticeTarget(PRACTICE). "elsewhere" is an admin of another practice;
#: "stranger" a signed-in account with no role here; "no-mfa" an admin without two-factor.
PRACTICE_COLUMNS = (
    "practitioner", "secretary", "admin", "operator+grant", "operator",
    "elsewhere", "stranger", "no-mfa", "impostor", "anonymous",
)
PRACTICE_TABLE: dict[Action, tuple[str, ...]] = {
    #                                   prac sec  admin op+g op   elsw strg nmfa imp   anon
    Action.PRACTICE_AGENDA_VIEW:        (OK,  OK,  OK,  OK,  OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_APPOINTMENT_BOOK:   (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_APPOINTMENT_CHANGE: (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_APPOINTMENT_MARK:   (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_AGENDA_MANAGE:      (LOW, OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_SETTINGS_MANAGE:    (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_OUTBOX_VIEW:        (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_OUTBOX_MANAGE:      (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_AUDIT_VIEW:         (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_OPERATOR_ACCESS_MANAGE:
                                        (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_KEYS_VIEW:          (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_KEYS_MANAGE:        (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_MEMBER_REMOVE:      (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_MEMBER_CHANGE:      (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_MEMBER_SESSIONS_MANAGE:
                                        (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_MEMBERSHIP_ATTEST:  (LOW, LOW, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_CLINICAL_KEYS_VIEW: (OK,  LOW, LOW, LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_CLINICAL_KEYS_MANAGE: (OK, LOW, LOW, LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_CLINICAL_HOLDERS_VIEW:
                                        (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_CLINICAL_WRITE:     (OK,  LOW, LOW, LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_CLINICAL_READ:      (OK,  LOW, LOW, LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_MESSAGE_SEND:       (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_MESSAGE_READ:       (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_ITEM_KEY_REWRAP:    (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_ITEM_KEY_RESHARE:   (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
    Action.PRACTICE_SEALED_WRAPS_READ:  (OK,  OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
}

#: Actions on one practitioner's agenda, by target: "mine" is the "practitioner" principal's own
#: agenda, "colleague's" another practitioner's of the same practice, "elsewhere" an agenda of
#: OTHER_PRACTICE, "practice" the practice as a whole (not what these actions act on).
AGENDA_TARGETS: dict[str, Target] = {
    "mine": AgendaTarget(PRACTICE, MY_AGENDA),
    "colleague's": AgendaTarget(PRACTICE, COLLEAGUE),
    "elsewhere": AgendaTarget(OTHER_PRACTICE, MY_AGENDA),
    "practice": PracticeTarget(PRACTICE),
}
AGENDA_TABLE: dict[Action, dict[str, tuple[str, ...]]] = {
    Action.PRACTICE_TIME_OFF_MANAGE: {
        #              prac     sec  admin op+g op   elsw strg nmfa imp   anon
        "mine":        (OK,     OK,  OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
        "colleague's": (NOT_OWN, OK, OK,  LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
        "elsewhere":   (OUT,    OUT, OUT, OUT, OUT, OK,  OUT, OUT, OUT,  ANON),
        "practice":    (WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, ANON),
    },
    Action.PRACTICE_AGENDA_BRING: {
        #              prac     sec  admin op+g op   elsw strg nmfa imp   anon
        "mine":        (OK,     LOW, LOW, LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
        "colleague's": (NOT_OWN, LOW, LOW, LOW, OUT, OUT, OUT, MFA, FAKE, ANON),
        "elsewhere":   (OUT,    OUT, OUT, OUT, OUT, LOW, OUT, OUT, OUT,  ANON),
        "practice":    (WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, WRONG, ANON),
    },
}

#: Patient actions, by target. "mine" is a patient ME manages: ME's own record or a relative's
#: (both carry ME as holder); "theirs" a patient OTHER manages; "unheld" a patient a practice
#: registered, with no account; "practice" a practice target (not what these actions act on).
PATIENT_TARGETS: dict[str, Target] = {
    "mine": PatientTarget(ME),
    "theirs": PatientTarget(OTHER),
    "unheld": PatientTarget(None),
    "practice": PracticeTarget(PRACTICE),
}
PATIENT_COLUMNS = ("mine", "theirs", "unheld", "practice")
#: The same answer for every signed-in principal, member or not: practice roles never reach a
#: patient's things. Anonymous is always "anonymous".
PATIENT_TABLE: dict[Action, tuple[str, ...]] = {
    #                                   mine theirs      unheld      practice
    Action.PATIENT_APPOINTMENT_BOOK:   (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_APPOINTMENT_VIEW:   (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_APPOINTMENT_CHANGE: (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_RELATIVE_MANAGE:    (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_WAITLIST_MANAGE:    (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_RECORDS_VIEW:       (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_MESSAGE_SEND:       (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_DOCUMENT_SHARE:     (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
    Action.PATIENT_ACCESS_HISTORY_VIEW: (OK,  NOT_HOLDER, NOT_HOLDER, WRONG),
}

#: Another person's keys, by target: "self" ME's own; "dealt" OTHER, who deals with ME (the
#: service found a shared practice or a registered patient); "unrelated" OTHER, who does not;
#: "practice" a practice target. The same for every signed-in principal, whatever their roles.
PERSON_TARGETS: dict[str, Target] = {
    "self": PersonTarget(ME, deals_with_principal=False),
    "dealt": PersonTarget(OTHER, deals_with_principal=True),
    "unrelated": PersonTarget(OTHER, deals_with_principal=False),
    "practice": PracticeTarget(PRACTICE),
}
PERSON_KEYS_ROW = {"self": OK, "dealt": OK, "unrelated": UNRELATED, "practice": WRONG}

#: An account's own things (its notification inbox), by target: "self" ME's, "other" OTHER's,
#: "practice" a practice target. No role reaches another account's inbox: not an admin, not an
#: operator with a grant.
ACCOUNT_TARGETS: dict[str, Target] = {
    "self": AccountTarget(ME),
    "other": AccountTarget(OTHER),
    "practice": PracticeTarget(PRACTICE),
}
ACCOUNT_NOTIFICATIONS_ROW = {"self": OK, "other": NOT_SELF, "practice": WRONG}

#: Disabling an account, on the platform, by principal: operators only, with or without a grant.
PLATFORM_DISABLE_ROW = {
    "practitioner": FAKE, "secretary": FAKE, "admin": FAKE, "operator+grant": OK, "operator": OK,
    "elsewhere": FAKE, "stranger": FAKE, "no-mfa": FAKE, "impostor": FAKE, "anonymous": ANON,
}
# fmt: on

#: What ``require`` raises for each denial (docs/authorization.md, "The decision").
RAISES: dict[str, type[ColloqueError] | None] = {
    OK: None,
    ANON: Unauthenticated,
    LOW: Forbidden,
    MFA: Forbidden,
    OUT: NotFound,
    FAKE: NotFound,
    NOT_HOLDER: NotFound,
    WRONG: NotFound,
    UNRELATED: NotFound,
    NOT_OWN: Forbidden,
    NOT_SELF: NotFound,
}


def _expected(cell: str) -> Allowed | Denied:
    return Allowed() if cell == OK else Denied(Reason(cell))


def _check(principal: Principal, action: Action, target: Target, cell: str) -> None:
    decision = authorize(principal, action, target)
    assert decision == _expected(cell)
    error = RAISES[cell]
    # A lookup may filter by owner exactly where require answers with a 404.
    assert hides_target(decision) == (error is NotFound)
    if error is None:
        require(principal, action, target, what="thing", field="thing_id")
        return
    with pytest.raises(error) as caught:
        require(principal, action, target, what="thing", field="thing_id")
    assert type(caught.value) is error
    if error is NotFound:
        # Not yours looks exactly like not there: the caller's own words and field.
        assert (caught.value.detail, caught.value.field) == ("thing not found", "thing_id")


def test_every_action_has_a_row_written_by_hand() -> None:
    assert set(PRACTICE_TABLE).isdisjoint(PATIENT_TABLE)
    others = {
        Action.PERSON_KEYS_VIEW,
        Action.PLATFORM_ACCOUNT_DISABLE,
        Action.ACCOUNT_NOTIFICATIONS_VIEW,
    }
    assert set(PRACTICE_TABLE).isdisjoint(AGENDA_TABLE)
    assert set(PRACTICE_TABLE) | set(PATIENT_TABLE) | set(AGENDA_TABLE) | others == set(Action)
    assert all(set(rows) == set(AGENDA_TARGETS) for rows in AGENDA_TABLE.values())
    assert all(len(row) == len(PRACTICE_COLUMNS) for row in PRACTICE_TABLE.values())
    assert all(len(row) == len(PATIENT_COLUMNS) for row in PATIENT_TABLE.values())
    assert set(PRACTICE_COLUMNS) == set(PRINCIPALS)


@pytest.mark.parametrize("action", list(PRACTICE_TABLE))
@pytest.mark.parametrize("who", PRACTICE_COLUMNS)
def test_practice_actions(action: Action, who: str) -> None:
    cell = PRACTICE_TABLE[action][PRACTICE_COLUMNS.index(who)]
    _check(PRINCIPALS[who], action, PracticeTarget(PRACTICE), cell)


@pytest.mark.parametrize("action", list(PRACTICE_TABLE))
@pytest.mark.parametrize("who", PRACTICE_COLUMNS)
def test_practice_actions_elsewhere_and_on_patients(action: Action, who: str) -> None:
    """Every role stops at its practice's door, and a practice action never acts on a patient."""
    principal = PRINCIPALS[who]
    other_practice: str
    patient: str
    if who == "anonymous":
        other_practice, patient = ANON, ANON
    elif who == "elsewhere":  # an admin of OTHER_PRACTICE, at home there: as an admin here
        other_practice, patient = PRACTICE_TABLE[action][PRACTICE_COLUMNS.index("admin")], WRONG
    else:
        other_practice, patient = OUT, WRONG
    _check(principal, action, PracticeTarget(OTHER_PRACTICE), other_practice)
    _check(principal, action, PatientTarget(ME), patient)


@pytest.mark.parametrize("action", list(AGENDA_TABLE))
@pytest.mark.parametrize("target", list(AGENDA_TARGETS))
@pytest.mark.parametrize("who", PRACTICE_COLUMNS)
def test_agenda_actions(action: Action, target: str, who: str) -> None:
    """A practitioner changes their own agenda's time off, never a colleague's."""
    cell = AGENDA_TABLE[action][target][PRACTICE_COLUMNS.index(who)]
    _check(PRINCIPALS[who], action, AGENDA_TARGETS[target], cell)


@pytest.mark.parametrize("action", list(PRACTICE_TABLE))
def test_practice_actions_are_not_about_one_agenda(action: Action) -> None:
    """The agenda's managers act on the practice: an agenda target is the wrong one for them."""
    _check(PRINCIPALS["admin"], action, AgendaTarget(PRACTICE, MY_AGENDA), WRONG)


@pytest.mark.parametrize("action", list(PATIENT_TABLE))
@pytest.mark.parametrize("target", PATIENT_COLUMNS)
@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_patient_actions(action: Action, target: str, who: str) -> None:
    principal = PRINCIPALS[who]
    cell = ANON if who == "anonymous" else PATIENT_TABLE[action][PATIENT_COLUMNS.index(target)]
    _check(principal, action, PATIENT_TARGETS[target], cell)


@pytest.mark.parametrize("action", list(PATIENT_TABLE))
@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_a_lookup_filtered_by_the_reachable_holder_finds_what_is_allowed(
    action: Action, who: str
) -> None:
    """The holder a lookup puts in its WHERE is the one ``authorize`` allows: any other holder,
    or none, is a denial that ``require`` answers with the 404 of a missing object."""
    principal = PRINCIPALS[who]
    if principal.account_id is None:
        with pytest.raises(Unauthenticated):
            reachable_holder(principal, action)
        return
    holder = reachable_holder(principal, action)
    assert authorize(principal, action, PatientTarget(holder)) == Allowed()
    for other in (OTHER, None):
        assert hides_target(authorize(principal, action, PatientTarget(other)))


@pytest.mark.parametrize("action", [*PRACTICE_TABLE, *AGENDA_TABLE])
def test_only_patient_actions_have_a_reachable_holder(action: Action) -> None:
    with pytest.raises(ValueError, match="no patient action"):
        reachable_holder(PRINCIPALS["admin"], action)


@pytest.mark.parametrize("target", list(PERSON_TARGETS))
@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_person_keys(target: str, who: str) -> None:
    cell = ANON if who == "anonymous" else PERSON_KEYS_ROW[target]
    _check(PRINCIPALS[who], Action.PERSON_KEYS_VIEW, PERSON_TARGETS[target], cell)


@pytest.mark.parametrize("target", list(ACCOUNT_TARGETS))
@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_account_notifications(target: str, who: str) -> None:
    cell = ANON if who == "anonymous" else ACCOUNT_NOTIFICATIONS_ROW[target]
    _check(PRINCIPALS[who], Action.ACCOUNT_NOTIFICATIONS_VIEW, ACCOUNT_TARGETS[target], cell)


@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_disabling_accounts(who: str) -> None:
    _check(PRINCIPALS[who], Action.PLATFORM_ACCOUNT_DISABLE, PLATFORM, PLATFORM_DISABLE_ROW[who])
    if who != "anonymous":
        _check(PRINCIPALS[who], Action.PLATFORM_ACCOUNT_DISABLE, PracticeTarget(PRACTICE), WRONG)


@pytest.mark.parametrize(
    ("practice_member", "operator", "allowed"),
    [(False, False, True), (True, False, False), (False, True, False), (True, True, False)],
)
def test_key_reset_by_mail_alone(practice_member: bool, operator: bool, allowed: bool) -> None:
    decision = may_reset_keys_by_mail_alone(practice_member=practice_member, operator=operator)
    assert decision == (Allowed() if allowed else Denied(Reason.MFA_REQUIRED))


def test_a_relative_is_reached_through_the_holder_only() -> None:
    """A relative has no account of their own: their things carry the holder's account."""
    holder = Principal(account_id=ME)
    relative_of_mine = PatientTarget(holder_account_id=ME)
    relative_of_theirs = PatientTarget(holder_account_id=OTHER)
    assert authorize(holder, Action.PATIENT_APPOINTMENT_BOOK, relative_of_mine) == Allowed()
    assert authorize(holder, Action.PATIENT_APPOINTMENT_BOOK, relative_of_theirs) == Denied(
        Reason.NOT_HOLDER
    )
    other = Principal(account_id=OTHER)
    assert authorize(other, Action.PATIENT_RELATIVE_MANAGE, relative_of_mine) == Denied(
        Reason.NOT_HOLDER
    )


def test_a_real_membership_is_what_counts_for_an_operator() -> None:
    """An operator account that is also a real member acts with its member role."""
    staff = _member(Role.SECRETARY, is_operator=True)
    assert authorize(staff, Action.PRACTICE_AGENDA_MANAGE, PracticeTarget(PRACTICE)) == Allowed()
    assert authorize(staff, Action.PRACTICE_SETTINGS_MANAGE, PracticeTarget(PRACTICE)) == Denied(
        Reason.ROLE_TOO_LOW
    )


def test_decisions_are_truthy_only_when_allowed() -> None:
    assert Allowed()
    assert not Denied(Reason.NOT_MEMBER)


def test_require_messages() -> None:
    with pytest.raises(Forbidden, match="two-factor"):
        require(
            PRINCIPALS["no-mfa"], Action.PRACTICE_AGENDA_VIEW, PracticeTarget(PRACTICE), what="x"
        )
    with pytest.raises(Forbidden, match="your role in this practice does not allow this"):
        require(
            PRINCIPALS["secretary"],
            Action.PRACTICE_SETTINGS_MANAGE,
            PracticeTarget(PRACTICE),
            what="x",
        )
    with pytest.raises(Forbidden, match="only their own agenda"):
        require(
            PRINCIPALS["practitioner"],
            Action.PRACTICE_TIME_OFF_MANAGE,
            AgendaTarget(PRACTICE, COLLEAGUE),
            what="x",
        )
    with pytest.raises(NotFound) as caught:
        require(
            PRINCIPALS["stranger"],
            Action.PRACTICE_AGENDA_VIEW,
            PracticeTarget(PRACTICE),
            what="practice",
        )
    assert (caught.value.detail, caught.value.field) == ("practice not found", None)


def test_member_roles_exclude_the_operator() -> None:
    assert {Role.PRACTITIONER, Role.SECRETARY, Role.ADMIN} == MEMBER_ROLES


def test_principal_helpers() -> None:
    assert not ANONYMOUS.is_authenticated
    assert PRINCIPALS["stranger"].is_authenticated
    assert PRINCIPALS["admin"].role_in(PRACTICE) is Role.ADMIN
    assert PRINCIPALS["admin"].role_in(OTHER_PRACTICE) is None


def test_actor_role_for_audit() -> None:
    assert actor_role(ANONYMOUS, PRACTICE) == "anonymous"
    assert actor_role(PRINCIPALS["secretary"], PRACTICE) == "secretary"
    assert actor_role(PRINCIPALS["secretary"], OTHER_PRACTICE) == "patient"
    assert actor_role(PRINCIPALS["stranger"], None) == "patient"
    assert actor_role(PRINCIPALS["operator"], None) == "operator"
    assert actor_role(PRINCIPALS["operator+grant"], PRACTICE) == "operator"
