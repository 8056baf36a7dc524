"""The single place where access decisions are made.

Services call :func:`authorize` (or :func:`require`) with the principal, the action and the
object. A denial carries a reason for the audit log; callers turn "not yours" into the same
404 as "does not exist" so that probing reveals nothing. docs/authorization.md has the roles,
the decision order and the reasons.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

from colloque.errors import Forbidden, NotFound, Unauthenticated
from colloque.principal import Principal, Role


class Action(enum.StrEnum):
    """``scope:resource:action``. A misspelt action is a type error, not a silent hole."""

    PATIENT_APPOINTMENT_BOOK = "patient:appointment:book"
    PATIENT_APPOINTMENT_VIEW = "patient:appointment:view"
    PATIENT_APPOINTMENT_CHANGE = "patient:appointment:change"
    PATIENT_RELATIVE_MANAGE = "patient:relative:manage"
    PATIENT_WAITLIST_MANAGE = "patient:waitlist:manage"
    PRACTICE_AGENDA_VIEW = "practice:agenda:view"
    PRACTICE_APPOINTMENT_BOOK = "practice:appointment:book"
    PRACTICE_APPOINTMENT_CHANGE = "practice:appointment:change"
    PRACTICE_APPOINTMENT_MARK = "practice:appointment:mark"
    PRACTICE_AGENDA_MANAGE = "practice:agenda:manage"
    #: Time off (absences and holidays) of one practitioner's agenda: the agenda's managers, and
    #: a practitioner for their own agenda only (an :class:`AgendaTarget`).
    PRACTICE_TIME_OFF_MANAGE = "practice:time_off:manage"
    #: Take one's own agenda to another practice (an invitation for somebody who practises
    #: elsewhere): the practitioner of that agenda only, at a practice where they hold it. Their
    #: time there then counts against their time here (the busy ledger).
    PRACTICE_AGENDA_BRING = "practice:agenda:bring"
    PRACTICE_SETTINGS_MANAGE = "practice:settings:manage"
    PRACTICE_OPERATOR_ACCESS_MANAGE = "practice:operator_access:manage"
    #: The practice's messages that could not be sent (ids, templates and error categories).
    PRACTICE_OUTBOX_VIEW = "practice:outbox:view"
    #: Release or discard the messages the mass-change breaker holds (docs/notifications.md).
    PRACTICE_OUTBOX_MANAGE = "practice:outbox:manage"
    #: The practice's audit log: who among its members (and granted operators) did what.
    PRACTICE_AUDIT_VIEW = "practice:audit:view"
    # Practice key groups (colloque.practicekeys): staff hold the group key; admins remove members.
    PRACTICE_KEYS_VIEW = "practice:keys:view"
    PRACTICE_KEYS_MANAGE = "practice:keys:manage"
    PRACTICE_MEMBER_REMOVE = "practice:member:remove"
    #: Give a member another role (signed, in a practice with a membership chain): admins.
    PRACTICE_MEMBER_CHANGE = "practice:member:change"
    #: See and end a member's sessions (a lost phone, a token that leaked): admins.
    PRACTICE_MEMBER_SESSIONS_MANAGE = "practice:member_sessions:manage"
    #: Sign who holds which role in the group (docs/crypto.md 5.12): admins, as removal is.
    PRACTICE_MEMBERSHIP_ATTEST = "practice:membership:attest"
    #: The practitioners' key group, which notes are sealed to: practitioners only hold its key.
    PRACTICE_CLINICAL_KEYS_VIEW = "practice:clinical_keys:view"
    PRACTICE_CLINICAL_KEYS_MANAGE = "practice:clinical_keys:manage"
    #: Which practitioners hold its current key: one flag each, no key, no wrap (the members page).
    PRACTICE_CLINICAL_HOLDERS_VIEW = "practice:clinical_holders:view"
    # Sealed records: notes, messages, documents and their key wraps (docs/authorization.md)
    PATIENT_RECORDS_VIEW = "patient:records:view"
    PATIENT_MESSAGE_SEND = "patient:message:send"
    #: A document the holder shares with a practice (a prescription, an earlier report).
    PATIENT_DOCUMENT_SHARE = "patient:document:share"
    #: Who accessed a patient's records (the audit log, read by patient): their holder only.
    PATIENT_ACCESS_HISTORY_VIEW = "patient:access_history:view"
    PRACTICE_CLINICAL_WRITE = "practice:clinical_record:write"
    PRACTICE_CLINICAL_READ = "practice:clinical_record:read"
    PRACTICE_MESSAGE_SEND = "practice:message:send"
    PRACTICE_MESSAGE_READ = "practice:message:read"
    PRACTICE_ITEM_KEY_REWRAP = "practice:item_key:rewrap"
    PRACTICE_ITEM_KEY_RESHARE = "practice:item_key:reshare"
    #: Items sealed to the practice's group key (the visit reasons in an agenda): its key
    #: holders, never an operator reading the agenda under a grant.
    PRACTICE_SEALED_WRAPS_READ = "practice:sealed_wraps:read"
    # A person's published keys (the key directory): themselves and those who deal with them.
    PERSON_KEYS_VIEW = "person:keys:view"
    #: An account's notification inbox: what was sent to it, under which reference.
    ACCOUNT_NOTIFICATIONS_VIEW = "account:notifications:view"
    # The platform's own operators.
    PLATFORM_ACCOUNT_DISABLE = "platform:account:disable"


_STAFF = frozenset({Role.PRACTITIONER, Role.SECRETARY, Role.ADMIN})

PRACTICE_ROLES: dict[Action, frozenset[Role]] = {
    # An operator with an active grant reads the agenda and its appointments; nothing else.
    Action.PRACTICE_AGENDA_VIEW: _STAFF | {Role.OPERATOR},
    Action.PRACTICE_APPOINTMENT_BOOK: _STAFF,
    Action.PRACTICE_APPOINTMENT_CHANGE: _STAFF,
    Action.PRACTICE_APPOINTMENT_MARK: _STAFF,
    Action.PRACTICE_AGENDA_MANAGE: frozenset({Role.SECRETARY, Role.ADMIN}),
    Action.PRACTICE_TIME_OFF_MANAGE: _STAFF,
    Action.PRACTICE_AGENDA_BRING: frozenset({Role.PRACTITIONER}),
    Action.PRACTICE_SETTINGS_MANAGE: frozenset({Role.ADMIN}),
    Action.PRACTICE_OPERATOR_ACCESS_MANAGE: frozenset({Role.ADMIN}),
    Action.PRACTICE_OUTBOX_VIEW: frozenset({Role.ADMIN}),
    Action.PRACTICE_OUTBOX_MANAGE: frozenset({Role.ADMIN}),
    Action.PRACTICE_AUDIT_VIEW: frozenset({Role.ADMIN}),
    # Operators never hold a practice's group key, grant or not.
    Action.PRACTICE_KEYS_VIEW: _STAFF,
    Action.PRACTICE_KEYS_MANAGE: frozenset({Role.ADMIN}),
    Action.PRACTICE_MEMBER_REMOVE: frozenset({Role.ADMIN}),
    Action.PRACTICE_MEMBER_CHANGE: frozenset({Role.ADMIN}),
    Action.PRACTICE_MEMBER_SESSIONS_MANAGE: frozenset({Role.ADMIN}),
    Action.PRACTICE_MEMBERSHIP_ATTEST: frozenset({Role.ADMIN}),
    # The key that opens notes is born on a practitioner's device and wrapped for practitioners
    # only: an admin or a secretary never holds it, an operator neither.
    Action.PRACTICE_CLINICAL_KEYS_VIEW: frozenset({Role.PRACTITIONER}),
    Action.PRACTICE_CLINICAL_KEYS_MANAGE: frozenset({Role.PRACTITIONER}),
    # Who holds it is no secret from the staff (the signed chain names the practitioners, the
    # epoch's statement whom it was wrapped for): the members page shows it to everyone there.
    Action.PRACTICE_CLINICAL_HOLDERS_VIEW: _STAFF,
    # Sealed records. Notes and documents are clinical: practitioners only. Notes are sealed to
    # the practitioners' group, so no other member's key opens them; documents are sealed to the
    # practice group, so for them this is the server's refusal alone.
    Action.PRACTICE_CLINICAL_WRITE: frozenset({Role.PRACTITIONER}),
    Action.PRACTICE_CLINICAL_READ: frozenset({Role.PRACTITIONER}),
    Action.PRACTICE_MESSAGE_SEND: _STAFF,
    Action.PRACTICE_MESSAGE_READ: _STAFF,
    Action.PRACTICE_ITEM_KEY_REWRAP: _STAFF,
    Action.PRACTICE_ITEM_KEY_RESHARE: _STAFF,
    Action.PRACTICE_SEALED_WRAPS_READ: _STAFF,
}

#: Practice actions on one practitioner's agenda (an :class:`AgendaTarget`): a practitioner
#: among their roles acts on their own agenda only.
OWN_AGENDA_ACTIONS = frozenset({Action.PRACTICE_TIME_OFF_MANAGE, Action.PRACTICE_AGENDA_BRING})

PATIENT_ACTIONS = frozenset(
    {
        Action.PATIENT_APPOINTMENT_BOOK,
        Action.PATIENT_APPOINTMENT_VIEW,
        Action.PATIENT_APPOINTMENT_CHANGE,
        Action.PATIENT_RELATIVE_MANAGE,
        Action.PATIENT_WAITLIST_MANAGE,
        Action.PATIENT_RECORDS_VIEW,
        Action.PATIENT_MESSAGE_SEND,
        Action.PATIENT_DOCUMENT_SHARE,
        Action.PATIENT_ACCESS_HISTORY_VIEW,
    }
)


@dataclass(frozen=True, slots=True)
class PatientTarget:
    """Something that belongs to a patient: the account that manages that patient decides."""

    holder_account_id: UUID | None


@dataclass(frozen=True, slots=True)
class PracticeTarget:
    practice_id: UUID


@dataclass(frozen=True, slots=True)
class AgendaTarget:
    """One practitioner's agenda in a practice: for the actions a practitioner may take on their
    own agenda (their membership's ``practitioner_id``) and never on a colleague's."""

    practice_id: UUID
    practitioner_id: UUID


@dataclass(frozen=True, slots=True)
class PersonTarget:
    """Another account, with the facts the service read about how the principal deals with it:
    a co-member of a practice, a patient registered where the principal works, or a member of a
    practice where the principal's patient is registered."""

    account_id: UUID
    deals_with_principal: bool


@dataclass(frozen=True, slots=True)
class AccountTarget:
    """Something that belongs to one account and to no one else (its notification inbox)."""

    account_id: UUID | None


@dataclass(frozen=True, slots=True)
class PlatformTarget:
    """The platform itself: accounts across practices, which only operators act on."""


PLATFORM = PlatformTarget()

Target = (
    PatientTarget | PracticeTarget | AgendaTarget | PersonTarget | AccountTarget | PlatformTarget
)


class Reason(enum.StrEnum):
    ANONYMOUS = "anonymous"
    NOT_HOLDER = "not_holder"
    NOT_MEMBER = "not_member"
    #: An operator role in the principal's memberships, but the account is no operator.
    NOT_OPERATOR = "not_operator"
    #: Another person's keys, and the principal has no dealings with them.
    UNRELATED = "unrelated"
    #: Something of another account's own (its inbox): nobody else's, whatever their roles.
    NOT_SELF = "not_self"
    ROLE_TOO_LOW = "role_too_low"
    #: A practitioner acting on a colleague's agenda where only their own is theirs to change.
    NOT_OWN_AGENDA = "not_own_agenda"
    MFA_REQUIRED = "mfa_required"
    WRONG_TARGET = "wrong_target"


@dataclass(frozen=True, slots=True)
class Allowed:
    def __bool__(self) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Denied:
    reason: Reason

    def __bool__(self) -> bool:
        return False


Decision = Allowed | Denied
ALLOWED = Allowed()
#: Decisions are immutable: one of each, so that deciding allocates nothing.
_DENIED = {reason: Denied(reason) for reason in Reason}


def authorize(principal: Principal, action: Action, target: Target) -> Decision:
    """Early exits, in order; the first that applies decides. Pure: no I/O, no clock."""
    if principal.account_id is None:
        return _DENIED[Reason.ANONYMOUS]
    if action in PATIENT_ACTIONS:
        if not isinstance(target, PatientTarget):
            return _DENIED[Reason.WRONG_TARGET]
        if target.holder_account_id != principal.account_id:
            return _DENIED[Reason.NOT_HOLDER]
        return ALLOWED
    if action is Action.PERSON_KEYS_VIEW:
        if not isinstance(target, PersonTarget):
            return _DENIED[Reason.WRONG_TARGET]
        if target.account_id != principal.account_id and not target.deals_with_principal:
            return _DENIED[Reason.UNRELATED]
        return ALLOWED
    if action is Action.ACCOUNT_NOTIFICATIONS_VIEW:
        if not isinstance(target, AccountTarget):
            return _DENIED[Reason.WRONG_TARGET]
        if target.account_id != principal.account_id:
            return _DENIED[Reason.NOT_SELF]
        return ALLOWED
    if action is Action.PLATFORM_ACCOUNT_DISABLE:
        if not isinstance(target, PlatformTarget):
            return _DENIED[Reason.WRONG_TARGET]
        if not principal.is_operator:
            return _DENIED[Reason.NOT_OPERATOR]
        return ALLOWED
    if action in OWN_AGENDA_ACTIONS:
        if not isinstance(target, AgendaTarget):
            return _DENIED[Reason.WRONG_TARGET]
    elif not isinstance(target, PracticeTarget):
        return _DENIED[Reason.WRONG_TARGET]
    membership = principal.memberships.get(target.practice_id)
    if membership is None:
        return _DENIED[Reason.NOT_MEMBER]
    role = membership.role
    if role is Role.OPERATOR and not principal.is_operator:
        return _DENIED[Reason.NOT_OPERATOR]
    if not principal.mfa_satisfied:
        return _DENIED[Reason.MFA_REQUIRED]
    if role not in PRACTICE_ROLES[action]:
        return _DENIED[Reason.ROLE_TOO_LOW]
    if (
        isinstance(target, AgendaTarget)
        and role is Role.PRACTITIONER
        and membership.practitioner_id != target.practitioner_id
    ):
        return _DENIED[Reason.NOT_OWN_AGENDA]
    return ALLOWED


def require(
    principal: Principal,
    action: Action,
    target: Target,
    *,
    what: str,
    field: str | None = None,
) -> None:
    """Raise unless allowed. Not yours looks exactly like not there: the caller passes the same
    ``what`` and ``field`` as its own "missing" error. A known place, too low a role, is a 403
    since the principal already knows the practice exists."""
    decision = authorize(principal, action, target)
    if isinstance(decision, Allowed):
        return
    if decision.reason is Reason.ANONYMOUS:
        raise Unauthenticated("sign in to do this")
    if decision.reason is Reason.ROLE_TOO_LOW:
        raise Forbidden("your role in this practice does not allow this")
    if decision.reason is Reason.NOT_OWN_AGENDA:
        raise Forbidden("a practitioner changes only their own agenda's time off")
    if decision.reason is Reason.MFA_REQUIRED:
        raise Forbidden("practice members must set up two-factor authentication first")
    # Not a member, on a practice's own routes: the answer is the same 404 for every practice id,
    # existing or not (so it tells nothing, and practices are public anyway); it is a route the
    # caller's role cannot use, not a look-up of an object, so it is no probing miss.
    honest = decision.reason is Reason.NOT_MEMBER and what == "practice"
    raise NotFound(f"{what} not found", field=field, counts_as_miss=not honest)


#: Refusals that tell the principal why (401, 403): it already knows the practice or the target.
_TOLD = frozenset(
    {Reason.ANONYMOUS, Reason.ROLE_TOO_LOW, Reason.NOT_OWN_AGENDA, Reason.MFA_REQUIRED}
)


def hides_target(decision: Decision) -> bool:
    """Whether :func:`require` answers this decision with a 404: the principal must not learn
    that the target, or anything under it, exists. A lookup can then ask only for what the
    principal may reach (one query filtered by owner), so that somebody else's object costs the
    same work as a missing one (docs/authorization.md, "Not yours looks like not there")."""
    return isinstance(decision, Denied) and decision.reason not in _TOLD


def reachable_holder(principal: Principal, action: Action) -> UUID:
    """The one account whose patients a patient action reaches for this principal: its own
    (:func:`authorize`'s rule). A lookup by id puts it in its WHERE (the patient, or the
    appointment, waitlist entry or offer through its patient), so that somebody else's object
    is not even loaded and costs the same work as a missing one; the row it finds is then
    allowed. Anonymous: the same 401 as :func:`require`."""
    if action not in PATIENT_ACTIONS:
        raise ValueError(f"{action} is no patient action")
    if principal.account_id is None:
        raise Unauthenticated("sign in to do this")
    return principal.account_id


def may_reset_keys_by_mail_alone(*, practice_member: bool, operator: bool) -> Decision:
    """Whether an account may reset its keys with a mailed code and no second factor: patients
    may; a practice member or an operator may not, since their keys open other people's data."""
    if practice_member or operator:
        return _DENIED[Reason.MFA_REQUIRED]
    return ALLOWED
