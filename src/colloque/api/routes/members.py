"""HTTP routes of a practice's members: removing one (a practice that does not sign its
memberships) and giving one another role (signed where the practice signs them)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from colloque.api.deps import DB, ClockDep, CurrentPrincipal, LogDep
from colloque.api.routes.practice_key_schemas import Statement
from colloque.api.schemas import Body, Out
from colloque.practicekeys import roles, services
from colloque.principal import Role

router = APIRouter(prefix="/api/v1/practices/{practice_id}", tags=["practice keys"])


class RoleChangeIn(Body):
    role: Role
    #: The agenda a practitioner is linked to: needed for, and only for, the practitioner role.
    practitioner_id: UUID | None = None
    #: In a practice that signs its memberships: the admin's membership statement attesting the
    #: member in the new role at the chain's next sequence (docs/crypto.md 5.12); else absent.
    statement: Statement = None


class RoleChangedOut(Out):
    account_id: UUID
    role: Role
    practitioner_id: UUID | None


@router.delete(
    "/members/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a member (admins; not the last admin); the group key becomes rotation-due",
    description=(
        "Practice admins remove a member of a practice with neither a key group nor signed "
        "memberships. 409 for the last admin, and in a keyed practice (a removal is then a signed "
        "statement)."
    ),
    responses={409: {"description": "The last admin, or a keyed practice"}},
)
def remove_member(
    practice_id: UUID, account_id: UUID, db: DB, clock: ClockDep, principal: CurrentPrincipal
) -> Response:
    with db.write() as session:
        services.do_remove_member(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            account_id=account_id,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/members/{account_id}",
    response_model=RoleChangedOut,
    summary="Give a member another role (admins; signed where the practice signs memberships)",
    description=(
        "Practice admins change a member's role. A practitioner is linked to one of the "
        "practice's agendas (`practitioner_id`, 422 otherwise, and for another role). In a "
        "practice with a signed membership chain, `statement` is the admin's membership "
        "statement attesting this member in the new role at the chain's next sequence (422 when "
        "missing, malformed, for another member or role, or not signed by the caller as an admin "
        "of the chain; 409 when the chain moved on); the row changes and the statement is "
        "appended together. A practice without a chain takes no statement (422). A member who "
        "stops being a practitioner loses the practitioners' key, which becomes rotation-due. "
        "409 for the role the member already holds and for the last admin; 404 for a "
        "non-member."
    ),
    responses={409: {"description": "The same role, the last admin, or the chain moved on"}},
)
def change_role(
    practice_id: UUID,
    account_id: UUID,
    body: RoleChangeIn,
    db: DB,
    clock: ClockDep,
    log: LogDep,
    principal: CurrentPrincipal,
) -> RoleChangedOut:
    with db.write() as session:
        member = roles.do_change_role(
            session,
            now=clock.now(),
            principal=principal,
            practice_id=practice_id,
            account_id=account_id,
            role=body.role,
            practitioner_id=body.practitioner_id,
            statement=body.statement,
            log=log,
        )
        return RoleChangedOut(
            account_id=member.account_id,
            role=Role(member.role),
            practitioner_id=member.practitioner_id,
        )
