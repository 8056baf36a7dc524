"""HTTP routes of operator access grants (practice admins only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import Field

from colloque.accounts import grants as operator_grants
from colloque.api.deps import DB, ClockDep, CurrentPrincipal
from colloque.api.schemas import Body, Out
from colloque.authorization.models import MAX_GRANT_HOURS, OperatorGrant

router = APIRouter(prefix="/api/v1", tags=["operator access"])


class OperatorGrantIn(Body):
    operator_account_id: UUID
    duration_minutes: int = Field(ge=1, le=MAX_GRANT_HOURS * 60, description="at most 72 hours")


class OperatorGrantOut(Out):
    grant_id: UUID
    practice_id: UUID
    operator_account_id: UUID
    granted_by_account_id: UUID
    granted_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, grant: OperatorGrant, now: datetime) -> OperatorGrantOut:
        return cls(
            grant_id=grant.grant_id,
            practice_id=grant.practice_id,
            operator_account_id=grant.operator_account_id,
            granted_by_account_id=grant.granted_by_account_id,
            granted_at=grant.granted_at,
            expires_at=grant.expires_at,
            revoked_at=grant.revoked_at,
            active=operator_grants.is_active(grant, now),
        )


@router.post(
    "/practices/{practice_id}/operator-grants",
    response_model=OperatorGrantOut,
    status_code=status.HTTP_201_CREATED,
    summary="Let an operator read this practice's agenda for a while (at most 72 hours)",
    description=(
        "Practice admins let a platform operator read the agenda for at most 72 hours. 404 for an "
        "unknown operator."
    ),
)
def grant_operator_access(
    practice_id: UUID,
    body: OperatorGrantIn,
    db: DB,
    clock: ClockDep,
    principal: CurrentPrincipal,
) -> OperatorGrantOut:
    now = clock.now()
    with db.write() as session:
        grant = operator_grants.do_grant_operator_access(
            session,
            now=now,
            principal=principal,
            practice_id=practice_id,
            operator_account_id=body.operator_account_id,
            duration=timedelta(minutes=body.duration_minutes),
        )
        return OperatorGrantOut.of(grant, now)


@router.get(
    "/practices/{practice_id}/operator-grants",
    response_model=list[OperatorGrantOut],
    summary="The practice's operator grants, newest first",
    description="Practice admins list the practice's operator grants, newest first.",
)
def list_operator_grants(
    practice_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> list[OperatorGrantOut]:
    now = clock.now()
    with db.write() as session:
        grants = operator_grants.list_operator_grants(
            session, now=now, principal=principal, practice_id=practice_id
        )
        return [OperatorGrantOut.of(grant, now) for grant in grants]


@router.delete(
    "/practices/{practice_id}/operator-grants/{grant_id}",
    response_model=OperatorGrantOut,
    summary="End an operator's access now",
    description=(
        "Practice admins end an operator's access now. 409 when the grant has already ended."
    ),
    responses={409: {"description": "The grant has already ended"}},
)
def revoke_operator_access(
    practice_id: UUID, grant_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> OperatorGrantOut:
    now = clock.now()
    with db.write() as session:
        grant = operator_grants.do_revoke_operator_access(
            session, now=now, principal=principal, practice_id=practice_id, grant_id=grant_id
        )
        return OperatorGrantOut.of(grant, now)
