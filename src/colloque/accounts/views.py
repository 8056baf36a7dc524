"""HTTP route describing the signed-in principal."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from colloque.api.deps import CurrentPrincipal
from colloque.api.schemas import Out
from colloque.authorization.principal import Role

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class MembershipOut(Out):
    practice_id: UUID
    role: Role
    practitioner_id: UUID | None


class MeOut(Out):
    account_id: UUID
    memberships: list[MembershipOut]


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    assert principal.account_id is not None
    return MeOut(
        account_id=principal.account_id,
        memberships=[
            MembershipOut(practice_id=pid, role=m.role, practitioner_id=m.practitioner_id)
            for pid, m in principal.memberships.items()
        ],
    )
