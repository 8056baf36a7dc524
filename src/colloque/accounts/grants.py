"""Use cases of operator access: a practice admin grants an operator read access for a while.

Operators run the service. By default they are nobody to a practice: the policy answers them like
any stranger. A grant gives one operator the read-only :attr:`Role.OPERATOR` at one practice
until it expires (at most 72 hours) or an admin revokes it. Granting and revoking are audited,
and so is everything the operator reads meanwhile (as every read of personal data is).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.orm import Session

from colloque.accounts.models import Account
from colloque.audit.objects import ObjectKind
from colloque.audit.services import AuditAction, record
from colloque.authorization.models import MAX_GRANT_HOURS, OperatorGrant
from colloque.authorization.policy import Action, PracticeTarget, require
from colloque.errors import Conflict, InvalidInput, NotFound
from colloque.ids import new_id
from colloque.principal import Membership, Principal, Role

MAX_GRANT = timedelta(hours=MAX_GRANT_HOURS)
LIST_LIMIT = 100


def is_active(grant: OperatorGrant, now: datetime) -> bool:
    return grant.revoked_at is None and grant.expires_at > now


def do_grant_operator_access(
    session: Session,
    *,
    now: datetime,
    principal: Principal,
    practice_id: UUID,
    operator_account_id: UUID,
    duration: timedelta,
) -> OperatorGrant:
    """An admin of the practice lets an operator read its agenda for ``duration`` (<= 72 h)."""
    require(
        principal,
        Action.PRACTICE_OPERATOR_ACCESS_MANAGE,
        PracticeTarget(practice_id),
        what="practice",
    )
    if not timedelta(0) < duration <= MAX_GRANT:
        raise InvalidInput(
            f"access is granted for more than 0 and at most {MAX_GRANT_HOURS} hours",
            field="duration_minutes",
        )
    operator = session.get(Account, operator_account_id)
    if operator is None or not operator.is_operator or operator.disabled:
        raise NotFound("operator not found", field="operator_account_id")
    assert principal.account_id is not None  # require() let an admin through
    grant = OperatorGrant(
        practice_id=practice_id,
        grant_id=new_id(),
        operator_account_id=operator_account_id,
        granted_by_account_id=principal.account_id,
        granted_at=now,
        expires_at=now + duration,
        revoked_at=None,
        revoked_by_account_id=None,
    )
    session.add(grant)
    _audit(session, now, principal, grant, AuditAction.OPERATOR_ACCESS_GRANTED)
    return grant


def do_revoke_operator_access(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID, grant_id: UUID
) -> OperatorGrant:
    """End a grant before it expires. A grant that already ended is a 409."""
    require(
        principal,
        Action.PRACTICE_OPERATOR_ACCESS_MANAGE,
        PracticeTarget(practice_id),
        what="practice",
    )
    grant = session.get(OperatorGrant, (practice_id, grant_id))
    if grant is None:
        raise NotFound("operator grant not found")
    if not is_active(grant, now):
        raise Conflict("this grant has already ended")
    grant.revoked_at = now
    grant.revoked_by_account_id = principal.account_id
    _audit(session, now, principal, grant, AuditAction.OPERATOR_ACCESS_REVOKED)
    return grant


def list_operator_grants(
    session: Session, *, now: datetime, principal: Principal, practice_id: UUID
) -> list[OperatorGrant]:
    """The practice's grants, newest first (the last 100); the read is audited, naming each
    grant and the accounts it shows."""
    require(
        principal,
        Action.PRACTICE_OPERATOR_ACCESS_MANAGE,
        PracticeTarget(practice_id),
        what="practice",
    )
    found = list(
        session.scalars(
            select(OperatorGrant)
            .where(OperatorGrant.practice_id == practice_id)
            .order_by(OperatorGrant.granted_at.desc(), OperatorGrant.grant_id)
            .limit(LIST_LIMIT)
        )
    )
    record(
        session,
        at=now,
        action=AuditAction.OPERATOR_GRANTS_LISTED,
        principal=principal,
        practice_id=practice_id,
        object_kind="operator_grant_list",
        object_id=None,
        objects=[ref for grant in found for ref in _refs(grant)],
    )
    return found


def _refs(grant: OperatorGrant) -> list[tuple[ObjectKind, UUID]]:
    return [
        (ObjectKind.OPERATOR_GRANT, grant.grant_id),
        (ObjectKind.ACCOUNT, grant.operator_account_id),
        (ObjectKind.ACCOUNT, grant.granted_by_account_id),
    ]


def active_grants(session: Session, account_id: UUID, now: datetime) -> dict[UUID, Membership]:
    """The practices an operator may read right now, as memberships with the operator role."""
    practice_ids = session.scalars(
        select(OperatorGrant.practice_id)
        .where(
            OperatorGrant.operator_account_id == account_id,
            OperatorGrant.expires_at > now,
            OperatorGrant.revoked_at.is_(None),
        )
        .distinct()
    )
    return {practice_id: Membership(role=Role.OPERATOR) for practice_id in practice_ids}


def _audit(
    session: Session,
    now: datetime,
    principal: Principal,
    grant: OperatorGrant,
    action: AuditAction,
) -> None:
    record(
        session,
        at=now,
        action=action,
        principal=principal,
        practice_id=grant.practice_id,
        object_kind="operator_grant",
        object_id=grant.grant_id,
        objects=_refs(grant),
    )
