"""An admin gives a practice member another role (docs/crypto.md 5.12, "Role changes").

In a practice that signs its memberships, the change is the admin's membership statement
attesting the member in the new role at the chain's next sequence: the row changes and the
statement is appended in one transaction, checked by :func:`do_append_memberships` against the
changed row, so that "a statement attests a role the practice's membership agrees with" holds
after the change as before. A practice without a chain changes the row alone.

Keys: a member who stops being a practitioner loses the practitioners' key (wraps dropped, that
group rotation-due); one who becomes a practitioner waits for a practitioner's client to wrap it
for them. The practice group is every member's and does not change.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.audit.services import AuditAction, record
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.crypto.errors import CryptoError
from colloque.crypto.statements import MembershipStatement
from colloque.errors import Conflict, InvalidInput, NotFound
from colloque.keydirectory.interfaces import LogSigner
from colloque.practicekeys.memberships import (
    ROLE_NAMES,
    do_append_memberships,
    leave_practitioners_group,
    stored_chain,
)
from colloque.principal import MEMBER_ROLES, Principal, Role
from colloque.scheduling.models import PracticeMember, PracticePractitioner


def do_change_role(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    account_id: UUID,
    role: Role,
    practitioner_id: UUID | None,
    statement: bytes | None,
    log: LogSigner,
) -> PracticeMember:
    """Give ``account_id`` the role ``role`` (a practitioner linked to ``practitioner_id``, one of
    the practice's agendas). 404 for a non-member; 422 naming ``role``, ``practitioner_id`` or
    ``statement``; 409 for the role they already hold, the last admin, or a chain that moved on.
    """
    require(principal, Action.PRACTICE_MEMBER_CHANGE, PracticeTarget(practice_id), what="practice")
    if role not in MEMBER_ROLES:
        raise InvalidInput("not a role a practice member can hold", field="role")
    if (role is Role.PRACTITIONER) != (practitioner_id is not None):
        raise InvalidInput(
            "a practitioner id is needed for, and only for, the practitioner role",
            field="practitioner_id",
        )
    if (
        practitioner_id is not None
        and session.get(PracticePractitioner, (practice_id, practitioner_id)) is None
    ):
        raise InvalidInput("no such practitioner in this practice", field="practitioner_id")
    # Lock the admins too, so two admins demoting each other cannot both succeed.
    admins = session.scalars(
        select(PracticeMember.account_id)
        .where(PracticeMember.practice_id == practice_id, PracticeMember.role == Role.ADMIN.value)
        .with_for_update()
    ).all()
    member = session.get(PracticeMember, (practice_id, account_id), with_for_update=True)
    if member is None:
        raise NotFound("member not found")
    before = Role(member.role)
    if before is role:
        raise Conflict("the member already holds this role", field="role")
    if before is Role.ADMIN and len(admins) <= 1:
        raise Conflict("the last admin of a practice cannot stop being admin", field="role")
    signed = bool(stored_chain(session, practice_id=practice_id))
    if signed:
        _check_attests(statement, account_id=account_id, role=role)
    elif statement is not None:
        raise InvalidInput(
            "the practice does not sign its memberships: send no statement", field="statement"
        )
    member.role = role.value
    member.practitioner_id = practitioner_id
    session.flush()
    if signed:
        assert statement is not None
        # Checked against the changed row (the statement must agree with it), appended, and a
        # practitioner attested in another role loses the practitioners' key there.
        do_append_memberships(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            leaves=[statement],
            log=log,
            field="statement",
        )
    elif before is Role.PRACTITIONER:
        leave_practitioners_group(session, practice_id=practice_id, account_id=account_id)
    record(
        session,
        at=now,
        action=AuditAction.MEMBER_ROLE_CHANGED,
        principal=principal,
        practice_id=practice_id,
        object_kind="account",
        object_id=account_id,
    )
    return member


def _check_attests(statement: bytes | None, *, account_id: UUID, role: Role) -> None:
    """The statement is there and attests exactly this member in the new role (the rest, its
    sequence, signer and signature, is checked on append)."""
    if statement is None:
        raise InvalidInput(
            "the practice signs its memberships: send the signed statement", field="statement"
        )
    try:
        parsed = MembershipStatement.from_leaf(statement)
    except CryptoError:
        raise InvalidInput("not a membership statement", field="statement") from None
    if parsed.member_id != account_id or ROLE_NAMES.get(parsed.role) != role.value:
        raise InvalidInput("the statement attests another member or role", field="statement")
